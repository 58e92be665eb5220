// The Jinja template check. A template is split the way Jinja's lexer splits it: data, then
// `{# comments #}` (skipped), `{% raw %}...{% endraw %}` (skipped), and `{{ ... }}` / `{% ... %}`
// tags whose expressions are tokenised (names, numbers, string literals decoded with Python's
// escapes, operators; a tag ends only outside strings and brackets, as in Jinja). Each tag's
// tokens are then judged: attribute names, constant subscript keys and the string arguments of
// attribute-taking filters are evaluated (literals joined by ~ or +, repeated, joined,
// reversed, or held in a {% set %} variable) and compared with Python internals and dangerous
// names; globals an ordinary chat template never uses and oversized range()/repetition are
// reported too. Names the template declares itself ({% set %}, loop variables, macro
// parameters, namespace() fields) are its own and are not mistaken for globals.
#include "formats/template/jinja_check.h"

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <set>
#include <variant>

#include "formats/context.h"
#include "formats/member_names.h"
#include "mscan/limits.h"

namespace mscan::jinja {
namespace {

enum class Tok { Name, String, Number, Op };

struct Token {
    Tok kind = Tok::Op;
    std::size_t begin = 0;  ///< offset of the token's first byte in the template
    std::size_t end = 0;    ///< one past its last byte
    std::string value;      ///< a name, an operator, or a decoded string literal
    std::int64_t number = 0;
    bool integer = false;  ///< a Number that is an integer (value in `number`, saturated)
};

constexpr std::int64_t kSaturate = std::int64_t{1} << 62;
constexpr std::size_t kMaxConstString = 4096;
constexpr std::size_t kShownExpression = 160;
/// Links of a postfix chain walked to show it as evidence.
constexpr int kChainSteps = 64;

/// Arithmetic on constants clamps to +-2^62 (far beyond anything worth rendering).
std::int64_t clamp(std::int64_t v) {
    return std::clamp(v, -kSaturate, kSaturate);
}
std::int64_t sat_add(std::int64_t a, std::int64_t b) {
    return clamp(a + b);  // |a|, |b| <= 2^62: no overflow
}
std::int64_t sat_mul(std::int64_t a, std::int64_t b) {
    std::int64_t r = 0;
    if (__builtin_mul_overflow(a, b, &r)) return (a < 0) != (b < 0) ? -kSaturate : kSaturate;
    return clamp(r);
}

bool name_start(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}
bool name_char(unsigned char c) {
    return name_start(c) || (c >= '0' && c <= '9');
}
bool space(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/// A string literal's body with Python's escapes applied (Jinja decodes literals that way),
/// so that '\x5f\x5fclass\x5f\x5f' is seen as '__class__'.
std::string decode_literal(std::string_view body) {
    std::string out;
    out.reserve(body.size());
    for (std::size_t i = 0; i < body.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(body[i]);
        if (c != '\\' || i + 1 >= body.size()) {
            out += static_cast<char>(c);
            continue;
        }
        const char e = body[++i];
        auto hex_escape = [&](std::size_t digits) {
            std::uint32_t cp = 0;
            if (body.size() - (i + 1) < digits) return false;
            for (std::size_t k = 1; k <= digits; ++k) {
                const int h = hex_value(static_cast<unsigned char>(body[i + k]));
                if (h < 0) return false;
                cp = (cp << 4) | static_cast<std::uint32_t>(h);
            }
            append_utf8(out, cp);
            i += digits;
            return true;
        };
        switch (e) {
            case 'n':
                out += '\n';
                break;
            case 't':
                out += '\t';
                break;
            case 'r':
                out += '\r';
                break;
            case 'a':
                out += '\a';
                break;
            case 'b':
                out += '\b';
                break;
            case 'f':
                out += '\f';
                break;
            case 'v':
                out += '\v';
                break;
            case '\\':
                out += '\\';
                break;
            case '\'':
                out += '\'';
                break;
            case '"':
                out += '"';
                break;
            case '\n':
                break;
            case 'x':
                if (!hex_escape(2)) out += "\\x";
                break;
            case 'u':
                if (!hex_escape(4)) out += "\\u";
                break;
            case 'U':
                if (!hex_escape(8)) out += "\\U";
                break;
            default:
                if (e >= '0' && e <= '7') {
                    std::uint32_t cp = static_cast<std::uint32_t>(e - '0');
                    for (int k = 0;
                         k < 2 && i + 1 < body.size() && body[i + 1] >= '0' && body[i + 1] <= '7';
                         ++k)
                        cp = cp * 8 + static_cast<std::uint32_t>(body[++i] - '0');
                    append_utf8(out, cp);
                } else {
                    out += '\\';
                    out += e;
                }
        }
    }
    return out;
}

/// Whether `s` names Python object internals: a dunder, a name-mangled private attribute, or
/// a frame/function/code attribute that leads to globals.
bool internal_name(std::string_view s) {
    static constexpr std::array<std::string_view, 22> kInternal = {
        "func_globals", "func_code", "func_closure", "f_globals", "f_locals", "f_builtins",
        "f_back",       "f_code",    "gi_frame",     "gi_code",   "cr_frame", "cr_code",
        "ag_frame",     "ag_code",   "co_code",      "co_consts", "tb_frame", "tb_next",
        "im_func",      "im_self",   "im_class",     "mro"};
    if (s.find("__") != std::string_view::npos) return true;
    return std::find(kInternal.begin(), kInternal.end(), s) != kInternal.end();
}

/// Dangerous modules and functions, as attribute names.
bool dangerous_attribute(std::string_view s) {
    static constexpr std::array<std::string_view, 50> kDangerous = {"os",
                                                                    "posix",
                                                                    "nt",
                                                                    "sys",
                                                                    "subprocess",
                                                                    "popen",
                                                                    "Popen",
                                                                    "system",
                                                                    "spawn",
                                                                    "spawnl",
                                                                    "spawnv",
                                                                    "spawnve",
                                                                    "execl",
                                                                    "execv",
                                                                    "execve",
                                                                    "execvp",
                                                                    "fork",
                                                                    "kill",
                                                                    "check_output",
                                                                    "check_call",
                                                                    "getoutput",
                                                                    "getstatusoutput",
                                                                    "eval",
                                                                    "exec",
                                                                    "execfile",
                                                                    "compile",
                                                                    "open",
                                                                    "read",
                                                                    "readlines",
                                                                    "write",
                                                                    "import_module",
                                                                    "load_module",
                                                                    "importlib",
                                                                    "builtins",
                                                                    "getattr",
                                                                    "setattr",
                                                                    "delattr",
                                                                    "globals",
                                                                    "locals",
                                                                    "environ",
                                                                    "getenv",
                                                                    "putenv",
                                                                    "remove",
                                                                    "unlink",
                                                                    "rmtree",
                                                                    "shutil",
                                                                    "modules",
                                                                    "ctypes",
                                                                    "cdll",
                                                                    "pty"};
    return std::find(kDangerous.begin(), kDangerous.end(), s) != kDangerous.end();
}

/// Dangerous names as constant subscript keys: fewer than as attributes, because templates
/// index their own dicts by role ('system', ...).
bool dangerous_key(std::string_view s) {
    static constexpr std::array<std::string_view, 14> kDangerous = {
        "os",      "posix",         "subprocess", "popen", "eval",    "exec",    "builtins",
        "globals", "import_module", "getattr",    "sys",   "modules", "environ", "importlib"};
    return std::find(kDangerous.begin(), kDangerous.end(), s) != kDangerous.end();
}

/// Builtins that run code or reach objects when called by name.
bool dangerous_builtin(std::string_view s) {
    static constexpr std::array<std::string_view, 11> kBuiltins = {
        "eval",    "exec",   "compile", "getattr",    "setattr",   "open",
        "globals", "locals", "vars",    "breakpoint", "__import__"};
    return std::find(kBuiltins.begin(), kBuiltins.end(), s) != kBuiltins.end();
}

/// Jinja and Flask globals an ordinary chat template never uses; each leads to Python objects
/// with __globals__ (`lipsum.__globals__`, `cycler.__init__.__globals__`, `self._TemplateRef…`).
bool unusual_global(std::string_view s) {
    static constexpr std::array<std::string_view, 8> kGlobals = {
        "self",   "cycler",  "joiner",  "lipsum",
        "config", "request", "url_for", "get_flashed_messages"};
    return std::find(kGlobals.begin(), kGlobals.end(), s) != kGlobals.end();
}

/// Jinja operators and statement words spelled as names: never a callable operand.
bool keyword(std::string_view s) {
    static constexpr std::array<std::string_view, 12> kWords = {
        "in", "not", "and", "or", "is", "if", "else", "elif", "for", "set", "recursive", "with"};
    return std::find(kWords.begin(), kWords.end(), s) != kWords.end();
}

/// A string literal holds a dunder-like name (`__class__`, `__cla`).
bool holds_dunder(std::string_view s) {
    for (std::size_t p = s.find("__"); p != std::string_view::npos; p = s.find("__", p + 1)) {
        const bool before = p > 0 && name_start(static_cast<unsigned char>(s[p - 1]));
        const bool after = p + 2 < s.size() && name_start(static_cast<unsigned char>(s[p + 2]));
        if ((before || after) && !(p + 2 < s.size() && s[p + 2] == '_')) return true;
    }
    return false;
}

/// A constant value in a key expression: a string or a list of strings.
struct Const {
    std::variant<std::string, std::vector<std::string>> v;
    const std::string* str() const { return std::get_if<std::string>(&v); }
    const std::vector<std::string>* list() const {
        return std::get_if<std::vector<std::string>>(&v);
    }
};

class Checker {
  public:
    explicit Checker(std::string_view text) : text_(text) {}

    std::vector<TemplateIssue> run() {
        std::string_view text = text_;
        bool cut = false;
        if (text.size() > limits::kTemplateMaxBytes) {
            add(IssueKind::Limit, limits::kTemplateMaxBytes,
                "template of " + std::to_string(text.size()) + " bytes",
                "longer than " + std::to_string(limits::kTemplateMaxBytes) +
                    " bytes: only the start was parsed; the rest was NOT checked beyond a "
                    "search for Python internals and dangerous names");
            text = text.substr(0, limits::kTemplateMaxBytes);
            cut = true;
        }
        std::size_t i = 0;
        while (i < text.size() && !full()) {
            const std::size_t open = text.find('{', i);
            if (open == std::string_view::npos || open + 1 >= text.size()) break;
            const char kind = text[open + 1];
            if (kind == '#') {
                const std::size_t close = text.find("#}", open + 2);
                if (close == std::string_view::npos) {
                    malformed(open, "an unterminated {# comment");
                    break;
                }
                i = close + 2;
            } else if (kind == '{' || kind == '%') {
                const auto next = tag(text, open, kind == '{' ? '}' : '%');
                if (!next) break;
                i = *next;
            } else {
                i = open + 1;
            }
        }
        // Past a cap the template is still searched, in a degraded mode, for what matters
        // most: the part after the issue cap, and the part after the size cap.
        if (full() && i < text.size()) {
            issues_.push_back(
                {IssueKind::Limit,
                 "more than " + std::to_string(limits::kTemplateMaxIssues) + " issues", i,
                 "the rest was NOT parsed, only searched for Python internals "
                 "and dangerous names"});
            degraded(i, text.size());
        }
        if (cut) degraded(limits::kTemplateMaxBytes, text_.size());
        std::sort(
            issues_.begin(), issues_.end(),
            [](const TemplateIssue& a, const TemplateIssue& b) { return a.offset < b.offset; });
        return std::move(issues_);
    }

  private:
    /// The degraded search of [from, to) of the template: each name that reaches Python
    /// internals (a dunder, a frame or function attribute) or names a dangerous module or
    /// function, wherever it stands, at most kDegradedIssues of them.
    void degraded(std::size_t from, std::size_t to) {
        static constexpr std::size_t kDegradedIssues = 8;
        std::size_t found = 0;
        for (std::size_t p = from; p < to && found < kDegradedIssues;) {
            if (!name_start(static_cast<unsigned char>(text_[p]))) {
                ++p;
                continue;
            }
            std::size_t q = p;
            while (q < to && name_char(static_cast<unsigned char>(text_[q])))
                ++q;
            const std::string_view word = text_.substr(p, q - p);
            const bool internal = internal_name(word) && word != "mro";
            const bool dangerous = dangerous_builtin(word) || dangerous_key(word);
            if (internal || dangerous) {
                ++found;
                issues_.push_back({internal ? IssueKind::PythonInternals : IssueKind::DangerousName,
                                   std::string(word.substr(0, kShownExpression)), p,
                                   std::string(internal ? "reaches Python internals"
                                                        : "names a dangerous module or function") +
                                       ", found past the cap by the degraded search"});
            }
            p = q;
        }
    }

    bool full() const { return issues_.size() >= limits::kTemplateMaxIssues; }

    void add(IssueKind kind, std::size_t offset, std::string expression, std::string why) {
        if (full()) return;
        if (expression.size() > kShownExpression) {
            expression.resize(kShownExpression);
            expression += "...";
        }
        for (const auto& issue : issues_) {
            if (issue.kind == kind && issue.expression == expression) return;
        }
        issues_.push_back({kind, std::move(expression), offset, std::move(why)});
    }

    void malformed(std::size_t offset, const std::string& why) {
        add(IssueKind::Malformed, offset, std::string(text_.substr(offset, 40)), why);
    }

    /// Tokenises the tag opening at `open` up to its end delimiter (`close` then '}'), checks
    /// it, and returns where the data after it starts; nullopt when the tag never ends.
    std::optional<std::size_t> tag(std::string_view text, std::size_t open, char close) {
        std::vector<Token> tokens;
        std::size_t i = open + 2;
        if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
        int depth = 0;
        while (true) {
            while (i < text.size() && space(static_cast<unsigned char>(text[i])))
                ++i;
            if (i >= text.size()) {
                malformed(open, close == '}' ? "an unterminated {{ expression"
                                             : "an unterminated {% statement");
                check(tokens, close == '%');
                return std::nullopt;
            }
            const unsigned char c = static_cast<unsigned char>(text[i]);
            if (depth == 0) {
                std::size_t j = i;
                if ((c == '-' || c == '+') && j + 1 < text.size()) ++j;
                if (text[j] == close && j + 1 < text.size() && text[j + 1] == '}') {
                    check(tokens, close == '%');
                    std::size_t after = j + 2;
                    if (close == '%' && !tokens.empty() && tokens[0].kind == Tok::Name &&
                        tokens[0].value == "raw")
                        return skip_raw(text, open, after);
                    return after;
                }
            }
            Token t;
            t.begin = i;
            if (name_start(c)) {
                while (i < text.size() && name_char(static_cast<unsigned char>(text[i])))
                    ++i;
                t.kind = Tok::Name;
                t.value = std::string(text.substr(t.begin, i - t.begin));
            } else if (c >= '0' && c <= '9') {
                i = number(text, i, t);
            } else if (c == '\'' || c == '"') {
                std::size_t j = i + 1;
                while (j < text.size() && text[j] != static_cast<char>(c)) {
                    j += text[j] == '\\' ? 2 : 1;
                }
                if (j >= text.size()) {
                    malformed(i, "an unterminated string literal");
                    check(tokens, close == '%');
                    return std::nullopt;
                }
                t.kind = Tok::String;
                t.value = decode_literal(text.substr(i + 1, j - i - 1));
                i = j + 1;
            } else {
                static constexpr std::array<std::string_view, 6> kTwo = {
                    "**", "//", "==", "!=", "<=", ">="};
                std::size_t n = 1;
                for (const auto op : kTwo) {
                    if (text.substr(i, 2) == op) n = 2;
                }
                t.kind = Tok::Op;
                t.value = std::string(text.substr(i, n));
                if (c == '(' || c == '[' || c == '{') ++depth;
                if ((c == ')' || c == ']' || c == '}') && depth > 0) --depth;
                i += n;
            }
            t.end = i;
            tokens.push_back(std::move(t));
        }
    }

    std::size_t number(std::string_view text, std::size_t i, Token& t) {
        t.kind = Tok::Number;
        const std::size_t start = i;
        int base = 10;
        if (text[i] == '0' && i + 1 < text.size() &&
            (text[i + 1] == 'x' || text[i + 1] == 'X' || text[i + 1] == 'o' || text[i + 1] == 'O' ||
             text[i + 1] == 'b' || text[i + 1] == 'B')) {
            const char b = static_cast<char>(text[i + 1] | 0x20);
            base = b == 'x' ? 16 : b == 'o' ? 8 : 2;
            i += 2;
        }
        std::int64_t v = 0;
        bool integer = true;
        while (i < text.size()) {
            const unsigned char c = static_cast<unsigned char>(text[i]);
            const int d = hex_value(c);
            if (c == '_') {
                ++i;
            } else if (d >= 0 && d < base) {
                v = sat_add(sat_mul(v, base), d);
                ++i;
            } else if (base == 10 && (c == '.' || c == 'e' || c == 'E')) {
                // A float: the rest of it is consumed, its value is not needed.
                if (c == '.' && !(i + 1 < text.size() && text[i + 1] >= '0' && text[i + 1] <= '9'))
                    break;
                integer = false;
                ++i;
                if ((c == 'e' || c == 'E') && i < text.size() && (text[i] == '+' || text[i] == '-'))
                    ++i;
            } else {
                break;
            }
        }
        t.integer = integer;
        t.number = v;
        t.value = std::string(text.substr(start, i - start));
        return i;
    }

    /// After {% raw %}: the data up to {% endraw %} is text, never code.
    std::optional<std::size_t> skip_raw(std::string_view text, std::size_t open, std::size_t i) {
        for (std::size_t p = text.find("{%", i); p != std::string_view::npos;
             p = text.find("{%", p + 2)) {
            std::size_t j = p + 2;
            if (j < text.size() && (text[j] == '-' || text[j] == '+')) ++j;
            while (j < text.size() && space(static_cast<unsigned char>(text[j])))
                ++j;
            if (text.substr(j, 6) != "endraw") continue;
            j += 6;
            while (j < text.size() && space(static_cast<unsigned char>(text[j])))
                ++j;
            if (j < text.size() && (text[j] == '-' || text[j] == '+')) ++j;
            if (text.substr(j, 2) == "%}") return j + 2;
        }
        malformed(open, "a {% raw %} block without {% endraw %}");
        return std::nullopt;
    }

    // ---------------------------------------------------------------------------------------
    // Judging one tag's tokens.

    using Tokens = std::vector<Token>;

    static bool op(const Tokens& t, std::size_t i, std::string_view s) {
        return i < t.size() && t[i].kind == Tok::Op && t[i].value == s;
    }
    static bool name(const Tokens& t, std::size_t i, std::string_view s) {
        return i < t.size() && t[i].kind == Tok::Name && t[i].value == s;
    }

    /// For each opening bracket, the index of its closing one (t.size() if none), and the
    /// reverse in `opener`.
    static std::vector<std::size_t> match_brackets(const Tokens& t,
                                                   std::vector<std::size_t>& opener) {
        std::vector<std::size_t> match(t.size(), t.size());
        opener.assign(t.size(), t.size());
        std::vector<std::size_t> stack;
        for (std::size_t i = 0; i < t.size(); ++i) {
            if (t[i].kind != Tok::Op) continue;
            const char c = t[i].value[0];
            if (c == '(' || c == '[' || c == '{') {
                stack.push_back(i);
            } else if ((c == ')' || c == ']' || c == '}') && !stack.empty()) {
                match[stack.back()] = i;
                opener[i] = stack.back();
                stack.pop_back();
            }
        }
        return match;
    }

    /// The first token of the operand that ends at token `k` (a name, literal, call or
    /// subscript chain such as `x.y(1)[2]`), or nullopt.
    std::optional<std::size_t> operand_start(const Tokens& t, std::size_t k) const {
        for (int steps = 0; steps < kChainSteps; ++steps) {
            if (op(t, k, ")") || op(t, k, "]") || op(t, k, "}")) {
                const std::size_t o = opener_[k];
                if (o >= t.size()) return std::nullopt;
                if (o > 0 && t[o].value != "{" &&
                    ((t[o - 1].kind == Tok::Name && !keyword(t[o - 1].value)) ||
                     t[o - 1].kind == Tok::String || op(t, o - 1, ")") || op(t, o - 1, "]"))) {
                    k = o - 1;
                    continue;
                }
                return o;
            }
            if (k < t.size() && t[k].kind != Tok::Op) return k;
            return std::nullopt;
        }
        return k;  // a very long chain: shown from here
    }

    /// The postfix chain around token `i` (`lipsum.__globals__.os.popen('x').read()`), as text.
    /// The walk is bounded (kChainSteps links each way) and the text cut, so that reporting
    /// stays linear however long a hostile chain is.
    std::string chain_text(const Tokens& t, std::size_t i) const {
        std::size_t first = operand_start(t, i).value_or(i);
        for (int steps = 0;
             steps < kChainSteps && first >= 2 && (op(t, first - 1, ".") || op(t, first - 1, "|"));
             ++steps) {
            const auto s = operand_start(t, first - 2);
            if (!s) break;
            first = *s;
        }
        std::size_t last = i;
        for (int steps = 0; steps < kChainSteps && last + 1 < t.size(); ++steps) {
            if ((op(t, last + 1, ".") || op(t, last + 1, "|")) && last + 2 < t.size() &&
                t[last + 2].kind == Tok::Name) {
                last += 2;
            } else if ((op(t, last + 1, "(") || op(t, last + 1, "[")) &&
                       match_[last + 1] < t.size()) {
                last = match_[last + 1];
            } else {
                break;
            }
        }
        const std::size_t length = t[last].end - t[first].begin;
        return std::string(text_.substr(t[first].begin, std::min(length, kShownExpression + 1)));
    }

    // --- constant evaluation ---

    /// A constant integer expression over [b, e): numbers, + - * // % **, unary -, parens.
    std::optional<std::int64_t> eval_int(const Tokens& t, std::size_t b, std::size_t e,
                                         int depth = 0) const {
        std::size_t i = b;
        auto r = int_sum(t, i, e, depth);
        if (!r || i != e) return std::nullopt;
        return r;
    }
    std::optional<std::int64_t> int_sum(const Tokens& t, std::size_t& i, std::size_t e,
                                        int depth) const {
        auto v = int_product(t, i, e, depth);
        while (v && i < e && (op(t, i, "+") || op(t, i, "-"))) {
            const bool plus = t[i].value == "+";
            ++i;
            const auto r = int_product(t, i, e, depth);
            if (!r) return std::nullopt;
            v = sat_add(*v, plus ? *r : -*r);
        }
        return v;
    }
    std::optional<std::int64_t> int_product(const Tokens& t, std::size_t& i, std::size_t e,
                                            int depth) const {
        auto v = int_unary(t, i, e, depth);
        while (v && i < e && (op(t, i, "*") || op(t, i, "//") || op(t, i, "%"))) {
            const std::string o = t[i].value;
            ++i;
            const auto r = int_unary(t, i, e, depth);
            if (!r) return std::nullopt;
            if (o == "*") {
                v = sat_mul(*v, *r);
            } else {
                if (*r == 0) return std::nullopt;
                v = o == "//" ? *v / *r : *v % *r;  // |values| <= 2^62: no overflow
            }
        }
        return v;
    }
    std::optional<std::int64_t> int_unary(const Tokens& t, std::size_t& i, std::size_t e,
                                          int depth) const {
        if (depth > 32) return std::nullopt;
        if (i < e && (op(t, i, "-") || op(t, i, "+"))) {
            const bool minus = t[i].value == "-";
            ++i;
            const auto v = int_unary(t, i, e, depth + 1);
            if (!v) return std::nullopt;
            return minus ? -*v : *v;
        }
        auto base = int_atom(t, i, e, depth);
        if (base && i < e && op(t, i, "**")) {
            ++i;
            const auto exp = int_unary(t, i, e, depth + 1);
            if (!exp) return std::nullopt;
            return power(*base, *exp);
        }
        return base;
    }
    std::optional<std::int64_t> int_atom(const Tokens& t, std::size_t& i, std::size_t e,
                                         int depth) const {
        if (i >= e) return std::nullopt;
        if (t[i].kind == Tok::Number && t[i].integer) return t[i++].number;
        if (op(t, i, "(")) {
            std::size_t close = match_[i];
            if (close >= e) return std::nullopt;
            auto v = eval_int(t, i + 1, close, depth + 1);
            i = close + 1;
            return v;
        }
        return std::nullopt;
    }
    static std::int64_t power(std::int64_t base, std::int64_t exp) {
        if (exp < 0) return 0;
        std::int64_t r = 1;
        for (std::int64_t k = 0; k < exp && k < 128; ++k) {
            r = sat_mul(r, base);
            if (r == kSaturate || r == -kSaturate) return r;
        }
        return r;
    }

    /// A constant string (or list of strings) expression over [b, e): literals, {% set %}
    /// constants, ~ and + concatenation, repetition by a constant, list literals, and the
    /// filters join, reverse, lower, upper, string, trim, replace, plus the [::-1] slice.
    std::optional<Const> eval_str(const Tokens& t, std::size_t b, std::size_t e,
                                  int depth = 0) const {
        if (depth > 32 || b >= e) return std::nullopt;
        std::size_t i = b;
        auto v = str_concat(t, i, e, depth);
        if (!v || i != e) return std::nullopt;
        return v;
    }
    std::optional<Const> str_concat(const Tokens& t, std::size_t& i, std::size_t e,
                                    int depth) const {
        auto v = str_repeat(t, i, e, depth);
        while (v && i < e && (op(t, i, "~") || op(t, i, "+"))) {
            ++i;
            const auto r = str_repeat(t, i, e, depth);
            if (!r || !v->str() || !r->str()) return std::nullopt;
            std::string s = *v->str() + *r->str();
            if (s.size() > kMaxConstString) return std::nullopt;
            v = Const{std::move(s)};
        }
        return v;
    }
    std::optional<Const> str_repeat(const Tokens& t, std::size_t& i, std::size_t e,
                                    int depth) const {
        // int * string
        if (i < e && t[i].kind == Tok::Number && t[i].integer && op(t, i + 1, "*") && i + 2 < e) {
            const std::int64_t n = t[i].number;
            i += 2;
            auto s = str_postfix(t, i, e, depth);
            return repeat(s, n);
        }
        auto v = str_postfix(t, i, e, depth);
        if (v && i < e && op(t, i, "*")) {
            ++i;
            std::size_t j = i;
            auto n = int_unary(t, j, e, depth + 1);
            if (!n) return std::nullopt;
            i = j;
            return repeat(v, *n);
        }
        return v;
    }
    static std::optional<Const> repeat(const std::optional<Const>& s, std::int64_t n) {
        if (!s || !s->str() || n < 0) return std::nullopt;
        const auto& base = *s->str();
        if (!base.empty() && static_cast<std::uint64_t>(n) > kMaxConstString / base.size())
            return std::nullopt;
        std::string out;
        for (std::int64_t k = 0; k < n; ++k)
            out += base;
        return Const{std::move(out)};
    }
    std::optional<Const> str_postfix(const Tokens& t, std::size_t& i, std::size_t e,
                                     int depth) const {
        auto v = str_atom(t, i, e, depth);
        while (v && i < e) {
            if (op(t, i, "|") && i + 1 < e && t[i + 1].kind == Tok::Name) {
                const std::string& f = t[i + 1].value;
                i += 2;
                std::vector<Const> args;
                if (i < e && op(t, i, "(")) {
                    const std::size_t close = match_[i];
                    if (close >= e) return std::nullopt;
                    for (const auto& [ab, ae] : split_args(t, i + 1, close)) {
                        auto a = eval_str(t, ab, ae, depth + 1);
                        if (!a) return std::nullopt;
                        args.push_back(std::move(*a));
                    }
                    i = close + 1;
                }
                v = apply_filter(*v, f, args);
            } else if (op(t, i, "[") && match_[i] < e && match_[i] == i + 5 && op(t, i + 1, ":") &&
                       op(t, i + 2, ":") && op(t, i + 3, "-") && t[i + 4].kind == Tok::Number &&
                       t[i + 4].number == 1) {
                // [::-1], the usual way to reverse a string
                if (!v->str()) return std::nullopt;
                std::string s = *v->str();
                std::reverse(s.begin(), s.end());
                v = Const{std::move(s)};
                i += 6;
            } else {
                break;
            }
        }
        return v;
    }
    static std::optional<Const> apply_filter(const Const& v, const std::string& f,
                                             const std::vector<Const>& args) {
        if (f == "join") {
            const auto* list = v.list();
            std::string sep;
            if (!args.empty()) {
                if (!args[0].str()) return std::nullopt;
                sep = *args[0].str();
            }
            if (!list) {
                if (!v.str()) return std::nullopt;
                std::string out;
                for (const char c : *v.str()) {
                    if (!out.empty()) out += sep;
                    out += c;
                }
                if (out.size() > kMaxConstString) return std::nullopt;
                return Const{std::move(out)};
            }
            std::string out;
            for (std::size_t k = 0; k < list->size(); ++k) {
                if (k) out += sep;
                out += (*list)[k];
                if (out.size() > kMaxConstString) return std::nullopt;
            }
            return Const{std::move(out)};
        }
        if (!v.str()) {
            if (f == "reverse" && v.list()) {
                auto l = *v.list();
                std::reverse(l.begin(), l.end());
                return Const{std::move(l)};
            }
            return std::nullopt;
        }
        std::string s = *v.str();
        if (f == "reverse") {
            std::reverse(s.begin(), s.end());
        } else if (f == "lower") {
            for (auto& c : s)
                if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        } else if (f == "upper") {
            for (auto& c : s)
                if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        } else if (f == "trim") {
            const auto b = s.find_first_not_of(" \t\r\n");
            const auto e = s.find_last_not_of(" \t\r\n");
            s = b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
        } else if (f == "replace") {
            if (args.size() < 2 || !args[0].str() || !args[1].str() || args[0].str()->empty())
                return std::nullopt;
            const std::string& from = *args[0].str();
            const std::string& to = *args[1].str();
            std::string out;
            for (std::size_t p = 0; p < s.size();) {
                if (s.compare(p, from.size(), from) == 0) {
                    out += to;
                    p += from.size();
                } else {
                    out += s[p++];
                }
                if (out.size() > kMaxConstString) return std::nullopt;
            }
            s = std::move(out);
        } else if (f != "string" && f != "e" && f != "safe") {
            return std::nullopt;
        }
        return Const{std::move(s)};
    }
    std::optional<Const> str_atom(const Tokens& t, std::size_t& i, std::size_t e, int depth) const {
        if (i >= e) return std::nullopt;
        if (t[i].kind == Tok::String) {
            std::string s = t[i++].value;
            // adjacent literals concatenate
            while (i < e && t[i].kind == Tok::String)
                s += t[i++].value;
            return Const{std::move(s)};
        }
        if (t[i].kind == Tok::Name) {
            const auto it = constants_.find(t[i].value);
            if (it == constants_.end()) return std::nullopt;
            ++i;
            return Const{it->second};
        }
        if (op(t, i, "(") || op(t, i, "[")) {
            const bool list = t[i].value == "[";
            const std::size_t close = match_[i];
            if (close >= e) return std::nullopt;
            std::optional<Const> out;
            if (list) {
                std::vector<std::string> items;
                for (const auto& [ab, ae] : split_args(t, i + 1, close)) {
                    auto a = eval_str(t, ab, ae, depth + 1);
                    if (!a || !a->str()) return std::nullopt;
                    items.push_back(*a->str());
                }
                out = Const{std::move(items)};
            } else {
                out = eval_str(t, i + 1, close, depth + 1);
            }
            i = close + 1;
            return out;
        }
        return std::nullopt;
    }

    /// The comma-separated parts of [b, e) at bracket depth 0.
    std::vector<std::pair<std::size_t, std::size_t>> split_args(const Tokens& t, std::size_t b,
                                                                std::size_t e) const {
        std::vector<std::pair<std::size_t, std::size_t>> parts;
        std::size_t start = b;
        for (std::size_t i = b; i < e; ++i) {
            if (op(t, i, "(") || op(t, i, "[") || op(t, i, "{")) {
                if (match_[i] >= e) break;
                i = match_[i];
            } else if (op(t, i, ",")) {
                parts.emplace_back(start, i);
                start = i + 1;
            }
        }
        if (start < e) parts.emplace_back(start, e);
        return parts;
    }

    // --- the checks ---

    /// Judges an attribute name reached through `.name`, a constant key, or an attribute
    /// argument of a filter (dotted paths are split). True if something was reported.
    bool judge_name(const std::string& value, bool as_key, std::size_t offset, const Tokens& t,
                    std::size_t chain_at, const char* how) {
        std::size_t start = 0;
        bool reported = false;
        while (start <= value.size()) {
            std::size_t dot = as_key ? std::string::npos : value.find('.', start);
            if (dot == std::string::npos) dot = value.size();
            const std::string part = value.substr(start, dot - start);
            if (internal_name(part)) {
                add(IssueKind::PythonInternals, offset, chain_text(t, chain_at),
                    std::string("reaches Python internals (") + printable(part) + ") " + how);
                reported = true;
            } else if ((as_key ? dangerous_key(part) : dangerous_attribute(part)) &&
                       !user_attributes_.count(part)) {
                add(IssueKind::DangerousName, offset, chain_text(t, chain_at),
                    std::string("names a dangerous module or function (") + printable(part) + ") " +
                        how);
                reported = true;
            } else if (!part.empty() && part[0] == '_' && !user_attributes_.count(part)) {
                add(IssueKind::Unusual, offset, chain_text(t, chain_at),
                    std::string("reaches a private attribute (") + printable(part) + ") " + how);
                reported = true;
            }
            start = dot + 1;
        }
        return reported;
    }

    /// Records what a statement declares: {% set %} targets (and constant values), loop
    /// variables, macro names and parameters, namespace() fields.
    void declare(const Tokens& t, bool statement) {
        for (std::size_t i = 0; i + 1 < t.size(); ++i) {
            // namespace(a=..., b=...) and any call's keyword arguments: `name =` in brackets
            if (name(t, i, "namespace") && op(t, i + 1, "(")) {
                const std::size_t close = match_[i + 1];
                for (const auto& [ab, ae] : split_args(t, i + 2, std::min(close, t.size()))) {
                    if (ae > ab + 1 && t[ab].kind == Tok::Name && op(t, ab + 1, "="))
                        user_attributes_.insert(t[ab].value);
                }
            }
        }
        if (!statement || t.empty() || t[0].kind != Tok::Name) return;
        const std::string& kw = t[0].value;
        if (kw == "set") {
            std::size_t eq = 1;
            while (eq < t.size() && !op(t, eq, "="))
                ++eq;
            for (std::size_t i = 1; i < eq; ++i) {
                if (t[i].kind != Tok::Name) continue;
                if (op(t, i - 1, ".")) {
                    user_attributes_.insert(t[i].value);
                } else {
                    declared_.insert(t[i].value);
                }
            }
            if (eq == 2 && t[1].kind == Tok::Name && eq + 1 < t.size()) {
                if (auto v = eval_str(t, eq + 1, t.size()); v && v->str()) {
                    constants_[t[1].value] = *v->str();
                } else {
                    constants_.erase(t[1].value);
                }
            }
        } else if (kw == "for") {
            for (std::size_t i = 1; i < t.size() && !name(t, i, "in"); ++i) {
                if (t[i].kind == Tok::Name) declared_.insert(t[i].value);
            }
        } else if (kw == "macro" || kw == "call") {
            for (std::size_t i = 1; i < t.size(); ++i) {
                if (t[i].kind == Tok::Name && (i == 1 || op(t, i - 1, "(") || op(t, i - 1, ",")))
                    declared_.insert(t[i].value);
            }
        } else if (kw == "from" || kw == "import") {
            for (std::size_t i = 1; i < t.size(); ++i) {
                if (t[i].kind == Tok::Name && (name(t, i - 1, "as") || name(t, i - 1, "import")))
                    declared_.insert(t[i].value);
            }
        }
    }

    void check(const Tokens& t, bool statement) {
        if (t.empty()) return;
        match_ = match_brackets(t, opener_);
        declare(t, statement);
        std::vector<bool> covered(t.size(), false);
        auto whole = [&]() {
            const std::size_t length = t.back().end - t.front().begin;
            return std::string(
                text_.substr(t.front().begin, std::min(length, kShownExpression + 1)));
        };
        if (statement && t[0].kind == Tok::Name) {
            const std::string& kw = t[0].value;
            if (kw == "include" || kw == "import" || kw == "extends" || kw == "from") {
                add(IssueKind::Unusual, t[0].begin, whole(),
                    "{% " + kw +
                        " %} loads another template (a chat template is one self-contained "
                        "string)");
            }
        }
        for (std::size_t i = 0; i < t.size() && !full(); ++i) {
            const Token& tok = t[i];
            if (tok.kind == Tok::Name) {
                if (i > 0 && op(t, i - 1, ".")) {
                    judge_name(tok.value, false, tok.begin, t, i, "as an attribute");
                    if ((tok.value == "format" || tok.value == "format_map") && i >= 2 &&
                        t[i - 2].kind == Tok::String && holds_dunder(t[i - 2].value)) {
                        covered[i - 2] = true;
                        add(IssueKind::PythonInternals, t[i - 2].begin, chain_text(t, i),
                            "str.format with a field that reaches Python internals");
                    }
                    continue;
                }
                if (i > 0 && op(t, i - 1, "|")) {
                    filter(t, i, covered);
                    continue;
                }
                bare_name(t, i, covered);
            } else if (tok.kind == Tok::Op && tok.value == "[" && i > 0 &&
                       (t[i - 1].kind == Tok::Name || t[i - 1].kind == Tok::String ||
                        op(t, i - 1, ")") || op(t, i - 1, "]"))) {
                const std::size_t close = match_[i];
                if (close >= t.size() || close == i + 1) continue;
                if (auto key = eval_str(t, i + 1, close); key && key->str()) {
                    for (std::size_t k = i + 1; k < close; ++k)
                        covered[k] = true;
                    judge_name(*key->str(), true, t[i + 1].begin, t, i - 1, "as a key");
                }
            } else if (tok.kind == Tok::Op && tok.value == "**") {
                std::size_t b = i;
                if (covered[i]) continue;
                if (i > 0 && op(t, i - 1, ")") && opener_[i - 1] < t.size()) {
                    b = opener_[i - 1];
                } else if (i > 0) {
                    b = i - 1;
                }
                std::size_t e = i + 1;
                if (op(t, e, "(") && match_[e] < t.size()) {
                    e = match_[e] + 1;
                } else if (e < t.size()) {
                    e += 1;
                }
                if (const auto v = eval_int(t, b, e); v && (*v > kHuge || *v < -kHuge)) {
                    add(IssueKind::ResourceExhaustion, t[b].begin,
                        std::string(text_.substr(t[b].begin, t[e - 1].end - t[b].begin)),
                        "a number too large to render (" + std::to_string(*v) + ")");
                }
            } else if (tok.kind == Tok::Op && tok.value == "*" && i > 0 && i + 1 < t.size()) {
                const bool str_left = t[i - 1].kind == Tok::String;
                const bool str_right = t[i + 1].kind == Tok::String;
                if (str_left || str_right) {
                    std::size_t j = str_left ? i + 1 : i - 1;
                    std::optional<std::int64_t> n;
                    if (str_left) {
                        std::size_t k = j;
                        n = int_unary(t, k, t.size(), 0);
                        for (std::size_t c = j; c < k; ++c)
                            covered[c] = true;
                    } else if (t[j].kind == Tok::Number && t[j].integer) {
                        n = t[j].number;
                    }
                    if (n && *n > kHuge) {
                        add(IssueKind::ResourceExhaustion, t[i - 1].begin,
                            chain_text(t, i - 1) + " * ...",
                            "a string repeated " + std::to_string(*n) + " times");
                    }
                }
            } else if (tok.kind == Tok::String && !covered[i] && holds_dunder(tok.value)) {
                add(IssueKind::Unusual, tok.begin,
                    std::string(text_.substr(tok.begin, tok.end - tok.begin)),
                    "a string literal naming a Python internal (" + printable(tok.value) + ")");
            }
        }
    }

    /// A filter `|f` at token i (its name).
    void filter(const Tokens& t, std::size_t i, std::vector<bool>& covered) {
        const std::string& f = t[i].value;
        const bool call = op(t, i + 1, "(") && match_[i + 1] < t.size();
        const std::size_t close = call ? match_[i + 1] : i;
        auto args =
            call ? split_args(t, i + 2, close) : std::vector<std::pair<std::size_t, std::size_t>>{};
        auto judge_arg = [&](std::size_t ab, std::size_t ae, bool attr) {
            const auto v = eval_str(t, ab, ae);
            for (std::size_t k = ab; k < ae; ++k)
                covered[k] = true;
            if (!v || !v->str()) return false;
            return judge_name(*v->str(), attr, t[ab].begin, t, i,
                              attr ? "through the attr filter" : "as a filter's attribute");
        };
        if (f == "attr") {
            bool reported = false;
            bool constant = false;
            if (!args.empty()) {
                constant = eval_str(t, args[0].first, args[0].second).has_value();
                reported = judge_arg(args[0].first, args[0].second, false);
            }
            if (!reported) {
                add(IssueKind::Unusual, t[i].begin, chain_text(t, i),
                    constant ? "the attr filter (ordinary templates use . or [])"
                             : "the attr filter with a name computed at render time");
            }
            return;
        }
        const bool first_arg = f == "selectattr" || f == "rejectattr" || f == "groupby";
        const bool keyword = f == "map" || f == "sort" || f == "sum" || f == "unique" ||
                             f == "min" || f == "max" || f == "groupby";
        for (std::size_t a = 0; a < args.size(); ++a) {
            const auto [ab, ae] = args[a];
            if (keyword && ae > ab + 2 && name(t, ab, "attribute") && op(t, ab + 1, "=")) {
                judge_arg(ab + 2, ae, false);
            } else if (first_arg && a == 0) {
                judge_arg(ab, ae, false);
            } else if (f == "map" && a == 0 && t[ab].kind == Tok::String) {
                // map('filtername') applies a filter; a string naming internals is odd
                judge_arg(ab, ae, false);
            }
        }
    }

    /// A name that is not an attribute or filter: a global, a variable, or a keyword.
    void bare_name(const Tokens& t, std::size_t i, std::vector<bool>& covered) {
        const std::string& n = t[i].value;
        if (op(t, i + 1, "=")) return;  // a keyword argument or a set target
        if (declared_.count(n)) return;
        if (unusual_global(n)) {
            add(IssueKind::Unusual, t[i].begin, chain_text(t, i),
                "uses the '" + n + "' global, which an ordinary chat template never needs");
            return;
        }
        if (n.size() > 2 && n.compare(0, 2, "__") == 0) {
            add(IssueKind::PythonInternals, t[i].begin, chain_text(t, i),
                "names a Python internal (" + printable(n) + ")");
            return;
        }
        if (dangerous_builtin(n) && op(t, i + 1, "(")) {
            add(IssueKind::DangerousName, t[i].begin, chain_text(t, i),
                "calls the Python builtin " + n + "()");
            return;
        }
        if ((n == "os" || n == "subprocess" || n == "sys" || n == "builtins") &&
            op(t, i + 1, ".")) {
            add(IssueKind::DangerousName, t[i].begin, chain_text(t, i), "uses the module " + n);
            return;
        }
        if (n == "range" && op(t, i + 1, "(") && match_[i + 1] < t.size()) {
            const auto args = split_args(t, i + 2, match_[i + 1]);
            std::vector<std::int64_t> v;
            for (const auto& [ab, ae] : args) {
                const auto x = eval_int(t, ab, ae);
                if (!x) return;
                v.push_back(*x);
            }
            std::int64_t count = 0;
            if (v.size() == 1) count = v[0];
            if (v.size() == 2) count = sat_add(v[1], -v[0]);
            if (v.size() == 3 && v[2] != 0) count = sat_add(v[1], -v[0]) / v[2];
            for (std::size_t k = i; k <= match_[i + 1]; ++k)
                covered[k] = true;
            if (count > kHuge) {
                add(IssueKind::ResourceExhaustion, t[i].begin, chain_text(t, i),
                    "a range of " + std::to_string(count) + " items");
            }
        }
    }

    static constexpr std::int64_t kHuge = 1'000'000;

    std::string_view text_;
    std::vector<TemplateIssue> issues_;
    std::vector<std::size_t> match_;  // of the tag being checked
    std::vector<std::size_t> opener_;
    std::set<std::string> declared_;                // variables the template defines
    std::set<std::string> user_attributes_;         // namespace fields, `set ns.x`
    std::map<std::string, std::string> constants_;  // {% set x = 'constant' %}
};

}  // namespace

std::vector<TemplateIssue> check_template(std::string_view text) {
    return Checker(text).run();
}

bool looks_like_template(std::string_view text) {
    const auto expr = text.find("{{");
    if (expr != std::string_view::npos && text.find("}}", expr + 2) != std::string_view::npos)
        return true;
    const auto stmt = text.find("{%");
    return stmt != std::string_view::npos && text.find("%}", stmt + 2) != std::string_view::npos;
}

const char* anomaly_code(IssueKind kind) {
    switch (kind) {
        case IssueKind::PythonInternals:
            return "template.python-internals";
        case IssueKind::DangerousName:
            return "template.dangerous-name";
        case IssueKind::Unusual:
            return "template.unusual";
        case IssueKind::ResourceExhaustion:
            return "template.resource-exhaustion";
        case IssueKind::Malformed:
            return "template.malformed";
        case IssueKind::Limit:
            return "template.not-checked";
    }
    return "template.unusual";
}

std::size_t report_template(const ParseContext& context, std::string_view key,
                            std::string_view text, std::int64_t offset) {
    const auto issues = check_template(text);
    for (const auto& issue : issues) {
        std::string evidence = printable(key.substr(0, 120)) + ": " + printable(issue.expression) +
                               " (" + issue.why + ")";
        const std::int64_t at = offset < 0 ? -1 : offset + static_cast<std::int64_t>(issue.offset);
        context.anomaly(anomaly_code(issue.kind), std::move(evidence), at);
    }
    return issues.size();
}

}  // namespace mscan::jinja
