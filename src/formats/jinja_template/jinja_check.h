// Jinja templates shipped inside model files (a GGUF `tokenizer.chat_template`, a Hugging Face
// tokenizer_config.json `chat_template`): a loader renders them, and one that renders without a
// sandbox runs whatever Python the template reaches (llama-cpp-python, CVE-2024-34359). The
// check tokenises the template the way Jinja's lexer does (comments, raw blocks, string
// literals with their escapes, bracket balance) so that a word in a string literal or in the
// output text is not code, while a string used as an attribute name (`x['__class__']`,
// `|attr('__cla' ~ 'ss__')`, `|map(attribute=...)`) is. Nothing is ever rendered.
//
// The rule is the sandbox's (jinja2.sandbox, which such a loader should have used), judged
// statically on every attribute name, subscript key and attribute argument of a filter
// (attr, map('attr', k), map/sort/sum/unique/min/max/groupby(attribute=k), selectattr,
// rejectattr):
//  - A key that folds to a constant (literals with all Python escapes including \N{LOW LINE},
//    ~ and +, %, |format, .format, join, replace, reverse, lower/upper, slicing, dict(k=1)
//    and {'k': 1} keys, {% set %} values, {% set %}...{% endset %} blocks and macro bodies
//    that are plain text, a name assigned one constant everywhere) is judged by its value:
//    a dunder or a frame/function/code attribute (is_internal_attribute) and a dangerous
//    module or function name are critical; another `_` name (is_safe_attribute refuses it
//    too) is unusual.
//  - A key that does not fold is critical unless it is provably data: computed only from the
//    render context (messages, tools, flags, their items and attributes, loop counters), from
//    numbers and booleans, and from literals that are "safe pieces" (no leading or trailing
//    `_`, not an internal or dangerous name: no name the sandbox refuses can be built
//    without such a piece). Names assigned in loops are tracked flow-insensitively, so an
//    accumulating loop makes its variable not data; a macro parameter is data only if every
//    call passes data.
//  - A provably-data key is still critical on a value that is not template data: the globals
//    namespace, dict, cycler, joiner, lipsum, range, self, caller, varargs, kwargs, config,
//    request, raise_exception, strftime_now, a macro, `loop` itself.
// Why a computed key on plain data is not automatically safe: checked with jinja2 3.1.2,
// `Environment().from_string("{{ m[k] }}").render(m={"role": "u"}, k="__class__")` renders
// `<class 'dict'>`: jinja2's subscript falls back to getattr when the item is missing (and
// `x.k` falls back to getitem), so only a key whose value cannot be chosen by the template
// (one derived from the rendered data, like `for k, v in message.items()`) is data access.
// Folding is bounded: strings up to 4 KiB, 32 nested brackets, 16 levels in the data check;
// past a bound a key is unfoldable (critical unless provably data).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>
#include "formats/jinja_template/jinja_template_codes.h"

namespace mscan {
class ParseContext;
}

namespace mscan::jinja {

/// What is wrong with one expression of a template.
enum class IssueKind {
    /// Reaches Python object internals: a dunder or frame/function attribute (`__class__`,
    /// `__globals__`, `__subclasses__`, `f_globals`), by attribute, key or attr filter; or
    /// may reach them: a key or attribute name the template builds that does not fold to a
    /// constant and is not provably data, a computed key on a global that is not template
    /// data (`namespace[k]`), a keyword argument named like an internal (`dict(__init__=1)`).
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

/// The anomaly code an issue is reported with (kPythonInternals, ...).
AnomalyCode anomaly_code(IssueKind kind);

/// Reports every issue of `text`, the template stored under `key` (e.g.
/// "tokenizer.chat_template"), as an anomaly of `context` with the key and the expression as
/// evidence. `offset` is the template's first byte inside the parsed object, or -1 when the
/// template is not stored verbatim (a JSON string with escapes): issue offsets are then not
/// shown. Returns the number of issues.
std::size_t report_template(const ParseContext& context, std::string_view key,
                            std::string_view text, std::int64_t offset);

}  // namespace mscan::jinja
