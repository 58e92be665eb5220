// Rules: the shipped rule files are valid, matching is by component prefix (never substring),
// the most specific deny entry wins, deny beats allow, and bad rule files are clear errors.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "mscan/rules.h"

using mscan::Operation;
using mscan::OpKind;
using mscan::Rule;
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

TEST_CASE("module aliases: a name reached through a re-exported module is its real name") {
    RuleSet rules;
    rules.load_text(kMiniRules, "mini.json");
    rules.load_text(R"({"schema": 1, "module_aliases": {
        "random._os": "os", "a.b": "c", "c.d": "os.path", "loop.x": "loop.x.y"}})",
                    "aliases.json");
    rules.validate();
    CHECK(rules.resolve_aliases("random._os.system") == std::vector<std::string>{"os.system"});
    CHECK(rules.resolve_aliases("random.randint").empty());
    CHECK(rules.resolve_aliases("random._osx.system").empty());  // component boundary only
    // Applied repeatedly (a.b -> c, then c.d -> os.path), and bounded on a cycle.
    CHECK(rules.resolve_aliases("a.b.d.exists") ==
          std::vector<std::string>{"c.d.exists", "os.path.exists"});
    CHECK(rules.resolve_aliases("loop.x").size() <= RuleSet::kMaxAliasSteps);
    CHECK(rule_of(rules, "random._os.system") == "deny-os");
    CHECK(rule_of(rules, "a.b.d.exists") == "deny-os-path");
    // Through an alias of the pickle's own (a dotted tail of the qualname) too.
    CHECK(rule_of(rules, "x.random._os.system", {"random._os.system"}) == "deny-os");
    const auto f = eval(rules, OpKind::Call, "random._os.system");
    REQUIRE(f);
    CHECK(f->severity == Severity::Critical);
    CHECK(f->message.find("reachable as os.system") != std::string::npos);
    // allow_problem sees through aliases as well.
    CHECK(rules.allow_problem("random._os.system").has_value());
}

TEST_CASE("module aliases of the shipped rules reach the deny rules of the real names") {
    const RuleSet rules = RuleSet::builtin();
    CHECK_FALSE(rules.module_aliases().empty());
    for (const char* name : {"random._os.system", "tempfile._os.system", "argparse._os.system"}) {
        INFO(name);
        const auto f = eval(rules, OpKind::Call, name);
        REQUIRE(f);
        CHECK(f->rule_id == "process-execution");
        CHECK(f->severity == Severity::Critical);
        CHECK(f->message.find("reachable as os.system") != std::string::npos);
    }
    CHECK(rule_of(rules, "enum.bltns.eval") == "code-execution");
    CHECK(rule_of(rules, "joblib.numpy_pickle.pickle.loads") == "nested-deserializer");
    // Stored, not called: a denied name keeps its severity.
    const auto stored = eval(rules, OpKind::Import, "random._os.system");
    REQUIRE(stored);
    CHECK(stored->severity == Severity::Critical);
}

TEST_CASE("bad module-alias tables are errors") {
    auto load = [](const std::string& text) {
        RuleSet rules;
        rules.load_text(text, "bad.json");
    };
    CHECK_THROWS_AS(load(R"({"schema": 1, "module_aliases": []})"), RuleError);
    CHECK_THROWS_AS(load(R"({"schema": 1, "module_aliases": {"random._os": 1}})"), RuleError);
    CHECK_THROWS_AS(load(R"({"schema": 1, "module_aliases": {"random": "os"}})"), RuleError);
    CHECK_THROWS_AS(load(R"({"schema": 1, "module_aliases": {"random._os": "os.*"}})"), RuleError);
    CHECK_THROWS_AS(load(R"({"schema": 1, "module_aliases": {"a.b": "a.b"}})"), RuleError);
}

