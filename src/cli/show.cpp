// The informational outputs. --show-config's lines read as TOML a user can paste into a
// configuration file, with each value's origin as a comment.
#include "cli/show.h"

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "mscan/version.h"

namespace mscan::cli {
namespace {

std::string quoted(const std::string& value) {
    return "\"" + value + "\"";
}

/// ["a", "b"]
std::string quoted_list(const std::vector<std::string>& values) {
    std::string text = "[";
    for (std::size_t i = 0; i < values.size(); ++i)
        text += (i ? ", " : "") + quoted(values[i]);
    return text + "]";
}

/// "key = value", padded, then "# origin".
void print_setting(const Settings& settings, const std::string& key, const std::string& value) {
    const auto origin = settings.origins.find(key);
    std::printf("%-30s # %s\n", (key + " = " + value).c_str(),
                origin == settings.origins.end() ? "" : origin->second.c_str());
}

/// The values in effect, with the defaults a setting left empty stands for.
void print_values(const Settings& settings) {
    const OptionValues& v = settings.values;
    print_setting(settings, "fail-on", quoted(v.fail_on));
    print_setting(settings, "format", quoted(v.format));
    print_setting(settings, "jobs",
                  v.jobs ? std::to_string(v.jobs) : std::string("0  (all cores)"));
    print_setting(settings, "rules", quoted_list(v.rule_dirs));
    print_setting(settings, "allow", quoted_list(v.allow));
    print_setting(settings, "include", quoted_list(v.include));
    print_setting(settings, "exclude", quoted_list(v.exclude));
    print_setting(settings, "revision", quoted(v.revision.empty() ? "main" : v.revision));
    print_setting(settings, "hf-max-fetch",
                  quoted(v.max_fetch_text.empty() ? "1G" : v.max_fetch_text));
    print_setting(settings, "hf-retries", std::to_string(v.hf_retries < 0 ? 4 : v.hf_retries));
    print_setting(settings, "baseline",
                  v.baseline_path.empty() ? "(none)" : quoted(v.baseline_path));
}

/// The file's [rule.<id>] tables (as the rules now are) and [[suppress]] entries.
void print_rule_tables(const Settings& settings) {
    for (const auto& o : settings.config.rule_overrides) {
        // resolve_settings() applied every override, so each id names a rule.
        const Rule* r = settings.rules.find(o.id);
        std::printf("[rule.%s] severity = \"%s\", enabled = %s   # %s\n", o.id.c_str(),
                    std::string(severity_name(r->severity)).c_str(), r->enabled ? "true" : "false",
                    o.origin.c_str());
    }
    for (const auto& s : settings.config.suppressions) {
        std::printf("[[suppress]] rule = %s, path = %s, reason = %s   # %s\n",
                    quoted(s.rule).c_str(), quoted(s.path).c_str(), quoted(s.reason).c_str(),
                    s.origin.c_str());
    }
}

}  // namespace

void print_settings(const Settings& settings) {
    const std::string& file = settings.config.file;
    std::printf("# configuration file: %s\n",
                file.empty() ? (settings.values.no_config ? "none (--no-config)" : "none found")
                             : file.c_str());
    print_values(settings);
    print_rule_tables(settings);
}

void print_rule_list(const RuleSet& rules) {
    for (const auto* r : rules.rules()) {
        std::printf("%-28s %-9s %s\n", r->id.c_str(),
                    std::string(severity_name(r->severity)).c_str(), r->title.c_str());
    }
}

void print_version() {
    std::cout << "mscan " << kVersion << "\n";
}

}  // namespace mscan::cli
