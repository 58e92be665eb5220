#!/usr/bin/python3
"""Copy a small representative subset of a generate.py output to bench/realworld/subset/.

    python3 bench/realworld/make_subset.py OUTDIR [--mscan PATH]

Needs OUTDIR/manifest.json (generate.py); OUTDIR/loadcheck.json (loadcheck.py) is read when
present. Each chosen file covers one or more of the false-alarm causes of issue 15 (items 1-10).
subset.json records, for each file, where it came from (library, save method, object, loader),
which causes it covers, what the real loader did, and what mscan says about it today (worst
severity and the rule id + subject of every finding at medium or above), with mscan's commit.
The files are small (< 200 KB each) and benign: written by the real libraries and loaded by them
without a dangerous event. They are NOT samples or goldens (the engineers fixing the causes add
those).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_BYTES = 200 * 1024

# (path in OUTDIR, issue 15 items it covers, note)
CHOSEN = [
    ("torch/modules/mlp.module.legacy.pt", [1], "legacy whole module: persistent id ('module', cls, ...)"),
    ("torch/modules/tv_tiny_vit.module.legacy.pt", [1, 4], "legacy ViT: module classes + partial(LayerNorm) norm_layer"),
    ("torch/optim/checkpoint.SGD.OneCycleLR.pt", [2], "OneCycleLR state keeps a bound method (getattr)"),
    ("torch/optim/checkpoint.Adam.OneCycleLR.pt", [2], "OneCycleLR with Adam (betas cycling)"),
    ("scipy/dist_norm_frozen.pkl", [2, 8], "scipy frozen distribution: getattr(<instance>, '_entropy'...), scipy.stats classes"),
    ("torch/misc/tensor.pickle.p2.pkl", [3], "pickle of tensors, protocol 2: _load_from_bytes(_codecs.encode(str, 'latin1'))"),
    ("torch/misc/tensor.pickle.p4.pkl", [3], "pickle of tensors, protocol 4: _load_from_bytes(bytes)"),
    ("torch/modules/tv_tiny_vit.module.pt", [4], "zip whole ViT: functools.partial(torch.nn.LayerNorm, eps=1e-6)"),
    ("stdlib/partial_len.p2.pkl", [4, 8], "Python's own protocol-2 partial (copyreg reconstructor) of builtins.len"),
    ("dill/class_objects.dill", [5], "dill: _load_type('slice'), _load_type('NoneType') and classes by reference"),
    # (not dill/slices.dill: dill rebuilds a range with _eval_repr, an eval() of text from the
    # file, which loadcheck.py reports; mscan's CRITICAL there is right)
    ("dill/numpy_array.dill", [5], "dill: _create_array"),
    ("dill/builtin_types.dill", [5], "dill: _load_type of NoneType, ellipsis, NotImplementedType, ..."),
    ("skorch/NeuralNetClassifier.pkl", [6, 9], "skorch net: torch.save zip bytes inside the pickle; builtins.print callback"),
    ("sklearn/LogisticRegression.strlabels.joblib", [7], "joblib array of '<U10' string labels"),
    ("sklearn/RandomForestClassifier.strlabels.z3.joblib", [7], "compressed joblib, string labels, many arrays"),
    ("torch/quantization/dynamic_qint8_mlp.module.pt", [8], "torch.ao.nn.quantized.dynamic Linear, LinearPackedParams, ScriptObject"),
    ("torch/quantization/static_int8_conv.module.pt", [8], "quantized conv, Quantize/DeQuantize, intrinsic fused modules"),
    ("torch/quantization/float_functional.module.pt", [8], "FloatFunctional, QFunctional"),
    ("torch/misc/distributions.pt", [8], "torch.distributions objects"),
    ("torch/modules/pruned_mlp.module.pt", [8], "torch.nn.utils.prune hooks"),
    ("pandas/period_interval.pkl", [8], "pandas _libs unpicklers (Interval, Period)"),
    ("numpy/ufuncs.p4.pkl", [8], "numpy ufuncs stored as values (log1p, exp)"),
    ("numpy/dtypes.p4.pkl", [8], "numpy dtypes and numpy.number"),
    ("sklearn/GridSearchCV-StratifiedKFold.pkl", [8], "sklearn GridSearchCV with StratifiedKFold"),
    ("sklearn/HalvingGridSearchCV-LogReg.pkl", [8], "sklearn HalvingGridSearchCV"),
    ("sklearn/IterativeImputer-nan.pkl", [8], "sklearn IterativeImputer"),
    ("sklearn/TransformedTargetRegressor-log1p.joblib", [8], "sklearn with numpy ufuncs log1p/expm1 stored"),
    ("statsmodels/OLS.results.pickle", [8], "statsmodels OLS results"),
    ("networkx/karate.p4.pkl", [8], "networkx Graph"),
    ("sympy/polynomial.p4.pkl", [8], "sympy expression"),
    ("sympy/polynomial.p2.pkl", [4, 8], "sympy expression, protocol 2"),
    ("nltk/FreqDist.pickle", [8], "nltk FreqDist"),
    ("gensim/word2vec.model", [8], "gensim Word2Vec (builtins.hash stored)"),
    ("scipy/KDTree.pkl", [8], "scipy.spatial KDTree"),
    ("scipy/CubicSpline.pkl", [8], "scipy.interpolate CubicSpline"),
    ("stdlib/collections_abc.p4.pkl", [8], "collections.abc classes"),
    ("stdlib/zoneinfo.p4.pkl", [8], "zoneinfo.ZoneInfo"),
    ("stdlib/uuid_ip.p4.pkl", [8], "uuid, ipaddress"),
    ("stdlib/http_status.p4.pkl", [8], "http.HTTPStatus"),
    ("stdlib/future_feature.p4.pkl", [8], "__future__._Feature"),
    ("stdlib/builtin_functions.p4.pkl", [8, 9], "builtins.len/sorted/max stored as values"),
    ("stdlib/print_callback.p4.pkl", [9], "builtins.print stored as a callback, never called"),
    ("sympy/trig_exp.p4.pkl", [8], "sympy exp/sin/cos of symbols (constructors that sympify their arguments)"),
    ("sympy/trig_exp.p2.pkl", [4, 8], "sympy functions, protocol 2 (Symbol.__new__ through functools.partial)"),
    ("sympy/matrix.p4.pkl", [8], "sympy MutableDenseMatrix: __setstate__ with a DomainMatrix of SDM dicts"),
    ("sympy/numbers.p2.pkl", [8], "sympy Float.__new__ with an mpf tuple holding a hex string, Rational"),
    ("sympy/sum.p4.pkl", [8], "sympy Sum with limits (Tuple)"),
    ("torch/quantization/dynamic_qint8_mlp.torchscript.pt", [8], "scripted dynamic-quantized MLP: LinearPackedParams' scripted __setstate__"),
    ("notpickle/image_named.pt", [10], "a PNG named .pt"),
    ("gensim/word2vec_text_named.bin", [10], "gensim text word2vec format named .bin"),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--mscan", default=os.path.join(HERE, "..", "..", "build", "mscan"))
    args = ap.parse_args()
    out = os.path.abspath(args.outdir)
    with open(os.path.join(out, "manifest.json")) as f:
        man = {e["path"]: e for e in json.load(f)["files"]}
    lc = {}
    for lc_name in sorted(os.listdir(out)):
        if lc_name.startswith("loadcheck") and lc_name.endswith(".json"):
            with open(os.path.join(out, lc_name)) as f:
                lc.update(json.load(f)["files"])
    dest = os.path.join(HERE, "subset")
    # What mscan said about a file when it joined the subset is history: keep it.
    earlier = {}
    if os.path.exists(os.path.join(dest, "subset.json")):
        with open(os.path.join(dest, "subset.json")) as f:
            old = json.load(f)
        earlier = {x["file"]: (x["mscan_today"], x.get("mscan_commit", old["mscan_commit"]))
                   for x in old["files"]}
    if os.path.isdir(dest):
        shutil.rmtree(dest)
    os.makedirs(dest)
    entries = []
    for path, items, note in CHOSEN:
        e = man.get(path)
        if e is None:
            sys.exit(f"{path}: not in the manifest")
        src = os.path.join(out, path)
        size = os.path.getsize(src)
        if size > MAX_BYTES:
            sys.exit(f"{path}: {size} bytes, over {MAX_BYTES}")
        name = path.replace("/", "__")
        shutil.copyfile(src, os.path.join(dest, name))
        entries.append({"file": name, "from": path, "size": size, "covers": items, "note": note,
                        "library": e["library"], "method": e["method"], "object": e["object"],
                        "loader": e["loader"],
                        "loader_result": lc.get(path, {}).get("status", "not checked")})
    mscan = os.path.abspath(args.mscan)
    names = [x["file"] for x in entries]
    p = subprocess.run([mscan, "--format", "json", "--no-config", "-j2", "--fail-on", "medium"]
                       + names, cwd=dest, capture_output=True)
    report = json.loads(p.stdout)
    status = {fe["path"]: fe["status"] for fe in report["files"]}
    sev = ["info", "low", "medium", "high", "critical"]
    commit = subprocess.run(["git", "-C", HERE, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    for x in entries:
        if x["file"] in earlier:
            x["mscan_today"], x["mscan_commit"] = earlier[x["file"]]
            continue
        x["mscan_commit"] = commit
        fl = [f for f in report["findings"] if f["location"]["path"] == x["file"]]
        worst = max((sev.index(f["severity"]) for f in fl), default=-1)
        x["mscan_today"] = {
            "status": status.get(x["file"]),
            "worst": sev[worst] if worst >= 0 else None,
            "fails_default_gate": worst >= 2,
            "findings_medium_plus": sorted({f"{f['severity'].upper()} {f['rule_id']} {f['subject']}"
                                            for f in fl if sev.index(f["severity"]) >= 2}),
        }
    version = subprocess.run([mscan, "--version"], capture_output=True, text=True).stdout.strip()
    covered = sorted({i for x in entries for i in x["covers"]})
    with open(os.path.join(dest, "subset.json"), "w") as f:
        json.dump({"about": "Benign files written by real libraries (bench/realworld/generate.py), "
                            "one or more per false-alarm cause of issue 15 (items 1-10). "
                            "mscan_today is mscan's verdict when the file joined the subset "
                            "(at mscan_commit).",
                   "mscan": version, "mscan_commit": commit, "causes_covered": covered,
                   "files": entries}, f, indent=1)
        f.write("\n")
    failing_now = sum(
        1 for x in entries
        if any(f["location"]["path"] == x["file"] and sev.index(f["severity"]) >= 2
               for f in report["findings"]))
    print(f"{len(entries)} files copied to {dest}; causes covered {covered}; "
          f"{failing_now} fail the default gate with this mscan")


if __name__ == "__main__":
    main()
