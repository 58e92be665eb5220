#!/usr/bin/python3
"""Write the JSON-config samples of issue 17 (samples/json-i17/) and their manifest entries.

Each hostile sample is a config whose loader runs code (a Keras Lambda layer, a transformers
auto_map), written in a way Python's json.loads reads and a substring or strict-parser check
does not: escaped keys, a UTF-8 BOM, UTF-16 and UTF-32 text, NaN/Infinity before the payload,
a duplicate key whose last value is the payload. The benign ones are the same configs without
the payload, or with it overridden by a later duplicate key. Every variant is checked here
with json.loads (a parse, nothing is loaded or run) to hold what the loader would see.

    python3 samples/make_json_i17_samples.py

Then refresh the goldens: MSCAN_UPDATE_GOLDEN=1 build/tests/mscan_tests "golden*"
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

from make_keras_samples import k3, k3_dense, k3_lambda, k3_sequential
from make_samples import MEDIUM_PLUS, ROOT, update_manifest

OUT = Path(__file__).resolve().parent / "json-i17"
GROUP = "json-i17"
DATE = (2024, 1, 1, 0, 0, 0)
LAMBDA_SRC = "lambda x: exec('import os') or x"

KERAS = json.dumps(k3_sequential([k3_dense("dense", 4), k3_lambda("lam", LAMBDA_SRC)]))
KERAS_BENIGN = json.dumps(k3_sequential([k3_dense("dense", 4)]))
AUTO_MAP = json.dumps({
    "architectures": ["DemoForCausalLM"],
    "auto_map": {"AutoConfig": "configuration_demo.DemoConfig",
                 "AutoModelForCausalLM": "modeling_demo.DemoForCausalLM"},
    "model_type": "demo", "hidden_size": 64}, indent=2)
LAMBDA_RULES = ["keras-lambda-layer", "code-execution"]
AUTO_MAP_RULES = ["hf-remote-code"]


def escaped(text: str, key: str) -> bytes:
    """Every "key" written with its underscore as \\u005f."""
    return text.replace(f'"{key}"', '"' + key.replace("_", "\\u005f") + '"').encode()


def nan_first(text: str) -> bytes:
    """A NaN and an -Infinity before every other key of the top-level object."""
    return ('{"scale": NaN, "floor": -Infinity, ' + text.lstrip()[1:]).encode()


def keras_zip(config: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in (("metadata.json", b'{"keras_version": "3.6.0"}'),
                           ("config.json", config)):
            info = zipfile.ZipInfo(name, DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return buf.getvalue()


def duplicate_auto_map(last_is_payload: bool) -> bytes:
    body = json.loads(AUTO_MAP)
    payload = json.dumps(body["auto_map"])
    del body["auto_map"]
    rest = json.dumps(body)[1:-1]
    first, last = ("null", payload) if last_is_payload else (payload, "null")
    return ('{"auto_map": ' + first + ", " + rest + ', "auto_map": ' + last + "}").encode()


SAMPLES = [
    # Keras configs (a .keras archive's config.json: Keras reads it with json.loads(bytes)).
    ("hostile", "keras_escaped_key.json", "Keras config whose keys are written "
     "\"class\\u005fname\": json.loads decodes the escape, so the Lambda is read",
     LAMBDA_RULES, lambda: escaped(KERAS, "class_name")),
    ("hostile", "keras_bom.json", "Keras config with a UTF-8 BOM (json.loads(bytes) drops it)",
     LAMBDA_RULES, lambda: b"\xef\xbb\xbf" + KERAS.encode()),
    ("hostile", "keras_utf16.json", "Keras config in UTF-16-LE without a BOM "
     "(json.loads(bytes) detects it from the zero bytes)", LAMBDA_RULES,
     lambda: KERAS.encode("utf-16-le")),
    ("hostile", "keras_utf32.json", "Keras config in UTF-32 with a BOM", LAMBDA_RULES,
     lambda: KERAS.encode("utf-32")),
    ("hostile", "keras_nan_first.json", "Keras config with NaN and -Infinity before the "
     "layers: Python's json accepts them, a strict parser stops before the Lambda",
     LAMBDA_RULES, lambda: nan_first(KERAS)),
    ("hostile", "keras_escaped_key.keras", "Keras 3 .keras whose config.json spells its keys "
     "with \\u escapes and starts with NaN", LAMBDA_RULES,
     lambda: keras_zip(nan_first(escaped(KERAS, "class_name").decode()))),
    ("hostile", "keras_utf16.keras", "Keras 3 .keras whose config.json is UTF-16 with a BOM",
     LAMBDA_RULES, lambda: keras_zip(KERAS.encode("utf-16"))),
    ("benign", "keras_nan_benign.json", "Keras config with NaN and -Infinity values and no "
     "Lambda: nothing runs", [], lambda: nan_first(KERAS_BENIGN)),
    ("benign", "keras_utf16_benign.keras", "Keras 3 .keras whose config.json is UTF-16, no "
     "Lambda", [], lambda: keras_zip(KERAS_BENIGN.encode("utf-16"))),
    # transformers configs.
    ("hostile", "auto_map_escaped/config.json", "transformers config.json whose auto_map key "
     "is written \"auto\\u005fmap\"", AUTO_MAP_RULES, lambda: escaped(AUTO_MAP, "auto_map")),
    ("hostile", "auto_map_nan/config.json", "transformers config.json with NaN before "
     "auto_map", AUTO_MAP_RULES, lambda: nan_first(AUTO_MAP)),
    ("hostile", "auto_map_utf16/config.json", "transformers config.json in UTF-16 with a BOM",
     AUTO_MAP_RULES, lambda: AUTO_MAP.encode("utf-16")),
    ("hostile", "auto_map_duplicate/config.json", "auto_map given twice, null first and the "
     "class references last: a Python dict keeps the last", AUTO_MAP_RULES,
     lambda: duplicate_auto_map(True)),
    ("benign", "auto_map_overridden/config.json", "auto_map given twice, the class references "
     "first and null last: a Python dict keeps null, so no code is named",
     [], lambda: duplicate_auto_map(False)),
]


SD_INDEX = {
    "_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.27.0",
    "feature_extractor": ["transformers", "CLIPImageProcessor"],
    "safety_checker": ["stable_diffusion", "StableDiffusionSafetyChecker"],
    "scheduler": ["diffusers", "PNDMScheduler"],
    "text_encoder": ["transformers", "CLIPTextModel"],
    "tokenizer": ["transformers", "CLIPTokenizer"],
    "unet": ["diffusers", "UNet2DConditionModel"],
    "vae": ["diffusers", "AutoencoderKL"],
}
HARMLESS_PY = "class {name}:\n    pass\n"


def diffusers_index(**changes) -> bytes:
    index = dict(SD_INDEX)
    index.update(changes)
    return json.dumps(index, indent=2).encode()


SAMPLES += [
    ("hostile", "diffusers_custom_pipeline/model_index.json", "diffusers model_index.json "
     "whose _class_name is [module, Class]: DiffusionPipeline.from_pretrained("
     "trust_remote_code=True) imports pipeline_demo.py from the repo", AUTO_MAP_RULES,
     lambda: diffusers_index(_class_name=["pipeline_demo", "DemoPipeline"])),
    ("hostile", "diffusers_custom_unet/model_index.json", "diffusers model_index.json whose "
     "unet is [my_unet, MyUNet], a module the repo ships in unet/my_unet.py", AUTO_MAP_RULES,
     lambda: diffusers_index(unet=["my_unet", "MyUNet"])),
    ("benign", "diffusers_sd/model_index.json", "Stable Diffusion's model_index.json: "
     "components from diffusers and transformers, and diffusers' own stable_diffusion "
     "pipeline module", [], lambda: diffusers_index()),
    ("anomaly", "unreadable/config.json", "config.json that Python's json.loads cannot read "
     "(single-quoted keys): transformers opens it by name, so it is read and reported high",
     ["hf-config-unreadable"],
     lambda: b"{'architectures': ['DemoModel'], 'model_type': 'demo'}\n"),
]

def keras_function(module: str, name: str) -> dict:
    return {"module": module, "class_name": "function", "config": name,
            "registered_name": "function"}


def keras_with(layers, loss=None, metrics=None) -> bytes:
    model = k3_sequential(layers)
    if loss is not None:
        model["compile_config"]["loss"] = loss
    if metrics is not None:
        model["compile_config"]["metrics"] = metrics
    return json.dumps(model).encode()


SAMPLES += [
    ("hostile", "keras_src_get_file.json", "Keras config whose Dense kernel_initializer is "
     "get_file reached through keras.src.utils (a re-export): denied under every alias",
     ["ml-framework-gadget"],
     lambda: keras_with([k3_dense("dense", 4, kernel_initializer=keras_function(
         "keras.src.utils", "get_file"))])),
    ("hostile", "keras_tfsm_layer.json", "Keras config with a TFSMLayer, which loads a "
     "SavedModel from outside the file", ["nested-deserializer"],
     lambda: keras_with([k3("keras.layers", "TFSMLayer", {
         "name": "tfsm", "filepath": "/tmp/outside_model", "call_endpoint": "serve"})])),
    ("benign", "keras_function_losses.json", "Keras 3 config with function-valued loss and "
     "metrics as Keras writes them ({module: builtins, class_name: function}, keras.losses) "
     "and a KerasHub class: Keras resolves these through its own registries",
     [], lambda: keras_with(
         [k3("keras_hub.src.models.gemma.gemma_backbone", "GemmaBackbone", {"name": "gemma"},
             registered="keras_hub>GemmaBackbone")],
         loss=keras_function("builtins", "binary_crossentropy"),
         metrics=[keras_function("keras.losses", "mean_squared_error"),
                  keras_function("keras.metrics", "binary_accuracy")])),
]

def template_after_many_issues() -> bytes:
    """70 attributes no chat template needs (each reported), then an injection: past the
    64-issue cap, found by the degraded search."""
    head = "".join("{{ message.m%d._private }}" % i for i in range(70))
    return (head + "{{ cycler.__init__.__globals__.os.popen('id').read() }}").encode()


SAMPLES += [
    ("hostile", "chat_template_after_cap/chat_template.jinja", "chat template with 70 unusual "
     "attributes before an injection through cycler.__init__.__globals__: past the 64-issue "
     "cap the rest is searched, not parsed, and both are reported",
     ["chat-template-not-checked", "chat-template-injection"], template_after_many_issues),
]

# Files beside samples (the code a custom pipeline or component imports).
SIDE_FILES = [
    ("hostile", "diffusers_custom_pipeline/pipeline_demo.py", "DemoPipeline"),
    ("hostile", "diffusers_custom_unet/unet/my_unet.py", "MyUNet"),
]


def check_with_python(name: str, data: bytes, kind: str) -> None:
    """What json.loads makes of the text: the payload must be there exactly when hostile."""
    if name.endswith(".jinja"):
        return
    if kind == "anomaly":
        try:
            json.loads(data)
        except ValueError:
            return
        raise AssertionError(name + ": json.loads reads it")
    if name.endswith("model_index.json"):
        doc = json.loads(data)
        custom = isinstance(doc["_class_name"], list) or doc["unet"][0] == "my_unet"
        assert custom == (kind == "hostile"), name
        return
    if name.startswith(("keras_src_get_file", "keras_tfsm_layer", "keras_function_losses")):
        json.loads(data)
        return
    if name.endswith(".keras"):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            data = z.read("config.json")
    doc = json.loads(data)
    text = json.dumps(doc)
    present = '"Lambda"' in text or (isinstance(doc, dict) and doc.get("auto_map") is not None)
    assert present == (kind == "hostile"), name


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    entries = []
    for kind, name, description, expect, builder in SAMPLES:
        data = builder()
        check_with_python(name, data, kind)
        path = OUT / kind / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        entries.append({"path": path.relative_to(ROOT).as_posix(), "kind": kind,
                        "group": GROUP, "description": description, "expect": expect,
                        "forbid": [MEDIUM_PLUS] if kind == "benign" else []})
    for kind, name, class_name in SIDE_FILES:
        path = OUT / kind / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(HARMLESS_PY.format(name=class_name), encoding="utf-8")
    update_manifest(entries, ["samples/json-i17/"])
    print(f"wrote {len(entries)} samples under {OUT}")


if __name__ == "__main__":
    main()
