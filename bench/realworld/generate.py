#!/usr/bin/python3
"""Write BENIGN model files with the real libraries from Debian's python3-* packages.

    /usr/bin/python3 bench/realworld/generate.py OUTDIR [--only SECTION ...] [--quick]

Every file is made by the library's own writer (torch.save, joblib.dump, pickle.dump of the
library's objects, np.save, gensim's save, ...) from objects the library builds; nothing is
written by hand. OUTDIR/manifest.json lists, for each file: its library, save method, what the
object is, and the loader that reads it (loadcheck.py uses that loader). OUTDIR/generate-log.json
lists what could not be made, and why.

Install the libraries with bench/realworld/setup.sh (Debian packages; never pip).
Deterministic where practical: seeds are fixed, and files are written in a fixed order.

Disk: torchvision builders whose parameters exceed ZERO_ABOVE_MB have their parameters zeroed
(torch.nn.init.zeros_) before saving, and every file over 1 MiB is then made sparse with
`fallocate --dig-holes`, which frees zero blocks without changing a byte of the file. The bytes
are exactly what torch.save writes for that model; only the weight values differ from the random
initialisation. So every builder can be saved in every style and still fit on the disk.
"""
import argparse
import collections
import functools
import io
import json
import os
import pickle
import random
import subprocess
import sys
import time
import traceback
import warnings

warnings.filterwarnings("ignore")
os.environ.setdefault("OMP_NUM_THREADS", "1")

HERE = os.path.dirname(os.path.abspath(__file__))
ZERO_ABOVE_MB = 64          # torchvision: zero the parameters above this size (then dig holes)
STEP_ABOVE_MB = 64          # checkpoints: above this, the optimizer takes no step (empty state)
SKIP_ABOVE_MB = 4000        # torchvision: builders with more parameter bytes are skipped

MANIFEST = []
FAILURES = []
SKIPPED = []
OUT = None


def rel(path):
    return os.path.relpath(path, OUT)


def record(path, library, method, obj, loader, **extra):
    """Add a written file to the manifest (the file must exist)."""
    if not os.path.exists(path):
        raise RuntimeError(f"{path} was not written")
    entry = {"path": rel(path), "library": library, "method": method, "object": obj,
             "loader": loader}
    entry.update(extra)
    MANIFEST.append(entry)
    if os.path.getsize(path) > (1 << 20):
        subprocess.run(["fallocate", "--dig-holes", path], check=False)


def fail(section, what, exc):
    msg = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
    FAILURES.append({"section": section, "what": what, "error": msg})
    print(f"  FAILED {section} {what}: {msg}", flush=True)


def attempt(section, what, fn):
    try:
        fn()
        return True
    except Exception as exc:  # noqa: BLE001 - every failure is recorded and reported
        fail(section, what, exc)
        return False


def outdir(*parts):
    d = os.path.join(OUT, *parts)
    os.makedirs(d, exist_ok=True)
    return d


def seed_all(s=0):
    random.seed(s)
    try:
        import numpy as np
        np.random.seed(s)
    except ImportError:
        pass
    try:
        import torch
        torch.manual_seed(s)
    except ImportError:
        pass


def pdump(obj, path, protocol=None):
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=protocol)


# ---------------------------------------------------------------------------------------------
# torch: optimizers and LR schedulers (shared by torchvision checkpoints and the torch section)

def optimizer_factories():
    import torch.optim as O
    return [
        ("SGD", lambda p: O.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4)),
        ("Adam", lambda p: O.Adam(p, lr=1e-3, amsgrad=True)),
        ("AdamW", lambda p: O.AdamW(p, lr=1e-3, weight_decay=0.01)),
        ("Adadelta", lambda p: O.Adadelta(p)),
        ("Adagrad", lambda p: O.Adagrad(p, lr=0.01)),
        ("Adamax", lambda p: O.Adamax(p)),
        ("ASGD", lambda p: O.ASGD(p, lr=0.01)),
        ("NAdam", lambda p: O.NAdam(p)),
        ("RAdam", lambda p: O.RAdam(p)),
        ("RMSprop", lambda p: O.RMSprop(p, lr=0.01, momentum=0.9, centered=True)),
        ("Rprop", lambda p: O.Rprop(p)),
        ("LBFGS", lambda p: O.LBFGS(p, lr=1, history_size=5, max_iter=2)),
    ]


def scheduler_factories():
    import torch.optim.lr_scheduler as S

    def has_momentum(opt):
        d = opt.defaults
        return "momentum" in d and d["momentum"] or "betas" in d

    return [
        ("StepLR", lambda o: S.StepLR(o, step_size=2, gamma=0.5)),
        ("MultiStepLR", lambda o: S.MultiStepLR(o, milestones=[1, 3], gamma=0.1)),
        ("ConstantLR", lambda o: S.ConstantLR(o, factor=0.5, total_iters=2)),
        ("LinearLR", lambda o: S.LinearLR(o, start_factor=0.1, total_iters=3)),
        ("ExponentialLR", lambda o: S.ExponentialLR(o, gamma=0.9)),
        ("PolynomialLR", lambda o: S.PolynomialLR(o, total_iters=5, power=2.0)),
        ("CosineAnnealingLR", lambda o: S.CosineAnnealingLR(o, T_max=10)),
        ("CosineAnnealingWarmRestarts", lambda o: S.CosineAnnealingWarmRestarts(o, T_0=2)),
        ("OneCycleLR", lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=20,
                                              cycle_momentum=bool(has_momentum(o)))),
        ("CyclicLR", lambda o: S.CyclicLR(o, base_lr=1e-4, max_lr=1e-2, step_size_up=2,
                                          cycle_momentum="momentum" in o.defaults
                                          and bool(o.defaults["momentum"]))),
        ("CyclicLR-exp_range", lambda o: S.CyclicLR(o, base_lr=1e-4, max_lr=1e-2, mode="exp_range",
                                                    gamma=0.9, cycle_momentum=False)),
        # torch 1.13 cannot pickle the two above (a WeakMethod in their state); users pass a
        # scale_fn, which is kept in the state
        ("CyclicLR-scale_fn-partial", lambda o: S.CyclicLR(
            o, base_lr=1e-4, max_lr=1e-2, step_size_up=2, scale_fn=functools.partial(pow, 0.9),
            scale_mode="cycle", cycle_momentum=False)),
        ("LambdaLR-lambda", lambda o: S.LambdaLR(o, lambda e: 0.9 ** e)),
        ("LambdaLR-partial-pow", lambda o: S.LambdaLR(o, functools.partial(pow, 0.95))),
        ("MultiplicativeLR-partial-max", lambda o: S.MultiplicativeLR(o, functools.partial(max, 0.9))),
        ("ReduceLROnPlateau", lambda o: S.ReduceLROnPlateau(o, patience=1)),
        ("SequentialLR", lambda o: S.SequentialLR(
            o, [S.ConstantLR(o, factor=0.5, total_iters=2), S.ExponentialLR(o, gamma=0.9)],
            milestones=[2])),
        ("ChainedScheduler", lambda o: S.ChainedScheduler(
            [S.ConstantLR(o, factor=0.5, total_iters=2), S.ExponentialLR(o, gamma=0.9)])),
    ]


def make_checkpoint(model, opt_name, opt_fn, sched_name, sched_fn, epoch, do_step=True):
    import torch
    params = [p for p in model.parameters() if p.requires_grad]
    opt = opt_fn(params)
    sched = sched_fn(opt)
    steps = 3 if do_step else 0
    for _ in range(steps):
        for p in params:
            p.grad = torch.full_like(p, 1e-3)
        if opt_name == "LBFGS":
            opt.step(lambda: torch.tensor(0.0))
        else:
            opt.step()
        if sched_name == "ReduceLROnPlateau":
            sched.step(1.0)
        else:
            sched.step()
    for p in params:
        p.grad = None
    return {"epoch": epoch, "model_state_dict": model.state_dict(),
            "optimizer_state_dict": opt.state_dict(),
            "scheduler_state_dict": sched.state_dict(), "loss": 0.25,
            "optimizer": opt_name, "scheduler": sched_name}


# ---------------------------------------------------------------------------------------------
# torchvision

def torchvision_builders():
    from torchvision import models
    out = []
    for sub in ["classification", "segmentation", "detection", "video", "optical_flow"]:
        mod = models if sub == "classification" else getattr(models, sub)
        for n in sorted(models.list_models(module=mod)):
            out.append((sub, n))
    return out


def example_input(sub, name):
    import torch
    if sub == "video":
        return (torch.zeros(1, 3, 16, 112, 112),)
    if sub == "optical_flow":
        return (torch.zeros(1, 3, 128, 128), torch.zeros(1, 3, 128, 128))
    if sub == "detection":
        return ([torch.zeros(3, 160, 160)],)
    size = 299 if "inception" in name else 224
    return (torch.zeros(1, 3, size, size),)


