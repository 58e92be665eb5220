// TorchScript tokens (see lexer.h for whose rules these are and what is trusted).
#include "formats/torchscript/lexer.h"
#include "util/text.h"

#include <cstdint>

namespace mscan::torchscript {
namespace {

bool is_letter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_hex_digit(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_name_start(char c) {
    return is_letter(c) || c == '_';
}
bool is_name_char(char c) {
    return is_name_start(c) || is_digit(c);
}
/// isspace() in the C locale, less '\n' (torch's isblank).
bool is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}
/// torch's valid_single_char_tokens (parser_constants.h).
bool is_op_char(char c) {
    for (const char* p = "+-*/%@()[]:,={}><.?!&^|~"; *p; ++p)
        if (*p == c) return true;
    return false;
}

class Lexer {
  public:
    explicit Lexer(std::string_view text) : text_(text) {}

    Lexed run() {
        while (pos_ < text_.size() && out_.error.empty())
            step();
        return std::move(out_);
    }

  private:
    std::string_view text_;
    std::size_t pos_ = 0;
    std::size_t line_ = 1;
    int depth_ = 0;  // open brackets: newlines inside do not end a line
    Lexed out_;

    char at(std::size_t i) const { return i < text_.size() ? text_[i] : '\0'; }

    void fail(std::string why) {
        out_.error = std::move(why);
        out_.error_offset = pos_;
        out_.error_line = line_;
    }

    void push(TokenKind kind, std::string text, std::size_t offset, std::size_t line) {
        out_.tokens.push_back(Token{kind, std::move(text), offset, line});
    }

    void step() {
        const char c = text_[pos_];
        if (c == '\n') {
            if (depth_ == 0 && !out_.tokens.empty() &&
                out_.tokens.back().kind != TokenKind::Newline)
                push(TokenKind::Newline, "\n", pos_, line_);
            ++pos_;
            ++line_;
        } else if (is_blank(c)) {
            ++pos_;
        } else if (c == '#') {
            comment();
        } else if (c == '\\' && at(pos_ + 1) == '\n') {
            pos_ += 2;  // joined lines
            ++line_;
        } else if (is_digit(c) || (c == '.' && is_digit(at(pos_ + 1)))) {
            number();
        } else if (c == '\'' || c == '"') {
            string();
        } else if (is_name_start(c)) {
            const std::size_t start = pos_;
            while (pos_ < text_.size() && is_name_char(text_[pos_]))
                ++pos_;
            push(TokenKind::Name, std::string(text_.substr(start, pos_ - start)), start, line_);
        } else if (is_op_char(c)) {
            op();
        } else {
            fail("byte " + util::hex_byte(static_cast<unsigned char>(c)) +
                 " outside a string or comment, which torch's lexer refuses");
        }
    }

    /// "# type:" begins a type comment whose text torch lexes as code; any other comment
    /// runs to the next '\n' (only '\n': a '\r' does not end it).
    void comment() {
        if (text_.substr(pos_, 7) == "# type:") {
            pos_ += 7;
            return;
        }
        while (pos_ < text_.size() && text_[pos_] != '\n')
            ++pos_;
    }

    /// What strtod accepts from a digit or '.': decimal or hexadecimal, an optional
    /// exponent, and a trailing 'j' (complex).
    void number() {
        const std::size_t start = pos_;
        if (text_[pos_] == '0' && (at(pos_ + 1) == 'x' || at(pos_ + 1) == 'X') &&
            (is_hex_digit(at(pos_ + 2)) || (at(pos_ + 2) == '.' && is_hex_digit(at(pos_ + 3))))) {
            pos_ += 2;
            while (is_hex_digit(at(pos_)))
                ++pos_;
            if (at(pos_) == '.') ++pos_;
            while (is_hex_digit(at(pos_)))
                ++pos_;
            exponent('p', 'P');
        } else {
            while (is_digit(at(pos_)))
                ++pos_;
            if (at(pos_) == '.') ++pos_;
            while (is_digit(at(pos_)))
                ++pos_;
            exponent('e', 'E');
        }
        if (at(pos_) == 'j') ++pos_;
        push(TokenKind::Number, std::string(text_.substr(start, pos_ - start)), start, line_);
    }

