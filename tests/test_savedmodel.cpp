// The SavedModel walk on the samples: which ops are reported, under which name, where; the
// saver's own checkpoint ops against the same ops elsewhere; the per-op cap; detection over
// every file in samples/ (only SavedModel files are taken).
#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "formats/context.h"
#include "formats/registry.h"
#include "formats/savedmodel/savedmodel_format.h"
#include "formats/savedmodel/saver_graph.h"
#include "mscan/limits.h"
#include "mscan/rules.h"
#include "mscan/scan.h"

namespace fs = std::filesystem;

namespace {

const fs::path kSamples = fs::path(MSCAN_SOURCE_DIR) / "samples";

std::unique_ptr<mscan::MmapSource> open_sample(const std::string& rel) {
    std::string error;
    auto s = mscan::MmapSource::open((kSamples / rel).string(), error);
    INFO(rel << ": " << error);
    REQUIRE(s);
    return s;
}

using Parser = void (*)(mscan::Source&, const mscan::ParseContext&);

std::vector<mscan::Operation> operations(mscan::Source& source, Parser parse) {
    std::vector<mscan::Operation> ops;
    const mscan::OperationSink sink = [&ops](mscan::Operation&& op) { ops.push_back(op); };
    mscan::Location base;
    base.chain.push_back("model");
    mscan::ScanBudget budget;
    const mscan::ParseContext context(sink, base, budget);
    parse(source, context);
    return ops;
}

std::vector<mscan::Operation> operations(const std::string& rel,
                                         Parser parse = mscan::savedmodel::parse) {
    auto source = open_sample(rel);
    return operations(*source, parse);
}

const mscan::Operation* find(const std::vector<mscan::Operation>& ops, const std::string& name,
                             const std::string& stream = "") {
    for (const auto& op : ops) {
        if (op.name == name && (stream.empty() || op.location.stream == stream)) return &op;
    }
    return nullptr;
}

std::size_t count(const std::vector<mscan::Operation>& ops, const std::string& name) {
    std::size_t n = 0;
    for (const auto& op : ops)
        n += op.name == name;
    return n;
}

// --- a tiny protobuf writer for synthetic graphs ---
using Bytes = std::vector<std::uint8_t>;
void varint(Bytes& b, std::uint64_t v) {
    do {
        b.push_back(static_cast<std::uint8_t>((v & 0x7f) | (v > 0x7f ? 0x80 : 0)));
        v >>= 7;
    } while (v);
}
Bytes len_field(int number, const Bytes& payload) {
    Bytes b;
    varint(b, static_cast<std::uint64_t>(number) << 3 | 2);
    varint(b, payload.size());
    b.insert(b.end(), payload.begin(), payload.end());
    return b;
}
Bytes str_field(int number, const std::string& s) {
    return len_field(number, Bytes(s.begin(), s.end()));
}
Bytes cat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const auto& p : parts)
        out.insert(out.end(), p.begin(), p.end());
    return out;
}
Bytes node(const std::string& name, const std::string& op) {
    return len_field(1, cat({str_field(1, name), str_field(2, op)}));
}
Bytes saved_model(const Bytes& graph_nodes) {
    return cat({{0x08, 0x01}, len_field(2, len_field(2, graph_nodes))});
}

/// A source whose views stop short of its size, like a large member read through a window.
class ShortSource final : public mscan::Source {
  public:
    explicit ShortSource(Bytes b) : bytes_(std::move(b)) {}
    std::uint64_t size() const override { return bytes_.size(); }
    std::span<const std::uint8_t> view(std::uint64_t offset, std::size_t n) override {
        if (offset >= bytes_.size()) return {};
        const std::size_t end = std::min<std::size_t>(bytes_.size() / 2, offset + n);
        if (offset >= end) return {};
        return {bytes_.data() + offset, end - static_cast<std::size_t>(offset)};
    }

  private:
    Bytes bytes_;
};

}  // namespace

