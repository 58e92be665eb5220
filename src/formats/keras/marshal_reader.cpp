// CPython's marshal format, read the way Python/marshal.c's r_object reads it, without building
// a single Python object. Each type code is one case; FLAG_REF (0x80) registers the object in the
// reference table (containers when they are created, code objects and frozensets only once they
// are complete, so a reference into an unfinished one is invalid, as in CPython). Strings are
// kept (cut) only where they are evidence: co_names, constants, co_name, and reference-table
// slots that later references may name. A code object's fields are read by one of three layouts;
// the caller tries each and keeps the one under which the whole input parses.
#include "formats/keras/marshal_reader.h"

#include <array>
#include <set>

#include "mscan/limits.h"

namespace mscan::marshal {
namespace {

// Type codes (Python/marshal.c).
constexpr std::uint8_t kFlagRef = 0x80;
enum : std::uint8_t {
    kNull = '0',
    kNone = 'N',
    kFalse = 'F',
    kTrue = 'T',
    kStopIter = 'S',
    kEllipsis = '.',
    kInt = 'i',
    kInt64 = 'I',
    kFloat = 'f',
    kBinaryFloat = 'g',
    kComplex = 'x',
    kBinaryComplex = 'y',
    kLong = 'l',
    kString = 's',
    kInterned = 't',
    kRef = 'r',
    kTuple = '(',
    kList = '[',
    kDict = '{',
    kCode = 'c',
    kUnicode = 'u',
    kSet = '<',
    kFrozenSet = '>',
    kAscii = 'a',
    kAsciiInterned = 'A',
    kSmallTuple = ')',
    kShortAscii = 'z',
    kShortAsciiInterned = 'Z',
    kSlice = ':',  // Python 3.14
};

/// The code-object field layouts marshal has used.
enum class Layout { Py311, Py38, Py30 };
constexpr std::array<Layout, 3> kLayouts = {Layout::Py311, Layout::Py38, Layout::Py30};

const char* layout_name(Layout l) {
    switch (l) {
        case Layout::Py311:
            return "3.11-3.13";
        case Layout::Py38:
            return "3.8-3.10";
        case Layout::Py30:
            return "3.0-3.7";
    }
    return "";
}

/// What kind of Python object a marshaled value is; enough to check a code object's fields.
enum class Kind : std::uint8_t {
    Null,  // TYPE_NULL: only valid as the end of a dict
    None,
    Bool,
    Other,  // StopIteration, Ellipsis
    Int,
    Float,
    Complex,
    Bytes,
    Str,
    Tuple,
    List,
    Dict,
    Set,
    FrozenSet,
    Code,
    Slice,
};

const char* kind_name(Kind k) {
    switch (k) {
        case Kind::Null:
            return "NULL";
        case Kind::None:
            return "None";
        case Kind::Bool:
            return "a bool";
        case Kind::Other:
            return "a singleton";
        case Kind::Int:
            return "an int";
        case Kind::Float:
            return "a float";
        case Kind::Complex:
            return "a complex";
        case Kind::Bytes:
            return "bytes";
        case Kind::Str:
            return "a str";
        case Kind::Tuple:
            return "a tuple";
        case Kind::List:
            return "a list";
        case Kind::Dict:
            return "a dict";
        case Kind::Set:
            return "a set";
        case Kind::FrozenSet:
            return "a frozenset";
        case Kind::Code:
            return "a code object";
        case Kind::Slice:
            return "a slice";
    }
    return "?";
}

/// A value as far as the summary needs it: its kind and, for str and bytes, its text (cut).
struct Value {
    Kind kind = Kind::Null;
    std::string text;
};

/// Where a value's strings go.
enum class Collect {
    Nothing,
    Names,      ///< the items of co_names
    Constants,  ///< every str/bytes inside co_consts (not crossing into nested code objects)
};

/// One reference-table slot: the kind of the object registered there (and its text if it is
/// a string), or still reserved (a code object or frozenset not yet complete).
struct Slot {
    bool filled = false;
    Kind kind = Kind::Null;
    std::int32_t text = -1;  ///< index into Reader::texts_
};

/// What one code object yields.
struct CodeInfo {
    std::string name;
    std::vector<std::string> names;
    std::vector<std::string> constants;
    std::set<std::string> seen_names, seen_constants;
};

/// Keeps the first kMarshalMaxString bytes of `s`, backing off to a UTF-8 boundary for str.
std::string cut(std::span<const std::uint8_t> s, bool utf8) {
    std::size_t n = std::min(s.size(), limits::kMarshalMaxString);
    if (utf8 && n < s.size()) {
        while (n > 0 && (s[n] & 0xC0) == 0x80)
            --n;
    }
    return std::string(reinterpret_cast<const char*>(s.data()), n);
}

class Reader {
  public:
    Reader(std::span<const std::uint8_t> in, Layout layout) : in_(in), layout_(layout) {}

