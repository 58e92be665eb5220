// The Jinja template check: real chat templates (tests/data/templates/benign, written after
// the templates of Llama 2/3/3.1, Qwen2.5, ChatML, Mistral v3, Mixtral, Gemma, Phi-3, Zephyr,
// DeepSeek-R1, Command-R, a Hermes-style one with {% generation %}) give no issue; each hostile
// template (tests/data/templates/hostile) gives its issue with the expression as evidence;
// tokenisation edge cases (strings, comments, raw blocks, escapes) and the caps.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "formats/context.h"
#include "formats/jinja_template/jinja_check.h"
#include "mscan/limits.h"

namespace {

namespace fs = std::filesystem;
using mscan::jinja::check_template;
using mscan::jinja::IssueKind;
using mscan::jinja::TemplateIssue;

const fs::path kTemplates = fs::path(MSCAN_SOURCE_DIR) / "tests" / "data" / "templates";

std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string describe(const std::vector<TemplateIssue>& issues) {
    std::string s;
    for (const auto& i : issues)
        s += std::string(mscan::jinja::anomaly_code(i.kind)) + " @" + std::to_string(i.offset) +
             ": " + i.expression + " (" + i.why + ")\n";
    return s;
}

bool has(const std::vector<TemplateIssue>& issues, IssueKind kind, const std::string& expr) {
    for (const auto& i : issues)
        if (i.kind == kind && i.expression.find(expr) != std::string::npos) return true;
    return false;
}

bool has_kind(const std::vector<TemplateIssue>& issues, IssueKind kind) {
    for (const auto& i : issues)
        if (i.kind == kind) return true;
    return false;
}

}  // namespace

TEST_CASE("template: ordinary chat templates are not flagged") {
    int n = 0;
    for (const auto& entry : fs::directory_iterator(kTemplates / "benign")) {
        const std::string text = read(entry.path());
        REQUIRE(!text.empty());
        INFO(entry.path().filename().string());
        const auto issues = check_template(text);
        INFO(describe(issues));
        CHECK(issues.empty());
        CHECK(mscan::jinja::looks_like_template(text));
        ++n;
    }
    CHECK(n >= 13);
}

TEST_CASE("template: each hostile construct is reported with its expression") {
    struct Case {
        const char* file;
        IssueKind kind;
        const char* expression;
    };
    const Case cases[] = {
        {"cve_2024_34359.jinja", IssueKind::PythonInternals,
         "().__class__.__base__.__subclasses__()"},
        {"cve_2024_34359.jinja", IssueKind::PythonInternals, "__builtins__['__import__']('os')"},
        {"cve_2024_34359.jinja", IssueKind::DangerousName, ".popen(\"echo mscan-sample\")"},
        {"mro_subclasses.jinja", IssueKind::PythonInternals,
         "''.__class__.__mro__[1].__subclasses__()"},
        {"cycler_globals.jinja", IssueKind::PythonInternals,
         "cycler.__init__.__globals__.os.popen"},
        {"cycler_globals.jinja", IssueKind::Unusual, "cycler.__init__"},
        {"lipsum_globals.jinja", IssueKind::PythonInternals, "lipsum.__globals__['os']"},
        {"lipsum_globals.jinja", IssueKind::DangerousName, "lipsum.__globals__['os']"},
        {"attr_concat.jinja", IssueKind::PythonInternals, "messages|attr('__cla'~'ss__')"},
        {"request_attr_escaped.jinja", IssueKind::PythonInternals, "attr('\\x5f\\x5fglobals"},
        {"request_attr_escaped.jinja", IssueKind::Unusual, "request|attr('application')"},
        {"self_globals.jinja", IssueKind::PythonInternals,
         "self.__init__.__globals__.__builtins__"},
        {"self_globals.jinja", IssueKind::Unusual, "self.__init__"},
        {"range_dos.jinja", IssueKind::ResourceExhaustion, "range(10**9)"},
        {"attr_set_vars.jinja", IssueKind::PythonInternals, "''|attr(a ~ b)"},
        {"map_attribute.jinja", IssueKind::PythonInternals, "map(attribute='__class__')"},
        {"key_repeat.jinja", IssueKind::PythonInternals, "x[('_' * 2) ~ 'class' ~ ('_' * 2)]"},
        {"attr_reversed.jinja", IssueKind::PythonInternals, "attr('__ssalc__'|reverse)"},
        {"joiner_globals.jinja", IssueKind::PythonInternals, "joiner.__init__.__globals__"},
        {"include.jinja", IssueKind::Unusual, "include 'other.jinja'"},
        {"repeat_dos.jinja", IssueKind::ResourceExhaustion, "'x'"},
        {"config.jinja", IssueKind::Unusual, "config.items()"},
        {"eval_call.jinja", IssueKind::DangerousName, "eval('1')"},
        {"adjacent_literals.jinja", IssueKind::PythonInternals, "messages['__cl' 'ass__']"},
    };
    std::map<std::string, int> seen;
    for (const auto& c : cases) {
        const std::string text = read(kTemplates / "hostile" / c.file);
        REQUIRE(!text.empty());
        const auto issues = check_template(text);
        INFO(c.file << "\n" << describe(issues));
        CHECK(has(issues, c.kind, c.expression));
        // the offset points at the expression
        for (const auto& i : issues)
            CHECK(i.offset < text.size());
        ++seen[c.file];
    }
    // every hostile sample has an expectation
    for (const auto& entry : fs::directory_iterator(kTemplates / "hostile")) {
        INFO(entry.path().filename().string());
        CHECK(seen.count(entry.path().filename().string()) == 1);
    }
}

