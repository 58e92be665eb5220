// The ONNX walk. The messages and fields it reads (onnx/onnx.proto, IR version 10):
//
//   ModelProto     { int64 ir_version = 1; string producer_name = 2, producer_version = 3,
//                    domain = 4; int64 model_version = 5; string doc_string = 6;
//                    GraphProto graph = 7; repeated OperatorSetIdProto opset_import = 8;
//                    repeated StringStringEntryProto metadata_props = 14;
//                    repeated TrainingInfoProto training_info = 20;
//                    repeated FunctionProto functions = 25; (26 configuration is skipped) }
//   OperatorSetIdProto { string domain = 1; int64 version = 2; }
//   GraphProto     { repeated NodeProto node = 1; string name = 2;
//                    repeated TensorProto initializer = 5;
//                    repeated SparseTensorProto sparse_initializer = 15; (10-14, 16 skipped) }
//   NodeProto      { repeated string input = 1, output = 2; string name = 3, op_type = 4;
//                    repeated AttributeProto attribute = 5; string doc_string = 6, domain = 7,
//                    overload = 8; }
//   AttributeProto { string name = 1; bytes s = 4; TensorProto t = 5; GraphProto g = 6;
//                    repeated TensorProto tensors = 10; repeated GraphProto graphs = 11;
//                    SparseTensorProto sparse_tensor = 22; repeated ... sparse_tensors = 23; }
//   TensorProto    { repeated int64 dims = 1; int32 data_type = 2; Segment segment = 3;
//                    float_data = 4; int32_data = 5; string_data = 6; int64_data = 7;
//                    string name = 8; bytes raw_data = 9; double_data = 10; uint64_data = 11;
//                    repeated StringStringEntryProto external_data = 13;
//                    DataLocation data_location = 14 (EXTERNAL = 1); }
//   SparseTensorProto { TensorProto values = 1, indices = 2; repeated int64 dims = 3; }
//   TrainingInfoProto { GraphProto initialization = 1, algorithm = 2; }
//   FunctionProto  { string name = 1; repeated NodeProto node = 7;
//                    repeated OperatorSetIdProto opset_import = 9; string domain = 10;
//                    repeated AttributeProto attribute_proto = 11; string overload = 13; }
//   StringStringEntryProto { string key = 1, value = 2; }
//
// A node's (domain, op_type, overload) is resolved the way ONNX does: the standard domains ("",
// "ai.onnx", "ai.onnx.ml", "ai.onnx.training", "ai.onnx.preview.training") are the runtime's
// own operators; a model-local function with that identity is defined in the file (its nodes
// are walked with the function list); anything else needs an operator the runtime gets
// elsewhere: its own contrib operators for the known contrib domains, a custom-op library the
// user registers for any other domain.
#include "formats/onnx/onnx_format.h"

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "formats/common_codes.h"
#include "formats/onnx/onnx_codes.h"
#include "formats/protobuf/wire.h"
#include "mscan/limits.h"
#include "mscan/neighbours.h"
#include "util/text_safety.h"

