// The review of TorchScript code (see torchscript_code.h for what is resolved and reported).
// The op and class namespaces below are those torch 1.13 (Debian's python3-torch) and
// torchvision 0.14 register (torch._C._jit_get_all_schemas() with torchvision imported, and the
// __torch__.torch.classes.* names in libtorch_cpu), plus the ones other torch builds and
// PyTorch's own domain libraries register; docs/rules.md lists them.
#include "formats/torchscript/torchscript_code.h"

#include <algorithm>
#include <array>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "formats/context.h"
#include "formats/torchscript/lexer.h"
#include "formats/torchscript/torchscript_codes.h"
#include "mscan/limits.h"
#include "util/text_safety.h"

namespace mscan::torchscript {
namespace {

using Chain = std::vector<std::string>;

bool in(std::string_view name, std::initializer_list<std::string_view> set) {
    return std::find(set.begin(), set.end(), name) != set.end();
}

/// Op namespaces (`ops.<ns>.<op>`) of torch itself and of its domain libraries.
bool known_op_namespace(std::string_view ns) {
    return in(ns, {"aten",
                   "prim",
                   "prims",
                   "nvprims",
                   "quantized",
                   "_quantized",
                   "quantization",
                   "profiler",
                   "sparse",
                   "prepacked",
                   "mkldnn_prepacked",
                   "mkldnn",
                   "onnx",
                   "static_runtime",
                   "_test",
                   "_caffe2",
                   "cuda",
                   "xnnpack",
                   "vulkan_prepack",
                   "metal_prepack",
                   "_nnapi",
                   "torchvision",
                   "image",
                   "video_reader",
                   "torchaudio",
                   "torchtext"});
}

/// Op namespaces whose every op talks to other processes (the distributed collectives).
bool network_op_namespace(std::string_view ns) {
    return in(ns, {"c10d", "c10d_functional", "_c10d_functional", "dist_c10d"});
}

/// Custom class namespaces (`__torch__.torch.classes.<ns>.<Class>`) of torch and its domain
/// libraries.
bool known_class_namespace(std::string_view ns) {
    return in(ns, {"quantized", "sparse", "xnnpack", "mkldnn", "metal", "vulkan", "cuda",
                   "profiler", "rnn", "_nnapi", "torchvision", "torchaudio", "torchtext"});
}

bool network_class_namespace(std::string_view ns) {
    return in(ns, {"c10d", "dist_c10d", "dist_rpc"});
}

struct Verdict {
    IssueKind kind;
    std::string why;
};

/// What the op <ns>::<op> does, when that matters.
std::optional<Verdict> judge_op(const std::string& ns, const std::string& op) {
    const std::string name = ns + "::" + op;
    if (op == "load_library")
        return Verdict{IssueKind::NativeLibrary,
                       "loads a native library into the process: its code runs at once"};
    if (ns == "aten" && op == "from_file")
        return Verdict{IssueKind::FileAccess,
                       name +
                           " maps the named file into a tensor (shared=True creates or "
                           "writes it)"};
    if (ns == "aten" && op == "save")
        return Verdict{IssueKind::FileAccess, name + " writes a file at the path it is given"};
    if (ns == "image" && (op == "read_file" || op == "write_file"))
        return Verdict{IssueKind::FileAccess,
                       name + " (torchvision) reads or writes the named file"};
    if (ns == "video_reader" && (op == "read_video_from_file" || op == "probe_video_from_file"))
        return Verdict{IssueKind::FileAccess, name + " (torchvision) opens the named file"};
    if (ns == "prim" && (op == "rpc_sync" || op == "rpc_async" || op == "rpc_remote"))
        return Verdict{IssueKind::Network,
                       name + " calls a function on another worker of an RPC group"};
    if (network_op_namespace(ns))
        return Verdict{IssueKind::Network,
                       name +
                           " is a distributed collective: it exchanges tensors with other "
                           "processes"};
    if (!known_op_namespace(ns))
        return Verdict{IssueKind::CustomOp,
                       "op namespace '" + ns +
                           "' is registered by neither torch nor its domain libraries: the op "
                           "runs native code from a library the loading program must have "
                           "loaded"};
    return std::nullopt;
}

std::optional<Verdict> judge_class(const std::string& ns, const std::string& cls) {
    if (network_class_namespace(ns))
        return Verdict{IssueKind::Network,
                       "torch.classes." + ns + " objects talk to other processes"};
    if (ns == "torchvision" && cls == "Video")
        return Verdict{IssueKind::FileAccess,
                       "torch.classes.torchvision.Video opens the named file"};
    if (!known_class_namespace(ns))
        return Verdict{IssueKind::CustomOp,
                       "custom class namespace '" + ns +
                           "' is registered by neither torch nor its domain libraries: the class "
                           "is native code from a library the loading program must have loaded"};
    return std::nullopt;
}

/// Python modules no TorchScript resolves (torch's source importer knows only torch, ops,
/// __torch__ and a few builtins); text naming them was written for something else to run.
std::optional<Verdict> judge_python_module(std::string_view root) {
    if (in(root, {"os", "posix", "nt", "subprocess", "pty", "sys", "builtins", "__builtins__",
                  "importlib", "runpy", "multiprocessing"}))
        return Verdict{IssueKind::Process,
                       "the Python module " + std::string(root) +
                           " runs commands or code; TorchScript cannot name it, so this text is "
                           "not what torch.jit.save writes"};
    if (in(root, {"ctypes", "_ctypes", "cffi"}))
        return Verdict{IssueKind::NativeLibrary,
                       "the Python module " + std::string(root) + " loads native libraries"};
    if (in(root, {"socket", "urllib", "http", "requests", "ftplib", "smtplib", "telnetlib",
                  "webbrowser"}))
        return Verdict{IssueKind::Network,
                       "the Python module " + std::string(root) + " talks to other hosts"};
    if (in(root, {"io", "pathlib", "shutil", "tempfile", "glob", "fileinput"}))
        return Verdict{IssueKind::FileAccess,
                       "the Python module " + std::string(root) + " reads or writes files"};
    return std::nullopt;
}

/// Python builtins that matter only when called (a local may share their names otherwise).
std::optional<Verdict> judge_builtin_call(std::string_view name) {
    if (name == "open")
        return Verdict{IssueKind::FileAccess,
                       "builtin open() reads or writes a file; TorchScript has no open()"};
    if (in(name,
           {"eval", "exec", "compile", "__import__", "execfile", "globals", "vars", "breakpoint"}))
        return Verdict{IssueKind::Process, "builtin " + std::string(name) +
                                               "() runs or reaches Python code; TorchScript has "
                                               "no such builtin"};
    return std::nullopt;
}

/// A chain that names a namespace (or a module or builtin judged above): binding a local
/// name to it makes the local an alias worth following.
bool names_namespace(const Chain& c) {
    if (c.empty()) return false;
    const std::string& root = c[0];
    if (root == "torch")
        return c.size() == 1 ||
               (c.size() == 2 && in(c[1], {"autograd", "ops", "classes", "jit"})) ||
               (c.size() == 3 && (c[1] == "ops" || c[1] == "classes"));
    if (root == "ops") return c.size() <= 2;
    if (root == "__torch__")
        return c.size() == 1 || (c.size() == 2 && c[1] == "torch") ||
               (c.size() == 3 && c[1] == "torch" && c[2] == "classes") ||
               (c.size() == 4 && c[1] == "torch" && c[2] == "classes");
    return judge_python_module(root).has_value() ||
           (c.size() == 1 && judge_builtin_call(root).has_value());
}

/// What a fully resolved chain reaches. `called`: a '(' follows it; `imported`: it follows
/// `import` or `from`.
std::optional<Verdict> judge_chain(const Chain& c, bool called, bool imported) {
    if (c.empty()) return std::nullopt;
    for (std::size_t i = 1; i < c.size(); ++i) {
        if (c[i] == "load_library")
            return Verdict{IssueKind::NativeLibrary,
                           "load_library loads a native library into the process: its code "
                           "runs at once"};
    }
    const std::string& root = c[0];
    if (root == "torch" && c.size() >= 2) {
        if (c[1] == "ops" && c.size() >= 3) return judge_op(c[2], c.size() >= 4 ? c[3] : "");
        if (c[1] == "classes" && c.size() >= 3) return judge_class(c[2], c.size() >= 4 ? c[3] : "");
        if (c[1] == "autograd" && c.size() >= 3) return judge_op("aten", c[2]);
        if ((c[1] == "jit" && c.size() >= 3 && (c[2] == "load" || c[2] == "save")) ||
            c[1] == "load")
            return Verdict{IssueKind::FileAccess,
                           "torch.load and torch.jit.load/save read or write model files; a "
                           "pickle loaded this way runs its own code"};
        if (c[1] == "hub")
            return Verdict{IssueKind::Process,
                           "torch.hub downloads a repository and runs its hubconf.py"};
        if (auto v = judge_op("aten", c[1])) return v;
    }
    if (root == "ops" && c.size() >= 2) return judge_op(c[1], c.size() >= 3 ? c[2] : "");
    if (root == "__torch__" && c.size() >= 4 && c[1] == "torch" && c[2] == "classes")
        return judge_class(c[3], c.size() >= 5 ? c[4] : "");
    for (std::size_t i = 1; i < c.size(); ++i) {
        if (c[i] == "from_file")
            return Verdict{IssueKind::FileAccess,
                           "from_file (aten::from_file, or a storage's from_file) maps the named "
                           "file into memory (shared=True creates or writes it)"};
    }
    if (auto v = judge_python_module(root); v && (c.size() >= 2 || called || imported)) return v;
    if (c.size() == 1 && called) return judge_builtin_call(root);
    return std::nullopt;
}

/// A reference in the token stream: a name or parenthesised reference, getattr() with string
/// literal names folded in, then `.name` attributes.
struct Ref {
    Chain parts;
    std::size_t end = 0;    ///< token index just past the reference
    bool dynamic = false;   ///< a getattr() whose name is not a string literal
    bool too_deep = false;  ///< nesting beyond kTorchScriptMaxNesting
};

bool is_op(const std::vector<Token>& t, std::size_t i, std::string_view op) {
    return i < t.size() && t[i].kind == TokenKind::Op && t[i].text == op;
}
bool is_name(const std::vector<Token>& t, std::size_t i) {
    return i < t.size() && t[i].kind == TokenKind::Name;
}

std::optional<Ref> parse_ref(const std::vector<Token>& t, std::size_t i, int depth) {
    if (depth > limits::kTorchScriptMaxNesting) {
        Ref r;
        r.too_deep = true;
        r.end = i;
        return r;
    }
    Ref r;
    std::size_t j = i;
    if (is_name(t, i) && t[i].text == "getattr" && is_op(t, i + 1, "(")) {
        auto inner = parse_ref(t, i + 2, depth + 1);
        if (!inner || inner->too_deep || inner->dynamic || !is_op(t, inner->end, ","))
            return inner && (inner->too_deep || inner->dynamic) ? inner : std::nullopt;
        j = inner->end + 1;
        std::string name;
        bool literal = false;
        while (j < t.size() && t[j].kind == TokenKind::String) {
            name += t[j].text;  // adjacent literals concatenate, as in Python
            literal = true;
            ++j;
        }
        r.parts = std::move(inner->parts);
        if (!literal || !is_op(t, j, ")")) {
            r.dynamic = true;  // the arguments are scanned on their own
            r.end = inner->end + 1;
            return r;
        }
        r.parts.push_back(std::move(name));
        j += 1;
    } else if (is_name(t, i)) {
        r.parts.push_back(t[i].text);
        j = i + 1;
    } else if (is_op(t, i, "(")) {
        auto inner = parse_ref(t, i + 1, depth + 1);
        if (!inner) return std::nullopt;
        if (inner->too_deep || inner->dynamic) return inner;
        if (!is_op(t, inner->end, ")")) return std::nullopt;
        r.parts = std::move(inner->parts);
        j = inner->end + 1;
    } else {
        return std::nullopt;
    }
    while (is_op(t, j, ".") && is_name(t, j + 1)) {
        r.parts.push_back(t[j + 1].text);
        j += 2;
    }
    r.end = j;
    return r;
}

std::string join(const Chain& c) {
    std::string s;
    for (const auto& p : c)
        s += (s.empty() ? "" : ".") + p;
    return s;
}

/// Keywords after which '(' opens an expression, not a call's arguments.
bool opens_expression(const Token& prev) {
    if (prev.kind == TokenKind::Op) return prev.text != ")" && prev.text != "]";
    if (prev.kind == TokenKind::Newline) return true;
    if (prev.kind != TokenKind::Name) return false;
    return in(prev.text, {"return", "if", "elif",   "while",  "in",    "not",    "and",
                          "or",     "is", "else",   "assert", "raise", "del",    "for",
                          "with",   "as", "import", "from",   "yield", "lambda", "await"});
}

class Reviewer {
  public:
    explicit Reviewer(const std::vector<Token>& tokens) : t_(tokens) {}

