// The symbolic pickle machine. Reads opcodes through the checked ByteReader only; trusts no
// declared length (payloads are skipped by length, never copied beyond a small evidence
// prefix); every cap comes from mscan/limits.h. Loader errors (stack underflow, memo misses)
// are reported and the machine carries on with an unknown value, so a payload placed after a
// deliberate error is still seen; only an unknown opcode or the end of input stops a stream.
#include "formats/pickle/pickle_machine.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "formats/common_codes.h"
#include "formats/joblib/joblib_codes.h"
#include "formats/pickle/data_skim.h"
#include "formats/pickle/opcodes.h"
#include "formats/pickle/pickle_codes.h"
#include "formats/pickle/pickle_detect.h"
#include "formats/pickle/values.h"
#include "mscan/limits.h"

namespace mscan::pickle {
namespace {

constexpr std::size_t kEvidence = limits::kEvidenceChars;
constexpr int kMaxAnomaliesPerCode = limits::kPickleMaxAnomaliesPerCode;
constexpr int kMaxCallsPerName = limits::kPickleMaxCallsPerName;
constexpr std::uint8_t kMaxKeptDepth = limits::kPickleMaxKeptDepth;

bool is_identifier(std::string_view s) {
    if (s.empty()) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        const bool alpha =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
        if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
    }
    return true;
}

/// Dotted identifiers: "os.path", "OrderedDict.__init__".
bool is_dotted_name(std::string_view s) {
    if (s.empty() || s.size() > limits::kPickleMaxNameLength) return false;
    std::size_t start = 0;
    while (true) {
        const std::size_t dot = s.find('.', start);
        const std::string_view part =
            s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
        if (!is_identifier(part)) return false;
        if (dot == std::string_view::npos) return true;
        start = dot + 1;
    }
}

std::vector<std::string_view> split_dots(std::string_view s) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (true) {
        const std::size_t dot = s.find('.', start);
        if (dot == std::string_view::npos) {
            parts.push_back(s.substr(start));
            return parts;
        }
        parts.push_back(s.substr(start, dot - start));
        start = dot + 1;
    }
}

/// scipy.stats distributions exec() their `_parse_arg_template` when unpickled
/// (rv_generic.__setstate__ → _attach_argparser_methods). The text scipy generates starts so.
constexpr std::string_view kTemplateStart = "\ndef _parse_args(self, ";
/// Longest template kept whole for the check; scipy's are a few hundred characters.
constexpr std::size_t kMaxTemplateChars = 16384;
bool is_template_start(std::string_view s) {
    return s.substr(0, kTemplateStart.size()) == kTemplateStart;
}

/// sympy: most constructors (Function subclasses, Tuple, Dict, Rational, sets, sums and
/// integrals) convert their arguments with sympify(), which parses a str, and the str() of any
/// object it does not know, with eval (parse_expr); some do it through another class
/// (Dict builds Tuples). Every call of a sympy callable is judged by its arguments except these,
/// whose constructors were read (sympy 1.11) and never sympify(): Symbol, Dummy and Str read
/// text as a name, Integer and Float as a number, and the polys matrix representations store
/// their rows and domain as they are. Sorted.
constexpr std::array<std::string_view, 12> kSympyNoConversion = {
    "sympy.core.numbers.Float",
    "sympy.core.numbers.Float.__new__",
    "sympy.core.numbers.Integer",
    "sympy.core.numbers.Integer.__new__",
    "sympy.core.symbol.Dummy",
    "sympy.core.symbol.Dummy.__new__",
    "sympy.core.symbol.Str",
    "sympy.core.symbol.Symbol",
    "sympy.core.symbol.Symbol.__new__",
    "sympy.polys.matrices.ddm.DDM",
    "sympy.polys.matrices.domainmatrix.DomainMatrix",
    "sympy.polys.matrices.sdm.SDM",
};
/// sympy classes whose __setitem__ (what SETITEM(S) calls on them) sympify()s the key and value:
/// the mutable matrices (MutableRepMatrix._setitem) and rootoftools' PurePoly-keyed dict. Sorted.
constexpr std::array<std::string_view, 4> kSympySetitemConverts = {
    "sympy.matrices.dense.MutableDenseMatrix",
    "sympy.matrices.repmatrix.MutableRepMatrix",
    "sympy.matrices.sparse.MutableSparseMatrix",
    "sympy.polys.rootoftools._pure_key_dict",
};
#include "formats/pickle/sympy_classes.inc"
bool is_sympy_name(std::string_view name) {
    return name.starts_with("sympy.");
}
/// An object of this class (the class itself, or its __new__) is a sympy expression that
/// sympify() returns unchanged, or a matrix it converts element by element.
bool is_sympy_expression_class(std::string_view name) {
    return is_sympy_name(name) &&
           std::binary_search(kSympyExpressionClasses.begin(), kSympyExpressionClasses.end(), name);
}
bool sympy_converts_arguments(std::string_view name) {
    return is_sympy_name(name) &&
           !std::binary_search(kSympyNoConversion.begin(), kSympyNoConversion.end(), name);
}
bool sympy_setitem_converts(std::string_view name) {
    return std::binary_search(kSympySetitemConverts.begin(), kSympySetitemConverts.end(), name);
}

