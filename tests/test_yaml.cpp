// The YAML tree (libyaml) and the OmegaConf reading of Hydra / NeMo target keys. Each
// expectation was checked against PyYAML 6.0 and OmegaConf 2.2 (Debian 12):
// OmegaConf.load(...) and OmegaConf.select(cfg, path) on the same text.
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "formats/context.h"
#include "formats/hydra_yaml/hydra_config.h"
#include "formats/hydra_yaml/yaml_doc.h"
#include "mscan/limits.h"
#include "mscan/rules.h"
#include "mscan/scan.h"
#include "mscan/source.h"

namespace {

struct Seen {
    std::vector<std::string> calls;      // Call and Import names
    std::vector<std::string> anomalies;  // codes
    std::vector<std::string> evidence;
};

Seen check(const std::string& text) {
    Seen seen;
    const mscan::OperationSink sink = [&seen](mscan::Operation&& op) {
        if (op.kind == mscan::OpKind::Anomaly)
            seen.anomalies.push_back(op.name);
        else
            seen.calls.push_back(op.name);
        seen.evidence.push_back(op.evidence);
    };
    mscan::ScanBudget budget;
    mscan::Location base;
    base.chain.push_back("config.yaml");
    const mscan::ParseContext context(sink, base, budget);
    mscan::hydra::check_yaml(text, context);
    return seen;
}

using Names = std::vector<std::string>;

}  // namespace

TEST_CASE("the YAML tree keeps keys and values however they are written", "[yaml]") {
    const auto tree = mscan::yaml::parse("a: &x [1, {b: c}]\nd: *x\n\"e\\x41\": |\n  f\n");
    REQUIRE_FALSE(tree.malformed);
    REQUIRE(tree.documents.size() == 1);
    const auto& root = tree.at(tree.documents[0]);
    REQUIRE(root.kind == mscan::yaml::Kind::Mapping);
    REQUIRE(root.items.size() == 6);
    CHECK(root.items[1] == root.items[3]);  // the alias is the anchored node, not a copy
    CHECK(tree.at(root.items[4]).text == "eA");
    CHECK(tree.at(root.items[5]).text == "f\n");
    mscan::yaml::NodeId found = 0;
    std::size_t steps = 100;
    CHECK(mscan::yaml::lookup(tree, tree.documents[0], "d", found, steps));
    CHECK(found == root.items[1]);
}

TEST_CASE("merge keys follow PyYAML's order", "[yaml]") {
    // {<<: [*a, *b], k: own}: own wins; among merged, the first mapping wins.
    const auto tree = mscan::yaml::parse(
        "a: &a {k: from_a, m: a}\nb: &b {k: from_b, m: b, n: b}\n"
        "c: {<<: [*a, *b], k: own}\n");
    REQUIRE_FALSE(tree.malformed);
    const auto& root = tree.at(tree.documents[0]);
    const auto c = root.items[5];
    std::size_t steps = 1000;
    mscan::yaml::NodeId found = 0;
    REQUIRE(mscan::yaml::lookup(tree, c, "k", found, steps));
    CHECK(tree.at(found).text == "own");
    REQUIRE(mscan::yaml::lookup(tree, c, "m", found, steps));
    CHECK(tree.at(found).text == "a");
    REQUIRE(mscan::yaml::lookup(tree, c, "n", found, steps));
    CHECK(tree.at(found).text == "b");
    CHECK_FALSE(mscan::yaml::lookup(tree, c, "zz", found, steps));
}

