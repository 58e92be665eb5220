// The GGUF reader. The layout and the checks follow ggml's gguf.cpp loader: a version of 1-3
// (1 is refused by current llama.cpp; a byte-swapped version means a big-endian file, which is
// read with swapped byte order and reported), unique keys, value types 0-12, general.alignment
// a uint32 power of two, tensor names under 64 bytes and unique, at most 4 dimensions, each
// non-negative with a product that fits in int64, a known ggml type whose block size divides
// the first dimension, and offsets that lay the tensors out back to back at the alignment in a
// data section that starts at the aligned end of the tensor infos and must hold every tensor.
// A count or length is compared with the bytes that remain BEFORE it is used: a count that
// the file cannot back (at the smallest size its elements could have) is a `gguf.oversized`
// finding, never an allocation or a loop, and arrays of fixed-size values are skipped by
// arithmetic. Only string arrays are walked element by element, and only when the bytes back
// every element's length field.
#include "formats/gguf/gguf_format.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <map>
#include <optional>
#include <type_traits>
#include <unordered_set>

#include "formats/common_codes.h"
#include "formats/gguf/gguf_codes.h"
#include "formats/jinja_template/jinja_check.h"
#include "mscan/limits.h"
#include "mscan/reader.h"
#include "util/text_safety.h"

namespace mscan::gguf {
namespace {

/// ggml's GGML_MAX_DIMS and GGML_MAX_NAME.
constexpr std::uint32_t kMaxDims = 4;
constexpr std::size_t kMaxTensorName = 64;

enum ValueType : std::uint32_t {
    kUint8 = 0,
    kInt8 = 1,
    kUint16 = 2,
    kInt16 = 3,
    kUint32 = 4,
    kInt32 = 5,
    kFloat32 = 6,
    kBool = 7,
    kString = 8,
    kArray = 9,
    kUint64 = 10,
    kInt64 = 11,
    kFloat64 = 12,
    kValueTypeCount = 13,
};

constexpr std::array<const char*, kValueTypeCount> kValueTypeNames = {
    "uint8", "int8",   "uint16", "int16",  "uint32", "int32",  "float32",
    "bool",  "string", "array",  "uint64", "int64",  "float64"};

/// Bytes of a fixed-size value type, 0 for string and array.
std::uint64_t scalar_size(std::uint32_t type) {
    switch (type) {
        case kUint8:
        case kInt8:
        case kBool:
            return 1;
        case kUint16:
        case kInt16:
            return 2;
        case kUint32:
        case kInt32:
        case kFloat32:
            return 4;
        case kUint64:
        case kInt64:
        case kFloat64:
            return 8;
        default:
            return 0;
    }
}

struct GgmlType {
    const char* name;      ///< nullptr: no such type (never assigned, or removed before GGUF)
    std::uint32_t block;   ///< elements per block
    std::uint32_t size;    ///< bytes per block
    bool removed = false;  ///< written by 2024 tools, refused by current ggml
};

/// ggml's type table (ggml.h enum ggml_type; block and type sizes from ggml's type traits).
constexpr std::array<GgmlType, 40> kGgmlTypes = {{
    {"F32", 1, 4},
    {"F16", 1, 2},
    {"Q4_0", 32, 18},
    {"Q4_1", 32, 20},
    {nullptr, 0, 0},  // Q4_2, removed before GGUF
    {nullptr, 0, 0},  // Q4_3, removed before GGUF
    {"Q5_0", 32, 22},
    {"Q5_1", 32, 24},
    {"Q8_0", 32, 34},
    {"Q8_1", 32, 36},
    {"Q2_K", 256, 84},
    {"Q3_K", 256, 110},
    {"Q4_K", 256, 144},
    {"Q5_K", 256, 176},
    {"Q6_K", 256, 210},
    {"Q8_K", 256, 292},
    {"IQ2_XXS", 256, 66},
    {"IQ2_XS", 256, 74},
    {"IQ3_XXS", 256, 98},
    {"IQ1_S", 256, 50},
    {"IQ4_NL", 32, 18},
    {"IQ3_S", 256, 110},
    {"IQ2_S", 256, 82},
    {"IQ4_XS", 256, 136},
    {"I8", 1, 1},
    {"I16", 1, 2},
    {"I32", 1, 4},
    {"I64", 1, 8},
    {"F64", 1, 8},
    {"IQ1_M", 256, 56},
    {"BF16", 1, 2},
    {"Q4_0_4_4", 32, 18, true},
    {"Q4_0_4_8", 32, 18, true},
    {"Q4_0_8_8", 32, 18, true},
    {"TQ1_0", 256, 54},
    {"TQ2_0", 256, 66},
    {"IQ4_NL_4_4", 32, 18, true},
    {"IQ4_NL_4_8", 32, 18, true},
    {"IQ4_NL_8_8", 32, 18, true},
    {"MXFP4", 32, 17},
}};

const GgmlType* find_type(std::uint32_t id) {
    if (id >= kGgmlTypes.size() || !kGgmlTypes[id].name) return nullptr;
    return &kGgmlTypes[id];
}

/// A key or tensor name for evidence: quoted, escaped, cut.
std::string shown(std::string_view name) {
    constexpr std::size_t kMax = 80;
    std::string s = "'" + printable(name.substr(0, kMax));
    if (name.size() > kMax) s += "...";
    return s + "'";
}

std::string num(std::uint64_t v) {
    return std::to_string(v);
}

/// Anomalies, at most kGgufMaxAnomaliesPerCode of each code; the rest counted in one last one.
class Reporter {
  public:
    explicit Reporter(const ParseContext& context) : context_(context) {}
    void operator()(AnomalyCode code, std::string evidence, std::uint64_t offset) {
        auto& count = counts_.try_emplace(code.text(), code, 0).first->second.second;
        if (++count <= limits::kGgufMaxAnomaliesPerCode)
            context_.anomaly(code, std::move(evidence), static_cast<std::int64_t>(offset));
    }
    void finish() {
        for (const auto& entry : counts_) {
            const auto& [code, count] = entry.second;
            if (count <= limits::kGgufMaxAnomaliesPerCode) continue;
            context_.anomaly(code,
                             "and " + num(count - limits::kGgufMaxAnomaliesPerCode) +
                                 " more problems of this kind in the file (not listed)",
                             -1);
        }
    }
    const ParseContext& context() const { return context_; }

