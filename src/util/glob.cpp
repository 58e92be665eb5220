// Include/exclude glob matching (util/glob.h).
#include "util/glob.h"

#include <fnmatch.h>

namespace mscan {

std::optional<std::string> glob_rejects(const std::string& relative,
                                        const std::vector<std::string>& include,
                                        const std::vector<std::string>& exclude) {
    // A pattern without '/' matches the file's name; one with '/' the path inside the target.
    // An exclude also matches the folders the file is in, the same way: "--exclude
    // node_modules" leaves out every folder of that name, "--exclude a/b" the folder a/b, with
    // all they hold. (An include names files: "--include '*.bin'" does not take in a folder
    // x.bin/.) A trailing '/' only says the pattern means a folder.
    auto matches = [&](std::string pattern, bool folders) {
        while (pattern.size() > 1 && pattern.back() == '/')
            pattern.pop_back();
        const bool whole_path = pattern.find('/') != std::string::npos;
        std::size_t start = folders ? 0 : relative.rfind('/') + 1;
        while (true) {
            const std::size_t end = relative.find('/', start);
            const std::string part =
                whole_path ? relative.substr(0, end) : relative.substr(start, end - start);
            if (::fnmatch(pattern.c_str(), part.c_str(), 0) == 0) return true;
            if (end == std::string::npos) return false;
            start = end + 1;
        }
    };
    for (const auto& pattern : exclude) {
        if (matches(pattern, true)) return "excluded by --exclude '" + pattern + "'";
    }
    if (include.empty()) return std::nullopt;
    for (const auto& pattern : include) {
        if (matches(pattern, false)) return std::nullopt;
    }
    return std::string("not matched by any --include pattern");
}

}  // namespace mscan
