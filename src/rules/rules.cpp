// Rule loading, validation and matching. Rule files are untrusted configuration: every field
// is type-checked and every problem names the file and the rule.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "mscan/rules.h"
#include "rules/embedded_rules.h"

namespace mscan {

std::string_view severity_name(Severity s) {
    switch (s) {
        case Severity::Info:
            return "info";
        case Severity::Low:
            return "low";
        case Severity::Medium:
            return "medium";
        case Severity::High:
            return "high";
        case Severity::Critical:
            return "critical";
    }
    return "info";
}

std::optional<Severity> parse_severity(std::string_view name) {
    if (name == "info") return Severity::Info;
    if (name == "low") return Severity::Low;
    if (name == "medium") return Severity::Medium;
    if (name == "high") return Severity::High;
    if (name == "critical") return Severity::Critical;
    return std::nullopt;
}

namespace {

using nlohmann::json;

std::vector<std::string> string_list(const json& obj, const char* key, const std::string& where) {
    std::vector<std::string> out;
    if (!obj.contains(key)) return out;
    const json& arr = obj.at(key);
    if (!arr.is_array()) throw RuleError(where + ": \"" + key + "\" must be an array of strings");
    for (const auto& item : arr) {
        if (!item.is_string() || item.get<std::string>().empty()) {
            throw RuleError(where + ": \"" + key + "\" must hold non-empty strings");
        }
        out.push_back(item.get<std::string>());
    }
    return out;
}

std::string required_string(const json& obj, const char* key, const std::string& where) {
    if (!obj.contains(key) || !obj.at(key).is_string() || obj.at(key).get<std::string>().empty()) {
        throw RuleError(where + ": missing or empty string field \"" + key + "\"");
    }
    return obj.at(key).get<std::string>();
}

bool valid_id(const std::string& id) {
    if (id.empty() || id.front() == '-' || id.back() == '-') return false;
    return std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    });
}

/// Whether dotted entry `entry` covers `name` (same name, or a component-boundary prefix).
bool covers(std::string_view entry, std::string_view name) {
    return name.size() >= entry.size() && name.compare(0, entry.size(), entry) == 0 &&
           (name.size() == entry.size() || name[entry.size()] == '.');
}

std::size_t components(std::string_view s) {
    return static_cast<std::size_t>(std::count(s.begin(), s.end(), '.')) + 1;
}

/// A non-empty dotted name of identifier-ish components: no empty component, no glob.
bool dotted_name(std::string_view s) {
    if (s.empty() || s.front() == '.' || s.back() == '.' || s.find("..") != std::string::npos)
        return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '.';
    });
}

/// Calls `visit(prefix)` for every component-boundary prefix of `name`, shortest first:
/// "a", "a.b", "a.b.c".
template <typename Visit>
void for_each_prefix(std::string_view name, Visit&& visit) {
    std::size_t end = 0;
    while (end != std::string_view::npos) {
        end = name.find('.', end + 1);
        visit(name.substr(0, end == std::string_view::npos ? name.size() : end));
    }
}

}  // namespace

RuleSet RuleSet::builtin() {
    RuleSet set;
    set.deferred_ = true;
    for (const auto& file : embedded_rule_files()) {
        set.load_text(file.text, std::string("<builtin>/") + file.name);
    }
    set.deferred_ = false;
    set.reindex();
    set.validate();
    return set;
}

void RuleSet::load_directory(const std::string& dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) throw RuleError("rules directory not found: " + dir);
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (entry.path().extension() == ".json") files.push_back(entry.path());
    }
    if (ec) throw RuleError("cannot read rules directory " + dir + ": " + ec.message());
    std::sort(files.begin(), files.end());
    if (files.empty()) throw RuleError("no *.json rule files in " + dir);
    for (const auto& path : files) {
        std::ifstream in(path, std::ios::binary);
        if (!in) throw RuleError("cannot read rule file " + path.string());
        std::ostringstream text;
        text << in.rdbuf();
        load_text(text.str(), path.string());
    }
}

