// The SavedModel walk. What TensorFlow's loader runs is the ops of a meta graph's GraphDef
// (TF1: the signature's fetches, the restore op and the init ops) and of the functions in its
// function library (TF2: every concrete function is rebuilt from there). The walk reads:
//
//   SavedModel    { int64 saved_model_schema_version = 1; repeated MetaGraphDef meta_graphs = 2; }
//   MetaGraphDef  { GraphDef graph_def = 2; SaverDef saver_def = 3; (1, 4-7 are skipped) }
//   SaverDef      { string filename_tensor_name = 1; save_tensor_name = 2; restore_op_name = 3; }
//   GraphDef      { repeated NodeDef node = 1; FunctionDefLibrary library = 2; }
//   FunctionDefLibrary { repeated FunctionDef function = 1; }
//   FunctionDef   { OpDef signature = 1 (OpDef { name = 1; repeated ArgDef input_arg = 2; });
//                   repeated NodeDef node_def = 3; map<string, string> ret = 4, control_ret = 6; }
//   NodeDef       { string name = 1; string op = 2; repeated string input = 3;
//                   map<string, AttrValue> attr = 5; }
//   AttrValue     { ListValue list = 1 { repeated bytes s = 2; repeated NameAttrList func = 9; };
//                   bytes s = 2; TensorProto tensor = 8 { repeated bytes string_val = 8; };
//                   NameAttrList func = 10 { string name = 1; }; }
//
// (field numbers from tensorflow/core/framework/*.proto and tensorflow/core/protobuf/
// {saved_model,meta_graph,saver}.proto.) Every node becomes a Call operation named
// "tensorflow.raw_ops.<op>", except the checkpoint ops (SaveV2, RestoreV2, ...) of the model's
// own saver, named "tensorflow.saver_ops.<op>". Which those are is decided on the graph's edges
// before any node is reported (saver_graph.h says exactly how): reachable from the SaverDef's
// save tensor or restore op, with every file input traced back to the SaverDef's filename
// tensor (TF2: inside __inference__traced_save_NN / _restore_NN, called only by the SaverDef's
// nodes, back to the argument that tensor is passed in). The same op anywhere else keeps its
// raw_ops name. A graph is read once more for that index (and its library once more when the
// model has a saver).
#include "formats/savedmodel/savedmodel_format.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "formats/common_codes.h"
#include "formats/keras/keras_config.h"
#include "formats/protobuf/wire.h"
#include "formats/savedmodel/savedmodel_codes.h"
#include "formats/savedmodel/saver_graph.h"
#include "mscan/limits.h"

namespace mscan::savedmodel {
namespace {

using protobuf::Field;
using protobuf::Message;
using protobuf::WireType;

/// How much of a file detection looks at (real files show their structure in the first bytes).
constexpr std::size_t kDetectBytes = 64 * 1024;
/// Per node, what evidence keeps: inputs, string attributes and called functions.
constexpr std::size_t kKeptInputs = 4;
constexpr std::size_t kKeptAttrs = 6;
constexpr std::size_t kKeptFuncs = 16;

/// Text safe for evidence: printable ASCII kept, other bytes as \xNN, cut at `max` characters.
std::string printable(std::string_view s, std::size_t max = limits::kSavedModelMaxKeptString) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (const char ch : s) {
        if (out.size() >= max) {
            out += "...";
            break;
        }
        const auto c = static_cast<unsigned char>(ch);
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out.push_back(static_cast<char>(c));
        } else {
            out += "\\x";
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 15]);
        }
    }
    return out;
}

/// An op name as it goes into an operation name: TensorFlow's op names are letters, digits,
/// '_' and '>'; anything else (no registered op has it) becomes '?' so it cannot forge dots.
std::string op_component(std::string_view op) {
    std::string out;
    for (const char ch : op.substr(0, limits::kSavedModelMaxKeptString)) {
        const auto c = static_cast<unsigned char>(ch);
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '>' || c == '-';
        out.push_back(ok ? static_cast<char>(c) : '?');
    }
    return out;
}

/// One node, as both the binary and the text reader see it.
struct NodeRecord {
    std::string name;
    std::string op;
    std::vector<std::string> inputs;
    std::vector<std::pair<std::string, std::string>> attrs;  ///< string attributes
    std::vector<std::string> funcs;                          ///< functions its attributes name
    std::optional<std::string> string_const;                 ///< a Const node's first string
    std::int64_t offset = -1;
    std::string pending_attr;  ///< text reader: the key of the attr entry being read
    bool truncated = false;    ///< cut short by the end of the file (reported there)
    // For the saver check (saver_graph.h), filled only when `collect_all` is set:
    bool collect_all = false;
    std::vector<std::string> all_inputs;  ///< every input, capped by the index's budget
    bool multi_string = false;            ///< a Const with more than one string value
    bool dotdot = false;                  ///< a string attribute or constant holds ".."
    bool incomplete = false;              ///< inputs or functions cut at a cap

    void add_input(std::string_view input) {
        if (inputs.size() < kKeptInputs)
            inputs.emplace_back(input.substr(0, limits::kSavedModelMaxKeptString));
        if (!collect_all) return;
        if (all_inputs.size() >= limits::kSavedModelMaxIndexedInputs) {
            incomplete = true;
            return;
        }
        all_inputs.emplace_back(input);
    }
    void add_const_string(std::string_view value) {
        if (value.find("..") != std::string_view::npos) dotdot = true;
        if (string_const) {
            multi_string = true;
            return;
        }
        string_const = std::string(value.substr(0, limits::kSavedModelMaxKeptString));
    }
    /// What the saver check keeps (moves the inputs out).
    IndexedNode indexed() {
        IndexedNode n;
        n.op = op;
        n.inputs = std::move(all_inputs);
        n.funcs = funcs;
        n.string_const = string_const;
        n.multi_string = multi_string;
        n.dotdot = dotdot;
        n.incomplete = incomplete;
        return n;
    }
};

