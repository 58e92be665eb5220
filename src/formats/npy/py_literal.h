// A bounded reader of Python literals as ast.literal_eval accepts them (numpy parses .npy
// headers with it): strings with every Python escape, prefixes, both quote styles, triple
// quotes and implicit concatenation; ints in every base with underscores; floats and complex
// numbers (kept only as "a number that is not an int"); tuples, lists, dicts, sets, True,
// False, None and Ellipsis; comments and line continuations. Names, calls and operators other
// than a sign on a number are refused, as literal_eval refuses them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mscan::numpy {

/// A Python literal value.
struct PyValue {
    enum class Type { None, Bool, Int, Float, Str, Bytes, Ellipsis, Tuple, List, Dict, Set };
    Type type = Type::None;
    /// Int, Bool: the value (Int: saturated when `big`).
    std::int64_t number = 0;
    /// Int: the value does not fit in a signed 64-bit integer.
    bool big = false;
    /// Str: the text, UTF-8 encoded (a code point \N{...} mscan does not know is U+FFFD);
    /// Bytes: the bytes.
    std::string text;
    /// Str: every character is ASCII and known (no unknown \N{...} name).
    bool ascii = true;
    /// Tuple, List, Set: the items; Dict: key, value, key, value, ... in source order.
    std::vector<PyValue> items;
};

/// How the header text is decoded before parsing (numpy: latin1 for format 1.0 and 2.0,
/// UTF-8 for 3.0), and whether numpy's Python 2 clean-up (a name "L" right after a number
/// is dropped) runs first (formats 1.0 and 2.0).
struct PyLiteralOptions {
    bool utf8 = false;
    bool drop_long_suffix = true;
};

/// Parses `text` as one Python literal. False with `error` set if literal_eval would refuse
/// it (or it exceeds the parser's depth or size bounds).
bool parse_py_literal(std::string_view text, const PyLiteralOptions& options, PyValue& out,
                      std::string& error);

/// A short Python-like rendering for evidence (strings quoted, non-printable bytes escaped),
/// at most about `limit` characters.
std::string render_py(const PyValue& value, std::size_t limit = 200);

}  // namespace mscan::numpy
