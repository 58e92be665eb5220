// Hydra / NeMo target keys in YAML configs, read as OmegaConf reads them (see hydra_config.h).
#include "formats/hydra_yaml/hydra_config.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "formats/common_codes.h"
#include "formats/hydra_yaml/hydra_yaml_codes.h"
#include "formats/hydra_yaml/yaml_doc.h"
#include "mscan/limits.h"
#include "util/text.h"
#include "util/text_safety.h"

namespace mscan::hydra {
namespace {

using yaml::Kind;
using yaml::Node;
using yaml::NodeId;
using yaml::Tree;

/// Keys whose value Hydra (`_target_`) or NeMo (`target`, `cls`) imports and instantiates.
constexpr std::array<std::string_view, 3> kKeys = {"_target_", "target", "cls"};

bool target_key(const Node& key) {
    return key.kind == Kind::Scalar &&
           std::find(kKeys.begin(), kKeys.end(), key.text) != kKeys.end();
}

/// Roots of the frameworks such configs normally build from: their names are reported only
/// when a deny rule names them (torch.hub.load is; torch.nn.Linear is not).
constexpr std::array<std::string_view, 14> kFrameworkRoots = {"nemo",
                                                              "nemo_text_processing",
                                                              "torch",
                                                              "torchaudio",
                                                              "torchvision",
                                                              "lightning",
                                                              "pytorch_lightning",
                                                              "lightning_fabric",
                                                              "omegaconf",
                                                              "transformers",
                                                              "megatron",
                                                              "apex",
                                                              "numpy",
                                                              "sentencepiece"};

bool framework_name(std::string_view name) {
    const std::string_view root = name.substr(0, name.find('.'));
    return std::find(kFrameworkRoots.begin(), kFrameworkRoots.end(), root) != kFrameworkRoots.end();
}

bool ident_start(char c) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool ident_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

/// The Python name a target value imports: identifiers joined by dots, at least two, with
/// empty parts dropped ("os..system" and ".os.system" are os.system to older Hydra's
/// _locate). Nothing if the value is not such a name.
std::optional<std::string> python_name(std::string_view value) {
    if (value.empty() || value.size() > limits::kPickleMaxNameLength) return std::nullopt;
    std::string name;
    std::size_t parts = 0;
    std::size_t i = 0;
    while (i < value.size()) {
        if (value[i] == '.') {
            ++i;
            continue;
        }
        if (!ident_start(value[i])) return std::nullopt;
        const std::size_t start = i;
        while (i < value.size() && ident_char(value[i]))
            ++i;
        if (i < value.size() && value[i] != '.') return std::nullopt;
        if (parts++) name += '.';
        name += value.substr(start, i - start);
    }
    if (parts < 2) return std::nullopt;
    return name;
}

// --- OmegaConf interpolation --------------------------------------------------------------

struct Resolved {
    enum class Status { Text, NotText, Unresolvable };
    Status status = Status::Text;
    std::string text;  ///< Text: the value; Unresolvable: why
    /// Unresolvable: the value if every `${oc.env:VAR,default}` takes its default (the
    /// environment variable is not set), when that is a string.
    std::optional<std::string> fallback;
};

Resolved text(std::string s) {
    return {Resolved::Status::Text, std::move(s), std::nullopt};
}
Resolved not_text() {
    return {Resolved::Status::NotText, {}, std::nullopt};
}
Resolved unresolvable(std::string why) {
    return {Resolved::Status::Unresolvable, std::move(why), std::nullopt};
}

/// The '}' closing the interpolation that opens at `open` ("${"), skipping nested braces and
/// quoted resolver arguments; npos if there is none.
std::size_t closing_brace(std::string_view s, std::size_t open) {
    int depth = 0;
    char quote = 0;
    for (std::size_t i = open + 2; i < s.size(); ++i) {
        const char c = s[i];
        if (quote) {
            if (c == '\\')
                ++i;
            else if (c == quote)
                quote = 0;
        } else if (c == '\'' || c == '"') {
            quote = c;
        } else if (c == '{') {
            ++depth;
        } else if (c == '}') {
            if (depth == 0) return i;
            --depth;
        }
    }
    return std::string_view::npos;
}

/// Whether `inner` (between "${" and "}") is a resolver call (`oc.env:X`): a ':' outside any
/// nested interpolation.
bool resolver_call(std::string_view inner) {
    int depth = 0;
    for (const char c : inner) {
        if (c == '{')
            ++depth;
        else if (c == '}')
            --depth;
        else if (c == ':' && depth == 0)
            return true;
    }
    return false;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

/// Resolves OmegaConf interpolations in one document. `path` is the chain of containers from
/// the root to the one holding the value being resolved (relative keys count from its end).
class Resolver {
  public:
    Resolver(const Tree& tree, NodeId root) : tree_(tree), root_(root) {}

    Resolved resolve(std::string_view value, const std::vector<NodeId>& path) {
        steps_ = limits::kOmegaConfMaxSteps;
        return string_value(value, path, 0);
    }

  private:
    /// A string value: literal text and interpolations, `\${` an escaped "${".
    Resolved string_value(std::string_view s, const std::vector<NodeId>& path, int depth) {
        if (depth > limits::kOmegaConfMaxDepth)
            return unresolvable("interpolations nest deeper than " +
                                std::to_string(limits::kOmegaConfMaxDepth) + " (a cycle?)");
        std::string out;
        std::string unresolved;  // why, once a part takes its fallback
        std::size_t i = 0;
        while (i < s.size()) {
            if (s[i] == '\\' && s.substr(i + 1, 2) == "${") {
                out += "${";
                i += 3;
                continue;
            }
            if (s.substr(i, 3) == "\\\\$" && s.substr(i + 2, 2) == "${") {
                out += '\\';
                i += 2;
                continue;
            }
            if (s.substr(i, 2) != "${") {
                out += s[i++];
                continue;
            }
            const std::size_t close = closing_brace(s, i);
            if (close == std::string_view::npos)
                return unresolvable("an interpolation is not closed");
            Resolved part = interpolation(s.substr(i + 2, close - i - 2), path, depth + 1);
            if (i == 0 && close + 1 == s.size()) return part;  // the whole value: any type
            if (part.status == Resolved::Status::Unresolvable && part.fallback) {
                if (unresolved.empty()) unresolved = std::move(part.text);
                out += *part.fallback;
            } else if (part.status != Resolved::Status::Text) {
                return part;
            } else {
                out += part.text;
            }
            i = close + 1;
            if (out.size() > limits::kOmegaConfMaxText) return not_text();
        }
        if (!unresolved.empty()) {
            Resolved r = unresolvable(std::move(unresolved));
            r.fallback = std::move(out);
            return r;
        }
        return text(std::move(out));
    }

    /// A resolver's arguments: split at the commas outside quotes and braces, trimmed, one
    /// level of quotes taken off.
    static std::vector<std::string_view> arguments(std::string_view args) {
        std::vector<std::string_view> out;
        int depth = 0;
        char quote = 0;
        std::size_t start = 0;
        for (std::size_t i = 0; i <= args.size(); ++i) {
            const char c = i < args.size() ? args[i] : ',';
            if (quote) {
                if (c == '\\')
                    ++i;
                else if (c == quote)
                    quote = 0;
                continue;
            }
            if (c == '\'' || c == '"')
                quote = c;
            else if (c == '{' || c == '[')
                ++depth;
            else if (c == '}' || c == ']')
                --depth;
            else if (c == ',' && depth == 0) {
                std::string_view arg = trim(args.substr(start, i - start));
                if (arg.size() >= 2 && (arg.front() == '\'' || arg.front() == '"') &&
                    arg.back() == arg.front())
                    arg = arg.substr(1, arg.size() - 2);
                out.push_back(arg);
                start = i + 1;
            }
        }
        return out;
    }

    /// `${name:args}`. oc.select is resolved (the key, else its default); oc.env (and the
    /// older env) is not, but its default is kept as the fallback; any other resolver is
    /// code of the loader's that mscan does not run.
    Resolved resolver(std::string_view inner, const std::vector<NodeId>& path, int depth) {
        const auto colon = inner.find(':');
        const std::string_view name = trim(inner.substr(0, colon));
        const auto args = arguments(inner.substr(colon + 1));
        if (name == "oc.select" && !args.empty()) {
            Resolved key = string_value(args[0], path, depth);
            if (key.status != Resolved::Status::Text) return key;
            Resolved found = select(trim(key.text), path, depth);
            if (found.status != Resolved::Status::Unresolvable || args.size() < 2 || found.fallback)
                return found;
            return string_value(args[1], path, depth);
        }
        Resolved r = unresolvable("the resolver " + printable(name) +
                                  " computes it when the config is read");
        if ((name == "oc.env" || name == "env") && args.size() >= 2) {
            r.text = "${" + printable(inner) + "} is the environment variable " +
                     printable(args[0]) + " when it is set";
            Resolved fallback = string_value(args[1], path, depth);
            if (fallback.status == Resolved::Status::Text)
                r.fallback = std::move(fallback.text);
            else if (fallback.status == Resolved::Status::Unresolvable)
                r.fallback = fallback.fallback;
        }
        return r;
    }

    /// One `${...}`: a resolver call (not resolved) or a key path.
    Resolved interpolation(std::string_view inner, const std::vector<NodeId>& path, int depth) {
        if (steps_ == 0) return unresolvable("resolving it takes too many steps");
        --steps_;
        if (resolver_call(inner)) return resolver(inner, path, depth);
        std::string key_path(inner);
        if (inner.find("${") != std::string_view::npos) {
            Resolved nested = string_value(inner, path, depth);
            if (nested.status != Resolved::Status::Text) return nested;
            key_path = std::move(nested.text);
        }
        return select(trim(key_path), path, depth);
    }

    /// The node a key path names, and its value (resolved in turn if it is a string).
    Resolved select(std::string_view key, const std::vector<NodeId>& path, int depth) {
        std::vector<NodeId> at;
        std::size_t dots = 0;
        while (dots < key.size() && key[dots] == '.')
            ++dots;
        if (dots == 0) {
            at = {root_};
        } else {
            if (dots > path.size())
                return unresolvable("${" + printable(key) + "} goes above the root");
            at.assign(path.begin(), path.end() - static_cast<std::ptrdiff_t>(dots - 1));
        }
        key.remove_prefix(dots);
        NodeId node = at.back();
        if (tree_.at(node).kind == Kind::Scalar && dots == 0 && !key.empty())
            return unresolvable("the document is not a mapping");
        std::size_t i = 0;
        bool first = true;
        while (i < key.size()) {
            std::string segment;
            if (key[i] == '[') {
                const auto end = key.find(']', i);
                if (end == std::string_view::npos) return unresolvable("a '[' is not closed");
                segment = trim(key.substr(i + 1, end - i - 1));
                i = end + 1;
                if (i < key.size() && key[i] == '.') ++i;
            } else {
                if (!first && key[i] == '.') return unresolvable("an empty key in the path");
                const auto end = std::min(key.find_first_of(".[", i), key.size());
                segment = trim(key.substr(i, end - i));
                i = end;
                if (i < key.size() && key[i] == '.') {
                    ++i;
                    if (i == key.size()) return unresolvable("an empty key in the path");
                }
            }
            first = false;
            if (segment.empty()) return unresolvable("an empty key in the path");
            const Node& container = tree_.at(node);
            NodeId child = 0;
            if (container.kind == Kind::Mapping) {
                if (!yaml::lookup(tree_, node, segment, child, steps_))
                    return unresolvable(steps_ == 0 ? "resolving it takes too many steps"
                                                    : "no key " + printable(segment));
            } else if (container.kind == Kind::Sequence) {
                const bool digits =
                    segment.size() < 10 && std::all_of(segment.begin(), segment.end(), [](char c) {
                        return std::isdigit(static_cast<unsigned char>(c));
                    });
                const std::size_t index = digits ? std::stoul(segment) : container.items.size();
                if (index >= container.items.size())
                    return unresolvable("no item " + printable(segment));
                child = container.items[index];
            } else {
                return unresolvable(printable(segment) + " is looked up in a plain value");
            }
            if (steps_ == 0) return unresolvable("resolving it takes too many steps");
            --steps_;
            node = child;
            if (tree_.at(node).kind != Kind::Scalar) at.push_back(node);
        }
        const Node& found = tree_.at(node);
        if (found.kind != Kind::Scalar) return not_text();
        // A plain null or OmegaConf's "???" (missing) is not a string.
        if (found.plain && (found.text == "~" || found.text == "null" || found.text == "Null" ||
                            found.text == "NULL" || found.text.empty() || found.text == "???"))
            return not_text();
        return string_value(found.text, at, depth + 1);
    }

    const Tree& tree_;
    NodeId root_;
    std::size_t steps_ = 0;
};

// --- the walk -----------------------------------------------------------------------------

/// What the walk found.
struct Hit {
    enum class Kind { Target, Unresolved, PythonTag };
    Kind kind = Kind::Target;
    const Node* key = nullptr;   ///< Target/Unresolved: the key; PythonTag: nullptr
    const Node* node = nullptr;  ///< the value (or the tagged node)
    std::string name;            ///< Target/PythonTag: the Python name; Unresolved: why
    bool call = true;  ///< PythonTag: called (object...) rather than only imported (name, module)
    bool fallback = false;  ///< Target: the name an environment variable's default gives
};

constexpr std::string_view kPythonTag = "tag:yaml.org,2002:python/";

/// The name a Python tag makes PyYAML's unsafe constructors import or call, if it is one.
std::optional<Hit> python_tag(const Node& node) {
    if (!node.tag.starts_with(kPythonTag)) return std::nullopt;
    const std::string_view rest = std::string_view(node.tag).substr(kPythonTag.size());
    struct Form {
        std::string_view prefix;
        bool call;
        bool module;
    };
    constexpr std::array<Form, 5> kForms = {
        Form{"name:", false, false}, Form{"module:", false, true}, Form{"object:", true, false},
        Form{"object/apply:", true, false}, Form{"object/new:", true, false}};
    for (const auto& form : kForms) {
        if (!rest.starts_with(form.prefix)) continue;
        std::string name(rest.substr(form.prefix.size()));
        if (name.empty()) return std::nullopt;
        // PyYAML's find_python_name: a name without a dot is a builtin.
        if (!form.module && name.find('.') == std::string::npos) name = "builtins." + name;
        Hit hit;
        hit.kind = Hit::Kind::PythonTag;
        hit.node = &node;
        hit.name = std::move(name);
        hit.call = form.call;
        return hit;
    }
    return std::nullopt;
}

struct WalkEnd {
    bool visits_capped = false;
};

/// Visits every node of every document (an aliased subtree once per alias that reaches it,
/// up to limits::kYamlMaxVisits; a node inside itself once), calling `found(hit)` for each
/// target key and Python tag; stops when `found` returns false.
template <typename F>
WalkEnd walk(const Tree& tree, F&& found) {
    WalkEnd end;
    std::size_t visits = 0;
    std::vector<std::uint8_t> on_path(tree.nodes.size(), 0);
    std::set<std::pair<NodeId, std::string>> reported;  // (value node, name): once each
    struct Frame {
        NodeId node;
        std::size_t next = 0;
    };
    for (const NodeId root : tree.documents) {
        Resolver resolver(tree, root);
        std::vector<Frame> stack;
        std::vector<NodeId> path;  // the containers of `stack`
        // Enters a node: its tag, and (a container not already on the path) its items.
        auto enter = [&](NodeId id) -> bool {
            if (++visits > limits::kYamlMaxVisits) {
                end.visits_capped = true;
                return false;
            }
            const Node& node = tree.at(id);
            if (auto hit = python_tag(node)) {
                if (reported.emplace(id, hit->name).second && !found(*hit)) return false;
            }
            if (node.kind != Kind::Scalar && !on_path[id]) {
                on_path[id] = 1;
                stack.push_back({id});
                path.push_back(id);
            }
            return true;
        };
        auto target = [&](NodeId key_id, NodeId value_id) -> bool {
            const Node& key = tree.at(key_id);
            const Node& value = tree.at(value_id);
            if (!target_key(key) || value.kind != Kind::Scalar) return true;
            Hit hit;
            hit.key = &key;
            hit.node = &value;
            if (value.text.find("${") != std::string::npos) {
                Resolved r = resolver.resolve(value.text, path);
                if (r.status == Resolved::Status::NotText) return true;
                if (r.status == Resolved::Status::Unresolvable) {
                    if (r.fallback) {  // what it is when the variable is not set
                        if (auto name = python_name(*r.fallback)) {
                            Hit fallback = hit;
                            fallback.name = std::move(*name);
                            fallback.fallback = true;
                            if (reported.emplace(value_id, fallback.name).second &&
                                !found(fallback))
                                return false;
                        }
                    }
                    hit.kind = Hit::Kind::Unresolved;
                    hit.name = std::move(r.text);
                    if (!reported.emplace(value_id, "\n" + hit.name).second) return true;
                    return found(hit);
                }
                auto name = python_name(r.text);
                if (!name) return true;
                hit.name = std::move(*name);
            } else {
                auto name = python_name(value.text);
                if (!name) return true;
                hit.name = std::move(*name);
            }
            if (!reported.emplace(value_id, hit.name).second) return true;
            return found(hit);
        };
        if (!enter(root)) return end;
        while (!stack.empty()) {
            Frame& frame = stack.back();
            const Node& node = tree.at(frame.node);
            const std::size_t step = node.kind == Kind::Mapping ? 2 : 1;
            if (frame.next + step > node.items.size()) {
                on_path[frame.node] = 0;
                stack.pop_back();
                path.pop_back();
                continue;
            }
            const std::size_t at = frame.next;
            frame.next += step;  // `frame` may dangle after enter()
            if (step == 2) {
                const NodeId key = node.items[at];
                const NodeId value = node.items[at + 1];
                if (!target(key, value) || !enter(key) || !enter(value)) return end;
            } else if (!enter(node.items[at])) {
                return end;
            }
        }
    }
    return end;
}

/// The offset of the start of 1-based line `line` in `text`.
std::size_t line_start(std::string_view text, std::uint32_t line) {
    std::size_t at = 0;
    for (std::uint32_t n = 1; n < line && at < text.size(); ++n) {
        const auto nl = text.find('\n', at);
        if (nl == std::string_view::npos) return text.size();
        at = nl + 1;
    }
    return at;
}

/// What the unread part of a file that does not parse spells: a target key (a key word
/// followed, maybe after a quote and blanks, by ':') or a Python tag. A degraded search: it
/// only decides how loudly the unread part is reported.
std::string unread_mentions(std::string_view rest) {
    if (rest.find("!!python/") != std::string_view::npos ||
        rest.find("tag:yaml.org,2002:python/") != std::string_view::npos)
        return "a Python tag";
    for (const auto key : kKeys) {
        for (auto at = rest.find(key); at != std::string_view::npos; at = rest.find(key, at + 1)) {
            std::size_t i = at + key.size();
            if (i < rest.size() && (rest[i] == '"' || rest[i] == '\'')) ++i;
            while (i < rest.size() && (rest[i] == ' ' || rest[i] == '\t'))
                ++i;
            if (i < rest.size() && rest[i] == ':') return "a " + std::string(key) + " key";
        }
    }
    return {};
}

std::string line_of(const Node& node) {
    return "line " + std::to_string(node.line);
}

}  // namespace

namespace {

/// Whether the walk finds a target key or a Python tag (it stops at the first); `capped` is
/// set when the walk's visit cap ends it first.
bool any_hit(const Tree& tree, bool& capped) {
    bool any = false;
    capped = walk(tree, [&](const Hit&) {
                 any = true;
                 return false;
             }).visits_capped;
    return any;
}

}  // namespace

bool has_targets(std::string_view text) {
    bool capped = false;
    return any_hit(yaml::parse(text), capped);
}

bool detect(Source& source, std::string_view extension) {
    if (extension != ".yaml" && extension != ".yml") return false;
    if (source.size() == 0) return false;
    if (source.size() > limits::kHydraMaxBytes) return true;  // parse() says it is not read
    const auto bytes = source.view(0, static_cast<std::size_t>(source.size()));
    if (bytes.size() != source.size()) return false;
    const Tree tree = yaml::parse(util::as_text(bytes));
    if (tree.malformed || tree.capped) return true;
    bool capped = false;
    return any_hit(tree, capped) || capped;
}

void check_yaml(std::string_view text, const ParseContext& context) {
    const Tree tree = yaml::parse(text);
    std::size_t reported = 0;
    bool capped = false;
    auto at = [&](const Node& node) {
        Location where = context.base();
        where.offset = static_cast<std::int64_t>(node.offset);
        return where;
    };
    const WalkEnd end = walk(tree, [&](const Hit& hit) {
        if (reported == limits::kHydraMaxTargets) {
            capped = true;
            context.anomaly(kLimitExceeded, "more than " +
                                                std::to_string(limits::kHydraMaxTargets) +
                                                " target keys; the rest were not reported");
            return false;
        }
        ++reported;
        if (hit.kind == Hit::Kind::Unresolved) {
            context.anomaly_at(at(*hit.node), kTargetUnresolved,
                               line_of(*hit.key) + ": " + printable(hit.key->text) + ": " +
                                   printable(hit.node->text) + ": " + hit.name +
                                   "; the loader instantiates a name mscan does not know");
            return true;
        }
        Operation op;
        op.location = at(*hit.node);
        if (hit.kind == Hit::Kind::PythonTag) {
            op.kind = hit.call ? OpKind::Call : OpKind::Import;
            op.name = hit.name;
            std::string tag = hit.node->tag;
            if (tag.starts_with("tag:yaml.org,2002:")) tag = "!!" + tag.substr(18);
            op.evidence = line_of(*hit.node) + ": tag " + printable(tag) +
                          " (PyYAML's unsafe loaders construct it: yaml.unsafe_load, "
                          "UnsafeLoader, yaml.load without a Loader before PyYAML 5.1; "
                          "OmegaConf's loader refuses the tag)";
        } else {
            op.kind = OpKind::Call;
            op.name = hit.name;
            op.only_if_denied = framework_name(hit.name);
            std::string how = "instantiated when the config is loaded";
            if (hit.fallback)
                how = "OmegaConf resolves it to " + hit.name +
                      " when the environment variable is not set; instantiated when the "
                      "config is loaded";
            else if (hit.node->text != hit.name)
                how = (hit.node->text.find("${") != std::string::npos ? "OmegaConf resolves it to "
                                                                      : "Hydra reads it as ") +
                      hit.name + ", instantiated when the config is loaded";
            op.evidence = line_of(*hit.key) + ": " + printable(hit.key->text) + ": " +
                          printable(hit.node->text) + " (" + how + ")";
        }
        context.emit(std::move(op));
        return true;
    });
    if (end.visits_capped && !capped)
        context.anomaly(kLimitExceeded, "aliases reach more than " +
                                            std::to_string(limits::kYamlMaxVisits) +
                                            " nodes; the rest was not checked");
    if (tree.capped)
        context.anomaly(kLimitExceeded, "more than " + std::to_string(limits::kYamlMaxNodes) +
                                            " YAML nodes; the rest was not checked");
    if (tree.malformed) {
        const std::size_t from = line_start(text, tree.problem_line);
        const std::string mentions = unread_mentions(text.substr(from));
        const std::string where =
            "line " + std::to_string(tree.problem_line) + ": " + printable(tree.problem) + "; ";
        if (!mentions.empty())
            context.anomaly(kYamlNotChecked,
                            where + "the part mscan could not read spells " + mentions +
                                " (a parser that reads it differently would instantiate it)",
                            static_cast<std::int64_t>(from));
        else
            context.anomaly(kYamlMalformed,
                            where +
                                "PyYAML (OmegaConf, Hydra) refuses such a file too; the "
                                "part before it was checked",
                            static_cast<std::int64_t>(from));
    }
}

void parse(Source& source, const ParseContext& context) {
    if (source.size() > limits::kHydraMaxBytes) {
        context.anomaly(kLimitExceeded, "a YAML file larger than " +
                                            std::to_string(limits::kHydraMaxBytes >> 20) +
                                            " MiB is not read; its target keys were not checked");
        return;
    }
    const auto bytes = source.view(0, static_cast<std::size_t>(source.size()));
    if (bytes.size() != source.size()) return;  // read_error() says why
    check_yaml(util::as_text(bytes), context);
}

}  // namespace mscan::hydra
