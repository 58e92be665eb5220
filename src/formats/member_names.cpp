#include "formats/member_names.h"

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

}  // namespace mscan
