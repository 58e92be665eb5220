// Reporters: one small file per output format behind one signature, listed in one table.
#pragma once

#include <cstddef>
#include <optional>
#include <ostream>
#include <span>
#include <string>

#include "mscan/rules.h"
#include "mscan/scan.h"

namespace mscan {

struct ReportOptions {
    /// Findings at or above this fail the run (none: never).
    std::optional<Severity> fail_on = Severity::Medium;
    /// ANSI colour in text output.
    bool color = false;
    /// Text: list skipped files with their reasons.
    bool show_skipped = false;
    /// Text: only findings and errors, no summary.
    bool quiet = false;
    /// Text: also list clean files, INFO findings and accepted findings.
    bool verbose = false;
    /// Text: wrap the summary and "why:" lines at word boundaries to this many columns (the
    /// terminal's width); 0 never wraps (output that is not a terminal).
    std::size_t width = 0;
    /// Text: show the elapsed time in the summary line. JSON and SARIF never carry timing,
    /// so they are byte-identical for the same input.
    bool timing = true;
};

using ReportFn = void (*)(std::ostream& out, const ScanResult& result, const RuleSet& rules,
                          const ReportOptions& options);

struct Reporter {
    const char* name;
    const char* description;
    ReportFn write;
};

/// Every output format, one entry each.
std::span<const Reporter> reporters();
const Reporter* find_reporter(std::string_view name);

/// The JSON report's schema version (documented in docs/json-schema.json).
inline constexpr int kJsonSchemaVersion = 1;

}  // namespace mscan