  private:
    const ParseContext& context_;
    /// Code text (so the summary follows the codes' sorted order) -> the code and its count.
    std::map<std::string_view, std::pair<AnomalyCode, std::uint64_t>> counts_;
};

/// Walks the file once. Each read method returns false when the walk cannot go on (the
/// reason was reported).
class Walker {
  public:
    Walker(Source& source, Reporter& report) : in_(source), report_(report) {}

    Header run() {
        if (!header()) return std::move(h_);
        if (!metadata()) return std::move(h_);
        if (!tensor_infos()) return std::move(h_);
        layout();
        h_.complete = true;
        return std::move(h_);
    }

  private:
    // --- primitive reads in the file's byte order ---
    std::optional<std::uint32_t> u32() {
        auto v = in_.u32le();
        if (v && h_.big_endian) return __builtin_bswap32(*v);
        return v;
    }
    std::optional<std::uint64_t> u64() {
        auto v = in_.u64le();
        if (v && h_.big_endian) return __builtin_bswap64(*v);
        return v;
    }
    /// A count or string length: 32 bits in GGUF v1, 64 bits after.
    std::optional<std::uint64_t> length() {
        if (h_.version == 1) {
            auto v = u32();
            if (!v) return std::nullopt;
            return *v;
        }
        return u64();
    }
    std::uint64_t length_size() const { return h_.version == 1 ? 4 : 8; }

    bool truncated(const std::string& what) {
        report_(kMalformed, "the file ends inside " + what + " (cut short)", in_.pos());
        return false;
    }

    /// Reads a string's length and checks it against the bytes left; nullopt (reported) if
    /// it is missing or larger.
    std::optional<std::uint64_t> string_length(const std::string& what) {
        const std::uint64_t at = in_.pos();
        const auto n = length();
        if (!n) {
            truncated("the length of " + what);
            return std::nullopt;
        }
        if (*n > in_.remaining()) {
            report_(kOversized,
                    what + " declares a length of " + num(*n) + " bytes, but only " +
                        num(in_.remaining()) + " bytes remain in the file",
                    at);
            return std::nullopt;
        }
        return n;
    }