    /// Reads the one top-level object; false with error() set when reading stopped early.
    bool run() {
        Value v;
        if (!object(Collect::Nothing, -1, v)) return false;
        if (v.kind != Kind::Code)
            return fail("the marshaled object is " + std::string(kind_name(v.kind)) +
                        ", not a code object");
        if (pos_ != in_.size()) {
            return fail(std::to_string(in_.size() - pos_) +
                        " bytes after the code object (at byte " + std::to_string(pos_) + ")");
        }
        return true;
    }

    const std::string& error() const { return error_; }
    std::size_t position() const { return pos_; }

    CodeSummary summary() const {
        CodeSummary s;
        s.code_objects = static_cast<int>(code_count_);
        if (!codes_.empty()) s.function_name = codes_.front().name;
        std::set<std::string> names, constants;
        for (const auto& c : codes_) {
            for (const auto& n : c.names)
                if (names.insert(n).second) s.names.push_back(n);
            for (const auto& k : c.constants)
                if (constants.insert(k).second) s.string_constants.push_back(k);
        }
        s.error = error_;
        return s;
    }

  private:
    bool fail(std::string why) {
        if (error_.empty()) error_ = std::move(why);
        return false;
    }
    bool truncated() { return fail("truncated at byte " + std::to_string(in_.size())); }

    bool take(std::size_t n, std::span<const std::uint8_t>& out) {
        if (n > in_.size() - pos_) return truncated();
        out = in_.subspan(pos_, n);
        pos_ += n;
        return true;
    }
    bool u8(std::uint8_t& v) {
        if (pos_ >= in_.size()) return truncated();
        v = in_[pos_++];
        return true;
    }
    bool i32(std::int32_t& v) {
        std::span<const std::uint8_t> b;
        if (!take(4, b)) return false;
        const std::uint32_t u = static_cast<std::uint32_t>(b[0]) | (std::uint32_t{b[1]} << 8) |
                                (std::uint32_t{b[2]} << 16) | (std::uint32_t{b[3]} << 24);
        v = static_cast<std::int32_t>(u);
        return true;
    }
    /// A 32-bit size that CPython accepts (0 .. 2^31-1).
    bool size(std::uint64_t& n, const char* what) {
        const std::size_t at = pos_;
        std::int32_t v = 0;
        if (!i32(v)) return false;
        if (v < 0) {
            return fail(std::string("bad ") + what + " size " + std::to_string(v) + " at byte " +
                        std::to_string(at));
        }
        n = static_cast<std::uint64_t>(v);
        return true;
    }
    bool skip(std::size_t n) {
        std::span<const std::uint8_t> b;
        return take(n, b);
    }

    void collect(Collect mode, int code, const Value& v) {
        if (mode == Collect::Nothing || code < 0) return;
        if (mode == Collect::Names && v.kind != Kind::Str) return;
        if (mode == Collect::Constants && v.kind != Kind::Str && v.kind != Kind::Bytes) return;
        if (collected_ >= limits::kMarshalMaxCollected) return;
        CodeInfo& c = codes_[static_cast<std::size_t>(code)];
        auto& seen = mode == Collect::Names ? c.seen_names : c.seen_constants;
        if (!seen.insert(v.text).second) return;
        (mode == Collect::Names ? c.names : c.constants).push_back(v.text);
        ++collected_;
    }

    /// Registers a finished object under FLAG_REF (appended, as CPython's R_REF does).
    void ref_append(const Value& v) { refs_.push_back(slot_of(v)); }
    Slot slot_of(const Value& v) {
        Slot s;
        s.filled = true;
        s.kind = v.kind;
        if (v.kind == Kind::Str || v.kind == Kind::Bytes) {
            s.text = static_cast<std::int32_t>(texts_.size());
            texts_.push_back(v.text);
        }
        return s;
    }

    /// r_object: one value, its strings collected per `mode` into code object `code`.
    bool object(Collect mode, int code, Value& out) {
        const std::size_t at = pos_;
        std::uint8_t byte = 0;
        if (!u8(byte)) return false;
        if (++objects_ > limits::kMarshalMaxObjects) {
            return fail("more than " + std::to_string(limits::kMarshalMaxObjects) + " objects");
        }
        if (depth_ >= limits::kMarshalMaxDepth) {
            return fail("nesting deeper than " + std::to_string(limits::kMarshalMaxDepth) +
                        " at byte " + std::to_string(at));
        }
        ++depth_;
        const bool ok = dispatch(byte, at, mode, code, out);
        --depth_;
        return ok;
    }

