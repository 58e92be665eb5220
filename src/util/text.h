// Small text helpers used across the layers (one copy each): ASCII lower case and hex numbers
// for evidence. Text made safe for a terminal or a report is util/text_safety.h's
// printable().
#pragma once

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>

namespace mscan::util {

/// ASCII lower case (file extensions, host and header names, option values); other bytes kept.
inline std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

/// Bytes of the input viewed as text (no copy, no check: what the bytes mean is the caller's).
inline std::string_view as_text(std::span<const std::uint8_t> bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

/// "0x0a": one byte as written in evidence (always two digits).
inline std::string hex_byte(std::uint8_t b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02x", static_cast<unsigned>(b));
    return buf;
}

/// "00000000deadbeef": a 64-bit value as 16 hex digits, no prefix (fingerprints).
inline std::string hex64(std::uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return buf;
}

/// "0x1f": a number as written in evidence (offsets, sizes, field values).
inline std::string hex(std::uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

}  // namespace mscan::util
