y = getattr(getattr((ops), "a" "ten"), "from_file")("\101\n")  # type: __torch__.torch.classes.x.Y
_0 = torch
_1 = _0
s = """a
b"""
