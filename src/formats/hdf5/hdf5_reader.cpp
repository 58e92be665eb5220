// The HDF5 reader. Field layouts are those of the HDF5 File Format Specification version 3.0:
// superblock (II.A), object headers v1/v2 and their continuation blocks (IV.A.1), the header
// messages read here (IV.A.2: dataspace 0x01, datatype inside attributes 0x03, continuation
// 0x10, attribute 0x0C, attribute info 0x15), the global heap (III.E), the fractal heap (III.G)
// and version 2 B-trees (III.A.2). Checksums are Bob Jenkins' lookup3 (hashlittle, initval 0),
// as libhdf5's H5_checksum_metadata computes them.
//
// Every byte is read through Source::view() into a small copy or hashed in place; nothing is
// allocated from a declared size that the file does not back, and three budgets bound the
// work on any input: bytes read or hashed (kHdf5MaxReadBytes), bytes of values decoded
// (kHdf5MaxAttributeBytes), and tree nodes, records and heap objects visited
// (kHdf5MaxTreeNodes).
#include "formats/hdf5/hdf5_reader.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <new>
#include <set>
#include <string_view>
#include <unordered_map>

#include "formats/hdf5/hdf5_codes.h"
#include "mscan/limits.h"
#include "util/text.h"

namespace mscan::hdf5 {
namespace {

namespace lim = mscan::limits;
using Bytes = std::vector<std::uint8_t>;

constexpr std::uint64_t kUndefined = ~std::uint64_t{0};

/// Thrown inside the reader when a structure cannot be read; caught by the level that can
/// carry on (one attribute, one header chunk, the dense storage), which records it as an
/// hdf5.unreadable Anomaly. Never leaves the reader.
struct Bad {
    std::string what;
    std::int64_t offset = -1;
    /// A cap was reached: stop reading the file altogether.
    bool fatal = false;
};

[[noreturn]] void bad(std::string what, std::uint64_t offset) {
    throw Bad{std::move(what), static_cast<std::int64_t>(offset), false};
}

[[noreturn]] void cap(std::string what, std::uint64_t offset) {
    throw Bad{std::move(what), static_cast<std::int64_t>(offset), true};
}

std::uint64_t le(const std::uint8_t* p, int width) {
    std::uint64_t v = 0;
    for (int i = width - 1; i >= 0; --i)
        v = v << 8 | p[i];
    return v;
}

std::uint64_t be(const std::uint8_t* p, int width) {
    std::uint64_t v = 0;
    for (int i = 0; i < width; ++i)
        v = v << 8 | p[i];
    return v;
}

int log2_floor(std::uint64_t v) {
    int r = -1;
    while (v) {
        v >>= 1;
        ++r;
    }
    return r;
}

bool power_of_two(std::uint64_t v) {
    return v != 0 && (v & (v - 1)) == 0;
}

/// libhdf5's H5VM_limit_enc_size: bytes used to store values up to `v`.
int limit_enc_size(std::uint64_t v) {
    return (v ? log2_floor(v) : 0) / 8 + 1;
}

std::uint64_t align8(std::uint64_t v) {
    return v > kUndefined - 7 ? kUndefined : (v + 7) & ~7ull;
}

/// An attribute name as it appears in a problem: printable ASCII, cut short.
std::string quoted(std::string_view name) {
    std::string out = "'";
    for (std::size_t i = 0; i < name.size() && i < 64; ++i) {
        const auto c = static_cast<unsigned char>(name[i]);
        out += c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?';
    }
    if (name.size() > 64) out += "...";
    return out + "'";
}

// --- lookup3 -----------------------------------------------------------------------------------

std::uint32_t rot(std::uint32_t x, int k) {
    return x << k | x >> (32 - k);
}

void mix(std::uint32_t& a, std::uint32_t& b, std::uint32_t& c) {
    a -= c, a ^= rot(c, 4), c += b;
    b -= a, b ^= rot(a, 6), a += c;
    c -= b, c ^= rot(b, 8), b += a;
    a -= c, a ^= rot(c, 16), c += b;
    b -= a, b ^= rot(a, 19), a += c;
    c -= b, c ^= rot(b, 4), b += a;
}

void final_mix(std::uint32_t& a, std::uint32_t& b, std::uint32_t& c) {
    c ^= b, c -= rot(b, 14);
    a ^= c, a -= rot(c, 11);
    b ^= a, b -= rot(a, 25);
    c ^= b, c -= rot(b, 16);
    a ^= c, a -= rot(c, 4);
    b ^= a, b -= rot(a, 14);
    c ^= b, c -= rot(b, 24);
}

/// lookup3's hashlittle() over bytes fed in pieces; the total length is known up front, as
/// the last 1-12 bytes are mixed differently from the blocks before them.
class Lookup3 {
  public:
    explicit Lookup3(std::uint64_t length)
        : left_(length), a_(0xdeadbeef + static_cast<std::uint32_t>(length)), b_(a_), c_(a_) {}

    void feed(const std::uint8_t* p, std::size_t n) {
        while (n > 0) {
            // Whole blocks straight from the input while more bytes follow them.
            while (fill_ == 0 && n >= 12 && left_ > 12) {
                a_ += static_cast<std::uint32_t>(le(p, 4));
                b_ += static_cast<std::uint32_t>(le(p + 4, 4));
                c_ += static_cast<std::uint32_t>(le(p + 8, 4));
                mix(a_, b_, c_);
                p += 12, n -= 12, left_ -= 12;
            }
            if (n == 0) return;
            block_[fill_++] = *p++;
            --n;
            --left_;
            if (fill_ == 12 && left_ > 0) {
                a_ += word(0), b_ += word(4), c_ += word(8);
                mix(a_, b_, c_);
                fill_ = 0;
            }
        }
    }

    std::uint32_t finish() {
        if (fill_ == 0) return c_;
        for (std::size_t i = fill_; i < 12; ++i)
            block_[i] = 0;
        a_ += word(0), b_ += word(4), c_ += word(8);
        final_mix(a_, b_, c_);
        return c_;
    }

  private:
    std::uint32_t word(int i) const { return static_cast<std::uint32_t>(le(block_ + i, 4)); }
    std::uint64_t left_;
    std::uint32_t a_, b_, c_;
    std::uint8_t block_[12] = {};
    std::size_t fill_ = 0;
};

std::uint32_t lookup3(const std::uint8_t* p, std::size_t n) {
    Lookup3 h(n);
    h.feed(p, n);
    return h.finish();
}

// --- parsing a copied buffer --------------------------------------------------------------------

class Cursor {
  public:
    Cursor(const std::uint8_t* p, std::size_t n, std::uint64_t file_offset)
        : p_(p), n_(n), off_(file_offset) {}
    Cursor(const Bytes& b, std::uint64_t file_offset) : Cursor(b.data(), b.size(), file_offset) {}

    std::size_t pos() const { return pos_; }
    std::size_t left() const { return n_ - pos_; }
    std::uint64_t at() const { return off_ + pos_; }

    const std::uint8_t* take(std::size_t k, const char* what) {
        if (k > left()) bad(std::string(what) + " cut short", at());
        const std::uint8_t* r = p_ + pos_;
        pos_ += k;
        return r;
    }
    std::uint64_t u(int width, const char* what) { return le(take(width, what), width); }
    std::uint8_t u8(const char* what) { return *take(1, what); }
    void skip(std::size_t k, const char* what) { take(k, what); }
    void seek(std::size_t pos, const char* what) {
        if (pos > n_) bad(std::string(what) + " cut short", off_ + n_);
        pos_ = pos;
    }