/// One graph or one function: where its nodes are reported and what it remembers.
struct Scope {
    std::string stream;
    bool graph = true;  ///< the meta graph's own graph (not a library function)
    /// In a saver function: its checkpoint ops that are the saver's (saver_graph.h).
    const std::set<std::string>* exempt = nullptr;
    std::int64_t next_index = 0;
    std::unordered_map<std::string, int> counts;
    std::unordered_map<std::string, std::string> consts;
};

/// Turns nodes into operations: naming, the per-op cap, the node budget, the evidence.
class Emitter {
  public:
    explicit Emitter(const ParseContext& context) : context_(context) {}

    /// Counts one node against limits::kSavedModelMaxNodes; false (reported once) past it.
    bool take_node() {
        if (nodes_ >= limits::kSavedModelMaxNodes) {
            if (!nodes_reported_) {
                nodes_reported_ = true;
                context_.anomaly(kLimitExceeded,
                                 "more than " + std::to_string(limits::kSavedModelMaxNodes) +
                                     " graph nodes in one SavedModel; the rest were not checked");
            }
            return false;
        }
        ++nodes_;
        return true;
    }
    bool stopped() const { return nodes_reported_; }

    void malformed(const std::string& evidence, std::int64_t offset) {
        if (anomalies_ >= limits::kSavedModelMaxAnomalies) return;
        if (++anomalies_ == limits::kSavedModelMaxAnomalies) {
            context_.anomaly(kMalformed,
                             evidence + " (further problems in this file are not listed)", offset);
            return;
        }
        context_.anomaly(kMalformed, evidence, offset);
    }

    void node(Scope& scope, const SaverInfo& saver, const NodeRecord& node) {
        const std::int64_t index = scope.next_index++;
        if (node.string_const && scope.consts.size() < limits::kSavedModelMaxConstants)
            scope.consts.emplace(node.name, *node.string_const);
        if (node.op.empty()) {
            if (node.truncated) return;
            malformed("node '" + printable(node.name) + "' in " + scope.stream +
                          " has no op (TensorFlow refuses the graph)",
                      node.offset);
            return;
        }
        auto it = scope.counts.find(node.op);
        if (it == scope.counts.end() && scope.counts.size() < limits::kSavedModelCountedOps)
            it = scope.counts.emplace(node.op, 0).first;
        if (it != scope.counts.end()) {
            if (it->second >= limits::kSavedModelOpsPerName) return;
            ++it->second;
        }
        const bool saver_op = is_checkpoint_op(node.op) &&
                              (scope.graph ? saver.graph_exempts(node.name)
                                           : scope.exempt && scope.exempt->count(node.name));
        Operation op;
        op.kind = OpKind::Call;
        op.name = std::string(saver_op                      ? "tensorflow.saver_ops."
                              : reads_descriptor_file(node) ? "tensorflow.descriptor_file_ops."
                                                            : "tensorflow.raw_ops.") +
                  op_component(node.op);
        op.evidence = evidence(scope, node);
        op.location = context_.base();
        op.location.stream = scope.stream;
        op.location.index = index;
        op.location.offset = node.offset;
        context_.emit(std::move(op));
    }

  private:
    /// DecodeProtoV2 and EncodeProto read their message descriptors from the file named by
    /// descriptor_source unless it is "local://" (the default: the binary's own protos) or
    /// "bytes://..." (a descriptor held in the attribute).
    static bool reads_descriptor_file(const NodeRecord& node) {
        if (node.op != "DecodeProtoV2" && node.op != "EncodeProto") return false;
        for (const auto& [key, value] : node.attrs) {
            if (key != "descriptor_source") continue;
            const std::string_view v = value;
            return !v.empty() && v.rfind("local://", 0) != 0 && v.rfind("bytes://", 0) != 0;
        }
        return false;
    }

    static std::string evidence(const Scope& scope, const NodeRecord& node) {
        std::string e = "node '" + printable(node.name) + "' op " + printable(node.op);
        for (const auto& input : node.inputs) {
            e += " input '" + printable(input) + "'";
            const auto c = scope.consts.find(std::string(node_of(input)));
            if (c != scope.consts.end()) e += " = \"" + printable(c->second) + "\"";
        }
        for (const auto& [key, value] : node.attrs)
            e += " " + printable(key) + "=\"" + printable(value) + "\"";
        for (const auto& f : node.funcs)
            e += " calls " + printable(f);
        return e;
    }

    const ParseContext& context_;
    std::uint64_t nodes_ = 0;
    bool nodes_reported_ = false;
    int anomalies_ = 0;
};

void add_attr(NodeRecord& node, std::string_view key, std::string_view value) {
    if (key.empty() || key.front() == '_') return;  // internal attrs (_class, _output_shapes)
    if (value.find("..") != std::string_view::npos) node.dotdot = true;
    for (auto& [k, v] : node.attrs) {
        if (k == key) {  // a list(string): values joined
            if (v.size() < limits::kSavedModelMaxKeptString) v += "," + std::string(value);
            return;
        }
    }
    if (node.attrs.size() < kKeptAttrs)
        node.attrs.emplace_back(std::string(key.substr(0, limits::kSavedModelMaxKeptString)),
                                std::string(value.substr(0, limits::kSavedModelMaxKeptString)));
}

void add_func(NodeRecord& node, std::string_view name) {
    if (name.empty()) return;
    if (node.funcs.size() >= kKeptFuncs) {
        node.incomplete = true;  // the saver check cannot see every function it calls
        return;
    }
    node.funcs.emplace_back(name.substr(0, limits::kSavedModelMaxKeptString));
}

// ---------------------------------------------------------------------------------------------
// The binary reader

class BinaryWalker {
  public:
    explicit BinaryWalker(Emitter& out) : out_(out) {}

