// Which checkpoint ops of a SavedModel are its own saver's, decided on the graph's edges.
//
// Every SavedModel holds checkpoint ops (SaveV2, RestoreV2, MergeV2Checkpoints, ...): the loader
// runs the SaverDef's restore op with the SaverDef's filename tensor fed with the model's
// variables/ path. The same ops anywhere else read or write any file the graph names. A
// checkpoint op is the saver's (reported as tensorflow.saver_ops.<Op>, which passes) only when
// ALL of these hold; otherwise it keeps its tensorflow.raw_ops name (tf-file-access):
//
//  1. Reachable: it is reachable backwards, along data and control inputs, from the node of the
//     SaverDef's save_tensor_name or restore_op_name (in a saver function: from the function's
//     ret and control_ret values). An extra op that nothing of the saver runs is not exempt.
//  2. Its file comes from the loader: every file input (input 0, the filename or prefix, of
//     Save, SaveSlices, SaveV2, Restore, RestoreSlice, RestoreV2; inputs 0 and 1 of
//     MergeV2Checkpoints, whose checkpoint_prefixes it also deletes) traces back along data
//     inputs to the SaverDef's filename tensor (in a saver function: the argument the SaverDef's
//     node passes that tensor in) through nothing but what TensorFlow's savers build:
//     Identity, ShardedFilename (its basename input), Pack (all inputs) and StringJoin whose
//     first input traces and whose other inputs are suffix constants (a string Const, or a Select
//     between two string Consts, as TF2's "_temp/part" / ".part" choice). No string on that path
//     (suffix constants, StringJoin's separator) may contain "..". So an extra Save made a
//     control dependency of save/restore_all, which IS reachable, still fails when its filename
//     is a Const "/etc/cron.d/x".
//  3. The filename tensor's own default is harmless: the loader feeds it, but a fetch that
//     does not (a serving signature) sees its default. Following PlaceholderWithDefault and
//     Identity from the filename tensor's node must end at a Placeholder (TF2's saver_filename)
//     or a string Const that is a plain relative name (TF1's "model": no '/', '\\', ':' or
//     ".."); otherwise (another op, a missing node, a chain past 16) nothing of that saver is
//     exempt.
//  4. The node's name is not used twice in its graph (TensorFlow refuses such graphs; the
//     exemption is by name, so neither copy is exempt).
//
// TF2 savers: the SaverDef names graph nodes (StatefulPartitionedCall_1/_2) that call the
// functions __inference__traced_save_NN / __inference__traced_restore_NN through attributes.
// Such a function is a saver function only if the nodes the SaverDef names are the ONLY callers:
// a reference from any other node of the graph or of any function (an attribute naming it, or
// a node whose op is the function's name), a second definition under the same name, or a node
// whose function list was cut at the evidence cap drops it. Inside it, the anchor of rule 2 is
// the function argument at the position where the SaverDef's node passes the filename tensor.
// Functions those functions call in turn are not followed: their checkpoint ops stay raw.
//
// Everything is bounded: nodes and inputs indexed per file (limits::kSavedModelMaxIndexedNodes,
// kSavedModelMaxIndexedInputs; past them the index is incomplete and nothing is exempt, so the
// checkpoint ops are reported as raw ops), the filename trace per op
// (limits::kSavedModelMaxFilenameTrace steps). Walks are iterative; each node is visited once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "mscan/limits.h"