void RuleSet::load_text(std::string_view text, const std::string& origin) {
    json doc;
    try {
        doc = json::parse(text);
    } catch (const json::parse_error& e) {
        throw RuleError(origin + ": not valid JSON: " + e.what());
    }
    if (!doc.is_object()) throw RuleError(origin + ": a rule file must be a JSON object");
    if (!doc.contains("schema") || doc.at("schema") != 1) {
        throw RuleError(origin + ": \"schema\": 1 is required");
    }
    for (const auto& [key, value] : doc.items()) {
        if (key != "schema" && key != "rules" && key != "allow" && key != "description" &&
            key != "module_aliases") {
            throw RuleError(origin + ": unknown top-level key \"" + key + "\"");
        }
    }
    for (const auto& entry : string_list(doc, "allow", origin))
        allow(entry);
    if (doc.contains("module_aliases")) {
        const json& table = doc.at("module_aliases");
        if (!table.is_object()) {
            throw RuleError(origin + ": \"module_aliases\" must be an object of " +
                            "\"module.attribute\": \"real.name\" strings");
        }
        for (const auto& [from, to] : table.items()) {
            const std::string where = origin + ": module_aliases \"" + from + "\"";
            if (!to.is_string()) throw RuleError(where + ": the real name must be a string");
            if (!dotted_name(from) || from.find('.') == std::string::npos) {
                throw RuleError(where + ": not a dotted module.attribute path");
            }
            if (!dotted_name(to.get<std::string>()) || to.get<std::string>() == from) {
                throw RuleError(where + ": the real name must be another dotted name");
            }
            add_module_alias(from, to.get<std::string>());
        }
    }
    if (!doc.contains("rules")) {
        if (!deferred_) reindex();
        return;
    }
    if (!doc.at("rules").is_array()) throw RuleError(origin + ": \"rules\" must be an array");
    for (const auto& r : doc.at("rules")) {
        if (!r.is_object()) throw RuleError(origin + ": each rule must be an object");
        Rule rule;
        rule.origin = origin;
        rule.id = required_string(r, "id", origin);
        const std::string where = origin + ": rule " + rule.id;
        if (!valid_id(rule.id)) throw RuleError(where + ": ids are lower-case kebab-case");
        for (const auto& [key, value] : r.items()) {
            static const std::vector<std::string> known = {
                "id",  "severity",   "title", "description",
                "why", "references", "match", "stored_severity"};
            if (std::find(known.begin(), known.end(), key) == known.end()) {
                throw RuleError(where + ": unknown field \"" + key + "\"");
            }
        }
        const auto sev = parse_severity(required_string(r, "severity", where));
        if (!sev) throw RuleError(where + ": severity must be critical|high|medium|low|info");
        rule.severity = *sev;
        if (r.contains("stored_severity")) {
            const auto stored = parse_severity(required_string(r, "stored_severity", where));
            if (!stored || *stored > rule.severity)
                throw RuleError(where +
                                ": stored_severity must be a severity no higher than severity");
            rule.stored_severity = stored;
        }
        rule.title = required_string(r, "title", where);
        rule.description = required_string(r, "description", where);
        rule.why = required_string(r, "why", where);
        rule.references = string_list(r, "references", where);
        if (!r.contains("match") || !r.at("match").is_object()) {
            throw RuleError(where + ": \"match\" object is required");
        }
        const json& m = r.at("match");
        for (const auto& [key, value] : m.items()) {
            if (key != "globals" && key != "except" && key != "anomalies" && key != "unknown") {
                throw RuleError(where + ": unknown match field \"" + key + "\"");
            }
        }
        rule.globals = string_list(m, "globals", where);
        rule.except = string_list(m, "except", where);
        rule.anomalies = string_list(m, "anomalies", where);
        if (m.contains("unknown")) {
            const json& u = m.at("unknown");
            if (u.is_boolean()) {
                rule.unknown = u.get<bool>() ? UnknownMatch::Any : UnknownMatch::None;
            } else if (u.is_string() && u.get<std::string>() == "called") {
                rule.unknown = UnknownMatch::Called;
            } else if (u.is_string() && u.get<std::string>() == "imported") {
                rule.unknown = UnknownMatch::Imported;
            } else {
                throw RuleError(where + ": \"unknown\" must be true, false, \"called\" or " +
                                "\"imported\"");
            }
        }
        if (rule.globals.empty() && rule.anomalies.empty() && rule.unknown == UnknownMatch::None) {
            throw RuleError(where + ": match names no globals, anomalies or unknown");
        }
        add_rule(std::move(rule));
    }
    if (!deferred_) reindex();
}

