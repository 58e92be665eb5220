// The Jinja template check: real chat templates (tests/data/templates/benign, written after
// the templates of Llama 2/3/3.1, Qwen2.5, ChatML, Mistral v3, Mixtral, Gemma, Phi-3, Zephyr,
// DeepSeek-R1, Command-R, a Hermes-style one with {% generation %}) give no issue; each hostile
// template (tests/data/templates/hostile) gives its issue with the expression as evidence;
// tokenisation edge cases (strings, comments, raw blocks, escapes) and the caps.
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "formats/context.h"
#include "formats/template/jinja_check.h"
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
    const auto start = std::chrono::steady_clock::now();
    // 256 KiB of each shape: a quadratic walk would take minutes, a linear one milliseconds.
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
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));
}