    std::vector<CodeIssue> run() {
        collect_locals();
        collect_bindings();
        for (std::size_t i = 0; i < t_.size();)
            i = visit(i);
        return std::move(issues_);
    }

    void add(IssueKind kind, std::string expression, std::string why, const Token& at) {
        if (++counts_[static_cast<int>(kind)] > limits::kTorchScriptMaxIssuesPerKind) return;
        if (!seen_.insert({static_cast<int>(kind), at.line, expression}).second) return;
        issues_.push_back(
            CodeIssue{kind, std::move(expression), std::move(why), at.offset, at.line});
    }

  private:
    const std::vector<Token>& t_;
    std::vector<CodeIssue> issues_;
    std::array<std::size_t, 8> counts_{};
    std::set<std::tuple<int, std::size_t, std::string>> seen_;
    std::map<std::string, std::vector<Chain>> bindings_;
    std::string class_name_;
    std::set<std::string> locals_;

    /// Where a reference may start: a name that is not an attribute (`x.torch` is not
    /// torch), or a '(' that is not a call's or a subscript's.
    bool starts_ref(std::size_t i) const {
        if (i > 0 && is_op(t_, i - 1, ".")) return false;
        if (is_name(t_, i)) return true;
        return is_op(t_, i, "(") && (i == 0 || opens_expression(t_[i - 1]));
    }

