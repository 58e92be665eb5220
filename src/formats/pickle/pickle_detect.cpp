// The pickle content probe. It follows CPython's C unpickler (Modules/_pickle.c, 3.11) only as
// far as detection needs: each opcode's operand is read and checked the way the unpickler
// checks it (INT/LONG/FLOAT/GET/PUT lines parse as numbers, STRING lines are quoted, GLOBAL
// lines are strict UTF-8 names, PROTO is at most 5), and the stack, the mark stack and the
// memo keys are tracked as counts, so an opcode that would underflow the stack, pop a mark
// that is not there or GET a key never PUT ends the probe as the unpickler would fail there.
// Text files (README, JSON, CSV, Python source) break within their first few bytes: a blank
// or a newline is not an opcode, and their words make invalid operands.
#include "formats/pickle/pickle_detect.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <unordered_set>
#include <vector>

#include "formats/pickle/opcodes.h"
#include "mscan/limits.h"
#include "mscan/reader.h"
#include "util/text.h"

namespace mscan::pickle {
namespace {

/// Opcodes read after an operand that ended past the probe window (a protocol 0 pickle that
/// starts with a 100 KiB string): enough to tell a pickle from a lucky length field.
constexpr std::uint64_t kAfterLongOperand = 4096;
/// Memo keys remembered; past this, any GET is taken as valid.
constexpr std::size_t kMaxMemoKeys = 1u << 16;
/// BINUNICODE operands checked for UTF-8 up to this size; longer ones are skipped unread.
constexpr std::uint64_t kMaxCheckedText = 1u << 20;

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
        s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.remove_suffix(1);
    return s;
}

/// int(line) or strtol(line, 0): an optional sign, then decimal digits (with single
/// underscores) or a 0x/0o/0b number; blanks around. `long_suffix`: a trailing 'L' (LONG).
bool int_line(std::string_view s, bool long_suffix) {
    s = trim(s);
    if (long_suffix && !s.empty() && s.back() == 'L') s.remove_suffix(1);
    if (!s.empty() && (s.front() == '+' || s.front() == '-')) s.remove_prefix(1);
    if (s.empty()) return false;
    int base = 10;
    if (s.size() > 2 && s[0] == '0' && std::string_view("xXoObB").find(s[1]) != s.npos) {
        base = (s[1] == 'x' || s[1] == 'X') ? 16 : (s[1] == 'o' || s[1] == 'O') ? 8 : 2;
        s.remove_prefix(2);
        if (!s.empty() && s.front() == '_') s.remove_prefix(1);
    }
    if (s.empty() || s.front() == '_' || s.back() == '_') return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '_') {
            if (s[i - 1] == '_') return false;
            continue;
        }
        const int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
                      : std::isxdigit(static_cast<unsigned char>(c))
                          ? std::tolower(static_cast<unsigned char>(c)) - 'a' + 10
                          : 99;
        if (d >= base) return false;
    }
    return true;
}

/// float(line): digits, a point, an exponent, or inf/nan, with a sign and blanks.
bool float_line(std::string_view s) {
    s = trim(s);
    if (!s.empty() && (s.front() == '+' || s.front() == '-')) s.remove_prefix(1);
    const std::string lower = util::ascii_lower(s);
    if (lower == "inf" || lower == "infinity" || lower == "nan") return true;
    std::size_t digits = 0;
    for (const char c : s) {
        if (std::isdigit(static_cast<unsigned char>(c))) {
            ++digits;
        } else if (c != '.' && c != 'e' && c != 'E' && c != '+' && c != '-' && c != '_') {
            return false;
        }
    }
    return digits > 0;
}

/// A memo key as PUT/GET write it: a decimal int (int() accepts blanks and underscores).
std::optional<std::uint64_t> memo_key(std::string_view s) {
    if (!int_line(s, false)) return std::nullopt;
    std::uint64_t v = 0;
    for (const char c : trim(s)) {
        if (c == '_' || c == '+') continue;
        if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;  // hex, negative
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
        if (v > (1ull << 62)) return std::nullopt;
    }
    return v;
}

class Probe {
  public:
    explicit Probe(Source& source) : source_(source), reader_(source) {}

