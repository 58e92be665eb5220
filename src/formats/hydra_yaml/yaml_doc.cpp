// A YAML stream read into a tree through libyaml's event parser (see yaml_doc.h).
#include "formats/hydra_yaml/yaml_doc.h"

#include <yaml.h>

#include <map>
#include <memory>

#include "mscan/limits.h"

namespace mscan::yaml {
namespace {

/// Merge keys followed from one mapping (`<<: *a` where a merges b ...).
constexpr int kMaxMergeDepth = 16;

std::string text_of(const yaml_char_t* s) {
    return s ? std::string(reinterpret_cast<const char*>(s)) : std::string();
}

/// Owns one libyaml parser and the event being read.
class Parser {
  public:
    explicit Parser(std::string_view text) {
        ok_ = yaml_parser_initialize(&parser_) != 0;
        if (ok_)
            yaml_parser_set_input_string(
                &parser_, reinterpret_cast<const unsigned char*>(text.data()), text.size());
    }
    ~Parser() {
        release();
        if (ok_) yaml_parser_delete(&parser_);
    }
    Parser(const Parser&) = delete;
    Parser& operator=(const Parser&) = delete;

    bool initialized() const { return ok_; }
    /// The next event, or nullptr on a parse error (problem() says why).
    const yaml_event_t* next() {
        if (have_) yaml_event_delete(&event_);
        have_ = yaml_parser_parse(&parser_, &event_) != 0;
        return have_ ? &event_ : nullptr;
    }
    std::string problem() const {
        std::string p = parser_.problem ? parser_.problem : "the YAML parser failed";
        if (parser_.context) p = std::string(parser_.context) + ": " + p;
        return p;
    }
    const yaml_mark_t& problem_mark() const { return parser_.problem_mark; }
    /// Frees the last event (the destructor does too).
    void release() {
        if (have_) yaml_event_delete(&event_);
        have_ = false;
    }

  private:
    yaml_parser_t parser_{};
    yaml_event_t event_{};
    bool ok_ = false;
    bool have_ = false;
};

class Builder {
  public:
    explicit Builder(Tree& tree) : tree_(tree) {}

    /// Adds a node from an event's mark, anchor and tag; false at the node cap.
    bool add(Kind kind, const yaml_mark_t& mark, const yaml_char_t* anchor, const yaml_char_t* tag,
             NodeId& id) {
        if (tree_.nodes.size() >= limits::kYamlMaxNodes) {
            tree_.capped = true;
            return false;
        }
        id = static_cast<NodeId>(tree_.nodes.size());
        Node& node = tree_.nodes.emplace_back();
        node.kind = kind;
        node.line = static_cast<std::uint32_t>(mark.line + 1);
        node.offset = mark.index;
        node.tag = text_of(tag);
        if (anchor) {
            const std::string name = text_of(anchor);
            // PyYAML's composer refuses an anchor defined twice in one document.
            if (!anchors_.emplace(name, id).second) {
                anchors_[name] = id;
                fail("found duplicate anchor &" + name, mark);
            }
        }
        attach(id);
        return true;
    }

    /// Adds a reference to an anchored node; false if the anchor is not defined.
    bool alias(const yaml_char_t* anchor, const yaml_mark_t& mark) {
        const auto it = anchors_.find(text_of(anchor));
        if (it == anchors_.end()) {
            fail("found undefined alias *" + text_of(anchor), mark);
            return false;
        }
        attach(it->second);
        return true;
    }

    void open(NodeId id) { open_.push_back(id); }
    void close() {
        if (!open_.empty()) open_.pop_back();
    }
    void new_document() {
        anchors_.clear();
        open_.clear();
        root_pending_ = true;
    }

    void fail(std::string problem, const yaml_mark_t& mark) {
        if (tree_.malformed) return;  // the first problem is the one that stops a loader
        tree_.malformed = true;
        tree_.problem = std::move(problem);
        tree_.problem_line = static_cast<std::uint32_t>(mark.line + 1);
        tree_.problem_offset = mark.index;
    }

  private:
    void attach(NodeId id) {
        if (!open_.empty()) {
            tree_.nodes[open_.back()].items.push_back(id);
        } else if (root_pending_) {
            tree_.documents.push_back(id);
            root_pending_ = false;
        }
    }

