#!/usr/bin/env python3
"""Write mscan's samples of code shipped beside weights (samples/code/) and their manifest
entries: transformers configs whose auto_map / custom_pipelines make from_pretrained run the
repo's Python, sentence-transformers modules.json, TorchServe .mar archives, NeMo .nemo
bundles, native executables and a llamafile-shaped file.

The Python files written here are a few harmless lines (class definitions and a print); they
are never imported. Pickles are assembled by make_samples.py and never unpickled. The
executables are headers only (not runnable). Stdlib only:

    python3 samples/make_code_samples.py

Then refresh the goldens: MSCAN_UPDATE_GOLDEN=1 build/tests/mscan_tests "golden*"
"""

from __future__ import annotations

import io
import json
import shutil
import struct
import tarfile
import zipfile
from pathlib import Path

from make_samples import CMD, MEDIUM_PLUS, call, dumps, torch_state_dict, update_manifest

SAMPLES = Path(__file__).resolve().parent
OUT = SAMPLES / "code"
PREFIX = "samples/code/"
DATE = (2024, 1, 1, 0, 0, 0)
MTIME = 1704067200
ENTRIES = []

HARMLESS_PY = (
    '"""mscan sample: a stand-in for code a model repo ships. Never imported by mscan."""\n'
    "\n"
    "\n"
    "class {name}:\n"
    "    def __init__(self, *args, **kwargs):\n"
    "        print('mscan-sample')\n"
)


def add(path: Path, kind: str, description: str, expect, forbid=()):
    ENTRIES.append({
        "path": path.relative_to(SAMPLES.parent).as_posix(),
        "kind": kind,
        "group": "code",
        "description": description,
        "expect": list(expect),
        "forbid": list(forbid),
    })


