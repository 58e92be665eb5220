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
/// Memo entries tracked. Each costs 4 bytes (a handle), so 64 Mi entries is 256 MB at worst;
/// a 200 MB dense pickle has ~16 Mi entries. Past this, entries read back as unknown values.
inline constexpr std::size_t kPickleMaxMemo = std::size_t{1} << 26;
/// Memo keys (BINPUT/LONG_BINPUT) above this are stored sparsely in a map, not the vector.
inline constexpr std::uint64_t kPickleDenseMemoSlack = 1 << 16;
/// Values kept with full content in the memo side table (strings, tuples, globals, calls).
/// Beyond it, memo entries keep only their kind: enough for stack semantics, not evidence.
inline constexpr std::size_t kPickleMaxKeptValues = 1 << 20;
/// Total text bytes kept for memoised strings (evidence and STACK_GLOBAL operands).
inline constexpr std::size_t kPickleMaxKeptTextBytes = 32u << 20;
/// Longest string kept verbatim; longer ones keep a prefix for evidence and are not names.
inline constexpr std::size_t kPickleMaxKeptString = 512;
/// Longest module or qualified name accepted as a global; Python's own are far shorter.
inline constexpr std::size_t kPickleMaxNameLength = 1024;
/// Container items kept per list/tuple/dict for evidence; the rest are counted only.
inline constexpr std::size_t kPickleMaxKeptItems = 16;
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
/// Consumed input is released from memory (madvise) in chunks of this size.
inline constexpr std::uint64_t kReleaseChunk = 16u << 20;

}  // namespace mscan::limits