    void run(std::span<const std::uint8_t> bytes) {
        file_end_ = bytes.size();
        Message top(bytes);
        top.keep_truncated(true);  // a file cut short: what is there still counts
        Field f;
        int meta_graphs = 0;
        while (!out_.stopped() && top.next(f)) {
            if (f.number == 1) {
                expect(f, WireType::Varint, "SavedModel.saved_model_schema_version");
            } else if (f.number == 2) {
                if (expect(f, WireType::Len, "SavedModel.meta_graphs"))
                    meta_graph(top.sub(f), meta_graphs);
                ++meta_graphs;
            }
        }
        check(top, "the SavedModel message");
        if (meta_graphs == 0 && top.at_end())
            out_.malformed("the SavedModel holds no meta graph: there is nothing to load", -1);
    }

  private:
    /// Reports a known field with the wrong wire type (protobuf refuses such a message).
    bool expect(const Field& f, WireType type, std::string_view what) {
        if (f.type == type) return true;
        out_.malformed(std::string(what) + " (field " + std::to_string(f.number) +
                           ") has wire type " + std::string(protobuf::wire_type_name(f.type)) +
                           ", not " + std::string(protobuf::wire_type_name(type)) +
                           ": protobuf refuses the file",
                       static_cast<std::int64_t>(f.offset));
        return false;
    }
    void check(const Message& m, std::string_view what) {
        auto problem = protobuf::error_anomaly(m, kMalformed, what, file_end_);
        if (!problem) return;
        if (protobuf::cut_short(m, file_end_)) {
            // Every enclosing message sees it too: report the innermost once.
            if (truncation_reported_) return;
            truncation_reported_ = true;
        }
        out_.malformed(problem->evidence, problem->offset);
    }

    void meta_graph(Message m, int index) {
        // The SaverDef (field 3) is written after the GraphDef (field 2): find it first.
        SaverInfo saver;
        {
            Message scan = m;
            Field f;
            while (scan.next(f)) {
                if (f.number == 3 && f.type == WireType::Len) read_saver(scan.sub(f), saver);
            }
        }
        Field f;
        while (!out_.stopped() && m.next(f)) {
            if (f.number >= 1 && f.number <= 7) {
                static constexpr std::array<std::string_view, 8> kNames = {
                    "",
                    "MetaGraphDef.meta_info_def",
                    "MetaGraphDef.graph_def",
                    "MetaGraphDef.saver_def",
                    "MetaGraphDef.collection_def",
                    "MetaGraphDef.signature_def",
                    "MetaGraphDef.asset_file_def",
                    "MetaGraphDef.object_graph_def"};
                if (!expect(f, WireType::Len, kNames[f.number])) continue;
            }
            if (f.number == 2) graph(m.sub(f), index, saver);
        }
        check(m, "meta graph " + std::to_string(index));
    }

    void read_saver(Message m, SaverInfo& saver) {
        Field f;
        while (m.next(f)) {
            if (f.number >= 1 && f.number <= 3 && f.type == WireType::Len)
                saver.set_tensor(static_cast<int>(f.number), f.text());
        }
    }

    void graph(Message m, int index, SaverInfo& saver) {
        if (saver.present()) learn_saver(m, saver);
        Scope scope;
        scope.stream = "meta graph " + std::to_string(index) + " graph";
        Field f;
        while (!out_.stopped() && m.next(f)) {
            if (f.number == 1) {
                if (!expect(f, WireType::Len, "GraphDef.node") || !out_.take_node()) continue;
                NodeRecord node;
                node.truncated = f.truncated;
                read_node(m.sub(f), node, /*report=*/true);
                out_.node(scope, saver, node);
            } else if (f.number == 2) {
                if (expect(f, WireType::Len, "GraphDef.library")) library(m.sub(f), index, saver);
            }
        }
        check(m, "the graph of meta graph " + std::to_string(index));
    }

    /// The saver check's passes (saver_graph.h), before any node is reported: the graph's nodes
    /// by name, then the library's references to the saver's functions and their bodies.
    void learn_saver(Message m, SaverInfo& saver) {
        std::vector<Message> libraries;
        Field f;
        while (m.next(f)) {
            if (f.type != WireType::Len) continue;
            if (f.number == 2) libraries.push_back(m.sub(f));
            if (f.number != 1) continue;
            NodeRecord node;
            node.collect_all = true;
            read_node(m.sub(f), node, /*report=*/false);
            std::string name = node.name;
            saver.add_graph_node(std::move(name), node.indexed(), budget_);
        }
        saver.finish_graph();
        for (Message library : libraries) {
            Field g;
            while (library.next(g)) {
                if (g.number == 1 && g.type == WireType::Len) learn_function(library.sub(g), saver);
            }
        }
    }

    void learn_function(Message m, SaverInfo& saver) {
        std::string name;
        std::vector<std::string> args, rets;
        {
            Message scan = m;
            Field f;
            while (scan.next(f)) {
                if (f.type != WireType::Len) continue;
                if (f.number == 1) {  // OpDef: name = 1, input_arg = 2 (ArgDef: name = 1)
                    Message sig = scan.sub(f);
                    Field g;
                    while (sig.next(g)) {
                        if (g.type != WireType::Len) continue;
                        if (g.number == 1) name = std::string(g.text());
                        if (g.number == 2) args.emplace_back(name_attr_list_name(sig.sub(g)));
                    }
                } else if (f.number == 4 || f.number == 6) {  // ret, control_ret: map values
                    Message entry = scan.sub(f);
                    Field g;
                    while (entry.next(g)) {
                        if (g.number == 2 && g.type == WireType::Len && rets.size() < 4096)
                            rets.emplace_back(g.text().substr(0, limits::kSavedModelMaxKeptString));
                    }
                }
            }
        }
        const bool wanted = saver.wants_function(name);
        NodeIndex body;
        Field f;
        while (m.next(f)) {
            if (f.number != 3 || f.type != WireType::Len) continue;
            NodeRecord node;
            node.collect_all = wanted;
            read_node(m.sub(f), node, /*report=*/false);
            IndexedNode indexed = node.indexed();
            saver.note_references(indexed);
            if (wanted) body.add(node.name, std::move(indexed), budget_);
        }
        saver.add_function(name, args, rets, body);
    }