    bool statement_start(std::size_t i) const {
        return i == 0 || t_[i - 1].kind == TokenKind::Newline;
    }

    /// `name = <reference>` on a line of its own.
    std::optional<std::pair<std::string, Ref>> binding_at(std::size_t i) const {
        if (!statement_start(i) || !is_name(t_, i) || !is_op(t_, i + 1, "=")) return std::nullopt;
        auto rhs = parse_ref(t_, i + 2, 0);
        if (!rhs || rhs->dynamic || rhs->too_deep) return std::nullopt;
        if (rhs->end < t_.size() && t_[rhs->end].kind != TokenKind::Newline) return std::nullopt;
        return std::make_pair(t_[i].text, std::move(*rhs));
    }

    /// Names the file declares as locals: assigned (`io = ...`), annotated parameters
    /// (`io: Tensor`), keyword arguments, loop and `as` targets. A Python module name used
    /// as one is the local, not the module (TorchScript cannot name the module anyway).
    void collect_locals() {
        for (std::size_t i = 0; i < t_.size(); ++i) {
            if (!is_name(t_, i) || (i > 0 && is_op(t_, i - 1, "."))) continue;
            const bool declared = is_op(t_, i + 1, "=") || is_op(t_, i + 1, ":") ||
                                  (i > 0 && is_name(t_, i - 1) &&
                                   (t_[i - 1].text == "for" || t_[i - 1].text == "as"));
            if (declared) locals_.insert(t_[i].text);
        }
    }

