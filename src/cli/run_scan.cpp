// Runs the scan for the resolved settings and turns its result into files, messages and an exit
// code. The report goes to standard output or -o's file; every other message to standard error.
#include "cli/run_scan.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>
#include <utility>

#include "cli/progress.h"
#include "mscan/report.h"
#include "mscan/scan.h"
#include "util/text_safety.h"

namespace mscan::cli {
namespace {

/// Requests the scan could only refuse: an empty pattern, no target, a URL that is not the
/// Hugging Face Hub's, an hf:// target that does not parse.
void check_scan_request(const OptionValues& v) {
    for (const auto* list : {&v.include, &v.exclude}) {
        for (const auto& glob : *list)
            if (glob.empty()) throw UsageError("--include/--exclude need a pattern");
    }
    if (v.targets.empty() && !v.hf_cache)
        throw UsageError(
            "no targets given (files, directories or -)\nRun 'mscan --help' for usage.");
    const ScanOptions defaults;
    for (const auto& target : v.targets) {
        if (const auto why = target_usage_error(target, defaults)) throw UsageError(*why);
    }
}

/// The files this run writes, each as (what it is, its path; empty when not written).
std::array<std::pair<const char*, const std::string*>, 2> files_written(const OptionValues& v) {
    return {{{"report", &v.output}, {"baseline", &v.write_baseline_path}}};
}

UsageError refusal(const char* what, const std::string& path, const std::string& because) {
    return UsageError("refusing to write the " + std::string(what) + " to " + terminal_safe(path) +
                      ": " + because + "; choose another file");
}

/// A report or baseline written over a target would destroy what was scanned.
void refuse_to_overwrite_targets(const OptionValues& v) {
    for (const auto& [what, path] : files_written(v)) {
        if (path->empty()) continue;
        for (const auto& target : v.targets) {
            std::error_code ec;
            if (target != "-" && std::filesystem::equivalent(*path, target, ec))
                throw refusal(what, *path, "it is a scan target");
        }
    }
}

/// Nor over a model found inside a directory target (a report from an earlier run, which is
/// not a model, may be replaced).
void refuse_to_overwrite_files_read(const OptionValues& v, const ScanResult& result) {
    for (const auto& [what, path] : files_written(v)) {
        std::error_code ec;
        if (path->empty() || !std::filesystem::exists(*path, ec)) continue;
        for (const auto& file : result.files) {
            const std::string& local = file.local_path.empty() ? file.path : file.local_path;
            if (file.remote || file.status == FileStatus::Skipped || local == "-") continue;
            if (std::filesystem::equivalent(*path, local, ec)) {
                throw refusal(what, *path,
                              "it is a file this scan read (" + terminal_safe(file.path) + ")");
            }
        }
    }
}

/// What the library is asked to do: the targets, how to walk and fetch them, and the policy.
ScanOptions scan_options(const Settings& settings, std::optional<Baseline> baseline) {
    const OptionValues& v = settings.values;
    ScanOptions options;
    options.targets = v.targets;
    options.jobs = v.jobs;
    options.include = v.include;
    options.exclude = v.exclude;
    options.revision = v.revision;
    options.max_fetch = settings.max_fetch;
    options.hf_cache = v.hf_cache;
    options.http_retries = v.hf_retries;
    options.policy.suppressions = settings.config.suppressions;
    if (!settings.config.file.empty())
        options.policy.suppressions_base =
            std::filesystem::path(settings.config.file).parent_path().string();
    options.policy.baseline = std::move(baseline);
    options.policy.fail_on = v.fail_on == "never" ? std::nullopt : parse_severity(v.fail_on);
    return options;
}

/// Scans, with a progress line on a terminal for scans that download (files done, bytes
/// fetched), erased before anything else is written.
ScanResult scan_with_progress(ScanOptions& options, const Settings& settings) {
    const OptionValues& v = settings.values;
    if (v.quiet || v.no_progress || !::isatty(STDERR_FILENO)) return scan(options, settings.rules);
    ProgressLine line(stderr_columns());
    options.progress = [&line](const ScanProgress& progress) { line.update(progress); };
    ScanResult result = scan(options, settings.rules);
    options.progress = nullptr;  // it refers to `line`
    line.clear();
    return result;
}

/// Writes --write-baseline's file; false (with a message) when it could not be written.
bool write_baseline_file(const std::string& path, const ScanResult& result) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (out) write_baseline(out, result);
    out.close();
    if (out) return true;
    std::cerr << "mscan: cannot write the baseline to " << path << "\n";
    return false;
}

/// The terminal's width in columns when standard output is one, else 0 (no wrapping).
std::size_t terminal_width() {
    struct winsize ws {};
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    if (const char* columns = std::getenv("COLUMNS")) {
        const long n = std::strtol(columns, nullptr, 10);
        if (n > 0 && n < 10000) return static_cast<std::size_t>(n);
    }
    return 80;
}

/// How the report is written: colour and wrapping only for a terminal.
ReportOptions report_options(const OptionValues& v, std::optional<Severity> fail_on) {
    ReportOptions report;
    report.fail_on = fail_on;
    report.quiet = v.quiet;
    report.verbose = v.verbose;
    report.show_skipped = v.show_skipped;
    report.timing = !v.no_timing;
    const bool to_terminal = v.output.empty() && ::isatty(STDOUT_FILENO);
    const char* term = std::getenv("TERM");
    report.color = v.color == "always" ||
                   (v.color == "auto" && to_terminal && std::getenv("NO_COLOR") == nullptr &&
                    !(term && std::string_view(term) == "dumb"));
    report.width = to_terminal ? terminal_width() : 0;
    return report;
}

/// Writes the report to standard output or -o's file; false (with a message) when the file
/// could not be written.
bool write_report(const Settings& settings, const ScanResult& result, const ReportOptions& report) {
    const Reporter* reporter = find_reporter(settings.values.format);
    const std::string& output = settings.values.output;
    if (output.empty()) {
        reporter->write(std::cout, result, settings.rules, report);
        std::cout.flush();
        return true;
    }
    std::ofstream out(output, std::ios::binary | std::ios::trunc);
    if (!out) {
        std::cerr << "mscan: cannot write report to " << output << "\n";
        return false;
    }
    reporter->write(out, result, settings.rules, report);
    out.close();
    if (out) return true;
    std::cerr << "mscan: error writing report to " << output << "\n";
    return false;
}

/// The paths that could not be scanned, on standard error, unless the report is text on
/// standard output (which lists them where the user reads).
void print_scan_errors(const OptionValues& v, const ScanResult& result) {
    if (v.format == "text" && v.output.empty()) return;
    for (const auto& file : result.files) {
        if (file.status == FileStatus::Error) {
            std::cerr << "mscan: " << terminal_safe(file.path) << ": " << terminal_safe(file.reason)
                      << "\n";
        }
    }
}

/// --write-baseline's summary and exit code. Writing a baseline accepts what is there: only a
/// scan that did not finish (or a report not written) fails.
ExitCode finish_baseline(const std::string& path, const ScanResult& result, bool report_written) {
    std::uint64_t n = 0;
    for (const auto& f : result.files)
        for (const auto& x : f.findings)
            n += x.suppressed != "config";
    std::cerr << "mscan: wrote " << n << " finding" << (n == 1 ? "" : "s") << " to the baseline "
              << terminal_safe(path) << "\n";
    const auto errors = count_files(result).errors;
    if (errors > 0) {
        std::cerr << "mscan: the baseline is INCOMPLETE: " << errors << " path"
                  << (errors == 1 ? "" : "s")
                  << " could not be scanned (listed above), so their findings are not in "
                     "it; fix that and write it again\n";
    }
    return errors > 0 || !report_written ? ExitCode::ScanError : ExitCode::Clean;
}

/// The library's verdict (findings win over errors), with the report's own write error.
ExitCode scan_exit_code(const ScanResult& result, bool report_written, bool quiet) {
    const ExitCode code = exit_code_for(result.verdict);
    if (code == ExitCode::Findings) return code;
    if (code == ExitCode::ScanError || !report_written) return ExitCode::ScanError;
    if (code == ExitCode::NothingScanned && !quiet)
        std::cerr << "mscan: nothing scannable found in the targets\n";
    return code;
}

}  // namespace

ExitCode scan_and_report(const Settings& settings, std::optional<Baseline> baseline) {
    const OptionValues& v = settings.values;
    check_scan_request(v);
    refuse_to_overwrite_targets(v);
    ScanOptions options = scan_options(settings, std::move(baseline));
    const ScanResult result = scan_with_progress(options, settings);
    refuse_to_overwrite_files_read(v, result);
    if (!v.write_baseline_path.empty() && !write_baseline_file(v.write_baseline_path, result))
        return ExitCode::ScanError;
    const bool report_written =
        write_report(settings, result, report_options(v, options.policy.fail_on));
    print_scan_errors(v, result);
    if (!v.write_baseline_path.empty())
        return finish_baseline(v.write_baseline_path, result, report_written);
    return scan_exit_code(result, report_written, v.quiet);
}

}  // namespace mscan::cli
