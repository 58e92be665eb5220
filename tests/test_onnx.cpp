// The ONNX reader: detection (ONNX against SavedModel, other protobuf and every other sample),
// each finding on the samples and on models built here, subgraph and function walking, the
// external-data checks with and without the files beside the model, and the caps.
#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "formats/context.h"
#include "formats/onnx/onnx_format.h"
#include "formats/registry.h"
#include "mscan/limits.h"
#include "mscan/neighbours.h"
#include "mscan/rules.h"
#include "mscan/scan.h"

namespace fs = std::filesystem;

namespace {

const fs::path kSamples = fs::path(MSCAN_SOURCE_DIR) / "samples";

using Bytes = std::vector<std::uint8_t>;

// --- a tiny protobuf writer ----------------------------------------------------------------

Bytes varint(std::uint64_t v) {
    Bytes out;
    while (v >= 0x80) {
        out.push_back(static_cast<std::uint8_t>(v | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<std::uint8_t>(v));
    return out;
}
Bytes cat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const auto& p : parts)
        out.insert(out.end(), p.begin(), p.end());
    return out;
}
Bytes fv(std::uint32_t field, std::uint64_t v) {
    return cat({varint(field << 3), varint(v)});
}
Bytes fb(std::uint32_t field, const Bytes& b) {
    return cat({varint((field << 3) | 2), varint(b.size()), b});
}
Bytes fs_(std::uint32_t field, const std::string& s) {
    return fb(field, Bytes(s.begin(), s.end()));
}

Bytes attr_s(const std::string& name, const std::string& s) {
    return cat({fs_(1, name), fs_(4, s), fv(20, 3)});
}
Bytes attr_g(const std::string& name, const Bytes& g) {
    return cat({fs_(1, name), fb(6, g), fv(20, 5)});
}
Bytes node(const std::string& op, const std::string& domain = "",
           std::initializer_list<Bytes> attrs = {}, const std::string& overload = "") {
    Bytes n = cat({fs_(1, "x"), fs_(2, "y"), fs_(3, "n_" + op), fs_(4, op)});
    for (const auto& a : attrs)
        n = cat({n, fb(5, a)});
    if (!domain.empty()) n = cat({n, fs_(7, domain)});
    if (!overload.empty()) n = cat({n, fs_(8, overload)});
    return n;
}
Bytes tensor(std::initializer_list<std::int64_t> dims, std::uint64_t type, const Bytes& raw,
             const std::string& name = "t") {
    Bytes t;
    for (const auto d : dims)
        t = cat({t, fv(1, static_cast<std::uint64_t>(d))});
    return cat({t, fv(2, type), fs_(8, name), fb(9, raw)});
}
Bytes external_tensor(const std::string& location, const std::string& offset = "",
                      const std::string& length = "") {
    Bytes t = cat({fv(1, 4), fv(2, 1), fs_(8, "w")});
    t = cat({t, fb(13, cat({fs_(1, "location"), fs_(2, location)}))});
    if (!offset.empty()) t = cat({t, fb(13, cat({fs_(1, "offset"), fs_(2, offset)}))});
    if (!length.empty()) t = cat({t, fb(13, cat({fs_(1, "length"), fs_(2, length)}))});
    return cat({t, fv(14, 1)});
}
Bytes graph(std::initializer_list<Bytes> nodes, std::initializer_list<Bytes> inits = {}) {
    Bytes g;
    for (const auto& n : nodes)
        g = cat({g, fb(1, n)});
    g = cat({g, fs_(2, "g")});
    for (const auto& t : inits)
        g = cat({g, fb(5, t)});
    return g;
}
Bytes opset(const std::string& domain, std::uint64_t version) {
    return cat({domain.empty() ? Bytes{} : fs_(1, domain), fv(2, version)});
}
Bytes model(const Bytes& g, std::initializer_list<Bytes> extra = {}) {
    Bytes m = cat({fv(1, 9), fs_(2, "test"), fb(7, g), fb(8, opset("", 17))});
    for (const auto& e : extra)
        m = cat({m, e});
    return m;
}

// --- running the parser ----------------------------------------------------------------------

std::vector<mscan::Operation> parse(const Bytes& bytes, const mscan::Neighbours* nb = nullptr) {
    std::vector<mscan::Operation> ops;
    const mscan::OperationSink sink = [&ops](mscan::Operation&& op) { ops.push_back(op); };
    mscan::Location base;
    base.chain.push_back("model.onnx");
    mscan::ScanBudget budget;
    mscan::ParseContext context(sink, base, budget);
    context.set_neighbours(nb);
    mscan::MemorySource source(bytes);
    mscan::onnx::parse(source, context);
    return ops;
}

std::vector<mscan::Operation> parse_sample(const std::string& rel, bool with_neighbours) {
    std::string error;
    const auto path = (kSamples / rel).string();
    auto source = mscan::MmapSource::open(path, error);
    INFO(rel << ": " << error);
    REQUIRE(source);
    const auto view = source->view(0, static_cast<std::size_t>(source->size()));
    const auto nb = mscan::local_neighbours(path);
    return parse(Bytes(view.begin(), view.end()), with_neighbours ? nb.get() : nullptr);
}

std::size_t count(const std::vector<mscan::Operation>& ops, const std::string& name) {
    std::size_t n = 0;
    for (const auto& op : ops)
        n += op.name == name ? 1 : 0;
    return n;
}
const mscan::Operation* find(const std::vector<mscan::Operation>& ops, const std::string& name) {
    for (const auto& op : ops)
        if (op.name == name) return &op;
    return nullptr;
}
std::string all_evidence(const std::vector<mscan::Operation>& ops) {
    std::string s;
    for (const auto& op : ops)
        s += op.name + ": " + op.evidence + "\n";
    return s;
}

/// Files in memory beside the model, for the neighbours checks.
class FakeNeighbours final : public mscan::Neighbours {
  public:
    explicit FakeNeighbours(mscan::Listing files) : files_(std::move(files)) {}
    std::optional<std::uint64_t> file_size(std::string_view relative) const override {
        ++lookups;
        if (!mscan::stays_inside(relative)) return std::nullopt;
        const auto it = files_.find(relative);
        if (it == files_.end()) return std::nullopt;
        return it->second;
    }
    std::string describe() const override { return "fake/"; }
    mutable int lookups = 0;

