// mscan's exit codes in one table: the CLI returns its codes and prints the "Exit codes"
// section of --help from it, so the two cannot drift. docs/exit-codes.md explains each code
// and their precedence at length; a change here belongs there too.
#pragma once

#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

#include "mscan/policy.h"

namespace mscan::cli {

/// The process's exit status. Part of mscan's interface: CI gates rely on the values.
enum class ExitCode : int {
    Clean = 0,           ///< scanned; no finding at or above --fail-on
    Findings = 1,        ///< a finding at or above --fail-on (wins over errors)
    ScanError = 2,       ///< a target could not be scanned, or a report not written
    NothingScanned = 3,  ///< nothing scannable was found in the targets
    Usage = 4,           ///< usage, configuration or rules error
};

/// One row of the exit-code table.
struct ExitCodeEntry {
    ExitCode code;
    /// A short stable name for the code.
    std::string_view name;
    /// The line --help prints for it.
    std::string_view meaning;
};

/// Every exit code, in order of value.
inline constexpr std::array<ExitCodeEntry, 5> kExitCodes{{
    {ExitCode::Clean, "clean", "scanned; no finding at or above --fail-on"},
    {ExitCode::Findings, "findings",
     "at least one finding at or above --fail-on (wins over errors)"},
    {ExitCode::ScanError, "scan-error", "some target could not be scanned and no failing finding"},
    {ExitCode::NothingScanned, "nothing-scanned", "nothing scannable was found in the targets"},
    {ExitCode::Usage, "usage", "usage, configuration or rules error"},
}};

/// Row i holds code i, up to the last code: a row missing, duplicated or out of order does not
/// compile. (A new code comes after Usage; this check then names it as the last.)
constexpr bool exit_code_table_is_complete() {
    for (std::size_t i = 0; i < kExitCodes.size(); ++i)
        if (static_cast<std::size_t>(kExitCodes[i].code) != i) return false;
    return kExitCodes.back().code == ExitCode::Usage;
}
static_assert(exit_code_table_is_complete());

/// The value main() returns for `code`.
constexpr int exit_status(ExitCode code) {
    return static_cast<int>(code);
}

/// The "Exit codes:" section of --help: a heading, then one line per row of kExitCodes.
std::string exit_code_help();

/// The exit code for the library's verdict on a scan.
ExitCode exit_code_for(Verdict verdict);

/// A usage, configuration or rules error found by the CLI: main() prints "mscan: " and the
/// message on standard error and exits with ExitCode::Usage.
class UsageError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

}  // namespace mscan::cli