/// Bytes a loader can read as a file of its own: a zip archive (torch.save's format) or a
/// legacy torch file (a pickle of the magic number 0x1950a86a20f9469cfc6c).
bool starts_like_nested_file(std::string_view s) {
    static constexpr std::string_view kZip("PK\x03\x04", 4);
    static constexpr std::string_view kLegacy(
        "\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 14);
    return s.substr(0, kZip.size()) == kZip || s.substr(0, kLegacy.size()) == kLegacy;
}

/// A PUT/GET operand as CPython reads it (PyLong_FromString, base 10): blanks around it, a
/// sign, underscores between digits ("1_0" is 10). Nothing for what CPython refuses or for a
/// negative key (CPython fails on those, or finds no memo entry).
std::optional<std::uint64_t> memo_key_line(std::string_view s) {
    auto blank = [](char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
    };
    while (!s.empty() && blank(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && blank(s.back()))
        s.remove_suffix(1);
    bool negative = false;
    if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
        negative = s.front() == '-';
        s.remove_prefix(1);
    }
    if (s.empty() || s.front() == '_' || s.back() == '_') return std::nullopt;
    std::uint64_t value = 0;
    char prev = 0;
    for (const char c : s) {
        if (c == '_') {
            if (prev == '_') return std::nullopt;
        } else if (c >= '0' && c <= '9') {
            if (value > (static_cast<std::uint64_t>(INT64_MAX) - (c - '0')) / 10)
                return std::nullopt;
            value = value * 10 + static_cast<std::uint64_t>(c - '0');
        } else {
            return std::nullopt;
        }
        prev = c;
    }
    if (negative && value != 0) return std::nullopt;
    return value;
}

/// The first bytes of a str read as latin-1 code points (what _codecs.encode(s, 'latin1')
/// makes of it), from its UTF-8; stops at the first code point above 0xff.
std::string latin1_prefix(std::string_view utf8) {
    std::string out;
    for (std::size_t i = 0; i < utf8.size() && out.size() < 16; ++i) {
        const auto c = static_cast<unsigned char>(utf8[i]);
        if (c < 0x80) {
            out += static_cast<char>(c);
        } else if ((c & 0xe0) == 0xc0 && c <= 0xc3 && i + 1 < utf8.size()) {
            out += static_cast<char>(((c & 0x1f) << 6) |
                                     (static_cast<unsigned char>(utf8[++i]) & 0x3f));
        } else {
            break;
        }
    }
    return out;
}

/// Attribute names that only matter for reaching something hidden behind an allowed global.
bool is_dangerous_dunder(std::string_view part) {
    static const std::set<std::string_view> names = {
        "__globals__",      "__builtins__",   "__subclasses__", "__class__",   "__dict__",
        "__getattribute__", "__getattr__",    "__code__",       "__closure__", "__func__",
        "__self__",         "__module__",     "__base__",       "__bases__",   "__mro__",
        "__import__",       "__loader__",     "__spec__",       "__reduce__",  "__reduce_ex__",
        "__defaults__",     "__kwdefaults__", "__wrapped__",    "__objclass__"};
    return names.count(part) != 0;
}

/// Python 2 module names that CPython's unpickler maps to Python 3 ones (fix_imports).
std::string_view py3_module(std::string_view module) {
    static const std::map<std::string_view, std::string_view> mapping = {
        {"__builtin__", "builtins"},
        {"copy_reg", "copyreg"},
        {"cPickle", "pickle"},
        {"commands", "subprocess"},
        {"urllib2", "urllib.request"},
        {"httplib", "http.client"},
        {"cStringIO", "io"},
        {"StringIO", "io"},
        {"thread", "_thread"},
        {"Queue", "queue"},
        {"UserDict", "collections"},
        {"exceptions", "builtins"},
        {"Tkinter", "tkinter"},
        {"SocketServer", "socketserver"},
        {"xmlrpclib", "xmlrpc.client"},
        {"HTMLParser", "html.parser"},
        {"cookielib", "http.cookiejar"},
        {"dummy_thread", "_dummy_thread"},
        {"_winreg", "winreg"},
        {"repr", "reprlib"},
        {"urlparse", "urllib.parse"},
        {"robotparser", "urllib.robotparser"},
        {"BaseHTTPServer", "http.server"},
        {"SimpleHTTPServer", "http.server"},
        {"CGIHTTPServer", "http.server"},
        {"anydbm", "dbm"},
        {"whichdb", "dbm"},
        {"dbhash", "dbm.bsd"},
        {"gdbm", "dbm.gnu"},
        {"dumbdbm", "dbm.dumb"},
        {"UserList", "collections"},
        {"UserString", "collections"},
        {"itertools", "itertools"},
    };
    const auto it = mapping.find(module);
    return it == mapping.end() ? module : it->second;
}

/// Python 2 (module, name) pairs that CPython maps to other Python 3 globals.
std::optional<std::pair<std::string_view, std::string_view>> py3_name(std::string_view module,
                                                                      std::string_view name) {
    static const std::map<std::pair<std::string_view, std::string_view>,
                          std::pair<std::string_view, std::string_view>>
        mapping = {
            {{"__builtin__", "xrange"}, {"builtins", "range"}},
            {{"__builtin__", "reduce"}, {"functools", "reduce"}},
            {{"__builtin__", "intern"}, {"sys", "intern"}},
            {{"__builtin__", "unichr"}, {"builtins", "chr"}},
            {{"__builtin__", "unicode"}, {"builtins", "str"}},
            {{"__builtin__", "long"}, {"builtins", "int"}},
            {{"__builtin__", "basestring"}, {"builtins", "str"}},
            {{"__builtin__", "raw_input"}, {"builtins", "input"}},
            {{"__builtin__", "execfile"}, {"builtins", "exec"}},
            {{"itertools", "izip"}, {"builtins", "zip"}},
            {{"itertools", "imap"}, {"builtins", "map"}},
            {{"itertools", "ifilter"}, {"builtins", "filter"}},
            {{"UserDict", "UserDict"}, {"collections", "UserDict"}},
            {{"UserList", "UserList"}, {"collections", "UserList"}},
            {{"UserString", "UserString"}, {"collections", "UserString"}},
            {{"whichdb", "whichdb"}, {"dbm", "whichdb"}},
            {{"_socket", "fromfd"}, {"socket", "fromfd"}},
            {{"_multiprocessing", "Connection"}, {"multiprocessing.connection", "Connection"}},
            {{"multiprocessing.process", "Process"}, {"multiprocessing.context", "Process"}},
        };
    const auto it = mapping.find({module, name});
    if (it == mapping.end()) return std::nullopt;
    return it->second;
}

enum class StreamEnd { Stop, Truncated, InvalidOpcode, Limit };

/// What joblib needs to know of an array's dtype to read it.
struct DtypeInfo {
    bool known = false;
    bool objects = false;  ///< numpy's hasobject: the array data is a nested pickle
    std::uint64_t itemsize = 0;
    std::string why;  ///< when not known
};

class Machine {
  public:
    Machine(ByteReader& reader, const Location& base, const OperationSink* sink,
            const MachineOptions* options = nullptr)
        : in_(reader), base_(base), sink_(sink), options_(options) {}

    /// Runs one stream from the reader's position. `stream_label` goes into locations.
    StreamEnd run_stream(const std::string& stream_label);

    /// Offsets of FRAME ends that an opcode straddled (for alternate parses).
    const std::vector<std::uint64_t>& straddles() const { return straddles_; }
    /// Opcodes executed in the current stream and whether it named a global (for probes).
    std::uint64_t stream_opcodes() const { return stream_opcodes_; }
    bool saw_global() const { return saw_global_; }
    /// A global whose module and name are both valid dotted names (or an extension code): one
    /// the loader can actually import. Text that happens to start with 'c' or 'i' ("class X:",
    /// "import os") reads as a GLOBAL/INST opcode with names no import accepts.
    bool saw_valid_global() const { return saw_valid_global_; }
    /// After a STOP inside a FRAME: where that frame ends (0 when STOP closed its frame).
    std::uint64_t unfinished_frame_end() const {
        return in_frame_ && in_.pos() < frame_end_ ? frame_end_ : 0;
    }
    /// After a stream stopped at a limit or an operand longer than the input: where a
    /// degraded pass can go on reading (0: nowhere), and why it stopped.
    std::uint64_t resume_at() const { return resume_at_; }
    const std::string& resume_reason() const { return resume_reason_; }
    /// Degraded mode: anomalies are not reported (the state is incomplete, so memo misses
    /// and underflows are expected), imports and calls are.
    void set_degraded() { degraded_ = true; }
    /// Stops a stream after this many opcodes (a probe).
    void set_opcode_budget(std::uint64_t n) { opcode_budget_ = n; }

  private:
    // ---- reporting ----
    Location here(std::uint64_t offset) const {
        Location loc = base_;
        loc.offset = static_cast<std::int64_t>(offset);
        loc.index = static_cast<std::int64_t>(stream_opcodes_ - 1);
        loc.stream = stream_label_;
        return loc;
    }
    void anomaly(AnomalyCode code, std::string evidence) {
        if (!sink_ || degraded_) return;
        int& n = anomaly_counts_[std::string(code.text())];
        if (++n > kMaxAnomaliesPerCode) return;
        Operation op;
        op.kind = OpKind::Anomaly;
        op.name = code;
        op.evidence = std::move(evidence);
        op.location = here(op_offset_);
        emit(std::move(op));
    }
    void emit(Operation&& op) {
        if (emitted_ >= limits::kPickleMaxOperations) {
            if (emitted_ == limits::kPickleMaxOperations) {
                ++emitted_;
                Operation lim;
                lim.kind = OpKind::Anomaly;
                lim.name = kLimitExceeded;
                lim.evidence = "more than " + std::to_string(limits::kPickleMaxOperations) +
                               " operations in one pickle stream; later ones are not listed";
                lim.location = here(op_offset_);
                (*sink_)(std::move(lim));
            }
            return;
        }
        ++emitted_;
        (*sink_)(std::move(op));
    }
    void note_import(const Value& g) {
        if (!sink_ || g.lost || g.text.empty()) return;
        if (pending_imports_.count(g.text) || called_.count(g.text)) return;
        Operation op;
        op.kind = OpKind::Import;
        op.name = g.text;
        if (g.node) op.aliases = g.node->aliases;
        op.evidence = "import " + g.text;
        op.location = here(op_offset_);
        pending_imports_.emplace(g.text, std::move(op));
    }
    void note_call(const Value& callee, std::string evidence) {
        if (!sink_) return;
        called_.insert(callee.text);
        int& n = call_counts_[callee.text];
        if (++n > kMaxCallsPerName) return;
        Operation op;
        op.kind = OpKind::Call;
        op.name = callee.text;
        if (callee.node) op.aliases = callee.node->aliases;
        op.evidence = std::move(evidence);
        op.location = here(op_offset_);
        emit(std::move(op));
    }
    void flush_stream_reports();

    // ---- values ----
    static Value scalar(Kind k, std::int64_t num = 0) {
        Value v;
        v.kind = k;
        v.num = num;
        return v;
    }
    static Value unknown() { return scalar(Kind::Unknown); }
    Value text_value(Kind k, std::string_view bytes, std::uint64_t full_len) {
        Value v;
        v.kind = k;
        v.num = static_cast<std::int64_t>(std::min<std::uint64_t>(full_len, INT64_MAX));
        std::size_t keep = std::min<std::size_t>(bytes.size(), limits::kPickleMaxKeptString);
        if (k == Kind::Str && bytes.size() == full_len && full_len <= kMaxTemplateChars &&
            is_template_start(bytes))
            keep = bytes.size();  // checked whole by check_scipy_template
        v.text.assign(bytes.data(), keep);
        v.truncated = full_len > keep;
        return v;
    }
    static Value container(Kind k) { return scalar(k); }
    /// What sympify() would find in a value, looking through containers (every item, kept or
    /// not) but not into objects: kSympifyText for text, bytes and values the machine did
    /// not keep; kSympifyForeign for any object or global that is not a sympy expression
    /// class (kSympyExpressionClasses), whose str() sympify would parse: other libraries'
    /// objects, and what sympy's functions and printers return (sstr(Symbol(name)) is the
    /// name). sympy expressions are judged where they are made (check_sympify).
    static std::uint8_t sympify_bits(const Value& v) {
        if (v.lost) return kSympifyText;
        switch (v.kind) {
            case Kind::None:
            case Kind::Bool:
            case Kind::Int:
            case Kind::BigInt:
            case Kind::Float:
                return 0;
            case Kind::Str:
            case Kind::Bytes:
                return kSympifyText;
            case Kind::Tuple:
            case Kind::List:
            case Kind::Dict:
            case Kind::Set:
            case Kind::FrozenSet:
                return v.node ? v.node->sympify : 0;
            case Kind::Global:  // a class; an attribute taken from an instance can be text
                return is_sympy_expression_class(v.text) && !(v.node && v.node->bound)
                           ? 0
                           : kSympifyForeign;
            case Kind::Object:
                return is_sympy_expression_class(v.text) ? 0 : kSympifyForeign;
            default:
                return kSympifyForeign;
        }
    }
    /// Whether `from` can reach `target` through kept items or BUILD states (a cycle if
    /// `target` then keeps `from`). Bounded: past `budget` visited nodes it answers yes, to stay
    /// safe.
    static bool reaches(const Node* from, const Node* target, int& budget) {
        if (from == target) return true;
        if (--budget <= 0) return true;
        for (const auto& item : from->items) {
            if (item.node && reaches(item.node.get(), target, budget)) return true;
        }
        return from->state && reaches(from->state.get(), target, budget);
    }
    /// Adds an item to a container node, keeping only the first few for evidence. Items are
    /// shared, so an item that already holds the container (l.append(l), or deeper) is kept
    /// only as a summary: reference cycles would never be freed.
    template <typename V>  // const Value& copies, Value&& moves
    static void add_item(Node& node, V&& item, bool pair_half) {
        node.sympify |= sympify_bits(item);
        const std::size_t cap = limits::kPickleMaxKeptItems * (pair_half ? 2 : 1);
        if (node.items.size() >= cap) return;
        const std::uint8_t child_depth = item.node ? item.node->depth : 0;
        int budget = limits::kPickleCycleCheckNodes;
        if (child_depth >= kMaxKeptDepth ||
            (item.node && reaches(item.node.get(), &node, budget))) {
            Value summary;
            summary.kind = item.kind;
            summary.lost = true;
            node.items.push_back(std::move(summary));
            return;
        }
        node.items.push_back(std::forward<V>(item));
        node.depth = std::max<std::uint8_t>(node.depth, child_depth + 1);
    }
    /// Dict keys whose values the machine checks as they are set (see check_scipy_template).
    /// [first, last) may be empty with null pointers (an empty stack).
    void check_pairs(const Value* first, const Value* last) {
        const auto n = static_cast<std::size_t>(last - first);
        for (std::size_t i = 0; i + 1 < n; i += 2) {
            const Value& k = first[i];
            if (k.kind == Kind::Str && k.num == 19 && k.text == "_parse_arg_template")
                check_scipy_template(first[i + 1]);
        }
    }
    /// Moves items [first, last) into a container value: counts them all (in num), keeps the
    /// first few in a node allocated on first use. The items are left moved-from.
    static void add_items(Value& c, Value* first, Value* last, bool pairs) {
        const auto n = static_cast<std::int64_t>(last - first);
        const std::size_t cap = limits::kPickleMaxKeptItems * (pairs ? 2 : 1);
        if (first != last && (!c.node || c.node->items.size() < cap)) {
            if (!c.node) {
                c.node = new_node();
                c.node->items.reserve(std::min<std::size_t>(cap, static_cast<std::size_t>(n)));
            }
            Value* it = first;
            for (; it != last && c.node->items.size() < cap; ++it) {
                add_item(*c.node, std::move(*it), pairs);
            }
            for (; it != last; ++it)  // not kept: only what sympify would make of them
                c.node->sympify |= sympify_bits(*it);
        } else if (c.node) {
            for (Value* it = first; it != last; ++it)
                c.node->sympify |= sympify_bits(*it);
        }
        c.num += pairs ? n / 2 : n;
    }
    Value make_global(std::string_view module, std::string_view qualname);
    Value attribute_of(const Value& base, std::string_view attribute);
    std::string call_text(const Value& callee, const std::vector<const Value*>& args) const {
        std::string s =
            callee.kind == Kind::Global && !callee.text.empty() ? callee.text : render(callee, 120);
        s += "(";
        for (std::size_t i = 0; i < args.size(); ++i) {
            if (i) s += ", ";
            s += render(*args[i], kEvidence);
            if (s.size() > kEvidence) break;
        }
        s += ")";
        if (s.size() > kEvidence) s = s.substr(0, kEvidence) + "...";
        return s;
    }
    static std::vector<const Value*> tuple_items(const Value& args) {
        std::vector<const Value*> out;
        if (args.node) {
            for (const auto& item : args.node->items)
                out.push_back(&item);
        } else if (args.kind != Kind::Tuple) {
            out.push_back(&args);
        }
        return out;
    }
    /// A call of `callee` with `args` (REDUCE, NEWOBJ, OBJ, INST); returns the result.
    /// `unseen`: kSympify* bits of arguments that are not in `args` (not kept).
    Value call(const Value& callee, const std::vector<const Value*>& args, const char* how,
               std::uint8_t unseen = 0);
    /// call() of a global the machine can name; `result` is the plain result call() made.
    Value call_global(const Value& callee, const std::vector<const Value*>& args, const char* how,
                      std::uint8_t unseen, const std::string& evidence, Value& result);
    /// getattr(global or instance, 'name') folded into the attribute it names, if it is one.
    std::optional<Value> fold_getattr(std::string_view name, const std::vector<const Value*>& args);
    /// copyreg's __newobj__, __newobj_ex__ and _reconstructor: a call of the class they get.
    Value call_newobj_helper(std::string_view name, const std::vector<const Value*>& args,
                             const char* how, std::uint8_t unseen);
    /// A call of what attrgetter, methodcaller or partial made, folded into the call it makes.
    std::optional<Value> call_gadget_result(const Value& callee,
                                            const std::vector<const Value*>& args, const char* how);
    /// kSympify* bits of the items of an argument tuple that tuple_items() cannot list.
    static std::uint8_t unseen_bits(const Value& args) {
        if (args.kind != Kind::Tuple) return 0;
        if (args.lost) return kSympifyText;
        if (!args.node) return 0;
        return args.node->items.size() < static_cast<std::uint64_t>(args.num) ? args.node->sympify
                                                                              : 0;
    }
    /// A global named in C++ (for calls the machine folds into another callable).
    static Value named_global(std::string_view dotted) {
        Value v = scalar(Kind::Global);
        v.text = std::string(dotted);
        const auto dot = dotted.rfind('.');
        v.num = static_cast<std::int64_t>(dot == std::string_view::npos ? dotted.size() : dot);
        v.node = new_node();
        return v;
    }
    /// A global the machine can name (not lost, not unresolved).
    static bool is_global(const Value* v) {
        return v->kind == Kind::Global && !v->lost && !v->text.empty();
    }
    /// What an import of the module `dotted` returns (__import__, import_module, dill's
    /// _import_module): a global whose module part is the whole name, so a later getattr on it
    /// folds into module.attribute.
    static Value module_global(const std::string& dotted) {
        Value v = scalar(Kind::Global);
        v.text = dotted;
        v.num = static_cast<std::int64_t>(dotted.size());
        v.node = new_node();
        return v;
    }
    static bool is_partial(std::string_view name) {
        return name == "functools.partial" || name == "_functools.partial";
    }
    static bool is_newobj_helper(std::string_view name) {
        return name == "copyreg.__newobj__" || name == "copyreg.__newobj_ex__" ||
               name == "copyreg._reconstructor" || name == "copy_reg.__newobj__" ||
               name == "copy_reg.__newobj_ex__" || name == "copy_reg._reconstructor";
    }
    /// dill's rebuild helpers that only look a type up in dill's fixed table, or call a
    /// callable the pickle names: folded into what they really do. Returns nothing for the
    /// others (code and function builders, eval), which are reported as calls.
    std::optional<Value> dill_helper(std::string_view name, const std::vector<const Value*>& args,
                                     const char* how, const Value& result);
    /// Calls of loaders that read bytes handed over by the pickle, when the bytes were scanned
    /// as the nested file they are (torch.storage._load_from_bytes), and _codecs.encode of a
    /// str that carries such bytes in a protocol 2 pickle.
    std::optional<Value> bytes_loader(std::string_view name, const std::vector<const Value*>& args,
                                      const Value& result);
    /// A method call on an object made by APPEND(S)/SETITEM(S)/ADDITEMS/BUILD.
    void method_call(const Value& target, const char* method, const Value* first, const Value* last,
                     bool pairs);
    /// Whether a value of this kind gets a method call from BUILD/APPEND/SETITEM/ADDITEMS
    /// (anything that is not a container the pickle built itself).
    static bool receives_method_calls(Kind k) {
        return k == Kind::Object || k == Kind::Global || k == Kind::Ext || k == Kind::PersRef ||
               k == Kind::Unknown;
    }

    // ---- stack ----
    bool push(Value&& v) {
        if (stack_.size() >= limits::kPickleMaxStack) {
            limit_hit("pickle stack depth", limits::kPickleMaxStack);
            return false;
        }
        stack_.push_back(std::move(v));
        return true;
    }
    std::size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
    Value pop() {
        if (stack_.size() <= floor()) {
            anomaly(kStackUnderflow, std::string(opcode_name(op_)) + " on an empty stack");
            return unknown();
        }
        Value v = std::move(stack_.back());
        stack_.pop_back();
        return v;
    }
    Value* top() {
        if (stack_.size() <= floor()) {
            anomaly(kStackUnderflow, std::string(opcode_name(op_)) + " on an empty stack");
            return nullptr;
        }
        return &stack_.back();
    }
    /// Pops the last mark; the items above it stay at stack_[m, end) for the caller to use
    /// in place and then drop with stack_.resize(m). Returns false if there is no mark.
    bool take_mark(std::size_t& m) {
        if (marks_.empty()) {
            anomaly(kNoMark, std::string(opcode_name(op_)) + " without a MARK");
            return false;
        }
        m = marks_.back();
        marks_.pop_back();
        return true;
    }
    Value* stack_at(std::size_t i) { return stack_.data() + i; }
    void limit_hit(const char* what, std::uint64_t cap) {
        anomaly(kLimitExceeded, std::string(what) + " exceeds " + std::to_string(cap) +
                                    "; the rest of the stream is read in a degraded pass");
        limit_stop_ = true;
        resume(std::string(what) + " over " + std::to_string(cap));
    }
    void resume(std::string why) {
        resume_at_ = in_.pos();
        resume_reason_ = std::move(why);
    }

    // ---- memo ----
    bool worth_keeping(const Value& v) const;
    void memo_put(std::uint64_t key, const Value& v);
    std::uint32_t kept_slot(std::uint64_t key) const;
    void set_kept_slot(std::uint64_t key, std::uint32_t slot);
    Value memo_get(std::uint64_t key);

    // ---- operand reading ----
    bool read_line(std::string_view& out) {
        auto l = in_.line(limits::kPickleMaxTextLine);
        if (!l) return false;
        out = *l;
        if (!out.empty() && out.back() == '\r') out.remove_suffix(1);
        return true;
    }
    /// Reads `n` payload bytes, keeping only an evidence prefix; skips the rest by length.
    bool read_payload(std::uint64_t n, Kind kind, Value& out);
    /// Checks that the opcode that ends at `op_end` stays inside the current FRAME (inline
    /// fast path: nearly every opcode is well inside its frame).
    bool check_frame(std::uint64_t op_end) {
        if (!in_frame_ || (op_end <= frame_end_ && op_offset_ < frame_end_)) return true;
        return check_frame_edge(op_end);
    }
    bool check_frame_edge(std::uint64_t op_end);

    // ---- opcode dispatch ----
    /// How step() goes on after an opcode's handler.
    enum class Next : std::uint8_t {
        Check,  ///< the opcode ran: step() checks it stayed inside its FRAME and that no limit hit
        Go,     ///< the opcode ran and checked its own frame: go on (a limit it hit ends the
                ///< stream after the next opcode, as it always has)
        End,    ///< the stream ends here: STOP, an operand cut short, a load error, a limit
    };
    /// An opcode's handler (CPython's load_* methods).
    using Handler = Next (Machine::*)();
    /// The handler of each opcode byte; null for bytes that are not opcodes.
    static constexpr std::array<Handler, 256> handler_table();
    /// Executes one opcode. Returns false when the stream ends (STOP, error, limit).
    bool step();
    /// Notes an operand read that failed because the input ended (a truncated stream).
    bool need(bool ok) {
        if (!ok) truncated_ = true;
        return ok;
    }

    // ---- opcode handlers, one per opcode or per family of opcodes that share code ----
    Next load_mark();
    Next load_stop();
    Next load_pop();
    Next load_pop_mark();
    Next load_dup();
    Next load_float();
    Next load_decimal();
    template <auto Read>
    Next load_binint();
    Next load_long_binary();
    template <Kind K, std::int64_t N>
    Next load_constant();
    Next load_binfloat();
    Next load_string();
    Next load_unicode();
    bool read_counted_length(std::uint64_t& n);
    Next load_counted();
    template <Kind K>
    Next load_marked_container();
    template <int N>
    Next load_small_tuple();
    Next load_append();
    Next load_appends();
    Next load_setitem();
    Next load_setitems();
    Next load_additems();
    Next load_named_global();
    Next load_stack_global();
    Next load_reduce();
    template <bool Ex>
    Next load_newobj();
    Next load_obj();
    Next load_build();
    void memo_store(std::uint64_t key);
    Next load_put();
    template <auto Read>
    Next load_binput();
    Next load_memoize();
    Next load_get();
    template <auto Read>
    Next load_binget();
    void report_persistent_id(const Value& pid);
    void push_persistent(const Value& pid);
    Next load_persid();
    Next load_binpersid();
    template <auto Read>
    Next load_ext();
    Next load_proto();
    Next load_frame();
    Next load_next_buffer();
    Next load_readonly_buffer();

    // ---- what the handlers of globals, calls, BUILD, the fills and FRAME run ----
    void op_global(std::string_view module, std::string_view name);
    void op_stack_global();
    void op_reduce();
    void op_build();
    void joblib_array(const Value& state);
    /// joblib.load reads an array from the file after the BUILD of a NumpyArrayWrapper (the
    /// unpickler tests isinstance, so its vendored copies count too).
    static bool is_joblib_wrapper(const Value& v) {
        return v.text == "joblib.numpy_pickle.NumpyArrayWrapper" ||
               v.text == "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper" ||
               std::string_view(v.text).ends_with(".numpy_pickle.NumpyArrayWrapper");
    }
    bool build_partial(Value& partial, const Value& state);
    void build_script_object(const Value& state);
    DtypeInfo dtype_info(const Value& dtype);
    void check_scipy_template(const Value& value);
    void check_sympify(const Value* const* args, std::size_t n, std::uint8_t unseen,
                       const std::string& evidence);
    void op_newobj(bool ex);
    void op_obj();
    void op_inst(std::string_view module, std::string_view name);
    void op_fill(Kind container_kind, const char* method, bool pairs, bool marked);
    void op_frame(std::uint64_t len);
    bool decode_escaped_string(std::string_view quoted, std::string& out);
    static bool decode_raw_unicode_escape(std::string_view in, std::string& out);

    ByteReader& in_;
    Location base_;
    const OperationSink* sink_;
    const MachineOptions* options_;
    std::string stream_label_;

    std::vector<Value> stack_;
    std::vector<std::size_t> marks_;
    // Memo: the kind of every entry (0 = absent, else Kind + 1), and the full value of the
    // entries worth keeping (see worth_keeping), by key.
    std::vector<std::uint8_t> memo_kind_;
    std::unordered_map<std::uint64_t, std::uint8_t> memo_sparse_kind_;
    // 1 + index into kept_ (0: not kept), densely for small keys, sparsely for the rest.
    std::vector<std::uint32_t> kept_dense_;
    std::unordered_map<std::uint64_t, std::uint32_t> kept_sparse_;
    std::uint64_t memo_count_ = 0;
    std::vector<Value> kept_;
    std::size_t kept_text_ = 0;
    bool memo_limit_reported_ = false;

    std::uint8_t op_ = 0;
    std::uint64_t op_offset_ = 0;
    int proto_ = -1;
    bool proto_seen_ = false;
    std::uint64_t frame_end_ = 0;
    bool in_frame_ = false;
    std::vector<std::uint64_t> straddles_;
    bool limit_stop_ = false;
    bool stopped_ = false;
    bool truncated_ = false;
    std::string truncated_detail_;
    bool saw_global_ = false;
    bool saw_valid_global_ = false;
    std::uint64_t stream_opcodes_ = 0;
    std::uint64_t emitted_ = 0;
    std::map<std::string, int> anomaly_counts_;
    std::unordered_map<std::string, int> call_counts_;
    std::unordered_set<std::string> called_;
    std::map<std::string, Operation> pending_imports_;
    std::uint64_t persids_ = 0;
    std::string first_persid_;
    std::uint64_t persid_offset_ = 0;
    std::uint64_t buffers_ = 0;
    std::uint64_t resume_at_ = 0;
    std::string resume_reason_;
    bool degraded_ = false;
    std::uint64_t opcode_budget_ = UINT64_MAX;
    Value result_;
};

Value Machine::make_global(std::string_view module_in, std::string_view name_in) {
    saw_global_ = true;
    const bool valid = is_dotted_name(module_in) && is_dotted_name(name_in);
    saw_valid_global_ = saw_valid_global_ || valid;
    if (!valid) {
        anomaly(kUnresolvedGlobal,
                "global operand is not a valid name: module " +
                    render(text_value(Kind::Str, module_in, module_in.size()), 80) + ", name " +
                    render(text_value(Kind::Str, name_in, name_in.size()), 80));
        return scalar(Kind::Global);  // unresolved: no name
    }
    std::string original = std::string(module_in) + "." + std::string(name_in);
    std::string_view module = module_in;
    std::string_view name = name_in;
    if (auto mapped = py3_name(module_in, name_in)) {
        module = mapped->first;
        name = mapped->second;
    } else {
        module = py3_module(module_in);
    }
    Value v;
    v.kind = Kind::Global;
    v.text = std::string(module) + "." + std::string(name);
    v.node = new_node();
    auto& aliases = v.node->aliases;
    if (original != v.text) aliases.push_back(original);
    // find_class walks a dotted qualname attribute by attribute, so "pathlib" + "os.system"
    // is os.system: the qualname and each of its dotted tails name the same object. Tails of
    // one component ("system") are too ambiguous to match rules by.
    const auto parts = split_dots(name);
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
        std::string tail(parts[i]);
        for (std::size_t j = i + 1; j < parts.size(); ++j) {
            tail += ".";
            tail += parts[j];
        }
        aliases.push_back(std::move(tail));
    }
    v.num = static_cast<std::int64_t>(module.size());  // where the module part ends in text
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const auto part = parts[i];
        // builtins.__import__ is a plain global (and code execution); any later component is
        // an attribute walk.
        if (is_dangerous_dunder(part) && !(i == 0 && part == "__import__")) {
            anomaly(kDunderAttribute,
                    "global " + v.text + " walks through attribute " + std::string(part));
            break;
        }
    }
    return v;
}

