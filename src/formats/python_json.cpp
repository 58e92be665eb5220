// Python's json grammar (Lib/json/decoder.py and Modules/_json.c, the C scanner json.loads
// uses): whitespace is space, tab, CR and LF; strings may not hold control characters (strict
// mode, the default); escapes are \" \\ \/ \b \f \n \r \t and \u with exactly four hex digits,
// a high surrogate followed by \u and a low one making one character; numbers are
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?, integers of any size; NaN, Infinity and
// -Infinity are numbers.
#include "formats/python_json.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <initializer_list>
#include <limits>
#include <vector>

#include "util/text_safety.h"

namespace mscan::pyjson {
namespace {

using json = nlohmann::json;

bool is_ws(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

class Parser {
  public:
    Parser(std::string_view text, json::json_sax_t& sax, int max_depth)
        : s_(text), sax_(sax), max_depth_(max_depth) {}

    Result run() {
        skip_ws();
        if (!value()) return result_;
        // Containers are closed as they end; the loop runs until the top value is done.
        while (!stack_.empty()) {
            if (!step()) return result_;
        }
        skip_ws();
        if (at_ < s_.size()) return fail("Extra data");
        result_.ok = true;
        return result_;
    }

  private:
    enum class Frame { Object, Array };

    Result& fail(std::string why) {
        if (result_.error.empty() && !result_.stopped) {
            result_.error = std::move(why);
            result_.offset = at_;
        }
        return result_;
    }
    bool stop(bool handler_ok) {
        if (!handler_ok) result_.stopped = true;
        return handler_ok;
    }
    void skip_ws() {
        while (at_ < s_.size() && is_ws(s_[at_]))
            ++at_;
    }
    bool literal(std::string_view word) {
        if (s_.substr(at_, word.size()) != word) return false;
        at_ += word.size();
        return true;
    }

    /// After a value inside the innermost container: a ',' and the next member, or its end.
    bool step() {
        skip_ws();
        if (at_ >= s_.size()) {
            fail(stack_.back() == Frame::Object ? "Expecting ',' delimiter or '}'"
                                                : "Expecting ',' delimiter or ']'");
            return false;
        }
        const char c = s_[at_];
        if (stack_.back() == Frame::Object) {
            if (c == '}') {
                ++at_;
                stack_.pop_back();
                return stop(sax_.end_object());
            }
            if (c != ',') return fail("Expecting ',' delimiter"), false;
            ++at_;
            skip_ws();
            return member();
        }
        if (c == ']') {
            ++at_;
            stack_.pop_back();
            return stop(sax_.end_array());
        }
        if (c != ',') return fail("Expecting ',' delimiter"), false;
        ++at_;
        skip_ws();
        return value();
    }

    /// A "key": value pair of an object (whitespace before it skipped).
    bool member() {
        if (at_ >= s_.size() || s_[at_] != '"')
            return fail("Expecting property name enclosed in double quotes"), false;
        ++at_;
        std::string key;
        if (!string_body(key)) return false;
        if (!stop(sax_.key(key))) return false;
        skip_ws();
        if (at_ >= s_.size() || s_[at_] != ':') return fail("Expecting ':' delimiter"), false;
        ++at_;
        skip_ws();
        return value();
    }

    /// One value; a container is opened (and its first member read), to be continued by
    /// step().
    bool value() {
        if (at_ >= s_.size()) return fail("Expecting value"), false;
        const char c = s_[at_];
        switch (c) {
            case '{': {
                if (!open()) return false;
                ++at_;
                if (!stop(sax_.start_object(static_cast<std::size_t>(-1)))) return false;
                stack_.push_back(Frame::Object);
                skip_ws();
                if (at_ < s_.size() && s_[at_] == '}') {
                    ++at_;
                    stack_.pop_back();
                    return stop(sax_.end_object());
                }
                return member();
            }
            case '[': {
                if (!open()) return false;
                ++at_;
                if (!stop(sax_.start_array(static_cast<std::size_t>(-1)))) return false;
                stack_.push_back(Frame::Array);
                skip_ws();
                if (at_ < s_.size() && s_[at_] == ']') {
                    ++at_;
                    stack_.pop_back();
                    return stop(sax_.end_array());
                }
                return value();
            }
            case '"': {
                ++at_;
                std::string text;
                if (!string_body(text)) return false;
                return stop(sax_.string(text));
            }
            case 'n':
                if (literal("null")) return stop(sax_.null());
                break;
            case 't':
                if (literal("true")) return stop(sax_.boolean(true));
                break;
            case 'f':
                if (literal("false")) return stop(sax_.boolean(false));
                break;
            case 'N':
                if (literal("NaN"))
                    return stop(sax_.number_float(std::numeric_limits<double>::quiet_NaN(), "NaN"));
                break;
            case 'I':
                if (literal("Infinity"))
                    return stop(
                        sax_.number_float(std::numeric_limits<double>::infinity(), "Infinity"));
                break;
            default:
                if (c == '-' || (c >= '0' && c <= '9')) return number();
                break;
        }
        return fail("Expecting value"), false;
    }

    bool open() {
        if (static_cast<int>(stack_.size()) >= max_depth_) {
            result_.too_deep = true;
            fail("nested deeper than " + std::to_string(max_depth_) + " levels");
            return false;
        }
        return true;
    }

    bool number() {
        const std::size_t start = at_;
        if (s_[at_] == '-') {
            ++at_;
            if (literal("Infinity"))
                return stop(
                    sax_.number_float(-std::numeric_limits<double>::infinity(), "-Infinity"));
        }
        auto digits = [&] {
            const std::size_t from = at_;
            while (at_ < s_.size() && s_[at_] >= '0' && s_[at_] <= '9')
                ++at_;
            return at_ - from;
        };
        if (at_ >= s_.size() || s_[at_] < '0' || s_[at_] > '9') {
            at_ = start;
            return fail("Expecting value"), false;
        }
        if (s_[at_] == '0')
            ++at_;
        else
            digits();
        bool is_float = false;
        // A fraction or exponent without digits is not part of the number (Python stops
        // before it, and what follows is then "Extra data" or a missing delimiter).
        if (at_ + 1 < s_.size() && s_[at_] == '.' && s_[at_ + 1] >= '0' && s_[at_ + 1] <= '9') {
            ++at_;
            digits();
            is_float = true;
        }
        if (at_ < s_.size() && (s_[at_] == 'e' || s_[at_] == 'E')) {
            std::size_t e = at_ + 1;
            if (e < s_.size() && (s_[e] == '+' || s_[e] == '-')) ++e;
            if (e < s_.size() && s_[e] >= '0' && s_[e] <= '9') {
                at_ = e;
                digits();
                is_float = true;
            }
        }
        const std::string token(s_.substr(start, at_ - start));
        if (!is_float) {
            errno = 0;
            char* end = nullptr;
            if (token[0] == '-') {
                const long long v = std::strtoll(token.c_str(), &end, 10);
                if (errno == 0) return stop(sax_.number_integer(v));
            } else {
                const unsigned long long v = std::strtoull(token.c_str(), &end, 10);
                if (errno == 0) return stop(sax_.number_unsigned(v));
            }
            // An integer larger than 64 bits (Python's are unbounded): kept as a float.
        }
        return stop(sax_.number_float(std::strtod(token.c_str(), nullptr), token));
    }

    /// The rest of a string after its opening quote, decoded into `out`.
    bool string_body(std::string& out) {
        for (;;) {
            const std::size_t from = at_;
            while (at_ < s_.size() && s_[at_] != '"' && s_[at_] != '\\' &&
                   static_cast<unsigned char>(s_[at_]) >= 0x20)
                ++at_;
            out.append(s_.substr(from, at_ - from));
            if (at_ >= s_.size()) return fail("Unterminated string starting at"), false;
            const char c = s_[at_];
            if (c == '"') {
                ++at_;
                return true;
            }
            if (c != '\\') return fail("Invalid control character at"), false;
            ++at_;
            if (at_ >= s_.size()) return fail("Unterminated string starting at"), false;
            const char e = s_[at_++];
            switch (e) {
                case '"':
                case '\\':
                case '/':
                    out += e;
                    break;
                case 'b':
                    out += '\b';
                    break;
                case 'f':
                    out += '\f';
                    break;
                case 'n':
                    out += '\n';
                    break;
                case 'r':
                    out += '\r';
                    break;
                case 't':
                    out += '\t';
                    break;
                case 'u': {
                    std::uint32_t cp = 0;
                    if (!hex4(cp)) return false;
                    // A high surrogate followed by an escaped low one is one character.
                    if (cp >= 0xd800 && cp <= 0xdbff && at_ + 1 < s_.size() && s_[at_] == '\\' &&
                        s_[at_ + 1] == 'u') {
                        const std::size_t back = at_;
                        at_ += 2;
                        std::uint32_t low = 0;
                        if (!hex4(low)) return false;
                        if (low >= 0xdc00 && low <= 0xdfff)
                            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
                        else
                            at_ = back;  // the second escape stands on its own
                    }
                    append_utf8(out, cp);
                    break;
                }
                default:
                    --at_;
                    return fail("Invalid \\escape"), false;
            }
        }
    }

    bool hex4(std::uint32_t& cp) {
        if (s_.size() - at_ < 4) return fail("Invalid \\uXXXX escape"), false;
        cp = 0;
        for (int i = 0; i < 4; ++i) {
            const int h =
                hex_value(static_cast<unsigned char>(s_[at_ + static_cast<std::size_t>(i)]));
            if (h < 0) return fail("Invalid \\uXXXX escape"), false;
            cp = cp << 4 | static_cast<std::uint32_t>(h);
        }
        at_ += 4;
        return true;
    }

    std::string_view s_;
    json::json_sax_t& sax_;
    int max_depth_;
    std::size_t at_ = 0;
    std::vector<Frame> stack_;
    Result result_;
};

/// Builds the document (duplicate keys: the last value wins, as in a Python dict).
// Its implicit destructor destroys `root`, whose destructor clang-tidy 14 sees as possibly
// throwing (nlohmann::json flattens nested values into a vector while destroying); out of
// memory there ends the process either way.
// NOLINTNEXTLINE(bugprone-exception-escape)
class DomBuilder final : public json::json_sax_t {
  public:
    json root;

    bool null() override { return add(json()); }
    bool boolean(bool v) override { return add(json(v)); }
    bool number_integer(number_integer_t v) override { return add(json(v)); }
    bool number_unsigned(number_unsigned_t v) override { return add(json(v)); }
    bool number_float(number_float_t v, const string_t&) override { return add(json(v)); }
    bool string(string_t& v) override { return add(json(std::move(v))); }
    bool binary(binary_t&) override { return add(json()); }
    bool start_object(std::size_t) override { return open(json::object()); }
    bool start_array(std::size_t) override { return open(json::array()); }
    bool end_object() override { return close(); }
    bool end_array() override { return close(); }
    bool key(string_t& k) override {
        key_ = std::move(k);
        return true;
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
        return false;
    }

  private:
    json* place(json v) {
        if (stack_.empty()) {
            root = std::move(v);
            return &root;
        }
        json& top = *stack_.back();
        if (top.is_array()) {
            top.push_back(std::move(v));
            return &top.back();
        }
        json& slot = top[key_];
        slot = std::move(v);
        return &slot;
    }
    bool add(json v) {
        place(std::move(v));
        return true;
    }
    bool open(json container) {
        stack_.push_back(place(std::move(container)));
        return true;
    }
    bool close() {
        stack_.pop_back();
        return true;
    }

    std::vector<json*> stack_;
    std::string key_;
};

/// Sees keys only (for_each_key).
class KeyWatcher final : public json::json_sax_t {
  public:
    explicit KeyWatcher(const std::function<bool(const std::string&, int)>& on_key)
        : on_key_(on_key) {}
    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override {
        ++depth_;
        return true;
    }
    bool start_array(std::size_t) override {
        ++depth_;
        return true;
    }
    bool end_object() override {
        --depth_;
        return true;
    }
    bool end_array() override {
        --depth_;
        return true;
    }
    bool key(string_t& k) override { return on_key_(k, depth_); }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
        return false;
    }

  private:
    const std::function<bool(const std::string&, int)>& on_key_;
    int depth_ = 0;
};

}  // namespace

Result for_each_key(std::string_view text,
                    const std::function<bool(const std::string& key, int depth)>& on_key,
                    int max_depth) {
    KeyWatcher watcher(on_key);
    return parse(text, watcher, max_depth);
}

Encoding detect_encoding(std::span<const std::uint8_t> b) {
    auto starts = [&b](std::initializer_list<std::uint8_t> bom) {
        return b.size() >= bom.size() && std::equal(bom.begin(), bom.end(), b.begin());
    };
    if (starts({0x00, 0x00, 0xfe, 0xff})) return Encoding::Utf32Be;
    if (starts({0xff, 0xfe, 0x00, 0x00})) return Encoding::Utf32Le;
    if (starts({0xfe, 0xff})) return Encoding::Utf16Be;
    if (starts({0xff, 0xfe})) return Encoding::Utf16Le;
    if (starts({0xef, 0xbb, 0xbf})) return Encoding::Utf8Bom;
    if (b.size() >= 4) {
        if (b[0] == 0) return b[1] ? Encoding::Utf16Be : Encoding::Utf32Be;
        if (b[1] == 0) return b[2] || b[3] ? Encoding::Utf16Le : Encoding::Utf32Le;
    } else if (b.size() == 2) {
        if (b[0] == 0) return Encoding::Utf16Be;
        if (b[1] == 0) return Encoding::Utf16Le;
    }
    return Encoding::Utf8;
}

std::optional<std::string> decode(std::span<const std::uint8_t> b, std::string& error) {
    const Encoding enc = detect_encoding(b);
    if (enc == Encoding::Utf8) return std::string(b.begin(), b.end());
    if (enc == Encoding::Utf8Bom) return std::string(b.begin() + 3, b.end());
    const bool wide = enc == Encoding::Utf32Le || enc == Encoding::Utf32Be;
    const bool big = enc == Encoding::Utf16Be || enc == Encoding::Utf32Be;
    const std::size_t unit = wide ? 4 : 2;
    std::size_t at = 0;
    // A BOM names the byte order and is dropped ('utf-16'/'utf-32' codecs).
    if (b.size() >= unit) {
        if (enc == Encoding::Utf32Be && b[0] == 0 && b[1] == 0 && b[2] == 0xfe && b[3] == 0xff)
            at = unit;
        if (enc == Encoding::Utf32Le && b[0] == 0xff && b[1] == 0xfe && b[2] == 0 && b[3] == 0)
            at = unit;
        if (enc == Encoding::Utf16Be && b[0] == 0xfe && b[1] == 0xff) at = unit;
        if (enc == Encoding::Utf16Le && b[0] == 0xff && b[1] == 0xfe) at = unit;
    }
    if ((b.size() - at) % unit != 0) {
        error = "truncated data: not a whole number of " + std::to_string(unit) + "-byte units";
        return std::nullopt;
    }
    auto unit_at = [&](std::size_t i) -> std::uint32_t {
        std::uint32_t v = 0;
        for (std::size_t k = 0; k < unit; ++k) {
            const std::uint32_t byte = b[i + (big ? k : unit - 1 - k)];
            v = v << 8 | byte;
        }
        return v;
    };
    std::string out;
    out.reserve((b.size() - at) / unit);
    while (at < b.size()) {
        std::uint32_t cp = unit_at(at);
        at += unit;
        if (wide) {
            if (cp > 0x10ffff) {
                error = "code point out of range in UTF-32 text";
                return std::nullopt;
            }
        } else if (cp >= 0xd800 && cp <= 0xdbff && at + 2 <= b.size()) {
            const std::uint32_t low = unit_at(at);
            if (low >= 0xdc00 && low <= 0xdfff) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
                at += 2;
            }
        }
        append_utf8(out, cp);
    }
    return out;
}