    bool dispatch(std::uint8_t byte, std::size_t at, Collect mode, int code, Value& out) {
        const bool flag = (byte & kFlagRef) != 0;
        const std::uint8_t type = byte & static_cast<std::uint8_t>(~kFlagRef);
        out = Value{};
        // Simple values: read, then registered (R_REF) if flagged.
        auto simple = [&](Kind kind, std::size_t bytes) {
            if (!skip(bytes)) return false;
            out.kind = kind;
            if (flag) ref_append(out);
            return true;
        };
        switch (type) {
            case kNull:
                out.kind = Kind::Null;
                return true;
            case kNone:
                out.kind = Kind::None;
                return true;
            case kFalse:
            case kTrue:
                out.kind = Kind::Bool;
                return true;
            case kStopIter:
            case kEllipsis:
                out.kind = Kind::Other;
                return true;
            case kInt:
                return simple(Kind::Int, 4);
            case kInt64:
                return simple(Kind::Int, 8);
            case kBinaryFloat:
                return simple(Kind::Float, 8);
            case kBinaryComplex:
                return simple(Kind::Complex, 16);
            case kFloat:
            case kComplex: {
                for (int part = 0; part < (type == kComplex ? 2 : 1); ++part) {
                    std::uint8_t n = 0;
                    if (!u8(n) || !skip(n)) return false;
                }
                out.kind = type == kComplex ? Kind::Complex : Kind::Float;
                if (flag) ref_append(out);
                return true;
            }
            case kLong:
                return long_int(at, flag, out);
            case kString:
            case kInterned:
            case kUnicode:
            case kAscii:
            case kAsciiInterned:
            case kShortAscii:
            case kShortAsciiInterned: {
                std::uint64_t n = 0;
                if (type == kShortAscii || type == kShortAsciiInterned) {
                    std::uint8_t b = 0;
                    if (!u8(b)) return false;
                    n = b;
                } else if (!size(n, type == kString ? "bytes" : "string")) {
                    return false;
                }
                std::span<const std::uint8_t> s;
                if (!take(static_cast<std::size_t>(n), s)) return false;
                out.kind = type == kString ? Kind::Bytes : Kind::Str;
                out.text = cut(s, out.kind == Kind::Str);
                if (flag) ref_append(out);
                collect(mode, code, out);
                return true;
            }
            case kSmallTuple:
            case kTuple:
            case kList:
            case kSet:
            case kFrozenSet:
                return sequence(type, at, flag, mode, code, out);
            case kDict:
                return dict(flag, mode, code, out);
            case kCode:
                return code_object(flag, out);
            case kSlice:
                return slice(flag, mode, code, out);
            case kRef:
                return reference(at, mode, code, out);
            default: {
                constexpr char kHex[] = "0123456789abcdef";
                return fail(std::string("unknown type code 0x") + kHex[byte >> 4] +
                            kHex[byte & 15] + " at byte " + std::to_string(at));
            }
        }
    }

    bool long_int(std::size_t at, bool flag, Value& out) {
        std::int32_t n = 0;
        if (!i32(n)) return false;
        if (n == INT32_MIN) return fail("bad long size at byte " + std::to_string(at));
        const std::uint64_t digits = static_cast<std::uint64_t>(n < 0 ? -std::int64_t{n} : n);
        for (std::uint64_t i = 0; i < digits; ++i) {
            std::span<const std::uint8_t> b;
            if (!take(2, b)) return false;
            const auto d = static_cast<std::int16_t>(b[0] | (b[1] << 8));
            if (d < 0) return fail("long digit out of range at byte " + std::to_string(pos_ - 2));
            if (d == 0 && i + 1 == digits)
                return fail("unnormalized long at byte " + std::to_string(pos_ - 2));
        }
        out.kind = Kind::Int;
        if (flag) ref_append(out);
        return true;
    }

