#include "util/text_safety.h"

#include <cctype>
#include <cstdio>

namespace mscan {

std::string printable(std::string_view name) {
    std::string out;
    for (unsigned char c : name.substr(0, 200)) {
        if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
        } else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        }
    }
    if (name.size() > 200) out += "...";
    return out;
}

namespace {

/// Code points that draw nothing yet change how the text around them is shown: bidirectional
/// marks, embeddings, overrides and isolates (Trojan Source), zero-width joiners and spaces,
/// the line and paragraph separators, and the byte-order mark.
bool invisible_format(char32_t cp) {
    return (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202E) ||
           (cp >= 0x2060 && cp <= 0x2069) || cp == 0xFEFF || cp == 0x061C || cp == 0x180E;
}

/// Length of the valid UTF-8 sequence at the start of `s` and its code point, or 0 if it is
/// not one (overlong forms, surrogates and values past U+10FFFF are not valid).
std::size_t utf8_sequence(std::string_view s, char32_t& cp) {
    const auto b0 = static_cast<unsigned char>(s[0]);
    std::size_t n = 0;
    char32_t min = 0;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        n = 2, cp = b0 & 0x1F, min = 0x80;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        n = 3, cp = b0 & 0x0F, min = 0x800;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        n = 4, cp = b0 & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (s.size() < n) return 0;
    for (std::size_t i = 1; i < n; ++i) {
        const auto b = static_cast<unsigned char>(s[i]);
        if ((b & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

}  // namespace

std::string terminal_safe(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    char buf[16];
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
            ++i;
            continue;
        }
        char32_t cp = 0;
        const std::size_t n = c >= 0x80 ? utf8_sequence(text.substr(i), cp) : 0;
        if (n == 0) {
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
            ++i;
        } else if (cp < 0xA0 || invisible_format(cp)) {  // C1 controls, then format marks
            std::snprintf(buf, sizeof buf, "\\u{%04X}", static_cast<unsigned>(cp));
            out += buf;
            i += n;
        } else {
            out.append(text.substr(i, n));
            i += n;
        }
    }
    return out;
}

const char* unsafe_path(std::string_view name) {
    if (name.empty()) return nullptr;
    if (name.front() == '/' || name.front() == '\\') return "is an absolute path";
    if (name.size() >= 2 && name[1] == ':' && std::isalpha(static_cast<unsigned char>(name[0])))
        return "starts with a drive letter";
    std::size_t start = 0;
    while (start <= name.size()) {
        std::size_t end = name.find_first_of("/\\", start);
        if (end == std::string_view::npos) end = name.size();
        if (name.substr(start, end - start) == "..") return "has a '..' component";
        start = end + 1;
    }
    return nullptr;
}

const char* link_escapes(std::string_view link_name, std::string_view target, bool hard_link) {
    if (target.empty()) return nullptr;
    if (target.front() == '/' || target.front() == '\\') return "is absolute";
    if (target.size() >= 2 && target[1] == ':' &&
        std::isalpha(static_cast<unsigned char>(target[0])))
        return "is absolute (a drive letter)";
    // Depth below the root of the folder the target is resolved from.
    long depth = 0;
    auto walk = [&depth](std::string_view path, bool last_is_file) {
        std::size_t start = 0;
        while (start <= path.size()) {
            std::size_t end = path.find_first_of("/\\", start);
            if (end == std::string_view::npos) end = path.size();
            const std::string_view part = path.substr(start, end - start);
            const bool last = end == path.size();
            if (part == "..") {
                if (--depth < 0) return false;
            } else if (!part.empty() && part != "." && !(last && last_is_file)) {
                ++depth;
            }
            start = end + 1;
        }
        return true;
    };
    if (!hard_link && !walk(link_name, /*last_is_file=*/true))
        return "climbs above the archive's root";
    // Every step of the target counts, its last part too ("dir/.." is the folder itself).
    if (!walk(target, /*last_is_file=*/false)) return "climbs above the archive's root";
    return nullptr;
}

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp > 0x10FFFF) cp = 0xFFFD;
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

int hex_value(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace mscan
