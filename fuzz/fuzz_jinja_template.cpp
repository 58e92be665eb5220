// Fuzz target for the Jinja template check: any bytes, checked as template text (the lexer's
// strings, comments, raw blocks and bracket balance; the constant evaluator of keys, ranges
// and repetitions). Must never crash, hang or recurse without bound.
#include <cstdint>
#include <string_view>

#include "formats/jinja_template/jinja_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto issues = mscan::jinja::check_template(text);
    for (const auto& issue : issues) {
        if (issue.offset > size) __builtin_trap();
    }
    (void)mscan::jinja::looks_like_template(text);
    return 0;
}
