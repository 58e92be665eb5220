// The rule files compiled into the binary (generated from rules/*.json at build time).
#pragma once

#include <span>
#include <string_view>

namespace mscan {

struct EmbeddedFile {
    const char* name;
    std::string_view text;
};

/// Every rules/*.json file, sorted by name.
std::span<const EmbeddedFile> embedded_rule_files();

}  // namespace mscan