    /// Reads a whole string of at most `keep` bytes; longer ones are skipped and returned cut.
    std::optional<std::string> string(const std::string& what, std::uint64_t keep) {
        const auto n = string_length(what);
        if (!n) return std::nullopt;
        const auto kept = static_cast<std::size_t>(std::min(*n, keep));
        auto bytes = in_.bytes(kept);
        if (!bytes) {
            truncated(what);
            return std::nullopt;
        }
        std::string s(reinterpret_cast<const char*>(bytes->data()), bytes->size());
        if (!in_.skip(*n - kept)) {
            truncated(what);
            return std::nullopt;
        }
        return s;
    }

    bool header() {
        const auto magic = in_.bytes(4);
        if (!magic || std::string_view(reinterpret_cast<const char*>(magic->data()), 4) != "GGUF") {
            report_(kMalformed, "the file does not start with the magic \"GGUF\"", 0);
            return false;
        }
        const auto version = in_.u32le();
        if (!version) return truncated("the header");
        h_.version = *version;
        if ((*version & 0xFFFF) == 0 && *version != 0) {
            const std::uint32_t swapped = __builtin_bswap32(*version);
            if (swapped >= 1 && swapped <= 3) {
                h_.big_endian = true;
                h_.version = swapped;
                report_(kNonstandard,
                        "big-endian GGUF v" + num(swapped) +
                            " (for big-endian hosts such as s390x; llama.cpp on a "
                            "little-endian host refuses it)",
                        4);
            }
        }
        if (h_.version < 1 || h_.version > 3) {
            report_(kMalformed,
                    "unknown GGUF version " + num(*version) + " (llama.cpp reads 2 and 3)", 4);
            return false;
        }
        if (h_.version == 1) {
            report_(kNonstandard,
                    "GGUF version 1 (32-bit counts and lengths; current llama.cpp refuses it)", 4);
        }
        const auto tensors = length();
        const auto kvs = tensors ? length() : std::nullopt;
        if (!tensors || !kvs) return truncated("the header");
        h_.tensor_count = *tensors;
        h_.kv_count = *kvs;
        // Every key/value pair takes at least a key length, a type and a one-byte value; every
        // tensor info at least a name length, n_dims, a type and an offset.
        const std::uint64_t min_kv = length_size() + 4 + 1;
        const std::uint64_t min_tensor = length_size() + 4 + 4 + 8;
        const std::uint64_t left = in_.remaining();
        if (h_.kv_count > left / min_kv) {
            report_(kOversized,
                    "the header declares " + num(h_.kv_count) +
                        " metadata key/value pairs, more than the " + num(left) +
                        " remaining bytes can hold (at least " + num(min_kv) + " bytes each)",
                    h_.version == 1 ? 12 : 16);
        }
        if (h_.tensor_count > left / min_tensor) {
            report_(kOversized,
                    "the header declares " + num(h_.tensor_count) + " tensors, more than the " +
                        num(left) + " remaining bytes can hold (at least " + num(min_tensor) +
                        " bytes each)",
                    8);
        }
        return true;
    }

    bool metadata() {
        std::unordered_set<std::string> seen;
        for (std::uint64_t i = 0; i < h_.kv_count; ++i) {
            if (i >= limits::kGgufMaxKeys) {
                report_.context().anomaly(
                    kLimitExceeded,
                    "more than " + num(limits::kGgufMaxKeys) +
                        " GGUF metadata keys; the rest of the file was not read",
                    static_cast<std::int64_t>(in_.pos()));
                return false;
            }
            const std::uint64_t at = in_.pos();
            auto key = string("metadata key " + num(i), limits::kGgufMaxKeyBytes);
            if (!key) return false;
            if (in_.pos() - at - length_size() > limits::kGgufMaxKeyBytes) {
                report_(kMalformed,
                        "metadata key " + shown(*key) + " is longer than " +
                            num(limits::kGgufMaxKeyBytes) + " bytes",
                        at);
            } else if (kept_bytes_ + key->size() <= limits::kGgufMaxKeptBytes &&
                       !seen.insert(*key).second) {
                report_(kMalformed,
                        "metadata key " + shown(*key) +
                            " appears twice (llama.cpp refuses duplicate keys; other readers "
                            "keep the first or the last value)",
                        at);
            }
            if (kept_bytes_ + key->size() <= limits::kGgufMaxKeptBytes) {
                kept_bytes_ += key->size();
                h_.keys.push_back(*key);
            } else if (unkept_keys_++ == 0) {
                report_.context().anomaly(
                    kLimitExceeded,
                    "more than " + num(limits::kGgufMaxKeptBytes) +
                        " bytes of GGUF metadata keys; later keys are not checked for duplicates",
                    static_cast<std::int64_t>(at));
            }
            const auto type = u32();
            if (!type) return truncated("the type of metadata key " + shown(*key));
            if (*key == "general.alignment" && *type != kUint32) {
                report_(kMalformed,
                        std::string("general.alignment is ") +
                            (*type < kValueTypeCount ? std::string("a ") + kValueTypeNames[*type]
                                                     : "of type " + num(*type)) +
                            ", not a uint32 (llama.cpp aborts on it)",
                        at);
                alignment_ok_ = false;
            }
            if (!value(*key, *type, 0, true)) return false;
        }
        return true;
    }

