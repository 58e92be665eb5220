// Symbolic values the pickle machine keeps on its stack and in its memo. They hold just enough
// to resolve globals and to show evidence: strings are kept up to a cap, containers keep their
// first few items and a count, calls remember the callable and rendered arguments.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mscan::pickle {

enum class Kind : std::uint8_t {
    None,
    Bool,
    Int,
    BigInt,
    Float,
    Str,
    Bytes,
    Tuple,
    List,
    Dict,
    Set,
    FrozenSet,
    Global,   ///< a resolved global: text is its canonical name
    Object,   ///< the result of a call: text is the callable's name ("" if unknown)
    PersRef,  ///< what persistent_load(pid) returns
    Ext,      ///< an object from copyreg's extension registry: num is the code
    Buffer,   ///< an out-of-band buffer (NEXT_BUFFER)
    Unknown,  ///< anything the machine could not model
};
inline constexpr int kKindCount = static_cast<int>(Kind::Unknown) + 1;

struct Node;

/// One symbolic value. Cheap to copy: containers and objects share their node.
struct Value {
    Kind kind = Kind::None;
    /// The full value was not kept (memo budget, nesting cap); only its kind is known.
    bool lost = false;
    /// Str/Bytes: text holds only a prefix of the real value.
    bool truncated = false;
    /// Bool/Int value; Str/Bytes real length; Ext code; Global: length of the module part;
    /// Float: the double's bits.
    std::int64_t num = 0;
    /// Str content (UTF-8), BigInt digits, Global/Object name.
    std::string text;
    std::shared_ptr<Node> node;
};

/// Shared part of containers, globals and objects.
struct Node {
    /// Containers: the first items (dicts: key, value, key, value ...). Globals: none.
    std::vector<Value> items;
    /// Real number of items (dicts: pairs).
    std::uint64_t count = 0;
    /// Globals: other names the same object is reachable as.
    std::vector<std::string> aliases;
    /// Objects: rendered evidence of the call that made it; PersRef: rendered pid.
    std::string origin;
    /// Nesting depth of kept items below this node.
    std::uint8_t depth = 0;
};

/// Renders a value as Python-like source text, cut to `max_chars`.
std::string render(const Value& v, std::size_t max_chars);

}  // namespace mscan::pickle
