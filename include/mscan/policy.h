// What a caller accepts and where its gate stands: suppressions (a configuration's
// [[suppress]] entries), a baseline of accepted findings, and the fail-on severity. scan()
// applies them (ScanOptions::policy) and gives the verdict the CLI's exit code is made of, so
// a program calling the library gets the same answer as `mscan` on the command line.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "mscan/finding.h"

namespace mscan {

struct ScanResult;

/// Findings of `rule` (an id, or "*") in files matching `path` (a glob on the file's path,
/// matched as --include matches) are accepted; `reason` is required and shows in reports.
struct Suppression {
    std::string rule;
    std::string path;
    std::string reason;
    std::string origin;  ///< "FILE:LINE" of the entry
};

/// A baseline: the fingerprints of findings accepted when it was written.
struct Baseline {
    std::string file;
    std::set<std::string> fingerprints;
};

struct Policy {
    std::vector<Suppression> suppressions;
    /// The folder suppression paths are relative to (the configuration file's); empty: none.
    std::string suppressions_base;
    std::optional<Baseline> baseline;
    /// Findings at or above it fail the scan; nullopt: none does ("never").
    std::optional<Severity> fail_on = Severity::Medium;
};

/// The outcome of a scan under a policy; the values are the CLI's exit codes.
enum class Verdict {
    Clean = 0,           ///< scanned; no finding at or above fail-on
    Findings = 1,        ///< a finding not suppressed or baselined at or above fail-on (wins)
    ScanError = 2,       ///< a target could not be read or scanned whole
    NothingScanned = 3,  ///< no target held a model format mscan reads
};

/// Marks the findings each suppression matches (kind "config", its reason as justification).
/// A suppression's path is a glob as for --include (without '/', it matches the file name),
/// matched against the path as reported and against a local file's path relative to
/// `base_dir`.
void apply_suppressions(ScanResult& result, const std::vector<Suppression>& suppressions,
                        const std::string& base_dir);
/// Marks findings whose fingerprint is in the baseline (kind "baseline").
void apply_baseline(ScanResult& result, const Baseline& baseline);
/// The verdict of a result whose suppressions and baseline are applied.
Verdict verdict(const ScanResult& result, std::optional<Severity> fail_on);

}  // namespace mscan
