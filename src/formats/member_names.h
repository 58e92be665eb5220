// Container member names, shared by the zip and archive readers: shown safely in evidence, and
// judged for what extracting them would do.
#pragma once

#include <string>
#include <string_view>

namespace mscan {

/// The name with control and non-ASCII bytes as \xNN escapes, cut to 200 characters.
std::string printable(std::string_view name);

/// Why extracting a member of this name writes outside the extraction folder ("is an
/// absolute path", "starts with a drive letter", "has a '..' component"), or nullptr.
const char* unsafe_path(std::string_view name);

}  // namespace mscan
