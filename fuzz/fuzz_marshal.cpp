// Fuzz target for the marshal reader: any bytes, summarized under every code-object layout, and
// read as base64 text (then summarized again when it decodes). Must never crash, hang or grow
// memory without bound, and what it keeps must respect the caps.
#include <cstdint>
#include <string_view>
#include <vector>

#include "formats/keras/marshal_reader.h"
#include "mscan/limits.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> bytes(data, size);
    const auto check = [](const mscan::marshal::CodeSummary& s) {
        if (s.names.size() + s.string_constants.size() > mscan::limits::kMarshalMaxCollected)
            __builtin_trap();
        for (const auto& c : s.string_constants)
            if (c.size() > mscan::limits::kMarshalMaxString) __builtin_trap();
        if (s.layout.empty() == s.error.empty()) __builtin_trap();  // exactly one of them
    };
    check(mscan::marshal::summarize(bytes));
    std::vector<std::uint8_t> decoded;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (mscan::marshal::decode_base64(text, decoded)) {
        if (decoded.size() > size) __builtin_trap();
        check(mscan::marshal::summarize(decoded));
    }
    return 0;
}