/// The global `base` names, extended by a dotted attribute path: find_class(module,
/// qualname + "." + attribute), which is what getattr/attrgetter on a global yields.
Value Machine::attribute_of(const Value& base, std::string_view attribute) {
    const std::string& text = base.text;
    const auto split = static_cast<std::size_t>(
        std::clamp<std::int64_t>(base.num, 0, static_cast<std::int64_t>(text.size())));
    const std::string module = text.substr(0, split);
    const std::string qualname =
        (split + 1 < text.size() ? text.substr(split + 1) + "." : std::string()) +
        std::string(attribute);
    return make_global(module, qualname);
}

/// What dill._dill._load_type(name) returns: the type under `name` in dill's
/// _reverse_typemap (builtins' types, the types module's, and a few from operator,
/// functools and io), named the way the rules name it.
std::optional<std::string> dill_type(std::string_view n) {
    static const std::map<std::string_view, std::string_view> kSpecial = {
        {"PartialType", "functools.partial"},
        {"SuperType", "builtins.super"},
        {"ItemGetterType", "operator.itemgetter"},
        {"AttrGetterType", "operator.attrgetter"},
        {"FileType", "_io.FileIO"},
        {"BufferedRandomType", "_io.BufferedRandom"},
        {"BufferedReaderType", "_io.BufferedReader"},
        {"BufferedWriterType", "_io.BufferedWriter"},
        {"TextWrapperType", "_io.TextIOWrapper"},
        {"PyBufferedRandomType", "_pyio.BufferedRandom"},
        {"PyBufferedReaderType", "_pyio.BufferedReader"},
        {"PyBufferedWriterType", "_pyio.BufferedWriter"},
        {"PyTextWrapperType", "_pyio.TextIOWrapper"},
        {"ExitType", "_sitebuiltins.Quitter"},
        {"InputType", "_io.TextIOWrapper"},
        {"OutputType", "_io.TextIOWrapper"},
        {"EnvironmentError", "builtins.OSError"},
        {"IOError", "builtins.OSError"},
    };
    if (!is_identifier(n)) return std::nullopt;
    if (const auto it = kSpecial.find(n); it != kSpecial.end()) return std::string(it->second);
    // types.XxxType (CodeType, FunctionType, ModuleType, ...); everything else is a builtin.
    if (n.size() > 4 && n.ends_with("Type") && n.front() >= 'A' && n.front() <= 'Z')
        return "types." + std::string(n);
    return "builtins." + std::string(n);
}

/// "Ellipsis", "NotImplemented", "range(0, 3)", "slice(1, None, -2)": reprs whose eval
/// builds a constant and calls nothing else.
bool is_constant_repr(std::string_view s) {
    if (s == "Ellipsis" || s == "NotImplemented") return true;
    std::string_view args;
    if (s.starts_with("range(")) {
        args = s.substr(6);
    } else if (s.starts_with("slice(")) {
        args = s.substr(6);
    } else {
        return false;
    }
    if (!args.ends_with(")") || args.size() > 80) return false;
    args.remove_suffix(1);
    int count = 0;
    while (!args.empty()) {
        const auto comma = args.find(", ");
        std::string_view item = args.substr(0, comma);
        args = comma == std::string_view::npos ? std::string_view() : args.substr(comma + 2);
        if (comma != std::string_view::npos && args.empty()) return false;
        if (item != "None") {
            if (item.starts_with("-")) item.remove_prefix(1);
            if (item.empty() || item.size() > 20 ||
                !std::all_of(item.begin(), item.end(), [](char c) { return c >= '0' && c <= '9'; }))
                return false;
        }
        ++count;
    }
    return count >= 1 && count <= 3;
}

std::optional<Value> Machine::dill_helper(std::string_view name,
                                          const std::vector<const Value*>& args, const char* how,
                                          const Value& result) {
    if (!name.starts_with("dill._dill.") && !name.starts_with("dill.dill.")) return std::nullopt;
    const std::string_view fn = std::string_view(name).substr(name.rfind('.') + 1);
    auto is_const_str = [](const Value* v) {
        return v->kind == Kind::Str && !v->lost && !v->truncated;
    };
    if (fn == "_load_type" && args.size() == 1 && is_const_str(args[0])) {
        const auto type = dill_type(args[0]->text);
        if (!type) return std::nullopt;
        called_.emplace(name);
        Value folded = named_global(*type);
        note_import(folded);
        return folded;
    }
    // _create_type(typeobj, *args) = typeobj(*args); _create_array(f, args, state, npdict)
    // = f(*args) then __setstate__(state); _create_ftype(ftype, func, args, kwds) =
    // ftype(func, *args, **kwds).
    if (fn == "_create_type" && !args.empty() && is_global(args[0])) {
        called_.emplace(name);
        std::vector<const Value*> rest(args.begin() + 1, args.end());
        return call(*args[0], rest, how);
    }
    if (fn == "_create_array" && args.size() >= 2 && is_global(args[0]) &&
        args[1]->kind == Kind::Tuple && !args[1]->lost &&
        (args[1]->num == 0 || (args[1]->node && args[1]->node->items.size() ==
                                                    static_cast<std::size_t>(args[1]->num)))) {
        called_.emplace(name);
        return call(*args[0], tuple_items(*args[1]), how);
    }
    if (fn == "_create_ftype" && args.size() >= 2 && is_global(args[0])) {
        called_.emplace(name);
        std::vector<const Value*> rest(args.begin() + 1, args.end());
        return call(*args[0], rest, how);
    }
    // _get_attr(obj, name) is getattr(obj, name); _import_module(name) imports the module.
    if (fn == "_get_attr" && args.size() == 2) {
        called_.emplace(name);
        return call(named_global("builtins.getattr"), args, how);
    }
    if (fn == "_import_module" && !args.empty() && is_const_str(args[0]) &&
        is_dotted_name(args[0]->text)) {
        called_.emplace(name);
        Value module = module_global(args[0]->text);
        note_import(module);
        return module;
    }
    // _eval_repr(s) is eval(s): code from the file, unless s is the repr of a constant
    // dill writes this way (Ellipsis, NotImplemented, a range or slice of integers).
    if (fn == "_eval_repr" && args.size() == 1 && is_const_str(args[0]) &&
        is_constant_repr(args[0]->text)) {
        called_.emplace(name);
        Value r = result;
        r.text = "builtins.eval";
        return r;
    }
    return std::nullopt;
}

