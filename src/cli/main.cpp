// The command-line front end: parses arguments, runs the scan, writes the report, and maps
// the outcome to an exit code. The only place that prints or exits.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
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
    "  cat model.pkl | mscan -\n"
    "  mscan hf://org/name          a Hugging Face repo, before downloading\n"
    "  mscan hf://org/name@v1.0 --include '*.bin'\n"
    "  mscan https://huggingface.co/org/name/blob/main/model.pt\n"
    "  mscan --hf-cache             every model in the local Hugging Face cache\n"
    "\n"
    "Hugging Face targets: hf://[datasets/|spaces/]org/name[@REV][/path] or a\n"
    "Hub web URL. Files are read with HTTP range requests (only the bytes a\n"
    "format needs). As in the official clients: HF_TOKEN (then\n"
    "HUGGING_FACE_HUB_TOKEN, then the token file in HF_HOME), HF_ENDPOINT,\n"
    "HF_HUB_OFFLINE=1 (no request at all; the local cache is read instead),\n"
    "HF_HUB_CACHE. Details: docs/huggingface.md.\n";

/// "512", "64K", "200M", "2G" (powers of 1024) → bytes.
std::optional<std::uint64_t> parse_size(const std::string& text) {
    std::uint64_t value = 0;
    std::size_t i = 0;
    for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
        if (value > (UINT64_MAX - 9) / 10) return std::nullopt;
        value = value * 10 + static_cast<std::uint64_t>(text[i] - '0');
    }
    if (i == 0) return std::nullopt;
    std::string unit = text.substr(i);
    for (auto& c : unit)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (unit == "B") unit.clear();
    if (!unit.empty() && unit.back() == 'B') unit.pop_back();
    if (!unit.empty() && unit.back() == 'I') unit.pop_back();
    int shift = 0;
    if (unit == "K") shift = 10;
    else if (unit == "M") shift = 20;
    else if (unit == "G") shift = 30;
    else if (!unit.empty()) return std::nullopt;
    if (shift && value > (UINT64_MAX >> shift)) return std::nullopt;
    return value << shift;
}

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
    std::vector<std::string> include, exclude;
    std::string revision, max_fetch_text;
    bool hf_cache = false, no_progress = false;
    int hf_retries = -1;

    app.add_option("targets", targets, "Files, directories (recursive), - for stdin,\nhf://org/name[@REV][/path], Hub URLs")
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
    app.add_option("-j,--jobs", jobs, "Files scanned in parallel (default: cores; at\nleast 8 for remote files)")
        ->type_name("N")
        ->check(CLI::Range(1u, 1024u).description(""));
    app.add_option("--include", include, "Only scan files matching GLOB (repeatable; no '/'\nin GLOB: matches the file name)")
        ->type_name("GLOB")
        ->allow_extra_args(false);
    app.add_option("--exclude", exclude, "Skip files matching GLOB (repeatable; listed as\nskipped)")
        ->type_name("GLOB")
        ->allow_extra_args(false);
    app.add_option("--revision", revision, "Hugging Face revision for hf:// targets that name\nnone: branch, tag, commit or refs/pr/N")
        ->type_name("REV");
    app.add_option("--hf-max-fetch", max_fetch_text,
                   "Download at most SIZE per remote file (default 1G;\nK/M/G suffixes); a file "
                   "needing more is an error")
        ->type_name("SIZE");
    app.add_option("--hf-retries", hf_retries,
                   "Retries of a failed Hub request (429, 5xx, dropped\nconnection; default 4)")
        ->type_name("N")
        ->check(CLI::Range(0, 20).description(""));
    app.add_flag("--hf-cache", hf_cache, "Also scan the whole local Hugging Face cache");
    app.add_flag("--no-progress", no_progress, "No progress line on stderr for remote scans");
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
    std::uint64_t max_fetch = 0;
    if (!max_fetch_text.empty()) {
        const auto parsed = parse_size(max_fetch_text);
        if (!parsed || *parsed == 0) {
            std::cerr << "mscan: --hf-max-fetch: '" << max_fetch_text
                      << "' is not a size (e.g. 200M, 2G, 65536)\n";
            return kUsage;
        }
        max_fetch = *parsed;
    }
    for (const auto* list : {&include, &exclude}) {
        for (const auto& g : *list) {
            if (g.empty()) {
                std::cerr << "mscan: --include/--exclude need a pattern\n";
                return kUsage;
            }
        }
    }
    if (targets.empty() && !hf_cache) {
        std::cerr
            << "mscan: no targets given (files, directories or -)\nRun 'mscan --help' for usage.\n";
        return kUsage;
    }

    mscan::ScanOptions options;
    options.targets = targets;
    options.jobs = jobs;
    options.include = include;
    options.exclude = exclude;
    options.revision = revision;
    options.max_fetch = max_fetch;
    options.hf_cache = hf_cache;
    options.http_retries = hf_retries;
    // A progress line on a terminal for scans that download: files done, bytes fetched.
    const bool show_progress = !quiet && !no_progress && ::isatty(STDERR_FILENO);
    bool progress_shown = false;
    if (show_progress) {
        options.progress = [&progress_shown](const mscan::ScanProgress& p) {
            if (p.fetched == 0 && !progress_shown) return;  // local files: fast, say nothing
            // At most ten redraws a second, and always the last one.
            static auto last = std::chrono::steady_clock::time_point();
            const auto now = std::chrono::steady_clock::now();
            if (progress_shown && p.files_done < p.files_total &&
                now - last < std::chrono::milliseconds(100))
                return;
            last = now;
            progress_shown = true;
            std::fprintf(stderr, "\r\033[Kmscan: %llu/%llu files, %.1f MiB fetched",
                         static_cast<unsigned long long>(p.files_done),
                         static_cast<unsigned long long>(p.files_total),
                         static_cast<double>(p.fetched) / (1024.0 * 1024.0));
            std::fflush(stderr);
        };
    }
    const mscan::ScanResult result = mscan::scan(options, rules);
    if (progress_shown) std::fprintf(stderr, "\r\033[K");

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
