// The .npy header, read as numpy.lib.format reads it: magic, version, a little-endian header
// length (2 bytes in 1.0, 4 in 2.0 and 3.0), then a Python literal (ast.literal_eval in numpy)
// that must be a dict with exactly the keys descr, fortran_order and shape.
#include "formats/npy/npy_format.h"

#include <algorithm>
#include <cctype>
#include <memory>
#include <optional>
#include <utility>

#include "formats/npy/npy_codes.h"
#include "formats/npy/py_literal.h"
#include "formats/pickle/pickle_detect.h"
#include "formats/pickle/pickle_machine.h"
#include "mscan/limits.h"
#include "mscan/reader.h"

namespace mscan::numpy {
namespace {

constexpr std::string_view kMagic("\x93NUMPY", 6);

/// What numpy.lib.format.descr_to_dtype() makes of a descr, as far as the scan needs it.
struct DtypeInfo {
    enum class Kind {
        Plain,    ///< plain bytes (itemsize known or not)
        Object,   ///< dtype.hasobject: the data is a pickle
        Refused,  ///< numpy raises: the file is not loaded
        Unknown,  ///< mscan cannot tell (a dtype name or syntax it does not know)
    };
    Kind kind = Kind::Unknown;
    std::optional<std::uint64_t> itemsize;  ///< Plain: bytes per element, if known
    std::string why;                        ///< Refused, Unknown: what was not accepted
};

DtypeInfo plain(std::optional<std::uint64_t> size) {
    return {DtypeInfo::Kind::Plain, size, {}};
}
DtypeInfo object() {
    return {DtypeInfo::Kind::Object, 8, {}};
}
DtypeInfo refused(std::string why) {
    return {DtypeInfo::Kind::Refused, std::nullopt, std::move(why)};
}
DtypeInfo unknown(std::string why) {
    return {DtypeInfo::Kind::Unknown, std::nullopt, std::move(why)};
}

/// Combines fields of a structured dtype: numpy refuses the whole dtype if it refuses one
/// field; otherwise one object field makes the dtype hold objects (hasobject).
void combine(DtypeInfo& total, const DtypeInfo& field, std::uint64_t count) {
    using K = DtypeInfo::Kind;
    if (total.kind == K::Refused) return;
    if (field.kind == K::Refused) {
        total = field;
        return;
    }
    if (field.kind == K::Object) total.kind = K::Object;
    if (field.kind == K::Unknown && total.kind == K::Plain) {
        total.kind = K::Unknown;
        total.why = field.why;
    }
    if (!total.itemsize || !field.itemsize ||
        (count && *field.itemsize > (UINT64_MAX - *total.itemsize) / count)) {
        total.itemsize.reset();
    } else {
        *total.itemsize += *field.itemsize * count;
    }
}

/// Bytes per element of a one-character type code with optional size digits, numpy's
/// typecodes on a 64-bit Linux build ('i4', 'f8', '<U10', 'S', '?', 'M8[ns]').
std::optional<DtypeInfo> typecode_dtype(std::string_view t) {
    if (t.empty()) return std::nullopt;
    const char code = t.front();
    t.remove_prefix(1);
    std::uint64_t n = 0;
    bool digits = false;
    while (!t.empty() && std::isdigit(static_cast<unsigned char>(t.front()))) {
        if (n > (1u << 30)) return std::nullopt;
        n = n * 10 + static_cast<std::uint64_t>(t.front() - '0');
        t.remove_prefix(1);
        digits = true;
    }
    if ((code == 'M' || code == 'm') && !t.empty() && t.front() == '[') {
        const auto close = t.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        t.remove_prefix(close + 1);
    }
    if (!t.empty()) return std::nullopt;
    if (code == 'O') {
        if (!digits || n == 4 || n == 8) return object();
        return refused("an object dtype of " + std::to_string(n) + " bytes");
    }
    // Fixed-size codes: their size with no digits, and which sizes the digits may name.
    struct Code {
        char code;
        std::uint64_t size;
        bool sized;  ///< the digits give the size (i4, f8, S10, U10 is 4 bytes per char)
    };
    static constexpr Code kCodes[] = {
        {'?', 1, false}, {'b', 1, true},   {'B', 1, false}, {'h', 2, false},  {'H', 2, false},
        {'i', 4, true},  {'I', 4, false},  {'l', 8, false}, {'L', 8, false},  {'q', 8, false},
        {'Q', 8, false}, {'p', 8, false},  {'P', 8, false}, {'e', 2, false},  {'f', 4, true},
        {'d', 8, false}, {'g', 16, false}, {'F', 8, false}, {'D', 16, false}, {'G', 32, false},
        {'u', 4, true},  {'c', 1, true},   {'S', 0, true},  {'a', 0, true},   {'U', 0, true},
        {'V', 0, true},  {'M', 8, true},   {'m', 8, true},
    };
    for (const auto& c : kCodes) {
        if (c.code != code) continue;
        if (!digits) return plain(c.size);
        if (!c.sized) return std::nullopt;
        return plain(code == 'U' ? 4 * n : n);
    }
    return std::nullopt;
}

/// numpy.dtype(name) for the scalar type names of numpy.sctypeDict that matter here.
std::optional<DtypeInfo> named_dtype(std::string_view t) {
    if (t == "object" || t == "object_" || t == "object0") return object();
    static constexpr std::pair<std::string_view, std::uint64_t> kNames[] = {
        {"bool", 1},        {"bool_", 1},        {"int8", 1},       {"uint8", 1},
        {"int16", 2},       {"uint16", 2},       {"int32", 4},      {"uint32", 4},
        {"int64", 8},       {"uint64", 8},       {"float16", 2},    {"float32", 4},
        {"float64", 8},     {"float128", 16},    {"complex64", 8},  {"complex128", 16},
        {"complex256", 32}, {"int", 8},          {"int_", 8},       {"uint", 8},
        {"float", 8},       {"float_", 8},       {"complex", 16},   {"complex_", 16},
        {"byte", 1},        {"ubyte", 1},        {"short", 2},      {"ushort", 2},
        {"intc", 4},        {"uintc", 4},        {"longlong", 8},   {"ulonglong", 8},
        {"intp", 8},        {"uintp", 8},        {"half", 2},       {"single", 4},
        {"double", 8},      {"longdouble", 16},  {"longfloat", 16}, {"csingle", 8},
        {"cdouble", 16},    {"clongdouble", 32}, {"str", 0},        {"str_", 0},
        {"unicode", 0},     {"bytes", 0},        {"bytes_", 0},     {"void", 0},
        {"datetime64", 8},  {"timedelta64", 8},
    };
    for (const auto& [name, size] : kNames) {
        if (t == name) return plain(size);
    }
    for (std::string_view unit_type : {"datetime64[", "timedelta64["}) {
        if (t.substr(0, unit_type.size()) == unit_type && t.back() == ']') return plain(8);
    }
    return std::nullopt;
}

/// One dtype string without commas: an optional byte order, then a type code or name.
DtypeInfo simple_string_dtype(std::string_view t) {
    const std::string shown(t);
    // Type names and codes are letters, digits, '_' and '?', after a byte order, with a
    // datetime unit in brackets: numpy.dtype refuses a blank or any other character.
    const bool charset_ok = std::all_of(t.begin(), t.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) ||
               std::string_view("_<>|=[]?").find(c) != std::string_view::npos;
    });
    if (t.empty() || !charset_ok) return refused("dtype '" + shown + "'");
    if (!t.empty() && std::string_view("<>|=").find(t.front()) != std::string_view::npos)
        t.remove_prefix(1);
    if (auto d = typecode_dtype(t)) return *d;
    if (auto d = named_dtype(t)) return *d;
    return unknown("dtype '" + shown + "'");
}

