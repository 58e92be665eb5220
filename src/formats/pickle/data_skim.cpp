// The data-only fast path. It mirrors the symbolic machine's rules for stack, marks, memo
// and frames, but keeps one byte (the kind) per entry and gives up -- returns nullopt, so the
// machine takes over from the stream's start -- wherever the machine would do anything but
// build plain data silently. Its contract, checked by the differential test and the fuzz
// target: whenever it returns a stream, the machine reports no operation for that stream.
#include "formats/pickle/data_skim.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "formats/pickle/opcodes.h"
#include "formats/pickle/pickle_detect.h"
#include "formats/pickle/values.h"
#include "mscan/limits.h"

namespace mscan::pickle {
namespace {

/// Unicode operands up to this length are checked for UTF-8 (the machine checks every one it
/// keeps whole: up to kPickleMaxKeptString, and scipy templates up to 16 KiB).
constexpr std::uint64_t kMaxCheckedText = 16384;

constexpr auto kind(Kind k) {
    return static_cast<std::uint8_t>(k);
}

/// Opcodes that push one value of a fixed kind after a fixed-size operand -- most of a data
/// pickle -- are handled by one table lookup: the kind + 1 (0: not such an opcode) and the
/// operand's size.
struct SimplePush {
    std::uint8_t kind_plus_one = 0;
    std::uint8_t operand = 0;
};
constexpr std::array<SimplePush, 256> kSimple = [] {
    std::array<SimplePush, 256> t{};
    auto set = [&t](std::uint8_t code, Kind k, std::uint8_t operand) {
        t[code] = SimplePush{static_cast<std::uint8_t>(static_cast<std::uint8_t>(k) + 1), operand};
    };
    set(op::NONE, Kind::None, 0);
    set(op::NEWTRUE, Kind::Bool, 0);
    set(op::NEWFALSE, Kind::Bool, 0);
    set(op::BININT, Kind::Int, 4);
    set(op::BININT1, Kind::Int, 1);
    set(op::BININT2, Kind::Int, 2);
    set(op::BINFLOAT, Kind::Float, 8);
    set(op::EMPTY_DICT, Kind::Dict, 0);
    set(op::EMPTY_LIST, Kind::List, 0);
    set(op::EMPTY_TUPLE, Kind::Tuple, 0);
    set(op::EMPTY_SET, Kind::Set, 0);
    return t;
}();

std::uint64_t load_le(const std::uint8_t* p, int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i)
        v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
    return v;
}

/// The skim's containers. They live outside the Skimmer: the out-of-line code that grows a
/// vector sees its address, and a Skimmer whose address nothing sees keeps its fields (the
/// read position, the stack top) in registers.
struct SkimStorage {
    /// The stack of kinds, in one buffer of the machine's depth cap (256 KiB).
    std::unique_ptr<std::uint8_t[]> stack =
        std::make_unique<std::uint8_t[]>(limits::kPickleMaxStack);
    std::vector<std::uint8_t*> marks;  ///< stack tops at each MARK
    std::vector<std::uint8_t> memo;    ///< Kind + 1 per key, 0 = absent; size() is capacity
};

/// One skim over one stream: the stack of kinds, the marks, the memo's kinds and the frame, as
/// raw pointers into the stream's bytes and a fixed stack buffer so that a push or a memo store
/// costs a few instructions. Every handler returns false to give the stream to the machine.
class Skimmer {
  public:
    Skimmer(Source& source, std::uint64_t start, std::span<const std::uint8_t> bytes,
            SkimStorage& storage)
        : source_(source),
          start_(start),
          base_(bytes.data()),
          lim_(bytes.data() + bytes.size()),
          p_(base_),
          stack_lo_(storage.stack.get()),
          stack_hi_(stack_lo_ + limits::kPickleMaxStack),
          sp_(stack_lo_),
          marks_(storage.marks),
          fl_(stack_lo_),
          memo_(storage.memo),
          released_(start),
          release_at_(p_ + std::min<std::uint64_t>(limits::kReleaseChunk, bytes.size())),
          guard_(guard_for()) {}

    /// The offset just past the stream's STOP, or nullopt: the machine's job.
    std::optional<std::uint64_t> run();

  private:
    bool skim_opcode(std::uint8_t code, const std::uint8_t* op_start);
    std::optional<std::uint64_t> stop() const;
    bool after_guard(const std::uint8_t* op_start);
    /// One compare per opcode covers the frame end, the next release point and the end of the
    /// input (so the loop needs no other test to stop).
    const std::uint8_t* guard_for() const {
        const std::uint8_t* g = std::min(release_at_, lim_ - 1);
        return in_frame_ ? std::min(frame_end_, g) : g;
    }

