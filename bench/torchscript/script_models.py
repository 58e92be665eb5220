#!/usr/bin/python3
"""Write real TorchScript archives (torch.jit.script + torch.jit.save) and count what mscan
reports on them: the false-alarm measurement of mscan's TorchScript code review.

    /usr/bin/python3 bench/torchscript/script_models.py OUTDIR            write the archives
    /usr/bin/python3 bench/torchscript/script_models.py OUTDIR --scan build/mscan

Writes, with Debian's python3-torch (1.13) and python3-torchvision (0.14):
  - every torchvision builder (classification, segmentation, detection, video, optical flow)
    that torch.jit.script accepts, with weights=None;
  - torchvision's quantized classification builders (quantize=True, qnnpack engine);
  - modules whose scripted code defines __setstate__: dynamically quantized Linear and LSTM,
    a statically quantized conv/linear net, and a module with its own scripted
    __getstate__/__setstate__ pair, the way real libraries restore packed parameters.
Parameters are zeroed before saving (the code torch writes does not depend on their values)
and files are then made sparse with `fallocate --dig-holes`, so every builder fits on disk.
OUTDIR/manifest.json lists what was written and what could not be scripted, and why.

--scan runs mscan over OUTDIR (--format json --fail-on never) and prints how many archives
carry a finding at medium or above and at high or above, by rule. Nothing here ever loads an
archive: torch.jit.load is never called.
"""
import argparse
import collections
import json
import os
import subprocess
import sys
import time
import warnings

warnings.filterwarnings("ignore")
os.environ.setdefault("OMP_NUM_THREADS", "1")

SEVERITY = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


def dig_holes(path):
    if os.path.getsize(path) > (1 << 20):
        subprocess.run(["fallocate", "--dig-holes", path], check=False)


def zero(model):
    import torch
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    return model


def extra_modules():
    """(name, module) pairs of modules whose scripted code has __setstate__."""
    import torch
    from torch import nn
    from typing import List, Tuple

    torch.backends.quantized.engine = "qnnpack"
    out = []

    def mlp():
        return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))

    out.append(("quantize_dynamic_mlp",
                lambda: torch.ao.quantization.quantize_dynamic(mlp().eval(), {nn.Linear},
                                                               dtype=torch.qint8)))
    out.append(("quantize_dynamic_lstm",
                lambda: torch.ao.quantization.quantize_dynamic(nn.LSTM(4, 8).eval(), {nn.LSTM},
                                                               dtype=torch.qint8)))

    def static():
        from torch.ao.quantization import DeQuantStub, QuantStub
        m = nn.Sequential(QuantStub(), nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.Flatten(), nn.Linear(4 * 6 * 6, 2), DeQuantStub()).eval()
        m = torch.ao.quantization.fuse_modules(m, [["1", "2", "3"]])
        m.qconfig = torch.ao.quantization.get_default_qconfig("qnnpack")
        prepared = torch.ao.quantization.prepare(m)
        prepared(torch.randn(2, 3, 8, 8))
        return torch.ao.quantization.convert(prepared)
    out.append(("quantize_static_convnet", static))

    class Stateful(nn.Module):
        """Restores a derived buffer in __setstate__, as packed-parameter modules do."""

        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(3))
            self.scale = 2.0
            self.cache = torch.zeros(3)

        @torch.jit.export
        def __getstate__(self) -> Tuple[torch.Tensor, float, bool]:
            return (self.weight, self.scale, self.training)

        @torch.jit.export
        def __setstate__(self, state: Tuple[torch.Tensor, float, bool]) -> None:
            self.weight = state[0]
            self.scale = state[1]
            self.training = state[2]
            self.cache = torch.mul(self.weight, self.scale)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * self.cache

    out.append(("custom_setstate", lambda: Stateful().eval()))
    return out


