// The Keras config walker, on configs written by hand: what each shape of config makes the
// loader do, and the walker's bounds. The sample files (samples/keras/) are covered by the
// golden test; these cases pin down the operations themselves.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "formats/context.h"
#include "formats/keras/keras_config.h"
#include "mscan/rules.h"
#include "mscan/scan.h"

namespace {

struct Walked {
    std::vector<mscan::Operation> ops;

    bool has(mscan::OpKind kind, const std::string& name, const std::string& evidence_part = "",
             const std::string& stream_part = "") const {
        for (const auto& op : ops) {
            if (op.kind == kind && op.name == name &&
                op.evidence.find(evidence_part) != std::string::npos &&
                op.location.stream.find(stream_part) != std::string::npos)
                return true;
        }
        return false;
    }
    std::size_t count(mscan::OpKind kind) const {
        std::size_t n = 0;
        for (const auto& op : ops)
            n += op.kind == kind;
        return n;
    }
};

Walked walk(const std::string& json) {
    Walked out;
    mscan::OperationSink sink = [&out](mscan::Operation&& op) { out.ops.push_back(std::move(op)); };
    mscan::ScanBudget budget;
    mscan::Location base;
    base.chain = {"model.h5"};
    mscan::ParseContext context(sink, base, budget);
    mscan::keras::walk_config_json(json, "test config", context);
    return out;
}

// base64(marshal.dumps(code of `lambda x: __import__('os').system('id')`)), Python 3.11, as
// keras.utils.func_dump writes it (samples/keras/make_keras_samples.py makes the same shape).
// Generated with: python3 -c "import marshal,base64,types;
//   c=[k for k in compile(\"lambda x: __import__('os').system('id')\",'<s>','eval').co_consts
//   if isinstance(k,types.CodeType)][0]; print(base64.b64encode(marshal.dumps(c)).decode())"
const std::string kOsSystemLambda =
    "4wEAAAAAAAAAAAAAAAMAAAADAAAA80YAAACXAHQBAAAAAAAAAAAAAGQBpgEAAKsBAAAAAAAAAACgAQAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAZAKmAQAAqwEAAAAAAAAAAFMAKQNO2gJvc9oCaWQpAtoKX19pbXBvcnRfX9oGc3lzdGVtKQHa"
    "AXhzAQAAACD6AzxzPvoIPGxhbWJkYT5yCAAAAAEAAABzHAAAAIAAjSqQVNEKGtQKGtcKIdIKIaAk0Qon1AongADz"
    "AAAAAA==";

}  // namespace

TEST_CASE("keras: tf.keras Lambda layer decoded, its calls reported") {
    const auto w = walk(R"({"class_name": "Sequential", "config": {"layers": [
        {"class_name": "Lambda", "config": {"name": "evil", "function": [")" +
                        kOsSystemLambda + R"(", null, null], "function_type": "lambda"}}]}})");
    CHECK(w.has(mscan::OpKind::Anomaly, "keras.lambda", "Lambda layer 'evil'", "config.layers[0]"));
    CHECK(w.has(mscan::OpKind::Anomaly, "keras.lambda", "__import__"));
    CHECK(w.has(mscan::OpKind::Anomaly, "keras.lambda", "'os'"));
    CHECK(w.has(mscan::OpKind::Call, "builtins.__import__"));
    CHECK(w.has(mscan::OpKind::Call, "os.system", "__import__('os').system"));
}

TEST_CASE("keras: Keras 3 __lambda__ nested in wrappers and models is found") {
    const auto w = walk(R"({"module": "keras", "class_name": "Functional", "config": {"layers": [
        {"module": "keras", "class_name": "Sequential", "config": {"layers": [
          {"module": "keras.layers", "class_name": "TimeDistributed", "config": {"layer":
            {"module": "keras.layers", "class_name": "Lambda", "config": {"name": "deep",
              "function": {"class_name": "__lambda__", "config": {"code": ")" +
                        kOsSystemLambda + R"(", "defaults": null, "closure": null}}}}}}]}}]}})");
    CHECK(w.has(mscan::OpKind::Anomaly, "keras.lambda", "Lambda layer 'deep'",
                "config.layers[0].config.layers[0].config.layer.config.function"));
    CHECK(w.has(mscan::OpKind::Call, "os.system"));
    // Keras's own classes named with their modules are not reported.
    CHECK(w.count(mscan::OpKind::Call) == 2);
    CHECK(w.count(mscan::OpKind::Anomaly) == 1);
}