TEST_CASE("template: strings, comments, raw blocks and output text are not code") {
    CHECK(check_template("{{ 'os.popen and __class__ are words here' | length }}").size() == 1);
    CHECK(check_template("Text __class__ os.popen {{ x }}").empty());
    CHECK(check_template("{# {{ ''.__class__ }} #}{{ x }}").empty());
    CHECK(check_template("{% raw %}{{ ''.__class__ }}{% endraw %}").empty());
    CHECK(check_template("{%- raw -%}{{ cycler }}{%- endraw -%}ok").empty());
    CHECK(check_template("{{ 'a }} b' ~ x.__class__ }}").size() == 1);
    CHECK(check_template("{{ \"it's\" }}{{ '\\'' }}").empty());
    // a role-keyed dict is not a dangerous key
    CHECK(check_template("{% set p = {'system': 'S', 'user': 'U'} %}{{ p['system'] }}").empty());
    // namespace fields named like dangerous attributes are the template's own
    CHECK(check_template("{% set ns = namespace(system=false) %}{% set ns.open = 1 %}"
                         "{{ ns.system }}{{ ns.open }}")
              .empty());
    // a variable the template sets is not the global of the same name
    CHECK(check_template("{% set config = messages[0] %}{{ config.content }}").empty());
    CHECK(check_template("{% for self in messages %}{{ self.role }}{% endfor %}").empty());
    // small ranges and numbers are fine
    CHECK(check_template("{% for i in range(3) %}{{ i ** 2 }}{% endfor %}").empty());
    CHECK(check_template("{{ '=' * 80 }}").empty());
}

TEST_CASE("template: obfuscations resolve to the internal they build") {
    auto internals = [](const std::string& t) {
        return has_kind(check_template(t), IssueKind::PythonInternals);
    };
    CHECK(internals("{{ x|attr('\\u005f\\u005fclass\\u005f\\u005f') }}"));
    CHECK(internals("{{ x|attr(['__cl', 'ass__']|join) }}"));
    CHECK(internals("{{ x|attr('__CLASS__'|lower) }}"));
    CHECK(internals("{{ x|attr('__clXss__'|replace('X', 'a')) }}"));
    CHECK(internals("{{ x|attr('__ssalc__'[::-1]) }}"));
    CHECK(internals("{{ x['\\137\\137class\\137\\137'] }}"));
    CHECK(internals("{{ messages|selectattr('__class__') }}"));
    CHECK(internals("{{ messages|sort(attribute='role.__class__') }}"));
    CHECK(internals("{{ '{0.__class__}'.format(x) }}"));
    CHECK(internals("{{ x.func_globals }}"));
    CHECK(internals("{{ self._TemplateReference__context }}"));
    // a computed attr name is unusual even when it cannot be resolved
    const auto computed = check_template("{{ x|attr(messages[0].content) }}");
    CHECK(has(computed, IssueKind::Unusual, "attr(messages[0].content)"));
}