  private:
    const std::uint8_t* p_;
    std::size_t n_;
    std::uint64_t off_;
    std::size_t pos_ = 0;
};

// --- datatypes and dataspaces -------------------------------------------------------------------

enum class Decode { Integer, Float, FixedString, VlenString, VlenBytes, Other };

struct Datatype {
    Decode decode = Decode::Other;
    std::uint32_t size = 0;
    bool big_endian = false;
    bool is_signed = false;
    std::uint16_t bit_offset = 0;
    std::uint16_t precision = 0;
    int pad = 0;  ///< string padding: 0 null-terminated, 1 null-padded, 2 space-padded
    std::string describe;
};

const char* class_name(int cls) {
    switch (cls) {
        case 0:
            return "integer";
        case 1:
            return "float";
        case 2:
            return "time";
        case 3:
            return "string";
        case 4:
            return "bitfield";
        case 5:
            return "opaque";
        case 6:
            return "compound";
        case 7:
            return "reference";
        case 8:
            return "enum";
        case 9:
            return "vlen";
        case 10:
            return "array";
        default:
            return "unknown class";
    }
}

/// A datatype message (IV.A.2.d). `depth` is 0 for the attribute's own type, 1 for a vlen's
/// base type (which is all the nesting read here).
Datatype parse_datatype(Cursor& c, int depth, int sizeof_offsets) {
    const std::uint64_t at = c.at();
    const std::uint8_t head = c.u8("datatype");
    const int cls = head & 0x0f;
    const int version = head >> 4;
    const auto bits = static_cast<std::uint32_t>(c.u(3, "datatype"));
    Datatype t;
    t.size = static_cast<std::uint32_t>(c.u(4, "datatype"));
    if (version < 1 || version > 5)
        bad("datatype of unknown version " + std::to_string(version), at);
    if (t.size == 0) bad("datatype of size 0", at);
    const std::string order = (bits & 1) ? " (big-endian)" : "";
    switch (cls) {
        case 0: {  // fixed-point
            t.big_endian = bits & 1;
            t.is_signed = bits & 8;
            t.bit_offset = static_cast<std::uint16_t>(c.u(2, "integer datatype"));
            t.precision = static_cast<std::uint16_t>(c.u(2, "integer datatype"));
            const std::string name =
                std::string(t.is_signed ? "int" : "uint") + std::to_string(8ull * t.size) + order;
            if (t.size > 8 || t.precision == 0 ||
                t.bit_offset + std::uint64_t{t.precision} > 8ull * t.size) {
                t.describe = name + " (not decoded)";
                return t;
            }
            t.decode = Decode::Integer;
            t.describe = name;
            if (t.precision != 8 * t.size || t.bit_offset != 0)
                t.describe += " (" + std::to_string(t.precision) + " bits at offset " +
                              std::to_string(t.bit_offset) + ")";
            return t;
        }
        case 1: {  // floating point
            t.big_endian = bits & 1;
            const bool vax = bits & 0x40;
            const int norm = (bits >> 4) & 3;
            const int sign = (bits >> 8) & 0xff;
            const auto offset = c.u(2, "float datatype");
            const auto precision = c.u(2, "float datatype");
            const auto exp_loc = c.u8("float datatype");
            const auto exp_size = c.u8("float datatype");
            const auto mant_loc = c.u8("float datatype");
            const auto mant_size = c.u8("float datatype");
            const auto bias = c.u(4, "float datatype");
            const std::string name = "float" + std::to_string(8ull * t.size) + order;
            struct Ieee {
                std::uint32_t size;
                int sign, exp_loc, exp_size, mant_size;
                std::uint64_t bias;
            };
            static constexpr Ieee kIeee[] = {
                {2, 15, 10, 5, 10, 15}, {4, 31, 23, 8, 23, 127}, {8, 63, 52, 11, 52, 1023}};
            for (const auto& f : kIeee) {
                if (t.size == f.size && !vax && norm == 2 && sign == f.sign && offset == 0 &&
                    precision == 8 * f.size && exp_loc == f.exp_loc && exp_size == f.exp_size &&
                    mant_loc == 0 && mant_size == f.mant_size && bias == f.bias) {
                    t.decode = Decode::Float;
                    t.describe = name;
                    return t;
                }
            }
            t.describe = name + " (not IEEE, not decoded)";
            return t;
        }
        case 3: {  // string
            t.pad = bits & 0x0f;
            const int charset = (bits >> 4) & 0x0f;
            t.decode = Decode::FixedString;
            t.describe = std::string("fixed ") + (charset == 1 ? "utf-8 " : "") + "string[" +
                         std::to_string(t.size) + "]";
            if (t.pad > 2) {
                t.decode = Decode::Other;
                t.describe += " (unknown padding, not decoded)";
            }
            return t;
        }
        case 9: {  // variable-length
            const int type = bits & 0x0f;
            const int charset = (bits >> 8) & 0x0f;
            if (t.size != 4u + static_cast<std::uint32_t>(sizeof_offsets) + 4u) {
                t.describe = "vlen (size " + std::to_string(t.size) + ", not decoded)";
                return t;
            }
            if (depth > 0) {
                t.describe = "vlen of vlen (not decoded)";
                return t;
            }
            const Datatype base = parse_datatype(c, depth + 1, sizeof_offsets);
            if (type == 1) {
                t.decode = Decode::VlenString;
                t.describe = std::string("vlen ") + (charset == 1 ? "utf-8 " : "") + "string";
            } else if (type == 0 && base.size == 1 &&
                       (base.decode == Decode::FixedString || base.decode == Decode::Integer)) {
                t.decode = Decode::VlenBytes;
                t.describe = "vlen sequence of " + base.describe;
            } else {
                t.describe = "vlen sequence of " + base.describe + " (not decoded)";
            }
            return t;
        }
        default:
            t.describe = std::string(class_name(cls)) + "[" + std::to_string(t.size) + " bytes]";
            return t;
    }
}

struct Dataspace {
    enum class Kind { Scalar, Simple, Null } kind = Kind::Scalar;
    std::vector<std::uint64_t> dims;
};

/// A dataspace message (IV.A.2.b), versions 1 and 2.
Dataspace parse_dataspace(Cursor& c, int sizeof_lengths) {
    const std::uint64_t at = c.at();
    const int version = c.u8("dataspace");
    const int rank = c.u8("dataspace");
    const int flags = c.u8("dataspace");
    Dataspace s;
    if (version == 1) {
        c.skip(5, "dataspace");
        s.kind = rank > 0 ? Dataspace::Kind::Simple : Dataspace::Kind::Scalar;
    } else if (version == 2) {
        const int type = c.u8("dataspace");
        if (type > 2) bad("dataspace of unknown type " + std::to_string(type), at);
        s.kind = static_cast<Dataspace::Kind>(type);
    } else {
        bad("dataspace of unknown version " + std::to_string(version), at);
    }
    if (rank > 32) bad("dataspace of rank " + std::to_string(rank), at);
    if (s.kind != Dataspace::Kind::Simple && rank != 0)
        bad("scalar or null dataspace with dimensions", at);
    for (int i = 0; i < rank; ++i)
        s.dims.push_back(c.u(sizeof_lengths, "dataspace dimensions"));
    if (flags & 1) c.skip(static_cast<std::size_t>(rank) * sizeof_lengths, "dataspace maxima");
    return s;
}

/// Number of elements, or nullopt past 2^64.
std::optional<std::uint64_t> element_count(const Dataspace& s) {
    if (s.kind == Dataspace::Kind::Null) return 0;
    std::uint64_t n = 1;
    for (auto d : s.dims) {
        if (d != 0 && n > kUndefined / d) return std::nullopt;
        n *= d;
    }
    return n;
}

std::string shape(const Dataspace& s) {
    if (s.kind == Dataspace::Kind::Null) return " (null dataspace)";
    if (s.dims.empty()) return "";
    std::string out = "[";
    for (std::size_t i = 0; i < s.dims.size(); ++i)
        out += (i ? "," : "") + std::to_string(s.dims[i]);
    return out + "]";
}

double half_to_double(std::uint16_t h) {
    const int e = (h >> 10) & 0x1f;
    const int m = h & 0x3ff;
    double v;
    if (e == 0)
        v = std::ldexp(m, -24);
    else if (e == 31)
        v = m ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
    else
        v = std::ldexp(m + 1024, e - 25);
    return (h & 0x8000) ? -v : v;
}

// --- the reader ---------------------------------------------------------------------------------

struct HeapObject {
    std::uint64_t at;    ///< absolute file offset of the object's bytes
    std::uint64_t size;  ///< its length
};

struct Chunk {
    std::uint64_t start;  ///< absolute offset of the block (its signature, if any)
    std::uint64_t begin;  ///< messages start this many bytes into the block
    std::uint64_t len;    ///< bytes of messages (gap included)
    bool v2;              ///< checksum after the messages; OCHK signature unless first
    bool first;
};

struct FractalHeap {
    std::uint64_t at = 0;
    std::uint16_t id_len = 0;
    std::uint16_t filter_len = 0;
    bool checksum_dblocks = false;
    std::uint64_t huge_btree = kUndefined;
    std::uint16_t width = 0;
    std::uint64_t start = 0;
    std::uint64_t max_direct = 0;
    std::uint16_t max_bits = 0;
    std::uint64_t root = kUndefined;
    std::uint16_t root_rows = 0;
    int off_size = 0, len_size = 0;
    int max_direct_rows = 0, start_bits = 0, width_bits = 0;
    bool huge_direct = false;
    int huge_id_size = 0;
    bool huge_loaded = false;
    std::unordered_map<std::uint64_t, HeapObject> huge;
    std::set<std::uint64_t> checked_blocks;
};

struct V2Btree {
    std::uint64_t at = 0;
    int type = 0;
    std::uint32_t node_size = 0;
    std::uint16_t rec_size = 0;
    std::uint16_t depth = 0;
    std::uint64_t root = kUndefined;
    std::uint16_t root_nrec = 0;
    std::vector<std::uint64_t> max_nrec;  ///< per depth
    std::vector<int> cum_size;            ///< bytes of "total records" per depth
    int nrec_size = 0;
};

class Reader {
  public:
    Reader(Source& source, std::uint64_t superblock_offset, RootAttributes& out)
        : src_(source), size_(source.size()), base_(superblock_offset), out_(out) {
        const std::uint64_t relative =
            size_ > (kUndefined - lim::kHdf5ReadSlack) / lim::kHdf5ReadFactor
                ? kUndefined
                : lim::kHdf5ReadSlack + lim::kHdf5ReadFactor * size_;
        read_cap_ = std::min(lim::kHdf5MaxReadBytes, relative);
    }

