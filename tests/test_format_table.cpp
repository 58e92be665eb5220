// The format table (src/formats/registry.cpp) against the tree: every format has its folder,
// a fuzz target with a seed corpus, a code table whose codes rules classify (tests/test_codes.cpp
// checks every code is claimed by exactly one rule), samples whose golden results were read as
// that format, and a section in docs/formats.md; every folder under src/formats/ is some format's
// folder or a reader formats share. Adding a format without one of these fails here, by name,
// instead of leaving a list in a test to be forgotten.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "formats/code_tables.h"
#include "formats/registry.h"
#include "mscan/rules.h"

namespace fs = std::filesystem;

namespace {

const fs::path kRoot = MSCAN_SOURCE_DIR;

/// Folders of src/formats/ that hold readers several formats use, not a format of their own.
const std::set<std::string> kSharedReaders = {
    "compress",     // inflate, bzip2/LZMA codecs, expansion caps (zip, archive, joblib, zlib)
    "protobuf",     // the protobuf wire format (onnx, savedmodel)
    "torchscript",  // TorchScript code inside a zip
};

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

/// The "format" of every golden result under samples/expected/.
std::set<std::string> golden_formats() {
    std::set<std::string> found;
    for (const auto& entry : fs::recursive_directory_iterator(kRoot / "samples" / "expected")) {
        if (!entry.is_regular_file() || entry.path().extension() != ".json") continue;
        const auto doc = nlohmann::json::parse(read_text(entry.path()), nullptr, false);
        if (doc.is_object() && doc.contains("format") && doc["format"].is_string())
            found.insert(doc["format"].get<std::string>());
    }
    return found;
}

/// The `## ` heading lines of docs/formats.md.
std::vector<std::string> doc_headings() {
    std::vector<std::string> headings;
    std::istringstream in(read_text(kRoot / "docs" / "formats.md"));
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("## ", 0) == 0) headings.push_back(line);
    }
    return headings;
}

}  // namespace

TEST_CASE("format table: each format has its folder, fuzz target, samples and docs", "[formats]") {
    const std::string fuzz_cmake = read_text(kRoot / "fuzz" / "CMakeLists.txt");
    const auto goldens = golden_formats();
    const auto headings = doc_headings();
    const auto rules = mscan::RuleSet::builtin();
    REQUIRE_FALSE(goldens.empty());
    for (const auto& format : mscan::formats()) {
        const std::string name = format.name;
        const std::string folder = format.folder;
        INFO("format " << name << " (src/formats/" << folder << "/)");
        CHECK(fs::is_directory(kRoot / "src" / "formats" / folder));
        CHECK(kSharedReaders.count(folder) == 0);
        const std::string target = "fuzz_" + folder;
        INFO("fuzz target " << target);
        CHECK(fs::is_regular_file(kRoot / "fuzz" / (target + ".cpp")));
        CHECK((fuzz_cmake.find(" " + target + " ") != std::string::npos ||
               fuzz_cmake.find(" " + target + ")") != std::string::npos));
        const fs::path corpus = kRoot / "fuzz" / "corpus" / target;
        CHECK((fs::is_directory(corpus) && !fs::is_empty(corpus)));
        INFO("src/formats/code_tables.h needs a code table for "
             << folder << ", its codes each claimed by a rule");
        const auto table =
            std::find_if(std::begin(mscan::kCodeTables), std::end(mscan::kCodeTables),
                         [&](const mscan::CodeTable& t) { return t.folder == folder; });
        REQUIRE(table != std::end(mscan::kCodeTables));
        for (const auto& code : table->codes) {
            INFO("code " << code.text());
            CHECK(rules.anomaly_rule(std::string(code.text())) != nullptr);
            CHECK(rules.anomaly_rule(std::string(code.text()))->id != "unclassified-anomaly");
        }
        INFO("samples/expected/ needs a sample read as " << name);
        CHECK(goldens.count(name) == 1);
        INFO("docs/formats.md needs a '## ' heading naming `" << name << "`");
        const bool documented = std::any_of(
            headings.begin(), headings.end(),
            [&](const std::string& h) { return h.find("`" + name + "`") != std::string::npos; });
        CHECK(documented);
    }
}

TEST_CASE("format table: every folder of src/formats/ is a format's or a shared reader",
          "[formats]") {
    std::set<std::string> folders;
    for (const auto& format : mscan::formats())
        folders.insert(format.folder);
    for (const auto& entry : fs::directory_iterator(kRoot / "src" / "formats")) {
        if (!entry.is_directory()) continue;
        const std::string folder = entry.path().filename().string();
        INFO("src/formats/" << folder << "/ is no format's folder and not a shared reader");
        CHECK((folders.count(folder) == 1 || kSharedReaders.count(folder) == 1));
    }
}
