// The .npy header, read as numpy.lib.format reads it: magic, version, a little-endian header
// length (2 bytes in 1.0, 4 in 2.0 and 3.0), then a Python literal (ast.literal_eval in numpy)
// that must be a dict with exactly the keys descr, fortran_order and shape.
#include "formats/numpy/npy_format.h"

#include <algorithm>
#include <cctype>
#include <memory>

#include "formats/pickle/pickle_machine.h"
#include "mscan/limits.h"
#include "mscan/reader.h"

namespace mscan::numpy {
namespace {

constexpr std::string_view kMagic("\x93NUMPY", 6);

/// A Python literal: the subset that numpy headers use.
struct Literal {
    enum class Type { None, Bool, Int, Str, Tuple, List, Dict } type = Type::None;
    std::string text;            // Str
    std::int64_t number = 0;     // Int, Bool
    std::vector<Literal> items;  // Tuple, List; Dict: key, value, key, value ...
};

/// Recursive-descent parser for Python literals, bounded in depth and size. Anything else
/// (names, calls, operators) is an error, as it is for ast.literal_eval.
class LiteralParser {
  public:
    explicit LiteralParser(std::string_view text) : s_(text) {}

    bool parse(Literal& out, std::string& error) {
        if (!value(out, 0)) {
            error = error_.empty() ? "not a Python literal" : error_;
            return false;
        }
        skip_space();
        if (i_ != s_.size()) {
            error = "unexpected text after the literal at byte " + std::to_string(i_);
            return false;
        }
        return true;
    }

  private:
    static constexpr int kMaxDepth = 32;
    static constexpr std::size_t kMaxItems = 100000;

    void skip_space() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' ||
                                  s_[i_] == '\r' || s_[i_] == '\f'))
            ++i_;
    }
    bool fail(std::string message) {
        if (error_.empty()) error_ = std::move(message) + " at byte " + std::to_string(i_);
        return false;
    }
    bool value(Literal& out, int depth) {
        if (depth > kMaxDepth) return fail("literal nested too deeply");
        skip_space();
        if (i_ >= s_.size()) return fail("the header ends inside a literal");
        const char c = s_[i_];
        if (c == '{') return sequence(out, Literal::Type::Dict, '}', depth);
        if (c == '(') return sequence(out, Literal::Type::Tuple, ')', depth);
        if (c == '[') return sequence(out, Literal::Type::List, ']', depth);
        if (c == '\'' || c == '"') return string(out);
        if ((c == 'u' || c == 'b') && i_ + 1 < s_.size() &&
            (s_[i_ + 1] == '\'' || s_[i_ + 1] == '"')) {
            ++i_;
            return string(out);
        }
        if (c == '-' || c == '+' || std::isdigit(static_cast<unsigned char>(c)))
            return integer(out);
        for (const auto& [word, type, n] : {std::tuple{"True", Literal::Type::Bool, 1},
                                            std::tuple{"False", Literal::Type::Bool, 0},
                                            std::tuple{"None", Literal::Type::None, 0}}) {
            const std::string_view w(word);
            if (s_.substr(i_, w.size()) == w &&
                (i_ + w.size() == s_.size() ||
                 !std::isalnum(static_cast<unsigned char>(s_[i_ + w.size()])))) {
                i_ += w.size();
                out.type = type;
                out.number = n;
                return true;
            }
        }
        return fail("not a literal (a name, call or expression)");
    }
    bool sequence(Literal& out, Literal::Type type, char close, int depth) {
        ++i_;
        out.type = type;
        bool first = true;
        bool trailing_comma = false;
        while (true) {
            skip_space();
            if (i_ < s_.size() && s_[i_] == close) {
                ++i_;
                // (x) is x, not a tuple; (x,) and () are tuples.
                if (type == Literal::Type::Tuple && out.items.size() == 1 && !trailing_comma) {
                    Literal inner = std::move(out.items.front());
                    out = std::move(inner);
                }
                return true;
            }
            if (!first) {
                if (i_ >= s_.size() || s_[i_] != ',') return fail("expected ','");
                ++i_;
                trailing_comma = true;
                skip_space();
                if (i_ < s_.size() && s_[i_] == close) continue;
            }
            first = false;
            trailing_comma = false;
            if (out.items.size() >= kMaxItems) return fail("too many items");
            out.items.emplace_back();
            if (!value(out.items.back(), depth + 1)) return false;
            if (type == Literal::Type::Dict) {
                skip_space();
                if (i_ >= s_.size() || s_[i_] != ':') return fail("expected ':'");
                ++i_;
                out.items.emplace_back();
                if (!value(out.items.back(), depth + 1)) return false;
            }
        }
    }
    bool string(Literal& out) {
        const char quote = s_[i_++];
        out.type = Literal::Type::Str;
        while (i_ < s_.size() && s_[i_] != quote) {
            char c = s_[i_++];
            if (c == '\\' && i_ < s_.size()) c = s_[i_++];  // escapes kept literally enough
            if (c == '\n') return fail("newline inside a string");
            out.text.push_back(c);
        }
        if (i_ >= s_.size()) return fail("unterminated string");
        ++i_;
        return true;
    }
    bool integer(Literal& out) {
        const std::size_t start = i_;
        if (s_[i_] == '-' || s_[i_] == '+') ++i_;
        std::int64_t v = 0;
        bool any = false;
        while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) {
            if (v > (INT64_MAX - 9) / 10) return fail("integer too large");
            v = v * 10 + (s_[i_++] - '0');
            any = true;
        }
        if (!any) return fail("expected digits");
        if (i_ < s_.size() && (s_[i_] == 'L' || s_[i_] == 'l')) ++i_;  // Python 2 long
        if (i_ < s_.size() && (s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E' || s_[i_] == 'j'))
            return fail("not an integer");
        out.type = Literal::Type::Int;
        out.number = s_[start] == '-' ? -v : v;
        return true;
    }

    std::string_view s_;
    std::size_t i_ = 0;
    std::string error_;
};