    void run() {
        try {
            const std::uint64_t root = superblock();
            if (root != kUndefined) object_header(root);
        } catch (const Bad& e) {
            problem(e.what, e.offset);
        } catch (const std::bad_alloc&) {
            problem("out of memory", -1);
        }
    }

  private:
    using RecordFn = std::function<void(Cursor&)>;

    void problem(std::string what, std::int64_t offset) {
        if (out_.problems.size() > lim::kHdf5MaxProblems) return;
        if (!reported_.emplace(what, offset).second) return;  // once per place
        if (out_.problems.size() == lim::kHdf5MaxProblems) {
            out_.problems.push_back(
                Anomaly{kUnreadable, "more problems not listed (limit)", offset});
            return;
        }
        out_.problems.push_back(Anomaly{kUnreadable, std::move(what), offset});
    }

    // Catches what one attribute (or one unit of work) cannot read; caps go on up.
    template <class F>
    void guarded(F&& f) {
        try {
            f();
        } catch (const Bad& e) {
            if (e.fatal) throw;
            problem(e.what, e.offset);
        }
    }

    void charge(std::uint64_t n, std::uint64_t at) {
        read_ += n;
        if (read_ > read_cap_)
            cap("HDF5 structures read exceed " + std::to_string(read_cap_) + " bytes (limit)", at);
    }

    void step(std::uint64_t at) {
        if (++steps_ > lim::kHdf5MaxTreeNodes)
            cap("more than " + std::to_string(lim::kHdf5MaxTreeNodes) +
                    " B-tree records, heap blocks and heap objects (limit)",
                at);
    }

    void spend_decoded(std::uint64_t n, std::uint64_t at) {
        if (n > lim::kHdf5MaxAttributeBytes - decoded_)
            cap("attribute values exceed " + std::to_string(lim::kHdf5MaxAttributeBytes >> 20) +
                    " MiB decoded (limit)",
                at);
        decoded_ += n;
    }

    /// Copies [at, at + n) out of the source; all of it, or Bad.
    Bytes read(std::uint64_t at, std::uint64_t n, const char* what) {
        if (at > size_ || n > size_ - at) bad(std::string(what) + " beyond end of file", at);
        return read_some(at, n, what);
    }

    /// Copies [at, at + n) or as much of it as the file holds.
    Bytes read_some(std::uint64_t at, std::uint64_t n, const char* what) {
        if (at >= size_) return {};
        n = std::min(n, size_ - at);
        charge(n, at);
        // No reserve(n): a source may declare more bytes than it holds (PrefixSource); the
        // copy grows with what the views actually return.
        Bytes out;
        while (out.size() < n) {
            const auto v = src_.view(at + out.size(), static_cast<std::size_t>(n - out.size()));
            if (v.empty()) bad(std::string(what) + " could not be read", at + out.size());
            out.insert(out.end(), v.begin(), v.end());
        }
        return out;
    }

    /// Copies n (at most 64) bytes at `at` into `out` without allocating; Bad if the file
    /// ends first.
    void read_small(std::uint64_t at, std::size_t n, std::uint8_t* out, const char* what) {
        if (at > size_ || n > size_ - at) bad(std::string(what) + " beyond end of file", at);
        charge(n, at);
        std::size_t done = 0;
        while (done < n) {
            const auto v = src_.view(at + done, n - done);
            if (v.empty()) bad(std::string(what) + " could not be read", at + done);
            std::memcpy(out + done, v.data(), v.size());
            done += v.size();
        }
    }

    std::uint32_t read_u32(std::uint64_t at, const char* what) {
        std::uint8_t b[4];
        read_small(at, 4, b, what);
        return static_cast<std::uint32_t>(le(b, 4));
    }

    /// lookup3 over [at, at + n) without copying it, with the 4 bytes at `zero_at` (if any)
    /// hashed as zeros (where a checksum field sits inside what it covers).
    std::uint32_t checksum_range(std::uint64_t at, std::uint64_t n, const char* what,
                                 std::uint64_t zero_at = kUndefined) {
        if (at > size_ || n > size_ - at) bad(std::string(what) + " beyond end of file", at);
        charge(n, at);
        Lookup3 h(n);
        auto feed = [&](std::uint64_t from, std::uint64_t to) {
            constexpr std::uint64_t kWindow = 1 << 20;
            while (from < to) {
                const auto v =
                    src_.view(from, static_cast<std::size_t>(std::min(to - from, kWindow)));
                if (v.empty()) bad(std::string(what) + " could not be read", from);
                h.feed(v.data(), v.size());
                from += v.size();
            }
        };
        const std::uint64_t end = at + n;
        if (zero_at >= at && zero_at < end) {
            const std::uint64_t zero_end = std::min(end, zero_at + 4);
            const std::uint8_t zero[4] = {};
            feed(at, zero_at);
            h.feed(zero, static_cast<std::size_t>(zero_end - zero_at));
            feed(zero_end, end);
        } else {
            feed(at, end);
        }
        return h.finish();
    }

    std::uint64_t address(Cursor& c, const char* what) {
        const std::uint64_t v = c.u(so_, what);
        return v == (so_ == 8 ? kUndefined : (std::uint64_t{1} << (8 * so_)) - 1) ? kUndefined : v;
    }
    std::uint64_t length(Cursor& c, const char* what) { return c.u(sl_, what); }

    /// A relative address to an absolute offset inside the file.
    std::uint64_t resolve(std::uint64_t rel, const std::string& what, std::uint64_t at) {
        if (rel == kUndefined) bad(what + " has no address", at);
        if (rel > kUndefined - base_ || base_ + rel >= size_)
            bad(what + " beyond end of file (address " + util::hex(rel) + ")", at);
        return base_ + rel;
    }

    // --- superblock ---