def gen_torchvision(quick=False):
    import torch
    from torchvision import models
    torch.set_num_threads(1)
    d = outdir("torchvision")
    opts = optimizer_factories()
    scheds = scheduler_factories()
    builders = torchvision_builders()
    if quick:
        builders = [b for b in builders if b[1] in ("resnet18", "vit_b_32", "fcn_resnet50",
                                                   "ssdlite320_mobilenet_v3_large", "r3d_18",
                                                   "raft_small", "mobilenet_v3_small")]
    lib = "torchvision"
    for i, (sub, name) in enumerate(builders):
        t0 = time.time()
        seed_all(i)
        kw = {"weights": None}
        if sub in ("segmentation", "detection"):
            kw["weights_backbone"] = None
        try:
            model = models.get_model(name, **kw).eval()
        except Exception as exc:
            fail(lib, name, exc)
            continue
        mb = sum(t.numel() * t.element_size() for t in model.state_dict().values()) / 1e6
        if mb > SKIP_ABOVE_MB:
            SKIPPED.append({"section": lib, "what": name, "why": f"{mb:.0f} MB of parameters"})
            continue
        zeroed = mb > ZERO_ABOVE_MB
        if zeroed:
            with torch.no_grad():
                for p in model.parameters():
                    p.zero_()
        desc = f"torchvision.models.{sub}: {name}(weights=None), {mb:.0f} MB" + \
            (" (parameters zeroed)" if zeroed else "")
        base = os.path.join(d, f"{sub}.{name}")
        info = {"builder": name, "family": sub, "param_mb": round(mb, 1), "zeroed": zeroed}

        def sd():
            p = base + ".state_dict.pt"
            torch.save(model.state_dict(), p)
            record(p, lib, "state_dict torch.save (zip)", desc, "torch.load", **info)
        attempt(lib, name + " state_dict", sd)

        def whole():
            p = base + ".module.pt"
            torch.save(model, p)
            record(p, lib, "whole module torch.save (zip)", desc, "torch.load", **info)
        attempt(lib, name + " whole", whole)

        def legacy():
            p = base + ".module.legacy.pt"
            torch.save(model, p, _use_new_zipfile_serialization=False)
            record(p, lib, "whole module torch.save (legacy)", desc, "torch.load", **info)
        attempt(lib, name + " legacy", legacy)

        def script():
            p = base + ".torchscript.pt"
            how = "torch.jit.script"
            try:
                sm = torch.jit.script(model)
            except Exception as exc:
                how = "torch.jit.trace"
                try:
                    with torch.no_grad():
                        sm = torch.jit.trace(model, example_input(sub, name), strict=False,
                                             check_trace=False)
                except Exception as exc2:
                    raise RuntimeError(f"script: {str(exc).splitlines()[0][:120]}; "
                                       f"trace: {str(exc2).splitlines()[0][:120]}")
            sm.save(p)
            record(p, lib, "TorchScript", desc + f" via {how}", "torch.jit.load",
                   scripted_by=how, **info)
        attempt(lib, name + " torchscript", script)

        def ckpt():
            on, of = opts[i % len(opts)]
            # the next scheduler in the rotation when torch cannot save one (CyclicLR's default
            # scale functions are WeakMethods in torch 1.13: its state_dict cannot be pickled)
            for k in range(len(scheds)):
                sn, sf = scheds[(i + k) % len(scheds)]
                c = make_checkpoint(model.train(), on, of, sn, sf, epoch=i,
                                    do_step=mb <= STEP_ABOVE_MB)
                model.eval()
                try:
                    buf = io.BytesIO()
                    pickle.dump(c["scheduler_state_dict"], buf)
                    break
                except Exception as exc:  # noqa: BLE001
                    fail(lib, f"{name} checkpoint scheduler {sn} (next one used)", exc)
            p = base + f".checkpoint.{on}.{sn}.pt"
            torch.save(c, p)
            record(p, lib, "training checkpoint torch.save (zip)",
                   desc + f"; optimizer {on}, scheduler {sn}" +
                   ("" if mb <= STEP_ABOVE_MB else " (no optimizer step: empty state)"),
                   "torch.load", optimizer=on, scheduler=sn, **info)
        attempt(lib, name + " checkpoint", ckpt)
        del model
        print(f"  torchvision {sub}.{name}: {mb:.0f} MB, {time.time() - t0:.1f} s", flush=True)


# ---------------------------------------------------------------------------------------------
# torch: optimizers x schedulers, quantization, small modules, misc

def tiny_mlp():
    import torch.nn as nn
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.1), nn.Linear(8, 3))


def torch_save_styles(lib, base, model, desc, script_input=None, styles=("sd", "zip", "legacy", "script")):
    import torch
    if "sd" in styles:
        def sd():
            p = base + ".state_dict.pt"
            torch.save(model.state_dict(), p)
            record(p, lib, "state_dict torch.save (zip)", desc, "torch.load")
        attempt(lib, base + " sd", sd)
    if "sd-legacy" in styles:
        def sdl():
            p = base + ".state_dict.legacy.pt"
            torch.save(model.state_dict(), p, _use_new_zipfile_serialization=False)
            record(p, lib, "state_dict torch.save (legacy)", desc, "torch.load")
        attempt(lib, base + " sd legacy", sdl)
    if "zip" in styles:
        def z():
            p = base + ".module.pt"
            torch.save(model, p)
            record(p, lib, "whole module torch.save (zip)", desc, "torch.load")
        attempt(lib, base + " zip", z)
    if "legacy" in styles:
        def lg():
            p = base + ".module.legacy.pt"
            torch.save(model, p, _use_new_zipfile_serialization=False)
            record(p, lib, "whole module torch.save (legacy)", desc, "torch.load")
        attempt(lib, base + " legacy", lg)
    if "script" in styles:
        def sc():
            p = base + ".torchscript.pt"
            how = "torch.jit.script"
            try:
                sm = torch.jit.script(model)
            except Exception:
                if script_input is None:
                    raise
                how = "torch.jit.trace"
                sm = torch.jit.trace(model, script_input, check_trace=False)
            sm.save(p)
            record(p, lib, "TorchScript", desc + f" via {how}", "torch.jit.load")
        attempt(lib, base + " script", sc)


