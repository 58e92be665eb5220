// Rules: the shipped rule files are valid, matching is by component prefix (never substring),
// the most specific deny entry wins, deny beats allow, and bad rule files are clear errors.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "mscan/rules.h"

using mscan::Operation;
using mscan::OpKind;
using mscan::RuleError;
using mscan::RuleSet;
using mscan::Severity;

namespace {

std::optional<mscan::Finding> eval(const RuleSet& rules, OpKind kind, const std::string& name,
                                   std::vector<std::string> aliases = {}) {
    Operation op;
    op.kind = kind;
    op.name = name;
    op.aliases = std::move(aliases);
    return mscan::RuleEngine(rules).evaluate(op);
}

std::string rule_of(const RuleSet& rules, const std::string& name,
                    std::vector<std::string> aliases = {}) {
    auto f = eval(rules, OpKind::Call, name, std::move(aliases));
    return f ? f->rule_id : "<allowed>";
}

const char* kMiniRules = R"({"schema": 1, "rules": [
  {"id": "deny-os", "severity": "critical", "title": "t", "description": "d", "why": "w",
   "match": {"globals": ["os"], "except": ["os.path.join"]}},
  {"id": "deny-os-path", "severity": "low", "title": "t", "description": "d", "why": "w",
   "match": {"globals": ["os.path"]}},
  {"id": "unknown", "severity": "medium", "title": "t", "description": "d", "why": "w",
   "match": {"unknown": true}},
  {"id": "anything", "severity": "medium", "title": "t", "description": "d", "why": "w",
   "match": {"anomalies": ["*"]}},
  {"id": "trunc", "severity": "high", "title": "t", "description": "d", "why": "w",
   "match": {"anomalies": ["pickle.truncated"]}}
], "allow": ["collections.OrderedDict", "os.getcwd"]})";

}  // namespace

TEST_CASE("the shipped rules load, validate and cover the denylist families") {
    const RuleSet rules = RuleSet::builtin();
    CHECK(rules.rules().size() >= 25);
    for (const char* id :
         {"code-execution", "reflection", "process-execution", "indirection-gadget", "network",
          "filesystem", "native-code", "nested-deserializer", "debugger-profiler",
          "package-installer", "hidden-shell", "ml-framework-gadget", "unknown-global",
          "pickle-truncated", "pickle-frame-violation", "unclassified-anomaly"}) {
        INFO(id);
        CHECK(rules.find(id) != nullptr);
    }
    for (const auto* r : rules.rules()) {
        INFO(r->id);
        CHECK_FALSE(r->title.empty());
        CHECK_FALSE(r->description.empty());
        CHECK_FALSE(r->why.empty());
    }
    CHECK(rule_of(rules, "posix.system") == "process-execution");
    CHECK(rule_of(rules, "builtins.eval") == "code-execution");
    CHECK(rule_of(rules, "asyncio.unix_events._UnixSubprocessTransport") != "unknown-global");
    CHECK(rule_of(rules, "collections.OrderedDict") == "<allowed>");
    CHECK(rule_of(rules, "torch._utils._rebuild_tensor_v2") == "<allowed>");
    CHECK(rule_of(rules, "mypkg.models.Net") == "unknown-global");
    // Dotted-name aliases are checked against the denylist too.
    CHECK(rule_of(rules, "pathlib.os.system", {"os.system"}) == "process-execution");
}

