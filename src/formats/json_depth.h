// JSON nesting depth measured before parsing, so that a recursive parser never meets input
// deep enough to exhaust the stack.
#pragma once

#include <algorithm>
#include <string_view>

namespace mscan {

/// The deepest nesting of objects and arrays in `text` (strings are skipped), stopping early
/// once it passes `cap`.
inline int json_nesting_depth(std::string_view text, int cap) {
    int depth = 0, deepest = 0;
    bool in_string = false, escaped = false;
    for (const char c : text) {
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            deepest = std::max(deepest, ++depth);
            if (deepest > cap) return deepest;
        } else if (c == '}' || c == ']') {
            --depth;
        }
    }
    return deepest;
}

}  // namespace mscan