TEST_CASE("template: malformed templates and caps") {
    CHECK(has_kind(check_template("{{ x "), IssueKind::Malformed));
    CHECK(has_kind(check_template("{% if x %"), IssueKind::Malformed));
    CHECK(has_kind(check_template("{# never closed"), IssueKind::Malformed));
    CHECK(has_kind(check_template("{{ 'open }}"), IssueKind::Malformed));
    CHECK(has_kind(check_template("{% raw %} no end"), IssueKind::Malformed));
    // what comes before the break still counts
    const auto partial = check_template("{{ x.__class__ }}{{ y ");
    CHECK(has_kind(partial, IssueKind::PythonInternals));
    CHECK(has_kind(partial, IssueKind::Malformed));
    // many issues: capped
    std::string many;
    for (int i = 0; i < 500; ++i)
        many += "{{ x" + std::to_string(i) + ".__class__ }}";
    const auto capped = check_template(many);
    // the issue cap, the note that it was reached, and what the degraded search found after
    CHECK(capped.size() <= mscan::limits::kTemplateMaxIssues + 1 + 8);
    CHECK(capped.size() > mscan::limits::kTemplateMaxIssues);
    CHECK(has_kind(capped, IssueKind::Limit));
    // a template over the size cap is parsed up to the cap, says so, and the rest is searched
    std::string huge(mscan::limits::kTemplateMaxBytes + 10, ' ');
    huge.replace(0, 20, "{{ ''.__class__ }}  ");
    const auto big = check_template(huge);
    CHECK(has_kind(big, IssueKind::Limit));
    CHECK(has_kind(big, IssueKind::PythonInternals));
    // a payload past the size cap is found by the degraded search
    std::string padded(mscan::limits::kTemplateMaxBytes + 10, ' ');
    padded += "{{ cycler.__init__.__globals__.os.popen('id').read() }}";
    const auto tail = check_template(padded);
    CHECK(has_kind(tail, IssueKind::Limit));
    bool past_cap = false;
    for (const auto& issue : tail)
        past_cap = past_cap || (issue.kind == IssueKind::PythonInternals &&
                                issue.offset > mscan::limits::kTemplateMaxBytes);
    CHECK(past_cap);
    // a payload after 64 reported issues is found too
    std::string after_many;
    for (int i = 0; i < 100; ++i)
        after_many += "{{ x" + std::to_string(i) + "._private }}";
    after_many += "{{ lipsum.__globals__['os'].popen('id') }}";
    bool after = false;
    for (const auto& issue : check_template(after_many))
        after = after || issue.kind == IssueKind::PythonInternals;
    CHECK(after);
    // deep nesting neither crashes nor recurses without bound
    std::string deep = "{{ x[" + std::string(5000, '(') + "'a'" + std::string(5000, ')') + "] }}";
    (void)check_template(deep);
    std::string deep_int = "{{ range(" + std::string(5000, '-') + "1) }}";
    (void)check_template(deep_int);
}

TEST_CASE("template: report_template emits anomalies with key and expression") {
    std::vector<mscan::Operation> ops;
    const mscan::OperationSink sink = [&ops](mscan::Operation&& op) { ops.push_back(op); };
    mscan::ScanBudget budget;
    mscan::Location base;
    base.chain.push_back("model.gguf");
    const mscan::ParseContext context(sink, base, budget);
    const std::string text = "Hi {{ lipsum.__globals__ }}";
    CHECK(mscan::jinja::report_template(context, "tokenizer.chat_template", text, 100) == 2);
    REQUIRE(ops.size() == 2);
    bool internals = false;
    for (const auto& op : ops) {
        CHECK(op.evidence.find("tokenizer.chat_template: lipsum.__globals__") == 0);
        if (op.name == "template.python-internals") {
            internals = true;
            CHECK(op.location.offset == 100 + 13);  // the __globals__ token
        }
    }
    CHECK(internals);
}

