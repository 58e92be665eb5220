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
//
// The template is scanned up to kCollectPasses times first, only to learn what its names
// hold (constant values, whether each holds data, set-block and macro bodies, macro
// parameters), flow-insensitively and monotonically, then once more to judge (the rule is
// in jinja_check.h). Every pass is linear in the text.
#include "formats/jinja_template/jinja_check.h"

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <set>
#include <variant>

#include "formats/context.h"
#include "formats/jinja_template/jinja_template_codes.h"
#include "mscan/limits.h"
#include "util/text_safety.h"

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
    bool opaque = false;   ///< a String with a \N{...} escape the check cannot name
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

/// The character a `\N{NAME}` escape names, for the names plausible in building an
/// identifier or a format string (Python accepts any Unicode name, case-insensitively);
/// nullopt for any other name, which makes the literal unfoldable.
std::optional<std::uint32_t> unicode_name(std::string_view raw) {
    std::string n;
    for (const char c : raw)
        n += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    static constexpr std::array<std::pair<std::string_view, char>, 24> kNames = {{
        {"LOW LINE", '_'},
        {"SPACE", ' '},
        {"FULL STOP", '.'},
        {"HYPHEN-MINUS", '-'},
        {"COMMA", ','},
        {"COLON", ':'},
        {"SOLIDUS", '/'},
        {"REVERSE SOLIDUS", '\\'},
        {"APOSTROPHE", '\''},
        {"QUOTATION MARK", '"'},
        {"LEFT SQUARE BRACKET", '['},
        {"RIGHT SQUARE BRACKET", ']'},
        {"LEFT PARENTHESIS", '('},
        {"RIGHT PARENTHESIS", ')'},
        {"LEFT CURLY BRACKET", '{'},
        {"RIGHT CURLY BRACKET", '}'},
        {"PERCENT SIGN", '%'},
        {"NUMBER SIGN", '#'},
        {"LINE FEED", '\n'},
        {"LINE FEED (LF)", '\n'},
        {"CHARACTER TABULATION", '\t'},
        {"EQUALS SIGN", '='},
        {"TILDE", '~'},
        {"VERTICAL LINE", '|'},
    }};
    for (const auto& [name, c] : kNames)
        if (n == name) return static_cast<std::uint32_t>(static_cast<unsigned char>(c));
    static constexpr std::string_view kSmall = "LATIN SMALL LETTER ";
    static constexpr std::string_view kCapital = "LATIN CAPITAL LETTER ";
    if (n.size() == kSmall.size() + 1 && n.compare(0, kSmall.size(), kSmall) == 0 &&
        n.back() >= 'A' && n.back() <= 'Z')
        return static_cast<std::uint32_t>(n.back() - 'A' + 'a');
    if (n.size() == kCapital.size() + 1 && n.compare(0, kCapital.size(), kCapital) == 0 &&
        n.back() >= 'A' && n.back() <= 'Z')
        return static_cast<std::uint32_t>(n.back());
    static constexpr std::array<std::string_view, 10> kDigits = {
        "DIGIT ZERO", "DIGIT ONE", "DIGIT TWO",   "DIGIT THREE", "DIGIT FOUR",
        "DIGIT FIVE", "DIGIT SIX", "DIGIT SEVEN", "DIGIT EIGHT", "DIGIT NINE"};
    for (std::size_t d = 0; d < kDigits.size(); ++d)
        if (n == kDigits[d]) return static_cast<std::uint32_t>('0' + d);
    return std::nullopt;
}