    /// Every binding of a local name to a namespace, followed through other such bindings
    /// (flow-insensitive: a name bound to a namespace anywhere in the file is that namespace
    /// everywhere in it, which can only add references). A worklist: an assignment is looked
    /// at again only when the name on its right gains a binding, so the work is at most
    /// kTorchScriptMaxBindings + 1 visits per assignment.
    void collect_bindings() {
        struct Assignment {
            std::string name;
            Chain value;
            std::size_t token;
        };
        std::vector<Assignment> found;
        std::map<std::string, std::vector<std::size_t>> readers;  // name -> assignments using it
        for (std::size_t i = 0; i < t_.size(); ++i) {
            if (auto b = binding_at(i)) {
                readers[b->second.parts[0]].push_back(found.size());
                found.push_back(Assignment{b->first, std::move(b->second.parts), i});
            }
        }
        std::deque<std::size_t> work;
        for (std::size_t k = 0; k < found.size(); ++k)
            work.push_back(k);
        bool overflow_reported = false;
        while (!work.empty()) {
            const Assignment& a = found[work.front()];
            work.pop_front();
            bool changed = false;
            for (auto& target : resolve(a.value)) {
                if (!names_namespace(target)) continue;
                auto& list = bindings_[a.name];
                if (std::find(list.begin(), list.end(), target) != list.end()) continue;
                if (list.size() >= limits::kTorchScriptMaxBindings) {
                    if (!overflow_reported)
                        add(IssueKind::NotChecked, a.name + " = " + join(target),
                            "the name is bound to more than " +
                                std::to_string(limits::kTorchScriptMaxBindings) +
                                " namespaces; later bindings were NOT followed",
                            t_[a.token]);
                    overflow_reported = true;
                    continue;
                }
                list.push_back(std::move(target));
                changed = true;
            }
            if (!changed) continue;
            if (const auto it = readers.find(a.name); it != readers.end())
                work.insert(work.end(), it->second.begin(), it->second.end());
        }
    }