const Literal* dict_get(const Literal& dict, std::string_view key) {
    for (std::size_t i = 0; i + 1 < dict.items.size(); i += 2) {
        if (dict.items[i].type == Literal::Type::Str && dict.items[i].text == key)
            return &dict.items[i + 1];
    }
    return nullptr;
}

std::string render(const Literal& v) {
    switch (v.type) {
        case Literal::Type::None:
            return "None";
        case Literal::Type::Bool:
            return v.number ? "True" : "False";
        case Literal::Type::Int:
            return std::to_string(v.number);
        case Literal::Type::Str:
            return "'" + v.text + "'";
        default:
            break;
    }
    const bool dict = v.type == Literal::Type::Dict;
    std::string s = dict ? "{" : v.type == Literal::Type::List ? "[" : "(";
    for (std::size_t i = 0; i < v.items.size() && s.size() < 200; ++i) {
        if (i) s += dict && i % 2 ? ": " : ", ";
        s += render(v.items[i]);
    }
    s += dict ? "}" : v.type == Literal::Type::List ? "]" : ")";
    return s;
}

/// Bytes per element and whether it holds objects, for a dtype descr (a type string such as
/// '<f4', '|O', '<U10', '<M8[ns]', or a structured list). nullopt size if not understood.
struct DtypeInfo {
    std::optional<std::uint64_t> itemsize;
    bool has_object = false;
};

