// toml++ behind load_config(). Every key is checked: an unknown key or a value of the wrong
// type is an error with its line, so a typo never silently leaves a default in place.
#include "cli/config.h"

#include <toml++/toml.h>
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <tuple>

#include "mscan/limits.h"
#include "util/json_depth.h"
#include "util/text.h"

namespace mscan {
namespace {

namespace fs = std::filesystem;

std::string where(const std::string& file, const toml::node& node) {
    const auto& src = node.source();
    return file + ":" + std::to_string(src.begin.line);
}

[[noreturn]] void fail(const std::string& file, const toml::node& node, const std::string& key,
                       const std::string& message) {
    throw ConfigError(where(file, node) + ": '" + key + "': " + message);
}

bool has_tool_mscan(const fs::path& pyproject) {
    try {
        const toml::table doc = toml::parse_file(pyproject.string());
        return doc["tool"]["mscan"].is_table();
    } catch (const toml::parse_error&) {
        return true;  // unreadable: let load_config report it with its line
    }
}

struct Reader {
    const std::string& file;
    Config& out;

    std::string string(const toml::node& node, const std::string& key) {
        const auto* v = node.as_string();
        if (!v) fail(file, node, key, "must be a string");
        out.origins[key] = where(file, node);
        return v->get();
    }
    std::vector<std::string> strings(const toml::node& node, const std::string& key) {
        const auto* arr = node.as_array();
        if (!arr) fail(file, node, key, "must be an array of strings");
        std::vector<std::string> values;
        for (const auto& item : *arr) {
            const auto* v = item.as_string();
            if (!v || v->get().empty()) fail(file, item, key, "must hold non-empty strings");
            values.push_back(v->get());
        }
        out.origins[key] = where(file, node);
        return values;
    }
    std::int64_t integer(const toml::node& node, const std::string& key, std::int64_t lo,
                         std::int64_t hi) {
        const auto* v = node.as_integer();
        if (!v || v->get() < lo || v->get() > hi) {
            fail(file, node, key,
                 "must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
        }
        out.origins[key] = where(file, node);
        return v->get();
    }
};

const std::set<std::string> kLevels = {"critical", "high", "medium", "low", "info", "never"};
const std::set<std::string> kFormats = {"text", "json", "sarif"};

}  // namespace

std::string find_config(const std::string& start_dir) {
    std::error_code ec;
    fs::path dir = fs::absolute(start_dir, ec).lexically_normal();
    if (ec) return {};
    if (dir.filename().empty()) dir = dir.parent_path();  // "/a/b/" -> "/a/b"
    for (int depth = 0; depth < 256; ++depth) {
        for (const char* name : {".mscan.toml", "mscan.toml"}) {
            if (fs::is_regular_file(dir / name, ec)) return (dir / name).string();
        }
        const fs::path pyproject = dir / "pyproject.toml";
        if (fs::is_regular_file(pyproject, ec) && has_tool_mscan(pyproject))
            return pyproject.string();
        if (!dir.has_parent_path() || dir.parent_path() == dir) break;
        dir = dir.parent_path();
    }
    return {};
}

Config load_config(const std::string& path) {
    Config out;
    out.file = path;
    toml::table doc;
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) throw ConfigError(path + ": no such configuration file");
    try {
        doc = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
        const auto& src = e.source();
        throw ConfigError(path + ":" + std::to_string(src.begin.line) +
                          ": not valid TOML: " + std::string(e.description()));
    } catch (const std::exception& e) {
        throw ConfigError(path + ": cannot be read: " + e.what());
    }
    const bool pyproject = fs::path(path).filename() == "pyproject.toml";
    const toml::table* root = &doc;
    std::string prefix;
    if (pyproject) {
        root = doc["tool"]["mscan"].as_table();
        if (!root) throw ConfigError(path + ": has no [tool.mscan] table");
        prefix = "tool.mscan.";
    }
    const fs::path base = fs::absolute(fs::path(path)).parent_path();
    Reader r{path, out};
    for (const auto& [key_node, node] : *root) {
        const std::string key(key_node.str());
        const std::string full = prefix + key;
        if (key == "fail-on") {
            const std::string v = util::ascii_lower(r.string(node, key));
            if (!kLevels.count(v))
                fail(path, node, full, "must be critical, high, medium, low, info or never");
            out.fail_on = v;
        } else if (key == "format") {
            const std::string v = util::ascii_lower(r.string(node, key));
            if (!kFormats.count(v)) fail(path, node, full, "must be text, json or sarif");
            out.format = v;
        } else if (key == "jobs") {
            out.jobs = static_cast<unsigned>(r.integer(node, key, 1, 1024));
        } else if (key == "revision") {
            out.revision = r.string(node, key);
        } else if (key == "hf-max-fetch") {
            out.hf_max_fetch = r.string(node, key);
        } else if (key == "hf-retries") {
            out.hf_retries = static_cast<int>(r.integer(node, key, 0, 20));
        } else if (key == "baseline") {
            out.baseline = (base / r.string(node, key)).lexically_normal().string();
        } else if (key == "rules") {
            for (const auto& dir : r.strings(node, key))
                out.rules.push_back((base / dir).lexically_normal().string());
        } else if (key == "include") {
            out.include = r.strings(node, key);
        } else if (key == "exclude") {
            out.exclude = r.strings(node, key);
        } else if (key == "allow") {
            out.allow = r.strings(node, key);
            for (const auto& a : out.allow) {
                if (a == ".*") fail(path, node, full, "'.*' would allow everything");
            }
        } else if (key == "rule") {
            // [rule.<id>] severity = "low" / enabled = false
            const auto* table = node.as_table();
            if (!table) fail(path, node, full, "must be a table of [rule.<id>] tables");
            for (const auto& [id_node, rule_node] : *table) {
                const std::string id(id_node.str());
                const std::string rkey = full + "." + id;
                const auto* settings = rule_node.as_table();
                if (!settings) fail(path, rule_node, rkey, "must be a table");
                RuleOverride o;
                o.id = id;
                o.origin = where(path, rule_node);
                for (const auto& [sk, sv] : *settings) {
                    const std::string skey(sk.str());
                    if (skey == "severity") {
                        const auto* s = sv.as_string();
                        const auto sev = s ? parse_severity(s->get()) : std::nullopt;
                        if (!sev)
                            fail(path, sv, rkey + ".severity",
                                 "must be critical, high, medium, low or info");
                        o.severity = sev;
                    } else if (skey == "enabled") {
                        const auto* b = sv.as_boolean();
                        if (!b) fail(path, sv, rkey + ".enabled", "must be true or false");
                        o.enabled = b->get();
                    } else {
                        fail(path, sv, rkey + "." + skey,
                             "unknown key (a rule takes severity and enabled)");
                    }
                }
                out.origins[key + "." + id] = o.origin;
                out.rule_overrides.push_back(std::move(o));
            }
        } else if (key == "suppress") {
            // [[suppress]] rule = "id", path = "glob", reason = "why"
            const auto* arr = node.as_array();
            if (!arr) fail(path, node, full, "must be an array of [[suppress]] tables");
            for (const auto& item : *arr) {
                const auto* t = item.as_table();
                if (!t) fail(path, item, full, "must hold tables");
                Suppression s;
                s.origin = where(path, item);
                for (const auto& [sk, sv] : *t) {
                    const std::string skey(sk.str());
                    const auto* str = sv.as_string();
                    if (skey != "rule" && skey != "path" && skey != "reason") {
                        fail(path, sv, full + "." + skey,
                             "unknown key (a suppression takes rule, path and reason)");
                    }
                    if (!str || str->get().empty())
                        fail(path, sv, full + "." + skey, "must be a non-empty string");
                    (skey == "rule" ? s.rule : skey == "path" ? s.path : s.reason) = str->get();
                }
                if (s.rule.empty())
                    fail(path, item, full, "a suppression needs a rule (an id or \"*\")");
                if (s.reason.empty())
                    fail(path, item, full, "a suppression needs a reason (it is shown in reports)");
                if (s.path.empty()) s.path = "*";
                out.suppressions.push_back(std::move(s));
            }
            out.origins[key] = where(path, node);
        } else {
            fail(path, node, full,
                 "unknown key (known: fail-on, format, jobs, rules, allow, include, exclude, "
                 "revision, hf-max-fetch, hf-retries, baseline, [rule.<id>], [[suppress]])");
        }
    }
    return out;
}

Baseline load_baseline(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(path + ": cannot read the baseline");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.size() > (std::size_t{256} << 20) ||
        json_nesting_depth(text, limits::kJsonMaxDepth) > limits::kJsonMaxDepth)
        throw ConfigError(path + ": not a baseline (too large or too deep)");
    const auto doc = nlohmann::json::parse(text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || doc.value("mscan_baseline", 0) != 1 ||
        !doc.contains("findings") || !doc["findings"].is_array())
        throw ConfigError(path + ": not an mscan baseline (write one with --write-baseline)");
    Baseline b;
    b.file = path;
    for (const auto& f : doc["findings"]) {
        if (!f.is_object() || !f.contains("fingerprint") || !f["fingerprint"].is_string())
            throw ConfigError(path + ": a baseline entry has no fingerprint");
        b.fingerprints.insert(f["fingerprint"].get<std::string>());
    }
    return b;
}

void write_baseline(std::ostream& out, const ScanResult& result) {
    using nlohmann::ordered_json;
    std::vector<ordered_json> entries;
    for (const auto& file : result.files) {
        for (const auto& f : file.findings) {
            if (f.suppressed == "config") continue;
            entries.push_back({{"fingerprint", f.fingerprint},
                               {"rule_id", f.rule_id},
                               {"severity", std::string(severity_name(f.severity))},
                               {"path", file.path},
                               {"subject", f.subject}});
        }
    }
    std::sort(entries.begin(), entries.end(), [](const ordered_json& a, const ordered_json& b) {
        return std::tie(a["fingerprint"].get_ref<const std::string&>(),
                        a["path"].get_ref<const std::string&>()) <
               std::tie(b["fingerprint"].get_ref<const std::string&>(),
                        b["path"].get_ref<const std::string&>());
    });
    ordered_json doc = {{"mscan_baseline", 1},
                        {"note",
                         "Findings accepted on review; mscan --baseline FILE reports only "
                         "findings not listed here. Fingerprints do not depend on the "
                         "folder the scan ran from."},
                        {"findings", entries}};
    out << doc.dump(2, ' ', false, ordered_json::error_handler_t::replace) << "\n";
}

}  // namespace mscan