    /// The chain as written, and every namespace its first name may be bound to.
    std::vector<Chain> resolve(const Chain& c) const {
        std::vector<Chain> out{c};
        if (c.empty()) return out;
        const auto it = bindings_.find(c[0]);
        if (it == bindings_.end()) return out;
        for (const auto& target : it->second) {
            Chain r = target;
            r.insert(r.end(), c.begin() + 1, c.end());
            if (std::find(out.begin(), out.end(), r) == out.end()) out.push_back(std::move(r));
        }
        return out;
    }

    /// The first string literal among the arguments of the call whose '(' is at `open`
    /// (`"/etc/passwd", ...` or `..., "/tmp/out.pt", ...`), or "...".
    std::string first_string_argument(std::size_t open) const {
        int depth = 0;
        bool first = true;
        constexpr std::size_t kLookahead = 64;  // tokens: evidence only
        for (std::size_t j = open + 1; j < t_.size() && j < open + kLookahead; ++j) {
            const Token& a = t_[j];
            if (a.kind == TokenKind::Op && (a.text == "(" || a.text == "[" || a.text == "{"))
                ++depth;
            if (a.kind == TokenKind::Op && (a.text == ")" || a.text == "]" || a.text == "}")) {
                if (depth == 0) break;
                --depth;
            }
            if (depth == 0 && a.kind == TokenKind::Op && a.text == ",") first = false;
            if (depth == 0 && a.kind == TokenKind::String)
                return std::string(first ? "" : "..., ") + "\"" + a.text.substr(0, 120) + "\", ...";
        }
        return "...";
    }

    /// The reference as written, its first string argument when called with one, and the
    /// namespace its first name is bound to when it was followed.
    std::string shown(const Ref& ref, const Chain& resolved) const {
        std::string s = join(ref.parts);
        if (is_op(t_, ref.end, "(")) s += "(" + first_string_argument(ref.end) + ")";
        if (resolved != ref.parts && !ref.parts.empty()) {
            const std::size_t kept = resolved.size() - (ref.parts.size() - 1);
            s +=
                " where " + ref.parts[0] + " = " +
                join(Chain(resolved.begin(), resolved.begin() + static_cast<std::ptrdiff_t>(kept)));
        }
        return s;
    }