TEST_CASE("keras: serialize_keras_object's lambda form {value: [code, ...]}") {
    const auto w = walk(R"({"class_name": "Sequential", "config": {"loss":
        {"class_name": "__lambda__", "config": {"value": [")" +
                        kOsSystemLambda + R"(", null, null]}}}})");
    CHECK(
        w.has(mscan::OpKind::Anomaly, "keras.lambda", "marshaled Python bytecode", "config.loss"));
}

TEST_CASE("keras: function references are calls of their qualified names") {
    const auto w = walk(R"({"module": "keras", "class_name": "Sequential", "config": {"layers": [
        {"module": "keras.layers", "class_name": "Dense", "config": {"kernel_initializer":
          {"module": "builtins", "class_name": "function", "config": "exec",
           "registered_name": "function"},
         "bias_initializer": {"module": "keras.utils", "class_name": "function",
           "config": "get_file"}}}]}})");
    CHECK(w.has(mscan::OpKind::Call, "builtins.exec", "",
                "config.layers[0].config.kernel_initializer"));
    CHECK(w.has(mscan::OpKind::Call, "keras.utils.get_file"));
    CHECK(w.count(mscan::OpKind::Anomaly) == 0);
}

TEST_CASE("keras: classes from modules outside Keras are calls, Keras classes are not") {
    const auto w = walk(R"({"module": "keras", "class_name": "Sequential", "config": {"layers": [
        {"module": "keras.layers", "class_name": "Dense", "config": {}},
        {"module": "tensorflow.keras.layers", "class_name": "Dense", "config": {}},
        {"module": "evil_pkg.layers", "class_name": "Backdoor", "config": {},
         "registered_name": "evil>Backdoor"}]}})");
    CHECK(w.has(mscan::OpKind::Call, "evil_pkg.layers.Backdoor", "registered as evil>Backdoor"));
    CHECK(w.count(mscan::OpKind::Call) == 1);
}

TEST_CASE("keras: tf.keras class names Keras does not define are custom objects, once each") {
    const auto w = walk(R"({"class_name": "Sequential", "config": {"layers": [
        {"class_name": "Dense", "config": {"kernel_initializer": {"class_name": "GlorotUniform",
         "config": {}}}},
        {"class_name": "MyAttention", "config": {"name": "a1"}},
        {"class_name": "MyAttention", "config": {"name": "a2"}},
        {"class_name": "TFOpLambda", "config": {"name": "tf.math.add", "function": "math.add"}}]}})");
    CHECK(w.has(mscan::OpKind::Anomaly, "keras.custom-object", "'MyAttention' (layer 'a1')"));
    CHECK_FALSE(w.has(mscan::OpKind::Anomaly, "keras.custom-object", "a2"));
    CHECK_FALSE(w.has(mscan::OpKind::Anomaly, "keras.custom-object", "Dense"));
    CHECK(w.has(mscan::OpKind::Anomaly, "keras.tf-op-layer", "'math.add'"));
}

TEST_CASE("keras: a Lambda whose code cannot be decoded is still reported") {
    auto w = walk(R"({"class_name": "Lambda", "config": {"name": "l",
        "function": ["%%%", null, null], "function_type": "lambda"}})");
    CHECK(w.has(mscan::OpKind::Anomaly, "keras.lambda", "not valid base64"));
    w = walk(R"({"class_name": "Lambda", "config": {"name": "l",
        "function": ["AAAA", null, null], "function_type": "lambda"}})");
    CHECK(w.has(mscan::OpKind::Anomaly, "keras.lambda", "could not read it all"));
    w = walk(R"({"class_name": "Lambda", "config": {"name": "l"}})");
    CHECK(w.has(mscan::OpKind::Anomaly, "keras.lambda", "could not be found"));
    w = walk(R"({"class_name": "Lambda", "config": {"name": "l",
        "function": "my_fn", "function_type": "function", "module": "helpers"}})");
    CHECK(w.has(mscan::OpKind::Call, "helpers.my_fn"));
}