/// numpy's comma strings ('i4,O', '(2,3)O', '2O', 'O,'), read as
/// numpy.core._internal._commastring reads them: items separated by commas (outside a
/// repeat's parentheses), each an optional byte order, an optional repeat count or shape,
/// another optional byte order and a type.
DtypeInfo comma_string_dtype(std::string_view s) {
    DtypeInfo total = plain(0);
    std::size_t i = 0;
    int items = 0;
    auto skip_blanks = [&] {
        while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i])))
            ++i;
    };
    while (i < s.size()) {
        if (++items > 4096) return unknown("comma string with too many items");
        if (i < s.size() && std::string_view("<>|=").find(s[i]) != std::string_view::npos) ++i;
        // Repeats: " *[(]?[ ,0-9]*[)]? *", a count or a shape.
        std::uint64_t count = 1;
        std::size_t r = i;
        while (r < s.size() && s[r] == ' ')
            ++r;
        const bool paren = r < s.size() && s[r] == '(';
        std::size_t q = r + (paren ? 1 : 0);
        std::uint64_t dim = 0;
        bool any_dim = false;
        while (q < s.size() &&
               (s[q] == ' ' || s[q] == ',' || std::isdigit(static_cast<unsigned char>(s[q])))) {
            if (!paren && s[q] == ',') break;
            if (std::isdigit(static_cast<unsigned char>(s[q]))) {
                if (dim > (1u << 30)) return unknown("repeat count too large");
                dim = dim * 10 + static_cast<std::uint64_t>(s[q] - '0');
                any_dim = true;
            } else if (any_dim) {
                count *= dim;
                dim = 0;
                any_dim = false;
            }
            ++q;
        }
        if (any_dim) count *= dim;
        if (paren) {
            if (q >= s.size() || s[q] != ')')
                return unknown("comma string '" + std::string(s) + "'");
            ++q;
        }
        while (q < s.size() && s[q] == ' ')
            ++q;
        i = q;
        std::string order;
        if (i < s.size() && std::string_view("<>|=").find(s[i]) != std::string_view::npos)
            order.push_back(s[i++]);
        // The type: [A-Za-z0-9.?]* and an optional [unit].
        const std::size_t type_start = i;
        while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '.' ||
                                s[i] == '?' || s[i] == '_'))
            ++i;
        if (i < s.size() && s[i] == '[') {
            const auto close = s.find(']', i);
            if (close == std::string_view::npos)
                return unknown("comma string '" + std::string(s) + "'");
            i = close + 1;
        }
        const std::string_view type = s.substr(type_start, i - type_start);
        if (type.empty()) return unknown("comma string '" + std::string(s) + "'");
        combine(total, simple_string_dtype(order + std::string(type)), count);
        skip_blanks();
        if (i < s.size()) {
            if (s[i] != ',') return unknown("comma string '" + std::string(s) + "'");
            ++i;
            skip_blanks();
        }
    }
    if (!items) return unknown("empty comma string");
    return total;
}