std::optional<Value> Machine::bytes_loader(std::string_view name,
                                           const std::vector<const Value*>& args,
                                           const Value& result) {
    if (args.empty() || !args[0]->node || args[0]->lost) return std::nullopt;
    const Value& data = *args[0];
    if (name == "_codecs.encode" && data.kind == Kind::Str && data.node->blob &&
        (args.size() == 1 ||
         (args[1]->kind == Kind::Str && (args[1]->text == "latin1" || args[1]->text == "latin-1" ||
                                         args[1]->text == "iso-8859-1")))) {
        // The protocol 2 spelling of bytes: the same nested file, now as bytes.
        Value bytes = data;
        bytes.kind = Kind::Bytes;
        if (args.size() == 1) bytes.node = nullptr;  // utf-8, not the file's bytes
        return bytes;
    }
    if (name == "torch.storage._load_from_bytes" && data.kind == Kind::Bytes &&
        data.node->blob == 1) {
        // torch.load(io.BytesIO(data)): the nested file was scanned where its bytes are, and
        // its findings say what loading it runs.
        called_.emplace(name);
        Value r = result;
        r.text = name;
        return r;
    }
    return std::nullopt;
}

namespace {

/// A str the file spells out whole that is a valid dotted name (an attribute or module).
bool is_const_name(const Value* v) {
    return v->kind == Kind::Str && !v->lost && !v->truncated && is_dotted_name(v->text);
}

/// An object made by calling a class: its class name, and where the module part ends.
bool is_class_instance(const Value* v) {
    return v->kind == Kind::Object && !v->lost && !v->text.empty() && v->num > 0 &&
           static_cast<std::size_t>(v->num) < v->text.size();
}

/// How an unresolved callee is described in the anomaly.
const char* describe_callee(Kind kind) {
    switch (kind) {
        case Kind::Object:
            return "the result of another call";
        case Kind::Ext:
            return "an object from the extension registry";
        case Kind::PersRef:
            return "an object returned by persistent_load";
        case Kind::Global:
            return "a global whose name could not be resolved";
        default:
            return "a value that is not a resolvable global";
    }
}

}  // namespace

Value Machine::call(const Value& callee, const std::vector<const Value*>& args, const char* how,
                    std::uint8_t unseen) {
    const std::string evidence = call_text(callee, args);
    Value result = scalar(Kind::Object);
    result.node = new_node();
    result.node->origin = evidence;
    for (const Value* arg : args)
        add_item(*result.node, *arg, false);
    result.node->count = args.size();
    if (is_global(&callee)) return call_global(callee, args, how, unseen, evidence, result);
    if (auto folded = call_gadget_result(callee, args, how)) return std::move(*folded);
    if (callee.lost) {
        anomaly(kLimitExceeded, std::string(how) +
                                    " calls a memoised value that was not kept "
                                    "(memo budget); the call was not verified: " +
                                    evidence);
    } else {
        anomaly(kUnresolvedCallable,
                std::string(how) + " calls " + describe_callee(callee.kind) + ": " + evidence);
    }
    return result;
}

// A call of a global the machine can name: folded when it is a known indirection (getattr,
// partial, copyreg's helpers, dill's helpers, byte loaders), otherwise reported as a call.
// `result` is the plain call result that call() prepared.
Value Machine::call_global(const Value& callee, const std::vector<const Value*>& args,
                           const char* how, std::uint8_t unseen, const std::string& evidence,
                           Value& result) {
    // A view: comparisons with literals check the length first, no strlen per compare.
    const std::string_view name = callee.text;
    if (callee.node && callee.node->bound) {
        // A method taken from an instance by getattr, now called: a call chosen by a string
        // from the file, which is what the reflection rule is about.
        called_.emplace(name);
        note_call(named_global("builtins.getattr"),
                  "calls the method that getattr took from an instance: " + evidence);
        result.text = name;
        return std::move(result);
    }
    if (name == "builtins.getattr") {
        if (auto folded = fold_getattr(name, args)) return std::move(*folded);
    }
    // Building a partial calls nothing: what matters is the callable it wraps, which model
    // code may call later (judged as stored; a partial called inside the pickle is folded in
    // call_gadget_result). A partial of something the machine cannot name stays a gadget.
    if (is_partial(name) && !args.empty() && is_global(args[0])) {
        called_.emplace(name);
        note_import(*args[0]);
        for (const Value* arg : args)
            if (arg->kind == Kind::Global && arg != args[0]) note_import(*arg);
        result.text = name;
        result.num = callee.num;
        return std::move(result);
    }
    if (is_newobj_helper(name) && !args.empty() && is_global(args[0]))
        return call_newobj_helper(name, args, how, unseen);
    // torch.ScriptObject() is an empty shell; the BUILD that follows names the registered
    // class whose __setstate__ restores it (see op_build).
    if (name == "torch.ScriptObject" && args.empty()) {
        called_.emplace(name);
        result.text = name;
        result.num = callee.num;
        return std::move(result);
    }
    if (auto dill = dill_helper(name, args, how, result)) return std::move(*dill);
    if (auto loaded = bytes_loader(name, args, result)) return std::move(*loaded);
    if (sympy_converts_arguments(name)) check_sympify(args.data(), args.size(), unseen, evidence);
    note_call(callee, evidence);
    // __import__('os') / import_module('os') returns the module: track it as a global so that
    // a later getattr(<it>, 'system') folds into os.system.
    if ((callee.text == "builtins.__import__" || callee.text == "importlib.import_module") &&
        !args.empty() && is_const_name(args[0])) {
        return module_global(args[0]->text);
    }
    result.text = callee.text;
    result.num = callee.num;
    return std::move(result);
}

std::optional<Value> Machine::fold_getattr(std::string_view name,
                                           const std::vector<const Value*>& args) {
    if (args.size() != 2 || !is_const_name(args[1]) || args[1]->text.find('.') != std::string::npos)
        return std::nullopt;
    // getattr(<global>, '<const>') is just another way to name a global: fold it.
    if (is_global(args[0])) {
        called_.emplace(name);
        Value folded = attribute_of(*args[0], args[1]->text);
        note_import(folded);
        return folded;
    }
    // getattr(<instance of a known class>, '<const>') stored as a value is the class's
    // attribute (a bound method): judge Class.name. A dunder name, or calling the result
    // later, stays reflection.
    if (is_class_instance(args[0]) && args[1]->text.rfind("__", 0) != 0) {
        called_.emplace(name);
        Value folded = attribute_of(*args[0], args[1]->text);
        if (folded.node) folded.node->bound = true;
        note_import(folded);
        return folded;
    }
    return std::nullopt;
}

// copyreg.__newobj__(cls, *args) is cls.__new__(cls, *args) (what NEWOBJ does), and
// copyreg._reconstructor(cls, base, state) makes an instance of cls the same way: a call of
// cls, whose result is an instance of cls. Unless base is object, _reconstructor also runs
// base.__new__(cls, state) and base.__init__(obj, state): a call of base with the state,
// judged as such.
Value Machine::call_newobj_helper(std::string_view name, const std::vector<const Value*>& args,
                                  const char* how, std::uint8_t unseen) {
    called_.emplace(name);
    std::vector<const Value*> rest(args.begin() + 1, args.end());
    if (name.ends_with("._reconstructor")) {
        rest.clear();
        const bool plain =
            args.size() >= 2 && is_global(args[1]) && args[1]->text == "builtins.object";
        if (args.size() == 3 && !plain) call(*args[1], {args[2]}, how);
    }
    return call(*args[0], rest, how, unseen);
}

// Calling what a known indirection gadget returned: fold it into what it really calls, e.g.
// attrgetter('system')(os) is os.system, partial(os.system, 'id')() is os.system('id').
std::optional<Value> Machine::call_gadget_result(const Value& callee,
                                                 const std::vector<const Value*>& args,
                                                 const char* how) {
    if (callee.kind != Kind::Object || callee.lost || !callee.node) return std::nullopt;
    const std::string& maker = callee.text;
    const auto& made_with = callee.node->items;
    const bool all_kept = callee.node->count == made_with.size();
    if ((maker == "operator.attrgetter" || maker == "_operator.attrgetter") && all_kept &&
        made_with.size() == 1 && is_const_name(&made_with[0]) && args.size() == 1 &&
        is_global(args[0])) {
        Value folded = attribute_of(*args[0], made_with[0].text);
        note_import(folded);
        return folded;
    }
    if ((maker == "operator.methodcaller" || maker == "_operator.methodcaller") && all_kept &&
        !made_with.empty() && is_const_name(&made_with[0]) &&
        made_with[0].text.find('.') == std::string::npos && args.size() == 1 &&
        is_global(args[0])) {
        const Value method = attribute_of(*args[0], made_with[0].text);
        std::vector<const Value*> rest;
        for (std::size_t i = 1; i < made_with.size(); ++i)
            rest.push_back(&made_with[i]);
        return call(method, rest, how);
    }
    if (is_partial(maker) && all_kept && !made_with.empty() && is_global(&made_with[0])) {
        std::vector<const Value*> all;
        for (std::size_t i = 1; i < made_with.size(); ++i)
            all.push_back(&made_with[i]);
        all.insert(all.end(), args.begin(), args.end());
        return call(made_with[0], all, how);
    }
    return std::nullopt;
}

void Machine::method_call(const Value& target, const char* method, const Value* first,
                          const Value* last, bool pairs) {
    // Containers built by the pickle get their items natively; on any other object the
    // unpickler calls the named method, which a class can define to do anything.
    if (target.kind == Kind::Object && target.lost) {
        // A call result the memo did not keep: its class was judged when it was created, and
        // its methods are that class's, so there is nothing new to report.
        return;
    }
    if (target.kind == Kind::Object || target.kind == Kind::Global) {
        if (target.lost) {
            anomaly(kLimitExceeded, std::string(opcode_name(op_)) +
                                        " on a memoised global that was not kept (memo budget)");
            return;
        }
        if (target.text.empty()) {
            anomaly(kUnresolvedCallable, std::string(opcode_name(op_)) + " calls ." + method +
                                             " on " + render(target, 80));
            return;
        }
        if (target.kind == Kind::Object && std::string_view(method) == "__setitem__" &&
            sympy_setitem_converts(target.text)) {
            std::vector<const Value*> args;
            std::string shown;
            for (const Value* it = first; it != last; ++it) {
                args.push_back(it);
                if (shown.size() < kEvidence) shown += (it == first ? "" : ", ") + render(*it, 80);
            }
            check_sympify(args.data(), args.size(), 0, target.text + ".__setitem__(" + shown + ")");
        }
        if (target.kind == Kind::Object &&
            (!sink_ || call_counts_[target.text] >= kMaxCallsPerName)) {
            // Past the per-name report cap: note the call, skip rendering its evidence (this
            // runs for every object of a large pickle).
            called_.insert(target.text);
            return;
        }
        std::string args;
        for (const Value* it = first; it != last && args.size() < kEvidence; ++it) {
            if (it != first) args += pairs && (it - first) % 2 ? ": " : ", ";
            args += render(*it, kEvidence);
        }
        Value callee = target;
        callee.kind = Kind::Global;
        std::string evidence = target.text + "." + method + "(" + args + ")";
        if (evidence.size() > kEvidence) evidence = evidence.substr(0, kEvidence) + "...";
        if (target.kind == Kind::Global) {
            anomaly(kAttributeWrite,
                    std::string(opcode_name(op_)) + " on the global " + target.text +
                        " itself (sets or calls attributes of a module or class): " + evidence);
        }
        note_call(callee, evidence);
        return;
    }
    // Ext, PersRef, Unknown: what the method belongs to cannot be known.
    anomaly(kUnresolvedCallable,
            std::string(opcode_name(op_)) + " calls ." + method + " on " + render(target, 80));
}

// What the memo keeps in full: values that can decide a later lookup or call (globals, call
// results, names for STACK_GLOBAL, small argument tuples), up to a budget. Everything else
// keeps only its kind, which is all the stack semantics need; evidence shows it as <list>.
bool Machine::worth_keeping(const Value& v) const {
    if (v.lost || kept_.size() >= limits::kPickleMaxKeptCheapValues) return false;
    const bool full = kept_.size() >= limits::kPickleMaxKeptValues;
    switch (v.kind) {
        case Kind::Object:
        case Kind::PersRef:
            return !full;
        case Kind::Global:
        case Kind::Ext:
        case Kind::None:
        case Kind::Bool:
        case Kind::Int:
        case Kind::Float:
            return true;
        case Kind::Str:
        case Kind::Bytes:
        case Kind::BigInt:
            return v.text.size() <= limits::kPickleMaxNameLength &&
                   kept_text_ + v.text.size() <= limits::kPickleMaxKeptTextBytes;
        case Kind::Tuple:
            // Small, flat tuples only (argument tuples): a kept value keeps its whole item
            // tree alive, so nested ones would let a small file retain a lot of memory.
            return !full && v.num <= static_cast<std::int64_t>(limits::kPickleMaxKeptItems) &&
                   (!v.node || v.node->depth <= 1);
        default:
            return false;
    }
}

void Machine::memo_put(std::uint64_t key, const Value& v) {
    // The entry's kind, densely for the usual 0, 1, 2, ... keys, sparsely otherwise.
    const auto kind = static_cast<std::uint8_t>(static_cast<int>(v.kind) + 1);
    bool is_new = false;
    if (key < memo_kind_.size()) {
        is_new = memo_kind_[key] == 0;
        memo_kind_[key] = kind;
    } else if (key < limits::kPickleMaxMemo &&
               key < memo_kind_.size() + limits::kPickleDenseMemoSlack) {
        memo_kind_.resize(key + 1, 0);
        memo_kind_[key] = kind;
        is_new = true;
    } else {
        auto [it, inserted] = memo_sparse_kind_.try_emplace(key, kind);
        if (!inserted) {
            it->second = kind;
        } else if (memo_sparse_kind_.size() > limits::kPickleMaxKeptValues) {
            memo_sparse_kind_.erase(it);
            if (!memo_limit_reported_) {
                memo_limit_reported_ = true;
                anomaly(kLimitExceeded, "too many sparse memo keys; later ones are not tracked");
            }
            return;
        }
        is_new = inserted;
    }
    if (is_new) ++memo_count_;
    // The full value, if worth it; an overwritten key reuses its slot.
    // A new key cannot have a kept value yet: skip the lookup on the hot path.
    const std::uint32_t slot = is_new ? 0 : kept_slot(key);
    if (worth_keeping(v)) {
        kept_text_ += v.text.size();
        if (slot) {
            kept_[slot - 1] = v;
        } else {
            kept_.push_back(v);
            set_kept_slot(key, static_cast<std::uint32_t>(kept_.size()));
        }
    } else if (slot) {
        kept_[slot - 1] = Value{};
        set_kept_slot(key, 0);
    }
}

std::uint32_t Machine::kept_slot(std::uint64_t key) const {
    if (key < kept_dense_.size()) return kept_dense_[key];
    const auto it = kept_sparse_.find(key);
    return it == kept_sparse_.end() ? 0 : it->second;
}

