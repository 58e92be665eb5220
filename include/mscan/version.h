// mscan's version, shown by --version and written into JSON and SARIF reports.
#pragma once

namespace mscan {
inline constexpr const char* kVersion = "0.1.0";
inline constexpr const char* kInformationUri = "https://github.com/mscan-dev/mscan";
}  // namespace mscan