TEST_CASE("savedmodel: TF2 model, saver functions named by the SaverDef") {
    const auto ops = operations("savedmodel/benign/tf2_dense/saved_model.pb");
    const auto* matmul =
        find(ops, "tensorflow.raw_ops.MatMul", "meta graph 0 function __inference_call_90");
    REQUIRE(matmul);
    CHECK(matmul->kind == mscan::OpKind::Call);
    CHECK(matmul->location.index == 1);
    CHECK(matmul->location.chain == std::vector<std::string>{"model"});
    CHECK(matmul->evidence.rfind("node 'MatMul' op MatMul input 'inputs'", 0) == 0);
    CHECK(find(ops, "tensorflow.raw_ops.Relu"));
    const auto* call =
        find(ops, "tensorflow.raw_ops.StatefulPartitionedCall", "meta graph 0 graph");
    REQUIRE(call);
    CHECK(call->evidence.find("calls __inference_signature_wrapper_100") != std::string::npos);

    const auto* save = find(ops, "tensorflow.saver_ops.SaveV2",
                            "meta graph 0 function __inference__traced_save_200");
    REQUIRE(save);
    CHECK(save->location.index == 10);
    CHECK(find(ops, "tensorflow.saver_ops.MergeV2Checkpoints"));
    CHECK(find(ops, "tensorflow.saver_ops.RestoreV2",
               "meta graph 0 function __inference__traced_restore_300"));
    CHECK(count(ops, "tensorflow.raw_ops.SaveV2") == 0);
    CHECK(count(ops, "tensorflow.raw_ops.RestoreV2") == 0);
    for (const auto& op : ops)
        CHECK(op.kind != mscan::OpKind::Anomaly);
}

TEST_CASE("savedmodel: TF1 saver scope from the SaverDef") {
    const auto ops = operations("savedmodel/benign/tf1_saver/saved_model.pb");
    const auto* save = find(ops, "tensorflow.saver_ops.SaveV2", "meta graph 0 graph");
    REQUIRE(save);
    CHECK(save->evidence.rfind("node 'save/SaveV2' op SaveV2", 0) == 0);
    CHECK(find(ops, "tensorflow.saver_ops.RestoreV2"));
    CHECK(find(ops, "tensorflow.saver_ops.MergeV2Checkpoints"));
    CHECK(count(ops, "tensorflow.raw_ops.SaveV2") == 0);
    CHECK(find(ops, "tensorflow.raw_ops.ShardedFilename"));  // scope renames checkpoint ops only
}

TEST_CASE("savedmodel: hostile ops, exact names and locations") {
    auto ops = operations("savedmodel/hostile/readfile/saved_model.pb");
    const auto* read = find(ops, "tensorflow.raw_ops.ReadFile", "meta graph 0 graph");
    REQUIRE(read);
    CHECK(read->location.index == 31);
    CHECK(read->location.offset > 0);
    CHECK(read->evidence == "node 'ReadFile' op ReadFile input 'secret_path' = \"/etc/passwd\"");

    ops = operations("savedmodel/hostile/writefile_in_function/saved_model.pb");
    const auto* write =
        find(ops, "tensorflow.raw_ops.WriteFile", "meta graph 0 function __inference_call_90");
    REQUIRE(write);
    CHECK(write->evidence.find("/home/user/.bashrc") != std::string::npos);
    CHECK(count(ops, "tensorflow.raw_ops.WriteFile") == 1);

    ops = operations("savedmodel/hostile/pyfunc/saved_model.pb");
    const auto* py = find(ops, "tensorflow.raw_ops.PyFunc");
    REQUIRE(py);
    CHECK(py->evidence.find("token=\"pyfunc_0\"") != std::string::npos);

    // SaveV2 outside the save/ scope keeps its raw name; the saver's own stays saver_ops.
    ops = operations("savedmodel/hostile/savev2_outside_saver/saved_model.pb");
    CHECK(count(ops, "tensorflow.raw_ops.SaveV2") == 1);
    CHECK(count(ops, "tensorflow.saver_ops.SaveV2") == 1);

    // A function named like TF2's saver that the SaverDef does not call is not the saver.
    ops = operations("savedmodel/hostile/fake_traced_save/saved_model.pb");
    CHECK(find(ops, "tensorflow.raw_ops.SaveV2",
               "meta graph 0 function __inference__traced_save_999"));
    CHECK(find(ops, "tensorflow.saver_ops.SaveV2",
               "meta graph 0 function __inference__traced_save_200"));
}

