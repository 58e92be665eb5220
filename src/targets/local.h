// Local targets: a file, or every file under a directory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mscan/scan.h"
#include "targets/work.h"

namespace mscan {

/// Adds a local target to `work`: the file itself, or every file under the directory (real
/// subdirectories first, then symbolic links to directories not walked yet; nothing dropped
/// without a word). A target that does not exist is a failed work item and counts in
/// `target_errors`.
void collect(const std::string& target, std::vector<Work>& work, std::uint64_t& target_errors,
             const ScanOptions& options);

}  // namespace mscan