    std::uint64_t superblock() {
        const std::uint64_t sb = base_;
        const Bytes b = read_some(sb, 128, "superblock");
        Cursor c(b, sb);
        const auto* sig = c.take(8, "superblock");
        if (std::memcmp(sig, kSignature, 8) != 0) bad("no HDF5 signature at the superblock", sb);
        const int version = c.u8("superblock");
        if (version > 3) bad("superblock of unknown version " + std::to_string(version), sb + 8);
        std::uint64_t root = kUndefined;
        std::uint64_t eof = kUndefined;
        if (version <= 1) {
            c.skip(4, "superblock");  // free space, root entry, reserved, shared header versions
            so_ = c.u8("superblock");
            sl_ = c.u8("superblock");
            check_sizes(sb);
            out_.superblock_version = version;
            c.skip(1 + 2 + 2 + 4, "superblock");  // reserved, leaf K, internal K, flags
            if (version == 1) c.skip(4, "superblock");
            address(c, "superblock");  // base address: libhdf5 uses the superblock's position
            address(c, "superblock");  // free-space info
            eof = address(c, "superblock end-of-file address");
            address(c, "superblock");        // driver info
            address(c, "root group entry");  // link name offset
            root = address(c, "root group entry");
            c.skip(4 + 4 + 16, "root group entry");  // cache type, reserved, scratch pad
        } else {
            so_ = c.u8("superblock");
            sl_ = c.u8("superblock");
            check_sizes(sb);
            out_.superblock_version = version;
            c.skip(1, "superblock");                                // file consistency flags
            c.skip(2u * static_cast<unsigned>(so_), "superblock");  // base, extension
            eof = address(c, "superblock end-of-file address");
            root = address(c, "superblock");
            const std::size_t covered = c.pos();
            const auto stored = static_cast<std::uint32_t>(c.u(4, "superblock checksum"));
            if (lookup3(b.data(), covered) != stored)
                problem("superblock checksum mismatch", static_cast<std::int64_t>(sb + covered));
        }
        // libhdf5 refuses a file shorter than the end-of-file address its superblock records
        // ("truncated file"); the parts mscan reads may all be there, the rest is not. h5py's
        // files with a user block store the address counted from the start of the file, so
        // it is compared with the whole file's size (the lenient reading).
        if (eof != kUndefined && eof > size_)
            problem("file is " + std::to_string(size_) +
                        " bytes, shorter than the superblock's end-of-file address " +
                        std::to_string(eof) + " (truncated; libhdf5 refuses to open it)",
                    static_cast<std::int64_t>(sb));
        return resolve(root, "root group object header", sb);
    }

    void check_sizes(std::uint64_t sb) {
        auto ok = [](int v) { return v == 2 || v == 4 || v == 8; };
        if (!ok(so_) || !ok(sl_))
            bad("unsupported sizes of offsets/lengths (" + std::to_string(so_) + "/" +
                    std::to_string(sl_) + ")",
                sb);
    }

    // --- object headers ---

    struct HeaderState {
        int version = 1;
        bool creation_order = false;  ///< v2 message headers carry a creation order
        std::uint64_t messages = 0;
        std::uint64_t continuations = 0;
        std::set<std::uint64_t> seen;
        std::vector<std::pair<std::uint64_t, std::uint64_t>> spans;  ///< [start, end) of chunks
        std::deque<Chunk> queue;
        bool have_ainfo = false;
        std::uint64_t heap = kUndefined, name_btree = kUndefined, ainfo_at = 0;
        bool stop = false;
    };

    void object_header(std::uint64_t at) {
        HeaderState st;
        const Bytes pre = read_some(at, 64, "object header");
        Cursor c(pre, at);
        if (pre.size() >= 4 && std::memcmp(pre.data(), "OHDR", 4) == 0) {
            c.skip(4, "object header");
            const int version = c.u8("object header");
            if (version != 2) bad("OHDR object header of version " + std::to_string(version), at);
            const int flags = c.u8("object header");
            if (flags & 0x20) c.skip(16, "object header times");
            if (flags & 0x10) c.skip(4, "object header attribute phase change");
            const std::uint64_t size = c.u(1 << (flags & 3), "object header");
            st.version = 2;
            st.creation_order = flags & 0x04;
            st.queue.push_back(Chunk{at, c.pos(), size, true, true});
        } else if (!pre.empty() && pre[0] == 1) {
            c.skip(1 + 1 + 2 + 4, "object header");  // version, reserved, messages, refcount
            const std::uint64_t size = c.u(4, "object header");
            c.skip(4, "object header");  // alignment padding
            st.version = 1;
            st.queue.push_back(Chunk{at + 16, 0, size, false, true});
        } else {
            bad("object header of unknown version " + std::to_string(pre.empty() ? -1 : pre[0]),
                at);
        }
        st.seen.insert(st.queue.front().start);
        const Chunk& first = st.queue.front();
        st.spans.emplace_back(
            at, first.start + first.begin + std::min(first.len, size_) + (first.v2 ? 4 : 0));
        while (!st.queue.empty() && !st.stop) {
            const Chunk chunk = st.queue.front();
            st.queue.pop_front();
            guarded([&] { walk_chunk(chunk, st); });
        }
        if (st.have_ainfo && st.heap != kUndefined) {
            guarded([&] { dense(st.heap, st.name_btree, st.ainfo_at); });
        }
    }

    void walk_chunk(const Chunk& ch, HeaderState& st) {
        std::uint64_t end;  // end of the messages (and start of a v2 checksum)
        if (ch.start > size_ || ch.len > size_ || ch.begin + ch.len > size_ - ch.start) {
            problem("object header chunk cut short by end of file (" +
                        std::to_string(ch.begin + ch.len) + " bytes declared at " +
                        util::hex(ch.start) + ")",
                    static_cast<std::int64_t>(size_));
            end = size_;
        } else {
            end = ch.start + ch.begin + ch.len;
            if (ch.v2) {
                if (!ch.first) {
                    std::uint8_t sig[4];
                    read_small(ch.start, 4, sig, "object header continuation block");
                    if (std::memcmp(sig, "OCHK", 4) != 0)
                        bad("object header continuation block without its OCHK signature",
                            ch.start);
                }
                if (size_ - end < 4) {
                    problem("object header checksum beyond end of file",
                            static_cast<std::int64_t>(end));
                } else {
                    const std::uint32_t stored = read_u32(end, "object header checksum");
                    const auto sum =
                        checksum_range(ch.start, ch.begin + ch.len, "object header chunk");
                    if (sum != stored)
                        problem("object header checksum mismatch",
                                static_cast<std::int64_t>(ch.start));
                }
            }
        }
        const std::uint64_t head = st.version == 1 ? 8 : (st.creation_order ? 6 : 4);
        if (ch.start > end || ch.begin > end - ch.start) return;
        std::uint64_t pos = ch.start + ch.begin;
        while (end - pos >= head) {  // less than a message header left: the gap
            if (++st.messages > lim::kHdf5MaxMessages) {
                st.stop = true;
                problem("more than " + std::to_string(lim::kHdf5MaxMessages) +
                            " object header messages (limit)",
                        static_cast<std::int64_t>(pos));
                return;
            }
            std::uint8_t h[8];
            read_small(pos, static_cast<std::size_t>(head), h, "object header message");
            Cursor c(h, static_cast<std::size_t>(head), pos);
            const int type = static_cast<int>(c.u(st.version == 1 ? 2 : 1, "message"));
            const std::uint64_t size = c.u(2, "message");
            const int flags = c.u8("message");
            const std::uint64_t data = pos + head;
            if (size > end - data) bad("object header message runs past its chunk", pos);
            if (st.version == 1 && size % 8 != 0)
                bad("version 1 object header message not 8-byte aligned", pos);
            guarded([&] { message(type, flags, data, size, st); });
            pos = data + size;
        }
    }