    PickleProbe run() {
        const auto first = reader_.peek();
        if (!first) return refuse("empty");
        if (*first == op::PROTO) {
            reader_.skip(1);
            const auto proto = reader_.u8();
            if (proto && *proto <= 5) return accept();
            // A protocol no unpickler reads yet: a pickle all the same if what follows is
            // well formed (the machine reports the protocol).
            ++opcodes_;
        }
        window_end_ = std::min<std::uint64_t>(source_.size(), limits::kDetectProbeBytes);
        while (true) {
            if (reader_.at_end()) {
                PickleProbe p = refuse("the data ends before a STOP or a global");
                p.truncated = opcodes_ > 0;
                return p;
            }
            if (reader_.pos() >= window_end_) return accept();
            const std::uint64_t at = reader_.pos();
            const std::uint8_t code = *reader_.u8();
            const OpInfo* info = opcode_info(code);
            if (!info) return refuse_at(at, "byte is not a pickle opcode");
            ++opcodes_;
            const Step step = execute(code);
            if (step == Step::Accept) return accept();
            if (step == Step::StreamEnd) {
                // A whole pickle that imports nothing. At the end of the data it is one; with
                // more after it, the next load() reads on, so the next stream must be one too
                // ("GIT v1.6.2.1 Release Notes" is BINFLOAT, DUP, STOP, then no pickle).
                if (reader_.at_end()) return accept();
                stack_.assign(1, 0);
                memo_.clear();
                memo_full_ = false;
                opcodes_ = 0;
                const auto next = reader_.peek();
                if (next && *next == op::PROTO) {
                    const std::uint64_t proto_at = reader_.pos();
                    reader_.skip(1);
                    const auto proto = reader_.u8();
                    if (proto && *proto <= 5) return accept();
                    return refuse_at(proto_at, "PROTO names no protocol the unpickler reads");
                }
                continue;
            }
            if (step == Step::Refuse) return refuse_at(at, why_);
            if (step == Step::Truncated) {
                PickleProbe p = refuse_at(at, "the data ends inside an operand");
                p.truncated = true;
                return p;
            }
            // An operand that ran past the window: look at a few more opcodes after it.
            if (reader_.pos() > window_end_ && !extended_) {
                extended_ = true;
                window_end_ = std::min(source_.size(), reader_.pos() + kAfterLongOperand);
            }
        }
    }

  private:
    enum class Step { Continue, Accept, Refuse, Truncated, StreamEnd };

    PickleProbe accept() const {
        PickleProbe p;
        p.pickle = true;
        p.stopped_at = reader_.pos();
        return p;
    }
    PickleProbe refuse(std::string why) const {
        PickleProbe p;
        p.stopped_at = reader_.pos();
        p.why = std::move(why);
        return p;
    }
    PickleProbe refuse_at(std::uint64_t at, std::string why) const {
        PickleProbe p;
        p.stopped_at = at;
        p.why = std::move(why);
        return p;
    }
    Step fail(std::string why) {
        why_ = std::move(why);
        return Step::Refuse;
    }

    std::uint64_t& top() { return stack_.back(); }
    bool need(std::uint64_t n) { return top() >= n; }
    void push() { ++top(); }
    /// Pops the topmost mark: the items above it are dropped, as pop_mark() returns them.
    bool pop_mark() {
        if (stack_.size() < 2) return false;
        stack_.pop_back();
        return true;
    }

    /// Reads a '\n'-terminated operand; Truncated if the data ends first.
    Step line(std::string_view& out) {
        const auto l = reader_.line(limits::kPickleMaxTextLine);
        if (!l) {
            if (reader_.remaining() < limits::kPickleMaxTextLine) return Step::Truncated;
            return fail("text operand longer than the unpickler's line limit");
        }
        out = *l;
        return Step::Continue;
    }
    Step skip(std::uint64_t n) {
        // A length past the end of the data: the unpickler fails reading it, and a declared
        // length is no evidence of a pickle (any 4 bytes of text make one).
        if (reader_.remaining() < n) return fail("a length operand beyond the end of the data");
        reader_.skip(n);
        return Step::Continue;
    }

