// The safetensors header, checked the way the safetensors loader (the Rust crate that the Python
// package wraps) reads it: the length is at most 100,000,000 and inside the file; the header is
// UTF-8 JSON (serde_json: leading and trailing whitespace allowed, nothing else); the object maps
// tensor names to {dtype, shape, data_offsets} (unknown fields ignored, a field twice refused)
// and "__metadata__" to an object of strings (or null); dtypes are the crate's; shapes and
// offsets are unsigned integers; sorted by offset, the tensors must tile the data region
// exactly, each exactly product(shape) * dtype bits / 8 bytes. JSON is read with nlohmann's SAX
// parser, so nothing is built per value and duplicate keys (which a DOM would drop) are seen.
#include "formats/safetensors/safetensors_format.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>
#include <utility>
#include <vector>

#include "formats/safetensors/safetensors_codes.h"
#include "mscan/limits.h"
#include "util/text.h"
#include "util/text_safety.h"

namespace mscan::safetensors {
namespace {

constexpr std::uint64_t kLengthBytes = 8;
// Names are kept as 32-bit offsets into one arena: the header bounds their total size.
static_assert(limits::kSafetensorsMaxHeader < (std::uint64_t{1} << 32));

struct Dtype {
    const char* name;
    std::uint64_t bits;
};

/// The crate's Dtype enum (safetensors 0.6), in its order. Sub-byte types (F4, F6_*) are
/// packed: a tensor's bit count must be a whole number of bytes.
constexpr std::array<Dtype, 20> kDtypes = {{
    {"BOOL", 8}, {"F4", 4},      {"F6_E2M3", 6}, {"F6_E3M2", 6}, {"U8", 8},
    {"I8", 8},   {"F8_E5M2", 8}, {"F8_E4M3", 8}, {"F8_E8M0", 8}, {"I16", 16},
    {"U16", 16}, {"F16", 16},    {"BF16", 16},   {"I32", 32},    {"U32", 32},
    {"F32", 32}, {"C64", 64},    {"F64", 64},    {"I64", 64},    {"U64", 64},
}};

int find_dtype(std::string_view name) {
    for (std::size_t i = 0; i < kDtypes.size(); ++i) {
        if (name == kDtypes[i].name) return static_cast<int>(i);
    }
    return -1;
}

bool json_space(std::uint8_t c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::uint64_t read_length(std::span<const std::uint8_t> head) {
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i)
        n = (n << 8) | head[static_cast<std::size_t>(i)];
    return n;
}

/// A tensor or key name for evidence: quoted, escaped, cut.
std::string shown_name(std::string_view name) {
    constexpr std::size_t kMax = 80;
    std::string s = "'" + printable(name.substr(0, kMax));
    if (name.size() > kMax) s += "...";
    return s + "'";
}

/// Offset of the first byte that makes `bytes` invalid UTF-8 as Rust's str::from_utf8 judges
/// it (no overlong forms, no surrogates, nothing above U+10FFFF), or npos.
std::size_t invalid_utf8(std::span<const std::uint8_t> bytes) {
    std::size_t i = 0;
    const std::size_t n = bytes.size();
    while (i < n) {
        const std::uint8_t c = bytes[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t len = 0;
        std::uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        } else {
            return i;
        }
        if (n - i < len) return i;
        if (bytes[i + 1] < lo || bytes[i + 1] > hi) return i;
        for (std::size_t k = 2; k < len; ++k) {
            if (bytes[i + k] < 0x80 || bytes[i + k] > 0xBF) return i;
        }
        i += len;
    }
    return std::string_view::npos;
}

/// Reports anomalies, at most kSafetensorsMaxAnomaliesPerCode of each code; the rest are
/// counted and summed up in one last anomaly, so a header of a million bad tensors gives
/// bounded output.
class Reporter {
  public:
    explicit Reporter(const ParseContext& context) : context_(context) {}
    void operator()(AnomalyCode code, std::string evidence, std::int64_t offset) {
        auto& count = counts_.try_emplace(code.text(), code, 0).first->second.second;
        if (++count <= limits::kSafetensorsMaxAnomaliesPerCode)
            context_.anomaly(code, std::move(evidence), offset);
    }
    void finish() {
        for (const auto& entry : counts_) {
            const auto& [code, count] = entry.second;
            if (count <= limits::kSafetensorsMaxAnomaliesPerCode) continue;
            context_.anomaly(code,
                             "and " +
                                 std::to_string(count - limits::kSafetensorsMaxAnomaliesPerCode) +
                                 " more problems of this kind in the header (not listed)",
                             static_cast<std::int64_t>(kLengthBytes));
        }
    }