TEST_CASE("every rule has its section in docs/rules.md") {
    std::ifstream in(std::string(MSCAN_SOURCE_DIR) + "/docs/rules.md");
    REQUIRE(in.good());
    const std::string docs((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const RuleSet rules = RuleSet::builtin();
    for (const auto* r : rules.rules()) {
        INFO("rule " << r->id << " needs a '### " << r->id << "' section");
        CHECK(docs.find("\n### " + r->id + "\n") != std::string::npos);
    }
}

TEST_CASE("matching is by dotted component prefix, most specific entry first") {
    RuleSet rules;
    rules.load_text(kMiniRules, "mini.json");
    rules.validate();
    CHECK(rule_of(rules, "os.system") == "deny-os");
    CHECK(rule_of(rules, "os") == "deny-os");
    CHECK(rule_of(rules, "os.path.exists") == "deny-os-path");  // more specific entry
    CHECK(rule_of(rules, "osmosis.run") == "unknown");          // never substring
    CHECK(rule_of(rules, "myos.system") == "unknown");
    CHECK(rule_of(rules, "os.getcwd") == "deny-os");  // deny beats allow
    CHECK(rule_of(rules, "collections.OrderedDict") == "<allowed>");
    CHECK(rule_of(rules, "collections.OrderedDict.fromkeys") == "unknown");  // allowlist is exact
    // except exempts a name from one rule only; another rule may still match it.
    CHECK(rule_of(rules, "os.path.join") == "deny-os-path");
}

TEST_CASE("anomalies map to their rule, unknown codes to the fallback") {
    RuleSet rules;
    rules.load_text(kMiniRules, "mini.json");
    auto f = eval(rules, OpKind::Anomaly, "pickle.truncated");
    REQUIRE(f);
    CHECK(f->rule_id == "trunc");
    CHECK(f->severity == Severity::High);
    f = eval(rules, OpKind::Anomaly, "some.new-code");
    REQUIRE(f);
    CHECK(f->rule_id == "anything");
}

TEST_CASE("user allowlist entries: exact names and prefix.*") {
    RuleSet rules;
    rules.load_text(kMiniRules, "mini.json");
    CHECK(rule_of(rules, "mypkg.models.Net") == "unknown");
    rules.allow("mypkg.models.*");
    CHECK(rule_of(rules, "mypkg.models.Net") == "<allowed>");
    CHECK(rule_of(rules, "mypkg.modelsx.Net") == "unknown");
    rules.allow("other.Thing");
    CHECK(rule_of(rules, "other.Thing") == "<allowed>");
    CHECK(rule_of(rules, "other.Thing2") == "unknown");
}

TEST_CASE("a --rules directory overrides a rule by id") {
    namespace fs = std::filesystem;
    RuleSet rules;
    rules.load_text(kMiniRules, "<builtin>/mini.json");
    const fs::path dir = fs::temp_directory_path() / "mscan-rules-test";
    fs::create_directories(dir);
    std::ofstream(dir / "override.json") << R"({"schema": 1, "rules": [
      {"id": "deny-os", "severity": "low", "title": "t", "description": "d", "why": "w",
       "match": {"globals": ["os"]}}]})";
    rules.load_directory(dir.string());
    CHECK(rules.find("deny-os")->severity == Severity::Low);
    fs::remove_all(dir);
}

TEST_CASE("bad rule files are errors naming the problem") {
    auto load = [](const std::string& text) {
        RuleSet rules;
        rules.load_text(text, "bad.json");
    };
    CHECK_THROWS_AS(load("{"), RuleError);
    CHECK_THROWS_AS(load("[]"), RuleError);
    CHECK_THROWS_AS(load(R"({"rules": []})"), RuleError);  // schema missing
    CHECK_THROWS_AS(load(R"({"schema": 1, "rulez": []})"), RuleError);
    CHECK_THROWS_AS(load(R"({"schema": 1, "rules": [{"id": "x", "severity": "urgent", "title": "t",
        "description": "d", "why": "w", "match": {"globals": ["os"]}}]})"),
                    RuleError);
    CHECK_THROWS_AS(
        load(R"({"schema": 1, "rules": [{"id": "Bad_Id", "severity": "low", "title": "t",
        "description": "d", "why": "w", "match": {"globals": ["os"]}}]})"),
        RuleError);
    CHECK_THROWS_AS(load(R"({"schema": 1, "rules": [{"id": "x", "severity": "low", "title": "t",
        "description": "d", "why": "w", "match": {}}]})"),
                    RuleError);
    CHECK_THROWS_AS(load(R"({"schema": 1, "rules": [{"id": "x", "severity": "low", "title": "t",
        "description": "d", "why": "w", "match": {"globals": ["os"]}, "extra": 1}]})"),
                    RuleError);
    try {
        load(R"({"schema": 1, "rules": [{"id": "x", "severity": "low", "title": "t", "why": "w",
            "match": {"globals": ["os"]}}]})");
        FAIL("expected an error");
    } catch (const RuleError& e) {
        CHECK(std::string(e.what()).find("bad.json: rule x") != std::string::npos);
        CHECK(std::string(e.what()).find("description") != std::string::npos);
    }
    RuleSet empty;
    CHECK_THROWS_AS(empty.validate(), RuleError);
}
