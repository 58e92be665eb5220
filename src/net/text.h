// Small text helpers for HTTP headers, URLs and environment values.
#pragma once

#include <cctype>
#include <string>
#include <string_view>

#include "util/text.h"

namespace mscan::hub {

/// `s` without leading and trailing white space (including CR and LF).
inline std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
        s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.remove_suffix(1);
    return s;
}

}  // namespace mscan::hub