namespace mscan::savedmodel {

/// "node:1", "^node", "node:output:0" -> "node".
inline std::string_view node_of(std::string_view input) {
    if (!input.empty() && input.front() == '^') input.remove_prefix(1);
    const auto colon = input.find(':');
    return colon == std::string_view::npos ? input : input.substr(0, colon);
}

/// The ops that read or write checkpoints: what a saver runs.
inline bool is_checkpoint_op(std::string_view op) {
    for (const std::string_view c : {"MergeV2Checkpoints", "Restore", "RestoreSlice", "RestoreV2",
                                     "Save", "SaveSlices", "SaveV2"}) {
        if (op == c) return true;
    }
    return false;
}

/// What the saver check keeps of one node.
struct IndexedNode {
    std::string op;
    std::vector<std::string> inputs;          ///< every input as written, data inputs first
    std::vector<std::string> funcs;           ///< functions its attributes name
    std::optional<std::string> string_const;  ///< a Const's first string value
    bool multi_string = false;                ///< a Const with more than one string value
    bool dotdot = false;                      ///< a string attribute or constant value holds ".."
    bool duplicate = false;                   ///< the name is used twice in the graph
    bool incomplete = false;                  ///< inputs or functions cut at a cap
};

/// Per file: what the indexes may hold together.
struct IndexBudget {
    std::uint64_t nodes = 0;
    std::uint64_t inputs = 0;
};

/// The nodes of one graph or one function body by name.
class NodeIndex {
  public:
    /// Adds a node; past the budget the index is marked incomplete (and exempts nothing).
    void add(std::string name, IndexedNode node, IndexBudget& budget) {
        if (!complete_) return;
        if (node.incomplete || budget.nodes >= limits::kSavedModelMaxIndexedNodes ||
            node.inputs.size() > limits::kSavedModelMaxIndexedInputs - budget.inputs) {
            complete_ = false;
            nodes_.clear();
            return;
        }
        ++budget.nodes;
        budget.inputs += node.inputs.size();
        auto [it, fresh] = nodes_.try_emplace(std::move(name));
        if (fresh) {
            it->second = std::move(node);
        } else {
            it->second.duplicate = true;
        }
    }
    const IndexedNode* find(std::string_view name) const {
        const auto it = nodes_.find(std::string(name));
        return it == nodes_.end() ? nullptr : &it->second;
    }
    bool complete() const { return complete_; }
    const std::unordered_map<std::string, IndexedNode>& nodes() const { return nodes_; }

  private:
    std::unordered_map<std::string, IndexedNode> nodes_;
    bool complete_ = true;
};

/// The tensor a saver's files must come from: a graph tensor ("save/Const:0") or, in a function
/// body, an argument name ("file_prefix").
struct Anchor {
    std::string tensor;
    bool argument = false;

