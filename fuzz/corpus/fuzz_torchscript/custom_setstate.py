class Stateful(Module):
  __parameters__ = ["weight", ]
  __buffers__ = []
  weight : Tensor
  training : bool
  _is_full_backward_hook : Optional[bool]
  scale : float
  cache : Tensor
  def forward(self: __torch__.mscan_i15.Stateful,
    x: Tensor) -> Tensor:
    cache = self.cache
    return torch.mul(x, cache)
  def __getstate__(self: __torch__.mscan_i15.Stateful) -> Tuple[Tensor, float, bool]:
    weight = self.weight
    scale = self.scale
    training = self.training
    return (weight, scale, training)
  def __setstate__(self: __torch__.mscan_i15.Stateful,
    state: Tuple[Tensor, float, bool]) -> NoneType:
    self.weight = (state)[0]
    self.scale = (state)[1]
    self.training = (state)[2]
    weight = self.weight
    scale = self.scale
    self.cache = torch.mul(weight, scale)
    return None