void RuleSet::add_rule(Rule rule) {
    auto it = rules_.find(rule.id);
    if (it != rules_.end() && it->second.origin.rfind("<builtin>", 0) == 0 &&
        rule.origin.rfind("<builtin>", 0) == 0) {
        throw RuleError(rule.origin + ": duplicate rule id " + rule.id + " (also in " +
                        it->second.origin + ")");
    }
    rules_[rule.id] = std::move(rule);  // a --rules file replaces a builtin rule of the same id
}

void RuleSet::allow(const std::string& entry) {
    if (entry.size() > 2 && entry.compare(entry.size() - 2, 2, ".*") == 0) {
        allow_prefixes_.push_back(entry.substr(0, entry.size() - 2));
    } else {
        if (deferred_) {  // sorted once in reindex()
            allow_exact_sorted_.push_back(entry);
            allow_dirty_ = true;
            return;
        }
        auto pos = std::lower_bound(allow_exact_sorted_.begin(), allow_exact_sorted_.end(), entry);
        if (pos == allow_exact_sorted_.end() || *pos != entry)
            allow_exact_sorted_.insert(pos, entry);
    }
}

std::optional<std::string> RuleSet::allow_problem(const std::string& entry) const {
    const bool prefix = entry.size() > 2 && entry.compare(entry.size() - 2, 2, ".*") == 0;
    const std::string name = prefix ? entry.substr(0, entry.size() - 2) : entry;
    if (entry.empty() || name.empty() || entry == ".*") return std::string("needs a name");
    if (name.find_first_of("*?[]") != std::string::npos) {
        std::string stem = name.substr(0, name.find_first_of("*?[]"));
        while (!stem.empty() && stem.back() == '.')
            stem.pop_back();
        return std::string("entries are exact names or 'prefix.*', not glob patterns, so '") +
               entry + "' matches nothing" +
               (stem.empty() ? std::string(" (and allowing every global would turn the scan off)")
                             : "; for everything in the module write '" + stem + ".*'");
    }
    if (name.front() == '.' || name.back() == '.' || name.find("..") != std::string::npos)
        return "'" + entry + "' is not a dotted name (module.name)";
    if (!prefix && name.find('.') == std::string::npos) {
        return "'" + entry + "' has no '.', and every global is named module.name, so it matches " +
               "nothing; write '" + entry + ".*' for everything in module " + entry + ", or '" +
               entry + ".Name' for one class or function";
    }
    // A deny rule covering the name (or the whole prefix) wins over any allow entry.
    if (const Rule* rule = deny_rule(name, {})) {
        return "'" + name + "' is covered by the deny rule '" + rule->id + "' (" +
               std::string(severity_name(rule->severity)) +
               "), and deny rules win over the allowlist, so this entry changes nothing; to "
               "accept such findings, add a [[suppress]] entry with a reason to mscan.toml, "
               "disable or lower the rule with [rule." +
               rule->id + "], or use a baseline (docs/configuration.md)";
    }
    return std::nullopt;
}