TEST_CASE("savedmodel: the saver exemption by reachability and file name") {
    // Each hostile saver sample: exactly the checkpoint ops the loader's file does not reach
    // are raw; the saver's own stay saver_ops.
    auto ops = operations("savedmodel/hostile/saver_extra_save/saved_model.pb");
    const auto* extra = find(ops, "tensorflow.raw_ops.Save");
    REQUIRE(extra);
    CHECK(extra->evidence.find("/etc/cron.d/mscan-sample") != std::string::npos);
    CHECK(find(ops, "tensorflow.saver_ops.SaveV2"));
    CHECK(find(ops, "tensorflow.saver_ops.RestoreV2"));
    CHECK(find(ops, "tensorflow.saver_ops.MergeV2Checkpoints"));

    ops = operations("savedmodel/hostile/saver_suffix_traversal/saved_model.pb");
    CHECK(count(ops, "tensorflow.raw_ops.SaveV2") == 1);
    CHECK(count(ops, "tensorflow.saver_ops.SaveV2") == 1);

    // A harmful default of save/Const: nothing of that saver is exempt.
    ops = operations("savedmodel/hostile/saver_hostile_default/saved_model.pb");
    CHECK(count(ops, "tensorflow.raw_ops.Save") == 1);
    CHECK(count(ops, "tensorflow.raw_ops.RestoreV2") == 1);
    CHECK(count(ops, "tensorflow.saver_ops.RestoreV2") == 0);

    // TF2: the save function called from the forward pass loses its exemption, the restore
    // function (called only by the SaverDef's node) keeps it.
    ops = operations("savedmodel/hostile/traced_save_called_elsewhere/saved_model.pb");
    CHECK(find(ops, "tensorflow.raw_ops.SaveV2",
               "meta graph 0 function __inference__traced_save_200"));
    CHECK(find(ops, "tensorflow.saver_ops.RestoreV2",
               "meta graph 0 function __inference__traced_restore_300"));

    ops = operations("savedmodel/hostile/pbtxt_saver_extra_save/saved_model.pbtxt",
                     mscan::savedmodel::parse_text);
    CHECK(count(ops, "tensorflow.raw_ops.Save") == 1);
    CHECK(find(ops, "tensorflow.saver_ops.SaveV2"));
    CHECK(find(ops, "tensorflow.saver_ops.MergeV2Checkpoints"));
}