  private:
    const ParseContext& context_;
    /// Code text (so the summary follows the codes' sorted order) -> the code and its count.
    std::map<std::string_view, std::pair<AnomalyCode, std::uint64_t>> counts_;
};

/// A name held in the arena.
struct NameRef {
    std::uint32_t offset = 0;
    std::uint32_t length = 0;
};

/// A tensor's byte range in the data region, for the tiling check.
struct Range {
    std::uint64_t begin = 0;
    std::uint64_t end = 0;
    std::uint32_t name = 0;  // index into HeaderReader::tensor_names_
};

/// SAX handler: walks the header once, checking each entry as it ends, and keeps only the
/// names (for duplicates and evidence) and each tensor's range.
class HeaderReader {
  public:
    using json = nlohmann::json;

    explicit HeaderReader(Reporter& report) : report_(report) {}

    // --- nlohmann SAX interface; returning false stops the parse ---
    bool null() { return other("null", {}); }
    bool boolean(bool v) { return other("boolean", v ? "true" : "false"); }
    bool number_integer(json::number_integer_t v) {
        // nlohmann calls this only for numbers written with a minus sign.
        return other("negative number", std::to_string(v));
    }
    bool number_unsigned(json::number_unsigned_t v) { return unsigned_value(v); }
    bool number_float(json::number_float_t, const json::string_t& text) {
        return other("non-integer number", text);
    }
    bool string(json::string_t& s) { return string_value(s); }
    bool binary(json::binary_t&) { return other("binary value", {}); }
    bool start_object(std::size_t) { return open(true); }
    bool end_object() { return close(); }
    bool start_array(std::size_t) { return open(false); }
    bool end_array() { return close(); }
    bool key(json::string_t& k) { return on_key(k); }
    bool parse_error(std::size_t position, const std::string&,
                     const nlohmann::detail::exception& e) {
        std::string what = e.what();
        const auto bracket = what.find("] ");
        if (bracket != std::string::npos) what.erase(0, bracket + 2);
        error_ = "the header is not valid JSON: " + printable(what);
        error_offset_ = position;
        return false;
    }

    // --- results ---
    /// Why the parse stopped early; empty when the whole header was read.
    const std::string& error() const { return error_; }
    /// Header offset near the parse error.
    std::size_t error_offset() const { return error_offset_; }
    std::string_view name(NameRef r) const {
        return std::string_view(arena_).substr(r.offset, r.length);
    }
    const std::vector<NameRef>& tensor_names() const { return tensor_names_; }
    const std::vector<NameRef>& metadata_keys() const { return metadata_keys_; }
    std::vector<Range>& ranges() { return ranges_; }
    /// Each tensor entry's dtype (index in kDtypes, -1 if none), in entry order.
    const std::vector<std::int16_t>& entry_dtypes() const { return entry_dtypes_; }
    bool has_metadata() const { return metadata_seen_ > 0; }
    /// Tensor entries (or scalars where an entry belongs) that give no usable byte range.
    std::uint64_t without_range() const { return without_range_; }

  private:
    /// Where the reader is: the structure whose members come next.
    enum class In { Start, Top, Tensor, Metadata, Shape, Offsets, Done };
    /// The tensor field whose value comes next.
    enum class Field { Dtype, Shape, Offsets, Extra };