def gen_torch(quick=False):
    import torch
    import torch.nn as nn
    torch.set_num_threads(1)
    lib = "torch"

    # every optimizer x every scheduler on a tiny MLP
    d = outdir("torch", "optim")
    opts = optimizer_factories()
    scheds = scheduler_factories()
    if quick:
        opts, scheds = opts[:3], [s for s in scheds if s[0] in ("OneCycleLR", "CyclicLR", "StepLR")]
    for oi, (on, of) in enumerate(opts):
        for si, (sn, sf) in enumerate(scheds):
            def ck(on=on, of=of, sn=sn, sf=sf, e=oi * 100 + si):
                seed_all(e)
                m = tiny_mlp()
                c = make_checkpoint(m, on, of, sn, sf, epoch=e)
                p = os.path.join(d, f"checkpoint.{on}.{sn}.pt")
                torch.save(c, p)
                record(p, lib, "training checkpoint torch.save (zip)",
                       f"tiny MLP checkpoint; optimizer {on}, scheduler {sn}", "torch.load",
                       optimizer=on, scheduler=sn)
            attempt(lib, f"checkpoint {on} {sn}", ck)

    def sparse_adam():
        seed_all(1)
        emb = nn.Embedding(10, 4, sparse=True)
        opt = torch.optim.SparseAdam(list(emb.parameters()))
        sched = torch.optim.lr_scheduler.StepLR(opt, 1)
        emb(torch.tensor([1, 2])).sum().backward()
        opt.step()
        sched.step()
        p = os.path.join(d, "checkpoint.SparseAdam.StepLR.pt")
        torch.save({"model": emb.state_dict(), "optimizer": opt.state_dict(),
                    "scheduler": sched.state_dict(), "epoch": 1}, p)
        record(p, lib, "training checkpoint torch.save (zip)",
               "sparse Embedding checkpoint; optimizer SparseAdam, scheduler StepLR", "torch.load",
               optimizer="SparseAdam", scheduler="StepLR")
    attempt(lib, "SparseAdam", sparse_adam)

    def swa():
        from torch.optim.swa_utils import AveragedModel, SWALR
        seed_all(2)
        m = tiny_mlp()
        opt = torch.optim.SGD(m.parameters(), lr=0.1)
        swa_model = AveragedModel(m)
        swa_sched = SWALR(opt, swa_lr=0.05, anneal_epochs=2)
        swa_model.update_parameters(m)
        swa_sched.step()
        p = os.path.join(d, "checkpoint.swa.pt")
        torch.save({"swa_model": swa_model.state_dict(), "optimizer": opt.state_dict(),
                    "swa_scheduler": swa_sched.state_dict()}, p)
        record(p, lib, "training checkpoint torch.save (zip)",
               "AveragedModel + SWALR checkpoint", "torch.load", optimizer="SGD", scheduler="SWALR")
        # (a whole AveragedModel cannot be pickled in torch 1.13: its avg_fn is a local function)
    attempt(lib, "swa", swa)

    # small stock modules, every style
    d = outdir("torch", "modules")
    small = [
        ("mlp", tiny_mlp, (torch.zeros(2, 4),)),
        ("conv_bn", lambda: nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(),
                                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2)),
         (torch.zeros(1, 3, 8, 8),)),
        ("lstm", lambda: nn.LSTM(4, 8, num_layers=2, batch_first=True), (torch.zeros(1, 3, 4),)),
        ("gru", lambda: nn.GRU(4, 8), (torch.zeros(3, 1, 4),)),
        ("transformer_encoder", lambda: nn.TransformerEncoder(
            nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16), num_layers=2),
         (torch.zeros(3, 1, 8),)),
        ("embedding_layernorm", lambda: nn.Sequential(nn.Embedding(20, 8), nn.LayerNorm(8)),
         (torch.zeros(1, 3, dtype=torch.long),)),
        ("multihead_attention", lambda: nn.MultiheadAttention(8, 2), None),
        ("module_dict", lambda: nn.ModuleDict({"a": nn.Linear(2, 2), "b": nn.ModuleList(
            [nn.Conv1d(2, 2, 1), nn.GELU(), nn.SiLU(), nn.Softmax(dim=1)])}), None),
    ]
    for name, fn, inp in small:
        seed_all(3)
        try:
            m = fn().eval()
        except Exception as exc:
            fail(lib, name, exc)
            continue
        torch_save_styles(lib, os.path.join(d, name), m, f"torch.nn stock module: {name}", inp,
                          styles=("sd", "sd-legacy", "zip", "legacy", "script"))

    # torchvision architectures in tiny configurations (stock classes, files of a few hundred KB)
    def tiny_torchvision():
        from torchvision.models import VisionTransformer, SwinTransformer, ConvNeXt
        from torchvision.models.convnext import CNBlockConfig
        seed_all(13)
        tiny = [
            ("tv_tiny_vit", lambda: VisionTransformer(image_size=32, patch_size=16, num_layers=1,
                                                      num_heads=2, hidden_dim=8, mlp_dim=16,
                                                      num_classes=10),
             (torch.zeros(1, 3, 32, 32),)),
            ("tv_tiny_swin", lambda: SwinTransformer(patch_size=[4, 4], embed_dim=8, depths=[1, 1],
                                                     num_heads=[1, 1], window_size=[2, 2],
                                                     num_classes=10),
             (torch.zeros(1, 3, 32, 32),)),
            ("tv_tiny_convnext", lambda: ConvNeXt([CNBlockConfig(8, 16, 1), CNBlockConfig(16, None, 1)],
                                                  num_classes=10),
             (torch.zeros(1, 3, 32, 32),)),
        ]
        for name, fn, inp in tiny:
            try:
                m = fn().eval()
            except Exception as exc:
                fail(lib, name, exc)
                continue
            torch_save_styles(lib, os.path.join(d, name), m,
                              f"torchvision {type(m).__name__} in a tiny configuration", inp,
                              styles=("sd", "zip", "legacy", "script"))
    attempt(lib, "tiny torchvision", tiny_torchvision)

    def hooks_and_norms():
        from torch.nn.utils import prune, parametrize, parametrizations
        seed_all(4)
        m = tiny_mlp()
        prune.l1_unstructured(m[0], "weight", amount=0.5)
        prune.random_unstructured(m[3], "bias", amount=0.3)
        torch_save_styles(lib, os.path.join(d, "pruned_mlp"), m,
                          "tiny MLP with torch.nn.utils.prune hooks", None,
                          styles=("sd", "zip", "legacy"))
        m2 = tiny_mlp()
        parametrizations.orthogonal(m2[0])
        torch_save_styles(lib, os.path.join(d, "parametrized_orthogonal_mlp"), m2,
                          "tiny MLP with an orthogonal parametrization", None, styles=("sd",))
        m3 = nn.Sequential(nn.utils.weight_norm(nn.Linear(4, 4)),
                           nn.utils.spectral_norm(nn.Linear(4, 2)))
        torch_save_styles(lib, os.path.join(d, "weight_spectral_norm"), m3,
                          "weight_norm + spectral_norm hooks", None, styles=("sd", "zip", "legacy"))
        m4 = tiny_mlp().to(memory_format=torch.channels_last)
        del m4
        parametrize  # noqa: B018 (imported for completeness)
    attempt(lib, "prune/parametrize", hooks_and_norms)

    # quantization
    d = outdir("torch", "quantization")
    torch.backends.quantized.engine = "qnnpack"

    def q_dynamic():
        seed_all(5)
        m = torch.ao.quantization.quantize_dynamic(tiny_mlp().eval(), {nn.Linear}, dtype=torch.qint8)
        torch_save_styles(lib, os.path.join(d, "dynamic_qint8_mlp"), m,
                          "quantize_dynamic(MLP, qint8)", (torch.zeros(2, 4),))
        m = torch.ao.quantization.quantize_dynamic(nn.LSTM(4, 8).eval(), {nn.LSTM}, dtype=torch.qint8)
        torch_save_styles(lib, os.path.join(d, "dynamic_qint8_lstm"), m,
                          "quantize_dynamic(LSTM, qint8)", None, styles=("sd", "zip", "legacy"))
        # (quantize_dynamic with dtype=float16 needs fbgemm, which Debian's torch lacks)
    attempt(lib, "dynamic quantization", q_dynamic)

    def static_model():
        from torch.ao.quantization import QuantStub, DeQuantStub
        return nn.Sequential(QuantStub(), nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(),
                             nn.Conv2d(4, 4, 1), nn.ReLU(), DeQuantStub())

    def q_static():
        seed_all(6)
        m = static_model().eval()
        m = torch.ao.quantization.fuse_modules(m, [["1", "2", "3"], ["4", "5"]])
        m.qconfig = torch.ao.quantization.get_default_qconfig("qnnpack")
        prepared = torch.ao.quantization.prepare(m)
        prepared(torch.randn(4, 3, 8, 8))
        # (a prepared model holds local functions: torch.save of the whole module fails)
        torch_save_styles(lib, os.path.join(d, "static_prepared_conv"), prepared,
                          "static quantization: prepared (observers), fused conv-bn-relu",
                          None, styles=("sd",))
        q = torch.ao.quantization.convert(prepared)
        torch_save_styles(lib, os.path.join(d, "static_int8_conv"), q,
                          "static quantization: converted int8 conv (fused)",
                          (torch.zeros(1, 3, 8, 8),))
    attempt(lib, "static quantization", q_static)

    def q_qat():
        seed_all(7)
        m = static_model().train()
        m = torch.ao.quantization.fuse_modules_qat(m, [["1", "2", "3"], ["4", "5"]])
        m.qconfig = torch.ao.quantization.get_default_qat_qconfig("qnnpack")
        m = torch.ao.quantization.prepare_qat(m)
        m(torch.randn(4, 3, 8, 8))
        torch_save_styles(lib, os.path.join(d, "qat_prepared_conv"), m,
                          "QAT prepared (fake-quant, intrinsic qat modules)", None,
                          styles=("sd",))
    attempt(lib, "qat", q_qat)

    def q_floatfunctional():
        from torch.ao.nn.quantized import FloatFunctional, QFunctional
        seed_all(8)
        m = nn.ModuleDict({"ff": FloatFunctional(), "qf": QFunctional()})
        torch_save_styles(lib, os.path.join(d, "float_functional"), m,
                          "FloatFunctional + QFunctional", None, styles=("sd", "zip", "legacy"))
    attempt(lib, "floatfunctional", q_floatfunctional)

    def q_torchvision():
        from torchvision.models import quantization as tq
        names = sorted(__import__("torchvision").models.list_models(module=tq))
        if quick:
            names = names[:2]
        for n in names:
            for quantize in (False, True):
                seed_all(9)
                size = 299 if "inception" in n else 224
                try:
                    m = __import__("torchvision").models.get_model(
                        n, weights=None, quantize=False).eval()
                    mb = sum(t.numel() * t.element_size() for t in m.state_dict().values()) / 1e6
                    if mb > ZERO_ABOVE_MB:
                        with torch.no_grad():
                            for prm in m.parameters():
                                prm.zero_()
                    if quantize:
                        # torchvision's quantize=True asks for the fbgemm engine, which Debian's
                        # torch lacks; do what its quantize_model does, with qnnpack
                        m.fuse_model()
                        m.qconfig = torch.ao.quantization.get_default_qconfig("qnnpack")
                        torch.ao.quantization.prepare(m, inplace=True)
                        with torch.no_grad():
                            m(torch.rand(1, 3, size, size))
                        torch.ao.quantization.convert(m, inplace=True)
                except Exception as exc:
                    fail(lib, f"{n} quantize={quantize}", exc)
                    continue
                tag = "int8" if quantize else "quantizable_float"
                torch_save_styles(lib, os.path.join(d, f"tv.{n}.{tag}"), m,
                                  f"torchvision.models.quantization.{n}(weights=None), "
                                  + ("fused, prepared, calibrated, converted (qnnpack)"
                                     if quantize else "float"),
                                  (torch.zeros(1, 3, 299 if "inception" in n else 224,
                                               299 if "inception" in n else 224),),
                                  styles=("sd", "zip", "legacy", "script") if quantize
                                  else ("sd", "zip", "legacy"))
    attempt(lib, "torchvision quantized", q_torchvision)

    # plain pickle of tensors (torch.storage._load_from_bytes), distributions, dtypes, misc
    d = outdir("torch", "misc")

    def tensor_pickles():
        seed_all(10)
        t = torch.arange(12, dtype=torch.float32).reshape(3, 4)
        for proto in (2, 4, 5):
            p = os.path.join(d, f"tensor.pickle.p{proto}.pkl")
            pdump({"weights": t, "bias": torch.zeros(3)}, p, protocol=proto)
            record(p, lib, f"pickle.dump protocol {proto}", "dict of torch tensors "
                   "(torch.storage._load_from_bytes)", "pickle.load")
        for proto in (2, 4):
            p = os.path.join(d, f"dtypes.pickle.p{proto}.pkl")
            pdump({"dtype": torch.float16, "layout": torch.strided, "device": torch.device("cpu"),
                   "size": torch.Size([2, 3])}, p, protocol=proto)
            record(p, lib, f"pickle.dump protocol {proto}", "torch dtype, layout, device, Size",
                   "pickle.load")
        p = os.path.join(d, "parameter.pickle.p4.pkl")
        pdump(nn.Parameter(torch.ones(2, 2)), p, protocol=4)
        record(p, lib, "pickle.dump protocol 4", "torch.nn.Parameter", "pickle.load")
    attempt(lib, "tensor pickles", tensor_pickles)

    def misc_saves():
        from torch import distributions as D
        seed_all(11)
        objs = {
            "distributions": {"normal": D.Normal(torch.zeros(2), torch.ones(2)),
                              "categorical": D.Categorical(probs=torch.tensor([0.2, 0.8])),
                              "mvn": D.MultivariateNormal(torch.zeros(2), torch.eye(2)),
                              "transformed": D.TransformedDistribution(
                                  D.Normal(0.0, 1.0), [D.transforms.ExpTransform()])},
            "dtypes_devices": {"dtype": torch.float16, "bf16": torch.bfloat16,
                               "device": torch.device("cpu"),
                               "memory_format": torch.channels_last,
                               "layout": torch.strided, "size": torch.Size([1, 3, 224, 224])},
            "tensor_kinds": {"int8": torch.ones(3, dtype=torch.int8),
                             "bool": torch.tensor([True, False]),
                             "complex": torch.ones(2, dtype=torch.complex64),
                             "half": torch.ones(2, dtype=torch.float16),
                             "bf16": torch.ones(2, dtype=torch.bfloat16),
                             "sparse_coo": torch.eye(3).to_sparse(),
                             "qint8": torch.quantize_per_tensor(torch.ones(4), 0.1, 0, torch.qint8),
                             "qchannel": torch.quantize_per_channel(
                                 torch.ones(2, 3), torch.tensor([0.1, 0.2]),
                                 torch.tensor([0, 0]), 0, torch.quint8),
                             "channels_last": torch.zeros(1, 3, 2, 2).to(
                                 memory_format=torch.channels_last),
                             "view": torch.arange(10)[2:7],
                             "nested_list": [torch.zeros(1), (torch.ones(1), {"k": torch.ones(1)})]},
            "generator_state": {"rng": torch.get_rng_state(),
                                "generator": torch.Generator().manual_seed(3).get_state()},
        }
        for name, obj in objs.items():
            if isinstance(obj, dict):
                for k in list(obj):
                    try:
                        torch.save(obj[k], io.BytesIO())
                    except Exception as exc:
                        fail(lib, f"{name}[{k}]", exc)
                        del obj[k]
            for legacy in (False, True):
                p = os.path.join(d, f"{name}{'.legacy' if legacy else ''}.pt")
                try:
                    torch.save(obj, p, _use_new_zipfile_serialization=not legacy)
                except Exception as exc:
                    fail(lib, f"{name} legacy={legacy}", exc)
                    continue
                record(p, lib, "torch.save (legacy)" if legacy else "torch.save (zip)",
                       f"torch objects: {name}", "torch.load")
    attempt(lib, "misc saves", misc_saves)


