// JSON report, schema version kJsonSchemaVersion (docs/json-schema.json).
#include <nlohmann/json.hpp>

#include "mscan/version.h"
#include "report/reporters.h"

namespace mscan {

namespace {
const char* status_name(FileStatus s) {
    switch (s) {
        case FileStatus::Scanned:
            return "scanned";
        case FileStatus::Skipped:
            return "skipped";
        case FileStatus::Error:
            return "error";
    }
    return "error";
}
}  // namespace

void write_json(std::ostream& out, const ScanResult& result, const RuleSet&,
                const ReportOptions& opt) {
    using nlohmann::ordered_json;
    ordered_json doc;
    doc["schema_version"] = kJsonSchemaVersion;
    doc["tool"] = {{"name", "mscan"}, {"version", kVersion}};
    ordered_json counts = {{"critical", 0}, {"high", 0}, {"medium", 0}, {"low", 0}, {"info", 0}};
    ordered_json suppressed = {{"config", 0}, {"baseline", 0}};
    ordered_json files = ordered_json::array();
    ordered_json findings = ordered_json::array();
    ordered_json skipped = ordered_json::array();
    ordered_json errors = ordered_json::array();
    bool failed = false;
    for (const auto& file : result.files) {
        ordered_json entry = {
            {"path", file.path},
            {"status", status_name(file.status)},
            {"format", file.format.empty() ? ordered_json(nullptr) : ordered_json(file.format)},
            {"size", file.size},
            {"findings", file.findings.size()}};
        if (file.remote) {
            entry["fetched"] = file.fetched;
            entry["requests"] = file.requests;
        }
        if (!file.local_path.empty()) entry["local_path"] = file.local_path;
        files.push_back(std::move(entry));
        if (file.status == FileStatus::Skipped)
            skipped.push_back({{"path", file.path}, {"reason", file.reason}});
        if (file.status == FileStatus::Error)
            errors.push_back({{"path", file.path}, {"reason", file.reason}});
        for (const auto& f : file.findings) {
            const std::string sev(severity_name(f.severity));
            if (!f.suppressed.empty()) {
                suppressed[f.suppressed] = suppressed[f.suppressed].get<std::uint64_t>() + 1;
            } else {
                counts[sev] = counts[sev].get<std::uint64_t>() + 1;
                if (opt.fail_on && f.severity >= *opt.fail_on) failed = true;
            }
            ordered_json loc = {{"path", file.path}, {"chain", f.location.chain}};
            loc["offset"] =
                f.location.offset >= 0 ? ordered_json(f.location.offset) : ordered_json(nullptr);
            loc["index"] =
                f.location.index >= 0 ? ordered_json(f.location.index) : ordered_json(nullptr);
            loc["stream"] =
                f.location.stream.empty() ? ordered_json(nullptr) : ordered_json(f.location.stream);
            findings.push_back(
                {{"rule_id", f.rule_id},
                 {"severity", sev},
                 {"title", f.title},
                 {"message", f.message},
                 {"subject", f.subject},
                 {"evidence", f.evidence},
                 {"why", f.why},
                 {"location", loc},
                 {"occurrences", f.occurrences},
                 {"fingerprint", f.fingerprint},
                 {"suppressed", f.suppressed.empty()
                                    ? ordered_json(nullptr)
                                    : ordered_json({{"kind", f.suppressed},
                                                    {"justification", f.justification}})}});
        }
    }
    const auto c = count_files(result);
    ordered_json summary = {
        {"files_scanned", c.scanned},
        {"files_skipped", c.skipped},
        {"files_errored", c.errors},
        {"findings", counts},
        {"suppressed", suppressed},
        {"fail_on", opt.fail_on ? ordered_json(std::string(severity_name(*opt.fail_on)))
                                : ordered_json("never")},
        {"failed", failed}};
    doc["summary"] = summary;
    doc["files"] = files;
    doc["findings"] = findings;
    doc["skipped"] = skipped;
    doc["errors"] = errors;
    if (!result.repos.empty()) {
        ordered_json repos = ordered_json::array();
        for (const auto& r : result.repos) {
            ordered_json hub = nullptr;
            if (r.hub_status.present) {
                ordered_json issues = ordered_json::array();
                for (const auto& [path, level] : r.hub_status.files_with_issues)
                    issues.push_back({{"path", path}, {"level", level}});
                hub = {{"scans_done", r.hub_status.scans_done}, {"files_with_issues", issues}};
            }
            auto text_or_null = [](const std::string& s) {
                return s.empty() ? ordered_json(nullptr) : ordered_json(s);
            };
            repos.push_back({{"target", r.target},
                             {"name", r.name},
                             {"type", r.type},
                             {"repo_id", r.repo_id},
                             {"revision", text_or_null(r.revision)},
                             {"commit", text_or_null(r.commit)},
                             {"source", r.from_cache ? "cache" : "hub"},
                             {"web_url", text_or_null(r.web_url)},
                             {"local_path", text_or_null(r.local_path)},
                             {"gated", text_or_null(r.gated)},
                             {"private", r.is_private},
                             {"hub_security_status", hub},
                             {"error", text_or_null(r.error)},
                             {"files", r.files},
                             {"total_size", r.total_size},
                             {"fetched", r.fetched},
                             {"requests", r.requests}});
        }
        doc["repos"] = repos;
    }
    out << doc.dump(2, ' ', false, ordered_json::error_handler_t::replace) << "\n";
}

}  // namespace mscan