    /// The tensor entry being read.
    struct Entry {
        bool has_dtype = false, has_shape = false, has_offsets = false;
        int dtype = -1;           ///< index in kDtypes, -1 unless a known name
        bool shape_ok = false;    ///< a list of unsigned integers
        bool offsets_ok = false;  ///< a list of exactly two unsigned integers
        bool shape_bad = false;   ///< some shape value or item is not an unsigned integer
        bool offsets_bad = false;
        std::uint64_t elements = 1;
        bool overflow = false;   ///< the element count does not fit in 64 bits
        std::string shape_text;  ///< as written, cut: "[10,10]"
        std::array<std::uint64_t, 2> offsets{};
        std::uint64_t offset_items = 0;
    };

    NameRef keep(std::string_view s) {
        NameRef r{static_cast<std::uint32_t>(arena_.size()), static_cast<std::uint32_t>(s.size())};
        arena_.append(s);
        return r;
    }
    std::string tensor() const { return "tensor " + shown_name(current_); }
    void malformed(std::string evidence) {
        report_(kMalformed, std::move(evidence), static_cast<std::int64_t>(kLengthBytes));
    }
    void nonstandard(std::string evidence) {
        report_(kNonstandard, std::move(evidence), static_cast<std::int64_t>(kLengthBytes));
    }
    static const char* field_name(Field f) {
        return f == Field::Dtype ? "dtype" : f == Field::Shape ? "shape" : "data_offsets";
    }
    static const char* field_expects(Field f) {
        return f == Field::Dtype   ? "a dtype name"
               : f == Field::Shape ? "a list of non-negative integers"
                                   : "a list [begin, end] of non-negative integers";
    }

    bool open(bool object) {
        if (++depth_ > limits::kJsonMaxDepth) {
            error_ = "the header nests JSON deeper than " + std::to_string(limits::kJsonMaxDepth) +
                     " levels";
            return false;
        }
        if (skip_ > 0) {
            ++skip_;
            return true;
        }
        const char* kind = object ? "object" : "list";
        switch (in_) {
            case In::Start:
                in_ = In::Top;  // parse() checked that the header starts with '{'
                return true;
            case In::Top:
                if (object) {
                    if (current_is_metadata_) {
                        in_ = In::Metadata;
                    } else {
                        entry_ = Entry{};
                        in_ = In::Tensor;
                    }
                    return true;
                }
                break;
            case In::Tensor:
                if (!object && field_ == Field::Shape) {
                    entry_.shape_text = "[";
                    in_ = In::Shape;
                    return true;
                }
                if (!object && field_ == Field::Offsets) {
                    in_ = In::Offsets;
                    return true;
                }
                break;
            case In::Metadata:
            case In::Shape:
            case In::Offsets:
                break;
            case In::Done:
                return false;
        }
        // A structure where a scalar belongs: reported once, its contents skipped.
        wrong_type(kind, {});
        skip_ = 1;
        return true;
    }

    bool close() {
        --depth_;
        if (skip_ > 0) {
            --skip_;
            return true;
        }
        switch (in_) {
            case In::Top:
                in_ = In::Done;
                return true;
            case In::Tensor:
                finish_tensor();
                in_ = In::Top;
                return true;
            case In::Metadata:
                in_ = In::Top;
                return true;
            case In::Shape:
                entry_.shape_text += "]";
                entry_.shape_ok = !entry_.shape_bad;
                in_ = In::Tensor;
                return true;
            case In::Offsets:
                if (entry_.offset_items != 2) {
                    entry_.offsets_bad = true;
                    malformed(tensor() + ": data_offsets has " +
                              std::to_string(entry_.offset_items) + " items, not [begin, end]");
                }
                entry_.offsets_ok = !entry_.offsets_bad;
                in_ = In::Tensor;
                return true;
            case In::Start:
            case In::Done:
                return false;
        }
        return false;
    }

