// The configuration file: mscan.toml, .mscan.toml, or [tool.mscan] in pyproject.toml, found in
// the current directory or a parent (as Python tools find theirs). It sets CLI defaults,
// changes or disables rules, extends the allowlist, and suppresses reviewed findings.
#pragma once

#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "mscan/finding.h"
#include "mscan/policy.h"
#include "mscan/scan.h"

namespace mscan {

/// A configuration problem: the message names the file, line and key (exit code 4).
class ConfigError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct RuleOverride {
    std::string id;
    std::optional<Severity> severity;
    bool enabled = true;
    std::string origin;  // "FILE:LINE"
};

struct Config {
    /// The file read (empty: none).
    std::string file;
    std::optional<std::string> fail_on;
    std::optional<std::string> format;
    std::optional<unsigned> jobs;
    std::optional<std::string> revision;
    std::optional<std::string> hf_max_fetch;
    std::optional<int> hf_retries;
    std::optional<std::string> baseline;
    /// Rule directories, made absolute relative to the configuration file's folder.
    std::vector<std::string> rules;
    std::vector<std::string> include;
    std::vector<std::string> exclude;
    std::vector<std::string> allow;
    std::vector<RuleOverride> rule_overrides;
    std::vector<Suppression> suppressions;
    /// Key → "FILE:LINE" for every value set by the file.
    std::map<std::string, std::string> origins;
};

/// Reads a baseline written by write_baseline(). Throws ConfigError.
Baseline load_baseline(const std::string& path);
/// Writes every finding not suppressed by the configuration as a baseline (JSON, sorted).
void write_baseline(std::ostream& out, const ScanResult& result);

/// The configuration file that applies in `start_dir`: the nearest folder (start_dir, then
/// its parents) holding .mscan.toml, mscan.toml, or a pyproject.toml with a [tool.mscan]
/// table, in that order. Empty when there is none.
std::string find_config(const std::string& start_dir);

/// Reads a configuration file (a pyproject.toml is read from its [tool.mscan] table). Throws
/// ConfigError naming the file, line and key for unknown keys and bad values.
Config load_config(const std::string& path);

}  // namespace mscan
