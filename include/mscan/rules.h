// Rules are data (rules/*.json, embedded at build time, extended with --rules DIR); this is
// their in-memory form and the engine that matches operations against them. The engine knows
// no bytes; parsers know no policy.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "mscan/finding.h"
#include "mscan/operation.h"

namespace mscan {

/// Which globals that are neither denied nor allowed a rule classifies ("match": {"unknown": …}).
enum class UnknownMatch {
    None,      ///< not an unknown-global rule
    Any,       ///< `true`: every unknown global, imported or called
    Called,    ///< `"called"`: unknown globals the stream calls
    Imported,  ///< `"imported"`: unknown globals only imported (and stored), never called
};

/// One rule as loaded from a rule file.
struct Rule {
    std::string id;
    Severity severity = Severity::Medium;
    std::string title;
    std::string description;
    std::string why;
    std::vector<std::string> references;
    /// Qualified names or dotted prefixes this rule denies (component-boundary prefix match).
    std::vector<std::string> globals;
    /// Names exempt from `globals`.
    std::vector<std::string> except;
    /// Anomaly codes this rule classifies; "*" is the fallback for unnamed codes.
    std::vector<std::string> anomalies;
    /// Whether (and for which operations) the rule applies to globals that are neither denied
    /// nor allowed.
    UnknownMatch unknown = UnknownMatch::None;
    /// Deny rules whose globals are harmful only when the stream itself calls them (call
    /// gadgets such as functools.reduce): the severity of a match that is only imported and
    /// stored. Unset: an imported name keeps the rule's severity (a stored os.system is as
    /// bad as a called one; model code may call it later).
    std::optional<Severity> stored_severity;
    /// File the rule came from ("<builtin>/name.json" for embedded rules).
    std::string origin;
    /// False when a configuration file disables it: it then produces no finding.
    bool enabled = true;
};

/// A validated, indexed set of rules plus the allowlist.
class RuleSet {
  public:
    /// Loads the rules embedded in the binary. Throws RuleError if they are invalid.
    static RuleSet builtin();
    /// Adds or replaces (by id) the rules of every *.json file in `dir`, and extends the
    /// allowlist from any file with an "allow" array. Throws RuleError naming file and problem.
    void load_directory(const std::string& dir);
    /// Parses one rule file's text; `origin` names it in errors.
    void load_text(std::string_view text, const std::string& origin);
    /// Adds an allowlist entry: an exact name, or "prefix.*" for everything under a prefix.
    void allow(const std::string& entry);
    /// Why an allowlist entry (as given to --allow) would do nothing, or nullopt when it can
    /// take effect: a glob other than a trailing ".*" (entries are names, not patterns), a name
    /// without a '.' (every global is module.name), or a name or prefix that a deny rule owns
    /// (deny rules win over the allowlist). Call after the rules are loaded.
    std::optional<std::string> allow_problem(const std::string& entry) const;
    /// Changes a rule's severity and/or turns it off (a configuration file's [rule.<id>]).
    /// Throws RuleError for an unknown id.
    void configure(const std::string& id, std::optional<Severity> severity, bool enabled);
    /// Checks cross-rule invariants (an unknown rule and an anomaly fallback exist). Throws.
    void validate() const;

    /// All rules, sorted by id.
    std::vector<const Rule*> rules() const;
    const Rule* find(std::string_view id) const;

    /// The deny rule for a global name and its aliases (most specific entry wins, then the
    /// higher severity), or nullptr. Each candidate is also matched under the real names the
    /// module-alias table resolves it to ("random._os.system" is "os.system").
    const Rule* deny_rule(const std::string& name, const std::vector<std::string>& aliases) const;
    /// The real dotted names `name` is reachable as through the module-alias table, in the
    /// order they resolve ("tokenize.builtins.open" -> {"builtins.open"}); empty when no
    /// component-boundary prefix of it is a known alias. Bounded: at most kMaxAliasSteps.
    std::vector<std::string> resolve_aliases(std::string_view name) const;
    /// Adds a module-alias fact: attribute path `from` ("random._os") is the object `to` ("os").
    void add_module_alias(const std::string& from, const std::string& to);
    /// The module-alias table (attribute path -> real dotted name), sorted.
    const std::map<std::string, std::string, std::less<>>& module_aliases() const {
        return module_aliases_;
    }
    /// How many times resolve_aliases() rewrites a name at most (chains of re-exports).
    static constexpr std::size_t kMaxAliasSteps = 8;
    /// Whether `name` is allowlisted (exact, or under a user "prefix.*" entry).
    bool allowed(const std::string& name) const;
    /// The rule classifying an anomaly code (named, else the "*" fallback).
    const Rule* anomaly_rule(const std::string& code) const;
    /// The rule for a global that is neither denied nor allowed, reached by an operation of
    /// `kind`: a rule matching that kind ("called"/"imported") before one matching any.
    const Rule* unknown_rule(OpKind kind = OpKind::Call) const;

    /// The deny rule for `candidate` alone (no aliases, no alias resolution), keeping `best`
    /// when that is more specific (or as specific and more severe); `best_specificity` is
    /// updated with the winner's number of components.
    const Rule* literal_deny_rule(std::string_view candidate, const Rule* best,
                                  std::size_t& best_specificity) const;

  private:
    void add_rule(Rule rule);
    void reindex();
    std::map<std::string, Rule> rules_;
    std::vector<std::string> allow_exact_sorted_;
    bool allow_dirty_ = false;
    bool deferred_ = false;
    std::vector<std::string> allow_prefixes_;
    // name entry -> rule ids, built by reindex()
    std::map<std::string, std::vector<std::string>, std::less<>> deny_index_;
    std::map<std::string, std::string, std::less<>> anomaly_index_;
    // attribute path -> real dotted name (rules/module-aliases.json)
    std::map<std::string, std::string, std::less<>> module_aliases_;
};

/// A rules or configuration problem (exit code 4).
struct RuleError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Turns operations into findings according to a RuleSet.
class RuleEngine {
  public:
    explicit RuleEngine(const RuleSet& rules) : rules_(rules) {}
    /// The finding an operation produces, if any (allowlisted globals produce none).
    std::optional<Finding> evaluate(const Operation& op) const;

  private:
    /// The other name that makes `rule` (a deny rule) apply to `op`, for the message.
    std::optional<std::string> reachable_as(const Operation& op, const Rule* rule) const;
    const RuleSet& rules_;
};

}  // namespace mscan