# ---------------------------------------------------------------------------------------------
# scikit-learn

def sklearn_data():
    import numpy as np
    rng = np.random.RandomState(0)
    X = np.abs(rng.randn(60, 4)) + 0.1
    y = np.array([0, 1, 2] * 20)
    X[y == 1] += 1.0
    X[y == 2] += 2.0
    return X, y


def sklearn_fit(est, X, y, strings=False):
    """Fit with the data the estimator's tags ask for; return the fitted estimator."""
    import numpy as np
    from sklearn.base import is_classifier, is_regressor
    from sklearn.utils.estimator_checks import _enforce_estimator_tags_X, _enforce_estimator_tags_y
    X, y = X.copy(), y.copy()  # some estimators change their input in place
    tags = est._get_tags()
    xt = tags.get("X_types", ["2darray"])
    if "1dlabels" in xt:
        labels = np.array(["cat", "dog", "bird"])[y] if strings else y
        return est.fit(labels)
    if ("string" in xt or "text" in xt) and "2darray" not in xt:
        docs = ["the cat sat on the mat", "the dog ate my homework", "a bird in the hand"] * 4
        return est.fit(docs, None if not tags.get("requires_y") else y[:12])
    if "dict" in xt and "2darray" not in xt:
        return est.fit([{"a": 1, "b": 2}, {"a": 3, "c": 4}, {"b": 1}] * 4)
    if "categorical" in xt and "2darray" not in xt:
        Xc = np.array([["red", "s"], ["blue", "m"], ["green", "l"]] * 20)
        return est.fit(Xc, y)
    Xe = _enforce_estimator_tags_X(est, X)
    ye = _enforce_estimator_tags_y(est, y)
    if strings:
        ye = np.array(["setosa", "versicolor", "virginica"])[y]
    if tags.get("multioutput_only"):
        ye = np.c_[ye, ye[::-1]]
    if is_classifier(est) or is_regressor(est) or tags.get("requires_y"):
        return est.fit(Xe, ye)
    try:
        return est.fit(Xe, ye)
    except (TypeError, ValueError):
        return est.fit(Xe)


# constructor arguments for estimators whose defaults do not fit 60 samples x 4 features
SKLEARN_PARAMS = {
    "CCA": {"n_components": 1}, "PLSCanonical": {"n_components": 1}, "PLSSVD": {"n_components": 1},
    "GaussianRandomProjection": {"n_components": 2}, "SparseRandomProjection": {"n_components": 2},
    "SelectKBest": {"k": 2}, "SequentialFeatureSelector": {"n_features_to_select": 2},
}
# estimators that need arguments _construct_instance cannot give: made in extras()
SKLEARN_IN_EXTRAS = {"ColumnTransformer", "FeatureUnion", "GridSearchCV", "HalvingGridSearchCV",
                     "HalvingRandomSearchCV", "Pipeline", "RandomizedSearchCV", "SparseCoder"}


