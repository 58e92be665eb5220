// mscan's options as CLI11 defines them. The order of definition is the order --help lists
// them in; the help text is part of the interface (the CLI tests read it).
#include "cli/options.h"

#include <CLI/CLI.hpp>
#include <filesystem>
#include <string>

#include "mscan/report.h"
#include "mscan/version.h"
#include "util/text.h"
#include "util/text_safety.h"

namespace mscan::cli {
namespace {

/// The end of --help after the exit codes: examples and how Hugging Face targets are read.
constexpr const char* kHelpExamples =
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

/// The text after the option list: exit codes, examples, where the documentation is.
std::string help_footer() {
    return exit_code_help() + kHelpExamples + "\nDocumentation: man mscan, and " + doc_location() +
           " (huggingface.md,\nconfiguration.md, rules.md, exit-codes.md, ci.md).\n";
}

/// "json|sarif|text": the reporters' names, for --format's help.
std::string format_names() {
    std::string names;
    for (const auto& r : reporters())
        names += std::string(names.empty() ? "" : "|") + r.name;
    return names;
}

void add_target_and_report_options(CLI::App& app, OptionValues& v) {
    app.add_option(
           "targets", v.targets,
           "Files, directories (recursive), - for stdin,\nhf://org/name[@REV][/path], Hub URLs")
        ->type_name("TARGET");
    app.add_option("-f,--format", v.format, "Report format: " + format_names())
        ->type_name("FMT")
        ->transform([](const std::string& value) { return util::ascii_lower(value); })
        ->check([](const std::string& value) {
            return find_reporter(value) ? std::string() : "unknown format '" + value + "'";
        });
    app.add_option("-o,--output", v.output, "Write the report to FILE, not stdout")
        ->type_name("FILE");
    app.add_option("--fail-on", v.fail_on,
                   "Exit 1 on a finding at or above LEVEL: critical, high,\n"
                   "medium (default), low, info, or never")
        ->type_name("LEVEL")
        ->transform(
            CLI::IsMember({"critical", "high", "medium", "low", "info", "never"}, CLI::ignore_case)
                .description(""));
}

void add_rule_and_file_options(CLI::App& app, OptionValues& v) {
    app.add_option("--rules", v.rule_dirs, "Add/override rules from DIR/*.json")
        ->type_name("DIR")
        ->allow_extra_args(false);  // one value per --rules; repeat the option for more
    app.add_option("--allow", v.allow, "Allow a global: exact name or prefix.*")
        ->type_name("NAME")
        ->allow_extra_args(false);
    app.add_option("-j,--jobs", v.jobs,
                   "Files scanned in parallel (default: cores; at\nleast 8 for remote files)")
        ->type_name("N")
        ->check(CLI::Range(1u, 1024u).description(""));
    app.add_option(
           "--include", v.include,
           "Only scan files matching GLOB (repeatable; no '/'\nin GLOB: matches the file name)")
        ->type_name("GLOB")
        ->allow_extra_args(false);
    app.add_option("--exclude", v.exclude,
                   "Skip files matching GLOB (repeatable; listed as\nskipped)")
        ->type_name("GLOB")
        ->allow_extra_args(false);
}

void add_hub_options(CLI::App& app, OptionValues& v) {
    app.add_option("--revision", v.revision,
                   "Hugging Face revision for hf:// targets that name\nnone: branch, tag, commit "
                   "or refs/pr/N")
        ->type_name("REV");
    app.add_option("--hf-max-fetch", v.max_fetch_text,
                   "Download at most SIZE per remote file (default 1G;\nK/M/G suffixes); a file "
                   "needing more is an error")
        ->type_name("SIZE");
    app.add_option("--hf-retries", v.hf_retries,
                   "Retries of a failed Hub request (429, 5xx, dropped\nconnection; default 4)")
        ->type_name("N")
        ->check(CLI::Range(0, 20).description(""));
    app.add_flag("--hf-cache", v.hf_cache, "Also scan the whole local Hugging Face cache");
    app.add_flag("--no-progress", v.no_progress, "No progress line on stderr for remote scans");
}

void add_display_options(CLI::App& app, OptionValues& v) {
    app.add_flag("--show-skipped", v.show_skipped, "List files that are not a model format");
    app.add_flag("-q,--quiet", v.quiet, "Only findings and errors; no summary");
    app.add_flag("-v,--verbose", v.verbose, "Also list clean and skipped files");
    app.add_option("--color", v.color,
                   "Colour: auto (default: on a terminal, unless NO_COLOR\nis set or TERM=dumb), "
                   "always, never")
        ->type_name("WHEN")
        ->transform(CLI::IsMember({"auto", "always", "never"}, CLI::ignore_case).description(""));
    app.add_flag("--no-color", v.no_color, "Same as --color never");
    app.add_flag("--no-timing", v.no_timing, "No elapsed time in the text summary");
    app.add_flag("--list-rules", v.list_rules, "List the rules (with --rules applied) and exit");
}

void add_config_options(CLI::App& app, OptionValues& v) {
    app.add_option("--config", v.config_path,
                   "Read settings from FILE (default: mscan.toml,\n.mscan.toml or [tool.mscan] in "
                   "pyproject.toml,\nhere or in a parent folder)")
        ->type_name("FILE");
    app.add_flag("--no-config", v.no_config, "Ignore configuration files");
    app.add_flag("--show-config", v.show_config,
                 "Print the settings in effect and where each one\ncame from, and exit");
    app.add_option("--baseline", v.baseline_path,
                   "Accept the findings listed in FILE: only new ones\nfail the run (they stay "
                   "in JSON/SARIF, marked)")
        ->type_name("FILE");
    app.add_option("--write-baseline", v.write_baseline_path,
                   "Write the findings of this scan to FILE as a\nbaseline, and exit 0 (2 on "
                   "scan errors)")
        ->type_name("FILE");
    app.add_flag("--version", v.show_version, "Print the version and exit");
}

/// CLI11's message for a parse error, in words a person reads without knowing CLI11.
std::string explain(const CLI::ParseError& e) {
    std::string what = e.what();
    const auto at_most = what.find(": At Most 1 required but received ");
    if (at_most == std::string::npos) return what;
    const std::string option = what.substr(0, at_most);
    const std::string times = what.substr(at_most + 34);
    std::string why = option + " was given " + times + " times, but takes one value: give it once";
    if (option.find("--format") != std::string::npos ||
        option.find("--output") != std::string::npos)
        why +=
            " (the GitHub Action passes --format and --output itself: leave them out of its "
            "args)";
    return why;
}

/// The long names of the options the parsed command line named.
std::set<std::string, std::less<>> given_options(const CLI::App& app) {
    std::set<std::string, std::less<>> given;
    for (const CLI::Option* option : app.get_options()) {
        if (option->count() == 0) continue;
        for (const auto& name : option->get_lnames())
            given.insert("--" + name);
    }
    return given;
}

}  // namespace

std::optional<ExitCode> parse_command_line(int argc, char** argv, CommandLine& line) {
    CLI::App app{"mscan " + std::string(kVersion) +
                     " - find unsafe code in ML model files without loading them.",
                 "mscan"};
    app.footer(help_footer());
    app.get_formatter()->column_width(26);
    add_target_and_report_options(app, line.values);
    add_rule_and_file_options(app, line.values);
    add_hub_options(app, line.values);
    add_display_options(app, line.values);
    add_config_options(app, line.values);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        app.exit(e);  // prints the help; its code is 0
        return ExitCode::Clean;
    } catch (const CLI::ParseError& e) {
        throw UsageError(terminal_safe(explain(e)) + "\nRun 'mscan --help' for usage.");
    }
    line.given = given_options(app);
    return std::nullopt;
}

}  // namespace mscan::cli