    /// Whether a (data) input names the anchor: "save/Const" and "save/Const:0" are one tensor.
    bool matches(std::string_view input) const {
        if (input.empty() || input.front() == '^') return false;
        if (argument) return input == tensor;
        return canonical(input) == canonical(tensor);
    }
    static std::string canonical(std::string_view t) {
        std::string s(t);
        if (s.find(':') == std::string::npos) s += ":0";
        return s;
    }
};

namespace saver_detail {

inline std::vector<std::string_view> data_inputs(const IndexedNode& node) {
    std::vector<std::string_view> out;
    for (const auto& in : node.inputs) {
        if (!in.empty() && in.front() == '^') break;  // control inputs come last
        out.push_back(in);
    }
    return out;
}

/// A suffix TensorFlow's savers append: a string Const without "..", or a Select between two.
inline bool safe_suffix(const NodeIndex& index, std::string_view input) {
    auto is_const = [&index](std::string_view in) {
        if (in.empty() || in.front() == '^') return false;
        const IndexedNode* n = index.find(node_of(in));
        return n && !n->duplicate && n->op == "Const" && n->string_const && !n->dotdot;
    };
    if (is_const(input)) return true;
    const IndexedNode* n = index.find(node_of(input));
    if (!n || n->duplicate || n->op != "Select") return false;
    const auto data = data_inputs(*n);
    return data.size() == 3 && is_const(data[1]) && is_const(data[2]);
}

/// Whether `input` (a file input of a checkpoint op) comes from the anchor (rule 2).
inline bool traces_to_anchor(const NodeIndex& index, const Anchor& anchor, std::string_view input) {
    std::vector<std::string_view> stack{input};
    std::size_t steps = 0;
    while (!stack.empty()) {
        if (++steps > limits::kSavedModelMaxFilenameTrace) return false;
        const std::string_view t = stack.back();
        stack.pop_back();
        if (anchor.matches(t)) continue;
        if (t.empty() || t.front() == '^') return false;
        const IndexedNode* n = index.find(node_of(t));
        if (!n || n->duplicate) return false;
        const auto data = data_inputs(*n);
        if (n->op == "Identity" && data.size() == 1) {
            stack.push_back(data[0]);
        } else if (n->op == "ShardedFilename" && data.size() == 3) {
            stack.push_back(data[0]);
        } else if (n->op == "StringJoin" && !data.empty() && !n->dotdot) {
            for (std::size_t i = 1; i < data.size(); ++i) {
                if (!safe_suffix(index, data[i])) return false;
            }
            stack.push_back(data[0]);
        } else if (n->op == "Pack" && !data.empty()) {
            stack.insert(stack.end(), data.begin(), data.end());
        } else {
            return false;
        }
    }
    return true;
}

/// Every node reachable backwards from `roots` along data and control inputs.
inline std::unordered_set<std::string_view> reachable(const NodeIndex& index,
                                                      const std::vector<std::string>& roots) {
    std::unordered_set<std::string_view> seen;
    std::vector<std::string_view> stack;
    for (const auto& r : roots) {
        const auto it = index.nodes().find(std::string(node_of(r)));
        if (it != index.nodes().end() && seen.insert(it->first).second) stack.push_back(it->first);
    }
    while (!stack.empty()) {  // each node once: at most the indexed nodes and inputs
        const IndexedNode& n = index.nodes().find(std::string(stack.back()))->second;
        stack.pop_back();
        for (const auto& in : n.inputs) {
            const auto it = index.nodes().find(std::string(node_of(in)));
            if (it != index.nodes().end() && seen.insert(it->first).second)
                stack.push_back(it->first);
        }
    }
    return seen;
}

}  // namespace saver_detail

/// Rule 3: the filename tensor's default (what a fetch that does not feed it sees) is harmless.
inline bool anchor_default_is_safe(const NodeIndex& index, std::string_view anchor_tensor) {
    std::string name(node_of(anchor_tensor));
    for (int step = 0; step < 16; ++step) {
        const IndexedNode* n = index.find(name);
        if (!n) return false;  // not indexed (or named past the kept length): not known safe
        if (n->duplicate) return false;
        if (n->op == "Placeholder") return true;
        if (n->op == "Const") {
            if (!n->string_const || n->multi_string || n->dotdot) return false;
            return n->string_const->find_first_of("/\\:") == std::string::npos;
        }
        const auto data = saver_detail::data_inputs(*n);
        if ((n->op != "PlaceholderWithDefault" && n->op != "Identity") || data.size() != 1)
            return false;
        name = std::string(node_of(data[0]));
    }
    return false;
}

/// Rules 1, 2 and 4 over one graph or function body: the names of its exempt checkpoint ops.
inline std::set<std::string> exempt_checkpoint_ops(const NodeIndex& index,
                                                   const std::vector<std::string>& roots,
                                                   const Anchor& anchor) {
    std::set<std::string> out;
    if (!index.complete()) return out;
    const auto seen = saver_detail::reachable(index, roots);
    for (const auto& [name, node] : index.nodes()) {
        if (!is_checkpoint_op(node.op) || node.duplicate || seen.count(name) == 0) continue;
        const auto data = saver_detail::data_inputs(node);
        const std::size_t files = node.op == "MergeV2Checkpoints" ? 2 : 1;
        if (data.size() < files) continue;
        bool ok = true;
        for (std::size_t i = 0; i < files && ok; ++i)
            ok = saver_detail::traces_to_anchor(index, anchor, data[i]);
        if (ok) out.insert(name);
    }
    return out;
}

/// One function the SaverDef's nodes call (TF2).
struct SaverFunction {
    std::optional<std::size_t> argument;  ///< where the SaverDef's node passes the filename
    bool dropped = false;  ///< called from elsewhere, defined twice, or no filename argument
    bool defined = false;
    std::set<std::string> exempt;
};

/// The model's own saver in one meta graph: the SaverDef's names, then the graph's index, then
/// (TF2) its functions' bodies; the readers feed it in passes before they report any node.
class SaverInfo {
  public:
    void set_tensor(int field, std::string_view tensor) {
        std::string t(tensor.substr(0, limits::kSavedModelMaxKeptString));
        if (field == 1)
            filename_ = std::move(t);
        else if (field == 2)
            save_ = std::move(t);
        else if (field == 3)
            restore_ = std::move(t);
    }
    bool present() const { return !filename_.empty() && (!save_.empty() || !restore_.empty()); }