    bool on_key(std::string_view k) {
        if (skip_ > 0) return true;
        switch (in_) {
            case In::Top:
                current_ = std::string(k);
                current_is_metadata_ = k == "__metadata__";
                if (!current_is_metadata_) {
                    tensor_names_.push_back(keep(k));
                    entry_dtypes_.push_back(-1);
                } else if (++metadata_seen_ == 2) {
                    malformed(
                        "__metadata__ appears twice (the safetensors loader refuses a "
                        "duplicate field)");
                }
                return true;
            case In::Tensor: {
                bool* seen = nullptr;
                if (k == "dtype") {
                    field_ = Field::Dtype;
                    seen = &entry_.has_dtype;
                } else if (k == "shape") {
                    field_ = Field::Shape;
                    seen = &entry_.has_shape;
                } else if (k == "data_offsets") {
                    field_ = Field::Offsets;
                    seen = &entry_.has_offsets;
                } else {
                    field_ = Field::Extra;
                    nonstandard(tensor() + ": extra field " + shown_name(k) +
                                " (the safetensors loader ignores it; the format has only dtype, "
                                "shape and data_offsets)");
                    return true;
                }
                if (*seen) {
                    malformed(tensor() + ": field '" + field_name(field_) +
                              "' appears twice (the safetensors loader refuses a duplicate "
                              "field)");
                }
                *seen = true;
                return true;
            }
            case In::Metadata:
                metadata_key_ = std::string(k);
                metadata_keys_.push_back(keep(k));
                return true;
            default:
                return false;  // nlohmann calls key() only inside an object
        }
    }

    /// A value that is neither an unsigned integer nor a string (`text` shows it).
    bool other(const char* kind, const std::string& text) {
        if (skip_ > 0) return true;
        if (in_ == In::Top && current_is_metadata_ && std::string_view(kind) == "null") {
            nonstandard(
                "__metadata__ is null (the safetensors loader reads it as no metadata; "
                "its writer never produces it)");
            return true;
        }
        wrong_type(kind, text);
        return true;
    }

    /// Reports a value of the wrong type where the reader is.
    void wrong_type(const char* kind, const std::string& text) {
        const std::string shown =
            text.empty() ? std::string(kind) : std::string(kind) + " " + printable(text);
        const char* a =
            std::string_view("aeiou").find(kind[0]) != std::string_view::npos ? "an " : "a ";
        switch (in_) {
            case In::Top:
                if (current_is_metadata_) {
                    malformed(std::string("__metadata__ is ") + a + shown +
                              ", not an object of strings");
                } else {
                    ++without_range_;
                    malformed(tensor() + " is " + a + shown +
                              ", not an object with dtype, shape and data_offsets");
                }
                return;
            case In::Tensor:
                if (field_ == Field::Extra) return;
                if (field_ == Field::Dtype) entry_.dtype = -1;
                if (field_ == Field::Shape) entry_.shape_bad = true;
                if (field_ == Field::Offsets) entry_.offsets_bad = true;
                malformed(tensor() + ": " + field_name(field_) + " is " + a + shown + ", not " +
                          field_expects(field_));
                return;
            case In::Metadata:
                malformed("__metadata__ value for " + shown_name(metadata_key_) + " is " + a +
                          shown + ", not a string");
                return;
            case In::Shape:
                entry_.shape_bad = true;
                append_shape(text.empty() ? kind : printable(text));
                malformed(tensor() + ": shape item " + shown + " is not a non-negative integer");
                return;
            case In::Offsets:
                ++entry_.offset_items;
                entry_.offsets_bad = true;
                malformed(tensor() + ": data_offsets item " + shown +
                          " is not a non-negative integer");
                return;
            case In::Start:
            case In::Done:
                return;
        }
    }