void RuleSet::reindex() {
    if (allow_dirty_) {
        std::sort(allow_exact_sorted_.begin(), allow_exact_sorted_.end());
        allow_exact_sorted_.erase(
            std::unique(allow_exact_sorted_.begin(), allow_exact_sorted_.end()),
            allow_exact_sorted_.end());
        allow_dirty_ = false;
    }
    deny_index_.clear();
    anomaly_index_.clear();
    for (const auto& [id, rule] : rules_) {
        for (const auto& g : rule.globals)
            deny_index_[g].push_back(id);
        for (const auto& a : rule.anomalies) {
            auto [it, inserted] = anomaly_index_.emplace(a, id);
            if (!inserted && it->second != id) {
                throw RuleError(rule.origin + ": anomaly code " + a + " is claimed by both " +
                                it->second + " and " + id);
            }
        }
    }
}

void RuleSet::validate() const {
    if (!unknown_rule(OpKind::Call)) {
        throw RuleError(
            "rules: no rule with \"unknown\": true (or \"called\") for unknown "
            "globals that are called");
    }
    if (!anomaly_index_.count("*"))
        throw RuleError("rules: no fallback rule for anomalies (\"*\")");
}

std::vector<const Rule*> RuleSet::rules() const {
    std::vector<const Rule*> out;
    for (const auto& [id, rule] : rules_)
        out.push_back(&rule);
    return out;
}

const Rule* RuleSet::find(std::string_view id) const {
    auto it = rules_.find(std::string(id));
    return it == rules_.end() ? nullptr : &it->second;
}

void RuleSet::add_module_alias(const std::string& from, const std::string& to) {
    module_aliases_[from] = to;  // a later file (--rules) replaces a builtin fact
}

std::vector<std::string> RuleSet::resolve_aliases(std::string_view name) const {
    std::vector<std::string> out;
    if (module_aliases_.empty()) return out;
    std::string current(name);
    for (std::size_t step = 0; step < kMaxAliasSteps; ++step) {
        // The longest known prefix is the most specific fact ("a.b.c" before "a.b").
        std::string_view matched;
        const std::string* real = nullptr;
        for_each_prefix(current, [&](std::string_view prefix) {
            auto it = module_aliases_.find(prefix);
            if (it != module_aliases_.end()) {
                matched = prefix;
                real = &it->second;
            }
        });
        if (!real) break;
        std::string next = *real + current.substr(matched.size());
        if (next == current || std::find(out.begin(), out.end(), next) != out.end()) break;
        out.push_back(next);
        current = std::move(next);
    }
    return out;
}

const Rule* RuleSet::literal_deny_rule(std::string_view candidate, const Rule* best,
                                       std::size_t& best_specificity) const {
    for_each_prefix(candidate, [&](std::string_view prefix) {
        auto it = deny_index_.find(prefix);
        if (it == deny_index_.end()) return;
        for (const auto& id : it->second) {
            const Rule& rule = rules_.at(id);
            const bool exempt =
                std::any_of(rule.except.begin(), rule.except.end(),
                            [&](const std::string& e) { return covers(e, candidate); });
            if (exempt) continue;
            const std::size_t spec = components(prefix);
            if (!best || spec > best_specificity ||
                (spec == best_specificity && rule.severity > best->severity)) {
                best = &rule;
                best_specificity = spec;
            }
        }
    });
    return best;
}

const Rule* RuleSet::deny_rule(const std::string& name,
                               const std::vector<std::string>& aliases) const {
    const Rule* best = nullptr;
    std::size_t best_specificity = 0;
    // The real names a module alias resolves to come first: on a full tie (as specific, as
    // severe) the first match stays, and "tempfile._os.system" is os.system (process
    // execution) before it is something under tempfile (filesystem).
    auto consider = [&](std::string_view candidate) {
        for (const auto& real : resolve_aliases(candidate))
            best = literal_deny_rule(real, best, best_specificity);
        best = literal_deny_rule(candidate, best, best_specificity);
    };
    consider(name);
    for (const auto& alias : aliases)
        consider(alias);
    return best;
}