    void library(Message m, int index, const SaverInfo& saver) {
        Field f;
        while (!out_.stopped() && m.next(f)) {
            if (f.number == 1 && expect(f, WireType::Len, "FunctionDefLibrary.function"))
                function(m.sub(f), index, saver);
        }
        check(m, "the function library of meta graph " + std::to_string(index));
    }

    void function(Message m, int index, const SaverInfo& saver) {
        std::string name;
        {
            Message scan = m;
            Field f;
            while (scan.next(f)) {
                if (f.number != 1 || f.type != WireType::Len) continue;
                Message sig = scan.sub(f);
                Field g;
                while (sig.next(g)) {
                    if (g.number == 1 && g.type == WireType::Len) name = std::string(g.text());
                }
            }
        }
        Scope scope;
        scope.graph = false;
        scope.exempt = saver.function_exempt(name);
        scope.stream = "meta graph " + std::to_string(index) + " function " + printable(name);
        Field f;
        while (!out_.stopped() && m.next(f)) {
            if (f.number == 1) {
                expect(f, WireType::Len, "FunctionDef.signature");
            } else if (f.number == 3) {
                if (!expect(f, WireType::Len, "FunctionDef.node_def") || !out_.take_node())
                    continue;
                NodeRecord node;
                node.truncated = f.truncated;
                read_node(m.sub(f), node, /*report=*/true);
                out_.node(scope, saver, node);
            }
        }
        check(m, "function " + printable(name));
    }

    /// Reads one NodeDef; false when it is not valid protobuf (reported when `report`).
    bool read_node(Message m, NodeRecord& node, bool report) {
        node.offset = static_cast<std::int64_t>(m.base_offset());
        bool ok = true;
        Field f;
        while (m.next(f)) {
            if (f.number >= 1 && f.number <= 5 && f.type != WireType::Len) {
                if (report) expect(f, WireType::Len, "a NodeDef field");
                ok = false;
                continue;
            }
            switch (f.number) {
                case 1:
                    node.name = std::string(f.text().substr(0, limits::kSavedModelMaxKeptString));
                    break;
                case 2:
                    node.op = std::string(f.text().substr(0, limits::kSavedModelMaxKeptString));
                    break;
                case 3:
                    node.add_input(f.text());
                    break;
                case 5:
                    ok = read_attr(m.sub(f), node, report) && ok;
                    break;
                default:
                    break;
            }
        }
        if (m.error() != protobuf::Error::None) {
            if (report) check(m, "node '" + printable(node.name) + "'");
            return false;
        }
        return ok;
    }

    /// One map<string, AttrValue> entry: key = 1, value = 2.
    bool read_attr(Message m, NodeRecord& node, bool report) {
        std::string_view key;
        std::optional<Message> value;
        Field f;
        while (m.next(f)) {
            if (f.number == 1 && f.type == WireType::Len) key = f.text();
            if (f.number == 2 && f.type == WireType::Len) value = m.sub(f);
        }
        bool ok = m.error() == protobuf::Error::None;
        if (!ok && report) check(m, "an attribute of node '" + printable(node.name) + "'");
        if (!value) return ok;
        Message v = *value;
        while (v.next(f)) {
            if (f.type != WireType::Len) continue;
            if (f.number == 2) {
                add_attr(node, key, f.text());
            } else if (f.number == 10) {
                add_func(node, name_attr_list_name(v.sub(f)));
            } else if (f.number == 1) {  // ListValue: s = 2, func = 9
                Message list = v.sub(f);
                Field g;
                while (list.next(g)) {
                    if (g.type != WireType::Len) continue;
                    if (g.number == 2) add_attr(node, key, g.text());
                    if (g.number == 9) add_func(node, name_attr_list_name(list.sub(g)));
                }
            } else if (f.number == 8 && key == "value") {
                Message tensor = v.sub(f);  // TensorProto: string_val = 8
                Field g;
                while (tensor.next(g)) {
                    if (g.number == 8 && g.type == WireType::Len) node.add_const_string(g.text());
                }
            }
        }
        if (v.error() != protobuf::Error::None) {
            if (report)
                check(v,
                      "attribute '" + printable(key) + "' of node '" + printable(node.name) + "'");
            ok = false;
        }
        return ok;
    }

    static std::string_view name_attr_list_name(Message m) {
        std::string_view name;
        Field f;
        while (m.next(f)) {
            if (f.number == 1 && f.type == WireType::Len) name = f.text();
        }
        return name;
    }

    Emitter& out_;
    IndexBudget budget_;
    std::uint64_t file_end_ = 0;
    bool truncation_reported_ = false;
};

/// The whole object as one span, or nothing (reported) when the source cannot give it at once.
std::optional<std::span<const std::uint8_t>> whole(Source& source, const ParseContext& context,
                                                   std::string_view what) {
    const std::uint64_t size = source.size();
    if (size > SIZE_MAX) {
        context.anomaly(kMalformed, std::string(what) + " is too large to read");
        return std::nullopt;
    }
    const auto bytes = source.view(0, static_cast<std::size_t>(size));
    if (bytes.size() < size) {
        context.anomaly(kMalformed,
                        std::string(what) + " of " + std::to_string(size) +
                            " bytes is too large to read from inside a compressed container; "
                            "its ops were NOT checked (scan the extracted file)");
        return std::nullopt;
    }
    return bytes;
}

// ---------------------------------------------------------------------------------------------
// Detection

