// mscan's command-line options: their names, help text and checks (CLI11), and the values they
// hold as given, before a configuration file is read (settings.h merges that in).
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cli/exit_codes.h"

namespace mscan::cli {

/// The value of every option; an option not given holds its default.
struct OptionValues {
    std::vector<std::string> targets;
    std::string format = "text";
    std::string output;
    std::string fail_on = "medium";
    std::vector<std::string> rule_dirs;
    std::vector<std::string> allow;
    unsigned jobs = 0;
    std::vector<std::string> include;
    std::vector<std::string> exclude;
    std::string revision;
    /// --hf-max-fetch as written ("200M"); empty: the default.
    std::string max_fetch_text;
    int hf_retries = -1;
    bool hf_cache = false;
    bool no_progress = false;
    bool show_skipped = false;
    bool quiet = false;
    bool verbose = false;
    std::string color = "auto";
    bool no_color = false;
    bool no_timing = false;
    bool list_rules = false;
    std::string config_path;
    bool no_config = false;
    bool show_config = false;
    std::string baseline_path;
    std::string write_baseline_path;
    bool show_version = false;
};

/// What the command line said: the values, and which options it named.
struct CommandLine {
    OptionValues values;
    /// Long names ("--jobs") of the options given on the command line, however spelt.
    std::set<std::string, std::less<>> given;

    /// Whether the command line named `option` (its long name, "--jobs").
    bool was_given(std::string_view option) const { return given.count(option) > 0; }
};

/// Parses the arguments into `line`. Returns an exit code when parsing alone ends the run
/// (--help, printed on standard output), else nullopt. Throws UsageError for arguments that
/// do not parse.
std::optional<ExitCode> parse_command_line(int argc, char** argv, CommandLine& line);

}  // namespace mscan::cli