    void exponent(char lower, char upper) {
        const char c = at(pos_);
        if (c != lower && c != upper) return;
        std::size_t p = pos_ + 1;
        if (at(p) == '+' || at(p) == '-') ++p;
        if (!is_digit(at(p))) return;
        while (is_digit(at(p)))
            ++p;
        pos_ = p;
    }

    bool quotes_at(std::size_t p, char quote, std::size_t n) const {
        for (std::size_t i = 0; i < n; ++i)
            if (at(p + i) != quote || p + i >= text_.size()) return false;
        return true;
    }

    /// The literal's extent as torch's isString finds it, then its value as
    /// parseStringLiteral decodes it.
    void string() {
        const std::size_t start = pos_;
        const std::size_t start_line = line_;
        const char quote = text_[pos_];
        const std::size_t quote_len = quotes_at(pos_, quote, 3) ? 3 : 1;
        std::size_t end = pos_ + quote_len;
        std::size_t lines = 0;
        while (end < text_.size() && !quotes_at(end, quote, quote_len)) {
            if (text_[end] == '\n') {
                if (quote_len != 3) {
                    fail("a newline inside a one-quote string literal");
                    return;
                }
                ++lines;
            }
            if (text_[end] == '\\') {
                ++end;
                if (end < text_.size() && text_[end] == '\n') ++lines;
            }
            ++end;
        }
        if (end >= text_.size()) {
            fail("an unterminated string literal");
            return;
        }
        const std::string_view body = text_.substr(start + quote_len, end - start - quote_len);
        std::string value;
        std::string why;
        if (!decode(body, value, why)) {
            fail("a string literal torch refuses (" + why + ")");
            return;
        }
        pos_ = end + quote_len;
        line_ += lines;
        push(TokenKind::String, std::move(value), start, start_line);
    }

    static bool decode(std::string_view body, std::string& value, std::string& why) {
        value.reserve(body.size());
        for (std::size_t i = 0; i < body.size(); ++i) {
            if (body[i] != '\\') {
                value += body[i];
                continue;
            }
            const char e = i + 1 < body.size() ? body[i + 1] : '\0';
            switch (e) {
                case '\\':
                case '\'':
                case '"':
                case '\n':
                    value += e;
                    break;
                case 'a':
                    value += '\a';
                    break;
                case 'b':
                    value += '\b';
                    break;
                case 'f':
                    value += '\f';
                    break;
                case 'n':
                    value += '\n';
                    break;
                case 'v':
                    value += '\v';
                    break;
                case 't':
                    value += '\t';
                    break;
                case 'x':
                case 'u':
                case 'U':
                    why = std::string("the escape \\") + e + " is not supported";
                    return false;
                default: {
                    // \ooo: exactly three octal digits, below 256.
                    bool ok = i + 3 < body.size();
                    unsigned v = 0;
                    for (std::size_t k = 1; ok && k <= 3; ++k) {
                        const char d = body[i + k];
                        ok = d >= '0' && d <= '7';
                        v = v * 8 + static_cast<unsigned>(d - '0');
                    }
                    if (!ok || v >= 256) {
                        why = "an ill-formed escape";
                        return false;
                    }
                    value += static_cast<char>(static_cast<unsigned char>(v));
                    i += 2;  // with the ++i below and the backslash: four bytes
                }
            }
            ++i;
        }
        return true;
    }

    void op() {
        const std::size_t start = pos_;
        const char c = text_[pos_];
        std::size_t n = 1;
        const char next = at(pos_ + 1);
        if (next == '=' && std::string_view("=!<>+-*/%&|^@").find(c) != std::string_view::npos)
            n = 2;  // comparisons and augmented assignments: never a plain '='
        else if ((c == '-' && next == '>') || (c == '*' && next == '*') ||
                 (c == '/' && next == '/'))
            n = 2;
        if (c == '(' || c == '[' || c == '{') ++depth_;
        if ((c == ')' || c == ']' || c == '}') && depth_ > 0) --depth_;
        pos_ += n;
        push(TokenKind::Op, std::string(text_.substr(start, n)), start, line_);
    }
};

}  // namespace

Lexed tokenize(std::string_view text) {
    return Lexer(text).run();
}

}  // namespace mscan::torchscript