TEST_CASE("savedmodel: saver_graph rules on hand-made graphs") {
    using namespace mscan::savedmodel;
    IndexBudget budget;
    auto n = [](std::string op, std::vector<std::string> inputs,
                std::optional<std::string> value = std::nullopt) {
        IndexedNode node;
        node.op = std::move(op);
        node.inputs = std::move(inputs);
        node.string_const = std::move(value);
        node.dotdot = node.string_const && node.string_const->find("..") != std::string::npos;
        return node;
    };
    NodeIndex g;
    g.add("save/Const", n("Placeholder", {}), budget);
    g.add("suffix", n("Const", {}, "_temp/part"), budget);
    g.add("up", n("Const", {}, "/../x"), budget);
    g.add("join", n("StringJoin", {"save/Const", "suffix"}), budget);
    g.add("bad_join", n("StringJoin", {"save/Const", "up"}), budget);
    g.add("swapped", n("StringJoin", {"suffix", "save/Const"}), budget);
    g.add("shard", n("ShardedFilename", {"join", "i", "j"}), budget);
    g.add("ok", n("SaveV2", {"shard:0", "names"}), budget);
    g.add("traversal", n("SaveV2", {"bad_join", "names"}), budget);
    g.add("swap", n("SaveV2", {"swapped", "names"}), budget);
    g.add("ctrl_only", n("SaveV2", {"^save/Const"}), budget);
    g.add("cycle_a", n("Identity", {"cycle_b"}), budget);
    g.add("cycle_b", n("Identity", {"cycle_a"}), budget);
    g.add("cyclic", n("Save", {"cycle_a", "names"}), budget);
    g.add("unreached", n("RestoreV2", {"save/Const"}), budget);
    g.add("merge", n("MergeV2Checkpoints", {"pack", "save/Const:0"}), budget);
    g.add("pack", n("Pack", {"shard", "^ok"}), budget);
    g.add("root", n("NoOp", {"^ok", "^traversal", "^swap", "^ctrl_only", "^cyclic", "^merge"}),
          budget);
    const auto exempt = exempt_checkpoint_ops(g, {"root"}, Anchor{"save/Const:0", false});
    CHECK(exempt == std::set<std::string>{"merge", "ok"});
    CHECK(anchor_default_is_safe(g, "save/Const:0"));

    NodeIndex d;
    d.add("save/Const", n("PlaceholderWithDefault", {"dflt"}), budget);
    d.add("dflt", n("Const", {}, "model"), budget);
    CHECK(anchor_default_is_safe(d, "save/Const:0"));
    NodeIndex e;
    e.add("save/Const", n("PlaceholderWithDefault", {"dflt"}), budget);
    e.add("dflt", n("Const", {}, "/tmp/x"), budget);
    CHECK_FALSE(anchor_default_is_safe(e, "save/Const:0"));

    // Duplicate names are never exempt; past the budget nothing is.
    NodeIndex dup;
    dup.add("s", n("SaveV2", {"save/Const"}), budget);
    dup.add("s", n("SaveV2", {"save/Const"}), budget);
    CHECK(exempt_checkpoint_ops(dup, {"s"}, Anchor{"save/Const:0", false}).empty());
    IndexBudget full{mscan::limits::kSavedModelMaxIndexedNodes, 0};
    NodeIndex capped;
    capped.add("s", n("SaveV2", {"save/Const"}), full);
    CHECK_FALSE(capped.complete());
    CHECK(exempt_checkpoint_ops(capped, {"s"}, Anchor{"save/Const:0", false}).empty());

    // In a function the anchor is an argument name.
    NodeIndex f;
    f.add("RestoreV2", n("RestoreV2", {"file_prefix", "names"}), budget);
    f.add("Identity", n("Identity", {"RestoreV2:tensors:0"}), budget);
    CHECK(exempt_checkpoint_ops(f, {"Identity:output:0"}, Anchor{"file_prefix", true}) ==
          std::set<std::string>{"RestoreV2"});
    CHECK(exempt_checkpoint_ops(f, {"Identity:output:0"}, Anchor{"other_arg", true}).empty());
}

TEST_CASE("savedmodel: every op of the registry-derived list is denied") {
    // rules/data/tf-io-ops.json (scripts/tf-io-ops.py over TensorFlow's ops.pbtxt) against
    // the rule files: each file op is tf-file-access (high), each network op tf-network (high),
    // except DecodeProtoV2/EncodeProto, judged by their descriptor_source attribute.
    std::ifstream in(fs::path(MSCAN_SOURCE_DIR) / "rules/data/tf-io-ops.json");
    REQUIRE(in);
    const auto data = nlohmann::json::parse(in);
    const auto rules = mscan::RuleSet::builtin();
    std::size_t checked = 0;
    for (const auto& [kind, rule] : {std::pair<std::string, std::string>{"file", "tf-file-access"},
                                     {"network", "tf-network"}}) {
        REQUIRE(data.at(kind).size() > 5);
        for (const auto& op : data.at(kind)) {
            const std::string name = op.get<std::string>();
            const bool by_attr = name == "DecodeProtoV2" || name == "EncodeProto";
            const std::string global =
                (by_attr ? "tensorflow.descriptor_file_ops." : "tensorflow.raw_ops.") + name;
            const mscan::Rule* deny = rules.deny_rule(global, {});
            INFO(global);
            REQUIRE(deny);
            CHECK(deny->id == rule);
            CHECK(deny->severity == mscan::Severity::High);
            ++checked;
        }
    }
    CHECK(checked == 48);
}