DtypeInfo dtype_of(const PyValue& descr, int depth = 0);

/// A shape in a dtype: an int or a tuple of ints; the element count, or nullopt.
std::optional<std::uint64_t> subarray_count(const PyValue& shape) {
    if (shape.type == PyValue::Type::Int && !shape.big && shape.number >= 0)
        return static_cast<std::uint64_t>(shape.number);
    if (shape.type != PyValue::Type::Tuple) return std::nullopt;
    std::uint64_t count = 1;
    for (const auto& d : shape.items) {
        if (d.type != PyValue::Type::Int || d.big || d.number < 0) return std::nullopt;
        const auto dim = static_cast<std::uint64_t>(d.number);
        if (dim && count > UINT64_MAX / dim) return std::nullopt;
        count *= dim;
    }
    return count;
}

/// A structured descr: any iterable of fields (name, descr) or (name, descr, shape), where a
/// field may be a tuple, a list or even a two-character string ('aO'), and the iterable may
/// be a list, a dict (its keys) or a set, as descr_to_dtype iterates whatever it is given.
DtypeInfo fields_dtype(const std::vector<const PyValue*>& fields, int depth) {
    DtypeInfo total = plain(0);
    std::vector<std::string> names;
    for (const PyValue* field : fields) {
        std::vector<PyValue> parts;
        if (field->type == PyValue::Type::Str) {
            if (!field->ascii) return unknown("a field written as a non-ASCII string");
            for (const char c : field->text) {
                PyValue p;
                p.type = PyValue::Type::Str;
                p.text = std::string(1, c);
                parts.push_back(std::move(p));
            }
        } else if (field->type == PyValue::Type::Tuple || field->type == PyValue::Type::List) {
            parts = field->items;
        } else {
            return refused("a field is not a (name, dtype) pair: " + render_py(*field, 80));
        }
        if (parts.size() != 2 && parts.size() != 3)
            return refused("a field is not a (name, dtype) pair: " + render_py(*field, 80));
        DtypeInfo sub = dtype_of(parts[1], depth + 1);
        std::uint64_t count = 1;
        if (parts.size() == 3) {
            const auto n = subarray_count(parts[2]);
            if (!n) {
                if (sub.kind == DtypeInfo::Kind::Plain || sub.kind == DtypeInfo::Kind::Object)
                    sub.itemsize.reset();
                if (sub.kind == DtypeInfo::Kind::Plain)
                    sub = unknown("field shape " + render_py(parts[2], 40));
            } else {
                count = *n;
            }
        }
        const PyValue& name = parts[0];
        const PyValue* real_name = &name;
        if (name.type == PyValue::Type::Tuple && name.items.size() == 2) real_name = &name.items[1];
        if (real_name->type != PyValue::Type::Str) return refused("field names must be strings");
        // Padding ('' naming plain void bytes) is dropped; other names must be unique.
        if (!real_name->text.empty()) {
            if (std::find(names.begin(), names.end(), real_name->text) != names.end())
                return refused("field name '" + real_name->text + "' used twice");
            names.push_back(real_name->text);
        }
        combine(total, sub, count);
    }
    return total;
}

