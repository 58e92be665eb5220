#!/usr/bin/python3
"""Write benign pickles produced by the real ML libraries, for mscan's corpus.

Run with Debian's Python, which has python3-torch, torchvision, sklearn,
xgboost, pandas, scipy and numpy installed:

    /usr/bin/python3 samples/make_real_samples.py

This script only CREATES objects and SERIALISES them (pickle.dumps,
torch.save). It never loads a pickle: the torch data.pkl members are copied
out of the zip archive as raw bytes with zipfile, and the only check run on
the output is pickletools.dis, which disassembles without executing.

Outputs (every file well under 300 KB):
    samples/pickle/real/*.pkl   benign pickles, one per library object and protocol
    samples/pickle/real/versions.txt   library versions that wrote them
    samples/torch/*.pt          two complete torch.save zip archives (tiny models)

and the matching entries of samples/manifest.json (other entries are kept).
Seeds are fixed, PYTHONHASHSEED is pinned (set ordering inside pickles) and
every library runs single-threaded, so a rerun with the same library versions
writes the same bytes.
"""

import os
import sys

if os.environ.get("PYTHONHASHSEED") != "0" or os.environ.get("OMP_NUM_THREADS") != "1":
    # String hashing decides set order inside pickles; thread counts can change
    # floating-point reductions. Pin both, then start again.
    os.environ["PYTHONHASHSEED"] = "0"
    os.environ["OMP_NUM_THREADS"] = "1"
    os.execv(sys.executable, [sys.executable] + sys.argv)

import argparse  # noqa: E402
import io  # noqa: E402
import pickle  # noqa: E402  (pickle.dumps only; nothing is ever loaded)
import pickletools  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import zipfile  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

SAMPLES = Path(__file__).resolve().parent
ROOT = SAMPLES.parent
REAL = SAMPLES / "pickle" / "real"
TORCH_DIR = SAMPLES / "torch"
MAX_BYTES = 300 * 1024
MEDIUM_PLUS = "*medium+"

sys.path.insert(0, str(SAMPLES))
from make_samples import update_manifest  # noqa: E402

ENTRIES = []


def record(path, data, description):
    """Write one benign sample and remember its manifest entry."""
    if len(data) >= MAX_BYTES:
        raise SystemExit(f"{path.name} is {len(data)} bytes; keep samples under {MAX_BYTES}")
    path.write_bytes(data)
    ENTRIES.append({"path": path.relative_to(ROOT).as_posix(), "kind": "benign",
                    "description": description, "expect": [], "forbid": [MEDIUM_PLUS]})
    print(f"{path.relative_to(ROOT).as_posix():55} {len(data):7} B")


def check_pickle(name, data):
    """pickletools.dis only reads opcodes; it never imports or calls."""
    try:
        pickletools.dis(data, out=io.StringIO(), indentlevel=0)
    except Exception as exc:
        raise SystemExit(f"{name}: pickletools.dis failed: {exc}")


def dump(name, obj, protocols, description):
    for proto in protocols:
        data = pickle.dumps(obj, protocol=proto)
        check_pickle(name, data)
        record(REAL / f"{name}_p{proto}.pkl", data,
               f"{description} (pickle.dumps, protocol {proto})")


def torch_archive(obj):
    """torch.save(obj) into memory: (zip bytes, the data.pkl member's bytes)."""
    import torch
    buf = io.BytesIO()
    torch.save(obj, buf)  # writes records under 'archive/'
    zbytes = buf.getvalue()
    with zipfile.ZipFile(io.BytesIO(zbytes)) as zf:
        members = [n for n in zf.namelist() if n.endswith("/data.pkl")]
        if len(members) != 1:
            raise SystemExit(f"expected one data.pkl in the torch archive, got {members}")
        data = zf.read(members[0])  # raw bytes; not unpickled
    check_pickle("data.pkl", data)
    return zbytes, data