TEST_CASE("savedmodel: findings through the rules") {
    const auto rules = mscan::RuleSet::builtin();
    auto check = [&rules](const std::string& rel, const std::string& rule,
                          mscan::Severity severity) {
        auto source = open_sample(rel);
        const auto result = mscan::scan_source(*source, rel, rules);
        INFO(rel);
        CHECK(result.format.rfind("savedmodel", 0) == 0);
        bool found = false;
        for (const auto& f : result.findings)
            found = found || (f.rule_id == rule && f.severity == severity);
        CHECK(found);
    };
    check("savedmodel/hostile/readfile/saved_model.pb", "tf-file-access", mscan::Severity::High);
    check("savedmodel/hostile/eager_pyfunc_in_function/saved_model.pb", "tf-python-call",
          mscan::Severity::Critical);
    check("savedmodel/hostile/debug_grpc/saved_model.pb", "tf-network", mscan::Severity::High);
    check("savedmodel/hostile/print_to_file/saved_model.pb", "tf-print", mscan::Severity::Medium);
    check("savedmodel/hostile/pbtxt_readfile/saved_model.pbtxt", "tf-python-call",
          mscan::Severity::Critical);
    for (const char* benign : {"savedmodel/benign/tf2_dense/saved_model.pb",
                               "savedmodel/benign/tf1_saver/saved_model.pb",
                               "savedmodel/benign/tf1_text/saved_model.pbtxt"}) {
        auto source = open_sample(benign);
        const auto result = mscan::scan_source(*source, benign, rules);
        INFO(benign);
        CHECK(result.status == mscan::FileStatus::Scanned);
        CHECK(result.findings.empty());
    }
}

TEST_CASE("savedmodel: text format") {
    const auto ops = operations("savedmodel/hostile/pbtxt_readfile/saved_model.pbtxt",
                                mscan::savedmodel::parse_text);
    const auto* read = find(ops, "tensorflow.raw_ops.ReadFile", "meta graph 0 graph");
    REQUIRE(read);
    CHECK(read->location.index == 1);
    CHECK(read->evidence == "node 'ReadFile' op ReadFile input 'secret_path' = \"/etc/shadow\"");
    const auto* py =
        find(ops, "tensorflow.raw_ops.PyFunc", "meta graph 0 function __inference_leak_7");
    REQUIRE(py);
    CHECK(py->evidence.find("token=\"pyfunc_1\"") != std::string::npos);

    const auto benign =
        operations("savedmodel/benign/tf1_text/saved_model.pbtxt", mscan::savedmodel::parse_text);
    CHECK(find(benign, "tensorflow.saver_ops.SaveV2"));
    CHECK(find(benign, "tensorflow.saver_ops.RestoreV2"));
    CHECK(count(benign, "tensorflow.raw_ops.SaveV2") == 0);

    mscan::MemorySource broken(Bytes{'m', 'e', 't', 'a', '_', 'g', 'r', 'a', 'p', 'h', 's', ' ',
                                     '{', ' ', 'x', ':', ' ', '"', 'a'});
    const auto bad = operations(broken, mscan::savedmodel::parse_text);
    REQUIRE(bad.size() == 1);
    CHECK(bad[0].name == "savedmodel.malformed");
}

TEST_CASE("savedmodel: malformed and cut-short files") {
    auto ops = operations("savedmodel/anomaly/bad_wire_type/saved_model.pb");
    CHECK(find(ops, "savedmodel.malformed"));
    CHECK(find(ops, "tensorflow.raw_ops.ReadFile"));  // the node after the bad field is read

    ops = operations("savedmodel/hostile/readfile_then_truncated/saved_model.pb");
    CHECK(find(ops, "tensorflow.raw_ops.ReadFile"));
    REQUIRE(count(ops, "savedmodel.malformed") == 1);
    CHECK(find(ops, "savedmodel.malformed")->evidence.find("cut short") != std::string::npos);

    // A source that cannot give the whole file at once is reported, not half-read.
    const Bytes whole = saved_model(node("r", "ReadFile"));
    ShortSource windowed(whole);
    ops = operations(windowed, mscan::savedmodel::parse);
    REQUIRE(ops.size() == 1);
    CHECK(ops[0].name == "savedmodel.malformed");
    CHECK(ops[0].evidence.find("too large to read from inside a compressed container") !=
          std::string::npos);
}