    /// Skips a length-prefixed operand; a BINUNICODE one is decoded as _pickle.c decodes it
    /// (UTF-8, "surrogatepass"), and the unpickler fails on one that is not.
    Step payload(std::uint8_t code, std::uint64_t n) {
        const bool text =
            code == op::BINUNICODE || code == op::SHORT_BINUNICODE || code == op::BINUNICODE8;
        if (!text || n > kMaxCheckedText || reader_.remaining() < n) return skip(n);
        const auto b = reader_.bytes(static_cast<std::size_t>(n));
        if (!b) return skip(n);
        if (!valid_utf8(std::string_view(reinterpret_cast<const char*>(b->data()), b->size()),
                        true))
            return fail("a BINUNICODE operand is not UTF-8: the unpickler fails decoding it");
        return Step::Continue;
    }

    Step global(bool inst) {
        std::string_view module, name;
        if (const Step s = line(module); s != Step::Continue) return s;
        const std::string module_copy(module);
        if (const Step s = line(name); s != Step::Continue) return s;
        if (!valid_utf8(module_copy) || !valid_utf8(name))
            return fail("GLOBAL operand is not UTF-8: the unpickler fails decoding it");
        if (!importable_name(module_copy, true) || !importable_name(name, true))
            return fail(std::string(inst ? "INST" : "GLOBAL") + " names nothing importable");
        return Step::Accept;
    }

    Step execute(std::uint8_t code) {
        std::string_view text;
        switch (code) {
            case op::MARK:
                if (stack_.size() > limits::kDetectProbeBytes) return fail("too many marks");
                stack_.push_back(0);
                return Step::Continue;
            case op::STOP:
                if (!need(1)) return fail("STOP with an empty stack");
                if (opcodes_ < 2) return fail("a lone STOP");
                return Step::StreamEnd;
            case op::POP:
                if (need(1)) {
                    --top();
                    return Step::Continue;
                }
                return pop_mark() ? Step::Continue : fail("POP with an empty stack");
            case op::POP_MARK:
                return pop_mark() ? Step::Continue : fail("POP_MARK with no mark");
            case op::DUP:
                if (!need(1)) return fail("DUP with an empty stack");
                push();
                return Step::Continue;
            case op::INT:
                if (const Step s = line(text); s != Step::Continue) return s;
                if (!int_line(text, false)) return fail("INT operand is not a number");
                push();
                return Step::Continue;
            case op::LONG:
                if (const Step s = line(text); s != Step::Continue) return s;
                if (!int_line(text, true)) return fail("LONG operand is not a number");
                push();
                return Step::Continue;
            case op::FLOAT:
                if (const Step s = line(text); s != Step::Continue) return s;
                if (!float_line(text)) return fail("FLOAT operand is not a number");
                push();
                return Step::Continue;
            case op::STRING:
                if (const Step s = line(text); s != Step::Continue) return s;
                if (text.size() < 2 || text.front() != text.back() ||
                    (text.front() != '\'' && text.front() != '"'))
                    return fail("STRING operand is not quoted");
                push();
                return Step::Continue;
            case op::UNICODE:
                if (const Step s = line(text); s != Step::Continue) return s;
                push();
                return Step::Continue;
            case op::PERSID:
                if (const Step s = line(text); s != Step::Continue) return s;
                if (!std::all_of(text.begin(), text.end(),
                                 [](char c) { return static_cast<unsigned char>(c) < 0x80; }))
                    return fail("PERSID operand is not ASCII");
                push();
                return Step::Continue;
            case op::GLOBAL:
                return global(false);
            case op::INST:
                return global(true);
            case op::GET:
            case op::PUT: {
                if (const Step s = line(text); s != Step::Continue) return s;
                const auto key = memo_key(text);
                if (!key) return fail("memo key is not a number");
                return memo(code == op::PUT, *key);
            }
            case op::BINGET:
            case op::BINPUT: {
                const auto k = reader_.u8();
                if (!k) return Step::Truncated;
                return memo(code == op::BINPUT, *k);
            }
            case op::LONG_BINGET:
            case op::LONG_BINPUT: {
                const auto k = reader_.u32le();
                if (!k) return Step::Truncated;
                return memo(code == op::LONG_BINPUT, *k);
            }
            case op::MEMOIZE:
                return memo(true, memo_.size());
            case op::PROTO: {
                const auto p = reader_.u8();
                if (!p) return Step::Truncated;
                return *p <= 5 ? Step::Continue : fail("unsupported protocol");
            }
            default:
                return generic(code);
        }
    }

