// What mscan prints instead of scanning: --show-config (the settings in effect and where each
// came from), --list-rules and --version. Each writes standard output only.
#pragma once

#include "cli/settings.h"
#include "mscan/rules.h"

namespace mscan::cli {

/// --show-config: the configuration file, then one line per setting with its origin, then
/// the file's [rule.<id>] and [[suppress]] entries.
void print_settings(const Settings& settings);

/// --list-rules: one line per rule (id, severity, title), sorted by id.
void print_rule_list(const RuleSet& rules);

/// --version: "mscan X.Y.Z".
void print_version();

}  // namespace mscan::cli