TEST_CASE("savedmodel: repeated ops are capped per graph, the first of each is kept") {
    Bytes nodes;
    for (int i = 0; i < 20; ++i)
        nodes = cat({nodes, node("m" + std::to_string(i), "MatMul")});
    nodes = cat({nodes, node("r", "ReadFile")});
    for (int i = 0; i < 20; ++i)
        nodes = cat({nodes, node("w" + std::to_string(i), "WriteFile")});
    mscan::MemorySource source(saved_model(nodes));
    const auto ops = operations(source, mscan::savedmodel::parse);
    CHECK(count(ops, "tensorflow.raw_ops.MatMul") ==
          static_cast<std::size_t>(mscan::limits::kSavedModelOpsPerName));
    CHECK(count(ops, "tensorflow.raw_ops.ReadFile") == 1);
    CHECK(count(ops, "tensorflow.raw_ops.WriteFile") ==
          static_cast<std::size_t>(mscan::limits::kSavedModelOpsPerName));
    const auto* first_write = find(ops, "tensorflow.raw_ops.WriteFile");
    REQUIRE(first_write);
    CHECK(first_write->location.index == 21);
    // Op names cannot forge extra components.
    mscan::MemorySource dotted(saved_model(node("n", "ReadFile.x/y")));
    const auto d = operations(dotted, mscan::savedmodel::parse);
    REQUIRE(d.size() == 1);
    CHECK(d[0].name == "tensorflow.raw_ops.ReadFile?x?y");
}

TEST_CASE("savedmodel: detection fires on SavedModel files only, over every sample") {
    std::size_t seen = 0, binary = 0, text = 0, keras = 0;
    for (const auto& entry : fs::recursive_directory_iterator(kSamples)) {
        if (!entry.is_regular_file()) continue;
        const auto rel = fs::relative(entry.path(), kSamples).generic_string();
        std::string error;
        auto source = mscan::MmapSource::open(entry.path().string(), error);
        if (!source) continue;
        ++seen;
        const std::string name = entry.path().filename().string();
        const bool ours = rel.rfind("savedmodel/", 0) == 0;
        const std::string ext = entry.path().extension().string();
        INFO(rel);
        const bool is_binary = mscan::savedmodel::detect(*source, ext);
        const bool is_text = mscan::savedmodel::detect_text(*source, ext);
        const bool is_keras = mscan::savedmodel::detect_keras_metadata(*source, ext);
        // Valid protobuf that content detection does not take on trust (fields out of the
        // usual order, unknown fields, a Lambda behind other nodes): read by name, as
        // TensorFlow and Keras open these files.
        const bool by_name_only = ours && (rel.find("pyfunc_reordered") != std::string::npos ||
                                           rel.find("keras_lambda_fifth") != std::string::npos);
        if (by_name_only) CHECK(mscan::format_claiming_name(rel) != nullptr);
        CHECK(is_binary == (ours && name == "saved_model.pb" && !by_name_only));
        CHECK(is_text == (ours && name == "saved_model.pbtxt"));
        CHECK(is_keras == (ours && name == "keras_metadata.pb" && !by_name_only));
        binary += is_binary;
        text += is_text;
        keras += is_keras;
    }
    CHECK(seen > 100);
    CHECK(binary >= 14);
    CHECK(text == 5);
    CHECK(keras == 2);

    // Pseudo-random bytes are not a SavedModel, whatever their extension.
    std::uint64_t x = 88172645463325252ull;
    for (int trial = 0; trial < 2000; ++trial) {
        Bytes junk(64 + static_cast<std::size_t>(trial % 512));
        for (auto& b : junk) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            b = static_cast<std::uint8_t>(x);
        }
        if (trial % 3 == 0) junk[0] = 0x12;  // the meta_graphs tag
        CHECK_FALSE(mscan::savedmodel::looks_like_savedmodel(junk, junk.size(), ".pb"));
        CHECK_FALSE(mscan::savedmodel::looks_like_keras_metadata(junk, junk.size()));
    }
}