    /// Reads one value of `type` for `key`. `top`: a key's own value (not an array element).
    bool value(const std::string& key, std::uint32_t type, int depth, bool top) {
        const std::uint64_t at = in_.pos();
        if (type >= kValueTypeCount) {
            report_(kMalformed,
                    "metadata key " + shown(key) + " has unknown value type " + num(type), at);
            return false;
        }
        if (const std::uint64_t size = scalar_size(type)) {
            if (top && type == kUint32 && key == "general.alignment") return alignment();
            if (!in_.skip(size)) return truncated("the value of metadata key " + shown(key));
            return true;
        }
        if (type == kString) return top ? top_string(key) : skip_string(key);
        // An array: element type, count, elements.
        if (depth >= limits::kGgufMaxArrayDepth) {
            report_.context().anomaly(kLimitExceeded,
                                      "GGUF arrays nested more than " +
                                          num(limits::kGgufMaxArrayDepth) + " deep under key " +
                                          shown(key) + "; the rest of the file was not read",
                                      static_cast<std::int64_t>(at));
            return false;
        }
        const auto elem = u32();
        const auto count = elem ? length() : std::nullopt;
        if (!elem || !count) return truncated("the array header of metadata key " + shown(key));
        if (*elem >= kValueTypeCount) {
            report_(
                kMalformed,
                "metadata key " + shown(key) + " is an array of unknown value type " + num(*elem),
                at);
            return false;
        }
        if (*elem == kArray && !nested_reported_) {
            nested_reported_ = true;
            report_(kNonstandard,
                    "metadata key " + shown(key) +
                        " is an array of arrays (allowed by the GGUF spec; llama.cpp refuses it)",
                    at);
        }
        const std::uint64_t min_size =
            *elem == kString ? length_size()
                             : (*elem == kArray ? 4 + length_size() : scalar_size(*elem));
        if (*count > in_.remaining() / min_size) {
            report_(kOversized,
                    "metadata key " + shown(key) + " declares an array of " + num(*count) + " " +
                        kValueTypeNames[*elem] + " values, more than the " + num(in_.remaining()) +
                        " remaining bytes can hold",
                    at);
            return false;
        }
        if (*elem != kString && *elem != kArray) {
            // Backed by the check above: skipped by arithmetic, never iterated.
            if (!in_.skip(*count * min_size)) return truncated("array " + shown(key));
            return true;
        }
        if (*elem == kString) return skip_strings(key, *count);
        for (std::uint64_t k = 0; k < *count; ++k) {
            if (!value(key, kArray, depth + 1, false)) return false;
        }
        return true;
    }

    /// The `Width`-byte number at `i` of `bytes` (the caller checked that `Width` bytes are
    /// there), in the file's byte order: one load, as this runs once per vocabulary string.
    template <std::size_t Width>
    std::uint64_t load(std::span<const std::uint8_t> bytes, std::size_t i) const {
        using Word = std::conditional_t<Width == 8, std::uint64_t, std::uint32_t>;
        static_assert(sizeof(Word) == Width);
        Word n = 0;
        std::memcpy(&n, bytes.subspan(i, Width).data(), Width);
        const bool swap = h_.big_endian == (std::endian::native == std::endian::little);
        if (swap) {
            if constexpr (Width == 8) {
                n = __builtin_bswap64(n);
            } else {
                n = __builtin_bswap32(n);
            }
        }
        return n;
    }