    void message(int type, int flags, std::uint64_t at, std::uint64_t size, HeaderState& st) {
        switch (type) {
            case 0x0C: {  // attribute
                if (flags & 0x02) bad("shared attribute message not read", at);
                const Bytes m = read(at, size, "attribute message");
                attribute(m, at);
                return;
            }
            case 0x10: {  // continuation
                const Bytes m = read(at, size, "continuation message");
                Cursor c(m, at);
                const std::uint64_t rel = address(c, "continuation message");
                const std::uint64_t len = length(c, "continuation message");
                const std::uint64_t block = resolve(rel, "object header continuation", at);
                if (++st.continuations > lim::kHdf5MaxContinuations) {
                    if (st.continuations > lim::kHdf5MaxContinuations + 1) return;  // said once
                    bad("more than " + std::to_string(lim::kHdf5MaxContinuations) +
                            " object header continuation blocks (limit)",
                        at);
                }
                if (!st.seen.insert(block).second)
                    bad("object header continuation loop (block " + util::hex(block) +
                            " read twice)",
                        at);
                // Chunks never share bytes; overlapping ones would make the same messages
                // count many times.
                const std::uint64_t block_end = block + std::min(len, size_ - block);
                for (const auto& [s0, s1] : st.spans)
                    if (block < s1 && s0 < block_end)
                        bad("object header continuation block " + util::hex(block) +
                                " overlaps another chunk",
                            at);
                st.spans.emplace_back(block, block_end);
                if (st.version == 2) {
                    if (len < 8) bad("object header continuation block shorter than 8 bytes", at);
                    st.queue.push_back(Chunk{block, 4, len - 8, true, false});
                } else {
                    st.queue.push_back(Chunk{block, 0, len, false, false});
                }
                return;
            }
            case 0x15: {  // attribute info
                if (st.have_ainfo) return;
                const Bytes m = read(at, size, "attribute info message");
                Cursor c(m, at);
                const int version = c.u8("attribute info message");
                if (version != 0)
                    bad("attribute info message of unknown version " + std::to_string(version), at);
                const int aflags = c.u8("attribute info message");
                if (aflags & 1) c.skip(2, "attribute info message");
                st.heap = address(c, "attribute info message");
                st.name_btree = address(c, "attribute info message");
                st.have_ainfo = true;
                st.ainfo_at = at;
                return;
            }
            default:
                return;
        }
    }

    // --- attribute messages ---

    void attribute(const Bytes& m, std::uint64_t at) {
        if (out_.attributes.size() >= lim::kHdf5MaxAttributes)
            cap("more than " + std::to_string(lim::kHdf5MaxAttributes) + " attributes (limit)", at);
        Cursor c(m, at);
        const int version = c.u8("attribute message");
        const int flags = c.u8("attribute message");
        const std::uint64_t name_size = c.u(2, "attribute message");
        const std::uint64_t type_size = c.u(2, "attribute message");
        const std::uint64_t space_size = c.u(2, "attribute message");
        if (version < 1 || version > 3)
            bad("attribute message of unknown version " + std::to_string(version), at);
        if (version == 3) c.skip(1, "attribute message");  // name character set
        auto padded = [&](std::uint64_t n) { return version == 1 ? align8(n) : n; };

        const std::size_t name_at = c.pos();
        const auto* name_bytes = c.take(static_cast<std::size_t>(name_size), "attribute name");
        const std::size_t name_len =
            static_cast<std::size_t>(std::find(name_bytes, name_bytes + name_size, 0) - name_bytes);
        std::string name(reinterpret_cast<const char*>(name_bytes), name_len);
        c.seek(name_at + padded(name_size), "attribute name");
        if (flags & 0x01) bad("attribute " + quoted(name) + ": shared datatype not read", at);
        if (flags & 0x02) bad("attribute " + quoted(name) + ": shared dataspace not read", at);

        const std::size_t type_at = c.pos();
        Cursor tc(m.data() + type_at, std::min<std::uint64_t>(type_size, c.left()), at + type_at);
        const Datatype type = parse_datatype(tc, 0, so_);
        c.seek(type_at + padded(type_size), "attribute datatype");

        const std::size_t space_at = c.pos();
        Cursor sc(m.data() + space_at, std::min<std::uint64_t>(space_size, c.left()),
                  at + space_at);
        const Dataspace space = parse_dataspace(sc, sl_);
        c.seek(space_at + padded(space_size), "attribute dataspace");

        const auto count = element_count(space);
        if (!count || *count > c.left() / type.size)
            bad("attribute " + quoted(name) + ": dataspace declares more data (" +
                    (count ? std::to_string(*count) : std::string("2^64+")) + " x " +
                    std::to_string(type.size) + " bytes) than the message holds (" +
                    std::to_string(c.left()) + ")",
                at);
        const auto* data = c.take(static_cast<std::size_t>(*count * type.size), "attribute data");

        spend_decoded(sizeof(Attribute) + name.size() + type.describe.size(), at);
        Attribute a;
        a.name = std::move(name);
        a.offset = at;
        a.type = type.describe + shape(space);
        decode(a, type, data, static_cast<std::size_t>(*count), at);
        out_.attributes.push_back(std::move(a));
    }

    void decode(Attribute& a, const Datatype& t, const std::uint8_t* data, std::size_t count,
                std::uint64_t at) {
        switch (t.decode) {
            case Decode::Integer: {
                a.kind = Attribute::Kind::Integer;
                spend_decoded(8ull * count, at);
                a.integers.reserve(count);
                const int w = static_cast<int>(t.size);
                for (std::size_t i = 0; i < count; ++i) {
                    const std::uint8_t* p = data + i * t.size;
                    std::uint64_t v = t.big_endian ? be(p, w) : le(p, w);
                    v >>= t.bit_offset;
                    if (t.precision < 64) {
                        v &= (std::uint64_t{1} << t.precision) - 1;
                        if (t.is_signed && (v >> (t.precision - 1)) & 1)
                            v |= ~((std::uint64_t{1} << t.precision) - 1);
                    }
                    a.integers.push_back(static_cast<std::int64_t>(v));
                }
                return;
            }
            case Decode::Float: {
                a.kind = Attribute::Kind::Float;
                spend_decoded(8ull * count, at);
                a.floats.reserve(count);
                const int w = static_cast<int>(t.size);
                for (std::size_t i = 0; i < count; ++i) {
                    const std::uint8_t* p = data + i * t.size;
                    const std::uint64_t v = t.big_endian ? be(p, w) : le(p, w);
                    if (w == 8) {
                        double d;
                        std::memcpy(&d, &v, 8);
                        a.floats.push_back(d);
                    } else if (w == 4) {
                        const auto u = static_cast<std::uint32_t>(v);
                        float f;
                        std::memcpy(&f, &u, 4);
                        a.floats.push_back(f);
                    } else {
                        a.floats.push_back(half_to_double(static_cast<std::uint16_t>(v)));
                    }
                }
                return;
            }
            case Decode::FixedString: {
                a.kind = Attribute::Kind::String;
                for (std::size_t i = 0; i < count; ++i) {
                    const auto* p = reinterpret_cast<const char*>(data + i * t.size);
                    std::size_t n = t.size;
                    if (t.pad == 0) {  // null-terminated: what libhdf5 converts stops at the NUL
                        n = static_cast<std::size_t>(std::find(p, p + n, '\0') - p);
                    } else {  // padding removed from the end, as numpy/h5py strip it
                        const char padc = t.pad == 2 ? ' ' : '\0';
                        while (n > 0 && p[n - 1] == padc)
                            --n;
                    }
                    spend_decoded(n + sizeof(std::string), at);
                    a.strings.emplace_back(p, n);
                }
                return;
            }
            case Decode::VlenString:
            case Decode::VlenBytes: {
                a.kind = Attribute::Kind::String;
                for (std::size_t i = 0; i < count; ++i) {
                    Cursor c(data + i * t.size, t.size, at);
                    const std::uint64_t len = c.u(4, "vlen element");
                    const std::uint64_t collection = address(c, "vlen element");
                    const auto index = static_cast<std::uint32_t>(c.u(4, "vlen element"));
                    spend_decoded(sizeof(std::string), at);
                    if (len == 0) {
                        a.strings.emplace_back();
                        continue;
                    }
                    const HeapObject obj = global_object(collection, index, at);
                    if (!used_global_.emplace(obj.at, index).second)
                        bad("attribute " + quoted(a.name) + ": global heap object " +
                                std::to_string(index) + " referenced twice",
                            obj.at);
                    if (obj.size < len)
                        bad("attribute " + quoted(a.name) + ": global heap object " +
                                std::to_string(index) + " shorter than its vlen length",
                            obj.at);
                    spend_decoded(len, at);
                    Bytes s = read(obj.at, len, "global heap object");
                    std::size_t n = s.size();
                    if (t.decode == Decode::VlenString)  // h5py reads it as a C string
                        n = static_cast<std::size_t>(std::find(s.begin(), s.end(), 0) - s.begin());
                    a.strings.emplace_back(reinterpret_cast<const char*>(s.data()), n);
                }
                return;
            }
            case Decode::Other:
                a.kind = Attribute::Kind::Other;
                return;
        }
    }