    // ---- stack and marks ----
    std::size_t above_floor() const { return static_cast<std::size_t>(sp_ - fl_); }
    bool push(std::uint8_t k) {
        if (sp_ == stack_hi_) return false;
        *sp_++ = k;
        return true;
    }
    /// Pops the last mark into `m` (the stack top when it was set).
    bool take_mark(std::uint8_t*& m) {
        if (marks_.empty()) return false;
        m = marks_.back();
        marks_.pop_back();
        fl_ = marks_.empty() ? stack_lo_ : marks_.back();
        return true;
    }

    // ---- operands ----
    /// A little-endian integer operand of `n` bytes.
    bool fixed(int n, std::uint64_t& value) {
        if (lim_ - p_ < n) return false;
        value = load_le(p_, n);
        p_ += n;
        return true;
    }
    [[gnu::always_inline]] bool payload(int len_bytes, std::uint64_t& n);

    // ---- opcode families ----
    bool mark();
    bool pop();
    bool pop_mark();
    bool long_binary(std::uint8_t code);
    bool counted(std::uint8_t code);
    bool marked_container(std::uint8_t code);
    bool small_tuple(std::size_t n);
    bool fill(std::uint8_t code);
    bool memo_put(std::uint64_t key);
    bool put(std::uint8_t code);
    bool get(std::uint8_t code);
    bool proto(const std::uint8_t* op_start);
    bool frame(const std::uint8_t* op_start);

    Source& source_;
    const std::uint64_t start_;
    const std::uint8_t* const base_;
    const std::uint8_t* const lim_;
    const std::uint8_t* p_;  // the next byte to read

    std::uint8_t* const stack_lo_;
    std::uint8_t* const stack_hi_;
    std::uint8_t* sp_;                   // one past the top
    std::vector<std::uint8_t*>& marks_;  // stack tops at each MARK
    std::uint8_t* fl_;                   // the floor: the last mark, or the stack's bottom
    std::vector<std::uint8_t>& memo_;    // Kind + 1 per key, 0 = absent; size() is capacity
    std::uint64_t memo_size_ = 0;        // keys 0 .. memo_size_-1 are in the table
    std::uint64_t memo_count_ = 0;       // keys present (MEMOIZE's key)

