// Python literal syntax as CPython's tokenizer and ast.literal_eval read it (Python 3.11:
// Parser/tokenizer.c, Parser/string_parser.c, Lib/ast.py literal_eval), for numpy's .npy
// header. The text is decoded to code points first (latin1 or UTF-8, as numpy decodes it).
#include "formats/npy/py_literal.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <utility>

namespace mscan::numpy {
namespace {

/// Python's names for the printable ASCII characters (unicodedata.name), for \N{...}.
struct CharName {
    std::string_view name;
    char32_t code;
};
constexpr std::array<CharName, 95> kAsciiNames = {{
    {"AMPERSAND", 0x26},
    {"APOSTROPHE", 0x27},
    {"ASTERISK", 0x2a},
    {"CIRCUMFLEX ACCENT", 0x5e},
    {"COLON", 0x3a},
    {"COMMA", 0x2c},
    {"COMMERCIAL AT", 0x40},
    {"DIGIT EIGHT", 0x38},
    {"DIGIT FIVE", 0x35},
    {"DIGIT FOUR", 0x34},
    {"DIGIT NINE", 0x39},
    {"DIGIT ONE", 0x31},
    {"DIGIT SEVEN", 0x37},
    {"DIGIT SIX", 0x36},
    {"DIGIT THREE", 0x33},
    {"DIGIT TWO", 0x32},
    {"DIGIT ZERO", 0x30},
    {"DOLLAR SIGN", 0x24},
    {"EQUALS SIGN", 0x3d},
    {"EXCLAMATION MARK", 0x21},
    {"FULL STOP", 0x2e},
    {"GRAVE ACCENT", 0x60},
    {"GREATER-THAN SIGN", 0x3e},
    {"HYPHEN-MINUS", 0x2d},
    {"LATIN CAPITAL LETTER A", 0x41},
    {"LATIN CAPITAL LETTER B", 0x42},
    {"LATIN CAPITAL LETTER C", 0x43},
    {"LATIN CAPITAL LETTER D", 0x44},
    {"LATIN CAPITAL LETTER E", 0x45},
    {"LATIN CAPITAL LETTER F", 0x46},
    {"LATIN CAPITAL LETTER G", 0x47},
    {"LATIN CAPITAL LETTER H", 0x48},
    {"LATIN CAPITAL LETTER I", 0x49},
    {"LATIN CAPITAL LETTER J", 0x4a},
    {"LATIN CAPITAL LETTER K", 0x4b},
    {"LATIN CAPITAL LETTER L", 0x4c},
    {"LATIN CAPITAL LETTER M", 0x4d},
    {"LATIN CAPITAL LETTER N", 0x4e},
    {"LATIN CAPITAL LETTER O", 0x4f},
    {"LATIN CAPITAL LETTER P", 0x50},
    {"LATIN CAPITAL LETTER Q", 0x51},
    {"LATIN CAPITAL LETTER R", 0x52},
    {"LATIN CAPITAL LETTER S", 0x53},
    {"LATIN CAPITAL LETTER T", 0x54},
    {"LATIN CAPITAL LETTER U", 0x55},
    {"LATIN CAPITAL LETTER V", 0x56},
    {"LATIN CAPITAL LETTER W", 0x57},
    {"LATIN CAPITAL LETTER X", 0x58},
    {"LATIN CAPITAL LETTER Y", 0x59},
    {"LATIN CAPITAL LETTER Z", 0x5a},
    {"LATIN SMALL LETTER A", 0x61},
    {"LATIN SMALL LETTER B", 0x62},
    {"LATIN SMALL LETTER C", 0x63},
    {"LATIN SMALL LETTER D", 0x64},
    {"LATIN SMALL LETTER E", 0x65},
    {"LATIN SMALL LETTER F", 0x66},
    {"LATIN SMALL LETTER G", 0x67},
    {"LATIN SMALL LETTER H", 0x68},
    {"LATIN SMALL LETTER I", 0x69},
    {"LATIN SMALL LETTER J", 0x6a},
    {"LATIN SMALL LETTER K", 0x6b},
    {"LATIN SMALL LETTER L", 0x6c},
    {"LATIN SMALL LETTER M", 0x6d},
    {"LATIN SMALL LETTER N", 0x6e},
    {"LATIN SMALL LETTER O", 0x6f},
    {"LATIN SMALL LETTER P", 0x70},
    {"LATIN SMALL LETTER Q", 0x71},
    {"LATIN SMALL LETTER R", 0x72},
    {"LATIN SMALL LETTER S", 0x73},
    {"LATIN SMALL LETTER T", 0x74},
    {"LATIN SMALL LETTER U", 0x75},
    {"LATIN SMALL LETTER V", 0x76},
    {"LATIN SMALL LETTER W", 0x77},
    {"LATIN SMALL LETTER X", 0x78},
    {"LATIN SMALL LETTER Y", 0x79},
    {"LATIN SMALL LETTER Z", 0x7a},
    {"LEFT CURLY BRACKET", 0x7b},
    {"LEFT PARENTHESIS", 0x28},
    {"LEFT SQUARE BRACKET", 0x5b},
    {"LESS-THAN SIGN", 0x3c},
    {"LOW LINE", 0x5f},
    {"NUMBER SIGN", 0x23},
    {"PERCENT SIGN", 0x25},
    {"PLUS SIGN", 0x2b},
    {"QUESTION MARK", 0x3f},
    {"QUOTATION MARK", 0x22},
    {"REVERSE SOLIDUS", 0x5c},
    {"RIGHT CURLY BRACKET", 0x7d},
    {"RIGHT PARENTHESIS", 0x29},
    {"RIGHT SQUARE BRACKET", 0x5d},
    {"SEMICOLON", 0x3b},
    {"SOLIDUS", 0x2f},
    {"SPACE", 0x20},
    {"TILDE", 0x7e},
    {"VERTICAL LINE", 0x7c},
}};

/// Nesting and size bounds: numpy's own headers are one flat dict of a few hundred bytes.
constexpr int kMaxDepth = 64;
constexpr std::size_t kMaxItems = 1u << 20;

bool is_space(char32_t c) {
    return c == ' ' || c == '\t' || c == '\f';
}
bool is_newline(char32_t c) {
    return c == '\n' || c == '\r';
}
bool is_digit(char32_t c) {
    return c >= '0' && c <= '9';
}
bool is_ident(char32_t c) {
    return c == '_' || (c < 0x80 && std::isalnum(static_cast<unsigned char>(c))) || c >= 0x80;
}
int hex_value(char32_t c) {
    if (c >= '0' && c <= '9') return static_cast<int>(c - '0');
    if (c >= 'a' && c <= 'f') return static_cast<int>(c - 'a' + 10);
    if (c >= 'A' && c <= 'F') return static_cast<int>(c - 'A' + 10);
    return -1;
}

void append_utf8(std::string& out, char32_t c) {
    if (c < 0x80) {
        out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
        out.push_back(static_cast<char>(0xc0 | (c >> 6)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
    } else if (c < 0x10000) {
        out.push_back(static_cast<char>(0xe0 | (c >> 12)));
        out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
    } else {
        out.push_back(static_cast<char>(0xf0 | (c >> 18)));
        out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
    }
}

/// Decodes strict UTF-8 (no surrogates, no overlongs), as Python's bytes.decode('utf8').
bool decode_utf8(std::string_view s, std::vector<char32_t>& out) {
    for (std::size_t i = 0; i < s.size();) {
        const auto b = static_cast<unsigned char>(s[i]);
        std::size_t n = 0;
        char32_t c = 0;
        if (b < 0x80) {
            c = b;
        } else if (b >= 0xc2 && b <= 0xdf) {
            n = 1, c = b & 0x1f;
        } else if (b >= 0xe0 && b <= 0xef) {
            n = 2, c = b & 0x0f;
        } else if (b >= 0xf0 && b <= 0xf4) {
            n = 3, c = b & 0x07;
        } else {
            return false;
        }
        if (i + n >= s.size() && n) return false;
        for (std::size_t k = 1; k <= n; ++k) {
            const auto t = static_cast<unsigned char>(s[i + k]);
            if ((t & 0xc0) != 0x80) return false;
            c = (c << 6) | (t & 0x3f);
        }
        if ((n == 2 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
            (n == 3 && (c < 0x10000 || c > 0x10ffff)))
            return false;
        out.push_back(c);
        i += n + 1;
    }
    return true;
}

class Parser {
  public:
    Parser(std::vector<char32_t> text, const PyLiteralOptions& options)
        : s_(std::move(text)), options_(options) {}

    bool parse(PyValue& out, std::string& error) {
        skip_space();
        if (expression(out, 0)) {
            skip_space();
            if (i_ != s_.size()) fail("unexpected text after the literal");
        }
        if (!error_.empty()) {
            error = error_;
            return false;
        }
        return true;
    }

  private:
    bool at_end() const { return i_ >= s_.size(); }
    char32_t peek(std::size_t ahead = 0) const {
        return i_ + ahead < s_.size() ? s_[i_ + ahead] : 0;
    }
    bool fail(const std::string& message) {
        if (error_.empty()) error_ = message + " at character " + std::to_string(i_);
        return false;
    }

    /// Blanks, newlines (the literal that matters is inside brackets, where newlines are
    /// blanks), comments and backslash line continuations.
    void skip_space() {
        while (!at_end()) {
            const char32_t c = peek();
            if (is_space(c) || is_newline(c)) {
                ++i_;
            } else if (c == '#') {
                while (!at_end() && !is_newline(peek()))
                    ++i_;
            } else if (c == '\\' && is_newline(peek(1))) {
                i_ += 2;
            } else {
                return;
            }
        }
    }

    bool expression(PyValue& out, int depth) {
        if (depth > kMaxDepth) return fail("literal nested too deeply");
        skip_space();
        if (at_end()) return fail("the text ends inside a literal");
        const char32_t c = peek();
        if (c == '{') return braces(out, depth);
        if (c == '[') return sequence(out, PyValue::Type::List, ']', depth);
        if (c == '(') return parenthesised(out, depth);
        if (c == '-' || c == '+' || is_digit(c) || (c == '.' && is_digit(peek(1))))
            return signed_number(out);
        if (c == '.' && peek(1) == '.' && peek(2) == '.') {
            i_ += 3;
            out.type = PyValue::Type::Ellipsis;
            return true;
        }
        if (c == '\'' || c == '"') return strings(out);
        if (is_ident(c)) return word(out);
        return fail("not a literal");
    }

    /// True, False, None, set(), or a string prefix; any other name is refused.
    bool word(PyValue& out) {
        const std::size_t start = i_;
        while (!at_end() && is_ident(peek()))
            ++i_;
        if ((peek() == '\'' || peek() == '"') && prefix_ok(start, i_)) {
            i_ = start;
            return strings(out);
        }
        const std::u32string w(s_.begin() + static_cast<std::ptrdiff_t>(start),
                               s_.begin() + static_cast<std::ptrdiff_t>(i_));
        if (w == U"True" || w == U"False") {
            out.type = PyValue::Type::Bool;
            out.number = w == U"True";
            return true;
        }
        if (w == U"None") {
            out.type = PyValue::Type::None;
            return true;
        }
        if (w == U"set") {  // literal_eval accepts set() for the empty set
            skip_space();
            if (peek() == '(') {
                ++i_;
                skip_space();
                if (peek() == ')') {
                    ++i_;
                    out.type = PyValue::Type::Set;
                    return true;
                }
            }
        }
        i_ = start;
        return fail("a name, not a literal");
    }

    /// '(' starts a tuple, or parenthesises one expression: (x) is x, (x,) and () are tuples.
    bool parenthesised(PyValue& out, int depth) {
        const std::size_t open = i_;
        ++i_;
        skip_space();
        if (peek() == ')') {
            ++i_;
            out.type = PyValue::Type::Tuple;
            return true;
        }
        PyValue first;
        if (!expression(first, depth + 1)) return false;
        skip_space();
        if (peek() == ')') {
            ++i_;
            out = std::move(first);
            return complex_tail(out);  // (1)+2j is a complex constant too
        }
        i_ = open;
        return sequence(out, PyValue::Type::Tuple, ')', depth);
    }

    bool braces(PyValue& out, int depth) {
        const std::size_t open = i_;
        ++i_;
        skip_space();
        if (peek() == '}') {
            ++i_;
            out.type = PyValue::Type::Dict;
            return true;
        }
        PyValue first;
        if (!expression(first, depth + 1)) return false;
        skip_space();
        const bool dict = peek() == ':';
        i_ = open;
        return sequence(out, dict ? PyValue::Type::Dict : PyValue::Type::Set, '}', depth);
    }

    bool sequence(PyValue& out, PyValue::Type type, char32_t close, int depth) {
        ++i_;
        out = PyValue{};
        out.type = type;
        bool first = true;
        while (true) {
            skip_space();
            if (!at_end() && peek() == close) {
                ++i_;
                return true;
            }
            if (!first) {
                if (peek() != ',') return fail("expected ','");
                ++i_;
                skip_space();
                if (!at_end() && peek() == close) {
                    ++i_;
                    return true;
                }
            }
            first = false;
            if (out.items.size() >= kMaxItems) return fail("too many items");
            out.items.emplace_back();
            if (!expression(out.items.back(), depth + 1)) return false;
            if (type == PyValue::Type::Dict) {
                skip_space();
                if (peek() != ':') return fail("expected ':'");
                ++i_;
                out.items.emplace_back();
                if (!expression(out.items.back(), depth + 1)) return false;
            }
        }
    }

    /// A number with an optional sign: literal_eval takes one + or - on an int, float or
    /// complex constant (parentheses around it allowed), and real +/- imaginary sums.
    bool signed_number(PyValue& out) {
        bool negative = false;
        std::size_t parens = 0;
        if (peek() == '-' || peek() == '+') {
            negative = peek() == '-';
            ++i_;
            skip_space();
            while (peek() == '(') {
                ++i_, ++parens;
                skip_space();
            }
        }
        if (!(is_digit(peek()) || (peek() == '.' && is_digit(peek(1)))))
            return fail("a sign must be followed by a number");
        bool imaginary = false;
        if (!number(out, imaginary)) return false;
        for (; parens; --parens) {
            skip_space();
            if (peek() != ')') return fail("expected ')'");
            ++i_;
        }
        if (negative && out.type == PyValue::Type::Int) out.number = -out.number;
        if (imaginary) {
            out = PyValue{};
            out.type = PyValue::Type::Float;
            return true;
        }
        return complex_tail(out);
    }

    /// `real + imag j` or `real - imag j`: a complex constant, which literal_eval folds.
    bool complex_tail(PyValue& out) {
        if (out.type != PyValue::Type::Int && out.type != PyValue::Type::Float) return true;
        const std::size_t save = i_;
        skip_space();
        if (peek() != '+' && peek() != '-') {
            i_ = save;
            return true;
        }
        ++i_;
        skip_space();
        PyValue imag;
        bool imaginary = false;
        if (!is_digit(peek()) && peek() != '.') return fail("not a literal");
        if (!number(imag, imaginary)) return false;
        if (!imaginary) return fail("only a complex number may follow '+' or '-'");
        out = PyValue{};
        out.type = PyValue::Type::Float;
        return true;
    }

    /// One number token: decimal, 0x/0o/0b ints with underscores, floats, imaginary.
    bool number(PyValue& out, bool& imaginary) {
        const std::size_t start = i_;
        std::string tok;
        while (!at_end()) {
            const char32_t c = peek();
            const bool hex = tok.size() > 1 && (tok[1] == 'x' || tok[1] == 'X');
            const bool exp_sign = (c == '+' || c == '-') && !tok.empty() && !hex &&
                                  (tok.back() == 'e' || tok.back() == 'E');
            const bool token_char =
                c < 0x80 && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.');
            if (!token_char && !exp_sign) break;
            tok.push_back(static_cast<char>(c));
            ++i_;
            if (tok.size() > 4096) return fail("number too long");
        }
        // Python 2's long suffix, which numpy's header filter drops for formats 1.0 and 2.0
        // (a name token "L" right after a number token).
        if (options_.drop_long_suffix) {
            if (tok.size() > 1 && tok.back() == 'L') {
                tok.pop_back();
            } else {
                const std::size_t save = i_;
                while (is_space(peek()))
                    ++i_;
                if (peek() == 'L' && !is_ident(peek(1))) {
                    ++i_;
                } else {
                    i_ = save;
                }
            }
        }
        imaginary = !tok.empty() && (tok.back() == 'j' || tok.back() == 'J');
        if (imaginary) tok.pop_back();
        if (!valid_underscores(tok)) {
            i_ = start;
            return fail("invalid number");
        }
        std::string digits;
        for (const char ch : tok)
            if (ch != '_') digits.push_back(ch);
        int base = 10;
        std::string_view body = digits;
        if (body.size() > 1 && body[0] == '0' &&
            std::string_view("xXoObB").find(body[1]) != std::string_view::npos) {
            const char b = static_cast<char>(std::tolower(static_cast<unsigned char>(body[1])));
            base = b == 'x' ? 16 : b == 'o' ? 8 : 2;
            body.remove_prefix(2);
            if (body.empty() || imaginary) {
                i_ = start;
                return fail("invalid number");
            }
        }
        const bool is_int = base != 10 || std::all_of(body.begin(), body.end(), [](char ch) {
                                return ch >= '0' && ch <= '9';
                            });
        if (is_int && !imaginary) {
            // Decimal ints other than zero may not start with 0 ("01" is a syntax error).
            if (base == 10 && body.size() > 1 && body[0] == '0' &&
                body.find_first_not_of('0') != std::string_view::npos) {
                i_ = start;
                return fail("leading zeros in a decimal integer");
            }
            return integer(out, body, base, start);
        }
        if (!valid_float(body)) {
            i_ = start;
            return fail("invalid number");
        }
        out.type = PyValue::Type::Float;
        return true;
    }

    bool integer(PyValue& out, std::string_view body, int base, std::size_t start) {
        out.type = PyValue::Type::Int;
        std::uint64_t v = 0;
        const auto b = static_cast<std::uint64_t>(base);
        for (const char ch : body) {
            const int d = hex_value(static_cast<unsigned char>(ch));
            if (d < 0 || d >= base) {
                i_ = start;
                return fail("invalid digit in a number");
            }
            const auto du = static_cast<std::uint64_t>(d);
            if (out.big || v > (static_cast<std::uint64_t>(INT64_MAX) - du) / b) {
                out.big = true;
                v = static_cast<std::uint64_t>(INT64_MAX);
            } else {
                v = v * b + du;
            }
        }
        out.number = static_cast<std::int64_t>(v);
        return true;
    }

    static bool valid_underscores(const std::string& tok) {
        for (std::size_t k = 0; k < tok.size(); ++k) {
            if (tok[k] != '_') continue;
            // Between two digits, or right after a base prefix ("0x_1f").
            const bool after_prefix =
                k == 2 && tok[0] == '0' &&
                std::string_view("xXoObB").find(tok[1]) != std::string_view::npos;
            if (k == 0 || k + 1 >= tok.size() ||
                !std::isxdigit(static_cast<unsigned char>(tok[k + 1])))
                return false;
            if (!after_prefix && !std::isxdigit(static_cast<unsigned char>(tok[k - 1])))
                return false;
        }
        return true;
    }

    static bool valid_float(std::string_view t) {
        std::size_t k = 0, int_digits = 0, frac_digits = 0;
        while (k < t.size() && std::isdigit(static_cast<unsigned char>(t[k])))
            ++k, ++int_digits;
        if (k < t.size() && t[k] == '.') {
            ++k;
            while (k < t.size() && std::isdigit(static_cast<unsigned char>(t[k])))
                ++k, ++frac_digits;
        }
        if (!int_digits && !frac_digits) return false;
        if (k < t.size() && (t[k] == 'e' || t[k] == 'E')) {
            ++k;
            if (k < t.size() && (t[k] == '+' || t[k] == '-')) ++k;
            std::size_t exp = 0;
            while (k < t.size() && std::isdigit(static_cast<unsigned char>(t[k])))
                ++k, ++exp;
            if (!exp) return false;
        }
        return k == t.size();
    }

    /// One or more adjacent string literals, concatenated (str with str, bytes with bytes).
    bool strings(PyValue& out) {
        bool first = true;
        while (true) {
            PyValue part;
            if (!string_literal(part)) return false;
            if (first) {
                out = std::move(part);
                first = false;
            } else {
                if (part.type != out.type) return fail("cannot mix bytes and str literals");
                out.text += part.text;
                out.ascii = out.ascii && part.ascii;
            }
            if (out.text.size() > kMaxItems) return fail("string too long");
            const std::size_t save = i_;
            skip_space();
            std::size_t k = i_;
            while (k < s_.size() && k - i_ < 2 && is_ident(s_[k]))
                ++k;
            if (k < s_.size() && (s_[k] == '\'' || s_[k] == '"') && prefix_ok(i_, k)) continue;
            i_ = save;
            return true;
        }
    }

    bool prefix_ok(std::size_t from, std::size_t to) const {
        if (to - from > 2) return false;
        std::string p;
        for (std::size_t k = from; k < to; ++k) {
            if (s_[k] >= 0x80) return false;
            p.push_back(static_cast<char>(std::tolower(static_cast<int>(s_[k]))));
        }
        return p.empty() || p == "r" || p == "u" || p == "b" || p == "br" || p == "rb" ||
               p == "f" || p == "fr" || p == "rf";
    }

    bool string_literal(PyValue& out) {
        bool raw = false, bytes = false;
        while (!at_end() && peek() != '\'' && peek() != '"') {
            const char32_t c = peek();
            if (c == 'r' || c == 'R') raw = true;
            if (c == 'b' || c == 'B') bytes = true;
            if (c == 'f' || c == 'F') return fail("an f-string is not a literal");
            ++i_;
        }
        const char32_t quote = peek();
        const bool triple = peek(1) == quote && peek(2) == quote;
        i_ += triple ? 3 : 1;
        out = PyValue{};
        out.type = bytes ? PyValue::Type::Bytes : PyValue::Type::Str;
        while (true) {
            if (at_end()) return fail("unterminated string");
            const char32_t c = peek();
            if (c == quote && (!triple || (peek(1) == quote && peek(2) == quote))) {
                i_ += triple ? 3 : 1;
                return true;
            }
            if (is_newline(c) && !triple) return fail("newline inside a string");
            if (bytes && c >= 0x80) return fail("bytes can only contain ASCII characters");
            if (c == '\\') {
                if (!escape(out, raw, bytes)) return false;
                continue;
            }
            put(out, c, bytes);
            ++i_;
            if (out.text.size() > kMaxItems) return fail("string too long");
        }
    }

    static void put(PyValue& out, char32_t c, bool bytes) {
        if (bytes) {
            out.text.push_back(static_cast<char>(c & 0xff));
            return;
        }
        if (c >= 0x80) out.ascii = false;
        append_utf8(out.text, c);
    }

    bool escape(PyValue& out, bool raw, bool bytes) {
        ++i_;  // the backslash
        if (at_end()) return fail("unterminated string");
        const char32_t c = peek();
        ++i_;
        if (raw) {
            // A raw string keeps the backslash; it only stops the next character from
            // ending the string (or the line).
            put(out, '\\', bytes);
            put(out, c, bytes);
            return true;
        }
        switch (c) {
            case '\n':
                return true;
            case '\r':
                if (peek() == '\n') ++i_;
                return true;
            case '\\':
            case '\'':
            case '"':
                put(out, c, bytes);
                return true;
            case 'a':
                put(out, 7, bytes);
                return true;
            case 'b':
                put(out, 8, bytes);
                return true;
            case 'f':
                put(out, 12, bytes);
                return true;
            case 'n':
                put(out, 10, bytes);
                return true;
            case 'r':
                put(out, 13, bytes);
                return true;
            case 't':
                put(out, 9, bytes);
                return true;
            case 'v':
                put(out, 11, bytes);
                return true;
            case 'x':
                return hex_escape(out, 2, bytes);
            default:
                break;
        }
        if (c >= '0' && c <= '7') {
            char32_t v = c - '0';
            for (int k = 0; k < 2 && peek() >= '0' && peek() <= '7'; ++k, ++i_)
                v = v * 8 + (peek() - '0');
            put(out, v, bytes);  // bytes keep the low 8 bits, as CPython 3.11 does
            return true;
        }
        if (!bytes && (c == 'u' || c == 'U')) return hex_escape(out, c == 'u' ? 4 : 8, false);
        if (!bytes && c == 'N') return named_escape(out);
        // An unknown escape keeps its backslash (a warning in Python, not an error).
        put(out, '\\', bytes);
        put(out, c, bytes);
        return true;
    }

    bool hex_escape(PyValue& out, int digits, bool bytes) {
        char32_t v = 0;
        for (int k = 0; k < digits; ++k) {
            const int d = hex_value(peek());
            if (d < 0) return fail("truncated \\x, \\u or \\U escape");
            v = v * 16 + static_cast<char32_t>(d);
            ++i_;
        }
        if (v > 0x10ffff) return fail("illegal Unicode character");
        put(out, v, bytes);
        return true;
    }

    bool named_escape(PyValue& out) {
        if (peek() != '{') return fail("malformed \\N character escape");
        ++i_;
        std::string name;
        while (!at_end() && peek() != '}' && name.size() < 128) {
            if (peek() >= 0x80) return fail("malformed \\N character escape");
            name.push_back(static_cast<char>(std::toupper(static_cast<int>(peek()))));
            ++i_;
        }
        if (peek() != '}' || name.empty()) return fail("malformed \\N character escape");
        ++i_;
        for (const auto& [n, code] : kAsciiNames) {
            if (n == name) {
                put(out, code, false);
                return true;
            }
        }
        // Some other character (not printable ASCII, which is all a dtype or key may hold):
        // kept as U+FFFD and marked unknown.
        put(out, 0xfffd, false);
        out.ascii = false;
        return true;
    }

    std::vector<char32_t> s_;
    PyLiteralOptions options_;
    std::size_t i_ = 0;
    std::string error_;
};

void render_into(const PyValue& v, std::string& s, std::size_t limit) {
    switch (v.type) {
        case PyValue::Type::None:
            s += "None";
            return;
        case PyValue::Type::Bool:
            s += v.number ? "True" : "False";
            return;
        case PyValue::Type::Int:
            s += v.big ? std::string(v.number < 0 ? "-(2**63+)" : "2**63+")
                       : std::to_string(v.number);
            return;
        case PyValue::Type::Float:
            s += "<float>";
            return;
        case PyValue::Type::Ellipsis:
            s += "Ellipsis";
            return;
        case PyValue::Type::Str:
        case PyValue::Type::Bytes: {
            s += v.type == PyValue::Type::Bytes ? "b'" : "'";
            for (const char ch : v.text) {
                if (s.size() > limit) break;
                const auto u = static_cast<unsigned char>(ch);
                if (u >= 0x20 && u < 0x7f && ch != '\'' && ch != '\\') {
                    s.push_back(ch);
                } else {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\x%02x", u);
                    s += buf;
                }
            }
            s += "'";
            return;
        }
        default:
            break;
    }
    const bool dict = v.type == PyValue::Type::Dict;
    const bool braces = dict || v.type == PyValue::Type::Set;
    s += braces ? "{" : v.type == PyValue::Type::List ? "[" : "(";
    for (std::size_t i = 0; i < v.items.size(); ++i) {
        if (s.size() > limit) {
            s += "...";
            break;
        }
        if (i) s += dict && i % 2 ? ": " : ", ";
        render_into(v.items[i], s, limit);
    }
    if (v.type == PyValue::Type::Tuple && v.items.size() == 1) s += ",";
    s += braces ? "}" : v.type == PyValue::Type::List ? "]" : ")";
}

}  // namespace

bool parse_py_literal(std::string_view text, const PyLiteralOptions& options, PyValue& out,
                      std::string& error) {
    std::vector<char32_t> chars;
    chars.reserve(text.size());
    if (options.utf8) {
        if (!decode_utf8(text, chars)) {
            error = "the header is not valid UTF-8";
            return false;
        }
    } else {
        for (const char c : text)
            chars.push_back(static_cast<unsigned char>(c));
    }
    if (std::find(chars.begin(), chars.end(), U'\0') != chars.end()) {
        error = "the header contains a NUL byte";
        return false;
    }
    out = PyValue{};
    Parser parser(std::move(chars), options);
    return parser.parse(out, error);
}

std::string render_py(const PyValue& value, std::size_t limit) {
    std::string s;
    render_into(value, s, limit);
    return s;
}

}  // namespace mscan::numpy