    Step memo(bool put, std::uint64_t key) {
        if (put) {
            if (!need(1)) return fail("PUT with an empty stack");
            if (memo_.size() < kMaxMemoKeys) {
                memo_.insert(key);
            } else {
                memo_full_ = true;
            }
            return Step::Continue;
        }
        if (!memo_full_ && !memo_.count(key)) return fail("GET of a memo key never PUT");
        push();
        return Step::Continue;
    }

    /// Opcodes whose operand needs no check: read it by its shape, then apply the stack
    /// effect (items taken above the topmost mark, items pushed; marks popped).
    Step generic(std::uint8_t code) {
        const OpInfo* info = opcode_info(code);
        switch (info->operand) {
            case Operand::U1:
                if (const Step s = skip(1); s != Step::Continue) return s;
                break;
            case Operand::U2:
                if (const Step s = skip(2); s != Step::Continue) return s;
                break;
            case Operand::I4:
            case Operand::U4:
                if (const Step s = skip(4); s != Step::Continue) return s;
                break;
            case Operand::U8:
            case Operand::F8:
                if (const Step s = skip(8); s != Step::Continue) return s;
                break;
            case Operand::Len1: {
                const auto n = reader_.u8();
                if (!n) return Step::Truncated;
                if (const Step s = payload(code, *n); s != Step::Continue) return s;
                break;
            }
            case Operand::Len4: {
                const auto n = reader_.u32le();
                if (!n) return Step::Truncated;
                if (code == op::BINSTRING && *n > 0x7fffffffu)
                    return fail("BINSTRING with a negative length");
                if (const Step s = payload(code, *n); s != Step::Continue) return s;
                break;
            }
            case Operand::Len8: {
                const auto n = reader_.u64le();
                if (!n) return Step::Truncated;
                if (const Step s = payload(code, *n); s != Step::Continue) return s;
                break;
            }
            default:
                break;
        }
        struct Effect {
            std::uint8_t code;
            std::uint8_t takes;  ///< items needed above the mark
            std::uint8_t gives;  ///< items pushed after taking
            bool mark;           ///< pops a mark (takes/gives apply below it)
        };
        static constexpr Effect kEffects[] = {
            {op::BININT, 0, 1, false},
            {op::BININT1, 0, 1, false},
            {op::BININT2, 0, 1, false},
            {op::NONE, 0, 1, false},
            {op::BINPERSID, 1, 1, false},
            {op::REDUCE, 2, 1, false},
            {op::BINSTRING, 0, 1, false},
            {op::SHORT_BINSTRING, 0, 1, false},
            {op::BINUNICODE, 0, 1, false},
            {op::APPEND, 2, 1, false},
            {op::BUILD, 2, 1, false},
            {op::DICT, 0, 1, true},
            {op::EMPTY_DICT, 0, 1, false},
            {op::APPENDS, 1, 1, true},
            {op::LIST, 0, 1, true},
            {op::EMPTY_LIST, 0, 1, false},
            {op::OBJ, 0, 1, true},
            {op::SETITEM, 3, 1, false},
            {op::TUPLE, 0, 1, true},
            {op::EMPTY_TUPLE, 0, 1, false},
            {op::SETITEMS, 1, 1, true},
            {op::BINFLOAT, 0, 1, false},
            {op::NEWOBJ, 2, 1, false},
            {op::EXT1, 0, 1, false},
            {op::EXT2, 0, 1, false},
            {op::EXT4, 0, 1, false},
            {op::TUPLE1, 1, 1, false},
            {op::TUPLE2, 2, 1, false},
            {op::TUPLE3, 3, 1, false},
            {op::NEWTRUE, 0, 1, false},
            {op::NEWFALSE, 0, 1, false},
            {op::LONG1, 0, 1, false},
            {op::LONG4, 0, 1, false},
            {op::BINBYTES, 0, 1, false},
            {op::SHORT_BINBYTES, 0, 1, false},
            {op::SHORT_BINUNICODE, 0, 1, false},
            {op::BINUNICODE8, 0, 1, false},
            {op::BINBYTES8, 0, 1, false},
            {op::EMPTY_SET, 0, 1, false},
            {op::ADDITEMS, 1, 1, true},
            {op::FROZENSET, 0, 1, true},
            {op::NEWOBJ_EX, 3, 1, false},
            {op::STACK_GLOBAL, 2, 1, false},
            {op::FRAME, 0, 0, false},
            {op::BYTEARRAY8, 0, 1, false},
            {op::NEXT_BUFFER, 0, 1, false},
            {op::READONLY_BUFFER, 1, 1, false},
        };
        for (const auto& e : kEffects) {
            if (e.code != code) continue;
            if (e.mark) {
                // OBJ needs the class above the mark; APPENDS/SETITEMS/ADDITEMS need their
                // target below it.
                if (code == op::OBJ && !need(1)) return fail("OBJ with no class");
                if (!pop_mark()) return fail(std::string(info->name) + " with no mark");
                if (!need(e.takes)) return fail(std::string(info->name) + " with no target");
                top() = top() - e.takes + e.gives;
                return Step::Continue;
            }
            if (!need(e.takes)) return fail(std::string(info->name) + " underflows the stack");
            top() = top() - e.takes + e.gives;
            // A protocol 4 STACK_GLOBAL is where loading could import: a pickle by then.
            if (code == op::STACK_GLOBAL) return Step::Accept;
            return Step::Continue;
        }
        return Step::Continue;
    }