TEST_CASE("keras: configs that cannot be read are malformed, never parsed unbounded") {
    CHECK(walk("{\"class_name\": ")
              .has(mscan::OpKind::Anomaly, "keras.malformed-config", "not valid JSON"));
    CHECK(walk("[1, 2]").has(mscan::OpKind::Anomaly, "keras.malformed-config", "not an object"));
    const std::string deep = "{\"a\": " + std::string(100000, '[') + std::string(100000, ']') + "}";
    CHECK(walk(deep).has(mscan::OpKind::Anomaly, "keras.malformed-config", "nested deeper"));
    // Brackets inside strings do not count as nesting.
    const std::string quoted =
        "{\"class_name\": \"Dense\", \"config\": {\"n\": \"" + std::string(10000, '[') + "\"}}";
    CHECK(walk(quoted).ops.empty());
}

TEST_CASE("keras: the number of operations from one config is capped") {
    std::string json = R"({"module": "keras", "class_name": "Sequential", "config": {"layers": [)";
    for (int i = 0; i < 3000; ++i) {
        if (i) json += ",";
        json += R"({"module": "pkg)" + std::to_string(i) + R"(", "class_name": "L", "config": {}})";
    }
    json += "]}}";
    const auto w = walk(json);
    CHECK(w.count(mscan::OpKind::Call) == 1000);
    CHECK(w.has(mscan::OpKind::Anomaly, "limit.exceeded", "more than 1000"));
}

TEST_CASE("keras: through the scanner, a JSON config is detected and judged by the rules") {
    const std::string text = R"({"module": "keras", "class_name": "Sequential", "config": {
        "layers": [{"module": "keras.layers", "class_name": "Dense", "config": {
        "kernel_initializer": {"module": "builtins", "class_name": "function",
        "config": "exec"}}}]}})";
    mscan::MemorySource source(std::vector<std::uint8_t>(text.begin(), text.end()));
    const auto rules = mscan::RuleSet::builtin();
    const auto result = mscan::scan_source(source, "config.json", rules);
    CHECK(result.status == mscan::FileStatus::Scanned);
    bool found = false;
    for (const auto& f : result.findings)
        found |= f.rule_id == "code-execution" && f.subject == "builtins.exec";
    CHECK(found);

    const std::string hf = R"({"architectures": ["BertModel"], "model_type": "bert"})";
    mscan::MemorySource other(std::vector<std::uint8_t>(hf.begin(), hf.end()));
    // transformers opens config.json by name: it is read (and found harmless), not skipped.
    const auto plain = mscan::scan_source(other, "config.json", rules);
    CHECK(plain.status == mscan::FileStatus::Scanned);
    CHECK(plain.findings.empty());
    mscan::MemorySource same(std::vector<std::uint8_t>(hf.begin(), hf.end()));
    CHECK(mscan::scan_source(same, "notes.json", rules).status != mscan::FileStatus::Scanned);
}

TEST_CASE("keras: file text in evidence and names is escaped") {
    const auto w = walk(R"({"class_name": "Evil\u001b[31m", "config": {"layers": [
        {"module": "pkg\u001b]0;x\u0007", "class_name": "L", "config": {}}]}})");
    CHECK(w.has(mscan::OpKind::Anomaly, "keras.custom-object", "Evil\\x1b[31m"));
    CHECK(w.has(mscan::OpKind::Call, "pkg\\x1b]0;x\\x07.L"));
    for (const auto& op : w.ops) {
        CHECK(op.evidence.find('\x1b') == std::string::npos);
        CHECK(op.name.find('\x1b') == std::string::npos);
    }
}

TEST_CASE("keras: a config whose keys come after padding is still detected") {
    const auto rules = mscan::RuleSet::builtin();
    const std::string body = R"("class_name": "Sequential", "config": {"layers": [
        {"module": "builtins", "class_name": "function", "config": "exec"}]}})";
    // Put "class_name" across the detector's 1 MiB window boundary, then far past it.
    for (const std::size_t pad : {std::size_t{(1u << 20) - 6}, std::size_t{3u << 20}}) {
        const std::string text = "{" + std::string(pad, ' ') + body;
        mscan::MemorySource source(std::vector<std::uint8_t>(text.begin(), text.end()));
        const auto result = mscan::scan_source(source, "model.json", rules);
        REQUIRE(result.status == mscan::FileStatus::Scanned);
        bool found = false;
        for (const auto& f : result.findings)
            found |= f.subject == "builtins.exec";
        CHECK(found);
    }
}
