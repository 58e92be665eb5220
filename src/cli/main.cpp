// The command-line front end: parses arguments, runs the scan, writes the report, and maps
// the outcome to an exit code. The only place that prints or exits.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "mscan/report.h"
#include "mscan/rules.h"
#include "mscan/scan.h"
#include "mscan/version.h"

namespace {

/// Exit codes, as documented in the README, docs/exit-codes.md and --help.
enum Exit : int {
    kClean = 0,           // scanned; no finding at or above --fail-on
    kFindings = 1,        // at least one finding at or above --fail-on (wins over errors)
    kScanError = 2,       // some target could not be scanned, and no failing finding
    kNothingScanned = 3,  // nothing scannable was found in the targets
    kUsage = 4,           // usage, configuration or rules error
};

constexpr const char* kExitHelp =
    "Exit codes:\n"
    "  0  scanned; no finding at or above --fail-on\n"
    "  1  at least one finding at or above --fail-on (wins over errors)\n"
    "  2  some target could not be scanned and no failing finding\n"
    "  3  nothing scannable was found in the targets\n"
    "  4  usage, configuration or rules error\n"
    "\n"
    "Examples:\n"
    "  mscan model.pkl\n"
    "  mscan -j 8 ./checkpoints/\n"
    "  mscan --format sarif -o mscan.sarif --fail-on critical models/\n"
    "  cat model.pkl | mscan -\n";

void list_rules(const mscan::RuleSet& rules) {
    for (const auto* r : rules.rules()) {
        std::printf("%-28s %-9s %s\n", r->id.c_str(),
                    std::string(mscan::severity_name(r->severity)).c_str(), r->title.c_str());
    }
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"mscan " + std::string(mscan::kVersion) +
                     " - find unsafe code in ML model files without loading them.",
                 "mscan"};
    app.footer(kExitHelp);
    app.get_formatter()->column_width(26);

    std::vector<std::string> targets;
    std::string format = "text";
    std::string output;
    std::string fail_on = "medium";
    std::vector<std::string> rule_dirs;
    std::vector<std::string> allow;
    bool show_list = false, show_version = false, quiet = false, verbose = false;
    bool show_skipped = false, no_color = false, no_timing = false;
    unsigned jobs = 0;

    app.add_option("targets", targets, "Files, directories (recursive), - for stdin")
        ->type_name("TARGET");
    std::string format_names;
    for (const auto& r : mscan::reporters())
        format_names += std::string(format_names.empty() ? "" : "|") + r.name;
    app.add_option("-f,--format", format, "Report format: " + format_names)
        ->type_name("FMT")
        ->check([](const std::string& v) {
            return mscan::find_reporter(v) ? std::string() : "unknown format '" + v + "'";
        });
    app.add_option("-o,--output", output, "Write the report to FILE, not stdout")
        ->type_name("FILE");
    app.add_option("--fail-on", fail_on,
                   "Exit 1 on a finding at or above LEVEL: critical, high,\n"
                   "medium (default), low, info, or never")
        ->type_name("LEVEL")
        ->check(
            CLI::IsMember({"critical", "high", "medium", "low", "info", "never"}).description(""));
    app.add_option("--rules", rule_dirs, "Add/override rules from DIR/*.json")
        ->type_name("DIR")
        ->allow_extra_args(false);  // one value per --rules; repeat the option for more
    app.add_option("--allow", allow, "Allow a global: exact name or prefix.*")
        ->type_name("NAME")
        ->allow_extra_args(false);
    app.add_option("-j,--jobs", jobs, "Files scanned in parallel (default: cores)")
        ->type_name("N")
        ->check(CLI::Range(1u, 1024u).description(""));
    app.add_flag("--show-skipped", show_skipped, "List files that are not a model format");
    app.add_flag("-q,--quiet", quiet, "Only findings and errors; no summary");
    app.add_flag("-v,--verbose", verbose, "Also list clean and skipped files");
    app.add_flag("--no-color", no_color, "No colour (also when NO_COLOR is set or not a TTY)");
    app.add_flag("--no-timing", no_timing, "No elapsed time in the text summary");
    app.add_flag("--list-rules", show_list, "List the rules (with --rules applied) and exit");
    app.add_flag("--version", show_version, "Print the version and exit");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::cerr << "mscan: " << e.what() << "\nRun 'mscan --help' for usage.\n";
        return kUsage;
    }
    if (show_version) {
        std::cout << "mscan " << mscan::kVersion << "\n";
        return kClean;
    }
    if (quiet && verbose) {
        std::cerr << "mscan: --quiet and --verbose cannot be combined\n";
        return kUsage;
    }

    mscan::RuleSet rules;
    try {
        rules = mscan::RuleSet::builtin();
        for (const auto& dir : rule_dirs)
            rules.load_directory(dir);
        for (const auto& entry : allow) {
            if (entry.empty() || entry == ".*") throw mscan::RuleError("--allow needs a name");
            rules.allow(entry);
        }
        rules.validate();
    } catch (const mscan::RuleError& e) {
        std::cerr << "mscan: rules error: " << e.what() << "\n";
        return kUsage;
    }
    if (show_list) {
        list_rules(rules);
        return kClean;
    }
    if (targets.empty()) {
        std::cerr
            << "mscan: no targets given (files, directories or -)\nRun 'mscan --help' for usage.\n";
        return kUsage;
    }

    mscan::ScanOptions options;
    options.targets = targets;
    options.jobs = jobs;
    const mscan::ScanResult result = mscan::scan(options, rules);

    mscan::ReportOptions report;
    report.fail_on = fail_on == "never" ? std::nullopt : mscan::parse_severity(fail_on);
    report.quiet = quiet;
    report.verbose = verbose;
    report.show_skipped = show_skipped;
    report.timing = !no_timing;
    const bool to_terminal = output.empty() && ::isatty(STDOUT_FILENO);
    report.color = to_terminal && !no_color && std::getenv("NO_COLOR") == nullptr;

    const mscan::Reporter* reporter = mscan::find_reporter(format);
    int write_error = 0;
    if (output.empty()) {
        reporter->write(std::cout, result, rules, report);
        std::cout.flush();
    } else {
        std::ofstream out(output, std::ios::binary | std::ios::trunc);
        if (!out) {
            std::cerr << "mscan: cannot write report to " << output << "\n";
            write_error = 1;
        } else {
            reporter->write(out, result, rules, report);
            out.close();
            if (!out) {
                std::cerr << "mscan: error writing report to " << output << "\n";
                write_error = 1;
            }
        }
    }

    const auto counts = mscan::count_files(result);
    for (const auto& file : result.files) {
        if (file.status == mscan::FileStatus::Error && (format != "text" || !output.empty())) {
            std::cerr << "mscan: " << file.path << ": " << file.reason << "\n";
        }
    }
    const auto worst = mscan::worst_severity(result);
    if (report.fail_on && worst && *worst >= *report.fail_on) return kFindings;
    if (counts.errors > 0 || write_error) return kScanError;
    if (counts.scanned == 0) {
        if (!quiet) std::cerr << "mscan: nothing scannable found in the targets\n";
        return kNothingScanned;
    }
    return kClean;
}
