// A YAML stream read into a tree by libyaml's parser, the C parser of PyYAML: the grammar
// OmegaConf's loader (a PyYAML SafeLoader) reads, YAML 1.1 with its encodings (UTF-8 with or
// without a BOM, UTF-16 LE/BE), flow and block styles, folded and literal block scalars,
// quoted scalars with their escapes, explicit `? key` entries, tags, anchors and aliases.
// libyaml gives events; this file builds the tree itself, without recursion, so memory is
// bounded by limits::kYamlMaxNodes whatever the nesting. An alias is not copied: it becomes a
// second reference to the anchored node, so a "billion laughs" file costs its own size here
// and only its walk (bounded by the caller) sees the expansion.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mscan::yaml {

enum class Kind : std::uint8_t { Scalar, Sequence, Mapping };

using NodeId = std::uint32_t;

struct Node {
    Kind kind = Kind::Scalar;
    /// A plain (unquoted, untagged) scalar: the one the YAML resolver may read as `<<`
    /// (merge), null, a number or a bool.
    bool plain = false;
    /// 1-based line of the node's start.
    std::uint32_t line = 0;
    /// Byte offset of the node's start in the text, as far as libyaml counts it.
    std::uint64_t offset = 0;
    /// The scalar's value after the YAML escapes and folding.
    std::string text;
    /// The tag as libyaml resolves it ("tag:yaml.org,2002:str" for `!!str`); empty if none.
    std::string tag;
    /// Sequence: its items. Mapping: key, value, key, value... An alias is the anchored node.
    std::vector<NodeId> items;
};

struct Tree {
    std::vector<Node> nodes;
    /// The root node of each document of the stream, in order.
    std::vector<NodeId> documents;
    /// The text does not parse (or names an alias that is not defined): `problem` says why
    /// and `problem_line` where (1-based); the nodes before it are kept.
    bool malformed = false;
    std::string problem;
    std::uint32_t problem_line = 0;
    /// Byte offset of the problem (where the unread part starts).
    std::uint64_t problem_offset = 0;
    /// limits::kYamlMaxNodes was reached: the nodes before it are kept.
    bool capped = false;

    const Node& at(NodeId id) const { return nodes[id]; }
};

/// Reads a YAML stream. Never throws on bad input: a problem is recorded in the tree.
Tree parse(std::string_view text);

/// The value of `key` in mapping `map` as PyYAML's SafeLoader builds it: an explicit key
/// wins (the last of duplicates), then the mappings merged in by `<<` (first merged wins).
/// Returns false if there is none. `steps` is decremented per entry looked at; at zero the
/// lookup gives up (returns false with steps == 0).
bool lookup(const Tree& tree, NodeId map, std::string_view key, NodeId& found, std::size_t& steps);

/// Whether a mapping key is the merge key `<<` (a plain `<<`, or one tagged !!merge).
bool is_merge_key(const Node& key);

}  // namespace mscan::yaml
