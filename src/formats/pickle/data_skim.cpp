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

}  // namespace

std::optional<std::uint64_t> skim_data_stream(Source& source, std::uint64_t start,
                                              std::uint64_t end) {
    end = std::min(end, source.size());
    if (start >= end || source.preferred_window() != SIZE_MAX) return std::nullopt;
    const auto bytes = source.view(start, static_cast<std::size_t>(end - start));
    if (bytes.size() != end - start) return std::nullopt;

    const std::uint8_t* const base = bytes.data();
    const std::uint8_t* const lim = base + bytes.size();
    const std::uint8_t* p = base;

    // Stack of kinds in one fixed buffer (the machine's depth cap, 256 KiB), the memo as a
    // growing byte table; both are raw so that a push or a memo store costs a few instructions.
    const auto stack_buf = std::make_unique<std::uint8_t[]>(limits::kPickleMaxStack);
    std::uint8_t* const stack_lo = stack_buf.get();
    std::uint8_t* const stack_hi = stack_lo + limits::kPickleMaxStack;
    std::uint8_t* sp = stack_lo;       // one past the top
    std::vector<std::uint8_t*> marks;  // stack tops at each MARK
    std::uint8_t* fl = stack_lo;       // the floor: the last mark, or the stack's bottom
    std::vector<std::uint8_t> memo;    // Kind + 1 per key, 0 = absent; size() is capacity
    std::uint64_t memo_size = 0;       // keys 0 .. memo_size-1 are in the table
    std::uint64_t memo_count = 0;      // keys present (MEMOIZE's key)

    int proto = -1;
    bool in_frame = false;
    const std::uint8_t* frame_end = nullptr;
    std::uint64_t released = start;
    const std::uint8_t* release_at =
        p + std::min<std::uint64_t>(limits::kReleaseChunk, end - start);
    // One compare per opcode covers the frame end, the next release point and the end of the
    // input (so the loop needs no other test to stop).
    auto guard_for = [&] {
        const std::uint8_t* g = std::min(release_at, lim - 1);
        return in_frame ? std::min(frame_end, g) : g;
    };
    const std::uint8_t* guard = guard_for();

    auto above_floor = [&] { return static_cast<std::size_t>(sp - fl); };
    auto take_mark = [&](std::uint8_t*& m) {
        if (marks.empty()) return false;
        m = marks.back();
        marks.pop_back();
        fl = marks.empty() ? stack_lo : marks.back();
        return true;
    };
    auto memo_put = [&](std::uint64_t key) {
        const std::uint8_t k = static_cast<std::uint8_t>(sp[-1] + 1);
        if (key < memo_size) {
            if (memo[key] == 0) ++memo_count;
            memo[key] = k;
            return true;
        }
        if (key != memo_size || key >= memo.size()) {
            // The machine moves keys that jump ahead of its dense table to a map: not
            // skimmed. Otherwise grow the table (never past the machine's cap).
            if (key >= limits::kPickleMaxMemo || key >= memo_size + limits::kPickleDenseMemoSlack)
                return false;
            if (key >= memo.size()) {
                memo.resize(
                    std::min<std::uint64_t>(std::max<std::uint64_t>(key + 1, memo.size() * 2),
                                            limits::kPickleMaxMemo),
                    0);
            }
        }
        memo_size = key + 1;
        memo[key] = k;
        ++memo_count;
        return true;
    };
    // Length-prefixed operand: the length field, then that many bytes skipped.
    auto payload = [&](int len_bytes, std::uint64_t& n) {
        if (lim - p < len_bytes) return false;
        n = load_le(p, len_bytes);
        p += len_bytes;
        if (n > static_cast<std::uint64_t>(lim - p)) return false;
        // Bytes that start like a zip or a legacy torch file are scanned as nested files by
        // the machine (a torch.save blob inside a pickle): not plain data.
        if (n >= 4 &&
            (std::memcmp(p, "PK\x03\x04", 4) == 0 || std::memcmp(p, "\x80\x02\x8a\x0a", 4) == 0))
            return false;
        p += n;
        return true;
    };
    auto push = [&](std::uint8_t k) {
        if (sp == stack_hi) return false;
        *sp++ = k;
        return true;
    };

    for (;;) {  // p < lim here: the guard check at the bottom stops at the end
        const std::uint8_t* const op_start = p;
        const std::uint8_t code = *p++;
        if (const SimplePush simple = kSimple[code]; simple.kind_plus_one) {
            if (lim - p < simple.operand || sp == stack_hi) return std::nullopt;
            p += simple.operand;
            *sp++ = static_cast<std::uint8_t>(simple.kind_plus_one - 1);
        } else
            switch (code) {
                case op::MARK:
                    if (marks.size() >= limits::kPickleMaxMarks) return std::nullopt;
                    marks.push_back(sp);
                    fl = sp;
                    break;
                case op::STOP:
                    if (above_floor() == 0) return std::nullopt;
                    // A STOP before the end of its frame: the machine reports where the
                    // next pickle.load starts.
                    if (in_frame && p < frame_end) return std::nullopt;
                    return start + static_cast<std::uint64_t>(p - base);
                case op::POP:
                    if (above_floor() > 0) {
                        --sp;
                    } else if (!marks.empty()) {
                        marks.pop_back();  // as CPython (and the machine): drops the mark
                        fl = marks.empty() ? stack_lo : marks.back();
                    } else {
                        return std::nullopt;
                    }
                    break;
                case op::POP_MARK: {
                    std::uint8_t* m = nullptr;
                    if (!take_mark(m)) return std::nullopt;
                    sp = m;
                    break;
                }
                case op::DUP:
                    if (above_floor() == 0 || !push(sp[-1])) return std::nullopt;
                    break;
                case op::LONG1:
                case op::LONG4: {
                    std::uint64_t n = 0;
                    if (code == op::LONG4 && lim - p >= 4 && (p[3] & 0x80)) return std::nullopt;
                    if (!payload(code == op::LONG1 ? 1 : 4, n)) return std::nullopt;
                    if (!push(kind(n <= 8 ? Kind::Int : Kind::BigInt))) return std::nullopt;
                    break;
                }
                case op::SHORT_BINSTRING:
                case op::SHORT_BINUNICODE:
                case op::SHORT_BINBYTES:
                case op::BINSTRING:
                case op::BINUNICODE:
                case op::BINBYTES:
                case op::BINUNICODE8:
                case op::BINBYTES8:
                case op::BYTEARRAY8: {
                    const Operand shape = opcode_info(code)->operand;
                    const int len_bytes = shape == Operand::Len1   ? 1
                                          : shape == Operand::Len4 ? 4
                                                                   : 8;
                    if (code == op::BINSTRING && lim - p >= 4 && (p[3] & 0x80)) return std::nullopt;
                    std::uint64_t n = 0;
                    if (!payload(len_bytes, n)) return std::nullopt;
                    // The machine stops at a unicode operand that is not UTF-8 (as _pickle.c
                    // does); leave such streams to it. ASCII, the usual case, is one compare
                    // per byte.
                    if ((code == op::SHORT_BINUNICODE || code == op::BINUNICODE ||
                         code == op::BINUNICODE8) &&
                        n <= kMaxCheckedText) {
                        const std::uint8_t* s = p - n;
                        bool ascii = true;
                        for (std::uint64_t i = 0; i < n && ascii; ++i)
                            ascii = s[i] < 0x80;
                        if (!ascii && !valid_utf8(std::string_view(reinterpret_cast<const char*>(s),
                                                                   static_cast<std::size_t>(n)),
                                                  true))
                            return std::nullopt;
                    }
                    const bool text = code == op::SHORT_BINSTRING || code == op::SHORT_BINUNICODE ||
                                      code == op::BINSTRING || code == op::BINUNICODE ||
                                      code == op::BINUNICODE8;
                    if (!push(kind(text ? Kind::Str : Kind::Bytes))) return std::nullopt;
                    break;
                }
                case op::DICT:
                case op::LIST:
                case op::TUPLE:
                case op::FROZENSET: {
                    std::uint8_t* m = nullptr;
                    if (!take_mark(m)) return std::nullopt;
                    if (code == op::DICT && (sp - m) % 2) return std::nullopt;
                    sp = m;
                    const Kind k = code == op::DICT    ? Kind::Dict
                                   : code == op::LIST  ? Kind::List
                                   : code == op::TUPLE ? Kind::Tuple
                                                       : Kind::FrozenSet;
                    *sp++ = kind(k);  // cannot exceed the cap: it just shrank
                    break;
                }
                case op::TUPLE1:
                case op::TUPLE2:
                case op::TUPLE3: {
                    const std::size_t n = code == op::TUPLE1 ? 1 : code == op::TUPLE2 ? 2 : 3;
                    if (above_floor() < n) return std::nullopt;
                    sp -= n;
                    *sp++ = kind(Kind::Tuple);
                    break;
                }
                case op::APPEND:
                case op::APPENDS:
                case op::SETITEM:
                case op::SETITEMS:
                case op::ADDITEMS: {
                    const bool pairs = code == op::SETITEM || code == op::SETITEMS;
                    const bool marked =
                        code == op::APPENDS || code == op::SETITEMS || code == op::ADDITEMS;
                    const Kind target = pairs                  ? Kind::Dict
                                        : code == op::ADDITEMS ? Kind::Set
                                                               : Kind::List;
                    std::uint8_t* m = nullptr;
                    if (marked) {
                        if (!take_mark(m)) return std::nullopt;
                    } else {
                        const std::size_t need = pairs ? 2 : 1;
                        if (above_floor() < need) return std::nullopt;
                        m = sp - need;
                    }
                    if (m <= fl || m[-1] != kind(target)) return std::nullopt;
                    if (pairs && (sp - m) % 2) return std::nullopt;
                    sp = m;
                    break;
                }
                case op::BINPUT:
                case op::LONG_BINPUT:
                case op::MEMOIZE: {
                    std::uint64_t key = memo_count;
                    if (code != op::MEMOIZE) {
                        const int n = code == op::BINPUT ? 1 : 4;
                        if (lim - p < n) return std::nullopt;
                        key = load_le(p, n);
                        p += n;
                    }
                    if (above_floor() == 0 || !memo_put(key)) return std::nullopt;
                    break;
                }
                case op::BINGET:
                case op::LONG_BINGET: {
                    const int n = code == op::BINGET ? 1 : 4;
                    if (lim - p < n) return std::nullopt;
                    const std::uint64_t key = load_le(p, n);
                    p += n;
                    if (key >= memo_size || memo[key] == 0) return std::nullopt;
                    if (!push(static_cast<std::uint8_t>(memo[key] - 1))) return std::nullopt;
                    break;
                }
                case op::PROTO:
                    if (op_start != base || lim - p < 1 || *p > 5) return std::nullopt;
                    proto = *p++;
                    break;
                case op::FRAME: {
                    if (lim - p < 8) return std::nullopt;
                    const std::uint64_t len = load_le(p, 8);
                    p += 8;
                    if (in_frame) {
                        if (op_start >= frame_end) {
                            in_frame = false;
                        } else if (p > frame_end) {
                            return std::nullopt;
                        }
                    }
                    if ((proto >= 0 && proto < 4) || (in_frame && p < frame_end) ||
                        len > static_cast<std::uint64_t>(lim - p)) {
                        return std::nullopt;
                    }
                    in_frame = true;
                    frame_end = p + len;
                    guard = guard_for();
                    break;
                }
                default:
                    // Text opcodes of protocol 0, globals, calls, BUILD, extension codes,
                    // persistent ids, buffers, and bytes that are not opcodes: the machine's job.
                    return std::nullopt;
            }
        if (p > guard) {
            if (p >= lim) return std::nullopt;  // no STOP: truncated
            // An opcode that starts inside a frame must end inside it; one that starts at or
            // after the frame's end is outside any frame.
            if (in_frame && p > frame_end) {
                if (op_start < frame_end) return std::nullopt;
                in_frame = false;
            }
            if (p >= release_at) {  // let the source drop what has been read
                const auto at = start + static_cast<std::uint64_t>(p - base);
                source.release(released, at - released);
                released = at;
                release_at = p + std::min<std::uint64_t>(limits::kReleaseChunk,
                                                         static_cast<std::uint64_t>(lim - p));
            }
            guard = guard_for();
        }
    }
}

}  // namespace mscan::pickle
