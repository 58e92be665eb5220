// Jinja templates shipped inside model files (a GGUF `tokenizer.chat_template`, a Hugging Face
// tokenizer_config.json `chat_template`): a loader renders them, and one that renders without a
// sandbox runs whatever Python the template reaches (llama-cpp-python, CVE-2024-34359). The
// check tokenises the template the way Jinja's lexer does (comments, raw blocks, string
// literals with their escapes, bracket balance) so that a word in a string literal or in the
// output text is not code, while a string used as an attribute name (`x['__class__']`,
// `|attr('__cla' ~ 'ss__')`, `|map(attribute=...)`) is. Nothing is ever rendered.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mscan {
class ParseContext;
}

namespace mscan::jinja {

/// What is wrong with one expression of a template.
enum class IssueKind {
    /// Reaches Python object internals: a dunder or frame/function attribute (`__class__`,
    /// `__globals__`, `__subclasses__`, `f_globals`), by attribute, key or attr filter.
    PythonInternals,
    /// Names a dangerous module or function as an attribute or key (`os`, `popen`,
    /// `subprocess`, `eval`, `system`), or calls such a builtin by name (`eval(...)`).
    DangerousName,
    /// A construct an ordinary chat template never needs: the `self`, `cycler`, `joiner`,
    /// `lipsum`, `config`, `request` globals, the attr filter, private attributes, a string
    /// naming a Python internal, {% include %} / {% import %} / {% extends %}.
    Unusual,
    /// A loop or value far too large to render (`range(10**9)`, `'x' * 10**9`).
    ResourceExhaustion,
    /// The template does not tokenise (an unterminated tag, comment or string): Jinja refuses
    /// it, and the check saw only what comes before the break.
    Malformed,
    /// The template is longer than limits::kTemplateMaxBytes, or holds more than
    /// limits::kTemplateMaxIssues issues: the rest was not parsed, only searched (degraded)
    /// for Python internals and dangerous names, which are reported as well.
    Limit,
};

/// One finding in a template.
struct TemplateIssue {
    IssueKind kind = IssueKind::Unusual;
    /// The offending expression as written (cut for evidence).
    std::string expression;
    /// Byte offset of the offending token in the template text.
    std::size_t offset = 0;
    /// Why it is reported, in a few words ("reaches Python internals (__globals__)").
    std::string why;
};

/// Checks a template's text. Deterministic; linear in the text (capped at
/// limits::kTemplateMaxBytes); at most limits::kTemplateMaxIssues issues, in text order.
std::vector<TemplateIssue> check_template(std::string_view text);

/// Whether a metadata string looks like a Jinja template ("{{ ... }}" or "{% ... %}").
bool looks_like_template(std::string_view text);

/// The anomaly code an issue is reported with ("template.python-internals", ...).
const char* anomaly_code(IssueKind kind);

/// Reports every issue of `text`, the template stored under `key` (e.g.
/// "tokenizer.chat_template"), as an anomaly of `context` with the key and the expression as
/// evidence. `offset` is the template's first byte inside the parsed object, or -1 when the
/// template is not stored verbatim (a JSON string with escapes): issue offsets are then not
/// shown. Returns the number of issues.
std::size_t report_template(const ParseContext& context, std::string_view key,
                            std::string_view text, std::int64_t offset);

}  // namespace mscan::jinja