    /// Pass over the graph's nodes.
    void add_graph_node(std::string name, IndexedNode node, IndexBudget& budget) {
        if (present()) graph_.add(std::move(name), std::move(node), budget);
    }
    /// After the graph pass: the graph's exempt ops and the candidate saver functions.
    void finish_graph() {
        if (!present() || !graph_.complete()) {
            graph_ = NodeIndex{};
            return;
        }
        const Anchor anchor{filename_, false};
        const bool safe_default = anchor_default_is_safe(graph_, filename_);
        std::vector<std::string> roots;
        for (const auto* t : {&save_, &restore_}) {
            if (!t->empty()) roots.emplace_back(node_of(*t));
        }
        if (safe_default) graph_exempt_ = exempt_checkpoint_ops(graph_, roots, anchor);
        std::set<std::string> root_set(roots.begin(), roots.end());
        for (const auto& r : root_set) {
            const IndexedNode* n = graph_.find(r);
            if (!safe_default || !n || n->duplicate) continue;
            const auto data = saver_detail::data_inputs(*n);
            std::optional<std::size_t> position;
            for (std::size_t i = 0; i < data.size() && !position; ++i) {
                if (anchor.matches(data[i])) position = i;
            }
            for (const auto& f : n->funcs) {
                auto& fn = functions_[f];
                if (!position || (fn.argument && *fn.argument != *position)) fn.dropped = true;
                if (position) fn.argument = position;
            }
            if (n->incomplete) drop_all_ = true;
        }
        for (const auto& [name, node] : graph_.nodes()) {
            if (root_set.count(name) == 0) note_references(node);
        }
        graph_ = NodeIndex{};
    }

    /// Whether the library pass should index this function's body.
    bool wants_function(std::string_view name) const {
        const auto it = functions_.find(std::string(name));
        return it != functions_.end() && !it->second.dropped && !drop_all_;
    }
    /// A node of any function (or a graph node other than the SaverDef's) names functions: a
    /// saver function it names is not the saver's alone.
    void note_references(const IndexedNode& node) {
        if (node.incomplete) drop_all_ = true;
        for (const auto& f : node.funcs) {
            const auto it = functions_.find(f);
            if (it != functions_.end()) it->second.dropped = true;
        }
        const auto it = functions_.find(node.op);
        if (it != functions_.end()) it->second.dropped = true;
    }
    /// One library function with its argument names, its ret/control_ret values and its body.
    void add_function(const std::string& name, const std::vector<std::string>& args,
                      const std::vector<std::string>& rets, const NodeIndex& body) {
        const auto it = functions_.find(name);
        if (it == functions_.end()) return;
        SaverFunction& fn = it->second;
        if (fn.defined) fn.dropped = true;  // two definitions: which one runs is not ours to say
        fn.defined = true;
        if (fn.dropped || !fn.argument || *fn.argument >= args.size()) {
            fn.dropped = true;
            return;
        }
        fn.exempt = exempt_checkpoint_ops(body, rets, Anchor{args[*fn.argument], true});
    }

    bool graph_exempts(std::string_view node) const {
        return graph_exempt_.count(std::string(node)) > 0;
    }
    /// The exempt ops of a saver function, or nullptr (after every pass).
    const std::set<std::string>* function_exempt(std::string_view function) const {
        if (drop_all_) return nullptr;
        const auto it = functions_.find(std::string(function));
        if (it == functions_.end() || it->second.dropped) return nullptr;
        return &it->second.exempt;
    }

  private:
    std::string filename_, save_, restore_;
    NodeIndex graph_;
    std::set<std::string> graph_exempt_;
    std::map<std::string, SaverFunction> functions_;
    bool drop_all_ = false;
};

}  // namespace mscan::savedmodel