  private:
    mscan::Listing files_;
};

bool detects(const Bytes& b, std::string_view ext = "") {
    return mscan::onnx::looks_like_onnx(b, b.size(), ext);
}

}  // namespace

TEST_CASE("onnx: detection tells ONNX from SavedModel and other protobuf") {
    const Bytes mlp = model(graph({node("Relu")}));
    CHECK(detects(mlp));
    CHECK(detects(mlp, ".onnx"));
    // A SavedModel: schema version 1 then a MetaGraphDef message (field 2).
    const Bytes meta =
        cat({fb(1, fs_(1, "serve")), fb(2, fb(1, cat({fs_(1, "n"), fs_(2, "Const")})))});
    const Bytes saved = cat({fv(1, 1), fb(2, meta)});
    CHECK_FALSE(detects(saved));
    CHECK_FALSE(detects(saved, ".pb"));
    // Only an ir_version and a producer: the extension decides.
    const Bytes head_only = cat({fv(1, 8), fs_(2, "pytorch")});
    CHECK_FALSE(detects(head_only));
    CHECK(detects(head_only, ".onnx"));
    // A graph-shaped message without ir_version: only as .onnx.
    const Bytes no_ir = fb(7, graph({node("Relu")}));
    CHECK_FALSE(detects(no_ir));
    CHECK(detects(no_ir, ".onnx"));
    // Other protobuf: a GraphDef (field 1 nodes), a varint-only message, fixed-size fields.
    CHECK_FALSE(detects(fb(1, cat({fs_(1, "n"), fs_(2, "Const")}))));
    CHECK_FALSE(detects(cat({fv(1, 3), fv(2, 4), fv(3, 5)})));
    CHECK_FALSE(detects(cat({fv(1, 3), Bytes{0x15, 1, 2, 3, 4}, fb(7, graph({node("Relu")}))})));
    // ir_version out of range, graph whose node has a varint op_type.
    CHECK_FALSE(detects(cat({fv(1, 5000), fb(7, graph({node("Relu")}))})));
    CHECK_FALSE(detects(cat({fv(1, 9), fb(7, fb(1, fv(4, 7)))})));
    // Cut short inside the graph: still ONNX after the leading ir_version.
    CHECK(detects(Bytes(mlp.begin(), mlp.begin() + 20)));
    CHECK_FALSE(detects(Bytes{}));
    CHECK_FALSE(detects(Bytes{}, ".onnx"));
}