def gen_sklearn(quick=False):
    import numpy as np
    import joblib
    import sklearn
    from sklearn.experimental import enable_halving_search_cv, enable_iterative_imputer  # noqa: F401
    from sklearn.utils import all_estimators
    from sklearn.utils.estimator_checks import _construct_instance
    from sklearn.base import is_classifier
    lib = "sklearn"
    d = outdir("sklearn")
    X, y = sklearn_data()
    ests = sorted(all_estimators(), key=lambda t: t[0])
    if quick:
        ests = [e for e in ests if e[0] in ("LogisticRegression", "RandomForestClassifier",
                                            "StandardScaler", "HalvingGridSearchCV",
                                            "IterativeImputer", "KNeighborsClassifier")]
    fitted = []
    for name, cls in ests:
        seed_all(0)
        try:
            est = _construct_instance(cls)
            if name in SKLEARN_PARAMS:
                est.set_params(**SKLEARN_PARAMS[name])
        except Exception as exc:
            if name in SKLEARN_IN_EXTRAS:
                continue
            fail(lib, f"{name} construct", exc)
            continue
        if "random_state" in est.get_params():
            try:
                est.set_params(random_state=0)
            except Exception:
                pass
        try:
            sklearn_fit(est, X, y)
        except Exception as exc:
            fail(lib, f"{name} fit", exc)
            continue
        fitted.append((name, est, False, cls))
        if is_classifier(est) and "1dlabels" not in est._get_tags().get("X_types", []):
            try:
                est2 = _construct_instance(cls)
                if name in SKLEARN_PARAMS:
                    est2.set_params(**SKLEARN_PARAMS[name])
                if "random_state" in est2.get_params():
                    est2.set_params(random_state=0)
                sklearn_fit(est2, X, y, strings=True)
                fitted.append((name, est2, True, cls))
            except Exception as exc:
                fail(lib, f"{name} fit string labels", exc)

    # a few compositions people save, with helpers named in issue 15
    def extras():
        from sklearn.pipeline import make_pipeline, Pipeline
        from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
        from sklearn.preprocessing import OneHotEncoder, StandardScaler, FunctionTransformer
        from sklearn.linear_model import LogisticRegression, Ridge
        from sklearn.model_selection import (GridSearchCV, StratifiedKFold, HalvingRandomSearchCV,
                                             HalvingGridSearchCV)
        from sklearn.impute import IterativeImputer, SimpleImputer
        import pandas as pd
        out = []
        p = make_pipeline(FunctionTransformer(np.log1p, inverse_func=np.expm1), StandardScaler(),
                          LogisticRegression(max_iter=500))
        out.append(("Pipeline-log1p-LogReg", p.fit(X, y)))
        t = TransformedTargetRegressor(regressor=Ridge(), func=np.log1p, inverse_func=np.expm1)
        out.append(("TransformedTargetRegressor-log1p", t.fit(X, X[:, 0] + 1)))
        g = GridSearchCV(LogisticRegression(max_iter=500), {"C": [0.1, 1.0]},
                         cv=StratifiedKFold(3, shuffle=True, random_state=0))
        out.append(("GridSearchCV-StratifiedKFold", g.fit(X, y)))
        h = HalvingRandomSearchCV(LogisticRegression(max_iter=500), {"C": [0.1, 1.0, 10.0]},
                                  random_state=0, cv=3)
        out.append(("HalvingRandomSearchCV-LogReg", h.fit(X, y)))
        h = HalvingGridSearchCV(LogisticRegression(max_iter=500), {"C": [0.1, 1.0, 10.0]}, cv=3)
        out.append(("HalvingGridSearchCV-LogReg", h.fit(X, y)))
        from sklearn.model_selection import RandomizedSearchCV
        from sklearn.pipeline import FeatureUnion
        from sklearn.decomposition import PCA, SparseCoder
        from sklearn.feature_selection import SelectKBest
        r = RandomizedSearchCV(Ridge(), {"alpha": [0.1, 1.0, 10.0]}, n_iter=2, random_state=0, cv=3)
        out.append(("RandomizedSearchCV-Ridge", r.fit(X, X[:, 0])))
        fu = FeatureUnion([("pca", PCA(n_components=2)), ("kb", SelectKBest(k=2))])
        out.append(("FeatureUnion-PCA-SelectKBest", fu.fit(X, y)))
        out.append(("SparseCoder", SparseCoder(dictionary=np.eye(4)[:2]).fit(X)))
        df = pd.DataFrame({"num": X[:, 0], "cat": np.array(["a", "b", "c"])[y]})
        ct = Pipeline([("ct", ColumnTransformer([("oh", OneHotEncoder(), ["cat"]),
                                                 ("imp", SimpleImputer(), ["num"])])),
                       ("lr", LogisticRegression(max_iter=500))])
        out.append(("ColumnTransformer-DataFrame", ct.fit(df, np.array(["x", "y", "z"])[y])))
        Xn = X.copy()
        Xn[::7, 1] = np.nan
        out.append(("IterativeImputer-nan", IterativeImputer(random_state=0).fit(Xn)))
        return out
    try:
        for n, e in extras():
            fitted.append((n, e, False, None))
    except Exception as exc:
        fail(lib, "extras", exc)

    for name, est, strings, cls in fitted:
        tag = name + (".strlabels" if strings else "")
        desc = f"{type(est).__module__}.{type(est).__name__} fitted" + \
            (" on string labels" if strings else "")
        extra = {"estimator": name, "string_labels": strings}

        def w(method, path, loader, fn):
            def go():
                fn(path)
                record(path, lib, method, desc, loader, **extra)
            attempt(lib, f"{tag} {method}", go)
        w("pickle.dump", os.path.join(d, f"{tag}.pkl"), "pickle.load",
          lambda p: pdump(est, p))
        w("joblib.dump", os.path.join(d, f"{tag}.joblib"), "joblib.load",
          lambda p: joblib.dump(est, p))
        w("joblib.dump compress=3", os.path.join(d, f"{tag}.z3.joblib"), "joblib.load",
          lambda p: joblib.dump(est, p, compress=3))
        w("joblib.dump compress=('lzma',3)", os.path.join(d, f"{tag}.lzma.joblib"), "joblib.load",
          lambda p: joblib.dump(est, p, compress=("lzma", 3)))
    print(f"  sklearn: {len(fitted)} fitted objects, sklearn {sklearn.__version__}", flush=True)


# ---------------------------------------------------------------------------------------------
# pandas

def gen_pandas(quick=False):
    import numpy as np
    import pandas as pd
    import zoneinfo
    lib = "pandas"
    d = outdir("pandas")
    n = 12
    rng = np.random.RandomState(0)
    frames = {
        "numeric": pd.DataFrame({"i": np.arange(n), "f": rng.randn(n), "b": np.arange(n) % 2 == 0}),
        "object_strings": pd.DataFrame({"s": [f"row{i}" for i in range(n)],
                                        "mixed": [1, "a", 2.5, None] * 3}),
        "categorical": pd.DataFrame({"c": pd.Categorical(list("abcabcabcabc")),
                                     "o": pd.Categorical(["lo", "hi"] * 6, categories=["lo", "hi"],
                                                         ordered=True)}),
        "datetime": pd.DataFrame({"t": pd.date_range("2024-01-01", periods=n, freq="H"),
                                  "td": pd.to_timedelta(np.arange(n), unit="s")}),
        "datetime_tz_pytz": pd.DataFrame({"t": pd.date_range("2024-01-01", periods=n, freq="D",
                                                            tz="Europe/Berlin")}),
        "datetime_tz_utc": pd.DataFrame({"t": pd.date_range("2024-01-01", periods=n, tz="UTC")}),
        "datetime_tz_zoneinfo": pd.DataFrame({"t": pd.date_range(
            "2024-01-01", periods=n, tz=zoneinfo.ZoneInfo("America/New_York"))}),
        "nullable": pd.DataFrame({"I": pd.array([1, None] * 6, dtype="Int64"),
                                  "B": pd.array([True, None] * 6, dtype="boolean"),
                                  "S": pd.array(["x", None] * 6, dtype="string")}),
        "period_interval": pd.DataFrame({"p": pd.period_range("2024-01", periods=n, freq="M"),
                                         "iv": pd.interval_range(0, n)}),
        "sparse": pd.DataFrame({"sp": pd.arrays.SparseArray([0, 0, 1] * 4)}),
        "multiindex": pd.DataFrame({"v": np.arange(n)},
                                   index=pd.MultiIndex.from_product([list("abc"), range(4)])),
    }
    series = {
        "series_float": pd.Series(rng.randn(n), name="x"),
        "series_str_index": pd.Series(np.arange(n), index=[f"k{i}" for i in range(n)]),
        "series_category": pd.Series(pd.Categorical(list("xyzxyzxyzxyz"))),
        "series_datetime_tz": pd.Series(pd.date_range("2024-01-01", periods=n, tz="Asia/Tokyo")),
        "datetimeindex": pd.date_range("2024-01-01", periods=n, freq="W"),
        "timestamp": pd.Timestamp("2024-05-06 07:08:09", tz="UTC"),
    }
    for name, obj in list(frames.items()) + list(series.items()):
        def go(name=name, obj=obj):
            p = os.path.join(d, f"{name}.pkl")
            pd.to_pickle(obj, p)
            record(p, lib, "to_pickle", f"pandas {type(obj).__name__}: {name}",
                   "pandas.read_pickle")
        attempt(lib, name, go)
    for comp, ext in (("gzip", "gz"), ("bz2", "bz2"), ("xz", "xz"), ("zip", "zip")):
        def go(comp=comp, ext=ext):
            p = os.path.join(d, f"mixed_frame.pkl.{ext}")
            frames["categorical"].join(frames["datetime"]).to_pickle(p, compression=comp)
            record(p, lib, f"to_pickle compression={comp}", "pandas DataFrame (category+datetime)",
                   "pandas.read_pickle")
        attempt(lib, comp, go)
    for proto in (2, 5):
        def go(proto=proto):
            p = os.path.join(d, f"object_strings.p{proto}.pkl")
            frames["object_strings"].to_pickle(p, protocol=proto)
            record(p, lib, f"to_pickle protocol={proto}", "pandas DataFrame (object strings)",
                   "pandas.read_pickle")
        attempt(lib, f"proto {proto}", go)


# ---------------------------------------------------------------------------------------------
# scipy

def gen_scipy(quick=False):
    import numpy as np
    import scipy
    from scipy import sparse, stats, interpolate, spatial, optimize
    from scipy.spatial.transform import Rotation
    lib = "scipy"
    d = outdir("scipy")
    rng = np.random.RandomState(0)
    dense = np.eye(5)
    dense[0, 3] = 2.0
    x = np.linspace(0, 1, 10)
    yv = np.sin(x)
    pts = rng.rand(20, 2)
    objs = {}
    for fmt in ("csr", "csc", "coo", "lil", "dok", "bsr", "dia"):
        objs[f"sparse_{fmt}"] = getattr(sparse, f"{fmt}_matrix")(dense)
    objs["sparse_csr_array"] = sparse.csr_array(dense)
    objs["dist_norm_frozen"] = stats.norm(loc=1, scale=2)
    objs["dist_gamma_frozen"] = stats.gamma(2.0)
    objs["dist_beta_fit"] = stats.beta(*stats.beta.fit(rng.beta(2, 3, 50)))
    objs["dist_poisson_frozen"] = stats.poisson(3.0)
    objs["dist_norm_generic"] = stats.norm
    objs["dist_rv_histogram"] = stats.rv_histogram(np.histogram(rng.randn(100), bins=5))
    objs["dist_multivariate_normal"] = stats.multivariate_normal(mean=[0, 0], cov=np.eye(2))
    objs["gaussian_kde"] = stats.gaussian_kde(rng.randn(50))
    objs["interp1d"] = interpolate.interp1d(x, yv, kind="cubic")
    objs["CubicSpline"] = interpolate.CubicSpline(x, yv)
    objs["UnivariateSpline"] = interpolate.UnivariateSpline(x, yv)
    objs["PchipInterpolator"] = interpolate.PchipInterpolator(x, yv)
    objs["RegularGridInterpolator"] = interpolate.RegularGridInterpolator((x, x), np.outer(yv, yv))
    objs["RBFInterpolator"] = interpolate.RBFInterpolator(pts, pts[:, 0])
    objs["BSpline"] = interpolate.make_interp_spline(x, yv)
    objs["KDTree"] = spatial.KDTree(pts)
    objs["cKDTree"] = spatial.cKDTree(pts)
    objs["Rotation"] = Rotation.from_euler("xyz", [10, 20, 30], degrees=True)
    objs["OptimizeResult"] = optimize.minimize(lambda v: float((v ** 2).sum()), np.ones(2))
    objs["linregress"] = stats.linregress(x, yv)
    for name, obj in objs.items():
        def go(name=name, obj=obj):
            p = os.path.join(d, f"{name}.pkl")
            if name == "OptimizeResult":
                obj = optimize.OptimizeResult({k: v for k, v in obj.items()
                                               if k not in ("hess_inv",)})
            pdump(obj, p)
            record(p, lib, "pickle.dump", f"scipy {type(obj).__module__}.{type(obj).__name__}: "
                   f"{name}", "pickle.load")
        attempt(lib, name, go)
    for name in ("sparse_csr", "sparse_coo"):
        def go(name=name):
            p = os.path.join(d, f"{name}.save_npz.npz")
            sparse.save_npz(p, objs[name])
            record(p, lib, "scipy.sparse.save_npz", f"scipy sparse {name}", "scipy.sparse.load_npz")
        attempt(lib, name + " npz", go)
    print(f"  scipy {scipy.__version__}", flush=True)