    Tree& tree_;
    std::map<std::string, NodeId, std::less<>> anchors_;
    std::vector<NodeId> open_;
    bool root_pending_ = false;
};

}  // namespace

Tree parse(std::string_view text) {
    Tree tree;
    Parser parser(text);
    if (!parser.initialized()) {
        tree.malformed = true;
        tree.problem = "the YAML parser could not be set up (out of memory)";
        return tree;
    }
    Builder build(tree);
    for (;;) {
        const yaml_event_t* event = parser.next();
        if (!event) {
            build.fail(parser.problem(), parser.problem_mark());
            break;
        }
        NodeId id = 0;
        bool go_on = true;
        switch (event->type) {
            case YAML_STREAM_START_EVENT:
            case YAML_DOCUMENT_END_EVENT:
            case YAML_NO_EVENT:
                break;
            case YAML_DOCUMENT_START_EVENT:
                build.new_document();
                break;
            case YAML_ALIAS_EVENT:
                go_on = build.alias(event->data.alias.anchor, event->start_mark);
                break;
            case YAML_SCALAR_EVENT: {
                const auto& s = event->data.scalar;
                go_on = build.add(Kind::Scalar, event->start_mark, s.anchor, s.tag, id);
                if (go_on) {
                    Node& node = tree.nodes[id];
                    node.text.assign(reinterpret_cast<const char*>(s.value), s.length);
                    node.plain = s.style == YAML_PLAIN_SCALAR_STYLE && !s.tag;
                }
                break;
            }
            case YAML_SEQUENCE_START_EVENT: {
                const auto& s = event->data.sequence_start;
                go_on = build.add(Kind::Sequence, event->start_mark, s.anchor, s.tag, id);
                if (go_on) build.open(id);
                break;
            }
            case YAML_MAPPING_START_EVENT: {
                const auto& m = event->data.mapping_start;
                go_on = build.add(Kind::Mapping, event->start_mark, m.anchor, m.tag, id);
                if (go_on) build.open(id);
                break;
            }
            case YAML_SEQUENCE_END_EVENT:
            case YAML_MAPPING_END_EVENT:
                build.close();
                break;
            case YAML_STREAM_END_EVENT:
                go_on = false;
                break;
        }
        if (!go_on) break;
    }
    parser.release();
    return tree;
}

bool is_merge_key(const Node& key) {
    return key.kind == Kind::Scalar &&
           ((key.plain && key.text == "<<") || key.tag == "tag:yaml.org,2002:merge");
}

namespace {

/// PyYAML's flatten_mapping order: the entries merged in by each `<<` in turn (for a
/// sequence of mappings, the last one first, so the first one wins), then the mapping's own
/// entries; the last entry with the key wins.
bool lookup_in(const Tree& tree, NodeId map, std::string_view key, NodeId& found,
               std::size_t& steps, int depth) {
    const Node& node = tree.at(map);
    if (node.kind != Kind::Mapping || depth > kMaxMergeDepth) return false;
    bool any = false;
    for (std::size_t i = 0; i + 1 < node.items.size(); i += 2) {
        if (steps == 0) return false;
        --steps;
        const Node& k = tree.at(node.items[i]);
        if (!is_merge_key(k)) continue;
        const NodeId value = node.items[i + 1];
        const Node& v = tree.at(value);
        if (v.kind == Kind::Mapping) {
            any = lookup_in(tree, value, key, found, steps, depth + 1) || any;
        } else if (v.kind == Kind::Sequence) {
            for (auto it = v.items.rbegin(); it != v.items.rend(); ++it)
                any = lookup_in(tree, *it, key, found, steps, depth + 1) || any;
        }
    }
    for (std::size_t i = 0; i + 1 < node.items.size(); i += 2) {
        if (steps == 0) return false;
        --steps;
        const Node& k = tree.at(node.items[i]);
        if (k.kind != Kind::Scalar || is_merge_key(k) || k.text != key) continue;
        found = node.items[i + 1];
        any = true;
    }
    return any;
}

}  // namespace

bool lookup(const Tree& tree, NodeId map, std::string_view key, NodeId& found, std::size_t& steps) {
    return lookup_in(tree, map, key, found, steps, 0);
}

}  // namespace mscan::yaml
