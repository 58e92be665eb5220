// Content detection of pickle streams, protocol 0/1 ones included: a bounded check that the
// bytes are an opcode sequence CPython's unpickler would accept, up to the first point where
// loading could do something (a GLOBAL or INST naming an importable name), a STOP, or the end
// of a probe window. It trusts nothing about the file's name.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "mscan/source.h"

namespace mscan::pickle {

/// What the probe found.
struct PickleProbe {
    /// The source starts like a pickle the loader would read: PROTO 0-5, or a well-formed
    /// opcode sequence that reaches a GLOBAL/INST with an importable name, a STOP, or the end
    /// of the probe window.
    bool pickle = false;
    /// Not a full match, but every opcode until the end of the data was well formed (a
    /// protocol 0/1 pickle cut off before anything could run).
    bool truncated = false;
    /// Where the probe stopped, and why it refused (empty when `pickle`).
    std::uint64_t stopped_at = 0;
    std::string why;
};

/// Probes `source` from its first byte. Reads at most kDetectProbeBytes of opcodes, plus the
/// operands of opcodes that start inside that window (text lines up to kPickleMaxTextLine,
/// length-prefixed payloads are skipped by length) and a short run of opcodes after such an
/// operand.
PickleProbe plausible_pickle(Source& source);

/// Whether `s` is UTF-8 as CPython's strict decoder takes it (no overlongs, nothing past
/// U+10FFFF; encoded surrogates only with `allow_surrogates`, the "surrogatepass" handler
/// _pickle.c uses for BINUNICODE operands; GLOBAL/INST lines are decoded "strict").
bool valid_utf8(std::string_view s, bool allow_surrogates = false);

/// Whether `text` is a module or attribute path CPython could import or look up: valid
/// UTF-8 (the unpickler decodes GLOBAL operands as strict UTF-8 and fails otherwise),
/// non-empty, dot-separated identifiers.
bool importable_name(std::string_view text, bool allow_dots);

}  // namespace mscan::pickle