TEST_CASE("onnx: every ONNX sample is detected as onnx, no other sample is") {
    std::size_t onnx_files = 0, others = 0;
    for (const auto& entry : fs::recursive_directory_iterator(kSamples)) {
        if (!entry.is_regular_file()) continue;
        const auto rel = fs::relative(entry.path(), kSamples).generic_string();
        std::string error;
        auto source = mscan::MmapSource::open(entry.path().string(), error);
        if (!source) continue;
        const bool in_onnx = rel.rfind("onnx/", 0) == 0 && entry.path().extension() == ".onnx";
        const mscan::Format* format = mscan::detect_format(*source, entry.path().string());
        INFO(rel);
        if (in_onnx) {
            ++onnx_files;
            REQUIRE(format);
            CHECK(std::string(format->name) == "onnx");
        } else {
            ++others;
            CHECK((format == nullptr || std::string(format->name) != "onnx"));
        }
    }
    CHECK(onnx_files >= 20);
    CHECK(others > 100);
}

TEST_CASE("onnx: benign samples report nothing") {
    for (const std::string rel :
         {"onnx/benign/mlp.onnx", "onnx/benign/if_branches.onnx", "onnx/benign/loop.onnx",
          "onnx/benign/typed_data.onnx", "onnx/benign/local_function.onnx",
          "onnx/benign/external_data/model.onnx"}) {
        const auto ops = parse_sample(rel, true);
        INFO(rel << "\n" << all_evidence(ops));
        CHECK(ops.empty());
    }
    const auto contrib = parse_sample("onnx/benign/contrib_op.onnx", true);
    REQUIRE(contrib.size() == 1);
    CHECK(contrib[0].name == "onnx.contrib_domain");
    CHECK(contrib[0].evidence.find("com.microsoft") != std::string::npos);
    CHECK(contrib[0].evidence.find("FusedMatMul") != std::string::npos);
}

TEST_CASE("onnx: external data locations") {
    const auto traversal = parse_sample("onnx/hostile/external_traversal/model.onnx", true);
    REQUIRE(count(traversal, "onnx.external_data_path") == 1);
    CHECK(find(traversal, "onnx.external_data_path")->evidence.find("../../../../etc/passwd") !=
          std::string::npos);
    CHECK(count(traversal, "onnx.external_data_missing") == 0);
    for (const std::string sub : {"nested_traversal", "absolute", "windows_drive", "windows_unc"}) {
        const auto ops = parse_sample("onnx/hostile/external_" + sub + "/model.onnx", false);
        INFO(sub << "\n" << all_evidence(ops));
        CHECK(count(ops, "onnx.external_data_path") == 1);
        CHECK(count(ops, "onnx.external_data_unchecked") == 0);
    }
    const auto missing = parse_sample("onnx/hostile/external_missing/model.onnx", true);
    REQUIRE(count(missing, "onnx.external_data_missing") == 1);
    CHECK(find(missing, "onnx.external_data_missing")->evidence.find("weights.bin") !=
          std::string::npos);
    // Without the folder: not claimed missing, said to be unchecked.
    const auto unknown = parse_sample("onnx/hostile/external_missing/model.onnx", false);
    CHECK(count(unknown, "onnx.external_data_missing") == 0);
    REQUIRE(count(unknown, "onnx.external_data_unchecked") == 1);
    CHECK(find(unknown, "onnx.external_data_unchecked")->evidence.find("'weights.bin'") !=
          std::string::npos);

    CHECK(count(parse_sample("onnx/anomaly/external_bad_range/model.onnx", true),
                "onnx.external_data_invalid") == 1);
    const auto bad_number = parse_sample("onnx/anomaly/external_bad_number/model.onnx", true);
    CHECK(count(bad_number, "onnx.external_data_invalid") == 2);  // 0x10 and __class__
    CHECK(count(parse_sample("onnx/anomaly/external_short_file/model.onnx", true),
                "onnx.tensor_size") == 1);
}