    /// Skips `count` strings (already known to fit at their smallest). A vocabulary holds
    /// 100,000s of them, so they are walked inside borrowed chunks of the file, each length
    /// checked against the chunk; a string that crosses a chunk's end, or does not fit, goes
    /// through skip_string(), which checks it against the file and reports it.
    bool skip_strings(const std::string& key, std::uint64_t count) {
        constexpr std::size_t kChunk = 1u << 20;
        const std::size_t width = h_.version == 1 ? 4 : 8;
        std::uint64_t k = 0;
        while (k < count) {
            const std::uint64_t start = in_.pos();
            const auto chunk = in_.bytes(
                static_cast<std::size_t>(std::min<std::uint64_t>(in_.remaining(), kChunk)));
            std::size_t i = 0;
            if (chunk) {
                const std::size_t size = chunk->size();
                while (k < count && size - i >= width) {
                    const std::uint64_t n = width == 8 ? load<8>(*chunk, i) : load<4>(*chunk, i);
                    if (n > size - i - width) break;
                    i += width + static_cast<std::size_t>(n);
                    ++k;
                }
            }
            in_.seek(start + i);
            if (k < count) {
                if (!skip_string(key)) return false;
                ++k;
            }
        }
        return true;
    }

    bool skip_string(const std::string& key) {
        const std::uint64_t at = in_.pos();
        const auto n = length();
        if (!n) return truncated("a string of metadata key " + shown(key));
        if (*n > in_.remaining()) {
            report_(kOversized,
                    "a string of metadata key " + shown(key) + " declares a length of " + num(*n) +
                        " bytes, but only " + num(in_.remaining()) + " bytes remain in the file",
                    at);
            return false;
        }
        in_.skip(*n);
        return true;
    }

    /// A key's string value: kept when the summary shows it, checked when it is a template
    /// (any key with "chat_template" in its name, or a value that looks like one).
    bool top_string(const std::string& key) {
        const auto n = string_length("the value of metadata key " + shown(key));
        if (!n) return false;
        const std::uint64_t start = in_.pos();
        const auto want =
            static_cast<std::size_t>(std::min<std::uint64_t>(*n, limits::kTemplateMaxBytes + 1));
        auto bytes = in_.bytes(want);
        if (!bytes) return truncated("the value of metadata key " + shown(key));
        const std::string_view text(reinterpret_cast<const char*>(bytes->data()), bytes->size());
        if (key == "general.architecture") h_.architecture = text.substr(0, 200);
        if (key == "general.name") h_.name = text.substr(0, 200);
        if (key.find("chat_template") != std::string::npos || jinja::looks_like_template(text)) {
            if (template_bytes_ + text.size() > limits::kGgufMaxTemplateBytes) {
                report_.context().anomaly(kLimitExceeded,
                                          "more than " + num(limits::kGgufMaxTemplateBytes) +
                                              " bytes of templates in one file; metadata key " +
                                              shown(key) + " was not checked",
                                          static_cast<std::int64_t>(start));
            } else {
                template_bytes_ += text.size();
                h_.templates.push_back(key);
                jinja::report_template(report_.context(), key, text,
                                       static_cast<std::int64_t>(start));
            }
        }
        return in_.seek(start + *n);
    }

    /// general.alignment as a uint32 (its only valid type).
    bool alignment() {
        const std::uint64_t at = in_.pos();
        const auto v = u32();
        if (!v) return truncated("general.alignment");
        if (*v == 0 || !std::has_single_bit(*v)) {
            report_(kMalformed,
                    "general.alignment " + num(*v) +
                        " is not a power of two (llama.cpp refuses the file)",
                    at);
            alignment_ok_ = false;
            return true;
        }
        h_.alignment = *v;
        return true;
    }