    Source& source_;
    ByteReader reader_;
    std::uint64_t window_end_ = 0;
    bool extended_ = false;
    std::uint64_t opcodes_ = 0;
    std::vector<std::uint64_t> stack_{0};  // items above each mark; back() is the current
    std::unordered_set<std::uint64_t> memo_;
    bool memo_full_ = false;
    std::string why_;
};

}  // namespace

bool valid_utf8(std::string_view s, bool allow_surrogates) {
    for (std::size_t i = 0; i < s.size();) {
        const auto b = static_cast<unsigned char>(s[i]);
        std::size_t n = 0;
        std::uint32_t c = 0;
        if (b < 0x80) {
            ++i;
            continue;
        }
        if (b >= 0xc2 && b <= 0xdf) {
            n = 1, c = b & 0x1fu;
        } else if (b >= 0xe0 && b <= 0xef) {
            n = 2, c = b & 0x0fu;
        } else if (b >= 0xf0 && b <= 0xf4) {
            n = 3, c = b & 0x07u;
        } else {
            return false;
        }
        if (i + n >= s.size()) return false;
        for (std::size_t k = 1; k <= n; ++k) {
            const auto t = static_cast<unsigned char>(s[i + k]);
            if ((t & 0xc0) != 0x80) return false;
            c = (c << 6) | (t & 0x3fu);
        }
        if ((n == 2 && (c < 0x800 || (!allow_surrogates && c >= 0xd800 && c <= 0xdfff))) ||
            (n == 3 && (c < 0x10000 || c > 0x10ffff)))
            return false;
        i += n + 1;
    }
    return true;
}

bool importable_name(std::string_view text, bool allow_dots) {
    if (text.empty() || text.size() > 4096 || !valid_utf8(text)) return false;
    std::size_t start = 0;
    while (true) {
        const std::size_t dot = allow_dots ? text.find('.', start) : std::string_view::npos;
        const std::string_view part =
            text.substr(start, dot == std::string_view::npos ? text.npos : dot - start);
        if (part.empty()) return false;
        for (std::size_t i = 0; i < part.size(); ++i) {
            const auto c = static_cast<unsigned char>(part[i]);
            const bool alpha =
                (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
            if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
        }
        if (dot == std::string_view::npos) return true;
        start = dot + 1;
    }
}

PickleProbe plausible_pickle(Source& source) {
    Probe probe(source);
    return probe.run();
}

}  // namespace mscan::pickle
