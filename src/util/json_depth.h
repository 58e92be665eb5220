// JSON measured before parsing (nesting depth, number of values), so that a recursive parser
// never meets input deep enough to exhaust the stack or large enough to exhaust memory.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace mscan {

/// Calls `f(c)` for each character of `text` outside JSON strings, until `f` returns false.
template <typename F>
void for_each_json_structural(std::string_view text, F&& f) {
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
        } else if (!f(c)) {
            return;
        }
    }
}

/// The deepest nesting of objects and arrays in `text` (strings are skipped), stopping early
/// once it passes `cap`.
inline int json_nesting_depth(std::string_view text, int cap) {
    int depth = 0, deepest = 0;
    for_each_json_structural(text, [&](char c) {
        if (c == '{' || c == '[') {
            deepest = std::max(deepest, ++depth);
        } else if (c == '}' || c == ']') {
            --depth;
        }
        return deepest <= cap;
    });
    return deepest;
}

/// An upper bound on the values in `text`: one per '{', '[', ',' and ':' outside strings,
/// stopping early once it passes `cap`.
inline std::size_t json_value_count(std::string_view text, std::size_t cap) {
    std::size_t values = 0;
    for_each_json_structural(text, [&](char c) {
        if (c == '{' || c == '[' || c == ',' || c == ':') ++values;
        return values <= cap;
    });
    return values;
}

}  // namespace mscan