    // --- global heap ---

    HeapObject global_object(std::uint64_t rel, std::uint32_t index, std::uint64_t at) {
        const std::uint64_t col = resolve(rel, "global heap collection", at);
        auto it = collections_.find(col);
        if (it == collections_.end()) {
            try {
                it = collections_.emplace(col, load_collection(col)).first;
            } catch (const Bad&) {
                collections_.emplace(col, std::unordered_map<std::uint32_t, HeapObject>{});
                throw;  // said once; later lookups find the object missing
            }
        }
        const auto obj = it->second.find(index);
        if (obj == it->second.end())
            bad("global heap object " + std::to_string(index) + " not in collection " +
                    util::hex(col),
                col);
        return obj->second;
    }

    std::unordered_map<std::uint32_t, HeapObject> load_collection(std::uint64_t col) {
        // libhdf5 pads the collection header and each object header to 8 bytes (H5HG_ALIGN),
        // which matters when lengths are not 8 bytes.
        const std::uint64_t head = align8(8 + static_cast<std::uint64_t>(sl_));
        const Bytes h = read(col, head, "global heap collection");
        Cursor c(h, col);
        if (std::memcmp(c.take(4, "global heap"), "GCOL", 4) != 0)
            bad("global heap collection without its GCOL signature", col);
        const int version = c.u8("global heap");
        if (version != 1) bad("global heap of unknown version " + std::to_string(version), col);
        c.skip(3, "global heap");
        const std::uint64_t size = length(c, "global heap");
        if (size < head || size > size_ - col)
            bad("global heap collection size " + std::to_string(size) + " beyond end of file", col);
        const std::uint64_t end = col + size;
        std::unordered_map<std::uint32_t, HeapObject> objects;
        std::uint64_t pos = col + head;
        while (end - pos >= head) {
            step(pos);
            std::uint8_t oh[16];
            read_small(pos, static_cast<std::size_t>(head), oh, "global heap object");
            Cursor o(oh, static_cast<std::size_t>(head), pos);
            const auto index = static_cast<std::uint32_t>(o.u(2, "global heap object"));
            o.skip(2 + 4, "global heap object");  // reference count, reserved
            const std::uint64_t osize = length(o, "global heap object");
            if (index == 0) break;  // free space: the rest of the collection
            const std::uint64_t data = pos + head;
            if (osize > end - data) bad("global heap object runs past its collection", pos);
            objects.emplace(index, HeapObject{data, osize});
            const std::uint64_t next = align8(osize);
            if (next > end - data) break;
            pos = data + next;
        }
        return objects;
    }

    // --- dense attribute storage ---

    void dense(std::uint64_t heap_rel, std::uint64_t btree_rel, std::uint64_t at) {
        FractalHeap heap = load_heap(resolve(heap_rel, "attribute fractal heap", at));
        const V2Btree tree = load_btree(resolve(btree_rel, "attribute name index", at));
        if (tree.type != 8)
            bad("attribute name index is a B-tree of type " + std::to_string(tree.type), tree.at);
        if (tree.rec_size != 17)
            bad("attribute name index records of " + std::to_string(tree.rec_size) + " bytes",
                tree.at);
        if (heap.id_len != 8)
            bad("attribute fractal heap with heap IDs of " + std::to_string(heap.id_len) + " bytes",
                heap.at);
        walk_btree(tree, [&](Cursor& rec) {
            const std::uint64_t rec_at = rec.at();
            const auto* id = rec.take(8, "attribute name record");
            const int mflags = rec.u8("attribute name record");
            guarded([&] {
                if (mflags & 0x02) bad("shared attribute in dense storage not read", rec_at);
                const Fetched obj = heap_object(heap, id, rec_at);
                attribute(obj.bytes, obj.at);
            });
        });
    }

    FractalHeap load_heap(std::uint64_t at) {
        const Bytes b = read_some(at, 256, "fractal heap header");
        Cursor c(b, at);
        if (std::memcmp(c.take(4, "fractal heap header"), "FRHP", 4) != 0)
            bad("fractal heap header without its FRHP signature", at);
        const int version = c.u8("fractal heap header");
        if (version != 0) bad("fractal heap of unknown version " + std::to_string(version), at);
        FractalHeap h;
        h.at = at;
        h.id_len = static_cast<std::uint16_t>(c.u(2, "fractal heap header"));
        h.filter_len = static_cast<std::uint16_t>(c.u(2, "fractal heap header"));
        h.checksum_dblocks = c.u8("fractal heap header") & 0x02;
        const std::uint64_t max_managed = c.u(4, "fractal heap header");
        length(c, "fractal heap header");  // next huge object ID
        h.huge_btree = address(c, "fractal heap header");
        c.skip(std::size_t{9} * static_cast<std::size_t>(sl_) + static_cast<std::size_t>(so_),
               "fractal heap header");
        h.width = static_cast<std::uint16_t>(c.u(2, "fractal heap header"));
        h.start = length(c, "fractal heap header");
        h.max_direct = length(c, "fractal heap header");
        h.max_bits = static_cast<std::uint16_t>(c.u(2, "fractal heap header"));
        c.skip(2, "fractal heap header");  // starting rows of the root indirect block
        h.root = address(c, "fractal heap header");
        h.root_rows = static_cast<std::uint16_t>(c.u(2, "fractal heap header"));
        if (h.filter_len > 0) {
            c.skip(static_cast<std::size_t>(sl_) + 4, "fractal heap header");
            c.skip(h.filter_len, "fractal heap filter information");
        }
        const std::size_t covered = c.pos();
        const auto stored = c.u(4, "fractal heap header checksum");
        if (lookup3(b.data(), covered) != stored)
            problem("fractal heap header checksum mismatch", static_cast<std::int64_t>(at));

        if (!power_of_two(h.width) || !power_of_two(h.start) || !power_of_two(h.max_direct) ||
            h.max_direct < h.start || h.max_bits == 0 || h.max_bits > 64 || h.id_len < 1)
            bad("fractal heap with an invalid doubling table", at);
        h.start_bits = log2_floor(h.start);
        h.width_bits = log2_floor(h.width);
        const int direct_bits = log2_floor(h.max_direct);
        if (h.start_bits + h.width_bits >= 64 || direct_bits >= h.max_bits + 1)
            bad("fractal heap with an invalid doubling table", at);
        h.max_direct_rows = direct_bits - h.start_bits + 2;
        h.off_size = (h.max_bits + 7) / 8;
        h.len_size = std::min((direct_bits + 7) / 8, limit_enc_size(max_managed));
        const int id_room = h.id_len - 1;
        h.huge_direct = h.filter_len == 0 && so_ + sl_ <= id_room;
        h.huge_id_size = std::min(id_room, 8);
        return h;
    }

    struct Fetched {
        Bytes bytes;
        std::uint64_t at;  ///< file offset of the bytes (of the heap ID for a tiny object)
    };

    Fetched fetch(const HeapObject& o) {
        if (!used_heap_.insert(o.at).second)
            bad("fractal heap object at " + util::hex(o.at) + " referenced twice", o.at);
        return Fetched{read(o.at, o.size, "fractal heap object"), o.at};
    }