    /// Tuples, lists, sets, frozensets: a count, then the items. Tuples, lists and sets are
    /// registered when created; a non-empty frozenset only once complete.
    bool sequence(std::uint8_t type, std::size_t at, bool flag, Collect mode, int code,
                  Value& out) {
        std::uint64_t n = 0;
        if (type == kSmallTuple) {
            std::uint8_t b = 0;
            if (!u8(b)) return false;
            n = b;
        } else if (!size(n, "container")) {
            return false;
        }
        out.kind = type == kList        ? Kind::List
                   : type == kSet       ? Kind::Set
                   : type == kFrozenSet ? Kind::FrozenSet
                                        : Kind::Tuple;
        const bool delayed = type == kFrozenSet && n > 0;
        std::size_t slot = 0;
        if (flag) {
            slot = refs_.size();
            refs_.push_back(delayed ? Slot{} : slot_of(out));
        }
        // co_names items are names; anything nested in a constant is a constant.
        const Collect child = mode == Collect::Constants ? Collect::Constants : mode;
        for (std::uint64_t i = 0; i < n; ++i) {
            Value item;
            if (!object(child, code, item)) return false;
            if (item.kind == Kind::Null) {
                return fail(std::string("NULL item in ") + kind_name(out.kind) + " at byte " +
                            std::to_string(at));
            }
            if (mode == Collect::Names && item.kind != Kind::Str) {
                return fail("co_names holds " + std::string(kind_name(item.kind)) +
                            ", not a str (at byte " + std::to_string(at) + ")");
            }
        }
        if (flag && delayed) refs_[slot] = slot_of(out);
        return true;
    }

    bool dict(bool flag, Collect mode, int code, Value& out) {
        out.kind = Kind::Dict;
        if (flag) ref_append(out);
        const Collect child = mode == Collect::Constants ? Collect::Constants : Collect::Nothing;
        while (true) {
            Value key;
            if (!object(child, code, key)) return false;
            if (key.kind == Kind::Null) return true;
            Value value;
            if (!object(child, code, value)) return false;
            if (value.kind == Kind::Null)
                return fail("NULL value in a dict at byte " + std::to_string(pos_ - 1));
        }
    }

    bool slice(bool flag, Collect mode, int code, Value& out) {
        out.kind = Kind::Slice;
        std::size_t slot = 0;
        if (flag) {
            slot = refs_.size();
            refs_.push_back(Slot{});
        }
        for (int i = 0; i < 3; ++i) {
            Value part;
            if (!object(mode == Collect::Constants ? mode : Collect::Nothing, code, part))
                return false;
            if (part.kind == Kind::Null)
                return fail("NULL in a slice at byte " + std::to_string(pos_ - 1));
        }
        if (flag) refs_[slot] = slot_of(out);
        return true;
    }

    bool reference(std::size_t at, Collect mode, int code, Value& out) {
        std::int32_t n = 0;
        if (!i32(n)) return false;
        if (n < 0 || static_cast<std::uint64_t>(n) >= refs_.size() ||
            !refs_[static_cast<std::size_t>(n)].filled) {
            return fail("invalid reference " + std::to_string(n) + " at byte " +
                        std::to_string(at));
        }
        const Slot& s = refs_[static_cast<std::size_t>(n)];
        out.kind = s.kind;
        if (s.text >= 0) out.text = texts_[static_cast<std::size_t>(s.text)];
        collect(mode, code, out);
        return true;
    }

    /// A field of a code object: read, then checked for the kind CPython's code constructor
    /// requires (so that a wrong layout fails early instead of misreading).
    bool field(const char* name, Kind want, Collect mode, int code, Value* keep = nullptr) {
        const std::size_t at = pos_;
        Value v;
        if (!object(mode, code, v)) return false;
        if (v.kind != want) {
            return fail(std::string("code object field ") + name + " is " + kind_name(v.kind) +
                        ", not " + kind_name(want) + " (at byte " + std::to_string(at) + ")");
        }
        if (keep) *keep = std::move(v);
        return true;
    }
    bool ints(int count) {
        std::int32_t ignored = 0;
        for (int i = 0; i < count; ++i)
            if (!i32(ignored)) return false;
        return true;
    }

