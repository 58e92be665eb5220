// Settings resolution: reads the configuration file, lets the command line win over it, keeps
// each setting's origin, and checks what the scan itself would only find too late (sizes,
// formats, rule ids, allowlist entries). Checks run in a fixed order: the first problem is the
// one reported.
#include "cli/settings.h"

#include <cctype>
#include <cstdint>
#include <string>
#include <vector>

#include "mscan/report.h"
#include "util/text_safety.h"

namespace mscan::cli {
namespace {

/// Where the configuration file set `key` ("FILE:LINE"; empty if it did not).
std::string file_origin(const Config& config, const std::string& key) {
    const auto found = config.origins.find(key);
    return found == config.origins.end() ? std::string() : found->second;
}

/// Options that contradict each other, whatever the configuration file says.
void check_option_combinations(const CommandLine& line) {
    const OptionValues& v = line.values;
    if (v.quiet && v.verbose) throw UsageError("--quiet and --verbose cannot be combined");
    if (v.no_color && line.was_given("--color") && v.color != "never")
        throw UsageError("--no-color and --color " + v.color + " contradict each other");
    if (v.no_config && !v.config_path.empty())
        throw UsageError("--config and --no-config cannot be combined");
}

/// The configuration file named by --config, else the nearest one (none with --no-config).
Config read_config_file(const OptionValues& v) {
    try {
        const std::string path = v.no_config             ? std::string()
                                 : v.config_path.empty() ? find_config(".")
                                                         : v.config_path;
        if (!path.empty()) return load_config(path);
    } catch (const ConfigError& e) {
        throw UsageError(std::string("configuration error: ") + e.what());
    }
    return {};
}

/// Merges the configuration file under the command line, recording each setting's origin.
class ConfigMerge {
  public:
    ConfigMerge(const CommandLine& line, Settings& settings)
        : line_(line), config_(settings.config), origins_(settings.origins) {}

    /// A single value: the command line's, else the file's, else the default.
    template <typename T>
    void scalar(const char* option, const char* key, T& target, const std::optional<T>& file) {
        if (line_.was_given(option)) {
            origins_[key] = option;
        } else if (file) {
            target = *file;
            origins_[key] = file_origin(config_, key);
        } else {
            origins_[key] = "default";
        }
    }

    /// A list: the file's entries come first; the command line's replace them, or with
    /// `add`, follow them.
    void list(const char* option, const char* key, std::vector<std::string>& target,
              const std::vector<std::string>& file, bool add) {
        const bool given = line_.was_given(option);
        if (!file.empty() && (add || !given)) {
            target.insert(target.begin(), file.begin(), file.end());
            origins_[key] = file_origin(config_, key) + (given ? " + " + std::string(option) : "");
        } else {
            origins_[key] = given ? option : "default";
        }
    }