/// Walks the fields of a message prefix: `on_field` judges each; a Len field longer than the
/// prefix but within the object ends the walk (the rest is not at hand). A Len field longer
/// than the object itself (a file cut short) is refused unless `past_end` is given, which is
/// then set. Returns false when a field is rejected or the bytes are not protobuf.
template <typename OnField>
bool walk_prefix(std::span<const std::uint8_t> head, std::uint64_t remaining_in_object,
                 OnField&& on_field, bool* past_end = nullptr) {
    std::size_t pos = 0;
    while (pos < head.size()) {
        std::uint64_t tag = 0;
        protobuf::Error err = protobuf::Error::None;
        const std::size_t n = protobuf::read_varint(head.subspan(pos), tag, err);
        if (n == 0) return err == protobuf::Error::Truncated && head.size() < remaining_in_object;
        if (pos > remaining_in_object) return false;
        if (n > 5 || tag > 0xffffffffu || (tag >> 3) == 0) return false;
        const auto wire = static_cast<std::uint8_t>(tag & 7);
        const auto number = static_cast<std::uint32_t>(tag >> 3);
        pos += n;
        std::uint64_t value = 0;
        std::span<const std::uint8_t> payload;
        bool partial = false;
        if (wire == 0 || wire == 2) {
            const std::size_t m = protobuf::read_varint(head.subspan(pos), value, err);
            if (m == 0)
                return err == protobuf::Error::Truncated && head.size() < remaining_in_object;
            pos += m;
            if (wire == 2) {
                if (value > remaining_in_object - pos) {  // past the object's end
                    if (!past_end) return false;
                    *past_end = true;
                }
                if (value > head.size() - pos) {
                    payload = head.subspan(pos);
                    partial = true;
                } else {
                    payload = head.subspan(pos, static_cast<std::size_t>(value));
                }
            }
        } else {
            return false;  // no field of the messages detected here is fixed-size or a group
        }
        if (!on_field(number, wire, value, payload, partial)) return false;
        if (partial) return true;
        pos += payload.size();
    }
    return true;
}

bool plausible_meta_graph(std::span<const std::uint8_t> bytes, std::uint64_t declared) {
    int fields = 0;
    const bool ok = walk_prefix(bytes, declared,
                                [&](std::uint32_t number, std::uint8_t wire, std::uint64_t,
                                    std::span<const std::uint8_t>, bool) {
                                    ++fields;
                                    return number >= 1 && number <= 7 && wire == 2;
                                });
    return ok && fields > 0;
}

}  // namespace

bool looks_like_savedmodel(std::span<const std::uint8_t> head, std::uint64_t total_size,
                           std::string_view extension) {
    if (head.empty()) return false;
    bool version = false, meta_graph = false, first = true;
    bool bad_meta_graph = false, cut_short = false;
    const bool ok = walk_prefix(
        head, total_size,
        [&](std::uint32_t number, std::uint8_t wire, std::uint64_t value,
            std::span<const std::uint8_t> payload, bool) {
            const bool was_first = first;
            first = false;
            if (number == 1 && wire == 0) {
                // TensorFlow writes schema version 1, first; a version elsewhere is not its file.
                version = was_first && value < 1024;
                return version;
            }
            if (number == 2 && wire == 2) {
                if (!meta_graph && !plausible_meta_graph(payload, value)) {
                    bad_meta_graph = true;
                    return false;
                }
                meta_graph = true;
                return true;
            }
            return false;
        },
        &cut_short);
    if (!ok || bad_meta_graph) return false;
    // A meta graph longer than the file (cut short): only after TensorFlow's leading schema
    // version, since the rest of the file cannot confirm it.
    if (meta_graph) return !cut_short || version;
    // Only a schema version (a file cut short before its meta graph): the extension decides.
    return version && extension == ".pb";
}

bool looks_like_keras_metadata(std::span<const std::uint8_t> head, std::uint64_t total_size) {
    bool keras_identifier = false;
    int nodes = 0;
    const bool ok = walk_prefix(
        head, total_size,
        [&](std::uint32_t number, std::uint8_t wire, std::uint64_t declared,
            std::span<const std::uint8_t> node, bool) {
            if (number != 1 || wire != 2) return false;
            if (++nodes > 4) return true;  // the first nodes tell
            return walk_prefix(node, declared,
                               [&](std::uint32_t n, std::uint8_t w, std::uint64_t,
                                   std::span<const std::uint8_t> text, bool) {
                                   if (n == 2) return w == 0;
                                   if (n < 1 || n > 6 || w != 2) return false;
                                   const std::string_view s(
                                       reinterpret_cast<const char*>(text.data()), text.size());
                                   if (n == 4 && s.rfind("_tf_keras", 0) == 0)
                                       keras_identifier = true;
                                   return true;
                               });
        });
    return ok && nodes > 0 && keras_identifier;
}

bool looks_like_savedmodel_text(std::span<const std::uint8_t> head) {
    const std::string_view s(reinterpret_cast<const char*>(head.data()), head.size());
    std::size_t i = 0;
    while (i < s.size()) {
        const char c = s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            ++i;
        } else if (c == '#') {
            const auto eol = s.find('\n', i);
            if (eol == std::string_view::npos) return false;
            i = eol + 1;
        } else {
            break;
        }
    }
    for (const std::string_view field :
         {std::string_view("saved_model_schema_version"), std::string_view("meta_graphs")}) {
        if (s.compare(i, field.size(), field) != 0) continue;
        std::size_t j = i + field.size();
        while (j < s.size() && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r'))
            ++j;
        if (j < s.size() && (s[j] == ':' || s[j] == '{' || s[j] == '<')) return true;
    }
    return false;
}

bool claims_binary_name(std::string_view file_name) {
    return file_name == "saved_model.pb";
}
bool claims_text_name(std::string_view file_name) {
    return file_name == "saved_model.pbtxt";
}
bool claims_keras_metadata_name(std::string_view file_name) {
    return file_name == "keras_metadata.pb";
}

bool detect(Source& source, std::string_view extension) {
    const auto head = source.view(0, kDetectBytes);
    return looks_like_savedmodel(head, source.size(), extension);
}

void parse(Source& source, const ParseContext& context) {
    const auto bytes = whole(source, context, "saved_model.pb");
    if (!bytes) return;
    Emitter out(context);
    BinaryWalker(out).run(*bytes);
}

bool detect_keras_metadata(Source& source, std::string_view) {
    const auto head = source.view(0, kDetectBytes);
    return looks_like_keras_metadata(head, source.size());
}

