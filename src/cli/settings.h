// The settings a run uses: the command line over the configuration file over the defaults,
// with where each one came from (--show-config prints that), and the rules those settings
// make. Every problem found here is a UsageError (exit code 4), raised before any scanning.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "cli/config.h"
#include "cli/options.h"
#include "mscan/policy.h"
#include "mscan/rules.h"

namespace mscan::cli {

/// Everything a run needs to know, resolved and checked.
struct Settings {
    /// The option values with the configuration file's merged in.
    OptionValues values;
    /// --hf-max-fetch in bytes (0: the default).
    std::uint64_t max_fetch = 0;
    /// The configuration file read (empty when none).
    Config config;
    /// Setting ("fail-on", "include") -> where its value came from: "default", the option
    /// ("--fail-on"), the file ("mscan.toml:3"), or both for lists ("mscan.toml:4 + --allow").
    std::map<std::string, std::string> origins;
    /// The built-in rules with --rules, the allowlist and the file's [rule.<id>] applied.
    RuleSet rules;
};

/// Resolves the settings from the command line and the configuration file it points to (or
/// the nearest one), and builds the rules. Throws UsageError.
Settings resolve_settings(const CommandLine& line);

/// The baseline to compare findings against: none without --baseline (or baseline = in the
/// file), nor when writing one (the old one need not exist). Throws UsageError.
std::optional<Baseline> load_baseline_to_compare(const Settings& settings);

}  // namespace mscan::cli