void Machine::set_kept_slot(std::uint64_t key, std::uint32_t slot) {
    if (key < limits::kPickleKeptDenseKeys) {
        if (key >= kept_dense_.size()) {
            if (slot == 0) return;
            kept_dense_.resize(key + 1, 0);
        }
        kept_dense_[key] = slot;
    } else if (slot == 0) {
        kept_sparse_.erase(key);
    } else {
        kept_sparse_[key] = slot;
    }
}

Value Machine::memo_get(std::uint64_t key) {
    std::uint8_t kind = 0;
    if (key < memo_kind_.size()) {
        kind = memo_kind_[key];
    } else if (auto it = memo_sparse_kind_.find(key); it != memo_sparse_kind_.end()) {
        kind = it->second;
    }
    if (kind == 0) {
        anomaly(kMemoMissing, "memo key " + std::to_string(key) + " was never stored");
        return unknown();
    }
    if (const std::uint32_t slot = kept_slot(key)) return kept_[slot - 1];
    Value v = scalar(static_cast<Kind>(kind - 1));
    v.lost = true;
    return v;
}

bool Machine::read_payload(std::uint64_t n, Kind kind, Value& out) {
    if (n > in_.remaining()) return false;
    const std::uint64_t start = in_.pos();
    std::size_t keep =
        static_cast<std::size_t>(std::min<std::uint64_t>(n, limits::kPickleMaxKeptString));
    auto head = in_.bytes(keep);
    if (!head) return false;
    std::string_view text(reinterpret_cast<const char*>(head->data()), head->size());
    std::string whole;
    if (kind == Kind::Str && n > keep && n <= kMaxTemplateChars && is_template_start(text)) {
        // A scipy argument-parser template is checked whole (see check_scipy_template).
        auto rest = in_.bytes(static_cast<std::size_t>(n - keep));
        if (!rest) return false;
        whole.assign(text);
        whole.append(reinterpret_cast<const char*>(rest->data()), rest->size());
        out = text_value(kind, whole, n);
        return true;
    }
    out = text_value(kind, text, n);
    // Cheap first test (every string and bytes operand passes here): 'P' starts a zip, 0x80
    // a legacy torch file (0xc2 0x80 in the UTF-8 of a latin-1 str).
    const auto first = static_cast<unsigned char>(text.empty() ? 0 : text[0]);
    if (n >= 4 && options_ && options_->on_blob &&
        (first == 'P' || first == (kind == Kind::Str ? 0xc2 : 0x80)) &&
        starts_like_nested_file(kind == Kind::Str ? latin1_prefix(text)
                                                  : std::string(text.substr(0, 16)))) {
        out.node = new_node();
        out.node->blob =
            options_->on_blob(in_.source(), start, n, kind == Kind::Str, op_offset_) ? 1 : 2;
    }
    return in_.skip(n - keep);
}

bool Machine::check_frame_edge(std::uint64_t op_end) {
    if (op_end > frame_end_ && op_offset_ < frame_end_) {
        anomaly(kFrameStraddle,
                std::string(opcode_name(op_)) + " at offset " + std::to_string(op_offset_) +
                    " runs past the end of its FRAME at offset " + std::to_string(frame_end_));
        if (straddles_.size() < 4) straddles_.push_back(frame_end_);
        in_frame_ = false;
        return false;
    }
    if (op_offset_ >= frame_end_) in_frame_ = false;
    return true;
}

void Machine::op_frame(std::uint64_t len) {
    if (proto_ >= 0 && proto_ < 4) {
        anomaly(kProtocolAnomaly, "FRAME in a protocol " + std::to_string(proto_) + " stream");
    }
    if (in_frame_ && in_.pos() < frame_end_) {
        anomaly(kFrameMismatch, "FRAME starts at offset " + std::to_string(op_offset_) +
                                    " inside a frame that ends at " + std::to_string(frame_end_));
    }
    if (len > in_.remaining()) {
        anomaly(kFrameMismatch, "FRAME declares " + std::to_string(len) + " bytes but only " +
                                    std::to_string(in_.remaining()) + " follow");
        in_frame_ = false;
        return;
    }
    in_frame_ = true;
    frame_end_ = in_.pos() + len;
}

