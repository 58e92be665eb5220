// The command-line front end: parses arguments, resolves the settings, runs the scan, writes
// the report, and maps the outcome to an exit code. The only place that prints or exits; the
// steps live beside this file (options, settings, show, run_scan, exit_codes).
#include <iostream>

#include "cli/exit_codes.h"
#include "cli/options.h"
#include "cli/run_scan.h"
#include "cli/settings.h"
#include "cli/show.h"

namespace {

using namespace mscan::cli;

/// The run, in the order its checks are documented (docs/exit-codes.md): arguments, then the
/// settings and rules, then the informational options, then the scan.
ExitCode run(int argc, char** argv) {
    CommandLine line;
    if (const auto finished = parse_command_line(argc, argv, line)) return *finished;
    if (line.values.show_version) {
        print_version();
        return ExitCode::Clean;
    }
    const Settings settings = resolve_settings(line);
    if (settings.values.show_config) {
        print_settings(settings);
        return ExitCode::Clean;
    }
    std::optional<mscan::Baseline> baseline = load_baseline_to_compare(settings);
    if (settings.values.list_rules) {
        print_rule_list(settings.rules);
        return ExitCode::Clean;
    }
    return scan_and_report(settings, std::move(baseline));
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return exit_status(run(argc, argv));
    } catch (const UsageError& e) {
        std::cerr << "mscan: " << e.what() << "\n";
        return exit_status(ExitCode::Usage);
    }
}