    int proto_ = -1;
    bool in_frame_ = false;
    const std::uint8_t* frame_end_ = nullptr;
    std::uint64_t released_;
    const std::uint8_t* release_at_;
    const std::uint8_t* guard_;
};

std::optional<std::uint64_t> Skimmer::run() {
    for (;;) {  // p_ < lim_ here: the guard check at the bottom stops at the end
        const std::uint8_t* const op_start = p_;
        const std::uint8_t code = *p_++;
        if (const SimplePush simple = kSimple[code]; simple.kind_plus_one) {
            if (lim_ - p_ < simple.operand || sp_ == stack_hi_) return std::nullopt;
            p_ += simple.operand;
            *sp_++ = static_cast<std::uint8_t>(simple.kind_plus_one - 1);
        } else if (!skim_opcode(code, op_start)) {
            return code == op::STOP ? stop() : std::nullopt;
        }
        if (p_ > guard_ && !after_guard(op_start)) return std::nullopt;
    }
}

// The opcodes that kSimple does not cover; false ends the skim. A switch rather than a table of
// handlers: the handlers are small and inline into the loop, which keeps the skim's state in
// registers.
bool Skimmer::skim_opcode(std::uint8_t code, const std::uint8_t* op_start) {
    switch (code) {
        case op::STOP:
            return false;  // the skim ends here either way: run() says how
        case op::MARK:
            return mark();
        case op::POP:
            return pop();
        case op::POP_MARK:
            return pop_mark();
        case op::DUP:
            return above_floor() != 0 && push(sp_[-1]);
        case op::LONG1:
        case op::LONG4:
            return long_binary(code);
        case op::SHORT_BINSTRING:
        case op::SHORT_BINUNICODE:
        case op::SHORT_BINBYTES:
        case op::BINSTRING:
        case op::BINUNICODE:
        case op::BINBYTES:
        case op::BINUNICODE8:
        case op::BINBYTES8:
        case op::BYTEARRAY8:
            return counted(code);
        case op::DICT:
        case op::LIST:
        case op::TUPLE:
        case op::FROZENSET:
            return marked_container(code);
        case op::TUPLE1:
            return small_tuple(1);
        case op::TUPLE2:
            return small_tuple(2);
        case op::TUPLE3:
            return small_tuple(3);
        case op::APPEND:
        case op::APPENDS:
        case op::SETITEM:
        case op::SETITEMS:
        case op::ADDITEMS:
            return fill(code);
        case op::BINPUT:
        case op::LONG_BINPUT:
        case op::MEMOIZE:
            return put(code);
        case op::BINGET:
        case op::LONG_BINGET:
            return get(code);
        case op::PROTO:
            return proto(op_start);
        case op::FRAME:
            return frame(op_start);
        default:
            // Text opcodes of protocol 0, globals, calls, BUILD, extension codes, persistent
            // ids, buffers, and bytes that are not opcodes: the machine's job.
            return false;
    }
}

std::optional<std::uint64_t> Skimmer::stop() const {
    if (above_floor() == 0) return std::nullopt;
    // A STOP before the end of its frame: the machine reports where the next pickle.load
    // starts.
    if (in_frame_ && p_ < frame_end_) return std::nullopt;
    return start_ + static_cast<std::uint64_t>(p_ - base_);
}

// An opcode ended past the guard: at the end of the input, past the frame end, or past the
// next release point.
bool Skimmer::after_guard(const std::uint8_t* op_start) {
    if (p_ >= lim_) return false;  // no STOP: truncated
    // An opcode that starts inside a frame must end inside it; one that starts at or after the
    // frame's end is outside any frame.
    if (in_frame_ && p_ > frame_end_) {
        if (op_start < frame_end_) return false;
        in_frame_ = false;
    }
    if (p_ >= release_at_) {  // let the source drop what has been read
        const auto at = start_ + static_cast<std::uint64_t>(p_ - base_);
        source_.release(released_, at - released_);
        released_ = at;
        release_at_ = p_ + std::min<std::uint64_t>(limits::kReleaseChunk,
                                                   static_cast<std::uint64_t>(lim_ - p_));
    }
    guard_ = guard_for();
    return true;
}

// Length-prefixed operand: the length field, then that many bytes skipped.
inline bool Skimmer::payload(int len_bytes, std::uint64_t& n) {
    if (!fixed(len_bytes, n)) return false;
    if (n > static_cast<std::uint64_t>(lim_ - p_)) return false;
    // Bytes that start like a zip or a legacy torch file are scanned as nested files by the
    // machine (a torch.save blob inside a pickle): not plain data.
    if (n >= 4 &&
        (std::memcmp(p_, "PK\x03\x04", 4) == 0 || std::memcmp(p_, "\x80\x02\x8a\x0a", 4) == 0))
        return false;
    p_ += n;
    return true;
}

bool Skimmer::mark() {
    if (marks_.size() >= limits::kPickleMaxMarks) return false;
    marks_.push_back(sp_);
    fl_ = sp_;
    return true;
}

bool Skimmer::pop() {
    if (above_floor() > 0) {
        --sp_;
    } else if (!marks_.empty()) {
        marks_.pop_back();  // as CPython (and the machine): drops the mark
        fl_ = marks_.empty() ? stack_lo_ : marks_.back();
    } else {
        return false;
    }
    return true;
}

bool Skimmer::pop_mark() {
    std::uint8_t* m = nullptr;
    if (!take_mark(m)) return false;
    sp_ = m;
    return true;
}

bool Skimmer::long_binary(std::uint8_t code) {
    std::uint64_t n = 0;
    if (code == op::LONG4 && lim_ - p_ >= 4 && (p_[3] & 0x80)) return false;
    if (!payload(code == op::LONG1 ? 1 : 4, n)) return false;
    return push(kind(n <= 8 ? Kind::Int : Kind::BigInt));
}

// The counted string, bytes and bytearray opcodes.
bool Skimmer::counted(std::uint8_t code) {
    const Operand shape = opcode_info(code)->operand;
    const int len_bytes = shape == Operand::Len1 ? 1 : shape == Operand::Len4 ? 4 : 8;
    if (code == op::BINSTRING && lim_ - p_ >= 4 && (p_[3] & 0x80)) return false;
    std::uint64_t n = 0;
    if (!payload(len_bytes, n)) return false;
    // The machine stops at a unicode operand that is not UTF-8 (as _pickle.c does); leave such
    // streams to it. ASCII, the usual case, is one compare per byte.
    if ((code == op::SHORT_BINUNICODE || code == op::BINUNICODE || code == op::BINUNICODE8) &&
        n <= kMaxCheckedText) {
        const std::uint8_t* s = p_ - n;
        bool ascii = true;
        for (std::uint64_t i = 0; i < n && ascii; ++i)
            ascii = s[i] < 0x80;
        if (!ascii && !valid_utf8(std::string_view(reinterpret_cast<const char*>(s),
                                                   static_cast<std::size_t>(n)),
                                  true))
            return false;
    }
    const bool text = code == op::SHORT_BINSTRING || code == op::SHORT_BINUNICODE ||
                      code == op::BINSTRING || code == op::BINUNICODE || code == op::BINUNICODE8;
    return push(kind(text ? Kind::Str : Kind::Bytes));
}

// DICT, LIST, TUPLE, FROZENSET: the items above the mark become one container.
bool Skimmer::marked_container(std::uint8_t code) {
    std::uint8_t* m = nullptr;
    if (!take_mark(m)) return false;
    if (code == op::DICT && (sp_ - m) % 2) return false;
    sp_ = m;
    const Kind k = code == op::DICT    ? Kind::Dict
                   : code == op::LIST  ? Kind::List
                   : code == op::TUPLE ? Kind::Tuple
                                       : Kind::FrozenSet;
    *sp_++ = kind(k);  // cannot exceed the cap: it just shrank
    return true;
}

bool Skimmer::small_tuple(std::size_t n) {
    if (above_floor() < n) return false;
    sp_ -= n;
    *sp_++ = kind(Kind::Tuple);
    return true;
}

// APPEND(S), SETITEM(S), ADDITEMS: only into a container of the right kind the pickle built
// (anything else is a method call, the machine's job).
bool Skimmer::fill(std::uint8_t code) {
    const bool pairs = code == op::SETITEM || code == op::SETITEMS;
    const bool marked = code == op::APPENDS || code == op::SETITEMS || code == op::ADDITEMS;
    const Kind target = pairs ? Kind::Dict : code == op::ADDITEMS ? Kind::Set : Kind::List;
    std::uint8_t* m = nullptr;
    if (marked) {
        if (!take_mark(m)) return false;
    } else {
        const std::size_t need = pairs ? 2 : 1;
        if (above_floor() < need) return false;
        m = sp_ - need;
    }
    if (m <= fl_ || m[-1] != kind(target)) return false;
    if (pairs && (sp_ - m) % 2) return false;
    sp_ = m;
    return true;
}

// Stores the top's kind under `key`, where the machine would keep it in its dense table.
bool Skimmer::memo_put(std::uint64_t key) {
    const std::uint8_t k = static_cast<std::uint8_t>(sp_[-1] + 1);
    if (key < memo_size_) {
        if (memo_[key] == 0) ++memo_count_;
        memo_[key] = k;
        return true;
    }
    if (key != memo_size_ || key >= memo_.size()) {
        // The machine moves keys that jump ahead of its dense table to a map: not skimmed.
        // Otherwise grow the table (never past the machine's cap).
        if (key >= limits::kPickleMaxMemo || key >= memo_size_ + limits::kPickleDenseMemoSlack)
            return false;
        if (key >= memo_.size()) {
            memo_.resize(std::min<std::uint64_t>(std::max<std::uint64_t>(key + 1, memo_.size() * 2),
                                                 limits::kPickleMaxMemo),
                         0);
        }
    }
    memo_size_ = key + 1;
    memo_[key] = k;
    ++memo_count_;
    return true;
}

// BINPUT, LONG_BINPUT, MEMOIZE.
bool Skimmer::put(std::uint8_t code) {
    std::uint64_t key = memo_count_;
    if (code != op::MEMOIZE && !fixed(code == op::BINPUT ? 1 : 4, key)) return false;
    return above_floor() != 0 && memo_put(key);
}

// BINGET, LONG_BINGET.
bool Skimmer::get(std::uint8_t code) {
    std::uint64_t key = 0;
    if (!fixed(code == op::BINGET ? 1 : 4, key)) return false;
    if (key >= memo_size_ || memo_[key] == 0) return false;
    return push(static_cast<std::uint8_t>(memo_[key] - 1));
}

bool Skimmer::proto(const std::uint8_t* op_start) {
    if (op_start != base_ || lim_ - p_ < 1 || *p_ > 5) return false;
    proto_ = *p_++;
    return true;
}

bool Skimmer::frame(const std::uint8_t* op_start) {
    std::uint64_t len = 0;
    if (!fixed(8, len)) return false;
    if (in_frame_) {
        if (op_start >= frame_end_) {
            in_frame_ = false;
        } else if (p_ > frame_end_) {
            return false;
        }
    }
    if ((proto_ >= 0 && proto_ < 4) || (in_frame_ && p_ < frame_end_) ||
        len > static_cast<std::uint64_t>(lim_ - p_)) {
        return false;
    }
    in_frame_ = true;
    frame_end_ = p_ + len;
    guard_ = guard_for();
    return true;
}

}  // namespace

std::optional<std::uint64_t> skim_data_stream(Source& source, std::uint64_t start,
                                              std::uint64_t end) {
    end = std::min(end, source.size());
    if (start >= end || source.preferred_window() != SIZE_MAX) return std::nullopt;
    const auto bytes = source.view(start, static_cast<std::size_t>(end - start));
    if (bytes.size() != end - start) return std::nullopt;
    SkimStorage storage;
    return Skimmer(source, start, bytes, storage).run();
}

}  // namespace mscan::pickle