def builders():
    """(family, name, factory) for every torchvision builder."""
    import torchvision
    from torchvision import models
    out = []
    families = [("classification", models), ("segmentation", models.segmentation),
                ("detection", models.detection), ("video", models.video),
                ("optical_flow", models.optical_flow)]
    for family, module in families:
        for name in sorted(models.list_models(module=module)):
            kw = {"weights": None}
            if family in ("segmentation", "detection"):
                kw["weights_backbone"] = None
            out.append((family, name, lambda name=name, kw=kw: models.get_model(name, **kw)))
    import torch
    torch.backends.quantized.engine = "qnnpack"
    q = models.quantization
    for name in sorted(models.list_models(module=q)):
        def make(name=name):
            try:
                return models.get_model(name, weights=None, quantize=True)
            except RuntimeError:
                # The builder asks for fbgemm, which Debian's torch lacks: quantize the same
                # quantizable model with qnnpack, as the builder would with fbgemm.
                model = models.get_model(name, weights=None, quantize=False).eval()
                model.fuse_model()
                model.qconfig = torch.ao.quantization.get_default_qconfig("qnnpack")
                torch.ao.quantization.prepare(model, inplace=True)
                size = 299 if "inception" in name else 224
                model(torch.randn(1, 3, size, size))
                return torch.ao.quantization.convert(model)
        out.append(("quantized", name, make))
    del torchvision
    return out


def write(outdir, families=None):
    import torch
    os.makedirs(outdir, exist_ok=True)
    manifest = {"written": [], "failed": []}
    todo = [(f, n, m) for f, n, m in builders()] + [("extra", n, m) for n, m in extra_modules()]
    if families:
        todo = [item for family in families for item in todo if item[0] == family]
    for family, name, make in todo:
        t0 = time.time()
        path = os.path.join(outdir, f"{family}.{name}.torchscript.pt")
        try:
            torch.manual_seed(0)
            model = make().eval()
            if family not in ("quantized", "extra"):
                zero(model)
            scripted = torch.jit.script(model)
            scripted.save(path)
            del scripted, model
            dig_holes(path)
            manifest["written"].append({"path": os.path.basename(path), "family": family,
                                        "builder": name,
                                        "seconds": round(time.time() - t0, 1)})
            print(f"ok   {family}.{name} ({time.time() - t0:.0f} s)", flush=True)
        except Exception as exc:  # noqa: BLE001 - a builder torch cannot script is data
            why = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else repr(exc)
            manifest["failed"].append({"family": family, "builder": name, "why": why})
            print(f"FAIL {family}.{name}: {why}", flush=True)
    with open(os.path.join(outdir, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1)
    print(f"{len(manifest['written'])} archives written, {len(manifest['failed'])} failed")


def scan(outdir, mscan):
    run = subprocess.run([mscan, "--format", "json", "--fail-on", "never", outdir],
                         capture_output=True, text=True, check=False)
    report = json.loads(run.stdout)
    archives = [f["path"] for f in report.get("files", [])
                if f.get("path", "").endswith(".torchscript.pt")]
    worst = collections.defaultdict(int)
    rules = collections.defaultdict(set)
    for finding in report.get("findings", []):
        path = finding.get("location", {}).get("path", "")
        sev = SEVERITY.get(finding.get("severity", "info"), 0)
        worst[path] = max(worst[path], sev)
        if sev >= SEVERITY["medium"]:
            rules[path].add(f"{finding.get('rule_id')} ({finding.get('severity')})")
    by_rule = collections.Counter(r for path in archives for r in rules[path])
    medium = [p for p in archives if worst[p] >= SEVERITY["medium"]]
    high = [p for p in archives if worst[p] >= SEVERITY["high"]]
    print(f"{len(archives)} TorchScript archives scanned")
    print(f"{len(medium)} with a finding at medium or above, {len(high)} at high or above")
    for rule, n in by_rule.most_common():
        print(f"  {n:4d}  {rule}")
    for path in medium:
        print(f"  medium+: {os.path.basename(path)}: {', '.join(sorted(rules[path]))}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--scan", metavar="MSCAN", help="scan OUTDIR with this mscan binary")
    ap.add_argument("--families", nargs="*", help="only these: classification segmentation "
                    "detection video optical_flow quantized extra")
    args = ap.parse_args()
    if args.scan:
        scan(args.outdir, args.scan)
    else:
        write(args.outdir, args.families)
    return 0


if __name__ == "__main__":
    sys.exit(main())