def make_torch():
    import torch
    import torchvision
    torch.manual_seed(0)
    torch.set_num_threads(1)

    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(),
                                torch.nn.Linear(8, 2))
    zsd, sd_pkl = torch_archive(model.state_dict())
    record(REAL / "torch_state_dict.pkl", sd_pkl,
           "archive/data.pkl of torch.save(nn.Sequential(Linear, ReLU, Linear)"
           ".state_dict())")
    (TORCH_DIR / "torch_state_dict.pt").write_bytes(zsd)

    module = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2),
                                 torch.nn.ReLU(), torch.nn.Flatten(),
                                 torch.nn.Linear(8, 3), torch.nn.Dropout(0.1))
    zmod, mod_pkl = torch_archive(module)
    record(REAL / "torch_module.pkl", mod_pkl,
           "archive/data.pkl of torch.save(whole nn.Sequential of Conv2d, "
           "BatchNorm2d, ReLU, Flatten, Linear, Dropout)")
    (TORCH_DIR / "torch_module.pt").write_bytes(zmod)

    _, resnet_pkl = torch_archive(torchvision.models.resnet18(weights=None))
    record(REAL / "torchvision_resnet18_meta.pkl", resnet_pkl,
           "archive/data.pkl of torch.save(torchvision.models.resnet18("
           "weights=None)) (structure and storage references only)")

    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    x = torch.randn(5, 4)
    loss = model(x).pow(2).mean()
    loss.backward()
    opt.step()
    sched.step()
    _, opt_pkl = torch_archive({"optimizer": opt.state_dict(),
                                "scheduler": sched.state_dict()})
    record(REAL / "torch_optimizer.pkl", opt_pkl,
           "archive/data.pkl of torch.save({'optimizer': Adam.state_dict() after "
           "one step, 'scheduler': StepLR.state_dict()})")

    ckpt = {"epoch": 3, "model": model.state_dict(), "optimizer": opt.state_dict(),
            "args": argparse.Namespace(lr=0.1, name="x")}
    _, ckpt_pkl = torch_archive(ckpt)
    record(REAL / "torch_checkpoint_namespace.pkl", ckpt_pkl,
           "archive/data.pkl of a training checkpoint {'epoch', 'model' "
           "state_dict, 'optimizer' state_dict, 'args': argparse.Namespace}")
    return {"torch": torch.__version__, "torchvision": torchvision.__version__}


def make_sklearn():
    import sklearn
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 4))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    protos = (4, 5)

    dump("sklearn_logreg", LogisticRegression(max_iter=200).fit(X, y), protos,
         "sklearn LogisticRegression fitted on 40x4 data")
    pipe = Pipeline([("scale", StandardScaler()), ("pca", PCA(n_components=3)),
                     ("rf", RandomForestClassifier(n_estimators=3, max_depth=3,
                                                   random_state=0))]).fit(X, y)
    dump("sklearn_pipeline", pipe, protos,
         "sklearn Pipeline(StandardScaler, PCA, RandomForestClassifier(3 trees, depth 3))")
    dump("sklearn_svc", SVC(kernel="rbf", C=1.0).fit(X, y), protos,
         "sklearn SVC(rbf) fitted on 40x4 data")
    dump("sklearn_kmeans", KMeans(n_clusters=3, n_init=3, random_state=0).fit(X),
         protos, "sklearn KMeans(3 clusters)")
    docs = ["the model file is a pickle", "scanners read pickles without loading",
            "a tiny corpus for tf idf", "safe models load no code",
            "the pickle names globals"]
    dump("sklearn_tfidf", TfidfVectorizer(min_df=1, max_df=0.9).fit(docs), protos,
         "sklearn TfidfVectorizer fitted on five sentences (vocabulary dict, "
         "stop_words_ set)")
    return {"scikit-learn": sklearn.__version__}