    bool code_object(bool flag, Value& out) {
        out.kind = Kind::Code;
        std::size_t slot = 0;
        if (flag) {
            slot = refs_.size();
            refs_.push_back(Slot{});  // reserved: a reference before it is complete is invalid
        }
        // Code objects past the collection cap are read but keep nothing (-1): their names and
        // constants could not be kept anyway, and this bounds memory per code object.
        ++code_count_;
        int me = -1;
        if (codes_.size() < limits::kMarshalMaxCollected) {
            me = static_cast<int>(codes_.size());
            codes_.emplace_back();
        }
        // co_name is kept as soon as it is read, so a cut-short object still names its function.
        auto name_field = [&] {
            Value name;
            if (!field("co_name", Kind::Str, Collect::Nothing, me, &name)) return false;
            if (me >= 0) codes_[static_cast<std::size_t>(me)].name = name.text;
            return true;
        };
        switch (layout_) {
            case Layout::Py311:
                // argcount, posonlyargcount, kwonlyargcount, stacksize, flags
                if (!ints(5) || !field("co_code", Kind::Bytes, Collect::Nothing, me) ||
                    !field("co_consts", Kind::Tuple, Collect::Constants, me) ||
                    !field("co_names", Kind::Tuple, Collect::Names, me) ||
                    !field("co_localsplusnames", Kind::Tuple, Collect::Nothing, me) ||
                    !field("co_localspluskinds", Kind::Bytes, Collect::Nothing, me) ||
                    !field("co_filename", Kind::Str, Collect::Nothing, me) || !name_field() ||
                    !field("co_qualname", Kind::Str, Collect::Nothing, me) ||
                    !ints(1) ||  // firstlineno
                    !field("co_linetable", Kind::Bytes, Collect::Nothing, me) ||
                    !field("co_exceptiontable", Kind::Bytes, Collect::Nothing, me))
                    return false;
                break;
            case Layout::Py38:
            case Layout::Py30:
                // argcount, [posonlyargcount,] kwonlyargcount, nlocals, stacksize, flags
                if (!ints(layout_ == Layout::Py38 ? 6 : 5) ||
                    !field("co_code", Kind::Bytes, Collect::Nothing, me) ||
                    !field("co_consts", Kind::Tuple, Collect::Constants, me) ||
                    !field("co_names", Kind::Tuple, Collect::Names, me) ||
                    !field("co_varnames", Kind::Tuple, Collect::Nothing, me) ||
                    !field("co_freevars", Kind::Tuple, Collect::Nothing, me) ||
                    !field("co_cellvars", Kind::Tuple, Collect::Nothing, me) ||
                    !field("co_filename", Kind::Str, Collect::Nothing, me) || !name_field() ||
                    !ints(1) ||  // firstlineno
                    !field("co_lnotab", Kind::Bytes, Collect::Nothing, me))
                    return false;
                break;
        }
        if (flag) refs_[slot] = slot_of(out);
        return true;
    }

    std::span<const std::uint8_t> in_;
    Layout layout_;
    std::size_t pos_ = 0;
    int depth_ = 0;
    std::uint64_t objects_ = 0;
    std::size_t collected_ = 0;
    std::uint64_t code_count_ = 0;
    std::string error_;
    std::vector<Slot> refs_;
    std::vector<std::string> texts_;
    std::vector<CodeInfo> codes_;  // in the order their code objects start: outermost first
};

int base64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

}  // namespace

CodeSummary summarize(std::span<const std::uint8_t> bytes) {
    CodeSummary best;
    std::size_t best_position = 0;
    bool have_best = false;
    for (const Layout layout : kLayouts) {
        Reader reader(bytes, layout);
        if (reader.run()) {
            CodeSummary s = reader.summary();
            s.layout = layout_name(layout);
            return s;
        }
        // No complete parse yet: keep the layout that read furthest (the first on a tie).
        if (!have_best || reader.position() > best_position) {
            best = reader.summary();
            best_position = reader.position();
            have_best = true;
        }
    }
    return best;
}

bool decode_base64(std::string_view text, std::vector<std::uint8_t>& out) {
    out.clear();
    out.reserve(text.size() / 4 * 3);
    std::uint32_t group = 0;
    int filled = 0;   // sextets in `group`
    int padding = 0;  // '=' seen
    for (const char c : text) {
        if (c == '\n' || c == '\r') continue;
        if (c == '=') {
            ++padding;
            if (padding > 2 || filled < 2) return false;
            continue;
        }
        const int v = base64_value(c);
        if (v < 0 || padding > 0) return false;  // data after padding
        group = (group << 6) | static_cast<std::uint32_t>(v);
        if (++filled == 4) {
            out.push_back(static_cast<std::uint8_t>(group >> 16));
            out.push_back(static_cast<std::uint8_t>(group >> 8));
            out.push_back(static_cast<std::uint8_t>(group));
            group = 0;
            filled = 0;
        }
    }
    if (filled == 0) return padding == 0;
    // A final group of 2 or 3 sextets must be padded to 4 characters.
    if (filled + padding != 4) return false;
    if (filled == 2) {
        out.push_back(static_cast<std::uint8_t>(group >> 4));
    } else {
        out.push_back(static_cast<std::uint8_t>(group >> 10));
        out.push_back(static_cast<std::uint8_t>(group >> 2));
    }
    return true;
}

}  // namespace mscan::marshal