    /// The bytes a heap ID names (III.G "Fractal Heap ID"); `at` is the ID's file offset.
    Fetched heap_object(FractalHeap& h, const std::uint8_t* id, std::uint64_t at) {
        const int version = id[0] >> 6;
        const int type = (id[0] >> 4) & 3;
        if (version != 0) bad("fractal heap ID of unknown version", at);
        if (type == 0) {
            if (1 + h.off_size + h.len_size > h.id_len) bad("fractal heap ID too short", at);
            const std::uint64_t off = le(id + 1, h.off_size);
            const std::uint64_t len = le(id + 1 + h.off_size, h.len_size);
            return fetch(managed_object(h, off, len, at));
        }
        if (type == 1) {
            if (h.filter_len > 0) bad("filtered huge fractal heap object not read", at);
            if (h.huge_direct) {
                Cursor c(id + 1, static_cast<std::size_t>(h.id_len - 1), at);
                const std::uint64_t rel = address(c, "huge object ID");
                const std::uint64_t len = length(c, "huge object ID");
                return fetch(checked_object(resolve(rel, "huge heap object", at), len, at));
            }
            if (!h.huge_loaded) load_huge(h);
            const std::uint64_t key = le(id + 1, h.huge_id_size);
            const auto it = h.huge.find(key);
            if (it == h.huge.end())
                bad("huge heap object " + std::to_string(key) + " not in its B-tree", at);
            return fetch(it->second);
        }
        if (type == 2) {  // tiny: the object is inside the ID
            const bool extended = h.id_len - 1 > 17;
            const std::uint64_t len =
                (extended ? ((id[0] & 0x0full) << 8 | id[1]) : (id[0] & 0x0full)) + 1;
            const std::uint64_t skip = extended ? 2 : 1;
            if (len > h.id_len - skip) bad("tiny heap object longer than its heap ID", at);
            return Fetched{Bytes(id + skip, id + skip + len), at + skip};
        }
        bad("fractal heap ID of unknown type", at);
    }

    HeapObject checked_object(std::uint64_t abs, std::uint64_t len, std::uint64_t at) {
        if (len > size_ - abs) bad("heap object beyond end of file", at);
        return HeapObject{abs, len};
    }

    void load_huge(FractalHeap& h) {
        h.huge_loaded = true;
        const V2Btree tree = load_btree(resolve(h.huge_btree, "huge object B-tree", h.at));
        if (tree.type != 1)
            bad("huge object index is a B-tree of type " + std::to_string(tree.type), tree.at);
        if (tree.rec_size != so_ + 2 * sl_)
            bad("huge object records of " + std::to_string(tree.rec_size) + " bytes", tree.at);
        walk_btree(tree, [&](Cursor& rec) {
            const std::uint64_t rel = address(rec, "huge object record");
            const std::uint64_t len = length(rec, "huge object record");
            const std::uint64_t key = length(rec, "huge object record");
            if (rel == kUndefined || rel > kUndefined - base_) return;
            h.huge.emplace(key, HeapObject{base_ + rel, len});
        });
    }

    HeapObject managed_object(FractalHeap& h, std::uint64_t off, std::uint64_t len,
                              std::uint64_t at) {
        if (h.filter_len > 0) bad("filtered fractal heap not read", at);
        if (len == 0 || len > h.max_direct) bad("fractal heap object of invalid length", at);
        if (h.max_bits < 64 && off >> h.max_bits) bad("fractal heap offset beyond the heap", at);
        const std::uint64_t dblock_prefix =
            4 + 1 + static_cast<std::uint64_t>(so_) + h.off_size + (h.checksum_dblocks ? 4 : 0);
        if (h.root_rows == 0) {  // the root is a direct block of the starting size
            return direct_object(h, resolve(h.root, "fractal heap root block", h.at), h.start, 0,
                                 off, len, dblock_prefix, at);
        }
        std::uint64_t block = resolve(h.root, "fractal heap root block", h.at);
        std::uint64_t block_off = 0;
        std::uint64_t rows = h.root_rows;
        const std::uint64_t row0 = h.start << h.width_bits;  // bytes of row 0 (and of row 1)
        for (int depth = 0;; ++depth) {
            if (depth >= lim::kHdf5MaxTreeDepth)
                bad("fractal heap indirect blocks nested deeper than " +
                        std::to_string(lim::kHdf5MaxTreeDepth),
                    block);
            step(block);
            const std::uint64_t direct_rows =
                std::min<std::uint64_t>(rows, static_cast<std::uint64_t>(h.max_direct_rows));
            const std::uint64_t direct_entries = direct_rows << h.width_bits;
            const std::uint64_t indirect_entries = (rows - direct_rows) << h.width_bits;
            const std::uint64_t prefix = 4 + 1 + static_cast<std::uint64_t>(so_) + h.off_size;
            const std::uint64_t entries_size = direct_entries * static_cast<std::uint64_t>(so_) +
                                               indirect_entries * static_cast<std::uint64_t>(so_);
            check_indirect_block(h, block, prefix + entries_size);
            // Which row and column of this block hold heap offset `off`.
            const std::uint64_t rel = off - block_off;
            std::uint64_t row, row_start, block_size;
            if (rel < row0) {
                row = 0, row_start = 0, block_size = h.start;
            } else {
                row = static_cast<std::uint64_t>(log2_floor(rel >> (h.start_bits + h.width_bits))) +
                      1;
                row_start = row0 << (row - 1);
                block_size = h.start << (row - 1);
            }
            if (row >= rows) bad("fractal heap offset beyond its indirect block", at);
            const std::uint64_t col = (rel - row_start) / block_size;
            const std::uint64_t child_off = block_off + row_start + col * block_size;
            std::uint64_t entry_at;
            if (row < direct_rows) {
                entry_at = block + prefix + ((row << h.width_bits) + col) * so_;
            } else {
                entry_at = block + prefix + direct_entries * so_ +
                           (((row - direct_rows) << h.width_bits) + col) * so_;
            }
            std::uint8_t e[8];
            read_small(entry_at, static_cast<std::size_t>(so_), e, "fractal heap entry");
            Cursor ec(e, static_cast<std::size_t>(so_), entry_at);
            const std::uint64_t child = address(ec, "fractal heap entry");
            if (child == kUndefined) bad("fractal heap object in an unallocated block", at);
            const std::uint64_t child_abs = resolve(child, "fractal heap block", entry_at);
            if (row < direct_rows)
                return direct_object(h, child_abs, block_size, child_off, off, len, dblock_prefix,
                                     at);
            // A child indirect block spans block_size bytes of heap.
            const int child_rows = log2_floor(block_size) - (h.start_bits + h.width_bits) + 1;
            if (child_rows <= 0) bad("fractal heap indirect block of no rows", child_abs);
            block = child_abs;
            block_off = child_off;
            rows = static_cast<std::uint64_t>(child_rows);
        }
    }

    void check_indirect_block(FractalHeap& h, std::uint64_t block, std::uint64_t size) {
        if (h.checked_blocks.count(block)) return;
        std::uint8_t sig[5];
        read_small(block, 5, sig, "fractal heap indirect block");
        if (std::memcmp(sig, "FHIB", 4) != 0)
            bad("fractal heap indirect block without its FHIB signature", block);
        if (sig[4] != 0) bad("fractal heap indirect block of unknown version", block);
        if (size > size_ - block || size_ - block - size < 4)
            bad("fractal heap indirect block beyond end of file", block);
        const std::uint32_t stored = read_u32(block + size, "fractal heap indirect block checksum");
        if (checksum_range(block, size, "fractal heap indirect block") != stored)
            problem("fractal heap indirect block checksum mismatch",
                    static_cast<std::int64_t>(block));
        h.checked_blocks.insert(block);
    }

