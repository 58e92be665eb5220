// Small text helpers for HTTP headers, URLs and environment values.
#pragma once

#include <cctype>
#include <string>
#include <string_view>

namespace mscan::hub {

/// ASCII lower case (host names, header names, flag values).
inline std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

/// `s` without leading and trailing white space (including CR and LF).
inline std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
        s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.remove_suffix(1);
    return s;
}

}  // namespace mscan::hub
