// Anomaly codes against the rules and the source (issue 18): every code in a code table
// (src/formats/code_tables.h) is claimed by exactly one built-in rule, every code a rule claims
// is declared, every declared constant is listed in its table and emitted somewhere outside its
// header, no code is constructed outside a code header, and the files that still spell codes as
// text spell only declared ones.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "formats/code_tables.h"
#include "mscan/rules.h"

namespace fs = std::filesystem;

namespace {

/// rule id per claimed code, over the embedded rule set ("*" included).
std::map<std::string, std::vector<std::string>> claims(const mscan::RuleSet& rules) {
    std::map<std::string, std::vector<std::string>> out;
    for (const mscan::Rule* rule : rules.rules())
        for (const auto& code : rule->anomalies)
            out[code].push_back(rule->id);
    return out;
}

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// Every source file under src/, by its path relative to src/ ("formats/gguf/gguf_codes.h").
std::map<std::string, std::string> source_files() {
    const fs::path src = fs::path(MSCAN_SOURCE_DIR) / "src";
    std::map<std::string, std::string> out;
    for (const auto& entry : fs::recursive_directory_iterator(src)) {
        const auto ext = entry.path().extension();
        if (!entry.is_regular_file() || (ext != ".cpp" && ext != ".h" && ext != ".inc")) continue;
        out[fs::relative(entry.path(), src).generic_string()] = read_text(entry.path());
    }
    return out;
}

/// The project headers ("formats/...", "util/...") each file includes, directly.
std::map<std::string, std::set<std::string>> direct_includes(
    const std::map<std::string, std::string>& files) {
    static const std::regex include(R"re(#include "([^"]+)")re");
    std::map<std::string, std::set<std::string>> out;
    for (const auto& [path, text] : files)
        for (std::sregex_iterator it(text.begin(), text.end(), include), end; it != end; ++it)
            out[path].insert((*it)[1]);
    return out;
}

/// Whether `file` includes `header`, directly or through other project headers. code_tables.h
/// is not followed: it includes every code header, and using it is no use of a constant.
bool includes(const std::map<std::string, std::set<std::string>>& graph, const std::string& file,
              const std::string& header) {
    std::set<std::string> seen;
    std::vector<std::string> todo = {file};
    while (!todo.empty()) {
        const std::string at = todo.back();
        todo.pop_back();
        if (!seen.insert(at).second || at == "formats/code_tables.h") continue;
        const auto it = graph.find(at);
        if (it == graph.end()) continue;
        if (it->second.count(header)) return true;
        todo.insert(todo.end(), it->second.begin(), it->second.end());
    }
    return false;
}

/// Whether `word` occurs in `text` as a whole identifier.
bool mentions(const std::string& text, const std::string& word) {
    for (auto at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) {
        const auto ident = [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
        };
        const bool before = at > 0 && ident(text[at - 1]);
        const bool after = at + word.size() < text.size() && ident(text[at + word.size()]);
        if (!before && !after) return true;
    }
    return false;
}

struct Declared {
    std::string name;  ///< kBadCrc
    std::string text;  ///< zip.bad-crc
};

/// The constants a code header declares, in order.
std::vector<Declared> declared_in(const std::string& header_text) {
    static const std::regex decl(R"re(AnomalyCode\s+(k\w+)\s*\{\s*"([^"]+)"\s*\})re");
    std::vector<Declared> out;
    for (std::sregex_iterator it(header_text.begin(), header_text.end(), decl), end; it != end;
         ++it)
        out.push_back({(*it)[1], (*it)[2]});
    return out;
}

std::set<std::string> declared_texts() {
    std::set<std::string> out;
    for (const auto& table : mscan::kCodeTables)
        for (const auto& code : table.codes)
            out.emplace(code.text());
    return out;
}

}  // namespace

// An emitter cannot pass text where a code is expected: a literal, a std::string or a
// string_view does not become an AnomalyCode (so a misspelt code does not compile).
static_assert(!std::is_convertible_v<const char*, mscan::AnomalyCode>);
static_assert(!std::is_convertible_v<std::string, mscan::AnomalyCode>);
static_assert(!std::is_convertible_v<std::string_view, mscan::AnomalyCode>);
static_assert(!std::is_constructible_v<mscan::AnomalyCode, std::string>);

TEST_CASE("every code in a code table is claimed by exactly one built-in rule", "[codes]") {
    const auto claimed = claims(mscan::RuleSet::builtin());
    std::set<std::string> seen;
    for (const auto& table : mscan::kCodeTables) {
        for (const auto& code : table.codes) {
            const std::string text(code.text());
            INFO(table.header << ": " << text);
            CHECK(seen.insert(text).second);  // in one table only
            const auto it = claimed.find(text);
            REQUIRE(it != claimed.end());
            CHECK(it->second.size() == 1);
        }
    }
}

TEST_CASE("every code a built-in rule claims is in a code table", "[codes]") {
    const auto declared = declared_texts();
    for (const auto& [code, rules] : claims(mscan::RuleSet::builtin())) {
        INFO(code << " claimed by " << rules.front());
        if (code == "*") {  // the fallback, for codes no other rule names
            CHECK(rules == std::vector<std::string>{"unclassified-anomaly"});
            continue;
        }
        CHECK(declared.count(code) == 1);
        CHECK(mscan::find_code(code).has_value());
    }
}

TEST_CASE("every code is spelled <family>.<name> in lower case", "[codes]") {
    static const std::regex shape("[a-z0-9]+\\.[a-z0-9_-]+");
    for (const auto& text : declared_texts()) {
        INFO(text);
        CHECK(std::regex_match(text, shape));
    }
}

TEST_CASE("each code table lists exactly the constants its header declares", "[codes]") {
    const auto files = source_files();
    for (const auto& table : mscan::kCodeTables) {
        INFO(table.header);
        const auto it = files.find(std::string(table.header));
        REQUIRE(it != files.end());
        std::vector<std::string> in_header, in_table;
        for (const auto& d : declared_in(it->second))
            in_header.push_back(d.text);
        for (const auto& code : table.codes)
            in_table.emplace_back(code.text());
        CHECK(in_header == in_table);
    }
}

TEST_CASE("every declared code constant is emitted outside its header", "[codes]") {
    const auto files = source_files();
    const auto graph = direct_includes(files);
    for (const auto& table : mscan::kCodeTables) {
        const std::string header(table.header);
        for (const auto& d : declared_in(files.at(header))) {
            bool used = false;
            for (const auto& [path, text] : files) {
                if (path == header || path == "formats/code_tables.h") continue;
                if (mentions(text, d.name) && includes(graph, path, header)) used = true;
                if (used) break;
            }
            INFO(header << ": " << d.name << " (" << d.text << ") is declared but never used");
            CHECK(used);
        }
    }
}

TEST_CASE("codes are constructed only in code headers", "[codes]") {
    static const std::regex construction(R"re(AnomalyCode\s*[({]\s*")re");
    std::set<std::string> headers;
    for (const auto& table : mscan::kCodeTables)
        headers.emplace(table.header);
    for (const auto& [path, text] : source_files()) {
        if (headers.count(path)) continue;
        INFO(path);
        CHECK_FALSE(std::regex_search(text, construction));
    }
}

TEST_CASE("no file outside the code headers spells a code as text", "[codes]") {
    const auto declared = declared_texts();
    std::set<std::string> headers;
    for (const auto& table : mscan::kCodeTables)
        headers.emplace(table.header);
    for (const auto& [path, text] : source_files()) {
        if (headers.count(path)) continue;
        for (const auto& code : declared) {
            INFO(path << " spells \"" << code << "\"");
            CHECK(text.find('"' + code + '"') == std::string::npos);
        }
    }
}