# ---------------------------------------------------------------------------------------------
# numpy

def gen_numpy(quick=False):
    import numpy as np
    lib = "numpy"
    d = outdir("numpy")
    rng = np.random.RandomState(0)
    num = rng.randn(4, 5).astype(np.float32)
    obj = np.array([{"a": 1}, [1, 2], "text", None, 3.5], dtype=object)
    strs = np.array(["alpha", "beta", "gamma"])
    struct = np.zeros(3, dtype=[("x", "<f4"), ("name", "U8"), ("id", "<i8")])
    dt = np.array(["2024-01-01", "2024-06-01"], dtype="datetime64[D]")

    def save(name, fn, method, desc, loader):
        def go():
            p = os.path.join(d, name)
            fn(p)
            record(p, lib, method, desc, loader)
        attempt(lib, name, go)

    save("float32.npy", lambda p: np.save(p, num), "np.save", "float32 array", "numpy.load")
    save("object_array.npy", lambda p: np.save(p, obj, allow_pickle=True),
         "np.save allow_pickle", "object array (dict, list, str, None, float)", "numpy.load")
    save("object_strings.npy", lambda p: np.save(p, strs.astype(object), allow_pickle=True),
         "np.save allow_pickle", "object array of str", "numpy.load")
    save("unicode.npy", lambda p: np.save(p, strs), "np.save", "<U5 array", "numpy.load")
    save("structured.npy", lambda p: np.save(p, struct), "np.save", "structured array",
         "numpy.load")
    save("dict_in_0d.npy", lambda p: np.save(p, {"vocab": ["a", "b"], "dim": 3}, allow_pickle=True),
         "np.save allow_pickle", "0-d object array holding a dict", "numpy.load")
    save("savez.npz", lambda p: np.savez(p, a=num, b=strs, c=dt), "np.savez",
         "npz: float32, <U5, datetime64", "numpy.load")
    save("savez_object.npz", lambda p: np.savez(p, a=num, o=obj), "np.savez",
         "npz with an object array", "numpy.load")
    save("savez_compressed.npz", lambda p: np.savez_compressed(p, a=num, o=obj, s=struct),
         "np.savez_compressed", "compressed npz with object and structured arrays", "numpy.load")
    pick = {
        "arrays": {"f": num, "u": strs, "s": struct, "dt": dt, "o": obj,
                   "c": np.ones(2, dtype=np.complex128), "b": np.array([True, False])},
        "ufuncs": {"log1p": np.log1p, "exp": np.exp, "add": np.add, "sqrt": np.sqrt},
        "dtypes": {"f4": np.dtype("f4"), "struct": struct.dtype, "U8": np.dtype("U8"),
                   "number": np.number, "float64_type": np.float64, "int8_type": np.int8},
        "scalars": {"f64": np.float64(1.5), "i32": np.int32(7), "b": np.bool_(True),
                    "dt": np.datetime64("2024-01-01"), "s": np.str_("x")},
        "masked_matrix": {"ma": np.ma.masked_array([1, 2, 3], mask=[0, 1, 0]),
                          "matrix": np.matrix([[1, 2], [3, 4]])},
        "random_state": {"RandomState": np.random.RandomState(0),
                         "Generator": np.random.default_rng(0),
                         "PCG64": np.random.PCG64(1), "MT19937": np.random.MT19937(2)},
        "fortran_order": np.asfortranarray(rng.randn(3, 4)),
    }
    for name, o in pick.items():
        for proto in (2, 4, 5):
            save(f"{name}.p{proto}.pkl", lambda p, o=o, proto=proto: pdump(o, p, protocol=proto),
                 f"pickle.dump protocol {proto}", f"numpy {name}", "pickle.load")


# ---------------------------------------------------------------------------------------------
# statsmodels, networkx, sympy, nltk

def gen_statsmodels(quick=False):
    import numpy as np
    import statsmodels.api as sm
    from statsmodels.tsa.arima.model import ARIMA
    from statsmodels.tsa.holtwinters import ExponentialSmoothing
    lib = "statsmodels"
    d = outdir("statsmodels")
    rng = np.random.RandomState(0)
    X = sm.add_constant(rng.randn(50, 2))
    yv = X @ np.array([1.0, 2.0, -1.0]) + rng.randn(50) * 0.1
    yb = (X[:, 1] + rng.randn(50) > 0).astype(float)
    ts = np.cumsum(rng.randn(60)) + 10
    fits = {
        "OLS": lambda: sm.OLS(yv, X).fit(),
        "WLS": lambda: sm.WLS(yv, X, weights=np.ones(50)).fit(),
        "Logit": lambda: sm.Logit(yb, X).fit(disp=0),
        "GLM_Poisson": lambda: sm.GLM(np.round(np.abs(yv)), X, family=sm.families.Poisson()).fit(),
        "ARIMA": lambda: ARIMA(ts, order=(1, 0, 0)).fit(),
        "ExponentialSmoothing": lambda: ExponentialSmoothing(ts, trend="add").fit(),
        "RLM": lambda: sm.RLM(yv, X).fit(),
    }
    for name, fn in fits.items():
        def go(name=name, fn=fn):
            res = fn()
            p = os.path.join(d, f"{name}.results.pickle")
            res.save(p)
            record(p, lib, "results.save", f"statsmodels {name} fitted results",
                   "statsmodels.load_pickle")
            if not hasattr(res, "remove_data"):
                return
            p = os.path.join(d, f"{name}.results.remove_data.pickle")
            res.save(p, remove_data=True)
            record(p, lib, "results.save remove_data=True", f"statsmodels {name} results",
                   "statsmodels.load_pickle")
        attempt(lib, name, go)


def gen_networkx(quick=False):
    import networkx as nx
    lib = "networkx"
    d = outdir("networkx")
    graphs = {
        "karate": nx.karate_club_graph(),
        "digraph_attrs": nx.DiGraph([(1, 2, {"w": 0.5}), (2, 3, {"label": "x"})]),
        "multigraph": nx.MultiGraph([(1, 2), (1, 2), (2, 3)]),
        "grid": nx.grid_2d_graph(3, 3),
        "barabasi": nx.barabasi_albert_graph(30, 2, seed=0),
    }
    graphs["digraph_attrs"].graph["name"] = "demo"
    for name, g in graphs.items():
        for proto in (2, 4):
            def go(name=name, g=g, proto=proto):
                p = os.path.join(d, f"{name}.p{proto}.pkl")
                pdump(g, p, protocol=proto)
                record(p, lib, f"pickle.dump protocol {proto}", f"networkx {type(g).__name__}",
                       "pickle.load")
            attempt(lib, name, go)

    def gp():
        p = os.path.join(d, "karate.gpickle")
        nx.write_gpickle(graphs["karate"], p)
        record(p, lib, "nx.write_gpickle", "networkx Graph", "networkx.read_gpickle")
    attempt(lib, "gpickle", gp)


def gen_sympy(quick=False):
    import sympy as sp
    lib = "sympy"
    d = outdir("sympy")
    x, y = sp.symbols("x y", real=True)
    n = sp.Symbol("n", integer=True, positive=True)
    objs = {
        "polynomial": x ** 2 + 3 * x * y - sp.Rational(1, 3),
        "trig_exp": sp.sin(x) * sp.exp(-y) + sp.cos(x) ** 2,
        "matrix": sp.Matrix([[x, 1], [0, y]]),
        "integral": sp.Integral(sp.exp(-x ** 2), (x, -sp.oo, sp.oo)),
        "piecewise": sp.Piecewise((x, x > 0), (-x, True)),
        "lambda": sp.Lambda(x, x ** 2 + 1),
        "sum": sp.Sum(1 / n ** 2, (n, 1, sp.oo)),
        "derivative_eq": sp.Eq(sp.Derivative(sp.sin(x) * x, x), sp.besselj(0, x)),
        "numbers": [sp.pi, sp.E, sp.I, sp.Float("1.5", 30), sp.Integer(10) ** 40, sp.zoo, sp.nan],
        "sets": sp.Interval(0, 1) | sp.FiniteSet(3, 4),
    }
    for name, o in objs.items():
        for proto in (2, 4):
            def go(name=name, o=o, proto=proto):
                p = os.path.join(d, f"{name}.p{proto}.pkl")
                pdump(o, p, protocol=proto)
                record(p, lib, f"pickle.dump protocol {proto}", f"sympy {name}", "pickle.load")
            attempt(lib, name, go)