TEST_CASE("template: hostile sizes stay linear") {
    // 256 KiB of each shape: a quadratic walk would take minutes (ctest's timeout), a linear
    // one milliseconds. Speed itself is measured by bench/run.sh template, not timed here.
    constexpr std::size_t n = std::size_t{256} << 10;
    auto grow = [](std::string s, const std::string& unit, const std::string& tail) {
        while (s.size() < n)
            s += unit;
        return s + tail;
    };
    const auto chain = check_template(grow("{{ x", ".__class__", " }}"));
    CHECK(has_kind(chain, IssueKind::PythonInternals));
    CHECK(chain.size() <= mscan::limits::kTemplateMaxIssues);
    CHECK(
        has_kind(check_template(grow("{{ x", "()", ".__class__ }}")), IssueKind::PythonInternals));
    CHECK(
        has_kind(check_template(grow("{{ x", "['__class__']", " }}")), IssueKind::PythonInternals));
    (void)check_template(grow("{{ ", "(", "1 }}"));
    (void)check_template(grow("{{ x|attr(", "'_' ~ ", "'a') }}"));
    (void)check_template(grow("{{ range(", "1+", "1) }}"));
    (void)check_template(grow("{% set ns = namespace(", "a=1,", "b=2) %}"));
    (void)check_template(grow("", "{{ x.y }}", ""));
    (void)check_template(grow("{{ [", "'a',", "'b']|join }}"));
}

TEST_CASE("template: names built where a list of spellings does not look are critical") {
    auto internals = [](const std::string& t) {
        const auto issues = check_template(t);
        INFO(t << "\n" << describe(issues));
        return has_kind(issues, IssueKind::PythonInternals);
    };
    // keyword-argument names, dict literal keys, a one-item tuple
    CHECK(internals("{{ namespace[dict(__init__=1)|first] }}"));
    CHECK(internals("{{ namespace[dict(a=1, __init__=2)|list|last] }}"));
    CHECK(internals("{{ namespace[{'__init__': 1}|first] }}"));
    CHECK(internals("{{ cycler[('__init__',)|first] }}"));
    // plain text in set blocks and macro bodies
    CHECK(internals("{% set n %}__class__{% endset %}{{ x[n] }}"));
    CHECK(internals("{%- set n -%}\n  __init__\n{%- endset -%}{{ cycler|attr(n) }}"));
    CHECK(internals("{% macro n() %}__init__{% endmacro %}{{ cycler|attr(n()) }}"));
    // a set block with a tag inside does not fold: unfoldable, not data
    CHECK(internals("{% set n %}__{{ 'in' }}it__{% endset %}{{ joiner[n] }}"));
    // escapes
    CHECK(internals("{{ x['\\N{LOW LINE}\\N{LOW LINE}class\\N{LOW LINE}\\N{LOW LINE}'] }}"));
    CHECK(internals("{{ x['\\N{low line}_cl\\N{LATIN SMALL LETTER A}ss__'] }}"));
    CHECK(internals("{{ x['\\x5f\\u005fclass\\137\\137'] }}"));
    // an unknown \N{} name in a key does not fold: critical
    CHECK(internals("{{ cycler['\\N{BLACK STAR}init\\N{BLACK STAR}'] }}"));
    // format, %, .format, join, replace, reverse, case, slicing
    CHECK(internals("{{ x['%s%sclass%s%s'|format('_', '_', '_', '_')] }}"));
    CHECK(internals("{{ x['%sclass%s' % ('__', '__')] }}"));
    CHECK(internals("{{ x['%sclass__' % '__'] }}"));
    CHECK(internals("{{ x['{0}class{0}'.format('__')] }}"));
    CHECK(internals("{{ x['{}{}'.format('__cla', 'ss__')] }}"));
    CHECK(internals("{{ x[('__cl', 'ass__')|join] }}"));
    CHECK(internals("{{ x[''.join(['__cl', 'ass__'])] }}"));
    CHECK(internals("{{ x['QQclassQQ'|replace('Q', '_')] }}"));
    CHECK(internals("{{ x['__ssalc__'|reverse] }}"));
    CHECK(internals("{{ x['__CLASS__'|lower] }}"));
    CHECK(internals("{{ x['zz__class__'[2:]] }}"));
    CHECK(internals("{{ x['__class__zz'[:-2]] }}"));
    CHECK(internals("{{ x['_x_c_l_a_s_s_x_'[::2]|replace('x', '_')] }}"));
    // ~ and + over set variables, and a name assigned two values
    CHECK(internals("{% set u = '_' %}{{ x[u ~ u ~ 'class' ~ u ~ u] }}"));
    CHECK(internals("{% set k = 'role' %}{% set k = '__class__' %}{{ x[k] }}"));
    // loops that accumulate, into a variable or a namespace field
    CHECK(
        internals("{% set ns = namespace(k='') %}{% for c in ['__in', 'it__'] %}"
                  "{% set ns.k = ns.k ~ c %}{% endfor %}{{ namespace[ns.k] }}"));
    CHECK(internals("{% for c in ['__in', 'it__'] %}{{ cycler|attr(c) }}{% endfor %}"));
    // map('attr', name), map(attribute=name), selectattr with a built name
    CHECK(
        internals("{% set ns = namespace(k='') %}{% for c in ['__in', 'it__'] %}"
                  "{% set ns.k = ns.k ~ c %}{% endfor %}{{ [cycler]|map('attr', ns.k)|list }}"));
    CHECK(
        internals("{% for c in ['__cl', 'ass__'] %}{{ messages|map(attribute=c)|list }}"
                  "{% endfor %}"));
    CHECK(internals("{{ [cycler]|map('attr', '__init__')|list }}"));
    // a macro parameter holds what its calls pass
    CHECK(internals(
        "{% macro g(o, k) %}{{ o[k] }}{% endmacro %}{{ g(namespace, '__in' ~ 'it__') }}"));
    // a data key on a non-data global still reaches its attributes
    CHECK(internals("{% for m in messages %}{{ namespace[m.content] }}{% endfor %}"));
    CHECK(internals("{% set c = cycler %}{{ c[messages[0].content] }}"));
    CHECK(internals("{% with c = cycler %}{{ c[messages[0].content] }}{% endwith %}"));
    // str.format on a built format string
    CHECK(internals("{{ ('{0.__cl' ~ 'ass__}').format(x) }}"));
    CHECK(internals("{% set f %}{0.__class__}{% endset %}{{ f.format(x) }}"));
}

