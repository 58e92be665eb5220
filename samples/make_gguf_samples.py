#!/usr/bin/env python3
"""Write mscan's GGUF samples (samples/gguf/) and their manifest entries.

GGUF (llama.cpp) is "GGUF", a uint32 version, the tensor count and the metadata key/value
count (uint32 in version 1, uint64 after), the key/value pairs (key string, uint32 value type,
value; strings and arrays carry a length/count of the same width), the tensor infos (name,
uint32 n_dims, the dimensions, uint32 ggml type, uint64 offset), padding to general.alignment
(32 by default), then the tensor data. The files are written byte by byte with struct, the
way gguf-py's GGUFWriter lays them out. Big-endian files swap every number, as gguf-py does
with endianess=BIG. Chat templates come from tests/data/templates/ (benign: written after the
real templates of Llama, Qwen, Mistral, ...; hostile: the CVE-2024-34359 payload shapes with
the harmless command 'echo mscan-sample'). Nothing here renders a template or loads a model.
Deterministic: a re-run writes identical bytes. Standard library only:

    /usr/bin/python3 samples/make_gguf_samples.py

Then refresh the goldens: MSCAN_UPDATE_GOLDEN=1 build/tests/mscan_tests "golden*"
"""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

from make_samples import MEDIUM_PLUS, update_manifest

HERE = Path(__file__).resolve().parent
OUT = HERE / "gguf"
PREFIX = "samples/gguf/"
TEMPLATES = HERE.parent / "tests" / "data" / "templates"
ENTRIES = []

# GGUF metadata value types
U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
SCALAR = {U8: "B", I8: "b", U16: "H", I16: "h", U32: "I", I32: "i", F32: "f", BOOL: "?",
          U64: "Q", I64: "q", F64: "d"}
# ggml types used here: id -> (block size, bytes per block)
GGML = {"F32": (0, 1, 4), "F16": (1, 1, 2), "Q4_0": (2, 32, 18), "Q8_0": (8, 32, 34),
        "Q4_K": (12, 256, 144), "Q6_K": (14, 256, 210)}


def template(kind, name):
    return (TEMPLATES / kind / name).read_text(encoding="utf-8")