def gen_nltk(quick=False):
    import nltk
    from nltk.probability import FreqDist, ConditionalFreqDist
    from nltk.tokenize.punkt import PunktSentenceTokenizer, PunktTrainer
    from nltk.tokenize import RegexpTokenizer, TreebankWordTokenizer, WordPunctTokenizer
    from nltk.stem import PorterStemmer, SnowballStemmer
    from nltk.lm import MLE
    from nltk.lm.preprocessing import padded_everygram_pipeline
    lib = "nltk"
    d = outdir("nltk")
    text = ("Mr. Smith went to Washington. He arrived on Jan. 5. The weather was fine. "
            "Dr. Jones met him at 10 a.m. and they talked. It rained later. ") * 5
    words = text.lower().split()
    trainer = PunktTrainer()
    trainer.INCLUDE_ALL_COLLOCS = True
    trainer.train(text)
    tagged = [[("the", "DT"), ("cat", "NN"), ("sat", "VBD")], [("a", "DT"), ("dog", "NN"),
                                                               ("ran", "VBD")]]
    feats = [({"last": w[-1], "len": len(w)}, "long" if len(w) > 3 else "short") for w in words]
    sents = [s.split() for s in text.lower().split(".") if s.strip()]
    train, vocab = padded_everygram_pipeline(2, sents)
    lm = MLE(2)
    lm.fit(train, vocab)
    objs = {
        "FreqDist": FreqDist(words),
        "ConditionalFreqDist": ConditionalFreqDist((len(w), w) for w in words),
        "PunktSentenceTokenizer": PunktSentenceTokenizer(trainer.get_params()),
        "PunktSentenceTokenizer_trained_text": PunktSentenceTokenizer(text),
        "RegexpTokenizer": RegexpTokenizer(r"\w+"),
        "TreebankWordTokenizer": TreebankWordTokenizer(),
        "WordPunctTokenizer": WordPunctTokenizer(),
        "PorterStemmer": PorterStemmer(),
        "SnowballStemmer": SnowballStemmer("english"),
        "UnigramTagger": nltk.UnigramTagger(tagged),
        "BigramTagger_backoff": nltk.BigramTagger(tagged, backoff=nltk.DefaultTagger("NN")),
        "NaiveBayesClassifier": nltk.NaiveBayesClassifier.train(feats),
        "Tree": nltk.Tree.fromstring("(S (NP (DT the) (NN cat)) (VP (VBD sat)))"),
        "MLE_bigram_lm": lm,
    }
    for name, o in objs.items():
        def go(name=name, o=o):
            p = os.path.join(d, f"{name}.pickle")
            pdump(o, p)
            record(p, lib, "pickle.dump", f"nltk {type(o).__module__}.{type(o).__name__}",
                   "pickle.load")
        attempt(lib, name, go)


# ---------------------------------------------------------------------------------------------
# gensim, xgboost, skorch, dill

def gen_gensim(quick=False):
    import gensim
    from gensim.models import Word2Vec, FastText, Doc2Vec, TfidfModel, LdaModel
    from gensim.models.doc2vec import TaggedDocument
    from gensim.corpora import Dictionary
    lib = "gensim"
    d = outdir("gensim")
    corpus = [s.split() for s in [
        "the quick brown fox jumps over the lazy dog", "the dog barks at the fox",
        "a quick brown dog runs", "lazy foxes sleep all day", "the cat and the dog play"]] * 4
    kw = dict(vector_size=16, min_count=1, workers=1, seed=1, epochs=3)

    def w2v():
        m = Word2Vec(corpus, **kw)
        p = os.path.join(d, "word2vec.model")
        m.save(p)
        record(p, lib, "Word2Vec.save", "gensim Word2Vec", "gensim:Word2Vec.load")
        sub = outdir("gensim", "word2vec_sep")
        p = os.path.join(sub, "word2vec_sep.model")
        m.save(p, sep_limit=0)
        record(p, lib, "Word2Vec.save sep_limit=0", "gensim Word2Vec (arrays in .npy files)",
               "gensim:Word2Vec.load")
        for f in sorted(os.listdir(sub)):
            if f.endswith(".npy"):
                record(os.path.join(sub, f), lib, "Word2Vec.save sep_limit=0 (side array)",
                       "numpy array written by gensim", "numpy.load")
        p = os.path.join(d, "word2vec.kv")
        m.wv.save(p)
        record(p, lib, "KeyedVectors.save", "gensim KeyedVectors", "gensim:KeyedVectors.load")
        p = os.path.join(d, "word2vec.bin")
        m.wv.save_word2vec_format(p, binary=True)
        record(p, lib, "save_word2vec_format binary", "word2vec C binary format",
               "gensim:KeyedVectors.load_word2vec_format(binary=True)")
        p = os.path.join(d, "word2vec.txt")
        m.wv.save_word2vec_format(p, binary=False)
        record(p, lib, "save_word2vec_format text", "word2vec C text format",
               "gensim:KeyedVectors.load_word2vec_format(binary=False)")
        p = os.path.join(d, "word2vec_text_named.bin")
        m.wv.save_word2vec_format(p, binary=False)
        record(p, lib, "save_word2vec_format text (named .bin)", "word2vec C text format",
               "gensim:KeyedVectors.load_word2vec_format(binary=False)")
    attempt(lib, "word2vec", w2v)

    def others():
        m = FastText(corpus, **kw)
        p = os.path.join(d, "fasttext.model")
        m.save(p)
        record(p, lib, "FastText.save", "gensim FastText", "gensim:FastText.load")
        docs = [TaggedDocument(w, [i]) for i, w in enumerate(corpus)]
        m = Doc2Vec(docs, **kw)
        p = os.path.join(d, "doc2vec.model")
        m.save(p)
        record(p, lib, "Doc2Vec.save", "gensim Doc2Vec", "gensim:Doc2Vec.load")
        dct = Dictionary(corpus)
        p = os.path.join(d, "dictionary.dict")
        dct.save(p)
        record(p, lib, "Dictionary.save", "gensim corpora Dictionary", "gensim:Dictionary.load")
        bow = [dct.doc2bow(t) for t in corpus]
        tf = TfidfModel(bow)
        p = os.path.join(d, "tfidf.model")
        tf.save(p)
        record(p, lib, "TfidfModel.save", "gensim TfidfModel", "gensim:TfidfModel.load")
        lda = LdaModel(bow, num_topics=2, id2word=dct, random_state=0, passes=1)
        p = os.path.join(d, "lda.model")
        lda.save(p)
        record(p, lib, "LdaModel.save", "gensim LdaModel (main file)", "gensim:LdaModel.load")
        for f in sorted(os.listdir(d)):
            if f.startswith("lda.model.") and f != "lda.model":
                loader = "numpy.load" if f.endswith(".npy") else "pickle.load"
                record(os.path.join(d, f), lib, "LdaModel.save (side file)",
                       f"gensim LdaModel side file {f}", loader)
    attempt(lib, "others", others)
    print(f"  gensim {gensim.__version__}", flush=True)


def gen_xgboost(quick=False):
    import numpy as np
    import joblib
    import xgboost as xgb
    lib = "xgboost"
    d = outdir("xgboost")
    X, y = sklearn_data()
    clf = xgb.XGBClassifier(n_estimators=5, max_depth=2, random_state=0, n_jobs=1).fit(X, y)
    reg = xgb.XGBRegressor(n_estimators=5, max_depth=2, random_state=0, n_jobs=1).fit(X, X[:, 0])
    booster = xgb.train({"max_depth": 2, "nthread": 1}, xgb.DMatrix(X, label=y % 2), 3)
    objs = {"XGBClassifier": clf, "XGBRegressor": reg, "Booster": booster}
    for name, o in objs.items():
        def go(name=name, o=o):
            p = os.path.join(d, f"{name}.pkl")
            pdump(o, p)
            record(p, lib, "pickle.dump", f"xgboost {name}", "pickle.load")
            p = os.path.join(d, f"{name}.joblib")
            joblib.dump(o, p)
            record(p, lib, "joblib.dump", f"xgboost {name}", "joblib.load")
        attempt(lib, name, go)
    np  # noqa: B018