TEST_CASE("bad YAML is a recorded problem, never a crash", "[yaml]") {
    auto tree = mscan::yaml::parse("a: \"open\n");
    CHECK(tree.malformed);
    CHECK(tree.problem_line >= 1);
    tree = mscan::yaml::parse("a: *nowhere\n");
    CHECK(tree.malformed);
    CHECK(tree.problem.find("undefined alias") != std::string::npos);
    tree = mscan::yaml::parse("a: &x 1\nb: &x 2\n");
    CHECK(tree.malformed);  // PyYAML's composer refuses a duplicate anchor
    // Deep nesting: libyaml and the tree builder keep their own stacks.
    const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
    tree = mscan::yaml::parse(deep);
    CHECK_FALSE(tree.malformed);
    CHECK(tree.nodes.size() == 100'000);
    CHECK(check(deep).calls.empty());
}

TEST_CASE("target keys are found however the YAML writes them", "[yaml]") {
    CHECK(check("m:\n  _target_:\n    os.system\n").calls == Names{"os.system"});
    CHECK(check("m:\n  _target_: >-\n    os.system\n").calls == Names{"os.system"});
    CHECK(check("f: &f os.system\nm: {_target_: *f}\n").calls == Names{"os.system"});
    CHECK(check("k: [&k _target_]\nm:\n  *k : os.system\n").calls == Names{"os.system"});
    CHECK(check("m:\n  !!str _target_: !!str os.system\n").calls == Names{"os.system"});
    CHECK(check("m:\n  \"\\x5ftarget\\u005f\": 'os.system'\n").calls == Names{"os.system"});
    CHECK(check("m:\n  ? _target_\n  : os.system\n").calls == Names{"os.system"});
    CHECK(check("b: &b {_target_: os.system}\nm:\n  <<: *b\n").calls == Names{"os.system"});
    CHECK(check("--- {a: 1}\n--- {cls: subprocess.Popen}\n").calls == Names{"subprocess.Popen"});
    // Older Hydra's _locate drops empty parts.
    CHECK(check("_target_: os..system\n").calls == Names{"os.system"});
    // Not targets: comments, strings, other keys, non-names, one word.
    CHECK(check("# _target_: os.system\nx: \"_target_: os.system\"\nmytarget: os.system\n"
                "target: 0.5\ncls: labels\n_target_: [os.system]\n_target_: 'os. system'\n")
              .calls.empty());
}

TEST_CASE("interpolations in targets resolve as OmegaConf resolves them", "[yaml]") {
    CHECK(check("fn: os.system\nm:\n  _target_: ${fn}\n").calls == Names{"os.system"});
    CHECK(check("m:\n  fn: os.system\n  _target_: ${.fn}\n").calls == Names{"os.system"});
    CHECK(check("m:\n  fn: os.system\n  i:\n    _target_: ${..fn}\n").calls == Names{"os.system"});
    CHECK(check("a: os\nb: system\n_target_: ${a}.${b}\n").calls == Names{"os.system"});
    CHECK(check("k: v\nv: os.system\n_target_: ${${k}}\n").calls == Names{"os.system"});
    CHECK(check("l: [x.y, os.system]\n_target_: ${l[1]}\n").calls == Names{"os.system"});
    CHECK(check("l: [x.y, os.system]\n_target_: ${l.1}\n").calls == Names{"os.system"});
    CHECK(check("a: {b: {c: os.system}}\n_target_: ${a.b.c}\n").calls == Names{"os.system"});
    CHECK(check("a: ${b}\nb: os.system\n_target_: ${a}\n").calls == Names{"os.system"});
    CHECK(check("_target_: ${oc.select:nope,os.system}\n").calls == Names{"os.system"});
    CHECK(check("x: os.system\n_target_: ${oc.select:x,y.z}\n").calls == Names{"os.system"});
    // An escaped interpolation is literal text: not a name.
    CHECK(check("fn: os.system\n_target_: \\${fn}\n").calls.empty());
    // A value that resolves to a container or null is not a name.
    CHECK(check("fn: {a: 1}\n_target_: ${fn}\n").calls.empty());
    CHECK(check("fn: null\n_target_: ${fn}\n").calls.empty());
}

TEST_CASE("a target mscan cannot resolve is reported, with oc.env's default judged", "[yaml]") {
    const Names unresolved{"hydra.target-unresolved"};
    CHECK(check("_target_: ${oc.env:CLS}\n").anomalies == unresolved);
    CHECK(check("_target_: ${oc.decode:'os.system'}\n").anomalies == unresolved);
    CHECK(check("_target_: ${missing.key}\n").anomalies == unresolved);
    CHECK(check("_target_: ${..up}\n").anomalies == unresolved);
    CHECK(check("a: ${b}\nb: ${a}\n_target_: ${a}\n").anomalies == unresolved);  // a cycle
    CHECK(check("_target_: ${open\n").anomalies == unresolved);
    const auto env = check("_target_: ${oc.env:CLS,os.system}\n");
    CHECK(env.calls == Names{"os.system"});
    CHECK(env.anomalies == unresolved);
    const auto part = check("fn: system\n_target_: os.${oc.env:FN,${fn}}\n");
    CHECK(part.calls == Names{"os.system"});
    CHECK(part.anomalies == unresolved);
    // Interpolations elsewhere are not targets' business.
    CHECK(check("_target_: a.b\nx: ${oc.env:HOME}\n").anomalies.empty());
}

TEST_CASE("Python tags are what PyYAML's unsafe loaders would call", "[yaml]") {
    CHECK(check("x: !!python/object/apply:os.system [id]\n").calls == Names{"os.system"});
    CHECK(check("x: !!python/name:eval ''\n").calls == Names{"builtins.eval"});
    CHECK(check("x: !!python/module:subprocess ''\n").calls == Names{"subprocess"});
    CHECK(
        check("%TAG !p! tag:yaml.org,2002:python/\n---\nx: !p!object/new:os.popen [id]\n").calls ==
        Names{"os.popen"});
    CHECK(check("x: !<tag:yaml.org,2002:python/object:os.system> {}\n").calls ==
          Names{"os.system"});
    CHECK(check("x: !!python/tuple [1, 2]\ny: !python/object:os.system {}\n").calls.empty());
    CHECK(mscan::hydra::has_targets("x: !!python/name:os.system ''\n"));
}

TEST_CASE("malformed YAML says whether the unread part spells a target", "[yaml]") {
    CHECK(check("a: 1\nb: \"open\n").anomalies == Names{"yaml.malformed"});
    const auto hidden =
        check("m:\n  _target_: torch.nn.Linear\n  x: [1, 2]\n  y: 3\n\t_target_: os.system\n");
    CHECK(hidden.calls == Names{"torch.nn.Linear"});  // read before the problem
    CHECK(hidden.anomalies == Names{"yaml.not-checked"});
    CHECK(check("a: [\n- b: !!python/name:os.system").anomalies == Names{"yaml.not-checked"});
}

TEST_CASE("aliases cannot make the walk explode", "[yaml]") {
    // Nine levels of ten aliases each: 10^9 nodes if expanded.
    std::string text = "a0: &a0 [_target_, x]\n";
    for (int i = 1; i < 10; ++i) {
        text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
        for (int j = 0; j < 10; ++j)
            text += (j ? ", *a" : "*a") + std::to_string(i - 1);
        text += "]\n";
    }
    text += "m: {_target_: os.system}\n";
    const auto seen = check(text);
    CHECK(seen.anomalies == Names{"limit.exceeded"});
    // A recursive alias (PyYAML builds a list that holds itself) is walked once.
    CHECK(check("a: &a [*a, {_target_: os.system}]\n").calls == Names{"os.system"});
}

TEST_CASE("the findings cap is a finding of the scan-limit-exceeded rule, as configured",
          "[yaml][rules]") {
    // 1,100 distinct unknown classes: more findings than a file lists.
    std::string text;
    for (int i = 0; i < 1100; ++i)
        text += "m" + std::to_string(i) + ": {_target_: plugin" + std::to_string(i) + ".Layer}\n";
    const std::vector<std::uint8_t> bytes(text.begin(), text.end());
    auto cap_of = [&](const mscan::RuleSet& rules) -> std::optional<mscan::Finding> {
        mscan::MemorySource source(bytes);
        const auto result = mscan::scan_source(source, "config.yaml", rules);
        std::optional<mscan::Finding> cap;
        for (const auto& f : result.findings)
            if (f.rule_id == "scan-limit-exceeded") cap = f;
        CHECK(result.findings.size() <= mscan::limits::kMaxFindingsPerFile + 1);
        return cap;
    };
    auto rules = mscan::RuleSet::builtin();
    const auto cap = cap_of(rules);
    REQUIRE(cap);
    CHECK(cap->severity == mscan::Severity::Medium);
    CHECK(cap->evidence.find("100 more findings") != std::string::npos);
    rules.configure("scan-limit-exceeded", mscan::Severity::High, true);
    const auto high = cap_of(rules);
    REQUIRE(high);
    CHECK(high->severity == mscan::Severity::High);
    rules.configure("scan-limit-exceeded", std::nullopt, false);
    CHECK_FALSE(cap_of(rules));
}
