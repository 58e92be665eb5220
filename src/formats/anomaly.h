// The one shape of a problem a parser or sub-reader finds in its input: a typed anomaly code,
// the evidence, and where. Codes are declared once, as constants in the code header of the
// format that owns them (<fmt>/<fmt>_codes.h, cross-format ones in common_codes.h), each listed
// in that format's code table; tests/test_codes.cpp proves that every table code is claimed by
// exactly one rule (rules/*.json), that every claimed code is declared, and that every declared
// code is emitted somewhere. An emitter can only name a declared constant: AnomalyCode has no
// implicit constructor from text, so a raw string literal (and so a typo) does not compile.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mscan {

/// An anomaly code (gguf.malformed): the name a rule claims to give the anomaly a severity.
/// Constructed only at compile time, and by convention only in a format's code header (the
/// code test fails on a construction anywhere else).
class AnomalyCode {
  public:
    /// Declares a code. `text` is "<family>.<name>" and outlives the program (a literal).
    consteval explicit AnomalyCode(const char* text) : text_(text) {}

    /// The code as rules and reports spell it.
    constexpr std::string_view text() const { return text_; }
    /// As text, so a code can be stored in Operation::name or compared with it.
    constexpr operator std::string_view() const { return text_; }  // NOLINT: implicit on purpose

    friend constexpr bool operator==(AnomalyCode a, AnomalyCode b) { return a.text_ == b.text_; }
    /// Compares with a code held as text (an Operation's name, a sub-reader's record).
    friend constexpr bool operator==(AnomalyCode a, std::string_view text) {
        return a.text_ == text;
    }

  private:
    std::string_view text_;
};

/// One problem found in the input: what (code), why in words (evidence), and where.
/// Sub-readers that do not emit operations themselves (the HDF5 reader, the protobuf cursor's
/// callers) return these; their format reports them through ParseContext::report().
struct Anomaly {
    AnomalyCode code;
    /// Human-readable details, e.g. "object header continuation beyond end of file".
    std::string evidence;
    /// Byte offset in the object being read where the problem was found, or -1.
    std::int64_t offset = -1;
};

}  // namespace mscan