// Decodes a protocol 0 STRING operand: a quoted Python bytes literal.
bool Machine::decode_escaped_string(std::string_view q, std::string& out) {
    if (q.size() < 2 || (q.front() != '\'' && q.front() != '"') || q.back() != q.front())
        return false;
    q = q.substr(1, q.size() - 2);
    out.clear();
    for (std::size_t i = 0; i < q.size(); ++i) {
        char c = q[i];
        if (c != '\\' || i + 1 >= q.size()) {
            out.push_back(c);
            continue;
        }
        const char e = q[++i];
        switch (e) {
            case 'n':
                out.push_back('\n');
                break;
            case 't':
                out.push_back('\t');
                break;
            case 'r':
                out.push_back('\r');
                break;
            case 'a':
                out.push_back('\a');
                break;
            case 'b':
                out.push_back('\b');
                break;
            case 'f':
                out.push_back('\f');
                break;
            case 'v':
                out.push_back('\v');
                break;
            case '\\':
                out.push_back('\\');
                break;
            case '\'':
                out.push_back('\'');
                break;
            case '"':
                out.push_back('"');
                break;
            case '\n':
                break;
            case 'x': {
                if (i + 2 >= q.size()) return false;
                const std::string hex(q.substr(i + 1, 2));
                if (!std::isxdigit(static_cast<unsigned char>(hex[0])) ||
                    !std::isxdigit(static_cast<unsigned char>(hex[1]))) {
                    return false;
                }
                out.push_back(static_cast<char>(std::stoi(hex, nullptr, 16)));
                i += 2;
                break;
            }
            default:
                if (e >= '0' && e <= '7') {
                    int v = e - '0';
                    for (int k = 0; k < 2 && i + 1 < q.size() && q[i + 1] >= '0' && q[i + 1] <= '7';
                         ++k) {
                        v = v * 8 + (q[++i] - '0');
                    }
                    out.push_back(static_cast<char>(v & 0xff));
                } else {
                    out.push_back('\\');
                    out.push_back(e);
                }
        }
    }
    return true;
}

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
        out.push_back(static_cast<char>(0xf0 | ((cp >> 18) & 0x07)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
}

// Decodes a protocol 0 UNICODE operand (raw-unicode-escape: \uXXXX, \UXXXXXXXX, else latin-1).
bool Machine::decode_raw_unicode_escape(std::string_view in, std::string& out) {
    out.clear();
    for (std::size_t i = 0; i < in.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(in[i]);
        if (c == '\\' && i + 1 < in.size() && (in[i + 1] == 'u' || in[i + 1] == 'U')) {
            const std::size_t digits = in[i + 1] == 'u' ? 4 : 8;
            if (i + 2 + digits > in.size()) return false;
            std::uint32_t cp = 0;
            for (std::size_t k = 0; k < digits; ++k) {
                const char h = in[i + 2 + k];
                if (!std::isxdigit(static_cast<unsigned char>(h))) return false;
                cp =
                    cp * 16 + static_cast<std::uint32_t>(std::isdigit(static_cast<unsigned char>(h))
                                                             ? h - '0'
                                                             : (std::tolower(h) - 'a' + 10));
            }
            if (cp > 0x10ffff) return false;
            append_utf8(out, cp);
            i += 1 + digits;
        } else {
            append_utf8(out, c);
        }
    }
    return true;
}

void Machine::op_global(std::string_view module, std::string_view name) {
    Value g = make_global(module, name);
    note_import(g);
    push(std::move(g));
}

void Machine::op_stack_global() {
    Value name = pop();
    Value module = pop();
    const bool ok = module.kind == Kind::Str && name.kind == Kind::Str && !module.lost &&
                    !name.lost && !module.truncated && !name.truncated;
    if (!ok) {
        saw_global_ = true;
        if (module.lost || name.lost) {
            anomaly(kLimitExceeded,
                    "STACK_GLOBAL operand came from a memo entry that was not kept (memo budget)");
        } else {
            anomaly(kUnresolvedGlobal, "STACK_GLOBAL operands are not constant strings: module " +
                                           render(module, 80) + ", name " + render(name, 80));
        }
        Value v = scalar(Kind::Global);
        v.lost = module.lost || name.lost;
        push(std::move(v));
        return;
    }
    op_global(module.text, name.text);
}

void Machine::op_reduce() {
    Value args = pop();
    Value callee = pop();
    if (args.kind != Kind::Tuple && args.kind != Kind::Unknown && !args.lost) {
        anomaly(kBadType, "REDUCE arguments are a " + render(args, 40) + ", not a tuple");
    }
    push(call(callee, tuple_items(args), "REDUCE", unseen_bits(args)));
}

void Machine::op_newobj(bool ex) {
    Value kwargs;
    if (ex) kwargs = pop();
    Value args = pop();
    Value cls = pop();
    auto items = tuple_items(args);
    if (ex && kwargs.kind == Kind::Dict && kwargs.num > 0) items.push_back(&kwargs);
    push(call(cls, items, ex ? "NEWOBJ_EX" : "NEWOBJ", unseen_bits(args)));
}

void Machine::op_obj() {
    std::size_t m = 0;
    if (!take_mark(m)) {
        push(unknown());
        return;
    }
    if (stack_.size() == m) {
        anomaly(kStackUnderflow, "OBJ with nothing after its MARK");
        push(unknown());
        return;
    }
    std::vector<const Value*> args;
    for (std::size_t i = m + 1; i < stack_.size(); ++i)
        args.push_back(stack_at(i));
    Value result = call(stack_[m], args, "OBJ");
    stack_.resize(m);
    push(std::move(result));
}

void Machine::op_inst(std::string_view module, std::string_view name) {
    std::size_t m = 0;
    const bool have_mark = take_mark(m);
    const Value cls = make_global(module, name);
    if (!have_mark) {
        push(unknown());
        return;
    }
    std::vector<const Value*> args;
    for (std::size_t i = m; i < stack_.size(); ++i)
        args.push_back(stack_at(i));
    Value result = call(cls, args, "INST");
    stack_.resize(m);
    push(std::move(result));
}

void Machine::op_build() {
    Value state = pop();
    Value* target = top();
    if (!target) return;
    if (receives_method_calls(target->kind)) {
        const bool object = target->kind == Kind::Object && !target->lost && target->node;
        if (object && is_partial(target->text) && build_partial(*target, state)) return;
        if (object && target->text == "torch.ScriptObject") {
            build_script_object(state);
            return;
        }
        method_call(*target, "__setstate__", &state, &state + 1, false);
        if (!object) return;
        int budget = limits::kPickleCycleCheckNodes;
        if (target->text == "numpy.dtype" && state.kind == Kind::Tuple && state.node &&
            !reaches(state.node.get(), target->node.get(), budget)) {
            // elsize, fields: joblib_array reads them. A state that holds the dtype itself
            // is not kept: the cycle would never be freed (dtype_info then says "no state").
            target->node->state = state.node;
        }
        if (is_joblib_wrapper(*target)) joblib_array(state);
    } else if (!target->lost) {
        anomaly(kBadType, "BUILD on a " + render(*target, 40));
    }
}

// What numpy makes of a pickled dtype: numpy.dtype(code, align, copy=True) then __setstate__
// with (version, byteorder, subarray, names, fields, elsize, alignment, flags[, metadata]).
// Flexible kinds (S, U, V) take their size from the state's elsize ('U' codes count
// characters of 4 bytes). Whether the dtype holds objects (numpy's hasobject, which decides
// whether joblib unpickles the array data) is bit 0 of the state's flags, whatever the kind
// (numpy 1.24 copies the pickled flags into the new descriptor); without a state it follows
// the kind.
DtypeInfo Machine::dtype_info(const Value& dtype) {
    DtypeInfo info;
    if (dtype.kind != Kind::Object || dtype.lost || !dtype.node || dtype.node->items.empty() ||
        dtype.node->items[0].kind != Kind::Str || dtype.node->items[0].truncated) {
        info.why = "not a numpy.dtype call";
        return info;
    }
    const std::string& code = dtype.node->items[0].text;
    std::string_view body = code;
    if (!body.empty() && (body[0] == '<' || body[0] == '>' || body[0] == '=' || body[0] == '|'))
        body.remove_prefix(1);
    if (body.empty()) {
        info.why = "empty type code";
        return info;
    }
    const char kind = body[0];
    std::uint64_t digits = 0;
    bool has_digits = false;
    for (std::size_t i = 1; i < body.size(); ++i) {
        const char c = body[i];
        if (c < '0' || c > '9' || digits > (1u << 30)) {
            info.why = "type code '" + code.substr(0, 40) + "'";
            return info;
        }
        digits = digits * 10 + static_cast<std::uint64_t>(c - '0');
        has_digits = true;
    }
    const Node* st = dtype.node->state.get();
    auto int_item = [st](std::size_t i) -> std::optional<std::int64_t> {
        if (!st || i >= st->items.size() || st->items[i].kind != Kind::Int || st->items[i].lost)
            return std::nullopt;
        return st->items[i].num;
    };
    info.objects = kind == 'O';
    if (st) {
        const auto version = int_item(0);
        const auto flags = int_item(7);
        if (!version || *version < 3 || !flags) {
            info.why = "dtype state mscan cannot read";
            return info;
        }
        info.objects = (*flags & 1) != 0;
    }
    std::uint64_t size = kind == 'U' ? digits * 4 : digits;
    if (kind == 'S' || kind == 'U' || kind == 'V' || kind == 'a') {
        if (const auto elsize = int_item(5); elsize && *elsize > 0)
            size = static_cast<std::uint64_t>(*elsize);
    } else if (!has_digits) {
        info.why = "type code '" + code.substr(0, 40) + "' has no item size";
        return info;
    }
    info.itemsize = size;
    info.known = size > 0 || info.objects;
    if (!info.known) info.why = "zero item size";
    return info;
}

// scipy.stats distributions exec() the `_parse_arg_template` in their state when unpickled
// (rv_generic.__setstate__ -> _attach_argparser_methods), so the template is code from the
// file. scipy generates it from one fixed text (parse_arg_template in
// scipy/stats/_distn_infrastructure.py) filled with the shape names (identifiers) and one of
// two loc/scale spellings; a template of exactly that shape defines three argument parsers
// and nothing else. Anything else is reported.
namespace {
std::string scipy_template(std::string_view shapes, std::string_view in, std::string_view out) {
    std::string t;
    auto add = [&t](std::initializer_list<std::string_view> parts) {
        for (auto p : parts)
            t += p;
    };
    add({"\ndef _parse_args(self, ",
         shapes,
         " ",
         in,
         "):\n    return (",
         shapes,
         "), ",
         out,
         "\n\ndef _parse_args_rvs(self, ",
         shapes,
         " ",
         in,
         ", size=None):\n    return self._argcheck_rvs(",
         shapes,
         " ",
         out,
         ", size=size)\n\ndef _parse_args_stats(self, ",
         shapes,
         " ",
         in,
         ", moments='mv'):\n    return (",
         shapes,
         "), ",
         out,
         ", moments\n"});
    return t;
}

/// "a, b, " (identifiers, each followed by ", ") or "".
bool is_shape_list(std::string_view s) {
    while (!s.empty()) {
        const auto comma = s.find(", ");
        if (comma == std::string_view::npos || !is_identifier(s.substr(0, comma))) return false;
        s.remove_prefix(comma + 2);
    }
    return true;
}
}  // namespace

// sympy's sympify() (see kSympyNoConversion) parses text with eval, and the str() of an
// object it does not know: a sympy call whose arguments hold text, bytes, a value the machine
// did not keep, or an object of another library runs that text as code when it is unpickled.
// sympy objects among the arguments were judged when they were made.
void Machine::check_sympify(const Value* const* args, std::size_t n, std::uint8_t unseen,
                            const std::string& evidence) {
    std::uint8_t bits = unseen;
    for (std::size_t i = 0; i < n; ++i)
        bits |= sympify_bits(*args[i]);
    if (!bits) return;
    std::string what = (bits & kSympifyText) ? "text (or a value mscan did not keep)" : "";
    if (bits & kSympifyForeign) {
        if (!what.empty()) what += " and ";
        what += "an object that is not a sympy expression";
    }
    anomaly(kSympifiedText, "sympy converts the arguments with sympify(), which parses " + what +
                                " with eval: " + evidence);
}

void Machine::check_scipy_template(const Value& value) {
    std::string why;
    if (value.kind != Kind::Str || value.lost) {
        why = "is a " + render(value, 60) + ", not a constant string";
    } else if (value.truncated) {
        why = "is " + std::to_string(value.num) + " characters long, longer than any scipy writes";
    } else {
        const std::string& t = value.text;
        static constexpr std::array<std::pair<std::string_view, std::string_view>, 2> kLocScale = {
            {{"loc=0, scale=1", "loc, scale"}, {"loc=0", "loc, 1"}}};
        if (is_template_start(t)) {
            const std::string_view rest = std::string_view(t).substr(kTemplateStart.size());
            for (const auto& [in, out] : kLocScale) {
                const std::string close = " " + std::string(in) + "):\n";
                const auto end = rest.find(close);
                if (end == std::string_view::npos) continue;
                const std::string_view shapes = rest.substr(0, end);
                if (is_shape_list(shapes) && t == scipy_template(shapes, in, out)) return;
            }
        }
        why = "is not the text scipy generates: " + render(value, 160);
    }
    anomaly(kScipyTemplate,
            "a scipy.stats distribution's _parse_arg_template, which its __setstate__ passes to "
            "exec(), " +
                why);
}

// functools.partial.__setstate__((func, args, kwds, dict)) replaces what the partial calls:
// the callable is the state's, and it is judged as stored (model code may call it later).
// Returns false when the state is not one the machine can read (then the BUILD is reported
// as a call of the gadget).
bool Machine::build_partial(Value& partial, const Value& state) {
    if (state.kind != Kind::Tuple || state.lost || !state.node || state.node->items.empty() ||
        state.num < 2 || state.node->items.size() != static_cast<std::size_t>(state.num))
        return false;
    const Value& func = state.node->items[0];
    if (func.kind != Kind::Global || func.lost || func.text.empty()) return false;
    called_.insert(partial.text);
    note_import(func);
    // A call of the partial inside the pickle calls func(*args): rebuild what it was made with.
    Node* node = partial.node.get();
    node->items.clear();
    add_item(*node, func, false);
    std::uint64_t count = 1;
    const Value& bound = state.node->items[1];
    const bool args_kept =
        bound.kind == Kind::Tuple && !bound.lost &&
        (bound.num == 0 ||
         (bound.node && bound.node->items.size() == static_cast<std::size_t>(bound.num)));
    if (args_kept && bound.node) {
        for (const auto& a : bound.node->items)
            add_item(*node, a, false);
        count += bound.node->items.size();
    } else if (!args_kept) {
        count += 1;  // not all kept: a later call of it is not folded
    }
    node->count = count;
    return true;
}

// torch pickles a TorchBind object (quantized packed params) as torch.ScriptObject() plus a
// BUILD with (state, '__torch__.torch.classes.<ns>.<Class>'): torch looks the class up in its
// registry and calls that class's registered __setstate__ (native code). That call is what
// loading does: a call of torch.classes.<ns>.<Class>, judged by the rules. A state naming no
// class stays a call of torch.ScriptObject.
void Machine::build_script_object(const Value& state) {
    static constexpr std::string_view kPrefix = "__torch__.torch.classes.";
    std::string_view cls;
    if (state.kind == Kind::Tuple && !state.lost && state.node && state.num == 2 &&
        state.node->items.size() == 2) {
        const Value& name = state.node->items[1];
        if (name.kind == Kind::Str && !name.lost && !name.truncated &&
            name.text.starts_with(kPrefix) && is_dotted_name(name.text))
            cls = std::string_view(name.text).substr(kPrefix.size());
    }
    const Value callee = named_global(cls.empty() ? std::string("torch.ScriptObject")
                                                  : "torch.classes." + std::string(cls));
    note_call(callee, callee.text + ".__setstate__(" + render(state, kEvidence) + ")");
}

// joblib.load's unpickler, right after the BUILD of a NumpyArrayWrapper, reads the array from
// the file itself (joblib/numpy_pickle.py, NumpyArrayWrapper.read_array): for a dtype holding
// objects, a whole nested pickle (pickle.load); otherwise an optional padding-length byte and
// that many padding bytes, then prod(shape) * itemsize bytes of data. The machine skips the
// same bytes, so the stream stays in sync and whatever follows the array is still read.
void Machine::joblib_array(const Value& state) {
    auto fail = [this](const std::string& why) {
        anomaly(joblib::kMalformed,
                why +
                    "; joblib.load's reading of the rest of the file could not be followed, so "
                    "it is read in a degraded pass");
        limit_stop_ = true;
        resume("a joblib array mscan could not size");
    };
    if (state.kind != Kind::Dict || state.lost || !state.node) {
        fail("the NumpyArrayWrapper state is not a dict mscan can read");
        return;
    }
    if (state.node->items.size() != static_cast<std::size_t>(state.num) * 2) {
        fail("the NumpyArrayWrapper state has more keys than mscan keeps");
        return;
    }
    // The instance __dict__ is updated from the dict in order: the last value of a key wins.
    bool duplicate = false;
    auto get = [&state, &duplicate](std::string_view key) -> const Value* {
        const auto& items = state.node->items;
        const Value* found = nullptr;
        for (std::size_t i = 0; i + 1 < items.size(); i += 2) {
            if (items[i].kind == Kind::Str && items[i].text == key) {
                duplicate = duplicate || found != nullptr;
                found = &items[i + 1];
            }
        }
        return found;
    };
    const Value* dtype = get("dtype");
    const Value* shape = get("shape");
    const Value* align = get("numpy_array_alignment_bytes");
    if (!dtype || dtype->kind != Kind::Object || dtype->lost || !dtype->node ||
        dtype->node->items.empty() || dtype->node->items[0].kind != Kind::Str) {
        fail("the NumpyArrayWrapper has no dtype mscan can read");
        return;
    }
    if (duplicate) {
        anomaly(joblib::kDuplicateKey,
                "the NumpyArrayWrapper state sets a key twice; joblib uses the last value");
    }
    const DtypeInfo info = dtype_info(*dtype);
    if (!info.known) {
        fail("the NumpyArrayWrapper dtype is not one mscan can size (" + info.why + ")");
        return;
    }
    const std::string& code = dtype->node->items[0].text;
    if (in_frame_ && in_.pos() < frame_end_) {
        // joblib reads the array from the file, which is already past the buffered frame.
        fail(
            "the NumpyArrayWrapper BUILD is not the last opcode of its frame (joblib would read "
            "the array after the frame while the unpickler continues inside it)");
        return;
    }
    in_frame_ = false;  // the frame ended with the BUILD; the array is outside any frame
    if (info.objects) {
        MachineOptions nested;
        nested.multiple_streams = false;
        nested.report_trailing = false;
        nested.label = "joblib object array at offset " + std::to_string(in_.pos());
        if (sink_) {
            const RunSummary run = scan_pickle(in_, base_, *sink_, nested);
            if (!run.clean) limit_stop_ = true;
        } else {
            limit_stop_ = true;
        }
        return;
    }
    const std::uint64_t itemsize = info.itemsize;
    if (itemsize == 0) {
        fail("the NumpyArrayWrapper dtype '" + code.substr(0, 40) + "' has no item size");
        return;
    }
    std::uint64_t count = 1;
    if (!shape || shape->lost || (shape->kind != Kind::Tuple) ||
        (shape->num > 0 &&
         (!shape->node || shape->node->items.size() != static_cast<std::size_t>(shape->num)))) {
        fail("the NumpyArrayWrapper shape is not a tuple mscan can read");
        return;
    }
    if (shape->node) {
        for (const auto& d : shape->node->items) {
            if (d.kind != Kind::Int || d.num < 0) {
                fail("the NumpyArrayWrapper shape holds something other than sizes");
                return;
            }
            const auto dim = static_cast<std::uint64_t>(d.num);
            if (dim && count > UINT64_MAX / dim) {
                fail("the NumpyArrayWrapper shape overflows");
                return;
            }
            count *= dim;
        }
    }
    if (align && align->kind != Kind::None) {
        const auto pad = in_.u8();
        if (!pad || !in_.skip(*pad)) {
            fail("the file ends inside the array's alignment padding");
            return;
        }
    }
    if (count > UINT64_MAX / itemsize || count * itemsize > in_.remaining()) {
        anomaly(joblib::kMalformed, "the array declares " + std::to_string(count) +
                                        " elements of " + std::to_string(itemsize) +
                                        " bytes, but only " + std::to_string(in_.remaining()) +
                                        " bytes remain");
        limit_stop_ = true;
        return;
    }
    in_.skip(count * itemsize);
}

// APPEND(S), SETITEM(S), ADDITEMS: the items go into the container below them (counted, the
// first few kept), or, when that is not a container the pickle built, become a call of its
// `method` (CPython calls obj.append/extend/__setitem__/add, which a class can define).
void Machine::op_fill(Kind container_kind, const char* method, bool pairs, bool marked) {
    std::size_t m = 0;
    if (marked) {
        if (!take_mark(m)) return;
    } else {
        const std::size_t need = pairs ? 2 : 1;
        if (stack_.size() < floor() + need) {
            anomaly(kStackUnderflow, std::string(opcode_name(op_)) + " on an empty stack");
            stack_.resize(floor());
            return;
        }
        m = stack_.size() - need;
    }
    if (m <= floor()) {
        anomaly(kStackUnderflow,
                std::string(opcode_name(op_)) + " with no container below its items");
        stack_.resize(m);
        return;
    }
    Value& target = stack_[m - 1];
    Value* first = stack_at(m);
    Value* last = stack_at(stack_.size());
    if (pairs && (last - first) % 2) {
        anomaly(kBadOperand, std::string(opcode_name(op_)) + " with an odd number of items");
    }
    if (pairs) check_pairs(first, last);
    if (target.kind == container_kind) {
        if (target.lost) {
            target.num += pairs ? (last - first) / 2 : last - first;
        } else {
            add_items(target, first, last, pairs);
        }
    } else if (receives_method_calls(target.kind)) {
        method_call(target, method, first, last, pairs);
    } else if (!target.lost) {
        anomaly(kBadType, std::string(opcode_name(op_)) + " on a " + render(target, 40));
    }
    stack_.resize(m);
}

// ---- opcode handlers (CPython's load_* methods), one per opcode or opcode family ----
// Each reads its operand, changes the stack, and says how step() goes on. A failed operand
// read means the input ended inside the operand (need() notes that).

Machine::Next Machine::load_mark() {
    if (marks_.size() >= limits::kPickleMaxMarks) {
        limit_hit("nested MARK count", limits::kPickleMaxMarks);
        return Next::End;
    }
    marks_.push_back(stack_.size());
    return Next::Check;
}

Machine::Next Machine::load_stop() {
    result_ = pop();
    stopped_ = true;
    return Next::End;
}

Machine::Next Machine::load_pop() {
    if (stack_.size() > floor()) {
        stack_.pop_back();
    } else if (!marks_.empty()) {
        marks_.pop_back();  // CPython: POP with an empty top stack discards the mark
    } else {
        pop();
    }
    return Next::Check;
}

Machine::Next Machine::load_pop_mark() {
    std::size_t m = 0;
    if (take_mark(m)) stack_.resize(m);
    return Next::Check;
}

Machine::Next Machine::load_dup() {
    Value* t = top();
    push(t ? Value(*t) : unknown());
    return Next::Check;
}

Machine::Next Machine::load_float() {
    std::string_view l;
    if (!need(read_line(l))) return Next::End;
    Value v = scalar(Kind::Float);
    const std::string s(l);
    char* end = nullptr;
    v.num = std::bit_cast<std::int64_t>(std::strtod(s.c_str(), &end));
    if (s.empty() || end != s.c_str() + s.size())
        anomaly(kBadOperand, "FLOAT " + render(text_value(Kind::Str, l, l.size()), 60));
    push(std::move(v));
    return Next::Check;
}

// INT and LONG: a decimal line ("00"/"01" are INT's booleans, LONG may end with 'L').
Machine::Next Machine::load_decimal() {
    std::string_view l;
    if (!need(read_line(l))) return Next::End;
    if (op_ == op::INT && (l == "00" || l == "01")) {
        push(scalar(Kind::Bool, l == "01"));
        return Next::Check;
    }
    std::string_view digits = l;
    if (op_ == op::LONG && !digits.empty() && digits.back() == 'L') digits.remove_suffix(1);
    bool valid = !digits.empty();
    for (std::size_t i = 0; i < digits.size(); ++i) {
        const char c = digits[i];
        if (!(std::isdigit(static_cast<unsigned char>(c)) || (i == 0 && (c == '-' || c == '+'))))
            valid = false;
    }
    if (!valid)
        anomaly(kBadOperand, std::string(opcode_name(op_)) + " " +
                                 render(text_value(Kind::Str, l, l.size()), 60));
    if (digits.size() < 18 && valid) {
        push(scalar(Kind::Int, std::strtoll(std::string(digits).c_str(), nullptr, 10)));
    } else {
        push(text_value(Kind::BigInt, digits, digits.size()));
    }
    return Next::Check;
}

template <auto Read>
Machine::Next Machine::load_binint() {
    const auto v = (in_.*Read)();
    if (!need(v.has_value())) return Next::End;
    push(scalar(Kind::Int, *v));
    return Next::Check;
}

// LONG1 and LONG4: a little-endian two's complement integer of a given byte length.
Machine::Next Machine::load_long_binary() {
    std::uint64_t n = 0;
    if (op_ == op::LONG1) {
        const auto v = in_.u8();
        if (!need(v.has_value())) return Next::End;
        n = *v;
    } else {
        const auto v = in_.i32le();
        if (!need(v.has_value())) return Next::End;
        if (*v < 0) {
            anomaly(kBadOperand, "LONG4 with negative length");
            return Next::End;
        }
        n = static_cast<std::uint64_t>(*v);
    }
    if (n > in_.remaining()) {
        truncated_ = true;
        return Next::End;
    }
    check_frame(in_.pos() + n);
    if (n <= 8) {
        const auto b = in_.bytes(n);
        std::int64_t value = 0;
        for (std::size_t i = 0; i < n; ++i)
            value |= static_cast<std::int64_t>((*b)[i]) << (8 * i);
        if (n > 0 && n < 8 && ((*b)[n - 1] & 0x80)) value -= std::int64_t{1} << (8 * n);
        push(scalar(Kind::Int, value));
    } else {
        in_.skip(n);
        Value v;
        v.kind = Kind::BigInt;
        v.text = "<" + std::to_string(n) + "-byte integer>";
        push(std::move(v));
    }
    return Next::Check;
}

template <Kind K, std::int64_t N>
Machine::Next Machine::load_constant() {
    push(scalar(K, N));
    return Next::Check;
}

Machine::Next Machine::load_binfloat() {
    const auto v = in_.f64be();
    if (!need(v.has_value())) return Next::End;
    Value f = scalar(Kind::Float);
    f.num = std::bit_cast<std::int64_t>(*v);
    push(std::move(f));
    return Next::Check;
}

Machine::Next Machine::load_string() {
    std::string_view l;
    if (!need(read_line(l))) return Next::End;
    std::string decoded;
    if (!decode_escaped_string(l, decoded)) {
        anomaly(kBadStringEscape, "STRING operand is not a quoted literal: " +
                                      render(text_value(Kind::Str, l, l.size()), 80));
        decoded.assign(l);
    }
    push(text_value(Kind::Str, decoded, decoded.size()));
    return Next::Check;
}

Machine::Next Machine::load_unicode() {
    std::string_view l;
    if (!need(read_line(l))) return Next::End;
    std::string decoded;
    if (!decode_raw_unicode_escape(l, decoded)) {
        anomaly(kBadStringEscape, "UNICODE operand has a bad escape");
        decoded.assign(l);
    }
    push(text_value(Kind::Str, decoded, decoded.size()));
    return Next::Check;
}

// The length field of a counted string, bytes or bytearray opcode (its operand shape says
// how wide). False when the input ends or BINSTRING's signed length is negative.
bool Machine::read_counted_length(std::uint64_t& n) {
    const Operand shape = opcode_info(op_)->operand;
    if (shape == Operand::Len1) {
        const auto v = in_.u8();
        if (!need(v.has_value())) return false;
        n = *v;
    } else if (shape == Operand::Len4) {
        const auto v = in_.u32le();
        if (!need(v.has_value())) return false;
        if (op_ == op::BINSTRING && (*v & 0x80000000u)) {
            anomaly(kBadOperand, "BINSTRING with negative length");
            return false;
        }
        n = *v;
    } else {
        const auto v = in_.u64le();
        if (!need(v.has_value())) return false;
        n = *v;
    }
    return true;
}

// BINSTRING, BINUNICODE, BINBYTES and their SHORT_ and 8-byte variants, BYTEARRAY8.
Machine::Next Machine::load_counted() {
    std::uint64_t n = 0;
    if (!read_counted_length(n)) return Next::End;
    check_frame(in_.pos() + std::min<std::uint64_t>(n, UINT64_MAX - in_.pos()));
    const bool is_unicode =
        op_ == op::BINUNICODE || op_ == op::SHORT_BINUNICODE || op_ == op::BINUNICODE8;
    const bool is_text = is_unicode || op_ == op::BINSTRING || op_ == op::SHORT_BINSTRING;
    Value v;
    if (!read_payload(n, is_text ? Kind::Str : Kind::Bytes, v)) {
        if (n > in_.remaining())
            resume(std::string(opcode_name(op_)) + " declaring " + std::to_string(n) + " bytes");
        truncated_ = true;
        truncated_detail_ = std::string(opcode_name(op_)) + " declares " + std::to_string(n) +
                            " bytes but only " + std::to_string(in_.remaining()) + " remain";
        return Next::End;
    }
    if (is_unicode && !v.truncated && !valid_utf8(v.text, /*allow_surrogates=*/true)) {
        // Decoded with "surrogatepass": anything else fails the load here.
        anomaly(kBadOperand, std::string(opcode_name(op_)) +
                                 " operand is not UTF-8: the unpickler fails "
                                 "decoding it; loading stops here");
        return Next::End;
    }
    push(std::move(v));
    return Next::Go;  // frame already checked
}

// DICT, LIST, TUPLE, FROZENSET: a container of the items above the last mark.
template <Kind K>
Machine::Next Machine::load_marked_container() {
    Value c = container(K);
    std::size_t m = 0;
    if (take_mark(m)) {
        if (K == Kind::Dict && (stack_.size() - m) % 2) {
            anomaly(kBadOperand, "DICT with an odd number of items");
        }
        if (K == Kind::Dict) check_pairs(stack_at(m), stack_at(stack_.size()));
        add_items(c, stack_at(m), stack_at(stack_.size()), K == Kind::Dict);
        stack_.resize(m);
    }
    push(std::move(c));
    return Next::Check;
}

template <int N>
Machine::Next Machine::load_small_tuple() {
    Value c = container(Kind::Tuple);
    std::array<Value, N> items;
    for (int i = N - 1; i >= 0; --i)
        items[static_cast<std::size_t>(i)] = pop();
    add_items(c, items.data(), items.data() + N, false);
    push(std::move(c));
    return Next::Check;
}

Machine::Next Machine::load_append() {
    op_fill(Kind::List, "append", false, false);
    return Next::Check;
}

Machine::Next Machine::load_appends() {
    op_fill(Kind::List, "extend", false, true);
    return Next::Check;
}

Machine::Next Machine::load_setitem() {
    op_fill(Kind::Dict, "__setitem__", true, false);
    return Next::Check;
}

Machine::Next Machine::load_setitems() {
    op_fill(Kind::Dict, "__setitem__", true, true);
    return Next::Check;
}

Machine::Next Machine::load_additems() {
    op_fill(Kind::Set, "add", false, true);
    return Next::Check;
}

// GLOBAL and INST: module and name on two lines.
Machine::Next Machine::load_named_global() {
    std::string_view module, name;
    if (!need(read_line(module))) return Next::End;
    const std::string mod(module);
    if (!need(read_line(name))) return Next::End;
    if (!valid_utf8(mod) || !valid_utf8(name)) {
        // _pickle.c decodes both lines as strict UTF-8 before find_class: the load fails
        // here, before importing anything.
        anomaly(kBadOperand, std::string(opcode_name(op_)) +
                                 " operand is not UTF-8: the unpickler fails decoding "
                                 "it before importing anything; loading stops here");
        return Next::End;
    }
    if (op_ == op::GLOBAL) {
        op_global(mod, name);
    } else {
        op_inst(mod, name);
    }
    return Next::Check;
}

Machine::Next Machine::load_stack_global() {
    op_stack_global();
    return Next::Check;
}

Machine::Next Machine::load_reduce() {
    op_reduce();
    return Next::Check;
}

template <bool Ex>
Machine::Next Machine::load_newobj() {
    op_newobj(Ex);
    return Next::Check;
}

Machine::Next Machine::load_obj() {
    op_obj();
    return Next::Check;
}

Machine::Next Machine::load_build() {
    op_build();
    return Next::Check;
}

// PUT, BINPUT, LONG_BINPUT, MEMOIZE store the top of the stack under a key.
void Machine::memo_store(std::uint64_t key) {
    if (stack_.size() <= floor()) {
        anomaly(kStackUnderflow, std::string(opcode_name(op_)) + " on an empty stack");
        return;
    }
    memo_put(key, stack_.back());
}

Machine::Next Machine::load_put() {
    std::string_view l;
    if (!need(read_line(l))) return Next::End;
    const auto k = memo_key_line(l);
    if (!k) {
        anomaly(kBadOperand, "PUT with a bad key");
        return Next::Check;
    }
    memo_store(*k);
    return Next::Check;
}

template <auto Read>
Machine::Next Machine::load_binput() {
    const auto v = (in_.*Read)();
    if (!need(v.has_value())) return Next::End;
    memo_store(*v);
    return Next::Check;
}

Machine::Next Machine::load_memoize() {
    memo_store(memo_count_);  // CPython: len(memo)
    return Next::Check;
}

Machine::Next Machine::load_get() {
    std::string_view l;
    if (!need(read_line(l))) return Next::End;
    const auto k = memo_key_line(l);
    if (!k) {
        anomaly(kBadOperand, "GET with a bad key");
        push(unknown());
        return Next::Check;
    }
    push(memo_get(*k));
    return Next::Check;
}

template <auto Read>
Machine::Next Machine::load_binget() {
    const auto v = (in_.*Read)();
    if (!need(v.has_value())) return Next::End;
    push(memo_get(*v));
    return Next::Check;
}

// Hands the parts of a persistent id to the loader-specific reader that asked for them.
void Machine::report_persistent_id(const Value& pid) {
    if (!options_ || !options_->on_persistent_id) return;
    std::vector<std::string> parts;
    auto part = [](const Value& v) {
        if (v.lost) return std::string();
        if (v.kind == Kind::Str || v.kind == Kind::Global) return v.text;
        if (v.kind == Kind::Int) return std::to_string(v.num);
        return std::string();
    };
    if (pid.kind == Kind::Tuple && pid.node) {
        for (const auto& item : pid.node->items)
            parts.push_back(part(item));
    } else {
        parts.push_back(part(pid));
    }
    options_->on_persistent_id(parts);
}

// What persistent_load(pid) returns: an opaque reference, or for legacy torch's
// ('module', obj, file, source) the obj itself.
void Machine::push_persistent(const Value& pid) {
    report_persistent_id(pid);
    Value ref = scalar(Kind::PersRef);
    ref.node = new_node();
    ref.node->origin = render(pid, 120);
    if (persids_++ == 0) {
        first_persid_ = ref.node->origin;
        persid_offset_ = op_offset_;
    }
    // Legacy torch.load: persistent_load(('module', obj, file, source)) returns obj (the class
    // of a module saved whole); whatever the file put there is what a later call calls.
    if (options_ && options_->persistent_modules && pid.kind == Kind::Tuple && !pid.lost &&
        pid.node && pid.node->items.size() >= 2 &&
        (pid.node->items[0].kind == Kind::Str || pid.node->items[0].kind == Kind::Bytes) &&
        pid.node->items[0].text == "module") {
        push(Value(pid.node->items[1]));
        return;
    }
    push(std::move(ref));
}

Machine::Next Machine::load_persid() {
    std::string_view l;
    if (!need(read_line(l))) return Next::End;
    push_persistent(text_value(Kind::Str, l, l.size()));
    return Next::Check;
}

Machine::Next Machine::load_binpersid() {
    push_persistent(pop());
    return Next::Check;
}

// EXT1, EXT2, EXT4: an object from copyreg's extension registry, by code.
template <auto Read>
Machine::Next Machine::load_ext() {
    const auto v = (in_.*Read)();
    if (!need(v.has_value())) return Next::End;
    const std::int64_t code = *v;
    saw_global_ = true;
    saw_valid_global_ = true;
    anomaly(kExtensionCode,
            std::string(opcode_name(op_)) + " fetches extension code " + std::to_string(code) +
                " from copyreg's registry (the global it stands for is not in the file)");
    push(scalar(Kind::Ext, code));
    return Next::Check;
}

Machine::Next Machine::load_proto() {
    const auto v = in_.u8();
    if (!need(v.has_value())) return Next::End;
    if (proto_seen_) {
        anomaly(kProtocolAnomaly, "PROTO repeated inside one stream");
    } else if (stream_opcodes_ != 1) {
        anomaly(kProtocolAnomaly, "PROTO is not the first opcode");
    }
    if (*v > 5) anomaly(kProtocolAnomaly, "protocol " + std::to_string(*v) + " is newer than 5");
    proto_seen_ = true;
    proto_ = *v;
    return Next::Check;
}

Machine::Next Machine::load_frame() {
    const auto v = in_.u64le();
    if (!need(v.has_value())) return Next::End;
    check_frame(in_.pos());
    op_frame(*v);
    return Next::Go;
}

Machine::Next Machine::load_next_buffer() {
    if (buffers_++ == 0) {
        anomaly(kOutOfBandBuffer, "NEXT_BUFFER: the loader must supply out-of-band buffers");
    }
    push(scalar(Kind::Buffer));
    return Next::Check;
}

Machine::Next Machine::load_readonly_buffer() {
    top();
    return Next::Check;
}

// The dispatch table: the handler of each opcode byte, null for bytes that are not opcodes.
constexpr std::array<Machine::Handler, 256> Machine::handler_table() {
    std::array<Handler, 256> t{};
    t[op::MARK] = &Machine::load_mark;
    t[op::STOP] = &Machine::load_stop;
    t[op::POP] = &Machine::load_pop;
    t[op::POP_MARK] = &Machine::load_pop_mark;
    t[op::DUP] = &Machine::load_dup;
    t[op::FLOAT] = &Machine::load_float;
    t[op::INT] = &Machine::load_decimal;
    t[op::LONG] = &Machine::load_decimal;
    t[op::BININT] = &Machine::load_binint<&ByteReader::i32le>;
    t[op::BININT1] = &Machine::load_binint<&ByteReader::u8>;
    t[op::BININT2] = &Machine::load_binint<&ByteReader::u16le>;
    t[op::LONG1] = &Machine::load_long_binary;
    t[op::LONG4] = &Machine::load_long_binary;
    t[op::NONE] = &Machine::load_constant<Kind::None, 0>;
    t[op::NEWTRUE] = &Machine::load_constant<Kind::Bool, 1>;
    t[op::NEWFALSE] = &Machine::load_constant<Kind::Bool, 0>;
    t[op::BINFLOAT] = &Machine::load_binfloat;
    t[op::STRING] = &Machine::load_string;
    t[op::UNICODE] = &Machine::load_unicode;
    for (const std::uint8_t code :
         {op::BINSTRING, op::BINUNICODE, op::BINBYTES, op::SHORT_BINSTRING, op::SHORT_BINUNICODE,
          op::SHORT_BINBYTES, op::BINUNICODE8, op::BINBYTES8, op::BYTEARRAY8})
        t[code] = &Machine::load_counted;
    t[op::EMPTY_DICT] = &Machine::load_constant<Kind::Dict, 0>;
    t[op::EMPTY_LIST] = &Machine::load_constant<Kind::List, 0>;
    t[op::EMPTY_TUPLE] = &Machine::load_constant<Kind::Tuple, 0>;
    t[op::EMPTY_SET] = &Machine::load_constant<Kind::Set, 0>;
    t[op::DICT] = &Machine::load_marked_container<Kind::Dict>;
    t[op::LIST] = &Machine::load_marked_container<Kind::List>;
    t[op::TUPLE] = &Machine::load_marked_container<Kind::Tuple>;
    t[op::FROZENSET] = &Machine::load_marked_container<Kind::FrozenSet>;
    t[op::TUPLE1] = &Machine::load_small_tuple<1>;
    t[op::TUPLE2] = &Machine::load_small_tuple<2>;
    t[op::TUPLE3] = &Machine::load_small_tuple<3>;
    t[op::APPEND] = &Machine::load_append;
    t[op::APPENDS] = &Machine::load_appends;
    t[op::SETITEM] = &Machine::load_setitem;
    t[op::SETITEMS] = &Machine::load_setitems;
    t[op::ADDITEMS] = &Machine::load_additems;
    t[op::GLOBAL] = &Machine::load_named_global;
    t[op::INST] = &Machine::load_named_global;
    t[op::STACK_GLOBAL] = &Machine::load_stack_global;
    t[op::REDUCE] = &Machine::load_reduce;
    t[op::NEWOBJ] = &Machine::load_newobj<false>;
    t[op::NEWOBJ_EX] = &Machine::load_newobj<true>;
    t[op::OBJ] = &Machine::load_obj;
    t[op::BUILD] = &Machine::load_build;
    t[op::PUT] = &Machine::load_put;
    t[op::BINPUT] = &Machine::load_binput<&ByteReader::u8>;
    t[op::LONG_BINPUT] = &Machine::load_binput<&ByteReader::u32le>;
    t[op::MEMOIZE] = &Machine::load_memoize;
    t[op::GET] = &Machine::load_get;
    t[op::BINGET] = &Machine::load_binget<&ByteReader::u8>;
    t[op::LONG_BINGET] = &Machine::load_binget<&ByteReader::u32le>;
    t[op::PERSID] = &Machine::load_persid;
    t[op::BINPERSID] = &Machine::load_binpersid;
    t[op::EXT1] = &Machine::load_ext<&ByteReader::u8>;
    t[op::EXT2] = &Machine::load_ext<&ByteReader::u16le>;
    t[op::EXT4] = &Machine::load_ext<&ByteReader::i32le>;
    t[op::PROTO] = &Machine::load_proto;
    t[op::FRAME] = &Machine::load_frame;
    t[op::NEXT_BUFFER] = &Machine::load_next_buffer;
    t[op::READONLY_BUFFER] = &Machine::load_readonly_buffer;
    return t;
}

namespace {
/// Whether a dispatch table has a handler for exactly the bytes that opcodes.h lists.
template <typename Table>
constexpr bool covers_exactly_the_opcodes(const Table& table) {
    for (std::size_t code = 0; code < table.size(); ++code) {
        if ((table[code] != nullptr) != (opcode_info(static_cast<std::uint8_t>(code)) != nullptr))
            return false;
    }
    return true;
}
}  // namespace

// Executes one opcode. Returns false when the stream ends (STOP, error, limit).
bool Machine::step() {
    static constexpr std::array<Handler, 256> kHandlers = handler_table();
    static_assert(covers_exactly_the_opcodes(kHandlers));
    op_offset_ = in_.pos();
    const auto byte = in_.u8();
    if (!byte) return false;
    op_ = *byte;
    ++stream_opcodes_;
    const Handler handler = kHandlers[op_];
    if (!handler) return false;  // not an opcode: run_stream reports it
    switch ((this->*handler)()) {
        case Next::Check:
            check_frame(in_.pos());
            return !limit_stop_;
        case Next::Go:
            return true;
        case Next::End:
            return false;
    }
    return false;
}

void Machine::flush_stream_reports() {
    if (!sink_) return;
    for (auto& [name, op] : pending_imports_) {
        if (!called_.count(name)) emit(std::move(op));
    }
    pending_imports_.clear();
    if (persids_) {
        Operation op;
        op.kind = OpKind::Anomaly;
        op.name = kPersistentId;
        op.evidence = std::to_string(persids_) + " persistent id" + (persids_ == 1 ? "" : "s") +
                      " resolved by the loader's persistent_load; first: " + first_persid_;
        op.location = base_;
        op.location.offset = static_cast<std::int64_t>(persid_offset_);
        op.location.stream = stream_label_;
        emit(std::move(op));
    }
}

StreamEnd Machine::run_stream(const std::string& stream_label) {
    stream_label_ = stream_label;
    stack_.clear();
    marks_.clear();
    proto_ = -1;
    proto_seen_ = false;
    in_frame_ = false;
    stream_opcodes_ = 0;
    stopped_ = false;
    truncated_ = false;
    truncated_detail_.clear();
    anomaly_counts_.clear();
    call_counts_.clear();
    called_.clear();
    persids_ = 0;
    buffers_ = 0;
    emitted_ = 0;
    resume_at_ = 0;
    resume_reason_.clear();
    limit_stop_ = false;
    // Each pickle.load() starts with an empty memo (loaders that read several streams make
    // a new unpickler for each).
    memo_kind_.clear();
    memo_sparse_kind_.clear();
    kept_dense_.clear();
    kept_sparse_.clear();
    kept_.clear();
    memo_count_ = 0;
    kept_text_ = 0;
    memo_limit_reported_ = false;
    std::uint64_t released = in_.pos();
    while (stream_opcodes_ < opcode_budget_ && step()) {
        if (in_.pos() - released >= limits::kReleaseChunk) {
            in_.release_before(in_.pos());
            released = in_.pos();
        }
    }
    StreamEnd end;
    if (stopped_) {
        end = StreamEnd::Stop;
    } else if (limit_stop_ || stream_opcodes_ >= opcode_budget_) {
        end = StreamEnd::Limit;
    } else if (truncated_ || in_.at_end()) {
        end = StreamEnd::Truncated;
        anomaly(
            kTruncated,
            truncated_detail_.empty()
                ? "the stream ends at offset " + std::to_string(in_.pos()) +
                      " before STOP; a loader has already run everything before this point"
                : truncated_detail_ + "; a loader has already run everything before this point");
    } else {
        end = StreamEnd::InvalidOpcode;
        char buf[8];
        std::snprintf(buf, sizeof buf, "0x%02x", op_);
        anomaly(kInvalidOpcode, std::string("byte ") + buf + " at offset " +
                                    std::to_string(op_offset_) +
                                    " is not a pickle opcode; the loader stops here with "
                                    "an error after running everything before it");
    }
    flush_stream_reports();
    return end;
}

/// After a STOP: does a real pickle stream start here, or are these trailing bytes?
bool looks_like_stream_start(const ByteReader& at) {
    // Over the whole rest, with a budget of opcodes rather than of bytes: a stream that starts
    // with a long string is still a stream (the machine skips operands by their length).
    ByteReader probe(at.source(), at.pos(), at.end());
    const auto first = probe.peek();
    if (!first) return false;
    if (*first == op::PROTO) return true;
    if (!opcode_info(*first)) return false;
    Machine silent(probe, Location{}, nullptr);
    silent.set_opcode_budget(4096);
    const StreamEnd end = silent.run_stream("");
    if (end == StreamEnd::Stop) return silent.stream_opcodes() >= 2;
    if (end == StreamEnd::Truncated) return silent.saw_global() || silent.stream_opcodes() >= 4;
    return silent.saw_global() || silent.stream_opcodes() >= 4;
}

/// Python has none of the machine's limits, and a length it cannot satisfy only ends the
/// read it is in: after a stream stopped at a limit or at an operand longer than the input,
/// the rest is read again by fresh machines that keep no state from before the stop (so memo
/// misses are expected and not reported) but report every import and call, so a payload
/// placed after a limit keeps its severity. Bounded by kPickleMaxDegradedRestarts.
void degraded_passes(const Machine& stopped, ByteReader& reader, const Location& base,
                     const OperationSink& sink, const MachineOptions& options) {
    std::uint64_t at = stopped.resume_at();
    std::string why = stopped.resume_reason();
    for (int pass = 0; at && at < reader.end() && pass < limits::kPickleMaxDegradedRestarts;
         ++pass) {
        ByteReader rest(reader.source(), at, reader.end());
        Machine degraded(rest, base, &sink, &options);
        degraded.set_degraded();
        const StreamEnd end = degraded.run_stream("degraded pass after " + why + " (from offset " +
                                                  std::to_string(at) + ")");
        if (end == StreamEnd::Stop || rest.pos() <= at) break;
        at = degraded.resume_at();
        why = degraded.resume_reason();
    }
}

/// A STOP before the end of its FRAME: CPython's C unpickler reading a file reads a frame
/// larger than the file's buffer with one read(), so the next pickle.load (legacy torch's
/// five pickles, joblib, a read-all loop) starts at the frame's end; a reader over bytes starts
/// right after STOP. The caller goes on after STOP; this reads what starts at the frame end.
void resume_at_frame_end(const ByteReader& reader, std::uint64_t frame_end, const Location& base,
                         const OperationSink& sink, const MachineOptions& options) {
    thread_local int depth = 0;
    Operation op;
    op.kind = OpKind::Anomaly;
    op.name = kStopInsideFrame;
    op.evidence = "STOP at offset " + std::to_string(reader.pos() - 1) + " ends the stream " +
                  std::to_string(frame_end - reader.pos()) +
                  " bytes before the end of its FRAME (offset " + std::to_string(frame_end) +
                  "): a loader reading the next pickle from a file starts at the frame end, "
                  "one reading from bytes right after STOP; both were scanned";
    op.location = base;
    op.location.offset = static_cast<std::int64_t>(reader.pos() - 1);
    sink(std::move(op));
    if (depth >= 4 || frame_end >= reader.end()) return;
    ++depth;
    ByteReader alt(reader.source(), frame_end, reader.end());
    MachineOptions resumed = options;
    resumed.multiple_streams = true;
    resumed.report_trailing = false;
    resumed.label = "next pickle read from the frame end at offset " + std::to_string(frame_end);
    scan_pickle(alt, base, sink, resumed);
    --depth;
}

}  // namespace

