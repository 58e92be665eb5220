// Findings: what the rule engine concludes from operations, ready for reporters.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mscan/operation.h"

namespace mscan {

/// Severity, ordered so that a larger value is worse.
enum class Severity { Info = 0, Low = 1, Medium = 2, High = 3, Critical = 4 };

/// "critical", "high", ... (lower case, as in rule files and JSON).
std::string_view severity_name(Severity s);
/// Parses a lower-case severity name.
std::optional<Severity> parse_severity(std::string_view name);

/// One reported problem.
struct Finding {
    std::string rule_id;
    Severity severity = Severity::Info;
    std::string title;
    /// One sentence saying what was found, naming the global or anomaly.
    std::string message;
    /// One line on why it matters (from the rule).
    std::string why;
    /// The global name or anomaly code the rule matched.
    std::string subject;
    std::string evidence;
    Location location;
    /// How many identical findings (same rule, subject, evidence) were folded into this one.
    std::uint64_t occurrences = 1;
    /// Stable hex fingerprint: rule, location chain (the file named by its path inside the
    /// scanned target, so the same file scanned from another folder or machine matches),
    /// stream, subject and evidence.
    std::string fingerprint;
    /// Accepted findings stay in JSON and SARIF but fail nothing: "config" (a [[suppress]]
    /// entry of the configuration file) or "baseline" (in the --baseline file); empty if not.
    std::string suppressed;
    /// Why it was accepted (the suppression's reason, or which baseline file).
    std::string justification;
};

}  // namespace mscan