    void append_shape(const std::string& item) {
        constexpr std::size_t kMax = 48;
        std::string& s = entry_.shape_text;
        if (s.size() > kMax) return;
        if (s.size() > 1) s += ",";
        s += item;
        if (s.size() > kMax) s += "...";
    }

    bool unsigned_value(std::uint64_t v) {
        if (skip_ > 0) return true;
        if (in_ == In::Shape) {
            append_shape(std::to_string(v));
            if (v != 0 && entry_.elements > UINT64_MAX / v) entry_.overflow = true;
            entry_.elements *= v;  // wraps only when overflow is already set
            return true;
        }
        if (in_ == In::Offsets) {
            if (entry_.offset_items < 2) entry_.offsets[entry_.offset_items] = v;
            ++entry_.offset_items;
            return true;
        }
        return other("number", std::to_string(v));
    }

    bool string_value(const std::string& s) {
        if (skip_ > 0) return true;
        if (in_ == In::Metadata) return true;
        if (in_ == In::Tensor && field_ == Field::Dtype) {
            entry_.dtype = find_dtype(s);
            if (entry_.dtype < 0) {
                malformed(tensor() + ": dtype " + shown_name(s) +
                          " is not one the safetensors loader knows");
            }
            return true;
        }
        if (in_ == In::Tensor && field_ == Field::Extra) return true;
        return other("string", shown_name(s));
    }

    /// The checks that need the whole entry: fields present, offsets ordered, and the byte
    /// count the dtype and shape give equal to the range's length.
    void finish_tensor() {
        std::string missing;
        if (!entry_.has_dtype) missing = "dtype";
        if (!entry_.has_shape) missing += std::string(missing.empty() ? "" : ", ") + "shape";
        if (!entry_.has_offsets)
            missing += std::string(missing.empty() ? "" : ", ") + "data_offsets";
        if (!missing.empty()) malformed(tensor() + ": no " + missing + " field");
        if (!entry_dtypes_.empty()) entry_dtypes_.back() = static_cast<std::int16_t>(entry_.dtype);
        if (!entry_.offsets_ok) {
            ++without_range_;
            return;
        }
        const auto [begin, end] = entry_.offsets;
        const std::string offsets =
            "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) + "]";
        if (begin > end) {
            ++without_range_;
            malformed(tensor() + ": " + offsets + " begins after it ends");
            return;
        }
        ranges_.push_back({begin, end, static_cast<std::uint32_t>(tensor_names_.size() - 1)});
        if (entry_.dtype < 0 || !entry_.shape_ok) return;
        const Dtype& dtype = kDtypes[static_cast<std::size_t>(entry_.dtype)];
        const std::string described = std::string(dtype.name) + entry_.shape_text;
        if (entry_.overflow || entry_.elements > UINT64_MAX / dtype.bits) {
            malformed(tensor() + ": " + described +
                      " is more bytes than a 64-bit size holds (the loader refuses it)");
            return;
        }
        const std::uint64_t bits = entry_.elements * dtype.bits;
        if (bits % 8 != 0) {
            malformed(tensor() + ": " + described + " is " + std::to_string(bits) +
                      " bits, not a whole number of bytes");
            return;
        }
        if (end - begin != bits / 8) {
            malformed(tensor() + ": " + offsets + " but " + described + " needs " +
                      std::to_string(bits / 8) + " bytes");
        }
    }

    Reporter& report_;
    In in_ = In::Start;
    int depth_ = 0;
    int skip_ = 0;         ///< > 0 while inside a structure that is skipped
    std::string current_;  ///< the top-level key whose value is being read
    bool current_is_metadata_ = false;
    Field field_ = Field::Extra;
    Entry entry_;
    std::string metadata_key_;
    std::uint64_t metadata_seen_ = 0;
    std::uint64_t without_range_ = 0;