void parse_keras_metadata(Source& source, const ParseContext& context) {
    const auto bytes = whole(source, context, "keras_metadata.pb");
    if (!bytes) return;
    Emitter out(context);
    Message top(*bytes);
    Field f;
    std::uint64_t count = 0;
    while (top.next(f)) {
        if (f.number != 1) continue;
        if (f.type != WireType::Len) {
            out.malformed("SavedMetadata.nodes (field 1) is not length-delimited",
                          static_cast<std::int64_t>(f.offset));
            continue;
        }
        if (++count > limits::kSavedModelMaxNodes) {
            context.anomaly(kLimitExceeded,
                            "more than " + std::to_string(limits::kSavedModelMaxNodes) +
                                " nodes in keras_metadata.pb; the rest were not checked");
            break;
        }
        Message node = top.sub(f);
        std::int64_t id = 0;
        std::string_view path, metadata;
        Field g;
        while (node.next(g)) {
            if (g.number == 2 && g.type == WireType::Varint)
                id = static_cast<std::int32_t>(g.value);
            if (g.number == 3 && g.type == WireType::Len) path = g.text();
            if (g.number == 5 && g.type == WireType::Len) metadata = g.text();
        }
        if (node.error() != protobuf::Error::None) {
            out.malformed("keras_metadata.pb node " + std::to_string(id) + ": " +
                              std::string(protobuf::describe(node.error())) + " at byte " +
                              std::to_string(node.error_offset()),
                          static_cast<std::int64_t>(node.error_offset()));
        }
        if (metadata.empty()) continue;
        const std::string label =
            "keras_metadata.pb node " + std::to_string(id) + " (" + printable(path, 120) + ")";
        keras::walk_config_json(metadata, label, context);
    }
    if (top.error() != protobuf::Error::None) {
        out.malformed("keras_metadata.pb is not valid protobuf: " +
                          std::string(protobuf::describe(top.error())) + " at byte " +
                          std::to_string(top.error_offset()),
                      static_cast<std::int64_t>(top.error_offset()));
    }
}

// ---------------------------------------------------------------------------------------------
// The text format (saved_model.pbtxt)

namespace {

/// A bounded tokenizer for protobuf text format: identifiers, quoted strings (C escapes, kept up
/// to limits::kSavedModelMaxKeptString characters), other scalars (numbers, -inf), punctuation.
/// '#' starts a comment. It does not check that scalars are well formed: values other than
/// strings and identifiers are never used.
class TextTokenizer {
  public:
    enum class Kind {
        End,
        Ident,
        String,
        Scalar,
        Open,
        Close,
        Colon,
        LBracket,
        RBracket,
        Sep,
        Bad
    };
    struct Token {
        Kind kind = Kind::End;
        std::string text;
        std::uint64_t offset = 0;
        bool cut = false;  ///< a string longer than what is kept
    };

    explicit TextTokenizer(std::string_view s) : s_(s) {}

    Token next() {
        skip_blank();
        Token t;
        t.offset = i_;
        if (i_ >= s_.size()) return t;
        const char c = s_[i_];
        if (c == '{' || c == '<') return single(t, Kind::Open);
        if (c == '}' || c == '>') return single(t, Kind::Close);
        if (c == ':') return single(t, Kind::Colon);
        if (c == '[') return single(t, Kind::LBracket);
        if (c == ']') return single(t, Kind::RBracket);
        if (c == ',' || c == ';') return single(t, Kind::Sep);
        if (c == '"' || c == '\'') return string(t);
        if (ident_start(c)) {
            t.kind = Kind::Ident;
            while (i_ < s_.size() && ident_char(s_[i_])) {
                if (t.text.size() < limits::kSavedModelMaxKeptString) t.text.push_back(s_[i_]);
                ++i_;
            }
            return t;
        }
        if (c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9')) {
            t.kind = Kind::Scalar;
            while (i_ < s_.size() && (ident_char(s_[i_]) || s_[i_] == '-' || s_[i_] == '+'))
                ++i_;
            return t;
        }
        t.kind = Kind::Bad;  // consumed, so a caller that goes on cannot loop
        ++i_;
        return t;
    }

  private:
    static bool ident_start(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    }
    static bool ident_char(char c) { return ident_start(c) || (c >= '0' && c <= '9') || c == '.'; }
    void skip_blank() {
        while (i_ < s_.size()) {
            const char c = s_[i_];
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
                ++i_;
            } else if (c == '#') {
                while (i_ < s_.size() && s_[i_] != '\n')
                    ++i_;
            } else {
                break;
            }
        }
    }
    Token& single(Token& t, Kind kind) {
        t.kind = kind;
        ++i_;
        return t;
    }
    /// A string: one quoted literal, or several in a row, which the text format joins into one
    /// ("Place" "holder" is "Placeholder"), with blanks and comments between them.
    Token& string(Token& t) {
        t.kind = Kind::String;
        literal(t);
        for (;;) {
            if (t.kind != Kind::String) return t;
            const std::size_t after = i_;
            skip_blank();
            if (i_ >= s_.size() || (s_[i_] != '"' && s_[i_] != '\'')) {
                i_ = after;
                return t;
            }
            literal(t);
        }
    }
    /// One quoted literal at i_, appended to t.text (t.kind becomes Bad when it is broken).
    Token& literal(Token& t) {
        const char quote = s_[i_++];
        auto keep = [&t](char ch) {
            if (t.text.size() < limits::kSavedModelMaxKeptString) {
                t.text.push_back(ch);
            } else {
                t.cut = true;
            }
        };
        while (i_ < s_.size() && s_[i_] != quote) {
            char c = s_[i_++];
            if (c == '\n') {
                t.kind = Kind::Bad;
                return t;
            }
            if (c != '\\') {
                keep(c);
                continue;
            }
            if (i_ >= s_.size()) break;
            c = s_[i_++];
            switch (c) {
                case 'n':
                    keep('\n');
                    break;
                case 't':
                    keep('\t');
                    break;
                case 'r':
                    keep('\r');
                    break;
                case 'x': {
                    int v = 0, digits = 0;
                    while (digits < 2 && i_ < s_.size() &&
                           std::isxdigit(static_cast<unsigned char>(s_[i_]))) {
                        const char h = s_[i_++];
                        v = v * 16 + (h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
                        ++digits;
                    }
                    keep(static_cast<char>(v));
                    break;
                }
                default:
                    if (c >= '0' && c <= '7') {
                        int v = c - '0', digits = 1;
                        while (digits < 3 && i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '7') {
                            v = v * 8 + (s_[i_++] - '0');
                            ++digits;
                        }
                        keep(static_cast<char>(v & 0xff));
                    } else {
                        keep(c);  // \" \' \\ \? and the rest stand for themselves
                    }
                    break;
            }
        }
        if (i_ >= s_.size()) {
            t.kind = Kind::Bad;  // unterminated
            return t;
        }
        ++i_;
        return t;
    }

    std::string_view s_;
    std::size_t i_ = 0;
};

/// Reads a SavedModel in text format in one of four passes (the SaverDef comes after the
/// graph, so the saver is learnt before the nodes are reported): Saver collects each meta
/// graph's SaverDef, Graph indexes the graph's nodes for the saver check, Library reads the
/// references to the saver's functions and their bodies, Emit reports every node.
class TextWalker {
  public:
    enum class Pass { Saver, Graph, Library, Emit };