TEST_CASE("template: computed keys that are provably data stay clean") {
    auto clean = [](const std::string& t) {
        const auto issues = check_template(t);
        INFO(t << "\n" << describe(issues));
        return issues.empty();
    };
    CHECK(
        clean("{% for m in messages %}{% for k, v in m.items() %}{{ m[k] }}{% endfor %}"
              "{% endfor %}"));
    CHECK(
        clean("{% for tool in tools %}{% for name, p in tool['function']['parameters']"
              "['properties'].items() %}{{ tool['function']['parameters']['properties'][name]"
              "['type'] }}{% endfor %}{% endfor %}"));
    CHECK(clean("{{ messages[loop.index0 - 1] if loop is defined }}{{ messages[-1].content }}"));
    CHECK(
        clean("{% set ns = namespace(i=messages|length - 1) %}{% for m in messages[::-1] %}"
              "{% set ns.i = (messages|length - 1) - loop.index0 %}{% endfor %}"
              "{{ messages[ns.i].content }}"));
    CHECK(
        clean("{% for m in messages %}{% set key = 'content' if m.content is defined else "
              "'text' %}{{ m[key] }}{% endfor %}"));
    CHECK(
        clean("{% set d = {'user': 'U', 'assistant': 'A'} %}{% for m in messages %}"
              "{{ d[m.role] }}{% endfor %}"));
    CHECK(
        clean("{% macro t(spec) %}{% set m = {'string': 'str'} %}{{ m[spec.type] }}"
              "{% for x in spec.items %}{{ t({'type': x}) }}{% endfor %}{% endmacro %}"
              "{% for tool in tools %}{{ t(tool.parameters) }}{% endfor %}"));
    CHECK(
        clean("{% set sep %}<|sep|>{% endset %}{% macro nl() %}\n{% endmacro %}"
              "{{ sep ~ nl() }}{{ ['a', 'b']|join(sep) }}{{ '%s: %s' % (1, 2) }}"
              "{{ '{}'.format(messages|length) }}{{ dict(a=1)|first }}"));
    CHECK(clean("{{ messages|map(attribute='content')|join }}{{ (messages|list)[1:3] }}"));
}

TEST_CASE("template: the real templates of issue 17 are clean") {
    const fs::path dir = fs::path(MSCAN_SOURCE_DIR) / "samples" / "jinja-i17" / "benign";
    int n = 0;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        if (entry.path().extension() != ".jinja") continue;
        const std::string text = read(entry.path());
        INFO(entry.path().string());
        const auto issues = check_template(text);
        INFO(describe(issues));
        CHECK(issues.empty());
        ++n;
    }
    CHECK(n >= 5);
}