Result parse(std::string_view text, json::json_sax_t& sax, int max_depth) {
    return Parser(text, sax, max_depth).run();
}

std::optional<json> parse_value(std::string_view text, Result& result, int max_depth) {
    DomBuilder dom;
    result = parse(text, dom, max_depth);
    if (!result.ok) return std::nullopt;
    return std::move(dom.root);
}

bool starts_like_json(std::string_view text, bool object_only) {
    std::size_t at = 0;
    while (at < text.size() && is_ws(text[at]))
        ++at;
    return at < text.size() && (text[at] == '{' || (!object_only && text[at] == '['));
}

bool starts_like_json(Source& source, bool object_only) {
    auto head =
        source.view(0, static_cast<std::size_t>(std::min<std::uint64_t>(source.size(), 4096)));
    // Whole code units only: the view may cut a UTF-16 or UTF-32 character.
    const Encoding encoding = detect_encoding(head);
    const std::size_t unit = encoding == Encoding::Utf16Le || encoding == Encoding::Utf16Be   ? 2
                             : encoding == Encoding::Utf32Le || encoding == Encoding::Utf32Be ? 4
                                                                                              : 1;
    head = head.first(head.size() - head.size() % unit);
    std::string error;
    const auto text = decode(head, error);
    return text && starts_like_json(*text, object_only);
}

}  // namespace mscan::pyjson