TEST_CASE("onnx: external data against the files beside the model") {
    FakeNeighbours nb({{"w.bin", 64}, {"sub/w.bin", 16}});
    CHECK(parse(model(graph({node("Relu")}, {external_tensor("w.bin", "48", "16")})), &nb).empty());
    CHECK(parse(model(graph({node("Relu")}, {external_tensor("w.bin")})), &nb).empty());
    // Many tensors naming one file: one lookup, one finding.
    const Bytes many =
        model(graph({node("Relu")}, {external_tensor("gone.bin"), external_tensor("gone.bin"),
                                     external_tensor("gone.bin")}));
    const auto ops = parse(many, &nb);
    CHECK(count(ops, "onnx.external_data_missing") == 1);
    CHECK(nb.lookups == 3);  // w.bin twice, gone.bin once
    // 16 bytes but 4 floats need 16: fine; offset 8 leaves 8: too short.
    CHECK(parse(model(graph({node("Relu")}, {external_tensor("sub/w.bin")})), &nb).empty());
    CHECK(count(parse(model(graph({node("Relu")}, {external_tensor("sub/w.bin", "8")})), &nb),
                "onnx.tensor_size") == 1);
    CHECK(count(parse(model(graph({node("Relu")}, {external_tensor("w.bin", "65")})), &nb),
                "onnx.external_data_invalid") == 1);
    CHECK(count(parse(model(graph({node("Relu")}, {external_tensor("w.bin", "0", "32")})), &nb),
                "onnx.tensor_size") == 1);
    CHECK(count(parse(model(graph({node("Relu")}, {external_tensor("w.bin", "-1")})), &nb),
                "onnx.external_data_invalid") == 1);
    CHECK(count(parse(model(graph({node("Relu")},
                                  {external_tensor("w.bin", "0", "99999999999999999999")})),
                      &nb),
                "onnx.external_data_invalid") == 1);
    // external_data without data_location EXTERNAL is not read by the loaders.
    Bytes plain = cat({fv(1, 4), fv(2, 1), fs_(8, "w"), fb(9, Bytes(16, 0)),
                       fb(13, cat({fs_(1, "location"), fs_(2, "/etc/passwd")}))});
    CHECK(parse(model(graph({node("Relu")}, {plain})), &nb).empty());
}

TEST_CASE("onnx: custom domains, contrib domains and model-local functions") {
    const auto custom = parse_sample("onnx/hostile/custom_domain.onnx", true);
    REQUIRE(count(custom, "onnx.custom_domain") == 1);
    const auto* c = find(custom, "onnx.custom_domain");
    CHECK(c->evidence.find("evil.custom.ops") != std::string::npos);
    CHECK(c->evidence.find("StealthOp") != std::string::npos);
    CHECK(c->evidence.find("opset_import version 1") != std::string::npos);

    const auto loop = parse_sample("onnx/hostile/loop_custom_op.onnx", true);
    REQUIRE(count(loop, "onnx.custom_domain") == 1);
    CHECK(find(loop, "onnx.custom_domain")->location.stream.find("attribute 'body'") !=
          std::string::npos);
    const auto fn = parse_sample("onnx/hostile/function_custom_op.onnx", true);
    REQUIRE(count(fn, "onnx.custom_domain") == 1);
    CHECK(find(fn, "onnx.custom_domain")->location.stream.find("function 0") != std::string::npos);
    CHECK(find(fn, "onnx.custom_domain")->evidence.find("HiddenOp") != std::string::npos);

    // A function is matched by domain, name and overload; "ai.onnx" is the default domain.
    const Bytes function = cat({fs_(1, "F"), fb(7, node("Relu")), fs_(10, "my.fn"), fs_(13, "v2")});
    CHECK(parse(model(graph({node("F", "my.fn", {}, "v2")}), {fb(25, function)})).empty());
    CHECK(count(parse(model(graph({node("F", "my.fn")}), {fb(25, function)})),
                "onnx.custom_domain") == 1);
    CHECK(
        parse(model(graph({node("Relu", "ai.onnx"), node("LabelEncoder", "ai.onnx.ml")}))).empty());
    // Several nodes of one domain: one finding naming each op once, not declared in opset_import.
    const auto ops = parse(model(graph({node("A", "x.y"), node("B", "x.y"), node("A", "x.y")})));
    REQUIRE(count(ops, "onnx.custom_domain") == 1);
    CHECK(find(ops, "onnx.custom_domain")->evidence.find("3 nodes, ops A, B") != std::string::npos);
    CHECK(find(ops, "onnx.custom_domain")->evidence.find("not declared") != std::string::npos);
}