    HeapObject direct_object(FractalHeap& h, std::uint64_t block, std::uint64_t block_size,
                             std::uint64_t block_off, std::uint64_t off, std::uint64_t len,
                             std::uint64_t prefix, std::uint64_t at) {
        const std::uint64_t in_block = off - block_off;
        if (in_block < prefix || in_block > block_size || len > block_size - in_block)
            bad("fractal heap object outside its direct block", at);
        if (block_size > size_ - block) bad("fractal heap direct block beyond end of file", block);
        if (!h.checked_blocks.count(block)) {
            step(block);
            std::uint8_t head[32];
            read_small(block, static_cast<std::size_t>(prefix), head, "fractal heap direct block");
            if (std::memcmp(head, "FHDB", 4) != 0)
                bad("fractal heap direct block without its FHDB signature", block);
            if (head[4] != 0) bad("fractal heap direct block of unknown version", block);
            if (h.checksum_dblocks) {
                const std::uint64_t sum_at = block + prefix - 4;
                const auto sum =
                    checksum_range(block, block_size, "fractal heap direct block", sum_at);
                if (sum != le(head + prefix - 4, 4))
                    problem("fractal heap direct block checksum mismatch",
                            static_cast<std::int64_t>(block));
            }
            h.checked_blocks.insert(block);
        }
        return HeapObject{block + in_block, len};
    }

    // --- version 2 B-trees ---

    V2Btree load_btree(std::uint64_t at) {
        const Bytes b = read_some(at, 64, "B-tree header");
        Cursor c(b, at);
        if (std::memcmp(c.take(4, "B-tree header"), "BTHD", 4) != 0)
            bad("B-tree header without its BTHD signature", at);
        const int version = c.u8("B-tree header");
        if (version != 0) bad("B-tree of unknown version " + std::to_string(version), at);
        V2Btree t;
        t.at = at;
        t.type = c.u8("B-tree header");
        t.node_size = static_cast<std::uint32_t>(c.u(4, "B-tree header"));
        t.rec_size = static_cast<std::uint16_t>(c.u(2, "B-tree header"));
        t.depth = static_cast<std::uint16_t>(c.u(2, "B-tree header"));
        c.skip(2, "B-tree header");  // split and merge percentages
        t.root = address(c, "B-tree header");
        t.root_nrec = static_cast<std::uint16_t>(c.u(2, "B-tree header"));
        length(c, "B-tree header");  // total records
        const std::size_t covered = c.pos();
        const auto stored = c.u(4, "B-tree header checksum");
        if (lookup3(b.data(), covered) != stored)
            problem("B-tree header checksum mismatch", static_cast<std::int64_t>(at));
        if (t.depth > lim::kHdf5MaxTreeDepth)
            bad("B-tree of depth " + std::to_string(t.depth) + " (limit " +
                    std::to_string(lim::kHdf5MaxTreeDepth) + ")",
                at);
        // Records per node at each depth, as libhdf5 derives them (H5B2__hdr_init).
        constexpr std::uint64_t kPrefix = 4 + 1 + 1 + 4;  // signature, version, type, checksum
        if (t.rec_size == 0 || t.node_size < kPrefix + t.rec_size)
            bad("B-tree nodes too small for their records", at);
        t.max_nrec.push_back((t.node_size - kPrefix) / t.rec_size);
        t.cum_size.push_back(0);
        t.nrec_size = limit_enc_size(t.max_nrec[0]);
        std::uint64_t cum = t.max_nrec[0];
        for (int d = 1; d <= t.depth; ++d) {
            const std::uint64_t ptr =
                static_cast<std::uint64_t>(so_) + t.nrec_size + t.cum_size[d - 1];
            if (t.node_size < kPrefix + ptr) bad("B-tree nodes too small for their pointers", at);
            const std::uint64_t n = (t.node_size - (kPrefix + ptr)) / (t.rec_size + ptr);
            t.max_nrec.push_back(n);
            cum = (n + 1) * cum + n;  // wraps like libhdf5's hsize_t
            t.cum_size.push_back(limit_enc_size(cum));
        }
        return t;
    }

    void walk_btree(const V2Btree& t, const RecordFn& fn) {
        if (t.root == kUndefined || t.root_nrec == 0) return;
        std::set<std::uint64_t> visited;
        visit_node(t, resolve(t.root, "B-tree root node", t.at), t.root_nrec, t.depth, visited, fn);
    }

    void visit_node(const V2Btree& t, std::uint64_t at, std::uint64_t nrec, int depth,
                    std::set<std::uint64_t>& visited, const RecordFn& fn) {
        step(at);
        if (!visited.insert(at).second) bad("B-tree node reached twice", at);
        if (nrec > t.max_nrec[static_cast<std::size_t>(depth)])
            bad("B-tree node with more records than fit", at);
        const std::uint64_t ptr = depth > 0 ? static_cast<std::uint64_t>(so_) + t.nrec_size +
                                                  t.cum_size[static_cast<std::size_t>(depth - 1)]
                                            : 0;
        const std::uint64_t body = 6 + nrec * t.rec_size + (depth > 0 ? (nrec + 1) * ptr : 0);
        const Bytes node = read(at, body + 4, "B-tree node");
        Cursor c(node, at);
        const auto* sig = c.take(4, "B-tree node");
        if (std::memcmp(sig, depth > 0 ? "BTIN" : "BTLF", 4) != 0)
            bad(std::string("B-tree node without its ") + (depth > 0 ? "BTIN" : "BTLF") +
                    " signature",
                at);
        if (c.u8("B-tree node") != 0) bad("B-tree node of unknown version", at);
        if (c.u8("B-tree node") != t.type) bad("B-tree node of another tree type", at);
        if (lookup3(node.data(), static_cast<std::size_t>(body)) != le(node.data() + body, 4))
            problem("B-tree node checksum mismatch", static_cast<std::int64_t>(at));
        const std::size_t records = 6;
        auto record = [&](std::uint64_t i) {
            step(at);
            Cursor r(node.data() + records + i * t.rec_size, t.rec_size,
                     at + records + i * t.rec_size);
            fn(r);
        };
        if (depth == 0) {
            for (std::uint64_t i = 0; i < nrec; ++i)
                record(i);
            return;
        }
        Cursor p(node.data() + records + nrec * t.rec_size,
                 static_cast<std::size_t>((nrec + 1) * ptr), at + records + nrec * t.rec_size);
        for (std::uint64_t i = 0; i <= nrec; ++i) {
            const std::uint64_t child = address(p, "B-tree child pointer");
            const std::uint64_t child_nrec = p.u(t.nrec_size, "B-tree child pointer");
            if (depth > 1) p.skip(static_cast<std::size_t>(t.cum_size[depth - 1]), "B-tree child");
            if (child_nrec > 0)
                visit_node(t, resolve(child, "B-tree child node", at), child_nrec, depth - 1,
                           visited, fn);
            if (i < nrec) record(i);
        }
    }

    Source& src_;
    std::uint64_t size_;
    std::uint64_t base_;
    int so_ = 8, sl_ = 8;
    RootAttributes& out_;
    std::uint64_t read_ = 0, read_cap_ = 0, decoded_ = 0, steps_ = 0;
    /// Global heap objects (collection, index) and fractal heap objects (file offset) already
    /// decoded: libhdf5 gives every vlen element and every dense attribute its own object, so
    /// a second reference is a file built to make a few bytes decode many times.
    std::set<std::pair<std::uint64_t, std::uint32_t>> used_global_;
    std::set<std::uint64_t> used_heap_;
    std::map<std::uint64_t, std::unordered_map<std::uint32_t, HeapObject>> collections_;
    std::set<std::pair<std::string, std::int64_t>> reported_;
};

}  // namespace

std::optional<std::uint64_t> find_superblock(Source& source) {
    const std::uint64_t size = source.size();
    for (std::uint64_t off = 0; off < size && size - off >= 8; off = off == 0 ? 512 : off * 2) {
        const auto v = source.view(off, 8);
        if (v.size() == 8 && std::memcmp(v.data(), kSignature, 8) == 0) return off;
        if (off > kUndefined / 4) break;
    }
    return std::nullopt;
}

RootAttributes read_root_attributes(Source& source, std::uint64_t superblock_offset) {
    RootAttributes out;
    out.superblock_offset = superblock_offset;
    Reader(source, superblock_offset, out).run();
    return out;
}

}  // namespace mscan::hdf5