    std::string arena_;  ///< every kept name, back to back
    std::vector<NameRef> tensor_names_;
    std::vector<NameRef> metadata_keys_;
    std::vector<Range> ranges_;
    std::vector<std::int16_t> entry_dtypes_;
    std::string error_;
    std::size_t error_offset_ = 0;
};

/// Names that occur more than once in `refs`, each with its count (in name order); `shadowed`
/// (if given) marks every occurrence but the last, which is the one serde's map keeps.
std::vector<std::pair<std::string_view, std::uint64_t>> duplicates(
    const HeaderReader& reader, const std::vector<NameRef>& refs,
    std::vector<bool>* shadowed = nullptr) {
    std::vector<std::uint32_t> order(refs.size());
    for (std::size_t i = 0; i < order.size(); ++i)
        order[i] = static_cast<std::uint32_t>(i);
    std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
        const auto na = reader.name(refs[a]), nb = reader.name(refs[b]);
        return na != nb ? na < nb : a < b;
    });
    std::vector<std::pair<std::string_view, std::uint64_t>> out;
    if (shadowed) shadowed->assign(refs.size(), false);
    for (std::size_t i = 0; i < order.size();) {
        const auto name = reader.name(refs[order[i]]);
        std::size_t j = i + 1;
        while (j < order.size() && reader.name(refs[order[j]]) == name)
            ++j;
        if (j - i > 1) {
            out.emplace_back(name, j - i);
            if (shadowed) {
                for (std::size_t k = i; k + 1 < j; ++k)
                    (*shadowed)[order[k]] = true;
            }
        }
        i = j;
    }
    return out;
}

/// The loader's tiling check: sorted by offsets, each tensor starts where the previous one
/// ended, and the last one ends at the end of the file. Holes, overlaps, ranges past the end
/// and bytes after the last tensor are each reported.
void check_tiling(HeaderReader& reader, Reporter& report, std::uint64_t data_start,
                  std::uint64_t data_size) {
    auto& ranges = reader.ranges();
    std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) {
        return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
    });
    auto name = [&reader](const Range& r) {
        return shown_name(reader.name(reader.tensor_names()[r.name]));
    };
    auto span = [](const Range& r) {
        return "[" + std::to_string(r.begin) + ", " + std::to_string(r.end) + "]";
    };
    auto at = [&](std::uint64_t data_offset) -> std::int64_t {
        return data_offset <= data_size ? static_cast<std::int64_t>(data_start + data_offset) : -1;
    };
    std::uint64_t covered = 0;  // the data before this offset belongs to some tensor
    const Range* last = nullptr;
    for (const Range& r : ranges) {
        if (r.begin > covered) {
            report(kMalformed,
                   "bytes [" + std::to_string(covered) + ", " + std::to_string(r.begin) +
                       ") of the data belong to no tensor (a hole before tensor " + name(r) +
                       "; the safetensors loader refuses it)",
                   at(covered));
        } else if (r.begin < covered && last) {
            report(kMalformed,
                   "tensor " + name(r) + " data_offsets " + span(r) + " overlaps tensor " +
                       name(*last) + " " + span(*last) + " (the safetensors loader refuses it)",
                   at(r.begin));
        }
        if (r.end > data_size) {
            report(kMalformed,
                   "tensor " + name(r) + " data_offsets " + span(r) + " run past the end of the " +
                       std::to_string(data_size) + " bytes of data in the file",
                   at(std::min(r.begin, data_size)));
        }
        if (r.end > covered || !last) {
            covered = std::max(covered, r.end);
            last = &r;
        }
    }
    if (covered < data_size) {
        report(kMalformed,
               "the last " + std::to_string(data_size - covered) +
                   " bytes of the file belong to no tensor (the safetensors loader refuses "
                   "trailing bytes)",
               at(covered));
    }
}

