// The command-line front end: parses arguments, runs the scan, writes the report, and maps
// the outcome to an exit code. The only place that prints or exits.
#include <sys/ioctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string_view>

#include "cli/config.h"
#include "util/text_safety.h"
#include "mscan/report.h"
#include "mscan/rules.h"
#include "mscan/scan.h"
#include "mscan/version.h"
#include "util/text.h"

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
    "HF_HUB_CACHE.\n";

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
    if (unit == "K")
        shift = 10;
    else if (unit == "M")
        shift = 20;
    else if (unit == "G")
        shift = 30;
    else if (!unit.empty())
        return std::nullopt;
    if (shift && value > (UINT64_MAX >> shift)) return std::nullopt;
    return value << shift;
}

/// Where the documentation is: the installed doc folder beside this binary's prefix
/// (PREFIX/share/doc/mscan), or the source tree's docs/ for a binary run from a build.
std::string doc_location() {
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const auto installed = exe.parent_path().parent_path() / "share" / "doc" / "mscan";
        if (std::filesystem::is_directory(installed, ec)) return installed.string() + "/";
    }
    return "docs/ in the source tree";
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

/// CLI11's message for a parse error, in words a person reads without knowing CLI11.
std::string explain(const CLI::ParseError& e) {
    const std::string what = e.what();
    const auto at_most = what.find(": At Most 1 required but received ");
    if (at_most != std::string::npos) {
        const std::string option = what.substr(0, at_most);
        const std::string times = what.substr(at_most + 34);
        std::string why =
            option + " was given " + times + " times, but takes one value: give it once";
        if (option.find("--format") != std::string::npos ||
            option.find("--output") != std::string::npos)
            why +=
                " (the GitHub Action passes --format and --output itself: leave them out of "
                "its args)";
        return why;
    }
    return what;
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
    app.footer(std::string(kExitHelp) + "\nDocumentation: man mscan, and " + doc_location() +
               " (huggingface.md,\nconfiguration.md, rules.md, exit-codes.md, ci.md).\n");
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

    app.add_option(
           "targets", targets,
           "Files, directories (recursive), - for stdin,\nhf://org/name[@REV][/path], Hub URLs")
        ->type_name("TARGET");
    std::string format_names;
    for (const auto& r : mscan::reporters())
        format_names += std::string(format_names.empty() ? "" : "|") + r.name;
    app.add_option("-f,--format", format, "Report format: " + format_names)
        ->type_name("FMT")
        ->transform([](std::string v) { return mscan::util::ascii_lower(v); })
        ->check([](const std::string& v) {
            return mscan::find_reporter(v) ? std::string() : "unknown format '" + v + "'";
        });
    app.add_option("-o,--output", output, "Write the report to FILE, not stdout")
        ->type_name("FILE");
    app.add_option("--fail-on", fail_on,
                   "Exit 1 on a finding at or above LEVEL: critical, high,\n"
                   "medium (default), low, info, or never")
        ->type_name("LEVEL")
        ->transform(
            CLI::IsMember({"critical", "high", "medium", "low", "info", "never"}, CLI::ignore_case)
                .description(""));
    app.add_option("--rules", rule_dirs, "Add/override rules from DIR/*.json")
        ->type_name("DIR")
        ->allow_extra_args(false);  // one value per --rules; repeat the option for more
    app.add_option("--allow", allow, "Allow a global: exact name or prefix.*")
        ->type_name("NAME")
        ->allow_extra_args(false);
    app.add_option("-j,--jobs", jobs,
                   "Files scanned in parallel (default: cores; at\nleast 8 for remote files)")
        ->type_name("N")
        ->check(CLI::Range(1u, 1024u).description(""));
    app.add_option(
           "--include", include,
           "Only scan files matching GLOB (repeatable; no '/'\nin GLOB: matches the file name)")
        ->type_name("GLOB")
        ->allow_extra_args(false);
    app.add_option("--exclude", exclude,
                   "Skip files matching GLOB (repeatable; listed as\nskipped)")
        ->type_name("GLOB")
        ->allow_extra_args(false);
    app.add_option("--revision", revision,
                   "Hugging Face revision for hf:// targets that name\nnone: branch, tag, commit "
                   "or refs/pr/N")
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
    std::string color = "auto";
    app.add_option("--color", color,
                   "Colour: auto (default: on a terminal, unless NO_COLOR\nis set or TERM=dumb), "
                   "always, never")
        ->type_name("WHEN")
        ->transform(CLI::IsMember({"auto", "always", "never"}, CLI::ignore_case).description(""));
    app.add_flag("--no-color", no_color, "Same as --color never");
    app.add_flag("--no-timing", no_timing, "No elapsed time in the text summary");
    app.add_flag("--list-rules", show_list, "List the rules (with --rules applied) and exit");
    std::string config_path, baseline_path, write_baseline_path;
    bool no_config = false, show_config = false;
    app.add_option("--config", config_path,
                   "Read settings from FILE (default: mscan.toml,\n.mscan.toml or [tool.mscan] in "
                   "pyproject.toml,\nhere or in a parent folder)")
        ->type_name("FILE");
    app.add_flag("--no-config", no_config, "Ignore configuration files");
    app.add_flag("--show-config", show_config,
                 "Print the settings in effect and where each one\ncame from, and exit");
    app.add_option("--baseline", baseline_path,
                   "Accept the findings listed in FILE: only new ones\nfail the run (they stay "
                   "in JSON/SARIF, marked)")
        ->type_name("FILE");
    app.add_option("--write-baseline", write_baseline_path,
                   "Write the findings of this scan to FILE as a\nbaseline, and exit 0 (2 on "
                   "scan errors)")
        ->type_name("FILE");
    app.add_flag("--version", show_version, "Print the version and exit");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::cerr << "mscan: " << mscan::terminal_safe(explain(e))
                  << "\nRun 'mscan --help' for usage.\n";
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
    if (no_color && app.count("--color") && color != "never") {
        std::cerr << "mscan: --no-color and --color " << color << " contradict each other\n";
        return kUsage;
    }
    if (no_color) color = "never";

    // The configuration file sets defaults; an option given on the command line wins (lists:
    // --include/--exclude replace the file's, --allow and --rules add to them).
    if (no_config && !config_path.empty()) {
        std::cerr << "mscan: --config and --no-config cannot be combined\n";
        return kUsage;
    }
    mscan::Config config;
    try {
        const std::string path = no_config             ? std::string()
                                 : config_path.empty() ? mscan::find_config(".")
                                                       : config_path;
        if (!path.empty()) config = mscan::load_config(path);
    } catch (const mscan::ConfigError& e) {
        std::cerr << "mscan: configuration error: " << e.what() << "\n";
        return kUsage;
    }
    std::map<std::string, std::string> origin;  // setting -> where its value came from
    auto from_file = [&](const char* option, const char* key, auto& target, const auto& value) {
        if (app.count(option)) {
            origin[key] = option;
        } else if (value) {
            target = *value;
            origin[key] = config.origins[key];
        } else {
            origin[key] = "default";
        }
    };
    from_file("--fail-on", "fail-on", fail_on, config.fail_on);
    from_file("--format", "format", format, config.format);
    from_file("--jobs", "jobs", jobs, config.jobs);
    from_file("--revision", "revision", revision, config.revision);
    from_file("--hf-max-fetch", "hf-max-fetch", max_fetch_text, config.hf_max_fetch);
    from_file("--hf-retries", "hf-retries", hf_retries, config.hf_retries);
    from_file("--baseline", "baseline", baseline_path,
              config.baseline ? std::optional<std::string>(*config.baseline) : std::nullopt);
    auto lists = [&](const char* option, const char* key, std::vector<std::string>& cli,
                     const std::vector<std::string>& file, bool add) {
        if (!file.empty() && (add || !app.count(option))) {
            cli.insert(cli.begin(), file.begin(), file.end());
            origin[key] =
                config.origins[key] + (app.count(option) ? " + " + std::string(option) : "");
        } else {
            origin[key] = app.count(option) ? option : "default";
        }
    };
    lists("--include", "include", include, config.include, false);
    lists("--exclude", "exclude", exclude, config.exclude, false);
    lists("--allow", "allow", allow, config.allow, true);
    lists("--rules", "rules", rule_dirs, config.rules, true);
    std::uint64_t max_fetch = 0;
    if (!max_fetch_text.empty()) {
        const auto parsed = parse_size(max_fetch_text);
        if (!parsed || *parsed == 0) {
            const std::string& from = origin["hf-max-fetch"];
            std::cerr << "mscan: "
                      << (from == "--hf-max-fetch"
                              ? std::string("--hf-max-fetch")
                              : "configuration error: " + from + ": 'hf-max-fetch'")
                      << ": '" << max_fetch_text << "' is not a size (e.g. 200M, 2G, 65536)\n";
            return kUsage;
        }
        max_fetch = *parsed;
    }
    if (!mscan::find_reporter(format)) {
        std::cerr << "mscan: unknown format '" << format << "'\n";
        return kUsage;
    }

    mscan::RuleSet rules;
    try {
        rules = mscan::RuleSet::builtin();
        for (const auto& dir : rule_dirs)
            rules.load_directory(dir);
        for (std::size_t i = 0; i < allow.size(); ++i) {
            // An entry that can never take effect is an error, not a silent no-op: the user
            // thinks something is accepted that is not (or the reverse).
            if (const auto why = rules.allow_problem(allow[i])) {
                const bool in_file = i < config.allow.size();
                std::cerr << "mscan: "
                          << (in_file
                                  ? "configuration error: " + config.origins["allow"] + ": 'allow'"
                                  : std::string("--allow"))
                          << " '" << mscan::terminal_safe(allow[i])
                          << "': " << mscan::terminal_safe(*why) << "\n";
                return kUsage;
            }
            rules.allow(allow[i]);
        }
        rules.validate();
    } catch (const mscan::RuleError& e) {
        std::cerr << "mscan: rules error: " << e.what() << "\n";
        return kUsage;
    }
    for (const auto& s : config.suppressions) {
        if (s.rule != "*" && !rules.find(s.rule)) {
            std::cerr << "mscan: configuration error: " << s.origin << ": 'suppress.rule': no rule "
                      << "has the id '" << s.rule << "' (mscan --list-rules; \"*\" for any)\n";
            return kUsage;
        }
    }
    for (const auto& o : config.rule_overrides) {
        try {
            rules.configure(o.id, o.severity, o.enabled);
        } catch (const mscan::RuleError& e) {
            std::cerr << "mscan: configuration error: " << o.origin << ": 'rule." << o.id
                      << "': " << e.what() << "\n";
            return kUsage;
        }
    }
    if (show_config) {
        auto quote = [](const std::string& v) { return "\"" + v + "\""; };
        auto list = [&](const std::vector<std::string>& v) {
            std::string s = "[";
            for (std::size_t i = 0; i < v.size(); ++i)
                s += (i ? ", " : "") + quote(v[i]);
            return s + "]";
        };
        auto line = [&](const std::string& key, const std::string& value) {
            std::printf("%-30s # %s\n", (key + " = " + value).c_str(), origin[key].c_str());
        };
        std::printf("# configuration file: %s\n",
                    config.file.empty() ? (no_config ? "none (--no-config)" : "none found")
                                        : config.file.c_str());
        line("fail-on", quote(fail_on));
        line("format", quote(format));
        line("jobs", jobs ? std::to_string(jobs) : std::string("0  (all cores)"));
        line("rules", list(rule_dirs));
        line("allow", list(allow));
        line("include", list(include));
        line("exclude", list(exclude));
        line("revision", quote(revision.empty() ? "main" : revision));
        line("hf-max-fetch", quote(max_fetch_text.empty() ? "1G" : max_fetch_text));
        line("hf-retries", std::to_string(hf_retries < 0 ? 4 : hf_retries));
        line("baseline", baseline_path.empty() ? "(none)" : quote(baseline_path));
        for (const auto& o : config.rule_overrides) {
            const mscan::Rule* r = rules.find(o.id);
            std::printf("[rule.%s] severity = \"%s\", enabled = %s   # %s\n", o.id.c_str(),
                        std::string(mscan::severity_name(r->severity)).c_str(),
                        r->enabled ? "true" : "false", o.origin.c_str());
        }
        for (const auto& s : config.suppressions) {
            std::printf("[[suppress]] rule = %s, path = %s, reason = %s   # %s\n",
                        quote(s.rule).c_str(), quote(s.path).c_str(), quote(s.reason).c_str(),
                        s.origin.c_str());
        }
        return kClean;
    }
    std::optional<mscan::Baseline> baseline;
    // Writing a baseline does not need the old one (it may not exist yet).
    if (!baseline_path.empty() && write_baseline_path.empty()) {
        try {
            baseline = mscan::load_baseline(baseline_path);
        } catch (const mscan::ConfigError& e) {
            std::cerr << "mscan: baseline error: " << e.what() << "\n";
            return kUsage;
        }
    }
    if (show_list) {
        list_rules(rules);
        return kClean;
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
    for (const auto& target : targets) {
        if (const auto why = mscan::target_usage_error(target, options)) {
            std::cerr << "mscan: " << *why << "\n";
            return kUsage;
        }
    }
    // A report or baseline written over a target would destroy what was scanned.
    const auto refuse_to_write = [&](const std::string* written, const std::string& because) {
        std::cerr << "mscan: refusing to write the " << (written == &output ? "report" : "baseline")
                  << " to " << mscan::terminal_safe(*written) << ": " << because
                  << "; choose another file\n";
        return kUsage;
    };
    for (const auto* written : {&output, &write_baseline_path}) {
        if (written->empty()) continue;
        for (const auto& target : targets) {
            std::error_code ec;
            if (target != "-" && std::filesystem::equivalent(*written, target, ec))
                return refuse_to_write(written, "it is a scan target");
        }
    }
    options.targets = targets;
    options.jobs = jobs;
    options.include = include;
    options.exclude = exclude;
    options.revision = revision;
    options.max_fetch = max_fetch;
    options.hf_cache = hf_cache;
    options.http_retries = hf_retries;
    options.policy.suppressions = config.suppressions;
    if (!config.file.empty())
        options.policy.suppressions_base =
            std::filesystem::path(config.file).parent_path().string();
    options.policy.baseline = std::move(baseline);
    options.policy.fail_on = fail_on == "never" ? std::nullopt : mscan::parse_severity(fail_on);
    // A progress line on a terminal for scans that download: files done, bytes fetched.
    const bool show_progress = !quiet && !no_progress && ::isatty(STDERR_FILENO);
    bool progress_shown = false;
    if (show_progress) {
        const std::size_t columns = [] {
            struct winsize ws {};
            return ::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20
                       ? static_cast<std::size_t>(ws.ws_col)
                       : std::size_t{80};
        }();
        options.progress = [&progress_shown, columns](const mscan::ScanProgress& p) {
            // Local files are fast: say nothing until something was fetched or is awaited.
            if (p.fetched == 0 && p.activity.empty() && !progress_shown) return;
            // At most ten redraws a second, but always the last one and every new activity.
            static auto last = std::chrono::steady_clock::time_point();
            static std::string last_activity;
            const auto now = std::chrono::steady_clock::now();
            if (progress_shown && p.files_done < p.files_total && p.activity == last_activity &&
                now - last < std::chrono::milliseconds(100))
                return;
            last = now;
            last_activity = p.activity;
            progress_shown = true;
            char counts[96];
            std::snprintf(counts, sizeof counts, "%llu/%llu files, %.1f MiB fetched",
                          static_cast<unsigned long long>(p.files_done),
                          static_cast<unsigned long long>(p.files_total),
                          static_cast<double>(p.fetched) / (1024.0 * 1024.0));
            std::string line = "mscan: ";
            if (p.files_total > 0 || p.activity.empty()) line += counts;
            if (!p.activity.empty())
                line += (p.files_total > 0 ? "; " : "") + mscan::terminal_safe(p.activity);
            // One line: a wrapped progress line could not be redrawn in place.
            if (line.size() >= columns) {
                std::size_t cut = columns - 4;
                while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80)
                    --cut;
                line = line.substr(0, cut) + "...";
            }
            std::fprintf(stderr, "\r\033[K%s", line.c_str());
            std::fflush(stderr);
        };
    }
    mscan::ScanResult result = mscan::scan(options, rules);
    if (progress_shown) std::fprintf(stderr, "\r\033[K");
    // Nor over a model found inside a directory target (a report from an earlier run, which
    // is not a model, may be replaced).
    for (const auto* written : {&output, &write_baseline_path}) {
        std::error_code ec;
        if (written->empty() || !std::filesystem::exists(*written, ec)) continue;
        for (const auto& file : result.files) {
            const std::string& local = file.local_path.empty() ? file.path : file.local_path;
            if (file.remote || file.status == mscan::FileStatus::Skipped || local == "-") continue;
            if (std::filesystem::equivalent(*written, local, ec)) {
                return refuse_to_write(written, "it is a file this scan read (" +
                                                    mscan::terminal_safe(file.path) + ")");
            }
        }
    }
    if (!write_baseline_path.empty()) {
        std::ofstream out(write_baseline_path, std::ios::binary | std::ios::trunc);
        if (out) mscan::write_baseline(out, result);
        out.close();
        if (!out) {
            std::cerr << "mscan: cannot write the baseline to " << write_baseline_path << "\n";
            return kScanError;
        }
    }

    mscan::ReportOptions report;
    report.fail_on = options.policy.fail_on;
    report.quiet = quiet;
    report.verbose = verbose;
    report.show_skipped = show_skipped;
    report.timing = !no_timing;
    const bool to_terminal = output.empty() && ::isatty(STDOUT_FILENO);
    const char* term = std::getenv("TERM");
    report.color = color == "always" ||
                   (color == "auto" && to_terminal && std::getenv("NO_COLOR") == nullptr &&
                    !(term && std::string_view(term) == "dumb"));
    report.width = to_terminal ? terminal_width() : 0;

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
            std::cerr << "mscan: " << mscan::terminal_safe(file.path) << ": "
                      << mscan::terminal_safe(file.reason) << "\n";
        }
    }
    if (!write_baseline_path.empty()) {
        // Writing a baseline accepts what is there: only a scan that did not finish fails.
        std::uint64_t n = 0;
        for (const auto& f : result.files)
            for (const auto& x : f.findings)
                n += x.suppressed != "config";
        std::cerr << "mscan: wrote " << n << " finding" << (n == 1 ? "" : "s")
                  << " to the baseline " << mscan::terminal_safe(write_baseline_path) << "\n";
        if (counts.errors > 0) {
            std::cerr << "mscan: the baseline is INCOMPLETE: " << counts.errors << " path"
                      << (counts.errors == 1 ? "" : "s")
                      << " could not be scanned (listed above), so their findings are not in "
                         "it; fix that and write it again\n";
        }
        return counts.errors > 0 || write_error ? kScanError : kClean;
    }
    // The library's verdict (findings win over errors), with the report's own write error.
    if (result.verdict == mscan::Verdict::Findings) return kFindings;
    if (result.verdict == mscan::Verdict::ScanError || write_error) return kScanError;
    if (result.verdict == mscan::Verdict::NothingScanned) {
        if (!quiet) std::cerr << "mscan: nothing scannable found in the targets\n";
        return kNothingScanned;
    }
    return kClean;
}
