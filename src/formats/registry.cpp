// The format table and content-based detection.
#include "formats/registry.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "formats/pickle/pickle_format.h"

namespace mscan {
namespace {

constexpr std::array kFormats = {
    Format{"pickle", "Python pickle stream (protocols 0-5), possibly several back to back",
           pickle::detect, pickle::parse},
};

std::string lower_extension(std::string_view path) {
    const auto slash = path.find_last_of('/');
    const auto dot = path.find_last_of('.');
    if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash))
        return {};
    std::string ext(path.substr(dot));
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return ext;
}

}  // namespace

std::span<const Format> formats() {
    return kFormats;
}

const Format* detect_format(Source& source, std::string_view path) {
    const std::string ext = lower_extension(path);
    for (const auto& format : kFormats) {
        if (format.detect(source, ext)) return &format;
    }
    return nullptr;
}

}  // namespace mscan