/// One line that says what the file holds (the entries the loader keeps, not `shadowed` ones).
std::string summary(const HeaderReader& reader, const std::vector<bool>& shadowed,
                    std::uint64_t header_size, std::uint64_t data_size) {
    std::array<std::uint64_t, kDtypes.size()> counts{};
    std::uint64_t tensors = 0;
    for (std::size_t i = 0; i < reader.entry_dtypes().size(); ++i) {
        if (shadowed[i]) continue;
        ++tensors;
        if (const int d = reader.entry_dtypes()[i]; d >= 0) ++counts[static_cast<std::size_t>(d)];
    }
    std::string s = std::to_string(tensors) + (tensors == 1 ? " tensor" : " tensors");
    std::string types;
    for (std::size_t i = 0; i < kDtypes.size(); ++i) {
        const std::uint64_t c = counts[i];
        if (c == 0) continue;
        types +=
            std::string(types.empty() ? "" : ", ") + kDtypes[i].name + " x " + std::to_string(c);
    }
    if (!types.empty()) s += " (" + types + ")";
    s += ", " + std::to_string(data_size) + " bytes of tensor data, " +
         std::to_string(header_size) + "-byte header";
    if (!reader.has_metadata()) return s + "; no __metadata__";
    std::vector<std::string_view> keys;
    for (const auto& k : reader.metadata_keys())
        keys.push_back(reader.name(k));
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    s += "; __metadata__ keys: ";
    if (keys.empty()) s += "none";
    constexpr std::size_t kShownKeys = 8;
    for (std::size_t i = 0; i < keys.size() && i < kShownKeys; ++i)
        s += (i ? ", " : "") + shown_name(keys[i].substr(0, 32));
    if (keys.size() > kShownKeys) s += " and " + std::to_string(keys.size() - kShownKeys) + " more";
    return s;
}

}  // namespace

bool detect(Source& source, std::string_view extension) {
    const auto head = source.view(0, limits::kDetectProbeBytes);
    if (head.size() < kLengthBytes + 2) return false;
    const std::uint64_t n = read_length(head);
    if (n < 2) return false;  // "{}" is the smallest header
    const std::uint64_t header_end =
        n > head.size() - kLengthBytes ? head.size() : kLengthBytes + n;
    std::size_t i = kLengthBytes;
    while (i < header_end && json_space(head[i]))
        ++i;
    const bool fits = n <= source.size() - kLengthBytes;
    // Named .safetensors with a length that fits: read it, so a header that is not an object
    // is reported rather than skipped.
    if (fits && extension == ".safetensors") return true;
    if (i >= header_end || head[i] != '{') return false;
    if (fits) return true;
    // The header runs past the end: a cut-short file, or a lying length. Text never has its
    // top four length bytes zero, so a length below 2^32 still says safetensors.
    return n < (std::uint64_t{1} << 32) || extension == ".safetensors";
}

bool head_suffices(Source& head) {
    const auto bytes = head.view(0, kLengthBytes);
    if (bytes.size() < kLengthBytes) return false;
    const std::uint64_t n = read_length(bytes);
    return n <= limits::kSafetensorsMaxHeader && n <= head.size() - kLengthBytes;
}