    TextWalker(std::string_view text, Emitter& out, std::vector<SaverInfo>& savers,
               IndexBudget& budget, Pass pass)
        : tok_(text), out_(out), savers_(savers), budget_(budget), pass_(pass) {}

    void run() {
        using Kind = TextTokenizer::Kind;
        while (!out_.stopped()) {
            auto t = tok_.next();
            if (!frames_.empty() && frames_.back().list) {  // inside name: [ ... ]
                if (t.kind == Kind::Sep) continue;
                if (t.kind == Kind::RBracket) {
                    frames_.pop_back();
                    continue;
                }
                if (t.kind == Kind::Open) {
                    if (!open(frames_.back().name, t.offset)) return;
                    continue;
                }
                if (t.kind == Kind::String || t.kind == Kind::Scalar || t.kind == Kind::Ident) {
                    value_cut_ = t.cut;
                    value(frames_.back().name, t.text);
                    continue;
                }
                return fail("unexpected token in a list", t.offset);
            }
            if (t.kind == Kind::End) {
                if (!frames_.empty()) fail("the text ends inside a block", t.offset);
                return;
            }
            if (t.kind == Kind::Sep) continue;
            if (t.kind == Kind::Close) {
                if (frames_.empty()) return fail("a closing brace with no open block", t.offset);
                close();
                continue;
            }
            std::string name;
            if (t.kind == Kind::Ident) {
                name = t.text;
            } else if (t.kind == Kind::LBracket) {  // [extension.name] or [type.url/Msg]
                auto n = tok_.next();
                while (n.kind == Kind::Ident || n.kind == Kind::Scalar || n.kind == Kind::Bad)
                    n = tok_.next();  // a type URL's '/' is a Bad token
                if (n.kind != Kind::RBracket) return fail("an unterminated [name]", t.offset);
                name = "[extension]";
            } else {
                return fail("expected a field name", t.offset);
            }
            auto u = tok_.next();
            if (u.kind == Kind::Colon) {
                u = tok_.next();
                if (u.kind == Kind::LBracket) {
                    if (!push({name, true}, u.offset)) return;
                    continue;
                }
            }
            if (u.kind == Kind::Open) {
                if (!open(name, t.offset)) return;
            } else if (u.kind == Kind::String) {
                value_cut_ = u.cut;
                value(name, u.text);
            } else if (u.kind == Kind::Scalar || u.kind == Kind::Ident) {
                value_cut_ = false;
                value(name, u.text);
            } else {
                return fail("expected a value after field '" + printable(name) + "'", u.offset);
            }
        }
    }

  private:
    struct Frame {
        std::string name;
        bool list = false;
    };

    void fail(const std::string& what, std::uint64_t offset) {
        if (pass_ == Pass::Emit)
            out_.malformed("saved_model.pbtxt is not valid text format: " + what + " at byte " +
                               std::to_string(offset),
                           static_cast<std::int64_t>(offset));
    }
    bool push(Frame frame, std::uint64_t offset) {
        if (frames_.size() >= static_cast<std::size_t>(limits::kProtobufMaxDepth)) {
            fail("blocks nested deeper than mscan follows", offset);
            return false;
        }
        frames_.push_back(std::move(frame));
        return true;
    }
    /// The block path: names of the open (non-list) blocks, outermost first.
    bool path_is(std::initializer_list<std::string_view> tail) const {
        std::vector<std::string_view> path;
        for (const auto& f : frames_)
            if (!f.list) path.push_back(f.name);
        if (path.size() < tail.size()) return false;
        if (path.front() != "meta_graphs") return false;
        return std::equal(tail.begin(), tail.end(),
                          path.end() - static_cast<std::ptrdiff_t>(tail.size()));
    }
    std::size_t depth() const {
        std::size_t d = 0;
        for (const auto& f : frames_)
            if (!f.list) ++d;
        return d;
    }
    SaverInfo& saver() {
        const std::size_t i = meta_graph_ < 0 ? 0 : static_cast<std::size_t>(meta_graph_);
        while (savers_.size() <= i && savers_.size() < 1024)
            savers_.emplace_back();
        return savers_[std::min(i, savers_.size() - 1)];
    }