TEST_CASE("unknown globals: called is medium, only imported and stored is low") {
    const RuleSet rules = RuleSet::builtin();
    auto called = eval(rules, OpKind::Call, "mypkg.models.Net");
    REQUIRE(called);
    CHECK(called->rule_id == "unknown-global");
    CHECK(called->severity == Severity::Medium);
    auto stored = eval(rules, OpKind::Import, "mypkg.models.Net");
    REQUIRE(stored);
    CHECK(stored->rule_id == "unknown-global-stored");
    CHECK(stored->severity == Severity::Low);
    // A denied name keeps its severity whether it is called or only imported.
    auto denied = eval(rules, OpKind::Import, "posix.system");
    REQUIRE(denied);
    CHECK(denied->rule_id == "process-execution");
    CHECK(denied->severity == Severity::Critical);
    CHECK_FALSE(eval(rules, OpKind::Import, "collections.OrderedDict"));

    // Configuration changes each rule on its own; a disabled stored rule reports nothing
    // rather than falling back to the called one.
    RuleSet configured = RuleSet::builtin();
    configured.configure("unknown-global-stored", Severity::Medium, true);
    stored = eval(configured, OpKind::Import, "mypkg.models.Net");
    REQUIRE(stored);
    CHECK(stored->severity == Severity::Medium);
    configured.configure("unknown-global-stored", std::nullopt, false);
    CHECK_FALSE(eval(configured, OpKind::Import, "mypkg.models.Net"));
    CHECK(eval(configured, OpKind::Call, "mypkg.models.Net"));

    // A rule set with only "unknown": true still classifies imports (the fallback).
    RuleSet mini;
    mini.load_text(kMiniRules, "mini.json");
    auto f = eval(mini, OpKind::Import, "mypkg.models.Net");
    REQUIRE(f);
    CHECK(f->rule_id == "unknown");
    // "unknown" takes true, false, "called" or "imported".
    CHECK_THROWS_AS(mini.load_text(R"({"schema": 1, "rules": [{"id": "x", "severity": "low",
        "title": "t", "description": "d", "why": "w", "match": {"unknown": "stored"}}]})",
                                   "bad.json"),
                    RuleError);
}

