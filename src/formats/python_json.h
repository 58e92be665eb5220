// JSON read the way Python's json module reads it, because that is what the loaders of the
// configs mscan checks use (transformers, Keras, sentence-transformers, diffusers, TorchServe):
// json.loads(bytes) detects UTF-8 (with or without a BOM), UTF-16 and UTF-32; the grammar
// accepts NaN, Infinity and -Infinity; escapes are decoded before keys are compared
// ("class\u005fname" is class_name); a key given twice keeps its last value. A stricter parser
// stops where Python reads on, and whatever follows (a Lambda layer, an auto_map) goes unread.
//
// The parser is iterative (nesting costs heap, not stack, and is capped) and reports to an
// nlohmann SAX handler, so that a caller keeps only what it needs of a large file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "mscan/source.h"

namespace mscan::pyjson {

/// The encodings json.loads(bytes) tells apart (json.detect_encoding).
enum class Encoding { Utf8, Utf8Bom, Utf16Le, Utf16Be, Utf32Le, Utf32Be };

/// What json.detect_encoding says of `bytes`: a BOM, or the pattern of zero bytes at the start.
Encoding detect_encoding(std::span<const std::uint8_t> bytes);

/// The text of `bytes` as UTF-8, decoded as json.loads(bytes) decodes it (a BOM dropped; lone
/// UTF-16 surrogates kept, as 'surrogatepass' keeps them). nullopt with `error` set when
/// Python could not decode it either. UTF-8 input is passed through as it is.
std::optional<std::string> decode(std::span<const std::uint8_t> bytes, std::string& error);

/// How a parse ended.
struct Result {
    bool ok = false;
    std::string error;       ///< why it stopped (empty when ok or when the handler stopped it)
    std::size_t offset = 0;  ///< where, in bytes of the UTF-8 text
    bool too_deep = false;   ///< nested deeper than max_depth
    bool stopped = false;    ///< the handler returned false
};

/// Parses `text` (UTF-8) with Python's JSON grammar, reporting each value to `sax` (its
/// parse_error is never called: the Result says what went wrong). Leading and trailing
/// whitespace is allowed, anything else after the value is an error ("Extra data").
Result parse(std::string_view text, nlohmann::json_sax<nlohmann::json>& sax, int max_depth = 1024);

/// The whole document as a DOM (for small files: a config's value, a test), or nullopt with
/// the Result saying why.
std::optional<nlohmann::json> parse_value(std::string_view text, Result& result,
                                          int max_depth = 1024);

/// Calls `on_key(key, depth)` for every object key in `text` (depth 1: the keys of the top-level
/// object, 2: of the objects inside it or inside a top-level array, ...), escapes decoded,
/// until it returns false. No values are kept.
Result for_each_key(std::string_view text,
                    const std::function<bool(const std::string& key, int depth)>& on_key,
                    int max_depth = 1024);

/// Whether `text`, once whitespace is skipped, starts a JSON object ('{') or array ('[').
bool starts_like_json(std::string_view text, bool object_only = false);

/// The same for the start of a file, decoded as json.loads(bytes) would decode it (a BOM,
/// UTF-16, UTF-32).
bool starts_like_json(Source& source, bool object_only = false);

}  // namespace mscan::pyjson