void parse(Source& source, const ParseContext& context) {
    Reporter report(context);
    const auto length_bytes = source.view(0, kLengthBytes);
    if (length_bytes.size() < kLengthBytes) {
        context.anomaly(kMalformed, "the file is shorter than the 8-byte header length", 0);
        return;
    }
    const std::uint64_t n = read_length(length_bytes);
    const std::uint64_t size = source.size();
    if (n > limits::kSafetensorsMaxHeader) {
        context.anomaly(kMalformed,
                        "header length " + std::to_string(n) + " is more than the " +
                            std::to_string(limits::kSafetensorsMaxHeader) +
                            " bytes the safetensors loader accepts",
                        0);
        return;
    }
    if (n > size - kLengthBytes) {
        context.anomaly(kMalformed,
                        "header length " + std::to_string(n) + " runs past the end of the file (" +
                            std::to_string(size) + " bytes): cut short, or a wrong length",
                        0);
        return;
    }
    const auto header = source.view(kLengthBytes, static_cast<std::size_t>(n));
    if (header.size() != n) {
        context.anomaly(kMalformed, "the header could not be read", 0);
        return;
    }
    if (const auto bad = invalid_utf8(header); bad != std::string_view::npos) {
        context.anomaly(kMalformed,
                        "the header is not valid UTF-8 (byte " + util::hex_byte(header[bad]) +
                            " at header offset " + std::to_string(bad) + ")",
                        static_cast<std::int64_t>(kLengthBytes + bad));
        return;
    }
    // A raw NUL is never valid JSON, but nlohmann's lexer takes it for the end of input and
    // would accept what comes before it.
    if (const void* nul = std::memchr(header.data(), 0, header.size())) {
        const auto at =
            static_cast<std::size_t>(static_cast<const std::uint8_t*>(nul) - header.data());
        context.anomaly(kMalformed,
                        "the header holds a NUL byte at header offset " + std::to_string(at) +
                            " (not valid JSON: the safetensors loader refuses it)",
                        static_cast<std::int64_t>(kLengthBytes + at));
        return;
    }
    std::size_t start = 0;
    while (start < header.size() && json_space(header[start]))
        ++start;
    if (start == header.size() || header[start] != '{') {
        context.anomaly(
            kMalformed,
            "the header is not a JSON object (it starts with " +
                (start == header.size() ? std::string("nothing but whitespace")
                                        : shown_name(std::string_view(
                                              reinterpret_cast<const char*>(header.data() + start),
                                              std::min<std::size_t>(16, header.size() - start)))) +
                ")",
            static_cast<std::int64_t>(kLengthBytes + start));
        return;
    }
    if (start > 0) {
        report(kNonstandard,
               "the header starts with " + std::to_string(start) +
                   " whitespace bytes before '{' (the safetensors loader accepts them; readers "
                   "that check for '{' first refuse the file)",
               static_cast<std::int64_t>(kLengthBytes));
    }

    HeaderReader reader(report);
    const char* first = reinterpret_cast<const char*>(header.data());
    const bool parsed = nlohmann::json::sax_parse(first, first + header.size(), &reader,
                                                  nlohmann::json::input_format_t::json, true);
    if (!parsed || !reader.error().empty()) {
        // The loader refuses the header; what it would have read is moot.
        report(kMalformed, reader.error().empty() ? "the header is not valid JSON" : reader.error(),
               static_cast<std::int64_t>(kLengthBytes +
                                         std::min<std::uint64_t>(reader.error_offset(), n)));
        report.finish();
        return;
    }
    std::vector<bool> shadowed;
    const auto tensor_duplicates = duplicates(reader, reader.tensor_names(), &shadowed);
    for (const auto& [name, count] : tensor_duplicates) {
        report(kMalformed,
               "tensor name " + shown_name(name) + " appears " + std::to_string(count) +
                   " times (the safetensors loader keeps only the last entry; other JSON "
                   "readers may keep the first)",
               static_cast<std::int64_t>(kLengthBytes));
    }
    for (const auto& [name, count] : duplicates(reader, reader.metadata_keys())) {
        report(kMalformed,
               "__metadata__ key " + shown_name(name) + " appears " + std::to_string(count) +
                   " times (the safetensors loader keeps only the last value; other JSON "
                   "readers may keep the first)",
               static_cast<std::int64_t>(kLengthBytes));
    }
    // The loader tiles the entries its map kept; an entry without a usable range was reported
    // already and makes the tiling moot (every gap would be blamed on it).
    auto& ranges = reader.ranges();
    std::erase_if(ranges, [&shadowed](const Range& r) { return shadowed[r.name]; });
    const std::uint64_t data_start = kLengthBytes + n;
    if (reader.without_range() == 0) check_tiling(reader, report, data_start, size - data_start);
    report.finish();
    context.anomaly(kSummary, summary(reader, shadowed, n, size - data_start), 0);
}

}  // namespace mscan::safetensors