TEST_CASE("issue 15 rules: storage from_file, joblib's legacy wrappers, allowlist coverage") {
    const RuleSet rules = RuleSet::builtin();
    const auto torch_from_file = rules.deny_rule("torch.from_file", {});
    REQUIRE(torch_from_file);
    for (const char* name :
         {"torch.ByteStorage.from_file", "torch.UntypedStorage.from_file",
          "torch.FloatStorage.from_file", "torch.storage.TypedStorage.from_file",
          "torch.storage.UntypedStorage.from_file", "torch.cuda.FloatStorage.from_file"}) {
        INFO(name);
        const Rule* rule = rules.deny_rule(name, {});
        REQUIRE(rule);
        CHECK(rule->severity == torch_from_file->severity);
    }
    // The storage classes themselves stay allowed (legacy torch.save names them).
    CHECK(rule_of(rules, "torch.FloatStorage") == "<allowed>");
    CHECK(rule_of(rules, "joblib.numpy_pickle_compat.NDArrayWrapper") ==
          "joblib-compat-array-file");
    CHECK(rules.find("joblib-compat-array-file")->severity == Severity::High);
    CHECK(rule_of(rules, "joblib.numpy_pickle.NumpyArrayWrapper") == "<allowed>");
    auto scipy = eval(rules, OpKind::Anomaly, "pickle.scipy-template");
    REQUIRE(scipy);
    CHECK(scipy->rule_id == "scipy-distribution-template");
    CHECK(scipy->severity == Severity::High);
    for (const char* name :
         {"torch.ao.nn.quantized.modules.linear.LinearPackedParams",
          "torch.ao.nn.quantized.modules.functional_modules.FloatFunctional",
          "torch.ao.quantization.stubs.QuantStub",
          "torch.nn.intrinsic.quantized.modules.conv_relu.ConvReLU2d",
          "torch.distributions.normal.Normal",
          "torch.nn.utils.prune.L1Unstructured",
          "torch._utils.torch.channels_last",
          "numpy.core._multiarray_umath.log1p",
          "numpy.number",
          "sklearn.model_selection._split.StratifiedKFold",
          "sklearn.impute._iterative.IterativeImputer",
          "sklearn.impute._iterative._ImputerTriplet",
          "sklearn.model_selection._search_successive_halving.HalvingGridSearchCV",
          "statsmodels.regression.linear_model.OLS",
          "networkx.classes.graph.Graph",
          "sympy.core.symbol.Symbol",
          "nltk.probability.FreqDist",
          "gensim.models.word2vec.Word2Vec",
          "skorch.classifier.NeuralNetClassifier",
          "xgboost.sklearn.XGBClassifier",
          "scipy.sparse._csr.csr_matrix",
          "collections.abc.Mapping",
          "zoneinfo.ZoneInfo",
          "scipy.stats._continuous_distns.norm_gen",
          "ipaddress.IPv4Address",
          "http.HTTPStatus.OK",
          "__future__._Feature",
          "builtins.len",
          "builtins.pow",
          "re.RegexFlag.IGNORECASE"}) {
        INFO(name);
        CHECK(rule_of(rules, name) == "<allowed>");
    }
    // Python 3.11 pickles combined enum flags as operator.or_; the rest of operator stays denied.
    CHECK(rule_of(rules, "_operator.or_") == "<allowed>");
    CHECK(rule_of(rules, "_operator.getitem") == "indirection-gadget");
    // sympy classes whose constructor sympify()s (eval) text are allowed by name: the pickle
    // machine judges their arguments (pickle.sympify-text, test_pickle_machine.cpp)...
    CHECK(rule_of(rules, "sympy.core.containers.Tuple") == "<allowed>");
    CHECK(rule_of(rules, "sympy.functions.elementary.exponential.exp") == "<allowed>");
    CHECK(rules.anomaly_rule("pickle.sympify-text") != nullptr);
    CHECK(rules.anomaly_rule("pickle.sympify-text")->severity == mscan::Severity::Critical);
    // ... while sympify itself and the parsers stay denied.
    CHECK(rule_of(rules, "sympy.core.sympify.sympify") != "<allowed>");
    CHECK(rule_of(rules, "sympy.parsing.sympy_parser.parse_expr") != "<allowed>");
}

TEST_CASE("stored_severity: a gadget only imported and stored drops, a called one does not") {
    RuleSet rules;
    rules.load_text(R"({"schema": 1, "rules": [
  {"id": "gadget", "severity": "high", "stored_severity": "low", "title": "t", "description": "d",
   "why": "w", "match": {"globals": ["functools.reduce"]}},
  {"id": "exec", "severity": "critical", "title": "t", "description": "d", "why": "w",
   "match": {"globals": ["os.system"]}},
  {"id": "unknown", "severity": "medium", "title": "t", "description": "d", "why": "w",
   "match": {"unknown": true}},
  {"id": "anything", "severity": "medium", "title": "t", "description": "d", "why": "w",
   "match": {"anomalies": ["*"]}}
]})",
                    "mini.json");
    rules.validate();
    CHECK(eval(rules, OpKind::Call, "functools.reduce")->severity == Severity::High);
    CHECK(eval(rules, OpKind::Import, "functools.reduce")->severity == Severity::Low);
    // Without stored_severity an imported name keeps the rule's severity.
    CHECK(eval(rules, OpKind::Import, "os.system")->severity == Severity::Critical);
    // stored_severity above severity is refused.
    RuleSet bad;
    CHECK_THROWS_AS(bad.load_text(R"({"schema": 1, "rules": [
  {"id": "g", "severity": "low", "stored_severity": "high", "title": "t", "description": "d",
   "why": "w", "match": {"globals": ["functools.reduce"]}}]})",
                                  "bad.json"),
                    mscan::RuleError);
}