    bool tensor_infos() {
        std::unordered_set<std::string> seen;
        for (std::uint64_t i = 0; i < h_.tensor_count; ++i) {
            if (i >= limits::kGgufMaxTensors) {
                report_.context().anomaly(
                    kLimitExceeded,
                    "more than " + num(limits::kGgufMaxTensors) +
                        " GGUF tensor infos; the rest of the file was not read",
                    static_cast<std::int64_t>(in_.pos()));
                return false;
            }
            const std::uint64_t at = in_.pos();
            auto name = string("the name of tensor " + num(i), kMaxTensorName + 16);
            if (!name) return false;
            TensorInfo t;
            t.name = *name;
            const std::uint64_t name_length = in_.pos() - at - length_size();
            if (name_length >= kMaxTensorName) {
                report_(kMalformed,
                        "tensor name " + shown(t.name) + " is " + num(name_length) +
                            " bytes long (ggml's limit is " + num(kMaxTensorName - 1) +
                            "; llama.cpp refuses it)",
                        at);
            } else if (!seen.insert(t.name).second) {
                report_(kMalformed,
                        "tensor name " + shown(t.name) +
                            " appears twice (llama.cpp refuses duplicate tensor names)",
                        at);
            }
            const auto n_dims = u32();
            if (!n_dims) return truncated("tensor info " + shown(t.name));
            if (*n_dims > kMaxDims) {
                report_(kMalformed,
                        "tensor " + shown(t.name) + " declares " + num(*n_dims) +
                            " dimensions (ggml allows at most " + num(kMaxDims) +
                            "; llama.cpp refuses it)",
                        at);
                return false;
            }
            for (std::uint32_t d = 0; d < *n_dims; ++d) {
                const auto dim = h_.version == 1 ? length() : u64();
                if (!dim) return truncated("tensor info " + shown(t.name));
                t.dims.push_back(*dim);
            }
            const auto type = u32();
            const auto offset = type ? u64() : std::nullopt;
            if (!type || !offset) return truncated("tensor info " + shown(t.name));
            t.type = *type;
            t.offset = *offset;
            t.nbytes = tensor_bytes(t, at);
            h_.tensors.push_back(std::move(t));
        }
        return true;
    }

    /// The tensor's data size, checking what ggml checks; 0 when it has none or it is invalid.
    std::uint64_t tensor_bytes(const TensorInfo& t, std::uint64_t at) {
        std::array<std::uint64_t, kMaxDims> ne = {1, 1, 1, 1};
        for (std::size_t d = 0; d < t.dims.size(); ++d) {
            if (t.dims[d] > static_cast<std::uint64_t>(INT64_MAX)) {
                report_(kMalformed,
                        "tensor " + shown(t.name) + " dimension " + num(d) +
                            " is negative as ggml reads it (int64 " +
                            std::to_string(static_cast<std::int64_t>(t.dims[d])) + ")",
                        at);
                return 0;
            }
            ne[d] = t.dims[d];
        }
        std::uint64_t elements = 1;
        for (const auto n : ne) {
            if (__builtin_mul_overflow(elements, n, &elements) ||
                elements > static_cast<std::uint64_t>(INT64_MAX)) {
                report_(kMalformed,
                        "tensor " + shown(t.name) +
                            " has a shape whose element count overflows "
                            "int64 (an overflow attack on loaders that multiply dimensions)",
                        at);
                return 0;
            }
        }
        const GgmlType* type = find_type(t.type);
        if (!type) {
            report_(kMalformed, "tensor " + shown(t.name) + " has unknown ggml type " + num(t.type),
                    at);
            return 0;
        }
        if (type->removed && !removed_reported_) {
            removed_reported_ = true;
            report_(kNonstandard,
                    "tensor " + shown(t.name) + " has ggml type " + type->name +
                        " (written by 2024 llama.cpp, refused by current ggml)",
                    at);
        }
        if (ne[0] % type->block != 0) {
            report_(kMalformed,
                    "tensor " + shown(t.name) + " of type " + type->name + " has " + num(ne[0]) +
                        " elements per row, not a multiple of its block size " + num(type->block),
                    at);
            return 0;
        }
        std::uint64_t bytes = ne[0] / type->block;
        if (__builtin_mul_overflow(bytes, type->size, &bytes) ||
            __builtin_mul_overflow(bytes, ne[1], &bytes) ||
            __builtin_mul_overflow(bytes, ne[2], &bytes) ||
            __builtin_mul_overflow(bytes, ne[3], &bytes)) {
            report_(kMalformed, "tensor " + shown(t.name) + " has a byte size that overflows", at);
            return 0;
        }
        return bytes;
    }

