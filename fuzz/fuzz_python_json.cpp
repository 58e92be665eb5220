// Fuzz target for JSON read as Python's json.loads(bytes) reads it (formats/python_json.h):
// any bytes through encoding detection and the parser, as a DOM and as a key walk. Must never
// crash, hang or recurse. Invariants: the DOM and the key walk accept the same texts, and
// whatever parsed, once written back out by nlohmann, parses again.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "formats/python_json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string error;
    const auto text = mscan::pyjson::decode({data, size}, error);
    if (!text) return 0;
    mscan::pyjson::Result as_dom;
    const auto doc = mscan::pyjson::parse_value(*text, as_dom, 64);
    std::size_t keys = 0;
    const auto walked = mscan::pyjson::for_each_key(
        *text,
        [&keys](const std::string&, int) {
            ++keys;
            return true;
        },
        64);
    if (walked.ok != as_dom.ok || walked.offset != as_dom.offset) std::abort();
    if (doc) {
        const std::string again =
            doc->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        mscan::pyjson::Result second;
        if (!mscan::pyjson::parse_value(again, second, 65)) std::abort();
    }
    return 0;
}
