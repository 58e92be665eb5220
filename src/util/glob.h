// Include/exclude glob patterns over paths inside a target (--include, --exclude, and the
// paths of suppressions), matched with fnmatch(3) one path component or the whole path.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace mscan {

/// Whether `relative` (a path inside a target) passes the include/exclude globs; the reason
/// it does not otherwise.
std::optional<std::string> glob_rejects(const std::string& relative,
                                        const std::vector<std::string>& include,
                                        const std::vector<std::string>& exclude);

}  // namespace mscan