    /// Where the data section starts, and each tensor against it.
    void layout() {
        if (!alignment_ok_) return;
        const std::uint64_t a = h_.alignment;
        const std::uint64_t end = in_.pos();
        if (end > UINT64_MAX - (a - 1)) return;
        h_.data_start = (end + a - 1) / a * a;
        const std::uint64_t size = in_.source().size();
        const std::uint64_t data_size = h_.data_start <= size ? size - h_.data_start : 0;
        std::uint64_t expected = 0;
        bool order_reported = false;
        for (const auto& t : h_.tensors) {
            if (t.offset % a != 0) {
                report_(kMalformed,
                        "tensor " + shown(t.name) + " offset " + num(t.offset) +
                            " is not a multiple of the alignment " + num(a),
                        h_.data_start);
            } else if (t.offset != expected && !order_reported) {
                order_reported = true;
                report_(kMalformed,
                        "tensor " + shown(t.name) + " has offset " + num(t.offset) +
                            ", but the tensors before it end at " + num(expected) +
                            " (current llama.cpp requires tensors back to back; overlapping "
                            "or scattered data)",
                        h_.data_start);
            }
            if (t.offset > data_size || t.nbytes > data_size - t.offset) {
                report_(kMalformed,
                        "tensor " + shown(t.name) + " data [" + num(t.offset) + ", " +
                            (t.offset > UINT64_MAX - t.nbytes ? std::string("overflow")
                                                              : num(t.offset + t.nbytes)) +
                            ") runs past the end of the " + num(data_size) +
                            " bytes of tensor data in the file (cut short, or a lying offset)",
                        h_.data_start);
            }
            const std::uint64_t padded =
                t.nbytes > UINT64_MAX - (a - 1) ? UINT64_MAX : (t.nbytes + a - 1) / a * a;
            expected = padded > UINT64_MAX - expected ? UINT64_MAX : expected + padded;
        }
    }

    ByteReader in_;
    Reporter& report_;
    Header h_;
    bool alignment_ok_ = true;
    bool nested_reported_ = false;
    bool removed_reported_ = false;
    std::uint64_t template_bytes_ = 0;
    std::uint64_t kept_bytes_ = 0;  // metadata key bytes kept (for duplicates and the summary)
    std::uint64_t unkept_keys_ = 0;
};

std::string summary(const Header& h, std::uint64_t size) {
    std::string s = "GGUF v" + num(h.version) + (h.big_endian ? " (big-endian)" : "");
    if (!h.architecture.empty()) s += ", architecture " + shown(h.architecture);
    if (!h.name.empty()) s += ", name " + shown(h.name);
    s += ", " + num(h.tensors.size()) + (h.tensors.size() == 1 ? " tensor" : " tensors");
    std::array<std::uint64_t, kGgmlTypes.size()> counts{};
    std::uint64_t data = 0;
    for (const auto& t : h.tensors) {
        if (t.type < counts.size()) ++counts[t.type];
        data = data > UINT64_MAX - t.nbytes ? UINT64_MAX : data + t.nbytes;
    }
    std::string types;
    for (std::size_t i = 0; i < counts.size(); ++i) {
        if (!counts[i] || !kGgmlTypes[i].name) continue;
        types +=
            std::string(types.empty() ? "" : ", ") + kGgmlTypes[i].name + " x " + num(counts[i]);
    }
    if (!types.empty()) s += " (" + types + ")";
    s += ", " + num(data) + " bytes of tensor data in a " + num(size) + "-byte file, " +
         num(h.keys.size()) + " metadata keys";
    if (h.templates.empty()) return s + ", no template";
    s += ", templates: ";
    for (std::size_t i = 0; i < h.templates.size() && i < 4; ++i)
        s += (i ? ", " : "") + shown(h.templates[i]);
    if (h.templates.size() > 4) s += " and " + num(h.templates.size() - 4) + " more";
    return s;
}

}  // namespace

const char* ggml_type_name(std::uint32_t type) {
    const GgmlType* t = find_type(type);
    return t ? t->name : nullptr;
}

bool detect(Source& source, std::string_view /*extension*/) {
    const auto head = source.view(0, 4);
    return head.size() == 4 && head[0] == 'G' && head[1] == 'G' && head[2] == 'U' && head[3] == 'F';
}

Header read(Source& source, const ParseContext& context) {
    Reporter report(context);
    Walker walker(source, report);
    Header h = walker.run();
    report.finish();
    return h;
}

void parse(Source& source, const ParseContext& context) {
    const Header h = read(source, context);
    if (h.version == 0) return;
    context.anomaly(kSummary, summary(h, source.size()), 0);
}

}  // namespace mscan::gguf
