#!/usr/bin/python3
"""Write the samples of mscan's TorchScript code review (samples/torchscript-i15/) and their
manifest entries.

    /usr/bin/python3 samples/make_torchscript_i15_samples.py

Then refresh the goldens: MSCAN_UPDATE_GOLDEN=1 build/tests/mscan_tests "golden*"

Benign samples are written by Debian's torch 1.13 (torch.jit.script + torch.jit.save) and
torchvision 0.14, from modules that use what real models use: torchvision's layer set, the
torchvision.ops.nms custom op (ops.torchvision.nms in the code), a dynamically quantized
Linear (ops.quantized.*, torch.classes.quantized packed weights), and a module with its own
scripted __getstate__/__setstate__ pair.

Hostile samples start from such a torch-written archive and rewrite one member with Python's
zipfile (same member names, order and compression): a code/**/*.py file, or a .debug_pkl
pickle. Each hostile code reaches a file, a command, a native library, another host or an op
namespace no library registers, in a spelling torch's importer resolves. Their only command
is `echo mscan-sample`, their paths are under /tmp/mscan-sample. SAFETY: nothing here ever
loads an archive (no torch.load, no torch.jit.load); archives are only written, and read
back as zip members.

Deterministic: PYTHONHASHSEED and the thread count are pinned (TorchScript emits some
constants in set order), the sources are imported from a fixed folder (their path lands in
the .debug_pkl members), and rewritten members get a fixed timestamp.
"""

import os
import sys

if __name__ == "__main__" and (os.environ.get("PYTHONHASHSEED") != "0"
                               or os.environ.get("OMP_NUM_THREADS") != "1"):
    os.environ["PYTHONHASHSEED"] = "0"
    os.environ["OMP_NUM_THREADS"] = "1"
    os.execv(sys.executable, [sys.executable] + sys.argv)

import io  # noqa: E402
import shutil  # noqa: E402
import zipfile  # noqa: E402
from pathlib import Path  # noqa: E402

SAMPLES = Path(__file__).resolve().parent
sys.path.insert(0, str(SAMPLES))

from make_samples import CMD, MEDIUM_PLUS, call, dumps, update_manifest  # noqa: E402

OUT = SAMPLES / "torchscript-i15"
GROUP = "torchscript-i15"
SOURCE_DIR = Path("/tmp/mscan-sample-src-i15")  # fixed: the path lands in *.debug_pkl
MAX_SAMPLE = 200 * 1024

SOURCE = '''import torch
import torchvision
from torch import nn
from typing import Tuple


class TinyNet(nn.Module):
    """torchvision's classifier layer set, a few channels wide."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4),
                                      nn.ReLU(inplace=True), nn.MaxPool2d(2))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.classifier = nn.Sequential(nn.Dropout(0.5), nn.Linear(4, 3))

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


class BoxFilter(nn.Module):
    """Detection post-processing: torchvision.ops.nms, a torchvision custom op."""

    def forward(self, boxes: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        keep = torchvision.ops.nms(boxes, scores, 0.5)
        return boxes[keep]


class Stateful(nn.Module):
    """Restores a derived buffer in a scripted __setstate__, as packed-parameter modules do."""

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
'''

# The torch-written code of Stateful (code/__torch__/mscan_i15.py), as the hostile samples
# rewrite it: the three methods below replace the originals.
STATEFUL_CLASS = '''class Stateful(Module):
  __parameters__ = ["weight", ]
  __buffers__ = []
  weight : Tensor
  training : bool
  _is_full_backward_hook : Optional[bool]
  scale : float
  cache : Tensor
  def forward(self: __torch__.mscan_i15.Stateful,
    x: Tensor) -> Tensor:
{forward}    cache = self.cache
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
{setstate}    weight = self.weight
    scale = self.scale
    self.cache = torch.mul(weight, scale)
    return None
'''


def stateful_code(forward="", setstate="", before="", after=""):
    return (before + STATEFUL_CLASS.format(forward=forward, setstate=setstate) + after).encode()


def torch_archive(make, name):
    """torch.jit.save(torch.jit.script(make())) into a buffer; the record prefix is 'archive'."""
    import torch
    torch.manual_seed(0)
    module = make().eval()
    scripted = torch.jit.script(module)
    buf = io.BytesIO()
    torch.jit.save(scripted, buf)
    data = buf.getvalue()
    assert len(data) <= MAX_SAMPLE, (name, len(data))
    return data