TEST_CASE("onnx: operators that run Python are reported with their callable") {
    const auto pythonop = parse_sample("onnx/hostile/pythonop_os_system.onnx", true);
    CHECK(count(pythonop, "onnx.python_op") == 1);
    const auto* call = find(pythonop, "os.system");
    REQUIRE(call);
    CHECK(call->kind == mscan::OpKind::Call);
    CHECK(count(pythonop, "onnx.contrib_domain") == 0);

    const auto pyop = parse_sample("onnx/hostile/pyop.onnx", true);
    CHECK(count(pyop, "onnx.python_op") == 1);
    CHECK(find(pyop, "mscan_sample_module.Compute"));
    CHECK(count(pyop, "onnx.custom_domain") == 0);

    // Older ORT releases name the function in "name"; odd characters cannot forge a name.
    const auto old = parse(model(
        graph({node("PythonOpGrad", "com.microsoft", {attr_s("name", "subprocess.Popen")})})));
    CHECK(find(old, "subprocess.Popen"));
    const auto odd = parse(model(
        graph({node("PyOp", "p.q", {attr_s("module", "os;x"), attr_s("class_name", "a b")})})));
    CHECK(find(odd, "os?x.a?b"));

    // Through the rules: os.system is process execution.
    const auto rules = mscan::RuleSet::builtin();
    std::string error;
    auto source = mscan::MmapSource::open(
        (kSamples / "onnx/hostile/pythonop_os_system.onnx").string(), error);
    REQUIRE(source);
    const auto result = mscan::scan_source(*source, "pythonop_os_system.onnx", rules);
    bool process = false, python = false;
    for (const auto& f : result.findings) {
        process = process ||
                  (f.rule_id == "process-execution" && f.severity == mscan::Severity::Critical);
        python = python || f.rule_id == "onnx-python-op";
    }
    CHECK(process);
    CHECK(python);
}

TEST_CASE("onnx: tensor sizes") {
    const auto huge = parse_sample("onnx/anomaly/huge_dims.onnx", true);
    REQUIRE(count(huge, "onnx.tensor_size") == 1);
    CHECK(find(huge, "onnx.tensor_size")->evidence.find("needs 4000000000000 bytes") !=
          std::string::npos);
    CHECK(count(parse_sample("onnx/anomaly/negative_dim.onnx", true), "onnx.tensor_size") == 1);
    // Exact sizes pass, including sub-byte packing: 5 INT4 values take 3 bytes.
    CHECK(parse(model(graph({node("Relu")}, {tensor({5}, 22, Bytes(3, 0))}))).empty());
    CHECK(count(parse(model(graph({node("Relu")}, {tensor({5}, 22, Bytes(5, 0))}))),
                "onnx.tensor_size") == 1);
    CHECK(parse(model(graph({node("Relu")}, {tensor({2, 3}, 11, Bytes(48, 0))}))).empty());
    CHECK(parse(model(graph({node("Relu")}, {tensor({0, 1000}, 1, Bytes{})}))).empty());
    // Overflow: 2^40 x 2^40 elements.
    const auto overflow =
        parse(model(graph({node("Relu")}, {tensor({1LL << 40, 1LL << 40}, 1, Bytes(4, 0))})));
    REQUIRE(count(overflow, "onnx.tensor_size") == 1);
    CHECK(find(overflow, "onnx.tensor_size")->evidence.find("overflows") != std::string::npos);
    // Typed data: 4 floats packed for dims [4] pass, 3 do not; packed dims are read too.
    const Bytes four =
        cat({fb(1, cat({varint(2), varint(2)})), fv(2, 1), fs_(8, "f"), fb(4, Bytes(16, 0))});
    CHECK(parse(model(graph({node("Relu")}, {four}))).empty());
    const Bytes three = cat({fv(1, 4), fv(2, 1), fs_(8, "f"), fb(4, Bytes(12, 0))});
    CHECK(count(parse(model(graph({node("Relu")}, {three}))), "onnx.tensor_size") == 1);
    // A tensor in a Constant node's attribute is checked too.
    const Bytes constant =
        node("Constant", "", {cat({fs_(1, "value"), fb(5, tensor({8}, 1, Bytes(4, 0)))})});
    CHECK(count(parse(model(graph({constant}))), "onnx.tensor_size") == 1);
    // Raw data cut off by the end of the file.
    Bytes cut = model(graph({node("Relu")}, {tensor({1000}, 1, Bytes(4000, 0))}));
    cut.resize(cut.size() - 3000);
    const auto ops = parse(cut);
    CHECK(count(ops, "onnx.tensor_size") == 1);
    CHECK(count(ops, "onnx.malformed") == 1);
}