def write(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def write_json(path: Path, obj) -> Path:
    return write(path, json.dumps(obj, indent=2) + "\n")


def zip_bytes(members) -> bytes:
    """A stored zip (as TorchServe and llamafile write theirs); members: (name, bytes)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=DATE)
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return buf.getvalue()


def tar_bytes(members) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), MTIME, 0o644
            info.uname = info.gname = "root"
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def torch_checkpoint(pkl: bytes) -> bytes:
    """A torch.save zip as a third-party writer would lay it out (stored members)."""
    return zip_bytes([("archive/data.pkl", pkl), ("archive/byteorder", b"little"),
                      ("archive/data/0", bytes(16)), ("archive/data/1", bytes(8)),
                      ("archive/version", b"3\n")])


HOSTILE_PICKLE = dumps(call("posix", "system", CMD), 2)


CHATML_TEMPLATE = (
    "{%- if tools %}{{- '<|im_start|>system\\n' }}"
    "{%- if messages[0]['role'] == 'system' %}{{- messages[0]['content'] }}{%- endif %}"
    "{{- '\\n\\n# Tools\\n<tools>' }}{%- for tool in tools %}{{- '\\n' }}"
    "{{- tool | tojson }}{%- endfor %}{{- '\\n</tools><|im_end|>\\n' }}{%- endif %}"
    "{%- set ns = namespace(last_user=0) %}"
    "{%- for message in messages %}"
    "{%- if message.role == 'user' %}{%- set ns.last_user = loop.index0 %}{%- endif %}"
    "{%- if message.role == 'assistant' and message.tool_calls %}"
    "{{- '<|im_start|>assistant\\n' + (message.content or '') }}"
    "{%- for call in message.tool_calls %}{{- '<tool_call>' + call.function.name + ' ' }}"
    "{{- call.function.arguments | tojson }}{{- '</tool_call>' }}{%- endfor %}"
    "{{- '<|im_end|>\\n' }}"
    "{%- else %}{{- '<|im_start|>' + message.role + '\\n' + message.content | trim + "
    "'<|im_end|>\\n' }}{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)
HOSTILE_TEMPLATE = (
    "{% for message in messages %}{{ message.content }}{% endfor %}"
    "{{ cycler.__init__.__globals__.os.popen('" + CMD + "').read() }}"
)


def transformers_samples():
    d = OUT / "transformers"
    # A repo with its own model code, as trust_remote_code models ship it.
    r = d / "remote_code"
    add(write_json(r / "config.json", {
        "architectures": ["DemoForCausalLM"],
        "auto_map": {
            "AutoConfig": "configuration_demo.DemoConfig",
            "AutoModelForCausalLM": "modeling_demo.DemoForCausalLM",
        },
        "hidden_size": 64,
        "model_type": "demo",
        "torch_dtype": "float32",
        "transformers_version": "4.46.0",
    }), "hostile", "transformers config.json whose auto_map makes from_pretrained("
        "trust_remote_code=True) run configuration_demo.py and modeling_demo.py, both beside it",
        ["hf-remote-code"])
    write(r / "configuration_demo.py", HARMLESS_PY.format(name="DemoConfig"))
    write(r / "modeling_demo.py", HARMLESS_PY.format(name="DemoForCausalLM"))
    add(write_json(r / "tokenizer_config.json", {
        "auto_map": {"AutoTokenizer": ["tokenization_demo.DemoTokenizer", None]},
        "bos_token": "<s>",
        "eos_token": "</s>",
        "model_max_length": 2048,
        "tokenizer_class": "DemoTokenizer",
    }), "hostile", "tokenizer_config.json whose auto_map names tokenization_demo.py, which is "
        "NOT in the folder (the slow/fast pair form, fast null)", ["hf-remote-code"])

    add(write_json(d / "other_repo" / "config.json", {
        "auto_map": {"AutoModel": "mscan-samples/shared-code--modeling_demo.DemoModel"},
        "model_type": "demo",
    }), "hostile", "auto_map entry 'org/name--module.Class': transformers fetches the module "
        "from ANOTHER repo at its current revision", ["hf-remote-code-external"])
    add(write_json(d / "absolute_module" / "config.json", {
        "auto_map": {"AutoModel": "/tmp/modeling_demo.DemoModel"},
        "model_type": "demo",
    }), "hostile", "auto_map module given as an absolute path: os.path.join puts it outside "
        "the model's folder", ["hf-remote-code-external"])
    add(write_json(d / "custom_pipeline" / "config.json", {
        "architectures": ["BertForSequenceClassification"],
        "custom_pipelines": {
            "demo-classification": {
                "impl": "pipeline_demo.DemoPipeline",
                "pt": ["AutoModelForSequenceClassification"],
                "tf": [],
                "type": "text",
            }
        },
        "model_type": "bert",
    }), "hostile", "config.json custom_pipelines entry: pipeline(trust_remote_code=True) runs "
        "pipeline_demo.py", ["hf-remote-code"])
    write(d / "custom_pipeline" / "pipeline_demo.py", HARMLESS_PY.format(name="DemoPipeline"))
    cut = '{"auto_map": {"AutoModel": "modeling_demo.DemoModel"}, "model_type": '
    add(write(d / "malformed" / "config.json", cut),
        "anomaly", "config.json with an auto_map, cut in the middle: the entry before the cut "
        "is still reported, and a file transformers opens by name that does not parse is high",
        ["hf-config-unreadable", "hf-remote-code"])
    add(write(d / "malformed" / "exported_settings.json", cut),
        "anomaly", "the same cut config under a name no loader opens by itself: recognised by "
        "its auto_map key, its break is low", ["hf-config-malformed", "hf-remote-code"])

    # Chat templates in tokenizer configs and in chat_template.jinja (transformers >= 4.50).
    t = d / "chat_template"
    add(write_json(t / "benign" / "tokenizer_config.json", {
        "bos_token": "<|im_start|>",
        "chat_template": CHATML_TEMPLATE,
        "eos_token": "<|im_end|>",
        "model_max_length": 32768,
        "tokenizer_class": "Qwen2Tokenizer",
    }), "benign", "tokenizer_config.json with an ordinary ChatML chat template (tool calls, "
        "namespace, loop variables)", [], [MEDIUM_PLUS])
    add(write(t / "benign" / "chat_template.jinja", CHATML_TEMPLATE), "benign",
        "chat_template.jinja file with the same ordinary ChatML template", [], [MEDIUM_PLUS])
    add(write_json(t / "hostile" / "tokenizer_config.json", {
        "chat_template": [
            {"name": "default", "template": CHATML_TEMPLATE},
            {"name": "tool_use", "template": HOSTILE_TEMPLATE},
        ],
        "eos_token": "<|im_end|>",
    }), "hostile", "tokenizer_config.json whose named tool_use template reaches os.popen "
        "through cycler.__init__.__globals__ (CVE-2024-34359 shape)", ["chat-template-injection"])
    add(write(t / "hostile" / "chat_template.jinja", HOSTILE_TEMPLATE), "hostile",
        "chat_template.jinja reaching os.popen through cycler.__init__.__globals__",
        ["chat-template-injection"])

    st = d / "sentence_transformers"
    add(write_json(st / "benign" / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling",
         "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize",
         "type": "sentence_transformers.models.Normalize"},
    ]), "benign", "sentence-transformers modules.json with only its own module types",
        [], [MEDIUM_PLUS])
    add(write_json(st / "custom" / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "custom_st.DemoEncoder"},
        {"idx": 1, "name": "1", "path": "1_Pooling",
         "type": "sentence_transformers.models.Pooling"},
    ]), "hostile", "sentence-transformers modules.json naming a module type from the repo's "
        "own custom_st.py", ["hf-remote-code"])
    write(st / "custom" / "custom_st.py", HARMLESS_PY.format(name="DemoEncoder"))


def manifest_json(handler, model_file=None, requirements=None):
    model = {"modelName": "demo", "serializedFile": "model.pt", "handler": handler,
             "modelVersion": "1.0"}
    if model_file:
        model["modelFile"] = model_file
    if requirements:
        model["requirementsFile"] = requirements
    return json.dumps({"createdOn": "01/01/2024 00:00:00", "runtime": "python",
                       "model": model, "archiverVersion": "0.12.0"}, indent=4).encode()


def torchserve_samples():
    d = OUT / "torchserve"
    benign_ckpt = torch_checkpoint(torch_state_dict())
    add(write(d / "builtin_handler.mar", zip_bytes([
        ("MAR-INF/MANIFEST.json", manifest_json("image_classifier")),
        ("model.pt", benign_ckpt),
        ("index_to_name.json", b'{"0": "cat", "1": "dog"}'),
    ])), "benign", "TorchServe .mar with a built-in handler and a benign torch checkpoint",
        [], [MEDIUM_PLUS])
    add(write(d / "custom_handler.mar", zip_bytes([
        ("MAR-INF/MANIFEST.json",
         manifest_json("handler.py", model_file="model.py", requirements="requirements.txt")),
        ("handler.py", HARMLESS_PY.format(name="DemoHandler").encode()),
        ("model.py", HARMLESS_PY.format(name="DemoModel").encode()),
        ("requirements.txt", b"numpy\n"),
        ("model.pt", benign_ckpt),
    ])), "hostile", "TorchServe .mar whose manifest names a custom handler.py, a model.py and a "
        "requirements file", ["torchserve-code", "torchserve-requirements"])
    add(write(d / "hostile_weights.mar", zip_bytes([
        ("MAR-INF/MANIFEST.json", manifest_json("text_classifier")),
        ("model.pt", torch_checkpoint(HOSTILE_PICKLE)),
    ])), "hostile", "TorchServe .mar with a built-in handler whose serialized model calls "
        "posix.system", ["process-execution"])


NEMO_CONFIG = b"""\
target: nemo.collections.asr.models.EncDecCTCModel
sample_rate: 16000
preprocessor:
  _target_: nemo.collections.asr.modules.AudioToMelSpectrogramPreprocessor
  features: 64
"""


HOSTILE_TARGETS = b"""\
train_ds:
  _target_: os.system
  _args_: ["echo mscan-sample"]
decoder:
  _target_: mscan_samples.decoders.Decoder
"""


def nemo_samples():
    d = OUT / "nemo"
    add(write(d / "benign.nemo", tar_bytes([
        ("./model_config.yaml", NEMO_CONFIG),
        ("./model_weights.ckpt", torch_checkpoint(torch_state_dict())),
    ])), "benign", "NeMo .nemo bundle (tar: model_config.yaml + model_weights.ckpt, a benign "
        "torch checkpoint)", [], [MEDIUM_PLUS])
    add(write(d / "hostile.nemo", tar_bytes([
        ("./model_config.yaml", NEMO_CONFIG),
        ("./model_weights.ckpt", torch_checkpoint(HOSTILE_PICKLE)),
    ])), "hostile", "NeMo .nemo bundle whose model_weights.ckpt pickle calls posix.system",
        ["process-execution"])
    add(write(d / "hostile_config.nemo", tar_bytes([
        ("./model_config.yaml", NEMO_CONFIG + HOSTILE_TARGETS),
        ("./model_weights.ckpt", torch_checkpoint(torch_state_dict())),
    ])), "hostile", "NeMo .nemo bundle with benign weights whose model_config.yaml has Hydra "
        "_target_ keys naming os.system and a class outside NeMo (CVE-2025-23304 shape)",
        ["process-execution", "unknown-global"])
    h = OUT / "hydra"
    add(write(h / "benign" / "config.yaml", NEMO_CONFIG + b"""optim:
  name: adamw  # _target_: os.system in a comment is not a key
  lr: 0.001
  sched: {_target_: nemo.core.optim.lr_scheduler.CosineAnnealing, warmup_steps: 100}
note: "_target_: builtins.eval is only text here"
target_sr: 16000
"""), "benign", "Hydra/NeMo YAML whose targets are all NeMo classes; target-like text in a "
        "comment and a string", [], [MEDIUM_PLUS])
    add(write(h / "hostile" / "config.yaml", b"""model:
  _target_: torch.hub.load
  repo_or_dir: mscan-samples/none
callbacks:
  - {_target_: "subprocess.Popen", args: ["echo", "mscan-sample"]}
  - 'cls': builtins.exec
"""), "hostile", "Hydra YAML whose targets are torch.hub.load (block style), subprocess.Popen "
        "(flow style, quoted) and builtins.exec (a quoted cls key in a list)",
        ["ml-framework-gadget", "process-execution", "code-execution"])


def elf_header() -> bytes:
    """An ELF64 little-endian shared-object header (x86-64) and nothing else: not runnable."""
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    rest = struct.pack("<HHIQQQIHHHHHH", 3, 62, 1, 0, 64, 0, 0, 64, 56, 0, 64, 0, 0)
    return ident + rest


def pe_header() -> bytes:
    """A DOS stub pointing at a PE32+ DLL header (x86-64), no sections: not runnable."""
    dos = bytearray(64)
    dos[0:2] = b"MZ"
    dos[0x3c:0x40] = struct.pack("<I", 64)
    coff = b"PE\0\0" + struct.pack("<HHIIIHH", 0x8664, 0, 0, 0, 0, 240, 0x2022)
    optional = struct.pack("<H", 0x20b) + bytes(238)
    return bytes(dos) + coff + optional


def gguf_minimal() -> bytes:
    """A GGUF v3 file with one metadata key and no tensors."""
    key, value = b"general.architecture", b"llama"
    return (b"GGUF" + struct.pack("<IQQ", 3, 0, 1)
            + struct.pack("<Q", len(key)) + key + struct.pack("<I", 8)
            + struct.pack("<Q", len(value)) + value)


def native_samples():
    d = OUT / "native"
    add(write(d / "libdemo_ops.so", elf_header() + b"mscan-sample: header only\n"), "hostile",
        "ELF 64-bit shared object header (a custom-op library shipped with a model)",
        ["native-executable"])
    add(write(d / "demo_ops.dll", pe_header() + b"mscan-sample: header only\n"), "hostile",
        "PE32+ DLL header", ["native-executable"])
    # llamafile: an Actually Portable Executable whose weights sit in a zip at its end.
    # As llamafile's tools write it, member offsets count from the start of the file (zipfile
    # in append mode on a file that is not a zip does the same).
    ape = b"MZqFpD='\n\nmscan-sample: the shell-script friendly header of an APE\n'\n"
    path = write(d / "demo.llamafile", ape + bytes(512 - len(ape)))
    with zipfile.ZipFile(path, "a", zipfile.ZIP_STORED) as zf:
        for name, data in (("demo.gguf", gguf_minimal()), (".args", b"-m\ndemo.gguf\n")):
            info = zipfile.ZipInfo(name, date_time=DATE)
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    add(path, "hostile", "llamafile-shaped file: APE header, then a stored zip with a GGUF and .args",
        ["native-executable"])


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    transformers_samples()
    torchserve_samples()
    nemo_samples()
    native_samples()
    update_manifest(ENTRIES, [PREFIX])
    print(f"wrote {len(ENTRIES)} code samples under {OUT}")


if __name__ == "__main__":
    main()
