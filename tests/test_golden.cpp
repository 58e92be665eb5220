// Golden corpus: every sample in samples/manifest.json is scanned and checked twice —
// against the manifest's intent (rule ids that must / must not appear) and against its exact
// expected findings in samples/expected/ (rule, severity, subject). Set MSCAN_UPDATE_GOLDEN=1
// to rewrite the expected files after a reviewed change.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "mscan/rules.h"
#include "mscan/scan.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const fs::path kRoot = MSCAN_SOURCE_DIR;

json read_json(const fs::path& p) {
    std::ifstream in(p);
    REQUIRE(in.good());
    return json::parse(in);
}

json findings_json(const mscan::FileResult& r) {
    json arr = json::array();
    std::set<std::tuple<std::string, std::string, std::string>> seen;
    for (const auto& f : r.findings) {
        seen.emplace(f.rule_id, std::string(mscan::severity_name(f.severity)), f.subject);
    }
    for (const auto& [rule, sev, subject] : seen) {
        arr.push_back({{"rule_id", rule}, {"severity", sev}, {"subject", subject}});
    }
    return {{"status", r.status == mscan::FileStatus::Scanned ? "scanned" : "not scanned"},
            {"format", r.format},
            {"findings", arr}};
}

}  // namespace

TEST_CASE("golden corpus: every sample gives its expected findings") {
    const auto manifest_path = kRoot / "samples" / "manifest.json";
    REQUIRE(fs::exists(manifest_path));
    const json manifest = read_json(manifest_path);
    REQUIRE(manifest.is_array());
    REQUIRE(manifest.size() > 50);
    const auto rules = mscan::RuleSet::builtin();
    const bool update = std::getenv("MSCAN_UPDATE_GOLDEN") != nullptr;
    std::size_t benign = 0, hostile = 0;
    for (const auto& entry : manifest) {
        const std::string rel = entry.at("path");
        INFO("sample " << rel << ": " << entry.value("description", ""));
        std::string error;
        auto source = mscan::MmapSource::open((kRoot / rel).string(), error);
        REQUIRE(source);
        // The files beside the sample, as a user's scan of it sees them (ONNX external data).
        const auto neighbours = mscan::local_neighbours((kRoot / rel).string());
        const auto result = mscan::scan_source(*source, rel, rules, {}, neighbours.get());
        CHECK(result.status == mscan::FileStatus::Scanned);

        std::set<std::string> ids;
        std::optional<mscan::Severity> worst;
        for (const auto& f : result.findings) {
            ids.insert(f.rule_id);
            if (!worst || f.severity > *worst) worst = f.severity;
        }
        for (const auto& id : entry.value("expect", json::array())) {
            INFO("expected rule " << id.get<std::string>());
            CHECK(ids.count(id.get<std::string>()) == 1);
        }
        for (const auto& id : entry.value("forbid", json::array())) {
            const std::string s = id.get<std::string>();
            if (s == "*medium+") {
                INFO("benign sample must have no finding at medium or above");
                CHECK((!worst || *worst < mscan::Severity::Medium));
            } else {
                INFO("forbidden rule " << s);
                CHECK(ids.count(s) == 0);
            }
        }
        if (entry.at("kind") == "benign") ++benign;
        if (entry.at("kind") == "hostile") {
            ++hostile;
            CHECK((worst && *worst >= mscan::Severity::Medium));
        }

        const fs::path expected_path = kRoot / "samples" / "expected" / (rel + ".json");
        const json actual = findings_json(result);
        if (update) {
            fs::create_directories(expected_path.parent_path());
            std::ofstream(expected_path) << actual.dump(2) << "\n";
            continue;
        }
        REQUIRE(fs::exists(expected_path));
        CHECK(read_json(expected_path).dump(2) == actual.dump(2));
    }
    CHECK(benign >= 10);
    CHECK(hostile >= 30);
}

TEST_CASE("every rule ships with a sample that triggers it") {
    const json manifest = read_json(kRoot / "samples" / "manifest.json");
    std::set<std::string> expected;
    for (const auto& entry : manifest) {
        for (const auto& id : entry.value("expect", json::array()))
            expected.insert(id.get<std::string>());
    }
    const auto rules = mscan::RuleSet::builtin();
    for (const auto* r : rules.rules()) {
        // The fallback for anomaly codes no rule names: by construction no sample reaches it.
        if (r->id == "unclassified-anomaly") continue;
        INFO("no sample in samples/manifest.json expects rule " << r->id);
        CHECK(expected.count(r->id) == 1);
    }
}