def gen_skorch(quick=False):
    import numpy as np
    import joblib
    import torch
    import torch.nn as nn
    from skorch import NeuralNetClassifier, NeuralNetRegressor
    torch.set_num_threads(1)
    lib = "skorch"
    d = outdir("skorch")
    X, y = sklearn_data()
    X = X.astype(np.float32)
    seed_all(0)
    clf = NeuralNetClassifier(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)),
                              criterion=nn.CrossEntropyLoss, max_epochs=2, lr=0.1, verbose=0,
                              train_split=None)
    clf.fit(X, y.astype(np.int64))
    reg = NeuralNetRegressor(nn.Sequential(nn.Linear(4, 1)), max_epochs=2, lr=0.01, verbose=0,
                             optimizer=torch.optim.Adam, train_split=None)
    reg.fit(X, X[:, :1])
    for name, o in (("NeuralNetClassifier", clf), ("NeuralNetRegressor", reg)):
        def go(name=name, o=o):
            p = os.path.join(d, f"{name}.pkl")
            pdump(o, p)
            record(p, lib, "pickle.dump", f"skorch {name} (fitted)", "pickle.load")
            p = os.path.join(d, f"{name}.joblib")
            joblib.dump(o, p)
            record(p, lib, "joblib.dump", f"skorch {name} (fitted)", "joblib.load")
            p = os.path.join(d, f"{name}.params.pt")
            po = os.path.join(d, f"{name}.optimizer.pt")
            o.save_params(f_params=p, f_optimizer=po)
            record(p, lib, "save_params f_params", f"skorch {name} module params", "torch.load")
            record(po, lib, "save_params f_optimizer", f"skorch {name} optimizer", "torch.load")
        attempt(lib, name, go)


def gen_dill(quick=False):
    import dill
    import fractions
    import datetime
    import numpy as np
    lib = "dill"
    d = outdir("dill")
    import json as _json
    import textwrap
    import collections as _c
    objs = {
        "dict_of_data": {"a": [1, 2, 3], "b": (4.5, "x"), "c": {1, 2}},
        "module_class_instance": _c.OrderedDict(a=1, b=2),
        "fraction_datetime": [fractions.Fraction(1, 3), datetime.datetime(2024, 1, 2, 3, 4, 5)],
        "class_objects": [_c.OrderedDict, fractions.Fraction, dict, slice, type(None)],
        "builtin_types": [type(None), type(Ellipsis), type(NotImplemented), slice, range],
        "partial_pow": functools.partial(pow, 2),
        "partial_json": functools.partial(_json.dumps, sort_keys=True),
        "slices": [slice(1, 5, 2), slice(None), range(3)],
        "module_functions": [_json.dumps, textwrap.dedent, functools.reduce],
        "numpy_array": np.arange(6, dtype=np.float64).reshape(2, 3),
        "numpy_object_array": np.array(["a", 1, None], dtype=object),
        "numpy_ufunc": np.log1p,
        "ellipsis_notimplemented": [Ellipsis, NotImplemented],
        "sklearn_model": None,
    }
    try:
        from sklearn.linear_model import LogisticRegression
        X, y = sklearn_data()
        objs["sklearn_model"] = LogisticRegression(max_iter=500).fit(X, y)
    except Exception as exc:
        fail(lib, "sklearn model", exc)
        del objs["sklearn_model"]
    for name, o in objs.items():
        for variant, kw in (("", {}), (".byref", {"byref": True}), (".recurse", {"recurse": True})):
            if variant and name not in ("module_class_instance", "class_objects", "partial_pow",
                                        "module_functions", "builtin_types"):
                continue
            def go(name=name, o=o, variant=variant, kw=kw):
                p = os.path.join(d, f"{name}{variant}.dill")
                with open(p, "wb") as f:
                    dill.dump(o, f, **kw)
                record(p, lib, "dill.dump" + (f" {kw}" if kw else ""), f"dill: {name}",
                       "dill.load")
            attempt(lib, name + variant, go)


# ---------------------------------------------------------------------------------------------
# Python stdlib data types (pickled by applications alongside models)

def gen_stdlib(quick=False):
    import collections.abc
    import datetime
    import decimal
    import fractions
    import uuid
    import zoneinfo
    import ipaddress
    import http
    import pathlib
    import enum
    import re
    import array
    import __future__
    lib = "stdlib"
    d = outdir("stdlib")
    objs = {
        "collections": {"od": collections.OrderedDict(a=1), "cnt": collections.Counter("hello"),
                        "dq": collections.deque([1, 2], maxlen=5),
                        "dd": collections.defaultdict(list, {"k": [1]}),
                        "nt_type": collections.ChainMap({"a": 1})},
        "collections_abc": [collections.abc.Mapping, collections.abc.Sequence,
                            collections.abc.Callable],
        "datetime_decimal": [datetime.datetime(2024, 1, 2, tzinfo=datetime.timezone.utc),
                             datetime.date(2024, 1, 2), datetime.timedelta(days=1),
                             decimal.Decimal("1.10"), fractions.Fraction(2, 3), complex(1, 2)],
        "zoneinfo": [datetime.datetime(2024, 1, 2, tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))],
        "uuid_ip": [uuid.UUID(int=12345), ipaddress.ip_address("10.1.2.3"),
                    ipaddress.ip_network("192.168.0.0/24")],
        "http_status": [http.HTTPStatus.OK, http.HTTPStatus.NOT_FOUND],
        "pathlib": [pathlib.PurePosixPath("/data/model.bin"), pathlib.PurePath("a/b")],
        "enum_re": [re.compile(r"\w+", re.I), re.IGNORECASE],
        "containers": [bytearray(b"xyz"), frozenset({1, 2}), {3, 4}, range(5), slice(1, 2),
                       array.array("f", [1.0, 2.0]), b"bytes", Ellipsis, NotImplemented],
        "builtin_functions": {"len": len, "sorted": sorted, "max": max},
        "print_callback": {"callback": print, "on_epoch": "log"},
        "future_feature": {"feature": __future__.annotations},
        "partial_len": functools.partial(len),
        "enum_member": enum.Enum("Color", "RED GREEN"),
    }
    objs.pop("enum_member")  # a dynamically created Enum cannot be pickled by reference
    for name, o in objs.items():
        for proto in (0, 2, 4, 5):
            def go(name=name, o=o, proto=proto):
                p = os.path.join(d, f"{name}.p{proto}.pkl")
                pdump(o, p, protocol=proto)
                record(p, lib, f"pickle.dump protocol {proto}", f"stdlib: {name}", "pickle.load")
            attempt(lib, f"{name} p{proto}", go)


# ---------------------------------------------------------------------------------------------
# files named like models that are not pickles (issue 15 item 10)

def gen_notpickle(quick=False):
    import torch
    import torchvision.utils as vutils
    lib = "not-pickle"
    d = outdir("notpickle")

    def png():
        seed_all(12)
        p = os.path.join(d, "image_named.pt")
        vutils.save_image(torch.rand(3, 16, 16), p, format="PNG")
        record(p, lib, "torchvision.utils.save_image(format='PNG')", "PNG image named .pt",
               "PIL.Image.open")
    attempt(lib, "png", png)


SECTIONS = {
    "torchvision": gen_torchvision, "torch": gen_torch, "sklearn": gen_sklearn,
    "pandas": gen_pandas, "scipy": gen_scipy, "numpy": gen_numpy,
    "statsmodels": gen_statsmodels, "networkx": gen_networkx, "sympy": gen_sympy,
    "nltk": gen_nltk, "gensim": gen_gensim, "xgboost": gen_xgboost, "skorch": gen_skorch,
    "dill": gen_dill, "stdlib": gen_stdlib, "notpickle": gen_notpickle,
}


def versions():
    out = {"python": sys.version.split()[0]}
    for m in ("torch", "torchvision", "sklearn", "pandas", "scipy", "numpy", "joblib",
              "statsmodels", "networkx", "sympy", "nltk", "gensim", "xgboost", "skorch", "dill"):
        try:
            out[m] = __import__(m).__version__
        except Exception as exc:  # noqa: BLE001
            out[m] = f"unavailable: {exc}"
    return out


def main():
    global OUT
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--only", nargs="*", choices=sorted(SECTIONS), help="sections to generate")
    ap.add_argument("--quick", action="store_true", help="a few items per section (smoke test)")
    args = ap.parse_args()
    OUT = os.path.abspath(args.outdir)
    os.makedirs(OUT, exist_ok=True)
    sections = args.only or list(SECTIONS)
    man_path = os.path.join(OUT, "manifest.json")
    timings = {}
    t_all = time.time()
    old = []
    if args.only and os.path.exists(man_path):
        with open(man_path) as f:
            old = [e for e in json.load(f)["files"] if e["path"].split("/")[0] not in
                   {SECTION_DIRS.get(s, s) for s in sections}]
    for s in sections:
        t0 = time.time()
        print(f"== {s}", flush=True)
        try:
            SECTIONS[s](quick=args.quick)
        except Exception as exc:  # noqa: BLE001
            fail(s, "section", exc)
            traceback.print_exc()
        timings[s] = round(time.time() - t0, 1)
    files = sorted(old + MANIFEST, key=lambda e: e["path"])
    with open(man_path, "w") as f:
        json.dump({"generator": "bench/realworld/generate.py", "versions": versions(),
                   "files": files}, f, indent=1, sort_keys=True)
    with open(os.path.join(OUT, "generate-log.json"), "w") as f:
        json.dump({"sections": sections, "seconds": timings,
                   "total_seconds": round(time.time() - t_all, 1), "failures": FAILURES,
                   "skipped": SKIPPED, "files_written": len(MANIFEST)}, f, indent=1)
    print(f"wrote {len(MANIFEST)} files ({len(files)} in manifest), {len(FAILURES)} failures, "
          f"{time.time() - t_all:.0f} s", flush=True)


SECTION_DIRS = {"notpickle": "notpickle"}

if __name__ == "__main__":
    main()