    // NOLINTNEXTLINE(performance-unnecessary-value-param): by value on purpose, see below
    bool open(std::string name, std::uint64_t offset) {  // by value: push() may move frames
        if (!push({name, false}, offset)) return false;  // `name` is our own copy
        const std::size_t d = depth();
        if (d == 1 && name == "meta_graphs") ++meta_graph_;
        if (path_is({"meta_graphs", "graph_def"}) && d == 2) {
            graph_ = Scope{};
            graph_.stream = "meta graph " + std::to_string(meta_graph_) + " graph";
        } else if (d == 4 && path_is({"graph_def", "library", "function"})) {
            function_ = Scope{};
            function_.graph = false;
            function_name_.clear();
            function_args_.clear();
            function_rets_.clear();
            function_body_ = NodeIndex{};
            function_open_ = true;
            function_started_ = false;
        } else if ((d == 3 && path_is({"graph_def", "node"})) ||
                   (d == 5 && path_is({"library", "function", "node_def"}))) {
            node_ = NodeRecord{};
            node_.offset = static_cast<std::int64_t>(offset);
            // A function's body is indexed only when its name came first (as TensorFlow
            // writes it); otherwise the saver check sees an empty body and exempts nothing.
            node_.collect_all =
                d == 3 ? pass_ == Pass::Graph
                       : pass_ == Pass::Library && saver().wants_function(function_name_);
            in_node_ = true;
            node_depth_ = d;
        }
        return true;
    }

    void close() {
        const std::size_t d = depth();
        if (in_node_ && d == node_depth_) {
            in_node_ = false;
            const bool in_function = node_depth_ == 5;
            if (pass_ == Pass::Graph && !in_function) {
                std::string name = node_.name;
                saver().add_graph_node(std::move(name), node_.indexed(), budget_);
            }
            if (pass_ == Pass::Library && in_function) {
                const bool wanted = node_.collect_all;
                std::string name = node_.name;
                IndexedNode indexed = node_.indexed();
                saver().note_references(indexed);
                if (wanted) function_body_.add(std::move(name), std::move(indexed), budget_);
            }
            if (pass_ == Pass::Emit && out_.take_node()) {
                if (in_function) {
                    start_function();
                    out_.node(function_, saver(), node_);
                } else {
                    out_.node(graph_, saver(), node_);
                }
            }
        }
        if (d == 4 && function_open_ && path_is({"graph_def", "library", "function"})) {
            function_open_ = false;
            if (pass_ == Pass::Library)
                saver().add_function(function_name_, function_args_, function_rets_,
                                     function_body_);
        }
        frames_.pop_back();
    }

    void start_function() {
        if (function_started_) return;
        function_started_ = true;
        function_.exempt = saver().function_exempt(function_name_);
        function_.stream =
            "meta graph " + std::to_string(meta_graph_) + " function " + printable(function_name_);
    }

    void value(const std::string& key, const std::string& text) {
        const std::size_t d = depth();
        if (pass_ == Pass::Saver) {
            if (d == 2 && path_is({"meta_graphs", "saver_def"})) {
                if (key == "filename_tensor_name") saver().set_tensor(1, text);
                if (key == "save_tensor_name") saver().set_tensor(2, text);
                if (key == "restore_op_name") saver().set_tensor(3, text);
            }
            return;
        }
        if (function_open_ && d == 5 && path_is({"function", "signature"}) && key == "name")
            function_name_ = text;
        if (function_open_ && d == 6 && path_is({"function", "signature", "input_arg"}) &&
            key == "name")
            function_args_.push_back(text);
        if (function_open_ && d == 5 &&
            (path_is({"function", "ret"}) || path_is({"function", "control_ret"})) &&
            key == "value" && function_rets_.size() < 4096)
            function_rets_.push_back(text);
        if (!in_node_) return;
        // A string cut at the kept length may hide ".." past the cut: the saver check does not
        // take such a node as a harmless suffix.
        if (value_cut_) node_.dotdot = true;
        const std::size_t rel = d - node_depth_;  // 0: the node itself
        if (rel == 0) {
            if (key == "name") node_.name = text;
            if (key == "op") node_.op = text;
            if (key == "input") node_.add_input(text);
        } else if (rel == 1 && path_is({"attr"}) && key == "key") {
            node_.pending_attr = text;
        } else if (rel == 2 && path_is({"attr", "value"}) && key == "s") {
            add_attr(node_, node_.pending_attr, text);
        } else if (rel == 3 && path_is({"attr", "value", "list"}) && key == "s") {
            add_attr(node_, node_.pending_attr, text);
        } else if (key == "name" && ((rel == 3 && path_is({"attr", "value", "func"})) ||
                                     (rel == 4 && path_is({"attr", "value", "list", "func"})))) {
            add_func(node_, text);
        } else if (rel == 3 && path_is({"attr", "value", "tensor"}) && key == "string_val" &&
                   node_.pending_attr == "value") {
            node_.add_const_string(text);
        }
    }

    TextTokenizer tok_;
    Emitter& out_;
    std::vector<SaverInfo>& savers_;
    IndexBudget& budget_;
    Pass pass_;
    std::vector<Frame> frames_;
    int meta_graph_ = -1;
    Scope graph_;
    Scope function_;
    std::string function_name_;
    std::vector<std::string> function_args_, function_rets_;
    NodeIndex function_body_;
    bool function_open_ = false;
    bool function_started_ = false;
    bool value_cut_ = false;
    NodeRecord node_;
    bool in_node_ = false;
    std::size_t node_depth_ = 0;
};

}  // namespace

bool detect_text(Source& source, std::string_view) {
    return looks_like_savedmodel_text(source.view(0, kDetectBytes));
}

void parse_text(Source& source, const ParseContext& context) {
    const auto bytes = whole(source, context, "saved_model.pbtxt");
    if (!bytes) return;
    const std::string_view text(reinterpret_cast<const char*>(bytes->data()), bytes->size());
    Emitter out(context);
    std::vector<SaverInfo> savers;
    IndexBudget budget;
    TextWalker(text, out, savers, budget, TextWalker::Pass::Saver).run();
    if (std::any_of(savers.begin(), savers.end(), [](const SaverInfo& s) { return s.present(); })) {
        TextWalker(text, out, savers, budget, TextWalker::Pass::Graph).run();
        for (auto& s : savers)
            s.finish_graph();
        TextWalker(text, out, savers, budget, TextWalker::Pass::Library).run();
    }
    TextWalker(text, out, savers, budget, TextWalker::Pass::Emit).run();
}

}  // namespace mscan::savedmodel
