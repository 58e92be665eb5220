// A bounded reader of CPython's marshal format, as Keras stores a Lambda layer's function
// (base64 of marshal.dumps(func.__code__)). It never runs or imports anything: it walks the
// serialized objects and collects what the code object names (co_names, nested code objects'
// names) and its constants, which is what a reviewer needs as evidence.
//
// marshal's code-object layout changes between Python versions; the reader knows the 3.8-3.10
// and 3.11-3.13 layouts (and 3.7) and picks the one under which the whole input parses.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mscan::marshal {

struct CodeSummary {
    /// Python versions whose layout the input parsed under, e.g. "3.11-3.13"; empty if none.
    std::string layout;
    /// co_name of the outermost code object ("<lambda>", "f", ...).
    std::string function_name;
    /// Every co_names entry (globals and attributes used), outermost first, then nested code
    /// objects in order; duplicates removed, first occurrence kept.
    std::vector<std::string> names;
    /// String and bytes constants (co_consts, nested too), in order, duplicates removed,
    /// each cut to kMarshalMaxString characters.
    std::vector<std::string> string_constants;
    /// Number of code objects (1 for a plain lambda).
    int code_objects = 0;
    /// Empty when the input parsed completely; otherwise why it stopped (e.g. "truncated at
    /// byte 41", "unknown type code 0x3f at byte 7", "nesting deeper than 64"). What was
    /// collected before the stop is still filled in.
    std::string error;
};

/// Summarizes marshaled bytes. Bounded: depth, object count, total collected bytes and
/// string lengths are capped (kMarshal* in mscan/limits.h). Never throws on bad input.
CodeSummary summarize(std::span<const std::uint8_t> bytes);

/// Decodes standard base64 (RFC 4648, with '=' padding; newlines as Python's
/// base64.encodebytes writes them are skipped). Returns false on any other character or bad
/// padding. `out` is cleared first.
bool decode_base64(std::string_view text, std::vector<std::uint8_t>& out);

}  // namespace mscan::marshal
