// Running the scan: the last usage checks, the scan itself, the baseline and report files,
// and the exit code the outcome maps to.
#pragma once

#include <optional>

#include "cli/exit_codes.h"
#include "cli/settings.h"
#include "mscan/policy.h"

namespace mscan::cli {

/// Scans the targets, writes the baseline (--write-baseline) and the report, prints the
/// errors a report on standard output would not show, and returns the exit code. Throws
/// UsageError for a problem in the request, before the scan, or for a report or baseline
/// that would overwrite a file the scan read, after it (nothing is written then).
ExitCode scan_and_report(const Settings& settings, std::optional<Baseline> baseline);

}  // namespace mscan::cli