DtypeInfo dtype_of(const PyValue& descr, int depth) {
    if (depth > 16) return unknown("dtype nested too deeply");
    switch (descr.type) {
        case PyValue::Type::Str: {
            if (!descr.ascii) return refused("dtype string with non-ASCII characters");
            const std::string_view t = descr.text;
            // numpy reads a string with a comma, or starting with a digit or '(', as a comma
            // string.
            if (t.find(',') != std::string_view::npos ||
                (!t.empty() &&
                 (std::isdigit(static_cast<unsigned char>(t.front())) || t.front() == '(')))
                return comma_string_dtype(t);
            return simple_string_dtype(t);
        }
        case PyValue::Type::Tuple: {
            // (base, shape): numpy.dtype((descr_to_dtype(base), shape)).
            if (descr.items.size() < 2) return refused("a tuple descr needs a base and a shape");
            DtypeInfo base = dtype_of(descr.items[0], depth + 1);
            if (base.kind == DtypeInfo::Kind::Refused || base.kind == DtypeInfo::Kind::Unknown)
                return base;
            if (descr.items.size() != 2) return unknown("tuple descr " + render_py(descr, 80));
            const auto n = subarray_count(descr.items[1]);
            if (!n) {
                // (base, other dtype) reinterprets base: objects are refused there, but keep
                // an object base as objects rather than guess.
                if (base.kind == DtypeInfo::Kind::Object) return object();
                const DtypeInfo other = dtype_of(descr.items[1], depth + 1);
                if (other.kind == DtypeInfo::Kind::Object) return object();
                return unknown("tuple descr " + render_py(descr, 80));
            }
            if (base.itemsize && *n && *base.itemsize > UINT64_MAX / *n) base.itemsize.reset();
            if (base.itemsize) *base.itemsize *= *n;
            return base;
        }
        case PyValue::Type::List:
        case PyValue::Type::Set: {
            std::vector<const PyValue*> fields;
            for (const auto& f : descr.items)
                fields.push_back(&f);
            return fields_dtype(fields, depth);
        }
        case PyValue::Type::Dict: {
            // Iterating a dict gives its keys, each once (the last duplicate wins).
            std::vector<const PyValue*> fields;
            for (std::size_t i = 0; i < descr.items.size(); i += 2)
                fields.push_back(&descr.items[i]);
            return fields_dtype(fields, depth);
        }
        case PyValue::Type::Bytes:
            if (descr.text.empty()) return plain(0);  // iterating b'' gives no fields
            return refused("descr is bytes, not a str");
        default:
            return refused("descr " + render_py(descr, 80) + " is not a dtype");
    }
}

/// The value of `key` in a dict literal: the last one, as in a Python dict.
const PyValue* dict_get(const PyValue& dict, std::string_view key) {
    const PyValue* found = nullptr;
    for (std::size_t i = 0; i + 1 < dict.items.size(); i += 2) {
        if (dict.items[i].type == PyValue::Type::Str && dict.items[i].text == key)
            found = &dict.items[i + 1];
    }
    return found;
}