bool RuleSet::allowed(const std::string& name) const {
    if (std::binary_search(allow_exact_sorted_.begin(), allow_exact_sorted_.end(), name))
        return true;
    return std::any_of(allow_prefixes_.begin(), allow_prefixes_.end(),
                       [&](const std::string& p) { return covers(p, name); });
}

const Rule* RuleSet::anomaly_rule(const std::string& code) const {
    auto it = anomaly_index_.find(code);
    if (it == anomaly_index_.end()) it = anomaly_index_.find("*");
    return it == anomaly_index_.end() ? nullptr : &rules_.at(it->second);
}

const Rule* RuleSet::unknown_rule(OpKind kind) const {
    const UnknownMatch specific =
        kind == OpKind::Import ? UnknownMatch::Imported : UnknownMatch::Called;
    const Rule* any = nullptr;
    for (const auto& [id, rule] : rules_) {
        if (rule.unknown == specific) return &rule;
        if (rule.unknown == UnknownMatch::Any && !any) any = &rule;
    }
    return any;
}

void RuleSet::configure(const std::string& id, std::optional<Severity> severity, bool enabled) {
    const auto it = rules_.find(id);
    if (it == rules_.end()) throw RuleError("no rule has the id '" + id + "' (mscan --list-rules)");
    if (severity) it->second.severity = *severity;
    it->second.enabled = enabled;
}

std::optional<std::string> RuleEngine::reachable_as(const Operation& op, const Rule* rule) const {
    if (!rule || rule->unknown != UnknownMatch::None) return std::nullopt;
    auto denied_by_rule = [&](std::string_view candidate) {
        std::size_t spec = 0;
        return rules_.literal_deny_rule(candidate, nullptr, spec) == rule;
    };
    // Another spelling the pickle itself gives (a py2 name, a dotted tail of the qualname).
    for (const auto& alias : op.aliases) {
        if (alias != op.name && denied_by_rule(alias)) return alias;
    }
    // A real name reached through a module alias ("random._os.system" is "os.system").
    std::vector<std::string> candidates = {op.name};
    candidates.insert(candidates.end(), op.aliases.begin(), op.aliases.end());
    for (const auto& candidate : candidates) {
        for (const auto& real : rules_.resolve_aliases(candidate)) {
            if (real != op.name && denied_by_rule(real)) return real;
        }
    }
    return std::nullopt;
}

std::optional<Finding> RuleEngine::evaluate(const Operation& op) const {
    const Rule* rule = nullptr;
    std::string message;
    if (op.kind == OpKind::Anomaly) {
        rule = rules_.anomaly_rule(op.name);
        message = rule ? rule->title : op.name;
    } else {
        const char* verb = op.kind == OpKind::Call ? "calls" : "imports";
        rule = rules_.deny_rule(op.name, op.aliases);
        if (!rule) {
            if (rules_.allowed(op.name) || op.only_if_denied) return std::nullopt;
            rule = rules_.unknown_rule(op.kind);
        }
        message = std::string("Loading ") + verb + " " + op.name;
        if (const auto via = reachable_as(op, rule)) message += " (reachable as " + *via + ")";
        if (op.kind == OpKind::Import) message += " (imported, not called in the stream)";
    }
    if (!rule || !rule->enabled) return std::nullopt;
    Finding f;
    f.rule_id = rule->id;
    f.severity = rule->severity;
    if (op.kind == OpKind::Import && rule->stored_severity && !rule->globals.empty())
        f.severity = std::min(*rule->stored_severity, rule->severity);
    f.title = rule->title;
    f.message = std::move(message);
    f.why = rule->why;
    f.subject = op.name;
    f.evidence = op.evidence;
    f.location = op.location;
    return f;
}

}  // namespace mscan
