// scan() applies the caller's policy (suppressions, baseline, fail-on) and gives the verdict
// the CLI exits with, so a program using the library gets the CLI's answer.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "mscan/policy.h"
#include "mscan/rules.h"
#include "mscan/scan.h"

namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        char tmpl[] = "/tmp/mscan-policy.XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

}  // namespace

TEST_CASE("scan() applies the policy and gives the CLI's verdict", "[policy]") {
    const TempDir dir;
    std::ofstream(dir.path / "model_config.yaml") << "model:\n  _target_: os.system\n";
    const auto rules = mscan::RuleSet::builtin();
    mscan::ScanOptions options;
    options.targets = {dir.path.string()};
    options.jobs = 1;

    auto result = mscan::scan(options, rules);
    REQUIRE(result.files.size() == 1);
    REQUIRE_FALSE(result.files[0].findings.empty());
    CHECK(result.verdict == mscan::Verdict::Findings);
    const std::string fingerprint = result.files[0].findings[0].fingerprint;

    options.policy.fail_on = std::nullopt;  // --fail-on never
    CHECK(mscan::scan(options, rules).verdict == mscan::Verdict::Clean);

    options.policy.fail_on = mscan::Severity::Critical;
    options.policy.suppressions = {{"process-execution", "*.yaml", "reviewed", "test:1"}};
    result = mscan::scan(options, rules);
    CHECK(result.verdict == mscan::Verdict::Clean);
    CHECK(result.files[0].findings[0].suppressed == "config");

    options.policy.suppressions.clear();
    options.policy.baseline = mscan::Baseline{"baseline.json", {fingerprint}};
    result = mscan::scan(options, rules);
    CHECK(result.verdict == mscan::Verdict::Clean);
    CHECK(result.files[0].findings[0].suppressed == "baseline");

    options.policy = {};
    options.targets = {(dir.path / "missing.pkl").string()};
    CHECK(mscan::scan(options, rules).verdict == mscan::Verdict::ScanError);
    std::ofstream(dir.path / "notes.txt") << "hello\n";
    options.targets = {(dir.path / "notes.txt").string()};
    CHECK(mscan::scan(options, rules).verdict == mscan::Verdict::NothingScanned);
}