/// Whether the dict's distinct keys are exactly descr, fortran_order and shape (numpy
/// compares key sets); `duplicates` is set when a key is given more than once.
bool expected_keys(const PyValue& dict, bool& duplicates) {
    std::vector<std::string> keys;
    duplicates = false;
    for (std::size_t i = 0; i < dict.items.size(); i += 2) {
        const PyValue& k = dict.items[i];
        if (k.type != PyValue::Type::Str) return false;
        if (std::find(keys.begin(), keys.end(), k.text) != keys.end()) {
            duplicates = true;
            continue;
        }
        keys.push_back(k.text);
    }
    std::sort(keys.begin(), keys.end());
    return keys == std::vector<std::string>{"descr", "fortran_order", "shape"};
}

}  // namespace

std::optional<Header> parse_header(Source& source, std::string& error) {
    ByteReader r(source);
    const auto magic = r.bytes(kMagic.size());
    if (!magic ||
        std::string_view(reinterpret_cast<const char*>(magic->data()), magic->size()) != kMagic) {
        error = "no .npy magic";
        return std::nullopt;
    }
    Header h;
    const auto major = r.u8(), minor = r.u8();
    if (!major || !minor) {
        error = "the file ends inside the version";
        return std::nullopt;
    }
    h.major = *major;
    h.minor = *minor;
    if (!((h.major == 1 || h.major == 2 || h.major == 3) && h.minor == 0)) {
        error = "format version " + std::to_string(h.major) + "." + std::to_string(h.minor) +
                " is not one numpy reads (1.0, 2.0, 3.0)";
        return std::nullopt;
    }
    std::uint64_t header_len = 0;
    if (h.major == 1) {
        const auto n = r.u16le();
        if (!n) {
            error = "the file ends inside the header length";
            return std::nullopt;
        }
        header_len = *n;
    } else {
        const auto n = r.u32le();
        if (!n) {
            error = "the file ends inside the header length";
            return std::nullopt;
        }
        header_len = *n;
    }
    if (header_len > r.remaining()) {
        error = "the header declares " + std::to_string(header_len) + " bytes but only " +
                std::to_string(r.remaining()) + " follow";
        return std::nullopt;
    }
    if (header_len > limits::kNpyMaxHeader) {
        error = "the header is " + std::to_string(header_len) + " bytes, more than the " +
                std::to_string(limits::kNpyMaxHeader) + " mscan reads";
        return std::nullopt;
    }
    const auto text_bytes = r.bytes(static_cast<std::size_t>(header_len));
    const std::string text(reinterpret_cast<const char*>(text_bytes->data()), text_bytes->size());
    h.data_offset = r.pos();
    PyValue dict;
    std::string why;
    PyLiteralOptions options;
    options.utf8 = h.major >= 3;              // format 3.0 headers are UTF-8, older latin1
    options.drop_long_suffix = h.major <= 2;  // numpy's _filter_header, for 1.0 and 2.0
    auto shown = [&text] {
        std::string s = text.substr(0, 160);
        for (char& c : s)
            if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f)
                c = ' ';
        return s + (text.size() > 160 ? "..." : "");
    };
    if (!parse_py_literal(text, options, dict, why)) {
        error = "the header is not a Python literal (" + why + "): " + shown();
        return std::nullopt;
    }
    if (dict.type != PyValue::Type::Dict) {
        error = "the header is not a dict: " + shown();
        return std::nullopt;
    }
    if (!expected_keys(dict, h.duplicate_keys)) {
        error =
            "the header does not have exactly the keys descr, fortran_order and shape: " + shown();
        return std::nullopt;
    }
    const PyValue* descr = dict_get(dict, "descr");
    const PyValue* order = dict_get(dict, "fortran_order");
    const PyValue* shape = dict_get(dict, "shape");
    if (shape->type != PyValue::Type::Tuple) {
        error = "shape is not a tuple of integers: " + render_py(*shape);
        return std::nullopt;
    }
    for (const auto& d : shape->items) {
        // isinstance(x, int): True and False count, negative values pass the header check.
        if (d.type != PyValue::Type::Int && d.type != PyValue::Type::Bool) {
            error = "shape is not a tuple of integers: " + render_py(*shape);
            return std::nullopt;
        }
        // numpy.load multiplies the shape as int64 before it reads the data.
        if (d.big) {
            error = "a shape value does not fit in a 64-bit integer: " + render_py(*shape);
            return std::nullopt;
        }
        h.shape.push_back(d.number);
    }
    if (order->type != PyValue::Type::Bool) {
        error = "fortran_order is not True or False: " + render_py(*order);
        return std::nullopt;
    }
    h.fortran_order = order->number != 0;
    h.descr = descr->type == PyValue::Type::Str ? descr->text : render_py(*descr);
    const DtypeInfo info = dtype_of(*descr);
    switch (info.kind) {
        case DtypeInfo::Kind::Refused:
            error =
                "descr " + render_py(*descr) + " is not a dtype numpy accepts (" + info.why + ")";
            return std::nullopt;
        case DtypeInfo::Kind::Unknown:
            h.dtype_doubt = info.why;
            break;
        case DtypeInfo::Kind::Object:
            h.has_object = true;
            break;
        case DtypeInfo::Kind::Plain:
            h.itemsize = info.itemsize;
            if (!h.itemsize) h.dtype_doubt = "the size of dtype " + render_py(*descr);
            break;
    }
    return h;
}

