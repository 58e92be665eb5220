// Suppressions, baselines and the verdict of a scan (see mscan/policy.h).
#include "mscan/policy.h"

#include <algorithm>
#include <filesystem>

#include "mscan/scan.h"
#include "util/glob.h"

namespace mscan {

namespace fs = std::filesystem;

void apply_suppressions(ScanResult& result, const std::vector<Suppression>& suppressions,
                        const std::string& base_dir) {
    if (suppressions.empty()) return;
    std::error_code ec;
    const fs::path base = base_dir.empty() ? fs::path() : fs::weakly_canonical(base_dir, ec);
    for (auto& file : result.files) {
        // A path is matched as shown in the report and, for a local file, relative to the
        // configuration file's folder (so a suppression holds wherever mscan runs from).
        std::vector<std::string> names{file.path};
        while (names[0].rfind("./", 0) == 0)
            names[0] = names[0].substr(2);
        const std::string& local = file.local_path.empty() ? file.path : file.local_path;
        if (!base.empty() && !file.remote && local.rfind("hf://", 0) != 0 && local != "-") {
            const fs::path abs = fs::weakly_canonical(local, ec);
            if (!ec) {
                const std::string rel = abs.lexically_relative(base).generic_string();
                if (!rel.empty() && rel.rfind("..", 0) != 0) names.push_back(rel);
            }
        }
        for (const auto& s : suppressions) {
            // glob_rejects with the pattern as the only include: nullopt means it matches.
            const bool match = std::any_of(names.begin(), names.end(), [&](const std::string& n) {
                return !glob_rejects(n, {s.path}, {});
            });
            if (!match) continue;
            for (auto& f : file.findings) {
                if (!f.suppressed.empty() || (s.rule != "*" && s.rule != f.rule_id)) continue;
                f.suppressed = "config";
                f.justification = s.reason + " (" + s.origin + ")";
            }
        }
    }
}

void apply_baseline(ScanResult& result, const Baseline& baseline) {
    for (auto& file : result.files) {
        for (auto& f : file.findings) {
            if (f.suppressed.empty() && baseline.fingerprints.count(f.fingerprint)) {
                f.suppressed = "baseline";
                f.justification = "accepted in the baseline " + baseline.file;
            }
        }
    }
}

Verdict verdict(const ScanResult& result, std::optional<Severity> fail_on) {
    const auto worst = worst_severity(result);
    if (fail_on && worst && *worst >= *fail_on) return Verdict::Findings;
    const FileCounts counts = count_files(result);
    if (counts.errors > 0) return Verdict::ScanError;
    if (counts.scanned == 0) return Verdict::NothingScanned;
    return Verdict::Clean;
}

}  // namespace mscan