def make_others():
    import pandas as pd
    import scipy
    import scipy.sparse
    import xgboost

    rng = np.random.RandomState(0)
    X = rng.normal(size=(20, 3))
    y = (X[:, 0] > 0).astype(int)
    clf = xgboost.XGBClassifier(n_estimators=3, max_depth=2, learning_rate=0.3,
                                n_jobs=1, random_state=0, tree_method="exact")
    clf.fit(X, y)
    dump("xgboost_classifier", clf, (2, 4), "xgboost XGBClassifier(3 trees) fitted on 20 rows")

    df = pd.DataFrame({
        "id": np.arange(6, dtype=np.int64),
        "score": np.linspace(0.0, 1.0, 6),
        "name": ["a", "b", "c", "d", "e", "f"],
        "when": pd.date_range("2024-01-01", periods=6, freq="D"),
        "when_tz": pd.date_range("2024-01-01", periods=6, freq="H", tz="UTC"),
        "kind": pd.Categorical(["x", "y", "x", "z", "y", "x"]),
        "flag": [True, False, True, True, False, False],
    })
    dump("pandas_dataframe", df, (2, 4),
         "pandas DataFrame with int, float, str, datetime64, tz-aware datetime, "
         "categorical and bool columns")

    csr = scipy.sparse.csr_matrix(np.array([[0, 1.5, 0], [2.0, 0, 0], [0, 0, 3.25]]))
    dump("scipy_csr", csr, (2, 4), "scipy.sparse.csr_matrix 3x3")

    structured = np.zeros(3, dtype=[("x", "<f4"), ("y", "<i2"), ("tag", "S8")])
    structured["x"] = [1.0, 2.0, 3.0]
    structured["y"] = [-1, 0, 1]
    structured["tag"] = [b"a", b"bb", b"ccc"]
    arrays = {
        "float32": np.arange(12, dtype=np.float32).reshape(3, 4),
        "float64_fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        "int64": np.array([-(2 ** 40), 0, 2 ** 40], dtype=np.int64),
        "uint8": np.arange(16, dtype=np.uint8),
        "bool": np.array([True, False, True]),
        "complex128": np.array([1 + 2j, -3.5j]),
        "float16_be": np.array([1.0, 2.5], dtype=">f2"),
        "datetime64": np.array(["2024-01-01", "2024-06-30"], dtype="datetime64[D]"),
        "unicode": np.array(["alpha", "beta"]),
        "structured": structured,
        "scalar": np.float64(2.5),
    }
    dump("numpy_arrays", arrays, (2, 4),
         "dict of numpy arrays: float32, Fortran-order float64, int64, uint8, bool, "
         "complex128, big-endian float16, datetime64, unicode, structured dtype, "
         "a numpy scalar")
    return {"xgboost": xgboost.__version__, "pandas": pd.__version__,
            "scipy": scipy.__version__}


def main():
    random.seed(0)
    np.random.seed(0)
    shutil.rmtree(REAL, ignore_errors=True)
    REAL.mkdir(parents=True)
    shutil.rmtree(TORCH_DIR, ignore_errors=True)
    TORCH_DIR.mkdir(parents=True)
    versions = {"python": sys.version.split()[0], "numpy": np.__version__}
    versions.update(make_torch())
    versions.update(make_sklearn())
    versions.update(make_others())
    (REAL / "versions.txt").write_text(
        "".join(f"{k} {v}\n" for k, v in sorted(versions.items())), encoding="utf-8")
    for pt in sorted(TORCH_DIR.glob("*.pt")):
        print(f"{pt.relative_to(ROOT).as_posix():55} {pt.stat().st_size:7} B  (zip, not in manifest)")
    update_manifest(ENTRIES, ["samples/pickle/real/"])
    print(f"wrote {len(ENTRIES)} real pickles and "
          f"{len(list(TORCH_DIR.glob('*.pt')))} torch archives")


if __name__ == "__main__":
    main()
