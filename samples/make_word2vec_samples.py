#!/usr/bin/python3
"""Write the word2vec samples (samples/word2vec/) and their manifest entries.

word2vec vectors as gensim writes them (KeyedVectors.save_word2vec_format, binary and text;
python3-gensim, so run with /usr/bin/python3), a text file named .bin, and a polyglot: binary
vectors with a zip archive appended whose member is a pickle calling posix.system (assembled
from raw opcodes; nothing is ever unpickled or loaded). Deterministic: fixed vectors.

    /usr/bin/python3 samples/make_word2vec_samples.py

Then refresh the goldens: MSCAN_UPDATE_GOLDEN=1 build/tests/mscan_tests "golden*"
"""

from __future__ import annotations

import io
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np
from gensim.models import KeyedVectors

from make_samples import MEDIUM_PLUS, ROOT, update_manifest

OUT = Path(__file__).resolve().parent / "word2vec"
GROUP = "word2vec"
CMD = b"echo mscan-sample"
PAYLOAD = b"\x80\x02cposix\nsystem\n\x8c" + bytes([len(CMD)]) + CMD + b"\x85R."
WORDS = ["the", "model", "scanner", "vector", "word", "loader", "pickle", "zip"]


def vectors(binary: bool) -> bytes:
    kv = KeyedVectors(vector_size=16)
    values = np.arange(len(WORDS) * 16, dtype=np.float32).reshape(len(WORDS), 16) / 64.0
    kv.add_vectors(WORDS, values)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "v"
        kv.save_word2vec_format(str(path), binary=binary)
        return path.read_bytes()


def with_zip(data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("archive/data.pkl", (2024, 1, 1, 0, 0, 0)), PAYLOAD)
    return data + buf.getvalue()


SAMPLES = [
    ("benign", "vectors.bin", "word2vec binary vectors written by gensim "
     "(save_word2vec_format(binary=True)): numbers and words, nothing runs on load",
     [], lambda: vectors(True)),
    ("benign", "vectors.txt", "word2vec text vectors written by gensim "
     "(save_word2vec_format(binary=False))", [], lambda: vectors(False)),
    ("benign", "text_vectors_named.bin", "word2vec text vectors under a .bin name, which "
     "gensim reads with binary=False", [], lambda: vectors(False)),
    ("hostile", "vectors_with_zip.bin", "word2vec binary vectors with a zip archive appended "
     "whose archive/data.pkl calls posix.system: the appended archive is scanned too",
     ["process-execution"], lambda: with_zip(vectors(True))),
]


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    entries = []
    for kind, name, description, expect, builder in SAMPLES:
        path = OUT / kind / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(builder())
        entries.append({"path": path.relative_to(ROOT).as_posix(), "kind": kind,
                        "group": GROUP, "description": description, "expect": expect,
                        "forbid": [] if kind == "hostile" else [MEDIUM_PLUS]})
    update_manifest(entries, ["samples/word2vec/"])
    print(f"wrote {len(entries)} samples under {OUT}")


if __name__ == "__main__":
    main()
