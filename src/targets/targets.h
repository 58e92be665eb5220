// Targets into work: what mscan was asked to scan (paths, standard input, hf:// repos and
// files, web URLs of the Hub, the Hugging Face cache) becomes one list of work items, each a
// file to read or a target that failed before any byte was read.
#pragma once

#include <memory>
#include <vector>

#include "mscan/scan.h"
#include "net/http.h"
#include "targets/progress.h"
#include "targets/work.h"

namespace mscan {

/// The work of one scan, sorted by path with duplicates removed.
struct TargetList {
    std::vector<Work> work;
    /// The HTTP client the listing used, kept for reading the remote files (null when no
    /// target was remote).
    std::unique_ptr<hub::HttpClient> http;
};

/// Expands `options.targets` (and --hf-cache) into work. Repos listed go to `result.repos`;
/// targets that failed count in `result.target_errors` and are failed work items.
TargetList expand_targets(const ScanOptions& options, ProgressReporter& progress,
                          ScanResult& result);

}  // namespace mscan
