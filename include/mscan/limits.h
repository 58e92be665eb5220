// Every resource cap mscan applies to untrusted input, in one place.
// Each cap, when hit, becomes a `limit.exceeded` anomaly (never a silent stop).
#pragma once

#include <cstddef>
#include <cstdint>

namespace mscan::limits {

/// Pickle stack depth. CPython has no cap, but real pickles stay shallow (containers are
/// filled in batches of 1000 by APPENDS/SETITEMS, and CPython's pickler cannot even write data
/// nested deeper than its recursion limit); a deep stack is an attack on the scanner.
inline constexpr std::size_t kPickleMaxStack = 1 << 18;
/// Nested MARKs outstanding at once; real pickles nest only as deep as their data.
inline constexpr std::size_t kPickleMaxMarks = 1 << 16;
/// Memo keys tracked densely. Each costs one byte (its kind), so 256 Mi keys is 256 MB at
/// worst, which needs a pickle of at least that many bytes; a 200 MB dense pickle has ~13 Mi.
inline constexpr std::size_t kPickleMaxMemo = std::size_t{1} << 28;
/// How far past the highest memo key a new key may jump and still be stored densely. CPython
/// numbers memo keys 0, 1, 2, ...; a file that jumps further goes to a bounded map instead,
/// so a small file cannot make the dense table large.
inline constexpr std::uint64_t kPickleDenseMemoSlack = 64;
/// Memo keys below this find their kept value through a dense table (4 bytes per key).
inline constexpr std::uint64_t kPickleKeptDenseKeys = 1 << 20;
/// Memo values kept with full content (globals, call results, names, small tuples). Beyond
/// it, entries keep only their kind: enough for stack semantics, not for evidence; a lookup
/// or call that needs a value lost this way is reported as a limit finding.
inline constexpr std::size_t kPickleMaxKeptValues = 1 << 16;
/// Memo values kept in all: past kPickleMaxKeptValues, only globals, names and scalars (which
/// hold no item trees) are still kept, so a payload cannot hide behind a memo filled first.
inline constexpr std::size_t kPickleMaxKeptCheapValues = 1 << 17;
/// Times one stream's reading restarts in degraded mode after a limit or a bogus length.
inline constexpr int kPickleMaxDegradedRestarts = 64;
/// Total text bytes kept for memoised strings (evidence and STACK_GLOBAL operands).
inline constexpr std::size_t kPickleMaxKeptTextBytes = 16u << 20;
/// Longest string kept verbatim; longer ones keep a prefix for evidence and are not names.
inline constexpr std::size_t kPickleMaxKeptString = 512;
/// Longest module or qualified name accepted as a global; Python's own are far shorter.
inline constexpr std::size_t kPickleMaxNameLength = 1024;
/// Container items kept per list/tuple/dict for evidence; the rest are counted only.
inline constexpr std::size_t kPickleMaxKeptItems = 8;
/// Nesting depth of container items kept for evidence; deeper items keep only their kind.
inline constexpr std::uint8_t kPickleMaxKeptDepth = 8;
/// Nodes visited when checking that a kept item does not hold its container (a cycle).
inline constexpr int kPickleCycleCheckNodes = 64;
/// Anomalies of one code reported per stream; the first ones carry the information.
inline constexpr int kPickleMaxAnomaliesPerCode = 8;
/// Calls of one callable reported per stream with their evidence; later ones add nothing new
/// to the finding (a state dict calls _rebuild_tensor_v2 once per tensor).
inline constexpr int kPickleMaxCallsPerName = 8;
/// Operations (imports, calls, anomalies) reported per pickle stream before we stop listing.
inline constexpr std::size_t kPickleMaxOperations = 100000;
/// Back-to-back pickle streams read from one file (legacy torch writes 5).
inline constexpr std::size_t kPickleMaxStreams = 4096;
/// Protocol 0/1 text operands (INT, LONG, FLOAT, STRING, UNICODE, GLOBAL lines).
inline constexpr std::size_t kPickleMaxTextLine = 64u << 20;
/// How much of a file detection may probe when sniffing a protocol 0/1 pickle.
inline constexpr std::size_t kDetectProbeBytes = 64 * 1024;
/// Evidence strings are cut to this many characters in reports.
inline constexpr std::size_t kEvidenceChars = 240;
/// Findings listed per file; more become one `limit.exceeded` finding.
inline constexpr std::size_t kMaxFindingsPerFile = 1000;
/// Bytes read from standard input (`-`), which cannot be memory-mapped.
inline constexpr std::uint64_t kMaxStdinBytes = std::uint64_t{4} << 30;
/// Directory recursion depth when walking targets.
inline constexpr int kMaxDirectoryDepth = 64;
/// Containers nested inside one another (a zip in a zip in a tar ...); the file itself is 0.
inline constexpr int kMaxNestingDepth = 8;
/// Archive members looked at in one scanned file, all nesting levels together.
inline constexpr std::uint64_t kMaxMembers = 100000;
#ifndef MSCAN_FUZZ_LIMITS
/// Bytes decompressed for one scanned file, all members together. Decompressed members are
/// held in memory while they are scanned, so this also bounds memory.
inline constexpr std::uint64_t kMaxDecompressedTotal = std::uint64_t{4} << 30;
/// Bytes decompressed for one member; larger members are scanned up to this point.
inline constexpr std::uint64_t kMaxDecompressedMember = std::uint64_t{1} << 30;
/// A member is only judged by its compression ratio once it has produced this many bytes.
inline constexpr std::uint64_t kRatioCheckAfter = std::uint64_t{16} << 20;
#else
// Fuzz builds (-DMSCAN_FUZZ=ON) use the same logic with small decompression caps, so that a
// 64 KiB input that legitimately inflates to the caps cannot keep a sanitizer build busy past
// libFuzzer's per-input timeout.
inline constexpr std::uint64_t kMaxDecompressedTotal = std::uint64_t{8} << 20;
inline constexpr std::uint64_t kMaxDecompressedMember = std::uint64_t{4} << 20;
inline constexpr std::uint64_t kRatioCheckAfter = std::uint64_t{1} << 20;
#endif
/// Decompressed : compressed ratio beyond which a member is reported as compressing unusually
/// well (real model members compress at most ~10:1 except runs of zeros; zip bombs reach
/// 1000:1). Alone it is a low finding and the member is read on; past the absolute caps above
/// it is a compression bomb.
inline constexpr std::uint64_t kMaxCompressionRatio = 200;
/// Bytes of one zip archive's central directory read (at most 65,536 entries of up to ~196 KiB
/// each could be more; real directories are a few MB at most).
inline constexpr std::uint64_t kMaxZipDirectoryBytes = std::uint64_t{256} << 20;
/// Central directory entries read from one zip archive.
inline constexpr std::uint64_t kMaxZipEntries = 65536;
/// End record signatures tried in a zip's last 64 KiB (the last first): each that gives a
/// directory of its own is scanned. A tail packed with signatures costs a directory read each.
inline constexpr std::size_t kMaxZipEndRecords = 16;
/// Longest .npy header read (numpy itself refuses headers over 10,000 bytes unless pickles
/// are allowed).
inline constexpr std::uint64_t kNpyMaxHeader = 1u << 20;
/// Consumed input is released from memory (madvise) in chunks of this size.
inline constexpr std::uint64_t kReleaseChunk = 16u << 20;

// --- HDF5 (src/formats/hdf5/) ---
/// Header messages read from one object header (all continuation blocks together).
inline constexpr std::uint64_t kHdf5MaxMessages = 65536;
/// Continuation blocks followed from one object header.
inline constexpr std::uint64_t kHdf5MaxContinuations = 1024;
/// Attributes read from the root group.
inline constexpr std::uint64_t kHdf5MaxAttributes = 65536;
#ifndef MSCAN_FUZZ_LIMITS
/// Bytes of attribute values decoded in one file (a Keras model_config is at most a few MB).
/// Strings count their length plus the size of a std::string, numbers 8 bytes each: this
/// bounds the memory the decoded attributes take.
inline constexpr std::uint64_t kHdf5MaxAttributeBytes = std::uint64_t{256} << 20;
/// Bytes read or checksummed in one file (header chunks, B-tree nodes, heap blocks, global
/// heap objects): however its structures point at each other, a file cannot make the reader
/// go over more than this.
inline constexpr std::uint64_t kHdf5MaxReadBytes = std::uint64_t{512} << 20;
#else
// Fuzz builds: small enough that the slowest input stays far inside libFuzzer's timeout.
inline constexpr std::uint64_t kHdf5MaxAttributeBytes = std::uint64_t{16} << 20;
inline constexpr std::uint64_t kHdf5MaxReadBytes = std::uint64_t{32} << 20;
#endif
/// Bytes read or checksummed are also at most this many times the file's size, plus
/// kHdf5ReadSlack: a real file's structures are read about once each.
inline constexpr std::uint64_t kHdf5ReadFactor = 4;
inline constexpr std::uint64_t kHdf5ReadSlack = std::uint64_t{8} << 20;
/// Depth of a v2 B-tree or fractal-heap indirect-block tree followed.
inline constexpr int kHdf5MaxTreeDepth = 32;
/// B-tree nodes and records, fractal heap blocks and global heap objects visited in one file.
inline constexpr std::uint64_t kHdf5MaxTreeNodes = 1u << 20;
/// Problems listed for one file (the same problem at the same offset is listed once).
inline constexpr std::size_t kHdf5MaxProblems = 256;

// --- marshal (src/formats/keras/marshal_reader.*) ---
/// Nesting of marshaled objects (tuples, code objects) followed.
inline constexpr int kMarshalMaxDepth = 64;
/// Objects read from one marshaled function.
inline constexpr std::uint64_t kMarshalMaxObjects = 1u << 20;
/// Characters kept of one string constant in evidence.
inline constexpr std::size_t kMarshalMaxString = 200;
/// Names plus constants kept from one marshaled function.
inline constexpr std::size_t kMarshalMaxCollected = 4096;

// --- Keras configs (src/formats/keras/) ---
/// Largest Keras config JSON read (an H5 attribute, config.json, keras_metadata.pb entry).
inline constexpr std::uint64_t kKerasMaxConfigBytes = std::uint64_t{256} << 20;
/// JSON nesting depth accepted before parsing (deeper input is refused, not parsed, so the
/// recursive JSON parser cannot exhaust the stack).
inline constexpr int kJsonMaxDepth = 512;
/// Nesting depth of configs read as Python's json module reads them (formats/python_json.h).
/// CPython 3.11's json.loads raises RecursionError at about 998 levels (its default recursion
/// limit of 1000), so anything a loader can read is read; deeper input is reported.
inline constexpr int kPythonJsonMaxDepth = 1000;

// --- protobuf and TensorFlow SavedModel (src/formats/protobuf/, src/formats/savedmodel/) ---
/// Nesting of protobuf messages followed.
inline constexpr int kProtobufMaxDepth = 64;
/// Graph nodes (graph and function library together) read from one SavedModel.
inline constexpr std::uint64_t kSavedModelMaxNodes = std::uint64_t{1} << 22;
/// Nodes of one op reported per graph or function with their evidence; later ones add nothing
/// new to the finding (a model runs MatMul hundreds of times), and the first is always kept.
inline constexpr int kSavedModelOpsPerName = 8;
/// Distinct op names counted per graph or function; past it every node is reported.
inline constexpr std::size_t kSavedModelCountedOps = 65536;
/// String constants remembered per graph or function, to show in evidence which file a
/// ReadFile or WriteFile node names.
inline constexpr std::size_t kSavedModelMaxConstants = 65536;
/// Characters kept of one name, attribute or constant for evidence.
inline constexpr std::size_t kSavedModelMaxKeptString = 200;
/// savedmodel.malformed anomalies reported per file; the first ones carry the information.
inline constexpr int kSavedModelMaxAnomalies = 8;
/// Nodes and inputs kept per SavedModel to decide which checkpoint ops are the model's own saver
/// (src/formats/savedmodel/saver_graph.h): a graph's name -> inputs index plus its saver
/// functions' bodies. Real serving graphs have up to some ten thousand nodes; past the cap the
/// index is dropped and no checkpoint op is exempt (they are reported, never silently passed).
inline constexpr std::uint64_t kSavedModelMaxIndexedNodes = std::uint64_t{1} << 18;
inline constexpr std::uint64_t kSavedModelMaxIndexedInputs = std::uint64_t{1} << 20;
/// Nodes followed from one checkpoint op's file input back to the SaverDef's filename tensor;
/// TensorFlow's savers put at most five between them (StringJoin, ShardedFilename, Pack, ...).
inline constexpr std::size_t kSavedModelMaxFilenameTrace = 64;

// --- ONNX (src/formats/onnx/) ---
/// Nodes read from one ONNX model (every graph, subgraph and function together); the largest
/// exported transformers have a few hundred thousand.
inline constexpr std::uint64_t kOnnxMaxNodes = std::uint64_t{1} << 22;
/// Tensors checked in one model (initializers, sparse parts and attribute tensors together).
inline constexpr std::uint64_t kOnnxMaxTensors = std::uint64_t{1} << 22;
/// Graphs walked in one model: the main graph, subgraphs in attributes, functions and
/// training graphs together. Nesting depth is bounded by kProtobufMaxDepth.
inline constexpr std::uint64_t kOnnxMaxGraphs = std::uint64_t{1} << 16;
/// Model-local functions and opset_import domains remembered (to resolve nodes against them).
inline constexpr std::size_t kOnnxMaxFunctions = 65536;
/// Distinct operator domains tracked for the custom-domain report.
inline constexpr std::size_t kOnnxMaxDomains = 1024;
/// Distinct external data files looked up beside the model (their sizes are remembered).
inline constexpr std::size_t kOnnxMaxExternalFiles = 4096;
/// Characters kept of one name, location or attribute value for evidence.
inline constexpr std::size_t kOnnxMaxKeptString = 200;
/// Anomalies of one code reported per model; the first ones carry the information.
inline constexpr int kOnnxMaxAnomaliesPerCode = 8;

// --- safetensors (src/formats/safetensors/) ---
/// The format's own cap on the JSON header (safetensors refuses larger headers).
inline constexpr std::uint64_t kSafetensorsMaxHeader = 100'000'000;
/// Anomalies of one code reported per file; the rest are counted in one last anomaly, so a
/// header of a million bad tensors gives bounded output.
inline constexpr std::uint64_t kSafetensorsMaxAnomaliesPerCode = 8;

// --- configs that name code (src/formats/hfconfig/) ---
/// Largest config.json / tokenizer_config.json / MANIFEST.json read (real ones are at most a
/// few MB; a tokenizer config with every added token spelled out reaches ~20 MB).
inline constexpr std::uint64_t kHfConfigMaxBytes = std::uint64_t{64} << 20;
/// JSON values kept from the parts of one config that are checked (auto_map, chat_template,
/// TorchServe's model, modules.json entries); the rest of the file is only parsed.
inline constexpr std::size_t kHfConfigMaxValues = 100'000;

// --- GGUF (src/formats/gguf/) and Jinja templates (src/formats/template/) ---
/// Tensor infos read from one GGUF file (real models have at most a few thousand; each kept
/// info costs about 200 bytes, so this bounds memory to ~50 MB while any real file is read
/// whole).
inline constexpr std::uint64_t kGgufMaxTensors = std::uint64_t{1} << 18;
/// Metadata keys read from one GGUF file (real files have a few dozen).
inline constexpr std::uint64_t kGgufMaxKeys = std::uint64_t{1} << 20;
/// Longest metadata key kept (the GGUF spec caps keys at 65,535 bytes).
inline constexpr std::uint64_t kGgufMaxKeyBytes = 65535;
/// Bytes of metadata keys kept per file for the duplicate check (real files: a few KB).
inline constexpr std::uint64_t kGgufMaxKeptBytes = std::uint64_t{16} << 20;
/// Nesting of GGUF arrays of arrays followed (llama.cpp itself refuses any nesting).
inline constexpr int kGgufMaxArrayDepth = 16;
/// Anomalies of one code reported per GGUF file; the rest are counted in one last anomaly.
inline constexpr std::uint64_t kGgufMaxAnomaliesPerCode = 8;
/// Bytes of metadata strings checked as Jinja templates in one GGUF file, all together (the
/// check takes up to ~0.7 s per MiB of hostile template).
inline constexpr std::uint64_t kGgufMaxTemplateBytes = std::uint64_t{4} << 20;
/// Longest template checked; real chat templates are under 50 KB. Past it only the start is
/// checked (and that is a finding). The check holds one tag's tokens at a time, about 80
/// bytes per token, so this also bounds its memory (~80 MB for a 1 MiB tag of one-byte tokens).
inline constexpr std::size_t kTemplateMaxBytes = 1u << 20;
/// Issues reported per template; the first ones carry the information.
inline constexpr std::size_t kTemplateMaxIssues = 64;

// --- TorchScript code (src/formats/torchscript/) ---
/// Largest code file read from a TorchScript archive (code/**/*.py). torch.jit.save writes one
/// file per class or function module; the largest in every scripted torchvision model is
/// under 100 KB. Past it only the start is read, and the rest is reported as not checked.
inline constexpr std::uint64_t kTorchScriptMaxCodeBytes = std::uint64_t{4} << 20;
/// Issues of one kind reported per code file; the first ones carry the information.
inline constexpr std::size_t kTorchScriptMaxIssuesPerKind = 8;
/// Parentheses and getattr() calls looked through around one reference (`((ops).x).y`);
/// torch.jit.save writes at most one level. Deeper is reported as not checked.
inline constexpr int kTorchScriptMaxNesting = 32;
/// Namespaces one local name may be bound to in one file (`_0 = ops` ...); torch.jit.save
/// never binds a name to a namespace. More is reported as not checked.
inline constexpr std::size_t kTorchScriptMaxBindings = 16;

// --- Hydra / NeMo YAML configs (src/formats/hydra/) ---
/// Largest YAML config read (a NeMo model_config.yaml is a few KB).
inline constexpr std::uint64_t kHydraMaxBytes = std::uint64_t{16} << 20;
/// Target keys reported from one config.
inline constexpr std::size_t kHydraMaxTargets = 10'000;
/// YAML nodes (scalars, sequences, mappings) kept from one file: about 100 bytes each, so at
/// most ~50 MB; a NeMo config has a few thousand. Past it the rest is reported as not checked.
inline constexpr std::size_t kYamlMaxNodes = 500'000;
/// Nodes visited while walking one file, counting an aliased subtree once per alias that
/// reaches it (a "billion laughs" file reaches 10^9 nodes from a few hundred bytes).
inline constexpr std::size_t kYamlMaxVisits = 2'000'000;
/// Nested interpolations followed to resolve one value (`${a}` naming `${b}` ...). OmegaConf
/// has no such limit but a real config needs two or three; a cycle never ends.
inline constexpr int kOmegaConfMaxDepth = 32;
/// Steps (interpolations and path segments) spent resolving one target value.
inline constexpr std::size_t kOmegaConfMaxSteps = 10'000;
/// Longest string an interpolation is resolved to; longer is not a Python name anyway.
inline constexpr std::size_t kOmegaConfMaxText = 4096;

// --- Hugging Face Hub (src/hub/) ---
/// Bytes asked for at least, per range request (a format's first look fits in one).
inline constexpr std::size_t kRemoteBlockBytes = 64 * 1024;
/// Bytes asked for by a tiny read (under 512 bytes) far from anything read so far: a format
/// probing for a signature at several offsets (HDF5 looks at 0, 512, 1024, 2048, ...).
inline constexpr std::size_t kRemoteProbeBytes = 4 * 1024;
/// Bytes kept in one remote file's block cache.
inline constexpr std::size_t kRemoteCacheBytes = 64u << 20;
/// Largest single read from a remote file; a parser wanting more in one piece gets an error.
inline constexpr std::size_t kRemoteMaxView = 256u << 20;
/// Default cap on bytes downloaded for one remote file (--hf-max-fetch).
inline constexpr std::uint64_t kRemoteDefaultMaxFetch = std::uint64_t{1} << 30;
/// A server that ignores Range and answers 200 with the whole body is accepted only for files
/// up to this size; for larger ones the transfer is abandoned and the file is an error.
inline constexpr std::size_t kRemoteWholeFileBytes = 16u << 20;
/// Largest API response (repo info, one tree page) read.
inline constexpr std::size_t kHubMaxApiBody = 32u << 20;
/// JSON values (counted before parsing) in one API response: a tree page holds about ten per
/// file, repo info two per file; the cap bounds the parser's memory (~100 bytes a value).
inline constexpr std::size_t kHubMaxJsonValues = 2'000'000;
/// Tree pages followed and files listed per repo.
inline constexpr int kHubMaxPages = 10000;
inline constexpr std::size_t kHubMaxFiles = 1'000'000;
/// Total bytes of file paths kept from one listing (bounds memory against long hostile paths).
inline constexpr std::size_t kHubMaxPathBytes = 256u << 20;
/// A stored member checked against its CRC only when it is smaller than this in a remote
/// file (checking a larger one would mean downloading it).
inline constexpr std::uint64_t kRemoteCrcMaxBytes = 4u << 20;

}  // namespace mscan::limits