TEST_CASE("onnx: malformed models and caps") {
    const auto truncated = parse_sample("onnx/anomaly/truncated.onnx", true);
    CHECK(count(truncated, "onnx.malformed") == 1);
    const auto wire = parse_sample("onnx/anomaly/graph_not_message.onnx", true);
    CHECK(count(wire, "onnx.malformed") >= 1);
    CHECK(all_evidence(wire).find("ModelProto.graph") != std::string::npos);
    // No graph.
    CHECK(count(parse(cat({fv(1, 9), fb(8, opset("", 17))})), "onnx.malformed") == 1);

    // Subgraphs nested 40 deep (If in If ...): the wire reader's depth cap stops it, reported.
    Bytes g = graph({node("HiddenOp", "deep.ops")});
    for (int i = 0; i < 40; ++i)
        g = graph({node("If", "", {attr_g("then_branch", g)})});
    const auto deep = parse(model(g));
    CHECK(count(deep, "onnx.malformed") >= 1);
    CHECK(all_evidence(deep).find("nested deeper") != std::string::npos);
    // ... while 15 deep is walked to the bottom.
    Bytes shallow = graph({node("HiddenOp", "deep.ops")});
    for (int i = 0; i < 15; ++i)
        shallow = graph({node("Loop", "", {attr_g("body", shallow)})});
    const auto found = parse(model(shallow));
    CHECK(count(found, "onnx.custom_domain") == 1);
    CHECK(count(found, "onnx.malformed") == 0);

    // Anomalies of one code are capped; the last says so.
    std::vector<Bytes> bad;
    Bytes inits;
    for (int i = 0; i < 20; ++i)
        inits = cat({inits, fb(5, tensor({100}, 1, Bytes(4, 0), "t" + std::to_string(i)))});
    const Bytes m = cat({fv(1, 9), fb(7, cat({fb(1, node("Relu")), inits})), fb(8, opset("", 17))});
    const auto capped = parse(m);
    CHECK(count(capped, "onnx.tensor_size") ==
          static_cast<std::size_t>(mscan::limits::kOnnxMaxAnomaliesPerCode));
    CHECK(all_evidence(capped).find("not listed") != std::string::npos);

    // Every prefix of a sample parses without crashing and reports something or nothing.
    const Bytes whole = model(graph({node("Loop", "", {attr_g("body", graph({node("X", "a.b")}))})},
                                    {tensor({4}, 1, Bytes(16, 0))}));
    for (std::size_t n = 0; n <= whole.size(); ++n)
        (void)parse(Bytes(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(n)));
}

TEST_CASE("onnx: an archive member's external data is unchecked, a traversal still reported") {
    // Through scan_source without neighbours (standard input, a member).
    const auto rules = mscan::RuleSet::builtin();
    std::string error;
    auto source = mscan::MmapSource::open(
        (kSamples / "onnx/benign/external_data/model.onnx").string(), error);
    REQUIRE(source);
    auto result = mscan::scan_source(*source, "model.onnx", rules);
    REQUIRE(result.findings.size() == 1);
    CHECK(result.findings[0].rule_id == "onnx-external-data-unchecked");
    CHECK(result.findings[0].severity == mscan::Severity::Info);
    const auto nb =
        mscan::local_neighbours((kSamples / "onnx/benign/external_data/model.onnx").string());
    result = mscan::scan_source(*source, "model.onnx", rules, {}, nb.get());
    CHECK(result.findings.empty());
    CHECK(result.format == "onnx");
}