DtypeInfo dtype_info(const Literal& descr, int depth = 0) {
    DtypeInfo info;
    if (depth > 16) return info;
    if (descr.type == Literal::Type::Str) {
        std::string_view t = descr.text;
        if (!t.empty() && std::string_view("<>|=!").find(t.front()) != std::string_view::npos)
            t.remove_prefix(1);
        if (t.empty()) return info;
        const char code = t.front();
        t.remove_prefix(1);
        if (code == 'O') {
            info.has_object = true;
            info.itemsize = 8;
            return info;
        }
        std::uint64_t n = 0;
        bool digits = false;
        while (!t.empty() && std::isdigit(static_cast<unsigned char>(t.front()))) {
            if (n > 1u << 30) return info;
            n = n * 10 + static_cast<std::uint64_t>(t.front() - '0');
            t.remove_prefix(1);
            digits = true;
        }
        if (!t.empty() && t.front() == '[') {  // datetime unit: '<M8[ns]'
            const auto close = t.find(']');
            if (close == std::string_view::npos) return info;
            t.remove_prefix(close + 1);
        }
        if (!t.empty()) return info;
        switch (code) {
            case '?':
            case 'b':
            case 'B':
                info.itemsize = digits ? n : 1;
                break;
            case 'U':
                if (digits) info.itemsize = 4 * n;
                break;
            case 'i':
            case 'u':
            case 'f':
            case 'c':
            case 'S':
            case 'a':
            case 'V':
            case 'M':
            case 'm':
                if (digits) info.itemsize = n;
                break;
            default:
                break;
        }
        return info;
    }
    if (descr.type == Literal::Type::List) {
        // Structured: [(name, descr), (name, descr, shape), ...]; name may be (title, name).
        std::uint64_t total = 0;
        bool known = true;
        for (const auto& field : descr.items) {
            if (field.type != Literal::Type::Tuple || field.items.size() < 2 ||
                field.items.size() > 3)
                return DtypeInfo{};
            const DtypeInfo sub = dtype_info(field.items[1], depth + 1);
            info.has_object = info.has_object || sub.has_object;
            std::uint64_t count = 1;
            if (field.items.size() == 3) {
                const Literal& shape = field.items[2];
                if (shape.type == Literal::Type::Int) {
                    count = shape.number < 0 ? 0 : static_cast<std::uint64_t>(shape.number);
                } else if (shape.type == Literal::Type::Tuple) {
                    for (const auto& d : shape.items) {
                        if (d.type != Literal::Type::Int || d.number < 0) return DtypeInfo{};
                        const auto dim = static_cast<std::uint64_t>(d.number);
                        if (dim && count > UINT64_MAX / dim) return DtypeInfo{};
                        count *= dim;
                    }
                } else {
                    return DtypeInfo{};
                }
            }
            if (!sub.itemsize) {
                known = false;
            } else if (count && *sub.itemsize > (UINT64_MAX - total) / count) {
                known = false;
            } else {
                total += *sub.itemsize * count;
            }
        }
        if (known) info.itemsize = total;
        return info;
    }
    return info;
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
    Literal dict;
    std::string why;
    LiteralParser parser(text);
    auto shown = [&text] {
        std::string s = text.substr(0, 160);
        for (char& c : s)
            if (static_cast<unsigned char>(c) < 0x20) c = ' ';
        return s + (text.size() > 160 ? "..." : "");
    };
    if (!parser.parse(dict, why)) {
        error = "the header is not a Python literal (" + why + "): " + shown();
        return std::nullopt;
    }
    if (dict.type != Literal::Type::Dict) {
        error = "the header is not a dict: " + shown();
        return std::nullopt;
    }
    const Literal* descr = dict_get(dict, "descr");
    const Literal* order = dict_get(dict, "fortran_order");
    const Literal* shape = dict_get(dict, "shape");
    if (!descr || !order || !shape || dict.items.size() != 6) {
        error =
            "the header does not have exactly the keys descr, fortran_order and shape: " + shown();
        return std::nullopt;
    }
    if (order->type != Literal::Type::Bool) {
        error = "fortran_order is not True or False: " + render(*order);
        return std::nullopt;
    }
    h.fortran_order = order->number != 0;
    if (shape->type != Literal::Type::Tuple && shape->type != Literal::Type::Int) {
        error = "shape is not a tuple of integers: " + render(*shape);
        return std::nullopt;
    }
    if (shape->type == Literal::Type::Int) {  // (3) is 3: numpy rejects it too
        error = "shape is not a tuple of integers: " + render(*shape);
        return std::nullopt;
    }
    for (const auto& d : shape->items) {
        if (d.type != Literal::Type::Int || d.number < 0) {
            error = "shape is not a tuple of non-negative integers: " + render(*shape);
            return std::nullopt;
        }
        h.shape.push_back(static_cast<std::uint64_t>(d.number));
    }
    h.descr = descr->type == Literal::Type::Str ? descr->text : render(*descr);
    const DtypeInfo info = dtype_info(*descr);
    h.has_object = info.has_object;
    h.itemsize = info.itemsize;
    if (!h.has_object && !h.itemsize) {
        error = "dtype " + render(*descr) + " is not one mscan understands";
        return std::nullopt;
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
    return h && !h->has_object && h->data_offset <= head.size();
}

void parse(Source& source, const ParseContext& context) {
    std::string error;
    const auto h = parse_header(source, error);
    if (!h) {
        context.anomaly("numpy.malformed", "numpy.load refuses this file: " + error, 0);
        return;
    }
    if (h->has_object) {
        context.anomaly("numpy.object-array",
                        "dtype " + h->descr +
                            " holds Python objects: numpy.load(allow_pickle=True) unpickles the "
                            "data that follows the header",
                        static_cast<std::int64_t>(h->data_offset));
        if (h->data_offset >= source.size()) {
            context.anomaly("numpy.malformed", "an object array with no pickle after the header",
                            static_cast<std::int64_t>(h->data_offset));
            return;
        }
        ByteReader reader(source, h->data_offset);
        pickle::MachineOptions options;
        options.multiple_streams = false;  // numpy.load reads one pickle
        pickle::scan_pickle(reader, context.base(), context.sink(), options);
        return;
    }
    std::uint64_t count = 1;
    bool overflow = false;
    for (const auto d : h->shape) {
        if (d && count > UINT64_MAX / d) overflow = true;
        count *= d;
    }
    const std::uint64_t available = source.size() - std::min(h->data_offset, source.size());
    if (overflow || (*h->itemsize && count > UINT64_MAX / *h->itemsize) ||
        count * *h->itemsize > available) {
        context.anomaly("numpy.malformed",
                        "the header declares " +
                            (overflow ? std::string("more than 2^64") : std::to_string(count)) +
                            " elements of " + std::to_string(*h->itemsize) + " bytes, but only " +
                            std::to_string(available) + " bytes of data follow",
                        static_cast<std::int64_t>(h->data_offset));
    }
}

}  // namespace mscan::numpy