    std::size_t visit(std::size_t i) {
        const Token& tok = t_[i];
        if (tok.kind == TokenKind::Name && tok.text == "class" && is_name(t_, i + 1))
            class_name_ = t_[i + 1].text;
        if (tok.kind == TokenKind::Name && tok.text == "def" && is_name(t_, i + 1) &&
            t_[i + 1].text == "__setstate__") {
            add(IssueKind::SetState,
                (class_name_.empty() ? std::string() : "class " + class_name_ + ": ") +
                    "def __setstate__",
                "torch.jit.load runs it with the state pickled in data.pkl while it restores "
                "the module",
                tok);
            return i + 2;
        }
        if (tok.kind == TokenKind::Name && i > 0 && is_op(t_, i - 1, ".")) {
            // An attribute of something that is not a reference (a call's result, a
            // subscript): only these names matter whatever they are looked up on.
            const Chain attribute{"", tok.text};
            if (auto v = judge_chain(attribute, false, false))
                add(v->kind, "." + tok.text, std::move(v->why), tok);
            return i + 1;
        }
        if (!starts_ref(i)) return i + 1;
        if (binding_at(i)) return i + 2;  // the bound name itself is no reference
        auto ref = parse_ref(t_, i, 0);
        if (!ref) return i + 1;
        if (ref->too_deep) {
            add(IssueKind::NotChecked, "(((...",
                "a reference nested more than " + std::to_string(limits::kTorchScriptMaxNesting) +
                    " levels deep was NOT resolved",
                tok);
            return std::max(ref->end, i + 1);
        }
        const bool called = is_op(t_, ref->end, "(");
        const bool imported =
            i > 0 && is_name(t_, i - 1) && (t_[i - 1].text == "import" || t_[i - 1].text == "from");
        for (const auto& chain : resolve(ref->parts)) {
            if (ref->dynamic) {
                if (names_namespace(chain))
                    add(IssueKind::NotChecked, "getattr(" + join(chain) + ", ...)",
                        "getattr() on a namespace with a name that is not a string literal: "
                        "what it reaches was NOT checked (torch refuses to compile it)",
                        tok);
                continue;
            }
            if (!imported && locals_.count(chain[0]) && judge_python_module(chain[0]))
                continue;  // a local that shares a Python module's name
            if (auto v = judge_chain(chain, called, imported))
                add(v->kind, shown(*ref, chain), std::move(v->why), tok);
        }
        return std::max(ref->end, i + 1);
    }
};

}  // namespace

std::vector<CodeIssue> review_code(std::string_view text) {
    std::vector<CodeIssue> issues;
    const bool over = text.size() > limits::kTorchScriptMaxCodeBytes;
    if (over) text = text.substr(0, limits::kTorchScriptMaxCodeBytes);
    const Lexed lexed = tokenize(text);
    Reviewer reviewer(lexed.tokens);
    issues = reviewer.run();
    if (!lexed.error.empty()) {
        issues.push_back(CodeIssue{
            IssueKind::NotChecked, lexed.error,
            "torch's lexer refuses this: torch.jit.load fails when it needs the file, after "
            "whatever it restored before that has run; the text from here on was NOT checked",
            lexed.error_offset, lexed.error_line});
    }
    if (over) {
        issues.push_back(CodeIssue{
            IssueKind::NotChecked,
            "more than " + std::to_string(limits::kTorchScriptMaxCodeBytes >> 20) + " MiB of code",
            "only the start of the file was read; the rest was NOT checked", text.size(), 0});
    }
    std::stable_sort(issues.begin(), issues.end(),
                     [](const CodeIssue& a, const CodeIssue& b) { return a.offset < b.offset; });
    return issues;
}

AnomalyCode anomaly_code(IssueKind kind) {
    switch (kind) {
        case IssueKind::FileAccess:
            return kFileAccess;
        case IssueKind::NativeLibrary:
            return kNativeLibrary;
        case IssueKind::Process:
            return kProcess;
        case IssueKind::Network:
            return kNetwork;
        case IssueKind::CustomOp:
            return kCustomOp;
        case IssueKind::SetState:
            return kSetState;
        case IssueKind::NotChecked:
            break;
    }
    return kNotChecked;
}

std::size_t report_code(const ParseContext& context, const Location& where, std::string_view text,
                        std::uint64_t declared_size) {
    auto issues = review_code(text);
    if (declared_size > text.size()) {
        issues.push_back(CodeIssue{IssueKind::NotChecked,
                                   std::to_string(declared_size) + " bytes of code",
                                   "only the first " + std::to_string(text.size()) +
                                       " bytes were read; the rest was NOT checked",
                                   text.size(), 0});
    }
    // A __setstate__ in a file whose code the review read to the end and found nothing else
    // in: what it runs on load calls only ops and methods that reach no file, process,
    // library, network or unknown op namespace (torch's own quantized modules restore their
    // packed weights so). Still reported, below the default gate.
    const bool only_setstate =
        std::all_of(issues.begin(), issues.end(),
                    [](const CodeIssue& issue) { return issue.kind == IssueKind::SetState; });
    for (const auto& issue : issues) {
        Location at = where;
        at.offset = static_cast<std::int64_t>(issue.offset);
        std::string evidence = issue.line ? "line " + std::to_string(issue.line) + ": " : "";
        evidence += printable(issue.expression) + " (" + issue.why + ")";
        const bool reviewed = only_setstate && issue.kind == IssueKind::SetState;
        if (reviewed) evidence += "; the rest of the file was reviewed and calls nothing reported";
        context.anomaly_at(at, reviewed ? kSetStateReviewed : anomaly_code(issue.kind),
                           std::move(evidence));
    }
    return issues.size();
}

}  // namespace mscan::torchscript