/// A string literal's body with Python's escapes applied (Jinja decodes literals that way),
/// so that '\x5f\x5fclass\x5f\x5f' and '\N{LOW LINE}' are seen as '_'. `opaque` is set when
/// a \N{...} escape names a character the check does not know.
std::string decode_literal(std::string_view body, bool& opaque) {
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
            case 'N': {
                const std::size_t close = body.find('}', i + 1);
                if (i + 1 < body.size() && body[i + 1] == '{' && close != std::string_view::npos &&
                    close - i <= 64) {
                    if (const auto cp = unicode_name(body.substr(i + 2, close - i - 2))) {
                        append_utf8(out, *cp);
                    } else {
                        opaque = true;
                    }
                    i = close;
                } else {
                    out += "\\N";
                }
                break;
            }
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
        // First the passes that only learn what the template's names hold (flow-insensitive:
        // a loop can use a name before the text assigns it), repeated until nothing new is
        // learnt (at most kCollectPasses), then the pass that judges.
        collecting_ = true;
        for (int pass = 0; pass < kCollectPasses; ++pass) {
            const std::size_t before = facts();
            scan(text);
            if (facts() == before) break;
        }
        collecting_ = false;
        const std::size_t i = scan(text);
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
    /// One pass over the template's data, comments and tags; returns where it stopped.
    std::size_t scan(std::string_view text) {
        loops_.clear();
        captures_.clear();
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
        return i;
    }

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
        if (collecting_ || full()) return;
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
                    tag_open_ = open;
                    check(tokens, close == '%');
                    std::size_t after = j + 2;
                    if (!captures_.empty() && captures_.back().start == std::string_view::npos)
                        captures_.back().start = after;
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
                t.value = decode_literal(text.substr(i + 1, j - i - 1), t.opaque);
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
        const std::size_t first = chain_start(t, i);
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

    /// A constant string (or list of strings) expression over [b, e), folded the way Python
    /// would compute it: literals (all escapes), adjacent literals, {% set %} constants and
    /// {% set %}...{% endset %} / macro bodies that are plain text, ~ and + concatenation,
    /// repetition, '%s' % x, '{}'.format(x), list and tuple literals, the keys of dict(k=...)
    /// and of {'k': ...}, indexing and slicing by constants, the methods join, format,
    /// replace, lower, upper, strip, and the filters join, format, first, last, list, reverse,
    /// lower, upper, capitalize, string, trim, replace. Anything else is unfoldable.
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
            const bool tilde = t[i].value == "~";
            ++i;
            std::optional<Const> r;
            if (tilde && i < e && t[i].kind == Tok::Number) {
                r = Const{t[i++].value};  // ~ converts a number to its text
            } else {
                r = str_repeat(t, i, e, depth);
            }
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
        while (v && i < e && (op(t, i, "*") || op(t, i, "%"))) {
            if (t[i].value == "%") {
                ++i;
                const auto args = str_postfix(t, i, e, depth + 1);
                if (!args || !v->str()) return std::nullopt;
                v = printf_format(*v->str(), *args);
                continue;
            }
            ++i;
            std::size_t j = i;
            auto n = int_unary(t, j, e, depth + 1);
            if (!n) return std::nullopt;
            i = j;
            v = repeat(v, *n);
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
    /// Python's `fmt % args` for %s, %r of plain strings (no quotes needed for names) and %%.
    static std::optional<Const> printf_format(const std::string& fmt, const Const& args) {
        std::vector<std::string> values;
        if (args.list()) {
            values = *args.list();
        } else {
            values.push_back(*args.str());
        }
        std::string out;
        std::size_t next = 0;
        for (std::size_t p = 0; p < fmt.size(); ++p) {
            if (fmt[p] != '%') {
                out += fmt[p];
                continue;
            }
            if (p + 1 >= fmt.size()) return std::nullopt;
            const char c = fmt[++p];
            if (c == '%') {
                out += '%';
            } else if (c == 's' && next < values.size()) {
                out += values[next++];
            } else {
                return std::nullopt;
            }
            if (out.size() > kMaxConstString) return std::nullopt;
        }
        if (next != values.size()) return std::nullopt;
        return Const{std::move(out)};
    }
    /// Python's `fmt.format(*args)` for {} and {N} fields without conversion or attributes.
    static std::optional<Const> brace_format(const std::string& fmt,
                                             const std::vector<Const>& args) {
        std::string out;
        std::size_t next = 0;
        for (std::size_t p = 0; p < fmt.size(); ++p) {
            const char c = fmt[p];
            if ((c == '{' || c == '}') && p + 1 < fmt.size() && fmt[p + 1] == c) {
                out += c;
                ++p;
                continue;
            }
            if (c == '}') return std::nullopt;
            if (c != '{') {
                out += c;
                continue;
            }
            const std::size_t close = fmt.find('}', p);
            if (close == std::string::npos) return std::nullopt;
            const std::string field = fmt.substr(p + 1, close - p - 1);
            std::size_t index = next;
            if (field.empty()) {
                ++next;
            } else if (field.size() <= 3 &&
                       field.find_first_not_of("0123456789") == std::string::npos) {
                index = static_cast<std::size_t>(std::stoul(field));
            } else {
                return std::nullopt;
            }
            if (index >= args.size() || !args[index].str()) return std::nullopt;
            out += *args[index].str();
            if (out.size() > kMaxConstString) return std::nullopt;
            p = close;
        }
        return Const{std::move(out)};
    }
    /// Python's s[a:b:c] over a string or a list.
    template <class Seq>
    static std::optional<Seq> py_slice(const Seq& s, std::optional<std::int64_t> a,
                                       std::optional<std::int64_t> b, std::int64_t step) {
        if (step == 0) return std::nullopt;
        const auto n = static_cast<std::int64_t>(s.size());
        auto clip = [&](std::optional<std::int64_t> x, std::int64_t dflt) {
            if (!x) return dflt;
            std::int64_t v = *x < 0 ? *x + n : *x;
            if (step > 0) return std::clamp<std::int64_t>(v, 0, n);
            return std::clamp<std::int64_t>(v, -1, n - 1);
        };
        const std::int64_t start = clip(a, step > 0 ? 0 : n - 1);
        const std::int64_t stop = clip(b, step > 0 ? n : -1);
        Seq out;
        for (std::int64_t k = start; step > 0 ? k < stop : k > stop; k += step)
            out.push_back(s[static_cast<std::size_t>(k)]);
        return out;
    }
    /// `[...]` after a constant at token i: an index or a slice by constant integers.
    std::optional<Const> subscript(const Const& v, const Tokens& t, std::size_t i,
                                   std::size_t close, int depth) const {
        std::vector<std::pair<std::size_t, std::size_t>> parts;
        std::size_t start = i + 1;
        for (std::size_t k = i + 1; k < close; ++k) {
            if (op(t, k, "(") || op(t, k, "[") || op(t, k, "{")) {
                if (match_[k] >= close) return std::nullopt;
                k = match_[k];
            } else if (op(t, k, ":")) {
                parts.emplace_back(start, k);
                start = k + 1;
            }
        }
        parts.emplace_back(start, close);
        if (parts.size() > 3) return std::nullopt;
        std::vector<std::optional<std::int64_t>> n;
        for (const auto& [pb, pe] : parts) {
            if (pb == pe) {
                n.push_back(std::nullopt);
                continue;
            }
            const auto x = eval_int(t, pb, pe, depth + 1);
            if (!x) return std::nullopt;
            n.push_back(x);
        }
        if (parts.size() == 1) {
            if (!n[0]) return std::nullopt;
            const auto size =
                static_cast<std::int64_t>(v.str() ? v.str()->size() : v.list()->size());
            const std::int64_t k = *n[0] < 0 ? *n[0] + size : *n[0];
            if (k < 0 || k >= size) return std::nullopt;
            if (v.str()) return Const{std::string(1, (*v.str())[static_cast<std::size_t>(k)])};
            return Const{(*v.list())[static_cast<std::size_t>(k)]};
        }
        const std::int64_t step = parts.size() == 3 && n[2] ? *n[2] : 1;
        if (v.str()) {
            auto r = py_slice(*v.str(), n[0], n[1], step);
            if (!r) return std::nullopt;
            return Const{std::move(*r)};
        }
        auto r = py_slice(*v.list(), n[0], n[1], step);
        if (!r) return std::nullopt;
        return Const{std::move(*r)};
    }
    /// The constant arguments of a call whose `(` is at token i (keyword arguments are
    /// not folded: nullopt).
    std::optional<std::vector<Const>> const_args(const Tokens& t, std::size_t i, std::size_t e,
                                                 int depth) const {
        const std::size_t close = match_[i];
        if (close >= e) return std::nullopt;
        std::vector<Const> args;
        for (const auto& [ab, ae] : split_args(t, i + 1, close)) {
            if (ae > ab + 1 && t[ab].kind == Tok::Name && op(t, ab + 1, "=")) return std::nullopt;
            auto a = eval_str(t, ab, ae, depth + 1);
            if (!a) return std::nullopt;
            args.push_back(std::move(*a));
        }
        return args;
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
                    auto a = const_args(t, i, e, depth);
                    if (!a) return std::nullopt;
                    args = std::move(*a);
                    i = match_[i] + 1;
                }
                v = apply_filter(*v, f, args);
            } else if (op(t, i, ".") && i + 2 < e && t[i + 1].kind == Tok::Name &&
                       op(t, i + 2, "(")) {
                const std::string& m = t[i + 1].value;
                auto a = const_args(t, i + 2, e, depth);
                if (!a || !v->str()) return std::nullopt;
                i = match_[i + 2] + 1;
                if (m == "format") {
                    v = brace_format(*v->str(), *a);
                } else if (m == "join") {
                    if (a->size() != 1) return std::nullopt;
                    v = apply_filter((*a)[0], "join", {*v});
                } else if (m == "strip" && a->empty()) {
                    v = apply_filter(*v, "trim", {});
                } else if (m == "replace" || m == "lower" || m == "upper" || m == "capitalize") {
                    v = apply_filter(*v, m, *a);
                } else {
                    return std::nullopt;
                }
            } else if (op(t, i, "[") && match_[i] < e) {
                const std::size_t close = match_[i];
                v = subscript(*v, t, i, close, depth);
                i = close + 1;
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
                    if (out.size() > kMaxConstString) return std::nullopt;
                }
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
        if (f == "format") {
            if (!v.str()) return std::nullopt;
            std::vector<std::string> values;
            for (const auto& a : args) {
                if (!a.str()) return std::nullopt;
                values.push_back(*a.str());
            }
            if (values.size() == 1) return printf_format(*v.str(), Const{values[0]});
            return printf_format(*v.str(), Const{std::move(values)});
        }
        if (f == "first" || f == "last") {
            if (v.list()) {
                if (v.list()->empty()) return std::nullopt;
                return Const{f == "first" ? v.list()->front() : v.list()->back()};
            }
            if (v.str()->empty()) return std::nullopt;
            return Const{std::string(1, f == "first" ? v.str()->front() : v.str()->back())};
        }
        if (f == "list") {
            if (v.list()) return v;
            std::vector<std::string> chars;
            for (const char c : *v.str())
                chars.emplace_back(1, c);
            return Const{std::move(chars)};
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
        } else if (f == "capitalize") {
            for (std::size_t k = 0; k < s.size(); ++k) {
                char& c = s[k];
                if (k == 0 && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
                if (k > 0 && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
            }
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
            if (t[i].opaque) return std::nullopt;
            std::string s = t[i++].value;
            // adjacent literals concatenate
            while (i < e && t[i].kind == Tok::String) {
                if (t[i].opaque) return std::nullopt;
                s += t[i++].value;
            }
            return Const{std::move(s)};
        }
        if (t[i].kind == Tok::Name) {
            const std::string& n = t[i].value;
            const bool call = op(t, i + 1, "(") && match_[i + 1] < e;
            if (call && n == "dict" && !declared_.count(n)) {
                // dict(a=1, b=2): its keys are the keyword names
                std::vector<std::string> keys;
                for (const auto& [ab, ae] : split_args(t, i + 2, match_[i + 1])) {
                    if (!(ae > ab + 1 && t[ab].kind == Tok::Name && op(t, ab + 1, "=")))
                        return std::nullopt;
                    keys.push_back(t[ab].value);
                }
                i = match_[i + 1] + 1;
                return Const{std::move(keys)};
            }
            if (call) {
                // a macro whose body is plain text, called as a value
                const auto m = macros_.find(n);
                if (m == macros_.end() || !m->second) return std::nullopt;
                i = match_[i + 1] + 1;
                return Const{*m->second};
            }
            const auto it = assigned_.find(n);
            if (it == assigned_.end() || !it->second) return std::nullopt;
            ++i;
            return Const{*it->second};
        }
        if (op(t, i, "{")) {
            // {'a': 1, 'b': 2}: iterating a dict gives its keys
            const std::size_t close = match_[i];
            if (close >= e) return std::nullopt;
            std::vector<std::string> keys;
            for (const auto& [ab, ae] : split_args(t, i + 1, close)) {
                std::size_t colon = ab;
                while (colon < ae && !op(t, colon, ":"))
                    ++colon;
                auto k = eval_str(t, ab, colon, depth + 1);
                if (!k || !k->str()) return std::nullopt;
                keys.push_back(*k->str());
            }
            i = close + 1;
            return Const{std::move(keys)};
        }
        if (op(t, i, "(") || op(t, i, "[")) {
            const bool list = t[i].value == "[";
            const std::size_t close = match_[i];
            if (close >= e) return std::nullopt;
            const auto parts = split_args(t, i + 1, close);
            bool comma = false;
            for (std::size_t k = i + 1; k < close; ++k) {
                if (op(t, k, "(") || op(t, k, "[") || op(t, k, "{")) {
                    if (match_[k] >= close) break;
                    k = match_[k];
                } else if (op(t, k, ",")) {
                    comma = true;
                }
            }
            std::optional<Const> out;
            if (list || comma) {
                std::vector<std::string> items;
                for (const auto& [ab, ae] : parts) {
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

    // --- what the template's names hold (learnt in the collecting passes) ---

    /// Globals (and Flask context names) that are not template data: callables and objects
    /// whose attributes lead to Python internals (`namespace.__init__.__globals__`,
    /// `cycler.__init__`, `lipsum.__globals__`, `self._TemplateReference__context`).
    static bool object_global(std::string_view s) {
        static constexpr std::array<std::string_view, 16> kObjects = {
            "namespace",       "dict",         "cycler",  "joiner",
            "lipsum",          "range",        "self",    "caller",
            "varargs",         "kwargs",       "config",  "request",
            "raise_exception", "strftime_now", "url_for", "get_flashed_messages"};
        return std::find(kObjects.begin(), kObjects.end(), s) != kObjects.end();
    }

    /// The number of facts learnt so far (they only grow: a name once known to hold
    /// something other than data stays so), to tell when a collecting pass learnt nothing.
    std::size_t facts() const {
        std::size_t poisoned = 0;
        for (const auto& [name, value] : assigned_)
            poisoned += value ? 0 : 1;
        for (const auto& [name, body] : macros_)
            poisoned += body ? 0 : 1;
        return declared_.size() + user_attributes_.size() + assigned_.size() + poisoned +
               nondata_vars_.size() + nondata_fields_.size() + object_vars_.size() +
               namespace_vars_.size() + macros_.size() + macro_params_.size();
    }

    /// Records a value assigned to `name`: a name assigned one constant everywhere folds to
    /// it; two different values, or one that does not fold, make it unfoldable.
    void record_assign(const std::string& name, const std::optional<std::string>& value) {
        const auto [it, inserted] = assigned_.try_emplace(name, value);
        if (!inserted && it->second != value) it->second = std::nullopt;
    }

    /// Whether a constant string is safe as a piece of a name: not empty-edged with '_', not
    /// a Python internal or a dangerous key. Any name the sandbox refuses, built by
    /// concatenation, joining or formatting, needs a piece that is not safe ('_', '__cl',
    /// 'f_'); pieces like 'content', 'text' or '<|im_start|>' are ordinary template text.
    static bool safe_piece(const std::string& s) {
        if (s.empty()) return true;
        if (s.front() == '_' || s.back() == '_') return false;
        return !internal_name(s) && !dangerous_key(s);
    }

    /// Whether the value of [b, e) is provably plain data: computed only from the render
    /// context (messages, tools, flags, their items and attributes), numbers, booleans,
    /// literals that are safe pieces, lists and dicts of these, and the results of
    /// comparisons, tests and counting filters. A literal that is not a safe piece, a name
    /// assigned something else, a macro's or caller's output that is not plain safe text, a
    /// non-data global, or a call or filter given any of these is not: it can spell a name.
    /// Bounded by kDataDepth nested brackets.
    bool is_data(const Tokens& t, std::size_t b, std::size_t e, int depth = 0) const {
        if (b >= e) return true;
        if (depth > kDataDepth) return false;
        std::size_t if_at = e, else_at = e;
        bool boolean = false;
        std::vector<std::size_t> cuts;
        for (std::size_t i = b; i < e; ++i) {
            const Token& tok = t[i];
            if (op(t, i, "(") || op(t, i, "[") || op(t, i, "{")) {
                if (match_[i] >= e) return false;
                i = match_[i];
                continue;
            }
            if (tok.kind == Tok::Name) {
                if (tok.value == "if" && if_at == e) if_at = i;
                if (tok.value == "else" && if_at != e && else_at == e) else_at = i;
                if (tok.value == "and" || tok.value == "or" || tok.value == "not" ||
                    tok.value == "in" || tok.value == "is")
                    boolean = true;
            } else if (tok.kind == Tok::Op) {
                const std::string& o = tok.value;
                if (o == "==" || o == "!=" || o == "<" || o == ">" || o == "<=" || o == ">=")
                    boolean = true;
                if (o == "~" || o == "+" || o == "-" || o == "*" || o == "/" || o == "//" ||
                    o == "%" || o == "**")
                    cuts.push_back(i);
                if (o == ",") return false;  // a tuple
            }
        }
        if (if_at != e)
            return is_data(t, b, if_at, depth + 1) &&
                   (else_at == e || is_data(t, else_at + 1, e, depth + 1));
        if (boolean) return true;  // a comparison, test or boolean operator gives a bool
        cuts.push_back(e);
        std::size_t start = b;
        for (const std::size_t cut : cuts) {
            if (cut > start && !operand_is_data(t, start, cut, depth + 1)) return false;
            start = cut + 1;
        }
        return true;
    }

    /// One operand (a name, literal or parenthesis with its attributes, subscripts, calls
    /// and filters) of is_data.
    bool operand_is_data(const Tokens& t, std::size_t b, std::size_t e, int depth) const {
        if (depth > kDataDepth) return false;
        if (const auto v = eval_str(t, b, e, depth)) {
            // a constant: data if it is a safe piece (or a list of them)
            if (v->str()) return safe_piece(*v->str());
            return std::all_of(v->list()->begin(), v->list()->end(), safe_piece);
        }
        std::size_t i = b;
        bool data = true;
        const Token& head = t[i];
        if (head.kind == Tok::Number) {
            ++i;
        } else if (head.kind == Tok::String) {
            // a literal is data only as a piece that cannot start, end or be a name the
            // sandbox refuses: building __x__, f_globals or a dangerous name needs a piece
            // that starts or ends with '_' or is one of them
            std::string piece;
            for (; i < e && t[i].kind == Tok::String; ++i) {
                if (t[i].opaque) return false;
                piece += t[i].value;
            }
            if (!safe_piece(piece)) return false;
        } else if (op(t, i, "(")) {
            const std::size_t close = match_[i];
            if (close >= e || !is_data(t, i + 1, close, depth + 1)) return false;
            i = close + 1;
        } else if (head.kind == Tok::Name) {
            const std::string& n = head.value;
            ++i;
            if (n == "true" || n == "false" || n == "none" || n == "True" || n == "False" ||
                n == "None") {
            } else if (n == "loop" && !declared_.count(n)) {
                static constexpr std::array<std::string_view, 9> kCounters = {
                    "index", "index0", "revindex", "revindex0", "first",
                    "last",  "length", "depth",    "depth0"};
                const bool counter = op(t, i, ".") && i + 1 < e && t[i + 1].kind == Tok::Name &&
                                     std::find(kCounters.begin(), kCounters.end(),
                                               t[i + 1].value) != kCounters.end();
                data = counter || (!loops_.empty() && loops_.back());
            } else if (const auto m = macros_.find(n); m != macros_.end()) {
                // a macro's output is data only if it is plain text and a safe piece
                if (!op(t, i, "(") || !m->second || !safe_piece(*m->second)) return false;
            } else if (object_vars_.count(n)) {
                return false;
            } else if (object_global(n) && !declared_.count(n)) {
                if (!(n == "range" && op(t, i, "("))) return false;  // range() gives numbers
            } else if (namespace_vars_.count(n) && op(t, i, ".") && i + 1 < e &&
                       t[i + 1].kind == Tok::Name) {
                data = !nondata_fields_.count(t[i + 1].value);
                i += 2;
            } else if (declared_.count(n)) {
                data = !nondata_vars_.count(n);
            }
            // any other name comes from the render context: data
        } else if (op(t, i, "[") && match_[i] < e) {
            // a list of data is data
            for (const auto& [ab, ae] : split_args(t, i + 1, match_[i]))
                if (!is_data(t, ab, ae, depth + 1)) return false;
            i = match_[i] + 1;
        } else if (op(t, i, "{") && match_[i] < e) {
            // a dict whose keys are ordinary constant names and whose values are data is
            // data (iterating it gives the keys)
            for (const auto& [ab, ae] : split_args(t, i + 1, match_[i])) {
                std::size_t colon = ab;
                while (colon < ae && !op(t, colon, ":"))
                    ++colon;
                const auto k = eval_str(t, ab, colon, depth + 1);
                if (colon >= ae || !k || !k->str() || internal_name(*k->str()) ||
                    dangerous_key(*k->str()) || (!k->str()->empty() && (*k->str())[0] == '_') ||
                    !is_data(t, colon + 1, ae, depth + 1))
                    return false;
            }
            i = match_[i] + 1;
        } else {
            return false;  // an operator out of place
        }
        while (i < e) {
            if (op(t, i, ".") && i + 1 < e && t[i + 1].kind == Tok::Name) {
                i += 2;
            } else if (op(t, i, "[") && match_[i] < e) {
                i = match_[i] + 1;  // the key is judged where it stands
            } else if (op(t, i, "(") && match_[i] < e) {
                if (!args_are_data(t, i, depth)) data = false;
                i = match_[i] + 1;
            } else if (op(t, i, "|") && i + 1 < e && t[i + 1].kind == Tok::Name) {
                const std::string& f = t[i + 1].value;
                i += 2;
                if (op(t, i, "(") && match_[i] < e) {
                    if (!args_are_data(t, i, depth)) data = false;
                    i = match_[i] + 1;
                }
                static constexpr std::array<std::string_view, 7> kCounting = {
                    "length", "count", "int", "float", "abs", "round", "wordcount"};
                if (std::find(kCounting.begin(), kCounting.end(), f) != kCounting.end())
                    data = true;  // a number, whatever it counted
            } else {
                return false;
            }
        }
        return data;
    }

    bool args_are_data(const Tokens& t, std::size_t open, int depth) const {
        for (const auto& [ab, ae] : split_args(t, open + 1, match_[open])) {
            std::size_t vb = ab;
            if (ae > ab + 1 && t[ab].kind == Tok::Name && op(t, ab + 1, "=")) vb = ab + 2;
            if (!is_data(t, vb, ae, depth + 1)) return false;
        }
        return true;
    }

    /// Whether the chain starting at token `first` is a non-data object: a non-data global
    /// (not its call's result, except a cycler or joiner instance), a macro, `loop` itself,
    /// or a name the template set to one of these.
    bool object_head(const Tokens& t, std::size_t first) const {
        if (first >= t.size() || t[first].kind != Tok::Name) return false;
        const std::string& n = t[first].value;
        const bool called = op(t, first + 1, "(");
        if (macros_.count(n)) return !called;
        if (object_vars_.count(n)) return true;
        if (declared_.count(n)) return false;
        if (n == "loop") return op(t, first + 1, "[");
        if (!object_global(n)) return false;
        return !called || n == "cycler" || n == "joiner";
    }

    /// The first token of the postfix chain (through `.`, `|`, calls and subscripts) that
    /// token `i` belongs to.
    std::size_t chain_start(const Tokens& t, std::size_t i) const {
        std::size_t first = operand_start(t, i).value_or(i);
        for (int steps = 0;
             steps < kChainSteps && first >= 2 && (op(t, first - 1, ".") || op(t, first - 1, "|"));
             ++steps) {
            const auto s = operand_start(t, first - 2);
            if (!s) break;
            first = *s;
        }
        return first;
    }

    /// {% set %}...{% endset %} and macro bodies: while open, any tag inside makes the body
    /// something other than plain text.
    void note_tag(const Tokens& t, bool statement) {
        const bool closer = statement && !t.empty() && t[0].kind == Tok::Name &&
                            !captures_.empty() &&
                            ((t[0].value == "endset" && !captures_.back().macro) ||
                             (t[0].value == "endmacro" && captures_.back().macro));
        if (!closer) {
            for (auto& c : captures_)
                c.pure = false;
            return;
        }
        Capture c = std::move(captures_.back());
        captures_.pop_back();
        for (auto& o : captures_)
            o.pure = false;
        if (!collecting_) return;
        std::optional<std::string> body;
        if (c.pure && c.start != std::string_view::npos && c.start <= tag_open_) {
            std::string_view v = text_.substr(c.start, tag_open_ - c.start);
            while (!v.empty() && space(static_cast<unsigned char>(v.front())))
                v.remove_prefix(1);
            while (!v.empty() && space(static_cast<unsigned char>(v.back())))
                v.remove_suffix(1);
            if (v.size() <= kMaxConstString) body = std::string(v);
        }
        if (c.macro) {
            const auto [it, inserted] = macros_.try_emplace(c.name, body);
            if (!inserted && it->second != body) it->second = std::nullopt;
        } else {
            record_assign(c.name, body);
            if (!body || !safe_piece(*body)) nondata_vars_.insert(c.name);
        }
    }

    /// A macro's parameters hold what its call sites pass: a parameter is data only if
    /// every call passes data for it (and its default is data). A macro used as a value
    /// (passed, assigned) can be called from anywhere: its parameters are not data.
    void macro_calls(const Tokens& t, const std::string& kw) {
        for (std::size_t i = 0; i < t.size(); ++i) {
            if (t[i].kind != Tok::Name || (i > 0 && (op(t, i - 1, ".") || op(t, i - 1, "|"))))
                continue;
            const auto m = macro_params_.find(t[i].value);
            if (m == macro_params_.end() || (kw == "macro" && i == 1)) continue;
            if (!op(t, i + 1, "(") || match_[i + 1] >= t.size()) {
                for (const auto& p : m->second)
                    nondata_vars_.insert(p);
                continue;
            }
            std::size_t position = 0;
            for (const auto& [ab, ae] : split_args(t, i + 2, match_[i + 1])) {
                std::string param;
                std::size_t vb = ab;
                if (ae > ab + 1 && t[ab].kind == Tok::Name && op(t, ab + 1, "=")) {
                    param = t[ab].value;
                    vb = ab + 2;
                } else if (position < m->second.size()) {
                    param = m->second[position++];
                }
                if (!is_data(t, vb, ae)) {
                    if (param.empty()) {
                        for (const auto& p : m->second)  // into varargs
                            nondata_vars_.insert(p);
                    } else {
                        nondata_vars_.insert(param);
                    }
                }
            }
        }
    }

    /// Records what a statement declares: {% set %} targets (their constant values, whether
    /// they hold data or objects), loop variables, macro names and parameters, namespace()
    /// fields. Loop nesting and set-block/macro bodies are followed in every pass; the rest
    /// is learnt only in the collecting passes.
    void declare(const Tokens& t, bool statement) {
        const std::string kw = statement && !t.empty() && t[0].kind == Tok::Name ? t[0].value : "";
        if (kw == "endfor" && !loops_.empty()) loops_.pop_back();
        if (kw == "for") {
            std::size_t in = 1;
            while (in < t.size() && !name(t, in, "in"))
                ++in;
            std::size_t end = in + 1;
            while (end < t.size() && !name(t, end, "if") && !name(t, end, "recursive")) {
                if ((op(t, end, "(") || op(t, end, "[") || op(t, end, "{")) &&
                    match_[end] < t.size())
                    end = match_[end];
                ++end;
            }
            const bool data = in < t.size() && is_data(t, in + 1, end);
            if (loops_.size() < kMaxLoops) loops_.push_back(data);
            if (collecting_) {
                for (std::size_t i = 1; i < in; ++i) {
                    if (t[i].kind != Tok::Name) continue;
                    declared_.insert(t[i].value);
                    record_assign(t[i].value, std::nullopt);
                    if (!data) nondata_vars_.insert(t[i].value);
                }
            }
        }
        const bool block_set = kw == "set" && t.size() >= 2 && t[1].kind == Tok::Name &&
                               std::none_of(t.begin(), t.end(), [](const Token& x) {
                                   return x.kind == Tok::Op && x.value == "=";
                               });
        if ((block_set || (kw == "macro" && t.size() >= 2 && t[1].kind == Tok::Name)) &&
            captures_.size() < kMaxLoops) {
            // a filtered set block ({% set x | upper %}) is not plain text
            captures_.push_back(
                {t[1].value, kw == "macro", !block_set || t.size() == 2, std::string_view::npos});
        }
        if (!collecting_) return;
        if (kw != "macro" && kw != "call") macro_calls(t, kw);
        for (std::size_t i = 0; i + 1 < t.size(); ++i) {
            // namespace(a=..., b=...): the fields are the template's own
            if (name(t, i, "namespace") && op(t, i + 1, "(")) {
                const std::size_t close = match_[i + 1];
                for (const auto& [ab, ae] : split_args(t, i + 2, std::min(close, t.size()))) {
                    if (ae > ab + 1 && t[ab].kind == Tok::Name && op(t, ab + 1, "=")) {
                        user_attributes_.insert(t[ab].value);
                        if (!is_data(t, ab + 2, ae)) nondata_fields_.insert(t[ab].value);
                    }
                }
            }
        }
        if (kw == "set") {
            std::size_t eq = 1;
            while (eq < t.size() && !op(t, eq, "="))
                ++eq;
            if (block_set) {
                declared_.insert(t[1].value);
                return;
            }
            const bool data = is_data(t, eq + 1, t.size());
            if (eq == 4 && t[1].kind == Tok::Name && op(t, 2, ".") && t[3].kind == Tok::Name) {
                user_attributes_.insert(t[3].value);
                if (!data) nondata_fields_.insert(t[3].value);
                return;
            }
            for (std::size_t i = 1; i < eq; ++i) {
                if (t[i].kind != Tok::Name) continue;
                if (op(t, i - 1, ".")) {
                    user_attributes_.insert(t[i].value);
                    if (!data) nondata_fields_.insert(t[i].value);
                    continue;
                }
                declared_.insert(t[i].value);
                if (!data) nondata_vars_.insert(t[i].value);
                if (eq != 2) record_assign(t[i].value, std::nullopt);
            }
            if (eq == 2 && t[1].kind == Tok::Name && eq + 1 < t.size()) {
                const std::string& target = t[1].value;
                const auto v = eval_str(t, eq + 1, t.size());
                record_assign(target,
                              v && v->str() ? std::optional<std::string>(*v->str()) : std::nullopt);
                if (object_head(t, eq + 1)) object_vars_.insert(target);
                if (name(t, eq + 1, "namespace") && op(t, eq + 2, "(") &&
                    !declared_.count("namespace"))
                    namespace_vars_.insert(target);
            }
        } else if (kw == "with") {
            // {% with a = x, b = y %}: scoped assignments, judged like {% set %}
            for (const auto& [ab, ae] : split_args(t, 1, t.size())) {
                if (!(ae > ab + 2 && t[ab].kind == Tok::Name && op(t, ab + 1, "="))) continue;
                const std::string& target = t[ab].value;
                declared_.insert(target);
                if (!is_data(t, ab + 2, ae)) nondata_vars_.insert(target);
                if (object_head(t, ab + 2)) object_vars_.insert(target);
                const auto v = eval_str(t, ab + 2, ae);
                record_assign(target,
                              v && v->str() ? std::optional<std::string>(*v->str()) : std::nullopt);
            }
        } else if (kw == "macro" || kw == "call") {
            std::vector<std::string> params;
            for (std::size_t i = 1; i < t.size(); ++i) {
                if (t[i].kind != Tok::Name || !(i == 1 || op(t, i - 1, "(") || op(t, i - 1, ",")))
                    continue;
                declared_.insert(t[i].value);
                if (i == 1 && kw == "macro") continue;  // the macro's name
                record_assign(t[i].value, std::nullopt);
                params.push_back(t[i].value);
                if (kw == "call") {
                    nondata_vars_.insert(t[i].value);  // caller(...) passes anything
                } else if (op(t, i + 1, "=")) {
                    // a default value: the parameter holds it when a call omits it
                    std::size_t end = i + 2;
                    while (end < t.size() && !op(t, end, ",") && !op(t, end, ")")) {
                        if ((op(t, end, "(") || op(t, end, "[") || op(t, end, "{")) &&
                            match_[end] < t.size())
                            end = match_[end];
                        ++end;
                    }
                    if (!is_data(t, i + 2, end)) nondata_vars_.insert(t[i].value);
                }
            }
            if (kw == "macro" && t.size() >= 2 && t[1].kind == Tok::Name)
                macro_params_[t[1].value] = std::move(params);
            macro_calls(t, kw);
        } else if (kw == "from" || kw == "import") {
            for (std::size_t i = 1; i < t.size(); ++i) {
                if (t[i].kind == Tok::Name && (name(t, i - 1, "as") || name(t, i - 1, "import"))) {
                    declared_.insert(t[i].value);
                    object_vars_.insert(t[i].value);
                }
            }
        }
    }

    void check(const Tokens& t, bool statement) {
        note_tag(t, statement);
        if (t.empty()) return;
        match_ = match_brackets(t, opener_);
        declare(t, statement);
        if (collecting_) return;
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
                    if ((tok.value == "format" || tok.value == "format_map") && i >= 2)
                        format_call(t, i, covered);
                    continue;
                }
                if (i > 0 && op(t, i - 1, "|")) {
                    filter(t, i, covered);
                    continue;
                }
                bare_name(t, i, covered);
            } else if (tok.kind == Tok::Op && tok.value == "[" && i > 0 &&
                       ((t[i - 1].kind == Tok::Name && !keyword(t[i - 1].value)) ||
                        t[i - 1].kind == Tok::String || op(t, i - 1, ")") || op(t, i - 1, "]"))) {
                const std::size_t close = match_[i];
                if (close >= t.size() || close == i + 1) continue;
                subscript_key(t, i, close, covered);
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

    /// The key of the subscript `[` at token i (closing at `close`). A slice is numbers. A
    /// key that folds to a constant string is judged as a name (jinja2's subscript falls
    /// back to getattr when the item is missing, so x['__class__'] reaches the class even on
    /// a dict). A key that does not fold is critical unless it is provably data, and a data
    /// key is still critical on a non-data object (`namespace[k]`).
    void subscript_key(const Tokens& t, std::size_t i, std::size_t close,
                       std::vector<bool>& covered) {
        for (std::size_t k = i + 1; k < close; ++k) {
            if ((op(t, k, "(") || op(t, k, "[") || op(t, k, "{")) && match_[k] < close) {
                k = match_[k];
            } else if (op(t, k, ":")) {
                return;  // a slice
            }
        }
        if (const auto key = eval_str(t, i + 1, close)) {
            if (!key->str()) return;
            for (std::size_t k = i + 1; k < close; ++k)
                covered[k] = true;
            judge_name(*key->str(), true, t[i + 1].begin, t, i - 1, "as a key");
            return;
        }
        if (!is_data(t, i + 1, close)) {
            add(IssueKind::PythonInternals, t[i + 1].begin, chain_text(t, i - 1),
                "a key the template builds that does not fold to a constant: jinja2 falls back "
                "to getattr when the item is missing, so it can name any attribute");
            return;
        }
        const std::size_t first = chain_start(t, i - 1);
        if (object_head(t, first)) {
            add(IssueKind::PythonInternals, t[i + 1].begin, chain_text(t, i - 1),
                "a computed key on '" + printable(t[first].value) +
                    "', which is not template data (jinja2 falls back to getattr)");
        }
    }

    /// Whether a str.format string has a field that reads an internal or private attribute
    /// of its argument (`{0.__class__}`, `{0[__globals__]}`, `{0._x}`).
    static bool format_reaches_internals(const std::string& fmt) {
        for (std::size_t p = fmt.find('{'); p != std::string::npos; p = fmt.find('{', p + 1)) {
            if (p + 1 < fmt.size() && fmt[p + 1] == '{') {
                ++p;
                continue;
            }
            std::size_t q = p + 1;
            while (q < fmt.size() && fmt[q] != '}' && fmt[q] != '!' && fmt[q] != ':')
                ++q;
            const std::string field = fmt.substr(p + 1, q - p - 1);
            std::size_t start = field.find_first_of(".[");
            while (start != std::string::npos) {
                const std::size_t end = field.find_first_of(".[]", start + 1);
                const std::string part = field.substr(
                    start + 1, end == std::string::npos ? std::string::npos : end - start - 1);
                if (internal_name(part) || (!part.empty() && part[0] == '_')) return true;
                start = end == std::string::npos ? end : field.find_first_of(".[", end);
            }
        }
        return false;
    }

    /// `.format(...)` / `.format_map(...)` at token i: its receiver's fields read attributes
    /// of the arguments (the sandbox replaces str.format; a plain Environment does not).
    void format_call(const Tokens& t, std::size_t i, std::vector<bool>& covered) {
        const auto start = operand_start(t, i - 2);
        if (!start || *start >= i - 1) return;
        if (const auto fmt = eval_str(t, *start, i - 1)) {
            if (fmt->str() && (format_reaches_internals(*fmt->str()) ||
                               (t[i - 2].kind == Tok::String && holds_dunder(t[i - 2].value)))) {
                for (std::size_t k = *start; k < i - 1; ++k)
                    covered[k] = true;
                add(IssueKind::PythonInternals, t[*start].begin, chain_text(t, i),
                    "str.format with a field that reaches Python internals");
            }
            return;
        }
        if (!is_data(t, *start, i - 1)) {
            add(IssueKind::PythonInternals, t[*start].begin, chain_text(t, i),
                "str.format on a format string the template builds that does not fold to a "
                "constant (its fields can read any attribute)");
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
            if (!v) {
                // a name the template builds but that does not fold is not provably safe
                if (is_data(t, ab, ae)) return false;
                add(IssueKind::PythonInternals, t[ab].begin, chain_text(t, i),
                    "an attribute name the template builds that does not fold to a constant "
                    "(|" +
                        f + " reaches any attribute with it)");
                return true;
            }
            if (!v->str()) return false;
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
                // map('attr', name) applies the attr filter to each item
                const auto g = eval_str(t, ab, ae);
                if (g && g->str() && *g->str() == "attr" && args.size() >= 2) {
                    if (!judge_arg(args[1].first, args[1].second, false))
                        add(IssueKind::Unusual, t[i].begin, chain_text(t, i),
                            "map('attr', ...) (ordinary templates use map(attribute=...))");
                }
            }
        }
    }

    /// A name that is not an attribute or filter: a global, a variable, or a keyword.
    void bare_name(const Tokens& t, std::size_t i, std::vector<bool>& covered) {
        const std::string& n = t[i].value;
        if (op(t, i + 1, "=")) {
            // a keyword argument or a set target; dict(__init__=1)|first makes a keyword
            // argument's name a string
            if (i > 0 && (op(t, i - 1, "(") || op(t, i - 1, ",")) && internal_name(n) &&
                !user_attributes_.count(n))
                add(IssueKind::PythonInternals, t[i].begin, n + "=...",
                    "a keyword argument named like a Python internal (" + printable(n) +
                        "): dict() and |first turn keyword names into keys");
            return;
        }
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
    std::set<std::string> declared_;         // variables the template defines
    std::set<std::string> user_attributes_;  // namespace fields, `set ns.x`
    /// A {% set x %}...{% endset %} or macro body being read.
    struct Capture {
        std::string name;
        bool macro = false;
        bool pure = true;  ///< no tag inside (yet): plain text
        std::size_t start = std::string_view::npos;
    };
    static constexpr int kCollectPasses = 4;
    static constexpr int kDataDepth = 16;
    static constexpr std::size_t kMaxLoops = 64;

    bool collecting_ = false;   // a pass that learns facts and reports nothing
    std::size_t tag_open_ = 0;  // where the tag being checked starts
    std::vector<bool> loops_;   // per open {% for %}: whether it iterates data
    std::vector<Capture> captures_;
    /// Values assigned to names: one constant everywhere, or nullopt (unfoldable).
    std::map<std::string, std::optional<std::string>> assigned_;
    /// Macro bodies that are plain text (nullopt: not).
    std::map<std::string, std::optional<std::string>> macros_;
    std::set<std::string> nondata_vars_;    // names assigned something not provably data
    std::set<std::string> nondata_fields_;  // namespace fields assigned such a thing
    std::set<std::string> object_vars_;     // names set to a non-data object
    std::set<std::string> namespace_vars_;  // names set to namespace(...)
    std::map<std::string, std::vector<std::string>> macro_params_;  // macro -> parameters
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

AnomalyCode anomaly_code(IssueKind kind) {
    switch (kind) {
        case IssueKind::PythonInternals:
            return kPythonInternals;
        case IssueKind::DangerousName:
            return kDangerousName;
        case IssueKind::Unusual:
            return kUnusual;
        case IssueKind::ResourceExhaustion:
            return kResourceExhaustion;
        case IssueKind::Malformed:
            return kMalformed;
        case IssueKind::Limit:
            return kNotChecked;
    }
    return kUnusual;
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