bool detect(Source& source, std::string_view) {
    const auto head = source.view(0, kMagic.size());
    return head.size() == kMagic.size() &&
           std::equal(kMagic.begin(), kMagic.end(), head.begin(),
                      [](char a, std::uint8_t b) { return static_cast<std::uint8_t>(a) == b; });
}

bool head_suffices(Source& head) {
    std::string error;
    const auto h = parse_header(head, error);
    return h && !h->has_object && h->dtype_doubt.empty() && h->data_offset <= head.size();
}

namespace {

/// numpy.load(allow_pickle=True) runs pickle.load on the data after the header.
void scan_object_data(Source& source, const Header& h, const ParseContext& context) {
    ByteReader reader(source, h.data_offset);
    pickle::MachineOptions options;
    options.multiple_streams = false;  // numpy.load reads one pickle
    pickle::scan_pickle(reader, context.base(), context.sink(), options);
}

}  // namespace

void parse(Source& source, const ParseContext& context) {
    std::string error;
    const auto h = parse_header(source, error);
    if (!h) {
        context.anomaly(kMalformed, "numpy.load refuses this file: " + error, 0);
        return;
    }
    const auto data_at = static_cast<std::int64_t>(h->data_offset);
    if (h->duplicate_keys) {
        context.anomaly(
            kDuplicateKey,
            "the header gives a key more than once; numpy keeps the last (dtype " + h->descr + ")",
            0);
    }
    if (!h->dtype_doubt.empty()) {
        // A dtype mscan cannot decide: if the data reads as a pickle, numpy may well unpickle
        // it, so it is scanned as one rather than trusted.
        SliceSource data(source, h->data_offset,
                         source.size() - std::min(h->data_offset, source.size()));
        const bool pickle_like = pickle::plausible_pickle(data).pickle;
        context.anomaly(kMalformed,
                        "mscan does not know " + h->dtype_doubt +
                            (pickle_like ? "; the data after the header reads as a pickle and "
                                           "was scanned as one"
                                         : "; the data after the header was not read"),
                        data_at);
        if (pickle_like) scan_object_data(source, *h, context);
        return;
    }
    if (h->has_object) {
        context.anomaly(kObjectArray,
                        "dtype " + h->descr +
                            " holds Python objects: numpy.load(allow_pickle=True) unpickles the "
                            "data that follows the header",
                        data_at);
        if (h->data_offset >= source.size()) {
            context.anomaly(kMalformed, "an object array with no pickle after the header", data_at);
            return;
        }
        scan_object_data(source, *h, context);
        return;
    }
    std::uint64_t count = 1;
    bool overflow = false;
    for (const auto d : h->shape) {
        if (d < 0) {
            context.anomaly(kMalformed,
                            "numpy.load refuses this file: the shape has a negative dimension",
                            data_at);
            return;
        }
        const auto u = static_cast<std::uint64_t>(d);
        if (u && count > UINT64_MAX / u) overflow = true;
        count *= u;
    }
    const std::uint64_t available = source.size() - std::min(h->data_offset, source.size());
    if (overflow || (*h->itemsize && count > UINT64_MAX / *h->itemsize) ||
        count * *h->itemsize > available) {
        context.anomaly(kMalformed,
                        "the header declares " +
                            (overflow ? std::string("more than 2^64") : std::to_string(count)) +
                            " elements of " + std::to_string(*h->itemsize) + " bytes, but only " +
                            std::to_string(available) + " bytes of data follow",
                        data_at);
    }
}

}  // namespace mscan::numpy