class Gguf:
    """A GGUF file under construction: metadata and tensors, written by build()."""

    def __init__(self, version=3, big=False, alignment=None):
        self.version = version
        self.order = ">" if big else "<"
        self.kv = []       # (key, type, value) or raw bytes
        self.tensors = []  # (name, dims, ggml type name)
        self.alignment = alignment
        if alignment is not None:
            self.kv.append(("general.alignment", U32, alignment))

    def n(self, fmt, *v):
        return struct.pack(self.order + fmt, *v)

    def length(self, v):
        return self.n("I" if self.version == 1 else "Q", v)

    def string(self, s):
        b = s.encode("utf-8") if isinstance(s, str) else s
        return self.length(len(b)) + b

    def value(self, t, v):
        if t == STR:
            return self.string(v)
        if t == ARR:
            elem, items = v
            out = self.n("I", elem) + self.length(len(items))
            return out + b"".join(self.value(elem, x) for x in items)
        return self.n(SCALAR[t], v)

    def add(self, key, t, v):
        self.kv.append((key, t, v))
        return self

    def tensor(self, name, dims, ggml):
        self.tensors.append((name, dims, ggml))
        return self

    def default_offsets(self):
        """Offsets as a writer lays the tensors out: back to back, each padded."""
        align = self.alignment or 32
        out, offset = [], 0
        for _, dims, ggml in self.tensors:
            _, block, size = GGML[ggml]
            count = 1
            for d in dims[1:]:
                count *= d
            out.append(offset)
            offset += (dims[0] // block * size * count + align - 1) // align * align
        return out

    def build(self, counts=None, offsets=None, data=True):
        align = self.alignment or 32
        out = b"GGUF" + self.n("I", self.version)
        nt, nkv = counts if counts else (None, None)
        nt = len(self.tensors) if nt is None else nt
        nkv = len(self.kv) if nkv is None else nkv
        out += self.length(nt) + self.length(nkv)
        for entry in self.kv:
            if isinstance(entry, bytes):
                out += entry
                continue
            key, t, v = entry
            out += self.string(key) + self.n("I", t) + self.value(t, v)
        sizes = []
        offset = 0
        for i, (name, dims, ggml) in enumerate(self.tensors):
            gid, block, size = GGML[ggml]
            count = 1
            for d in dims[1:]:
                count *= d
            nbytes = dims[0] // block * size * count
            sizes.append(nbytes)
            off = offsets[i] if offsets else offset
            out += self.string(name) + self.n("I", len(dims))
            out += b"".join(self.length(d) if self.version == 1 else self.n("Q", d) for d in dims)
            out += self.n("I", gid) + self.n("Q", off)
            offset += (nbytes + align - 1) // align * align
        if not data:
            return out
        out += b"\0" * (-len(out) % align)
        for i, nbytes in enumerate(sizes):
            # deterministic filler, padded to the alignment
            out += bytes((i * 7 + k) & 0xFF for k in range(nbytes))
            out += b"\0" * (-nbytes % align)
        return out


def llama_like(version=3, big=False, chat=None, alignment=None, vocab=64, extra=()):
    """A tiny Llama-shaped model with the metadata a real conversion writes."""
    g = Gguf(version, big, alignment)
    g.add("general.architecture", STR, "llama")
    g.add("general.name", STR, "mscan-sample tiny llama")
    g.add("general.file_type", U32, 7)
    g.add("general.quantization_version", U32, 2)
    g.add("llama.context_length", U32, 2048)
    g.add("llama.embedding_length", U32, 64)
    g.add("llama.block_count", U32, 1)
    g.add("llama.feed_forward_length", U32, 256)
    g.add("llama.attention.head_count", U32, 4)
    g.add("llama.attention.head_count_kv", U32, 4)
    g.add("llama.rope.freq_base", F32, 10000.0)
    g.add("llama.attention.layer_norm_rms_epsilon", F32, 1e-5)
    g.add("tokenizer.ggml.model", STR, "gpt2")
    g.add("tokenizer.ggml.pre", STR, "llama-bpe")
    tokens = ["<|begin_of_text|>", "<|end_of_text|>"] + [f"tok{i}" for i in range(vocab - 2)]
    g.add("tokenizer.ggml.tokens", ARR, (STR, tokens))
    g.add("tokenizer.ggml.token_type", ARR, (I32, [3, 3] + [1] * (vocab - 2)))
    g.add("tokenizer.ggml.merges", ARR, (STR, [f"t o{i}" for i in range(vocab // 2)]))
    g.add("tokenizer.ggml.bos_token_id", U32, 0)
    g.add("tokenizer.ggml.eos_token_id", U32, 1)
    g.add("tokenizer.ggml.add_bos_token", BOOL, True)
    for key, t, v in extra:
        g.add(key, t, v)
    if chat is not None:
        g.add("tokenizer.chat_template", STR, chat)
    g.tensor("token_embd.weight", [64, vocab], "Q8_0")
    g.tensor("blk.0.attn_norm.weight", [64], "F32")
    g.tensor("blk.0.attn_q.weight", [64, 16], "Q8_0")
    g.tensor("blk.0.ffn_down.weight", [256, 4], "Q4_K")
    g.tensor("blk.0.ffn_up.weight", [256, 4], "Q6_K")
    g.tensor("output_norm.weight", [64], "F32")
    g.tensor("output.weight", [64, vocab], "F16")
    return g


def add(rel, kind, description, expect, data, forbid=None):
    path = OUT / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if forbid is None:
        forbid = [MEDIUM_PLUS] if kind == "benign" else []
    ENTRIES.append({
        "path": PREFIX + rel,
        "kind": kind,
        "group": "gguf",
        "description": description,
        "expect": list(expect),
        "forbid": list(forbid),
    })


def benign():
    add("benign/llama31_tools_v3.gguf", "benign",
        "GGUF v3 tiny Llama: realistic metadata and tokenizer arrays, 7 tensors (Q8_0, F32, "
        "Q4_K, Q6_K, F16) at alignment 32, the Llama 3.1 tool-calling chat template",
        ["gguf-summary"], llama_like(chat=template("benign", "llama31_tools.jinja")).build())
    add("benign/qwen25_tools_v2_align64.gguf", "benign",
        "GGUF v2 with general.alignment 64 and the Qwen2.5 (ChatML) tool template",
        ["gguf-summary"],
        llama_like(2, chat=template("benign", "qwen25_tools.jinja"), alignment=64).build())
    add("benign/mistral_v3_tools.gguf", "benign",
        "GGUF v3 with the Mistral v3 tool-calling template (namespace, [TOOL_CALLS], tojson)",
        ["gguf-summary"], llama_like(chat=template("benign", "mistral_v3_tools.jinja")).build())
    add("benign/deepseek_r1.gguf", "benign",
        "GGUF v3 with the DeepSeek-R1 template (namespace fields, tool calls, think tags)",
        ["gguf-summary"], llama_like(chat=template("benign", "deepseek_r1.jinja")).build())
    g = llama_like(chat=template("benign", "command_r_tools.jinja"), extra=[
        ("tokenizer.chat_template.tool_use", STR, template("benign", "hermes_generation.jinja")),
        ("tokenizer.chat_template.rag", STR, template("benign", "gemma.jinja")),
        ("tokenizer.chat_templates", ARR, (STR, ["tool_use", "rag"])),
    ])
    add("benign/named_templates.gguf", "benign",
        "GGUF v3 with a default template (Command-R style, with a macro) and named templates "
        "tokenizer.chat_template.tool_use (with {% generation %}) and .rag", ["gguf-summary"],
        g.build())
    add("benign/no_template_v3.gguf", "benign", "GGUF v3 without a chat template",
        ["gguf-summary"], llama_like().build())
    add("benign/empty_v3.gguf", "benign", "GGUF v3 with no tensors and no metadata",
        ["gguf-summary"], Gguf().build())
    add("benign/old_v1.gguf", "benign",
        "GGUF version 1 (32-bit counts, Aug 2023) with the Llama 2 template: valid, but "
        "current llama.cpp refuses v1", ["gguf-summary", "gguf-nonstandard"],
        llama_like(1, chat=template("benign", "llama2.jinja")).build())
    add("benign/big_endian_v3.gguf", "benign",
        "big-endian GGUF v3 (gguf-py --bigendian, for s390x) with the Gemma template",
        ["gguf-summary", "gguf-nonstandard"],
        llama_like(3, big=True, chat=template("benign", "gemma.jinja")).build())


HOSTILE = [
    ("cve_2024_34359.gguf", "cve_2024_34359.jinja",
     "chat template with the CVE-2024-34359 payload shape: ().__class__.__base__."
     "__subclasses__(), a warnings class's _module.__builtins__['__import__']('os').popen(...)",
     ["chat-template-injection"]),
    ("mro_subclasses.gguf", "mro_subclasses.jinja",
     "chat template ''.__class__.__mro__[1].__subclasses__()", ["chat-template-injection"]),
    ("cycler_globals.gguf", "cycler_globals.jinja",
     "chat template cycler.__init__.__globals__.os.popen('echo mscan-sample').read()",
     ["chat-template-injection", "chat-template-unusual"]),
    ("lipsum_globals.gguf", "lipsum_globals.jinja",
     "chat template lipsum.__globals__['os'].popen('echo mscan-sample').read()",
     ["chat-template-injection", "chat-template-unusual"]),
    ("attr_concat.gguf", "attr_concat.jinja",
     "chat template messages|attr('__cla'~'ss__'): the dunder built by concatenation",
     ["chat-template-injection"]),
    ("request_attr_escaped.gguf", "request_attr_escaped.jinja",
     "chat template request|attr('application')|attr('\\x5f\\x5fglobals\\x5f\\x5f')",
     ["chat-template-injection", "chat-template-unusual"]),
    ("self_globals.gguf", "self_globals.jinja",
     "chat template self.__init__.__globals__.__builtins__",
     ["chat-template-injection", "chat-template-unusual"]),
    ("attr_set_vars.gguf", "attr_set_vars.jinja",
     "chat template building '__class__' in two {% set %} variables for the attr filter",
     ["chat-template-injection"]),
    ("range_dos.gguf", "range_dos.jinja", "chat template looping over range(10**9)",
     ["chat-template-unusual"]),
]


def hostile():
    for name, tmpl, description, expect in HOSTILE:
        add("hostile/" + name, "hostile", description, expect,
            llama_like(chat=template("hostile", tmpl)).build())
    g = llama_like(chat=template("benign", "llama3.jinja"), extra=[
        ("tokenizer.chat_template.tool_use", STR, template("hostile", "cycler_globals.jinja")),
    ])
    add("hostile/named_template_hostile.gguf", "hostile",
        "an ordinary default template, and a named tokenizer.chat_template.tool_use holding "
        "cycler.__init__.__globals__.os.popen", ["chat-template-injection"], g.build())
    g = llama_like(chat=template("benign", "chatml.jinja"), extra=[
        ("general.description", STR, "{{ lipsum.__globals__['os'].popen('echo mscan-sample') }}"),
    ])
    add("hostile/template_in_description.gguf", "hostile",
        "general.description holds a Jinja payload (checked: any metadata string that looks "
        "like a template)", ["chat-template-injection"], g.build())


def anomalies():
    # --- counts and lengths the file cannot back (the llama.cpp loader overflow CVEs)
    g = Gguf()
    g.kv.append(g.string("general.name") + g.n("I", STR) + g.n("Q", 1 << 40) + b"mscan-sample")
    add("anomaly/string_length_past_end.gguf", "anomaly",
        "general.name declares a 2^40-byte string in a 60-byte file", ["gguf-oversized"],
        g.build())
    g = Gguf()
    g.kv.append(g.string("tokenizer.ggml.scores") + g.n("I", ARR) + g.n("I", U8)
                + g.n("Q", 1 << 62) + bytes(32))
    add("anomaly/array_count_2e62.gguf", "anomaly",
        "a uint8 array declaring 2^62 elements (rejected by arithmetic, never iterated)",
        ["gguf-oversized"], g.build())
    add("anomaly/tensor_count_huge.gguf", "anomaly",
        "the header declares 2^60 tensors (CVE-2024-21836 shape)", ["gguf-oversized"],
        llama_like(vocab=16).build(counts=(1 << 60, None)))
    add("anomaly/kv_count_huge.gguf", "anomaly",
        "the header declares 2^59 metadata pairs (CVE-2024-23605 shape)", ["gguf-oversized"],
        llama_like(vocab=16).build(counts=(None, 1 << 59)))
    full = llama_like(chat=template("benign", "chatml.jinja")).build()
    cut = full.find(b"tok40") + 3
    add("anomaly/truncated_in_metadata.gguf", "anomaly",
        "a v3 file cut in the middle of tokenizer.ggml.tokens", ["gguf-oversized"], full[:cut])
    # --- tensor infos ggml refuses
    g = Gguf()
    g.tensor("w", [8], "F32")
    raw = g.build(data=False)
    # rewrite n_dims to 200 and append 200 dimensions
    name_end = len(raw) - (4 + 8 + 4 + 8)
    bad = raw[:name_end] + g.n("I", 200) + g.n("Q", 1) * 200 + g.n("I", 0) + g.n("Q", 0)
    add("anomaly/n_dims_200.gguf", "anomaly", "a tensor declaring 200 dimensions (ggml: 4)",
        ["gguf-malformed"], bad + bytes(-len(bad) % 32) + bytes(32))
    g = llama_like(vocab=16)
    offsets = g.default_offsets()
    offsets[1] += 16
    add("anomaly/offset_misaligned.gguf", "anomaly",
        f"the second tensor's offset is {offsets[1]}, not a multiple of the alignment 32",
        ["gguf-malformed"], g.build(offsets=offsets))
    full = llama_like(vocab=16).build()
    add("anomaly/tensor_past_end.gguf", "anomaly",
        "the last tensor's data runs past the end of the file (the file is cut in its data)",
        ["gguf-malformed"], full[:-200])
    g = llama_like(vocab=16, extra=[("general.architecture", STR, "gpt2")])
    add("anomaly/duplicate_key.gguf", "anomaly",
        "general.architecture appears twice ('llama', then 'gpt2')", ["gguf-malformed"],
        g.build())
    g = llama_like(vocab=16)
    g.tensor("output.weight", [64, 16], "F16")
    add("anomaly/duplicate_tensor.gguf", "anomaly", "two tensors named output.weight",
        ["gguf-malformed"], g.build())
    add("anomaly/bad_alignment.gguf", "anomaly",
        "general.alignment 48, not a power of two", ["gguf-malformed"],
        llama_like(vocab=16, alignment=48).build())
    g = Gguf()
    g.tensor("w", [8], "F32")
    raw = g.build()
    # the ggml type field of the only tensor: after the name, n_dims and one dimension
    at = raw.find(b"w", 24) + 1 + 4 + 8
    bad = raw[:at] + g.n("I", 77) + raw[at + 4:]
    add("anomaly/unknown_ggml_type.gguf", "anomaly", "a tensor of ggml type 77",
        ["gguf-malformed"], bad)
    g = Gguf()
    g.tensor("w", [1 << 40, 1 << 40], "F32")
    add("anomaly/dims_overflow.gguf", "anomaly",
        "a tensor of shape [2^40, 2^40]: the element count overflows int64",
        ["gguf-malformed"], g.build(data=False) + bytes(64))
    g = Gguf()
    g.add("a.nested", ARR, (ARR, [(STR, ["x", "y"]), (U8, [1, 2, 3])]))
    add("anomaly/nested_arrays.gguf", "anomaly",
        "an array of arrays (allowed by the spec, refused by llama.cpp)", ["gguf-nonstandard"],
        g.build())
    add("anomaly/template_unterminated.gguf", "anomaly",
        "a chat template whose {% for %} tag never ends", ["chat-template-malformed"],
        llama_like(vocab=16, chat="{% for m in messages %}{{ m.content }}{% endfor").build())
    add("anomaly/bad_version.gguf", "anomaly", "GGUF version 7", ["gguf-malformed"],
        Gguf(version=7).build())


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    benign()
    hostile()
    anomalies()
    update_manifest(ENTRIES, [PREFIX])
    print(f"wrote {len(ENTRIES)} GGUF samples under {OUT}")


if __name__ == "__main__":
    main()