RunSummary scan_pickle(ByteReader& reader, const Location& base, const OperationSink& sink,
                       const MachineOptions& options) {
    RunSummary summary;
    Machine machine(reader, base, &sink, &options);
    bool clean = true;
    while (!reader.at_end()) {
        const std::uint64_t start = reader.pos();
        if (summary.streams > 0) {
            // After a STOP: another pickle follows, or trailing bytes do.
            const auto next = reader.peek();
            const bool plausible = next && (*next == op::PROTO || opcode_info(*next) != nullptr);
            if (!options.multiple_streams || !plausible || !looks_like_stream_start(reader)) {
                if (options.report_trailing) {
                    Operation op;
                    op.kind = OpKind::Anomaly;
                    op.name = kTrailingBytes;
                    op.evidence = std::to_string(reader.remaining()) +
                                  " bytes after the last STOP are not a pickle";
                    op.location = base;
                    op.location.offset = static_cast<std::int64_t>(start);
                    sink(std::move(op));
                    clean = false;
                }
                break;
            }
            if (summary.streams == 1) {
                Operation op;
                op.kind = OpKind::Anomaly;
                op.name = kMultipleStreams;
                op.evidence = "a second pickle starts at offset " + std::to_string(start) +
                              " after the first STOP; loaders that read several (e.g. legacy "
                              "torch.load) run it too";
                op.location = base;
                op.location.offset = static_cast<std::int64_t>(start);
                sink(std::move(op));
            }
            if (summary.streams >= limits::kPickleMaxStreams) {
                Operation op;
                op.kind = OpKind::Anomaly;
                op.name = kLimitExceeded;
                op.evidence = "more than " + std::to_string(limits::kPickleMaxStreams) +
                              " pickle streams in one file; the rest were not verified";
                op.location = base;
                op.location.offset = static_cast<std::int64_t>(start);
                sink(std::move(op));
                clean = false;
                break;
            }
        }
        ++summary.streams;
        if (options.fast_path) {
            // Plain data needs no symbolic values: skim it; anything else goes to the machine.
            if (const auto skimmed = skim_data_stream(reader.source(), start, reader.end())) {
                reader.seek(*skimmed);
                if (!options.multiple_streams) break;
                continue;
            }
        }
        const StreamEnd end = machine.run_stream(
            summary.streams == 1 ? options.label : "pickle " + std::to_string(summary.streams));
        if (end != StreamEnd::Stop) {
            clean = false;
            degraded_passes(machine, reader, base, sink, options);
            break;
        }
        if (const std::uint64_t frame_end = machine.unfinished_frame_end()) {
            resume_at_frame_end(reader, frame_end, base, sink, options);
            clean = false;
        }
        if (!options.multiple_streams) break;
    }
    summary.end_offset = reader.pos();
    // An opcode that straddled a FRAME end: old C unpicklers resume reading at the frame end,
    // so read the stream from there too, to see what such a loader would run.
    for (const std::uint64_t at : machine.straddles()) {
        ByteReader alt(reader.source(), at, reader.end());
        Machine second(alt, base, &sink);
        second.run_stream("alternate parse from frame end at offset " + std::to_string(at));
    }
    summary.clean = clean && machine.straddles().empty();
    return summary;
}

}  // namespace mscan::pickle