  private:
    const CommandLine& line_;
    const Config& config_;
    std::map<std::string, std::string>& origins_;
};

/// The configuration file sets defaults; an option given on the command line wins (lists:
/// --include/--exclude replace the file's, --allow and --rules add to them).
void merge_config_file(const CommandLine& line, Settings& settings) {
    ConfigMerge merge(line, settings);
    OptionValues& v = settings.values;
    const Config& c = settings.config;
    merge.scalar("--fail-on", "fail-on", v.fail_on, c.fail_on);
    merge.scalar("--format", "format", v.format, c.format);
    merge.scalar("--jobs", "jobs", v.jobs, c.jobs);
    merge.scalar("--revision", "revision", v.revision, c.revision);
    merge.scalar("--hf-max-fetch", "hf-max-fetch", v.max_fetch_text, c.hf_max_fetch);
    merge.scalar("--hf-retries", "hf-retries", v.hf_retries, c.hf_retries);
    merge.scalar("--baseline", "baseline", v.baseline_path, c.baseline);
    merge.list("--include", "include", v.include, c.include, false);
    merge.list("--exclude", "exclude", v.exclude, c.exclude, false);
    merge.list("--allow", "allow", v.allow, c.allow, true);
    merge.list("--rules", "rules", v.rule_dirs, c.rules, true);
}

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

/// --hf-max-fetch (or the file's hf-max-fetch) in bytes; 0 when unset.
std::uint64_t parse_max_fetch(const Settings& settings) {
    const std::string& text = settings.values.max_fetch_text;
    if (text.empty()) return 0;
    const auto parsed = parse_size(text);
    if (parsed && *parsed != 0) return *parsed;
    const std::string& from = settings.origins.at("hf-max-fetch");
    throw UsageError((from == "--hf-max-fetch"
                          ? std::string("--hf-max-fetch")
                          : "configuration error: " + from + ": 'hf-max-fetch'") +
                     ": '" + text + "' is not a size (e.g. 200M, 2G, 65536)");
}

/// Adds the allowlist entries (the file's first, then --allow's).
void add_allow_entries(RuleSet& rules, const std::vector<std::string>& allow,
                       const Config& config) {
    for (std::size_t i = 0; i < allow.size(); ++i) {
        // An entry that can never take effect is an error, not a silent no-op: the user
        // thinks something is accepted that is not (or the reverse).
        if (const auto why = rules.allow_problem(allow[i])) {
            const bool in_file = i < config.allow.size();
            throw UsageError(
                (in_file ? "configuration error: " + file_origin(config, "allow") + ": 'allow'"
                         : std::string("--allow")) +
                " '" + terminal_safe(allow[i]) + "': " + terminal_safe(*why));
        }
        rules.allow(allow[i]);
    }
}

/// The built-in rules, then each --rules directory, then the allowlist.
RuleSet build_rules(const OptionValues& v, const Config& config) {
    try {
        RuleSet rules = RuleSet::builtin();
        for (const auto& dir : v.rule_dirs)
            rules.load_directory(dir);
        add_allow_entries(rules, v.allow, config);
        rules.validate();
        return rules;
    } catch (const RuleError& e) {
        throw UsageError(std::string("rules error: ") + e.what());
    }
}

/// The file's [[suppress]] rule ids must exist; its [rule.<id>] tables change the rules.
void apply_rule_tables(const Config& config, RuleSet& rules) {
    for (const auto& s : config.suppressions) {
        if (s.rule != "*" && !rules.find(s.rule)) {
            throw UsageError("configuration error: " + s.origin +
                             ": 'suppress.rule': no rule has the id '" + s.rule +
                             "' (mscan --list-rules; \"*\" for any)");
        }
    }
    for (const auto& o : config.rule_overrides) {
        try {
            rules.configure(o.id, o.severity, o.enabled);
        } catch (const RuleError& e) {
            throw UsageError("configuration error: " + o.origin + ": 'rule." + o.id +
                             "': " + e.what());
        }
    }
}

}  // namespace

Settings resolve_settings(const CommandLine& line) {
    check_option_combinations(line);
    Settings settings;
    settings.values = line.values;
    if (settings.values.no_color) settings.values.color = "never";
    settings.config = read_config_file(settings.values);
    merge_config_file(line, settings);
    settings.max_fetch = parse_max_fetch(settings);
    if (!find_reporter(settings.values.format))
        throw UsageError("unknown format '" + settings.values.format + "'");
    settings.rules = build_rules(settings.values, settings.config);
    apply_rule_tables(settings.config, settings.rules);
    return settings;
}

std::optional<Baseline> load_baseline_to_compare(const Settings& settings) {
    const OptionValues& v = settings.values;
    if (v.baseline_path.empty() || !v.write_baseline_path.empty()) return std::nullopt;
    try {
        return load_baseline(v.baseline_path);
    } catch (const ConfigError& e) {
        throw UsageError(std::string("baseline error: ") + e.what());
    }
}

}  // namespace mscan::cli