namespace mscan::onnx {
namespace {

using protobuf::Field;
using protobuf::Message;
using protobuf::WireType;

/// How much of a file detection looks at (a model's first fields and the start of its graph).
constexpr std::size_t kDetectBytes = 64 * 1024;
/// Per domain, the operator names kept for evidence.
constexpr std::size_t kKeptOpsPerDomain = 12;
/// External data locations named in the "could not be checked" evidence.
constexpr std::size_t kKeptLocations = 8;
/// Dimensions shown per tensor in evidence.
constexpr std::size_t kKeptDims = 8;
/// Longest stream name (graph path) built; deeper subgraphs keep the prefix.
constexpr std::size_t kMaxStreamChars = 600;

/// A Python callable named by a node attribute, as an operation name: identifier characters
/// and dots kept, anything else '?', so that the name cannot pose as something else.
std::string callable_name(std::string_view s) {
    std::string out;
    for (const char ch : s.substr(0, limits::kOnnxMaxKeptString)) {
        const auto c = static_cast<unsigned char>(ch);
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '.';
        out.push_back(ok ? static_cast<char>(c) : '?');
    }
    return out;
}

/// "ai.onnx" is another name of the default domain "".
std::string_view canonical_domain(std::string_view d) {
    return d == "ai.onnx" ? std::string_view() : d;
}

bool standard_domain(std::string_view d) {
    return d.empty() || d == "ai.onnx" || d == "ai.onnx.ml" || d == "ai.onnx.training" ||
           d == "ai.onnx.preview.training";
}

/// Domains whose operators ship with ONNX Runtime itself (contrib and internal operators),
/// with onnxruntime-extensions, or with PyTorch's ATen fallback.
bool contrib_domain(std::string_view d) {
    static constexpr std::array<std::string_view, 8> kDomains = {
        "ai.onnx.contrib",     "com.microsoft",
        "com.microsoft.dml",   "com.microsoft.experimental",
        "com.microsoft.nchwc", "com.ms.internal.nhwc",
        "org.pytorch.aten",    "com.microsoft.extensions"};
    return std::find(kDomains.begin(), kDomains.end(), d) != kDomains.end();
}

/// Bits per element of a TensorProto.DataType; 0 for STRING, UNDEFINED and unknown types.
unsigned element_bits(std::uint64_t type) {
    switch (type) {
        case 2:   // UINT8
        case 3:   // INT8
        case 9:   // BOOL
        case 17:  // FLOAT8E4M3FN
        case 18:  // FLOAT8E4M3FNUZ
        case 19:  // FLOAT8E5M2
        case 20:  // FLOAT8E5M2FNUZ
        case 24:  // FLOAT8E8M0
            return 8;
        case 4:   // UINT16
        case 5:   // INT16
        case 10:  // FLOAT16
        case 16:  // BFLOAT16
            return 16;
        case 1:   // FLOAT
        case 6:   // INT32
        case 12:  // UINT32
            return 32;
        case 7:   // INT64
        case 11:  // DOUBLE
        case 13:  // UINT64
        case 14:  // COMPLEX64
            return 64;
        case 15:  // COMPLEX128
            return 128;
        case 21:  // UINT4
        case 22:  // INT4
        case 23:  // FLOAT4E2M1
            return 4;
        case 25:  // UINT2
        case 26:  // INT2
            return 2;
        default:
            return 0;
    }
}

std::string type_name(std::uint64_t type) {
    static constexpr std::array<std::string_view, 27> kNames = {
        "UNDEFINED",      "FLOAT",    "UINT8",        "INT8",           "UINT16",
        "INT16",          "INT32",    "INT64",        "STRING",         "BOOL",
        "FLOAT16",        "DOUBLE",   "UINT32",       "UINT64",         "COMPLEX64",
        "COMPLEX128",     "BFLOAT16", "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2",
        "FLOAT8E5M2FNUZ", "UINT4",    "INT4",         "FLOAT4E2M1",     "FLOAT8E8M0",
        "UINT2",          "INT2"};
    if (type < kNames.size()) return std::string(kNames[type]);
    return "data type " + std::to_string(type);
}

/// Bytes `count` elements of `bits` each take (sub-byte types packed); nullopt on overflow.
std::optional<std::uint64_t> bytes_for(std::uint64_t count, unsigned bits) {
    if (bits >= 8) {
        const std::uint64_t size = bits / 8;
        if (count > UINT64_MAX / size) return std::nullopt;
        return count * size;
    }
    const std::uint64_t per_byte = 8 / bits;
    return count / per_byte + (count % per_byte != 0 ? 1 : 0);
}

/// A decimal offset or length from external_data: digits only, at most INT64_MAX.
std::optional<std::uint64_t> parse_decimal(std::string_view s) {
    if (s.empty() || s.size() > 19) return std::nullopt;
    std::uint64_t v = 0;
    for (const char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (v > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
    return v;
}

/// Why an external data location leaves the model's folder, or empty when it stays inside.
std::string unsafe_location(std::string_view location) {
    if (location.size() >= 2 && (location[0] == '\\' || location[0] == '/') &&
        (location[1] == '\\' || location[1] == '/'))
        return "a network (UNC) or root path";
    if (!location.empty() && (location[0] == '/' || location[0] == '\\')) return "an absolute path";
    if (location.size() >= 2 && location[1] == ':')
        return "an absolute Windows path (drive letter)";
    if (!stays_inside(location)) return "a path that climbs out of the model's folder ('..')";
    return {};
}

/// Counts the varints of a packed repeated field; false when the last one is cut short.
bool count_varints(std::span<const std::uint8_t> bytes, std::uint64_t& count) {
    for (const std::uint8_t b : bytes)
        count += (b & 0x80) == 0 ? 1 : 0;
    return bytes.empty() || (bytes.back() & 0x80) == 0;
}

/// What the first pass over a NodeProto learns: its identity and the string attributes that
/// name Python code.
struct NodeHeader {
    std::string_view name, op_type, domain, overload;
    std::string_view func_name, name_attr, module, class_name, compute;
};

/// One operator domain outside the standard ones, as used across the model.
struct DomainUse {
    bool contrib = false;
    std::set<std::string> ops;
    std::uint64_t nodes = 0;
    std::string first_stream;
    std::int64_t first_offset = -1;
};

/// Typed repeated data fields of a TensorProto.
enum TypedField : std::size_t { kFloat, kInt32, kString, kInt64, kDouble, kUint64, kTypedCount };

struct TensorRecord {
    std::string_view name;
    std::vector<std::int64_t> dims;  ///< the first kKeptDims
    std::uint64_t rank = 0;
    std::uint64_t elements = 1;
    bool zero_dim = false;
    bool negative_dim = false;
    bool overflow = false;
    std::uint64_t data_type = 0;
    bool segment = false;
    bool raw = false;
    bool raw_truncated = false;
    std::uint64_t raw_bytes = 0;
    std::uint64_t raw_declared = 0;
    std::array<std::uint64_t, kTypedCount> typed{};
    std::array<bool, kTypedCount> typed_present{};
    bool external = false;
    std::optional<std::string_view> location, offset, length;
    std::vector<std::string_view> unknown_keys;
    std::int64_t at = -1;

    void add_dim(std::int64_t d) {
        ++rank;
        if (dims.size() < kKeptDims) dims.push_back(d);
        if (d < 0) {
            negative_dim = true;
        } else if (d == 0) {
            zero_dim = true;
        } else if (!overflow) {
            const auto u = static_cast<std::uint64_t>(d);
            if (elements > static_cast<std::uint64_t>(INT64_MAX) / u) {
                overflow = true;
            } else {
                elements *= u;
            }
        }
    }
    std::uint64_t count() const { return zero_dim ? 0 : elements; }
    std::string describe() const {
        std::string s = "tensor '" + printable(name) + "' " + type_name(data_type) + " dims [";
        for (std::size_t i = 0; i < dims.size(); ++i) {
            if (i) s += ", ";
            s += std::to_string(dims[i]);
        }
        if (rank > dims.size()) s += ", ...";
        return s + "]";
    }
};

class Walker {
  public:
    Walker(std::span<const std::uint8_t> file, const ParseContext& context)
        : file_(file), context_(context) {}

    void run() {
        Message top(file_);
        top.keep_truncated(true);  // a file cut short: what is there still counts
        prescan(top);
        Field f;
        bool graph_seen = false;
        std::size_t functions = 0, trainings = 0;
        while (!stopped() && top.next(f)) {
            switch (f.number) {
                case 1:
                    expect(f, WireType::Varint, "ModelProto.ir_version", "");
                    break;
                case 5:
                    expect(f, WireType::Varint, "ModelProto.model_version", "");
                    break;
                case 2:
                case 3:
                case 4:
                case 6:
                case 8:
                case 14:
                    expect(f, WireType::Len, "a ModelProto string or message field", "");
                    break;
                case 7:
                    if (expect(f, WireType::Len, "ModelProto.graph", "")) {
                        graph_seen = true;
                        graph(top.sub(f), "graph");
                    }
                    break;
                case 20:
                    if (expect(f, WireType::Len, "ModelProto.training_info", ""))
                        training_info(top.sub(f), trainings);
                    ++trainings;
                    break;
                case 25:
                    if (expect(f, WireType::Len, "ModelProto.functions", ""))
                        function(top.sub(f), functions);
                    ++functions;
                    break;
                default:
                    break;
            }
        }
        check(top, "the ModelProto message", "");
        if (!graph_seen && top.at_end())
            report(kMalformed,
                   "the model has no graph (ModelProto.graph): there is nothing to load", "", -1);
        finish();
    }

  private:
    // --- reporting -----------------------------------------------------------------------

    bool stopped() const { return nodes_reported_; }

    void report(AnomalyCode code, std::string evidence, const std::string& stream,
                std::int64_t offset) {
        int& n = reported_[std::string(code.text())];
        if (n >= limits::kOnnxMaxAnomaliesPerCode) return;
        if (++n == limits::kOnnxMaxAnomaliesPerCode)
            evidence += " (further problems of this kind in this model are not listed)";
        Location where = context_.base();
        where.stream = stream;
        where.offset = offset;
        context_.anomaly_at(where, code, std::move(evidence));
    }

    void limit(const std::string& what) {
        Location where = context_.base();
        context_.anomaly_at(where, kLimitExceeded, what);
    }

    /// Reports a known field with the wrong wire type (protobuf refuses such a message).
    bool expect(const Field& f, WireType type, std::string_view what, const std::string& stream) {
        if (f.type == type) return true;
        report(kMalformed,
               std::string(what) + " (field " + std::to_string(f.number) + ") has wire type " +
                   std::string(protobuf::wire_type_name(f.type)) + ", not " +
                   std::string(protobuf::wire_type_name(type)) + ": protobuf refuses the model",
               stream, static_cast<std::int64_t>(f.offset));
        return false;
    }

    void check(const Message& m, std::string_view what, const std::string& stream) {
        auto problem = protobuf::error_anomaly(m, kMalformed, what, file_.size());
        if (!problem) return;
        if (protobuf::cut_short(m, file_.size())) {
            // Every enclosing message sees it too: report the innermost once.
            if (truncation_reported_) return;
            truncation_reported_ = true;
        }
        report(problem->code, std::move(problem->evidence), stream, problem->offset);
    }

    bool take_node() {
        if (nodes_ >= limits::kOnnxMaxNodes) {
            if (!nodes_reported_) {
                nodes_reported_ = true;
                limit("more than " + std::to_string(limits::kOnnxMaxNodes) +
                      " nodes in one ONNX model; the rest were not checked");
            }
            return false;
        }
        ++nodes_;
        return true;
    }
    bool take_tensor() {
        if (tensors_ >= limits::kOnnxMaxTensors) {
            if (!tensors_reported_) {
                tensors_reported_ = true;
                limit("more than " + std::to_string(limits::kOnnxMaxTensors) +
                      " tensors in one ONNX model; the rest were not checked");
            }
            return false;
        }
        ++tensors_;
        return true;
    }
    bool take_graph() {
        if (graphs_ >= limits::kOnnxMaxGraphs) {
            if (!graphs_reported_) {
                graphs_reported_ = true;
                limit("more than " + std::to_string(limits::kOnnxMaxGraphs) +
                      " graphs and functions in one ONNX model; the rest were not checked");
            }
            return false;
        }
        ++graphs_;
        return true;
    }

    static std::string child_stream(const std::string& parent, const std::string& step) {
        if (parent.size() + step.size() > kMaxStreamChars) {
            if (parent.size() >= 4 && parent.compare(parent.size() - 4, 4, " ...") == 0)
                return parent;
            return parent + " ...";
        }
        return parent + " > " + step;
    }

    // --- what is known before the walk ----------------------------------------------------

    static std::string function_key(std::string_view domain, std::string_view name,
                                    std::string_view overload) {
        std::string key(canonical_domain(domain));
        key.push_back('\0');
        key.append(name);
        key.push_back('\0');
        key.append(overload);
        return key;
    }

    void opset_entry(Message m) {
        std::string_view domain;
        std::int64_t version = 0;
        Field f;
        while (m.next(f)) {
            if (f.number == 1 && f.type == WireType::Len) domain = f.text();
            if (f.number == 2 && f.type == WireType::Varint) version = protobuf::as_int64(f);
        }
        if (opsets_.size() < limits::kOnnxMaxFunctions)
            opsets_.emplace(std::string(canonical_domain(domain)), version);
    }

    /// The opset_import domains of the model and its functions, and the functions' identities
    /// (both come after the graph in the file).
    void prescan(Message top) {
        Field f;
        while (top.next(f)) {
            if (f.type != WireType::Len) continue;
            if (f.number == 8) opset_entry(top.sub(f));
            if (f.number != 25) continue;
            Message fn = top.sub(f);
            std::string_view name, domain, overload;
            Field g;
            while (fn.next(g)) {
                if (g.type != WireType::Len) continue;
                if (g.number == 1) name = g.text();
                if (g.number == 10) domain = g.text();
                if (g.number == 13) overload = g.text();
                if (g.number == 9) opset_entry(fn.sub(g));
            }
            if (functions_.size() < limits::kOnnxMaxFunctions)
                functions_.insert(function_key(domain, name, overload));
        }
    }

    // --- graphs, functions, nodes ------------------------------------------------------------

    void training_info(Message m, std::size_t index) {
        const std::string base = "training_info " + std::to_string(index);
        Field f;
        while (!stopped() && m.next(f)) {
            if (f.number == 1 && expect(f, WireType::Len, "TrainingInfoProto.initialization", base))
                graph(m.sub(f), base + " initialization");
            if (f.number == 2 && expect(f, WireType::Len, "TrainingInfoProto.algorithm", base))
                graph(m.sub(f), base + " algorithm");
        }
        check(m, base, base);
    }

    void graph(Message m, const std::string& stream) {
        if (!take_graph()) return;
        Field f;
        std::int64_t index = 0;
        while (!stopped() && m.next(f)) {
            switch (f.number) {
                case 1:
                    if (expect(f, WireType::Len, "GraphProto.node", stream) && take_node())
                        node(m.sub(f), stream, index++);
                    break;
                case 5:
                    if (expect(f, WireType::Len, "GraphProto.initializer", stream))
                        tensor(m.sub(f), f, stream);
                    break;
                case 15:
                    if (expect(f, WireType::Len, "GraphProto.sparse_initializer", stream))
                        sparse_tensor(m.sub(f), stream);
                    break;
                case 2:
                case 10:
                case 11:
                case 12:
                case 13:
                case 14:
                case 16:
                    expect(f, WireType::Len, "a GraphProto string or message field", stream);
                    break;
                default:
                    break;
            }
        }
        check(m, stream, stream);
    }

    void function(Message m, std::size_t index) {
        if (!take_graph()) return;
        std::string_view name, domain;
        {
            Message scan = m;
            Field f;
            while (scan.next(f)) {
                if (f.type != WireType::Len) continue;
                if (f.number == 1) name = f.text();
                if (f.number == 10) domain = f.text();
            }
        }
        const std::string stream = "function " + std::to_string(index) + " '" + printable(domain) +
                                   (domain.empty() ? "" : ":") + printable(name) + "'";
        Field f;
        std::int64_t node_index = 0;
        while (!stopped() && m.next(f)) {
            switch (f.number) {
                case 7:
                    if (expect(f, WireType::Len, "FunctionProto.node", stream) && take_node())
                        node(m.sub(f), stream, node_index++);
                    break;
                case 11:
                    if (expect(f, WireType::Len, "FunctionProto.attribute_proto", stream))
                        attribute_values(m.sub(f), NodeHeader{}, stream);
                    break;
                case 1:
                case 4:
                case 5:
                case 6:
                case 8:
                case 9:
                case 10:
                case 12:
                case 13:
                case 14:
                    expect(f, WireType::Len, "a FunctionProto string or message field", stream);
                    break;
                default:
                    break;
            }
        }
        check(m, stream, stream);
    }

    static void string_attribute(Message a, NodeHeader& n) {
        std::string_view name, s;
        Field f;
        while (a.next(f)) {
            if (f.type != WireType::Len) continue;
            if (f.number == 1) name = f.text();
            if (f.number == 4) s = f.text();
        }
        if (name == "func_name") n.func_name = s;
        if (name == "name") n.name_attr = s;
        if (name == "module") n.module = s;
        if (name == "class_name") n.class_name = s;
        if (name == "compute") n.compute = s;
    }

    static NodeHeader read_header(Message m) {
        NodeHeader n;
        Field f;
        while (m.next(f)) {
            if (f.type != WireType::Len) continue;
            switch (f.number) {
                case 3:
                    n.name = f.text();
                    break;
                case 4:
                    n.op_type = f.text();
                    break;
                case 5:
                    string_attribute(m.sub(f), n);
                    break;
                case 7:
                    n.domain = f.text();
                    break;
                case 8:
                    n.overload = f.text();
                    break;
                default:
                    break;
            }
        }
        return n;
    }

    static std::string node_label(const NodeHeader& n) {
        std::string s = "node '" + printable(n.name) + "' ";
        if (!n.domain.empty()) s += printable(n.domain) + ":";
        return s + printable(n.op_type);
    }

    void node(Message m, const std::string& stream, std::int64_t index) {
        const NodeHeader n = read_header(m);
        const auto offset = static_cast<std::int64_t>(m.base_offset());
        classify(n, stream, index, offset);
        Field f;
        while (!stopped() && m.next(f)) {
            if (f.number == 5) {
                if (expect(f, WireType::Len, "NodeProto.attribute", stream))
                    attribute_values(m.sub(f), n, stream);
            } else if (f.number >= 1 && f.number <= 8) {
                expect(f, WireType::Len, "a NodeProto string field", stream);
            }
        }
        check(m, node_label(n), stream);
    }

    /// The tensors and graphs an attribute holds (for a function's default attribute values,
    /// `n` is empty).
    void attribute_values(Message a, const NodeHeader& n, const std::string& stream) {
        std::string_view attr;
        {
            Message scan = a;
            Field f;
            while (scan.next(f)) {
                if (f.number == 1 && f.type == WireType::Len) attr = f.text();
            }
        }
        const std::string owner =
            n.op_type.empty() ? std::string("default attribute")
                              : "node '" + printable(n.name) + "' (" + printable(n.op_type) + ")";
        const std::string where = owner + " attribute '" + printable(attr) + "'";
        Field f;
        std::size_t graph_index = 0;
        while (!stopped() && a.next(f)) {
            switch (f.number) {
                case 5:
                case 10:
                    if (expect(f, WireType::Len, "AttributeProto tensor", stream))
                        tensor(a.sub(f), f, stream);
                    break;
                case 22:
                case 23:
                    if (expect(f, WireType::Len, "AttributeProto sparse tensor", stream))
                        sparse_tensor(a.sub(f), stream);
                    break;
                case 6:
                    if (expect(f, WireType::Len, "AttributeProto.g", stream))
                        graph(a.sub(f), child_stream(stream, where));
                    break;
                case 11:
                    if (expect(f, WireType::Len, "AttributeProto.graphs", stream))
                        graph(a.sub(f), child_stream(stream, where + " graph " +
                                                                 std::to_string(graph_index++)));
                    break;
                default:
                    break;
            }
        }
        check(a, where, stream);
    }

    /// Python-running operators, then domains outside the standard ones.
    void classify(const NodeHeader& n, const std::string& stream, std::int64_t index,
                  std::int64_t offset) {
        const std::string_view domain = canonical_domain(n.domain);
        std::string callable;
        std::string detail;
        bool python = false;
        if ((n.op_type == "PythonOp" || n.op_type == "PythonOpGrad") && domain == "com.microsoft") {
            // ONNX Runtime training (ORTModule): a torch.autograd.Function run through Python;
            // func_name (older releases: name) names it.
            python = true;
            const std::string_view f = !n.func_name.empty() ? n.func_name : n.name_attr;
            callable = callable_name(f);
            detail = "runs the Python torch.autograd.Function '" + printable(f) +
                     "' through ONNX Runtime training's Python bridge";
        } else if (n.op_type == "PyOp" && !standard_domain(domain)) {
            // ONNX Runtime's language-interop PyOp: imports `module`, instantiates
            // `class_name` with the other attributes and calls its `compute` method.
            python = true;
            if (!n.module.empty() || !n.class_name.empty())
                callable = callable_name(n.module) + "." + callable_name(n.class_name);
            detail = "imports Python module '" + printable(n.module) + "' and calls '" +
                     printable(n.class_name) + "." +
                     printable(n.compute.empty() ? std::string_view("compute") : n.compute) +
                     "' (ONNX Runtime PyOp)";
        }
        if (python) {
            report(kPythonOp, node_label(n) + " " + detail, stream, offset);
            if (!callable.empty() && callable != ".") {
                Operation op;
                op.kind = OpKind::Call;
                op.name = callable;
                op.evidence = node_label(n) + " in " + stream + " " + detail;
                op.location = context_.base();
                op.location.stream = stream;
                op.location.offset = offset;
                op.location.index = index;
                context_.emit(std::move(op));
            }
            return;
        }
        if (standard_domain(domain)) return;
        if (functions_.count(function_key(domain, n.op_type, n.overload))) return;
        auto it = domains_.find(domain);
        if (it == domains_.end()) {
            if (domains_.size() >= limits::kOnnxMaxDomains) {
                if (!domains_reported_) {
                    domains_reported_ = true;
                    limit("more than " + std::to_string(limits::kOnnxMaxDomains) +
                          " operator domains in one ONNX model; the rest were not listed");
                }
                return;
            }
            DomainUse use;
            use.contrib = contrib_domain(domain);
            use.first_stream = stream;
            use.first_offset = offset;
            it = domains_.emplace(std::string(domain.substr(0, limits::kOnnxMaxKeptString)), use)
                     .first;
        }
        ++it->second.nodes;
        if (it->second.ops.size() < kKeptOpsPerDomain) it->second.ops.insert(printable(n.op_type));
    }

    // --- tensors -------------------------------------------------------------------------------

    void sparse_tensor(Message m, const std::string& stream) {
        Field f;
        while (m.next(f)) {
            if ((f.number == 1 || f.number == 2) &&
                expect(f, WireType::Len, "SparseTensorProto values/indices", stream))
                tensor(m.sub(f), f, stream);
        }
        check(m, "a sparse tensor", stream);
    }

    /// Reads a packed or unpacked element of repeated field `kind`.
    void typed(TensorRecord& t, TypedField kind, const Field& f, const std::string& stream) {
        t.typed_present[kind] = true;
        const bool fixed32 = kind == kFloat, fixed64 = kind == kDouble;
        if (f.type == WireType::Len) {
            if (kind == kString) {
                ++t.typed[kind];
            } else if (fixed32 || fixed64) {
                const std::size_t width = fixed32 ? 4 : 8;
                t.typed[kind] += f.bytes.size() / width;
                if (f.bytes.size() % width != 0 && !f.truncated)
                    report(kMalformed,
                           "a packed " + std::string(fixed32 ? "float" : "double") +
                               " field of tensor '" + printable(t.name) +
                               "' is not a whole number of values",
                           stream, static_cast<std::int64_t>(f.offset));
            } else if (!count_varints(f.bytes, t.typed[kind]) && !f.truncated) {
                report(kMalformed,
                       "a packed integer field of tensor '" + printable(t.name) +
                           "' ends inside a varint",
                       stream, static_cast<std::int64_t>(f.offset));
            }
            return;
        }
        const WireType want = fixed32           ? WireType::Fixed32
                              : fixed64         ? WireType::Fixed64
                              : kind == kString ? WireType::Len
                                                : WireType::Varint;
        if (expect(f, want, "a TensorProto data field", stream)) ++t.typed[kind];
    }

    void external_entry(Message e, TensorRecord& t) {
        std::string_view key, value;
        Field f;
        while (e.next(f)) {
            if (f.type != WireType::Len) continue;
            if (f.number == 1) key = f.text();
            if (f.number == 2) value = f.text();
        }
        if (key == "location") {
            t.location = value;
        } else if (key == "offset") {
            t.offset = value;
        } else if (key == "length") {
            t.length = value;
        } else if (key != "checksum" && t.unknown_keys.size() < 4) {
            t.unknown_keys.push_back(key);
        }
    }

    /// The declared length of a Len field that runs past the end of the file.
    std::uint64_t declared_length(const Field& f) const {
        if (f.offset >= file_.size()) return 0;
        auto rest = file_.subspan(static_cast<std::size_t>(f.offset));
        std::uint64_t tag = 0, len = 0;
        protobuf::Error err = protobuf::Error::None;
        const std::size_t n = protobuf::read_varint(rest, tag, err);
        if (n == 0) return 0;
        if (protobuf::read_varint(rest.subspan(n), len, err) == 0) return 0;
        return len;
    }

    void tensor(Message m, const Field& holder, const std::string& stream) {
        if (!take_tensor()) return;
        TensorRecord t;
        t.at = static_cast<std::int64_t>(holder.offset);
        Field f;
        while (m.next(f)) {
            switch (f.number) {
                case 1:
                    if (f.type == WireType::Varint) {
                        t.add_dim(protobuf::as_int64(f));
                    } else if (f.type == WireType::Len) {  // packed dims
                        std::size_t pos = 0;
                        while (pos < f.bytes.size()) {
                            std::uint64_t v = 0;
                            protobuf::Error err = protobuf::Error::None;
                            const std::size_t used =
                                protobuf::read_varint(f.bytes.subspan(pos), v, err);
                            if (used == 0) break;
                            t.add_dim(static_cast<std::int64_t>(v));
                            pos += used;
                        }
                    } else {
                        expect(f, WireType::Varint, "TensorProto.dims", stream);
                    }
                    break;
                case 2:
                    if (expect(f, WireType::Varint, "TensorProto.data_type", stream))
                        t.data_type = f.value;
                    break;
                case 3:
                    t.segment = true;
                    break;
                case 4:
                    typed(t, kFloat, f, stream);
                    break;
                case 5:
                    typed(t, kInt32, f, stream);
                    break;
                case 6:
                    typed(t, kString, f, stream);
                    break;
                case 7:
                    typed(t, kInt64, f, stream);
                    break;
                case 10:
                    typed(t, kDouble, f, stream);
                    break;
                case 11:
                    typed(t, kUint64, f, stream);
                    break;
                case 8:
                    if (expect(f, WireType::Len, "TensorProto.name", stream)) t.name = f.text();
                    break;
                case 9:
                    if (expect(f, WireType::Len, "TensorProto.raw_data", stream)) {
                        t.raw = true;
                        t.raw_bytes = f.bytes.size();
                        t.raw_truncated = f.truncated;
                        if (f.truncated) t.raw_declared = declared_length(f);
                    }
                    break;
                case 13:
                    if (expect(f, WireType::Len, "TensorProto.external_data", stream))
                        external_entry(m.sub(f), t);
                    break;
                case 14:
                    if (expect(f, WireType::Varint, "TensorProto.data_location", stream))
                        t.external = f.value == 1;
                    break;
                default:
                    break;
            }
        }
        check(m, "tensor '" + printable(t.name) + "'", stream);
        judge(t, stream);
    }

    /// The bytes the tensor's dims and type call for, or nullopt when they cannot be known.
    static std::optional<std::uint64_t> expected_bytes(const TensorRecord& t) {
        const unsigned bits = element_bits(t.data_type);
        if (bits == 0 || t.negative_dim || t.overflow || t.segment) return std::nullopt;
        return bytes_for(t.count(), bits);
    }

    void judge(const TensorRecord& t, const std::string& stream) {
        if (t.negative_dim) {
            report(kTensorSize, t.describe() + " has a negative dimension", stream, t.at);
            return;
        }
        const unsigned bits = element_bits(t.data_type);
        if (t.overflow || (bits != 0 && !bytes_for(t.count(), bits))) {
            report(kTensorSize, t.describe() + ": the element count or byte size overflows 64 bits",
                   stream, t.at);
            return;
        }
        if (t.segment) return;  // a chunk of a larger tensor: its dims describe the whole
        const auto expected = expected_bytes(t);
        if (t.external) {
            external(t, expected, stream);
            return;
        }
        if (t.raw) {
            if (t.raw_truncated) {
                report(kTensorSize,
                       t.describe() + ": raw_data declares " + std::to_string(t.raw_declared) +
                           " bytes but the file ends after " + std::to_string(t.raw_bytes),
                       stream, t.at);
            } else if (expected && *expected != t.raw_bytes) {
                report(kTensorSize,
                       t.describe() + " needs " + std::to_string(*expected) +
                           " bytes but raw_data holds " + std::to_string(t.raw_bytes),
                       stream, t.at);
            }
            return;
        }
        judge_typed(t, stream);
    }

    /// Data in the typed repeated fields: the field the type uses must hold one value per
    /// element (two for complex types).
    void judge_typed(const TensorRecord& t, const std::string& stream) {
        TypedField field = kTypedCount;
        std::uint64_t per_element = 1;
        switch (t.data_type) {
            case 1:
                field = kFloat;
                break;
            case 14:
                field = kFloat;
                per_element = 2;
                break;
            case 11:
                field = kDouble;
                break;
            case 15:
                field = kDouble;
                per_element = 2;
                break;
            case 2:
            case 3:
            case 4:
            case 5:
            case 6:
            case 9:
            case 10:
            case 16:
            case 17:
            case 18:
            case 19:
            case 20:
                field = kInt32;
                break;
            case 7:
                field = kInt64;
                break;
            case 12:
            case 13:
                field = kUint64;
                break;
            case 8:
                field = kString;
                break;
            default:
                return;  // sub-byte and unknown types: packing rules vary
        }
        if (!t.typed_present[field]) return;  // no data at all: not a size question
        const std::uint64_t count = t.count();
        if (count > UINT64_MAX / per_element) return;
        const std::uint64_t want = count * per_element;
        if (t.typed[field] != want)
            report(kTensorSize,
                   t.describe() + " needs " + std::to_string(want) + " values but holds " +
                       std::to_string(t.typed[field]),
                   stream, t.at);
    }

    std::optional<std::uint64_t> external_size(std::string_view location) {
        const std::string key(location);
        const auto it = external_sizes_.find(key);
        if (it != external_sizes_.end()) return it->second;
        const auto size = context_.neighbours()->file_size(location);
        if (external_sizes_.size() < limits::kOnnxMaxExternalFiles)
            external_sizes_.emplace(key, size);
        return size;
    }

    void external(const TensorRecord& t, std::optional<std::uint64_t> expected,
                  const std::string& stream) {
        const std::string who = t.describe();
        for (const auto key : t.unknown_keys)
            report(kInvalidExternal,
                   who + ": external_data key '" + printable(key) +
                       "' is none of location, offset, length, checksum (onnx before 1.21 sets "
                       "any key as an attribute of its ExternalDataInfo object)",
                   stream, t.at);
        if (!t.location || t.location->empty()) {
            report(kInvalidExternal,
                   who + " is stored EXTERNAL but names no location: the loader refuses it", stream,
                   t.at);
            return;
        }
        const std::string_view location = *t.location;
        const std::string why = unsafe_location(location);
        if (!why.empty()) {
            if (unsafe_reported_.size() < limits::kOnnxMaxExternalFiles &&
                unsafe_reported_.insert(std::string(location)).second)
                report(kUnsafePath,
                       who + " reads its data from '" + printable(location) + "', " + why +
                           ": a loader that follows it reads a file outside the model",
                       stream, t.at);
            return;
        }
        std::optional<std::uint64_t> offset = 0, length;
        if (t.offset) {
            offset = parse_decimal(*t.offset);
            if (!offset) {
                report(kInvalidExternal,
                       who + ": external_data offset '" + printable(*t.offset) +
                           "' is not a non-negative decimal integer",
                       stream, t.at);
                return;
            }
        }
        if (t.length) {
            length = parse_decimal(*t.length);
            if (!length) {
                report(kInvalidExternal,
                       who + ": external_data length '" + printable(*t.length) +
                           "' is not a non-negative decimal integer",
                       stream, t.at);
                return;
            }
            if (expected && *length != *expected)
                report(kTensorSize,
                       who + " needs " + std::to_string(*expected) +
                           " bytes but its external_data length is " + std::to_string(*length),
                       stream, t.at);
        }
        if (!context_.neighbours()) {
            ++unchecked_;
            if (unchecked_locations_.size() < kKeptLocations)
                unchecked_locations_.insert(printable(location));
            return;
        }
        if (const std::string real = context_.neighbours()->outside_target(location);
            !real.empty()) {
            if (unsafe_reported_.size() < limits::kOnnxMaxExternalFiles &&
                unsafe_reported_.insert(std::string(location)).second)
                report(kUnsafePath,
                       who + " reads its data from '" + printable(location) +
                           "', a symbolic link to " + printable(real) +
                           ", outside the model's folder: a loader that follows it reads a file "
                           "outside the model",
                       stream, t.at);
            return;
        }
        const auto size = external_size(location);
        if (!size) {
            if (missing_reported_.size() < limits::kOnnxMaxExternalFiles &&
                missing_reported_.insert(std::string(location)).second)
                report(kMissing,
                       who + " reads its data from '" + printable(location) +
                           "', which is not in " + context_.neighbours()->describe(),
                       stream, t.at);
            return;
        }
        const std::string file =
            "'" + printable(location) + "' (" + std::to_string(*size) + " bytes)";
        if (*offset > *size) {
            report(kInvalidExternal,
                   who + ": external_data offset " + std::to_string(*offset) +
                       " is past the end of " + file,
                   stream, t.at);
            return;
        }
        const std::uint64_t available = *size - *offset;
        if (length && *length > available) {
            report(kInvalidExternal,
                   who + ": external_data offset " + std::to_string(*offset) + " + length " +
                       std::to_string(*length) + " runs past the end of " + file,
                   stream, t.at);
            return;
        }
        if (!length && expected && available < *expected)
            report(kTensorSize,
                   who + " needs " + std::to_string(*expected) + " bytes but " + file +
                       " holds only " + std::to_string(available) + " after offset " +
                       std::to_string(*offset),
                   stream, t.at);
    }

    // --- after the walk --------------------------------------------------------------------

    void finish() {
        for (const auto& [domain, use] : domains_) {
            std::string e = "operator domain '" + printable(domain) +
                            "': " + std::to_string(use.nodes) +
                            (use.nodes == 1 ? " node" : " nodes") + ", ops ";
            bool first = true;
            for (const auto& op : use.ops) {
                if (!first) e += ", ";
                e += op;
                first = false;
            }
            if (use.nodes > use.ops.size() && use.ops.size() >= kKeptOpsPerDomain) e += ", ...";
            const auto opset = opsets_.find(domain);
            if (opset == opsets_.end()) {
                e += "; not declared in opset_import";
            } else {
                e += "; opset_import version " + std::to_string(opset->second);
            }
            e += "; first in " + use.first_stream;
            if (use.contrib) {
                if (domain == "ai.onnx.contrib")
                    e += ". onnxruntime-extensions runs these: its compiled ops, or Python "
                         "functions the loading program registered with @onnx_op";
                else
                    e += ". The runtime's own contrib operators, not standard ONNX";
                report(kContribDomain, e, use.first_stream, use.first_offset);
            } else {
                e += ". The model only runs with a custom-op library (native code) registered "
                     "for this domain";
                report(kCustomDomain, e, use.first_stream, use.first_offset);
            }
        }
        if (unchecked_ > 0) {
            std::string e = std::to_string(unchecked_) +
                            (unchecked_ == 1 ? " tensor reads" : " tensors read") +
                            " data from files beside the model (";
            bool first = true;
            for (const auto& l : unchecked_locations_) {
                if (!first) e += ", ";
                e += "'" + l + "'";
                first = false;
            }
            e += "); the model's folder is not known here (an archive member or standard "
                 "input), so whether they exist and hold the data was NOT checked";
            report(kUnchecked, e, "", -1);
        }
    }

    std::span<const std::uint8_t> file_;
    const ParseContext& context_;
    std::map<std::string, int> reported_;
    bool truncation_reported_ = false;
    std::uint64_t nodes_ = 0, tensors_ = 0, graphs_ = 0;
    bool nodes_reported_ = false, tensors_reported_ = false, graphs_reported_ = false;
    bool domains_reported_ = false;
    std::map<std::string, std::int64_t> opsets_;
    std::set<std::string> functions_;
    std::map<std::string, DomainUse, std::less<>> domains_;
    std::map<std::string, std::optional<std::uint64_t>> external_sizes_;
    std::set<std::string> unsafe_reported_, missing_reported_;
    std::uint64_t unchecked_ = 0;
    std::set<std::string> unchecked_locations_;
};

// ---------------------------------------------------------------------------------------------
// Detection

/// Walks the fields of a message prefix; `on_field(number, wire, value, payload, declared)`
/// judges each. A Len field longer than the prefix ends the walk (the rest is not at hand);
/// one longer than the object itself sets `cut_short`. Fixed-size fields and groups are
/// refused: no message detection looks at has them. False when a field is refused or the
/// bytes are not protobuf.
template <typename OnField>
bool walk_fields(std::span<const std::uint8_t> head, std::uint64_t object_size, OnField&& on_field,
                 bool& cut_short) {
    std::size_t pos = 0;
    while (pos < head.size()) {
        std::uint64_t tag = 0;
        protobuf::Error err = protobuf::Error::None;
        const std::size_t n = protobuf::read_varint(head.subspan(pos), tag, err);
        if (n == 0) return err == protobuf::Error::Truncated && head.size() < object_size;
        if (n > 5 || tag > 0xffffffffu || (tag >> 3) == 0) return false;
        const auto wire = static_cast<std::uint8_t>(tag & 7);
        const auto number = static_cast<std::uint32_t>(tag >> 3);
        if (wire != 0 && wire != 2) return false;
        pos += n;
        std::uint64_t value = 0;
        const std::size_t m = protobuf::read_varint(head.subspan(pos), value, err);
        if (m == 0) return err == protobuf::Error::Truncated && head.size() < object_size;
        pos += m;
        std::span<const std::uint8_t> payload;
        bool partial = false;
        if (wire == 2) {
            if (pos > object_size || value > object_size - pos) cut_short = true;
            if (value > head.size() - pos) {
                payload = head.subspan(pos);
                partial = true;
            } else {
                payload = head.subspan(pos, static_cast<std::size_t>(value));
            }
        }
        if (!on_field(number, wire, value, payload)) return false;
        if (partial) return true;
        pos += payload.size();
    }
    return true;
}

/// Text as ONNX writes it in names and doc strings: no control bytes but tab and newlines.
bool plausible_text(std::span<const std::uint8_t> bytes) {
    return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) {
        return b >= 0x20 || b == '\t' || b == '\n' || b == '\r';
    });
}

bool plausible_node(std::span<const std::uint8_t> bytes, std::uint64_t size) {
    bool cut = false;
    return walk_fields(
        bytes, size,
        [](std::uint32_t number, std::uint8_t wire, std::uint64_t,
           std::span<const std::uint8_t> payload) {
            if (number < 1 || number > 10 || wire != 2) return false;
            return number == 5 || number == 9 || number == 10 || plausible_text(payload);
        },
        cut);
}

bool plausible_graph(std::span<const std::uint8_t> bytes, std::uint64_t size) {
    static constexpr std::array<std::uint32_t, 10> kFields = {1, 2, 5, 10, 11, 12, 13, 14, 15, 16};
    int fields = 0;
    bool cut = false;
    const bool ok = walk_fields(
        bytes, size,
        [&](std::uint32_t number, std::uint8_t wire, std::uint64_t declared,
            std::span<const std::uint8_t> payload) {
            if (wire != 2 || std::find(kFields.begin(), kFields.end(), number) == kFields.end())
                return false;
            if (number == 1 && fields++ < 4) return plausible_node(payload, declared);
            if (number == 2 || number == 10) return plausible_text(payload);
            ++fields;
            return true;
        },
        cut);
    return ok;
}

bool plausible_opset(std::span<const std::uint8_t> bytes, std::uint64_t size) {
    bool cut = false, version = false;
    const bool ok = walk_fields(
        bytes, size,
        [&](std::uint32_t number, std::uint8_t wire, std::uint64_t,
            std::span<const std::uint8_t> payload) {
            if (number == 1 && wire == 2) return plausible_text(payload);
            if (number == 2 && wire == 0) {
                version = true;
                return true;
            }
            return false;
        },
        cut);
    return ok && version && !cut;
}

}  // namespace

bool looks_like_onnx(std::span<const std::uint8_t> head, std::uint64_t total_size,
                     std::string_view extension) {
    if (head.empty() || head[0] != 0x08) {
        // ir_version first is what every ONNX writer does; other orders need the extension.
        if (extension != ".onnx") return false;
    }
    bool ir_version = false, ir_first = false, structure = false, cut_short = false;
    bool first = true;
    int accepted = 0;
    const bool ok = walk_fields(
        head, total_size,
        [&](std::uint32_t number, std::uint8_t wire, std::uint64_t value,
            std::span<const std::uint8_t> payload) {
            const bool was_first = first;
            first = false;
            ++accepted;
            switch (number) {
                case 1:
                    if (wire != 0 || value == 0 || value > 100) return false;
                    ir_version = true;
                    ir_first = was_first;
                    return true;
                case 5:
                    return wire == 0;
                case 2:
                case 3:
                case 4:
                case 6:
                    return wire == 2 && plausible_text(payload);
                case 7:
                    if (wire != 2 || !plausible_graph(payload, value)) return false;
                    structure = true;
                    return true;
                case 8:
                    if (wire != 2 || !plausible_opset(payload, value)) return false;
                    structure = true;
                    return true;
                case 14:
                case 20:
                case 25:
                case 26:
                    return wire == 2;
                default:
                    return false;
            }
        },
        cut_short);
    // A broken model named .onnx that starts the way ONNX writers start (ir_version, then
    // another ModelProto field) is read, so that its problems are reported.
    if (!ok) return extension == ".onnx" && ir_first && accepted >= 3;
    // A field longer than the file (cut short) only after the leading ir_version.
    if (cut_short && !ir_first) return false;
    if (ir_version && structure) return true;
    return extension == ".onnx" && (ir_version || structure);
}

bool detect(Source& source, std::string_view extension) {
    return looks_like_onnx(source.view(0, kDetectBytes), source.size(), extension);
}

void parse(Source& source, const ParseContext& context) {
    const std::uint64_t size = source.size();
    const auto bytes = size > SIZE_MAX ? std::span<const std::uint8_t>()
                                       : source.view(0, static_cast<std::size_t>(size));
    if (size > SIZE_MAX || bytes.size() < size) {
        context.anomaly(kLimitExceeded,
                        "the ONNX model of " + std::to_string(size) +
                            " bytes could not be read in one piece (inside a compressed container "
                            "or too large to fetch); its graph was NOT checked");
        return;
    }
    Walker(bytes, context).run();
}

}  // namespace mscan::onnx