def rewrite(archive, replace, extra=(), method=None):
    """The archive with the members named in `replace` given new bytes; every other member,
    the order and each member's compression kept (the replaced ones get `method` if given);
    `extra` (name, bytes) members appended."""
    src = zipfile.ZipFile(io.BytesIO(archive))
    out = io.BytesIO()
    seen = set()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = replace.get(info.filename)
            if data is None:
                data = src.read(info.filename)
            else:
                seen.add(info.filename)
            z = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            z.compress_type = info.compress_type
            if method is not None and info.filename in replace:
                z.compress_type = method
            z.external_attr = 0o644 << 16
            dst.writestr(z, data)
        for name, data in extra:
            z = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            z.external_attr = 0o644 << 16
            dst.writestr(z, data)
    missing = set(replace) - seen
    assert not missing, f"no member {missing} to rewrite"
    return out.getvalue()


def code_member(archive, suffix):
    names = [n for n in zipfile.ZipFile(io.BytesIO(archive)).namelist() if n.endswith(suffix)]
    assert len(names) == 1, (suffix, names)
    return names[0]


def main():
    import torch
    torch.backends.quantized.engine = "qnnpack"
    SOURCE_DIR.mkdir(parents=True, exist_ok=True)
    (SOURCE_DIR / "mscan_i15.py").write_text(SOURCE, encoding="utf-8")
    sys.path.insert(0, str(SOURCE_DIR))
    import mscan_i15

    shutil.rmtree(OUT, ignore_errors=True)
    entries = []

    def write(kind, name, data, description, expect, forbid):
        assert len(data) <= MAX_SAMPLE, (name, len(data))
        path = OUT / kind / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        entries.append({"path": str(path.relative_to(SAMPLES.parent)), "kind": kind,
                        "group": GROUP, "description": description, "expect": expect,
                        "forbid": forbid})

    ts = ["torchscript-code"]
    every = ["torchscript-file-access", "torchscript-process", "torchscript-native-library",
             "torchscript-network", "torchscript-custom-op", "torchscript-not-checked"]

    # --- benign: what torch writes -------------------------------------------------------
    write("benign", "tiny_convnet.pt", torch_archive(mscan_i15.TinyNet, "tiny_convnet"),
          "torch 1.13 torch.jit.save(torch.jit.script(TinyNet)): Conv2d, BatchNorm2d, ReLU, "
          "MaxPool2d, AdaptiveAvgPool2d, flatten, Dropout, Linear (torchvision's layer set); "
          "the code is aten and prim ops only", ts, [MEDIUM_PLUS] + every)
    write("benign", "nms_box_filter.pt", torch_archive(mscan_i15.BoxFilter, "nms_box_filter"),
          "torch 1.13 scripted module calling torchvision.ops.nms: the code calls "
          "ops.torchvision.nms, a custom op of a PyTorch domain library", ts,
          [MEDIUM_PLUS] + every)

    def quantized():
        from torch import nn
        return torch.ao.quantization.quantize_dynamic(nn.Sequential(nn.Linear(4, 2)),
                                                      {nn.Linear}, dtype=torch.qint8)
    write("benign", "quantized_dynamic_linear.pt", torch_archive(quantized, "quantized"),
          "torch 1.13 scripted quantize_dynamic(Linear, qint8): torch's own code for the "
          "quantized Linear calls ops.quantized.* and types its packed weights as "
          "__torch__.torch.classes.quantized.LinearPackedParamsBase (restored by native code, "
          "not by a scripted __setstate__)", ts, [MEDIUM_PLUS] + every)
    stateful = torch_archive(mscan_i15.Stateful, "stateful")
    write("benign", "custom_setstate.pt", stateful,
          "torch 1.13 scripted module with its own __getstate__/__setstate__ pair "
          "(recomputes a buffer with torch.mul): its file reviews clean, so the __setstate__ "
          "is reported low (torchscript-setstate-reviewed), below the default gate",
          ["torchscript-setstate-reviewed"] + ts, [MEDIUM_PLUS] + every)

    # --- hostile: a torch-written archive with one member rewritten ----------------------
    code = code_member(stateful, "code/__torch__/mscan_i15.py")

    def hostile(name, description, expect, member_bytes, member=code, extra=(), method=None):
        write("hostile", name, rewrite(stateful, {member: member_bytes}, extra, method),
              description, expect, [])

    hostile("setstate_from_file.pt",
            "Stateful archive whose scripted __setstate__ maps /etc/hostname with "
            "torch.from_file: runs while torch.jit.load restores the module",
            ["torchscript-file-access", "torchscript-setstate"] + ts,
            stateful_code(setstate='    leak = torch.from_file("/etc/hostname", False, 4, '
                                   'dtype=0)\n'))
    hostile("stray_member_from_file.pt",
            "the setstate_from_file code in an archive with one more member outside its "
            "folder (README.txt at the top): torch's reader takes the first member's folder "
            "and ignores the stray one, so the code still runs and is still reviewed",
            ["torchscript-file-access", "torchscript-setstate"] + ts,
            stateful_code(setstate='    leak = torch.from_file("/etc/hostname", False, 4, '
                                   'dtype=0)\n'),
            extra=[("README.txt", b"mscan-sample: a member outside the archive folder\n")])
    hostile("setstate_alias_getattr_save.pt",
            "__setstate__ writes a file with aten::save spelled through a local bound to ops "
            "and a getattr of concatenated literals: _0 = ops; getattr(_0.aten, 'sa' 've')",
            ["torchscript-file-access", "torchscript-setstate"] + ts,
            stateful_code(setstate='    _0 = ops\n    _1 = getattr(_0.aten, "sa" "ve")\n'
                                   '    _1(state, "/tmp/mscan-sample.pt")\n'))
    hostile("custom_op_namespace.pt",
            "forward calls ops.mscan_evil.run(x): an op namespace no known library registers, "
            "native code from a library the loading program must have loaded",
            ["torchscript-custom-op", "torchscript-setstate"] + ts,
            stateful_code(forward="    x = ops.mscan_evil.run(x)\n"))
    hostile("load_library.pt",
            "__setstate__ calls torch.ops.load_library('/tmp/mscan-sample/libpayload.so')",
            ["torchscript-native-library", "torchscript-setstate"] + ts,
            stateful_code(setstate='    torch.ops.load_library('
                                   '"/tmp/mscan-sample/libpayload.so")\n'))
    hostile("os_system.pt",
            "__setstate__ calls os.system('echo mscan-sample'): Python's os module, which "
            "TorchScript cannot name; written for whatever executes the code as Python",
            ["torchscript-process", "torchscript-setstate"] + ts,
            stateful_code(setstate='    os.system("%s")\n' % CMD))
    hostile("rpc_sync.pt",
            "forward sends its input to another RPC worker: ops.prim.rpc_sync",
            ["torchscript-network", "torchscript-setstate"] + ts,
            stateful_code(forward='    _0 = ops.prim.rpc_sync("mscan-sample-worker", x)\n'))
    # 4 MiB of comment lines push the payload past the size cap; deflated, the member is small.
    padding = "# " + "mscan-sample padding " * 3 + "\n"
    pad = padding * ((4 << 20) // len(padding) + 1)
    hostile("code_over_cap.pt",
            "a code file over mscan's 4 MiB cap (comment lines), with a torch.from_file call "
            "after the cap: reported as NOT checked (medium), never as clean",
            ["torchscript-not-checked"] + ts,
            stateful_code(before=pad, setstate='    leak = torch.from_file("/etc/hostname", '
                                               'False, 4, dtype=0)\n'))
    hostile("lexer_refuses.pt",
            "a byte torch's lexer refuses (0xff outside a string) before a torch.from_file "
            "call: the rest of the file is reported as NOT checked (medium)",
            ["torchscript-not-checked"] + ts,
            stateful_code(forward="    y = x \xff\n", setstate='    leak = torch.from_file('
                                                             '"/etc/hostname", False, 4)\n')
            .replace("\xff".encode(), b"\xff"))
    hostile("code_bzip2.pt",
            "the setstate_from_file code stored with bzip2 (zip method 12): torch.jit.load's "
            "miniz refuses the member, but mscan decompresses it (as Python's zipfile would) and "
            "reviews the code, so the torch.from_file call is found",
            ["torchscript-file-access", "torchscript-setstate"] + ts,
            stateful_code(setstate='    leak = torch.from_file("/etc/hostname", False, 4, '
                                   'dtype=0)\n'),
            method=zipfile.ZIP_BZIP2)
    debug = code_member(stateful, "code/__torch__/mscan_i15.py.debug_pkl")
    hostile("debug_pkl_os_system.pt",
            "the code's .debug_pkl member (a pickle of source ranges) replaced by a pickle "
            "calling posix.system('echo mscan-sample'): still scanned as a pickle",
            ["process-execution", "torchscript-setstate-reviewed"] + ts,
            dumps(call("posix", "system", CMD), 2), member=debug)

    update_manifest(entries, ["samples/torchscript-i15/"])
    print(f"wrote {len(entries)} samples under {OUT}")


if __name__ == "__main__":
    main()
