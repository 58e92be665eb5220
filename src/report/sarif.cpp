// SARIF 2.1.0 report for GitHub code scanning: rules sorted by id with security-severity,
// results with byte-offset regions and stable partialFingerprints.
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "mscan/version.h"
#include "report/reporters.h"

namespace mscan {
namespace {

using nlohmann::ordered_json;

const char* sarif_level(Severity s) {
    switch (s) {
        case Severity::Critical:
        case Severity::High:
            return "error";
        case Severity::Medium:
            return "warning";
        case Severity::Low:
        case Severity::Info:
            return "note";
    }
    return "note";
}

/// GitHub maps >= 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low.
const char* security_severity(Severity s) {
    switch (s) {
        case Severity::Critical:
            return "9.8";
        case Severity::High:
            return "8.0";
        case Severity::Medium:
            return "5.5";
        case Severity::Low:
            return "3.0";
        case Severity::Info:
            return "0.0";
    }
    return "0.0";
}

/// A relative path as a URI reference (RFC 3986): unreserved characters and '/' pass.
std::string to_uri(const std::string& path) {
    std::string out;
    std::string p = path;
    if (!p.empty() && p.front() == '/') out = "file://";
    if (p.rfind("hf://", 0) == 0) {  // a file on the Hugging Face Hub: an absolute hf: URI
        out = "hf://";
        p = p.substr(5);
    }
    while (p.rfind("./", 0) == 0)
        p = p.substr(2);
    for (unsigned char c : p) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
            out.push_back(static_cast<char>(c));
        } else {
            char buf[4];
            std::snprintf(buf, sizeof buf, "%%%02X", c);
            out += buf;
        }
    }
    return out;
}

std::string pascal_case(const std::string& id) {
    std::string out;
    bool upper = true;
    for (char c : id) {
        if (c == '-') {
            upper = true;
            continue;
        }
        out.push_back(upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c);
        upper = false;
    }
    return out;
}

}  // namespace

void write_sarif(std::ostream& out, const ScanResult& result, const RuleSet& rules,
                 const ReportOptions&) {
    ordered_json rule_list = ordered_json::array();
    std::map<std::string, std::size_t> rule_index;
    for (const Rule* r : rules.rules()) {
        rule_index[r->id] = rule_list.size();
        std::string help = r->description + "\n\nWhy it matters: " + r->why;
        if (!r->references.empty()) {
            help += "\n\nReferences:";
            for (const auto& ref : r->references)
                help += " " + ref;
        }
        ordered_json tags = ordered_json::array({"security"});
        for (const auto& ref : r->references) {
            if (ref.rfind("CWE-", 0) == 0) tags.push_back("external/cwe/cwe-" + ref.substr(4));
        }
        rule_list.push_back(
            {{"id", r->id},
             {"name", pascal_case(r->id)},
             {"shortDescription", {{"text", r->title}}},
             {"fullDescription", {{"text", r->description}}},
             {"help", {{"text", help}}},
             {"helpUri", std::string(kInformationUri) + "/blob/main/docs/rules.md#" + r->id},
             {"defaultConfiguration", {{"level", sarif_level(r->severity)}}},
             {"properties",
              {{"security-severity", security_severity(r->severity)},
               {"tags", tags},
               {"severity", std::string(severity_name(r->severity))}}}});
    }
    ordered_json results = ordered_json::array();
    ordered_json notifications = ordered_json::array();
    for (const auto& file : result.files) {
        if (file.status == FileStatus::Error) {
            notifications.push_back(
                {{"level", "error"},
                 {"message", {{"text", "could not scan " + file.path + ": " + file.reason}}},
                 {"locations", ordered_json::array(
                                   {{{"physicalLocation",
                                      {{"artifactLocation", {{"uri", to_uri(file.path)}}}}}}})}});
        }
        for (const auto& f : file.findings) {
            ordered_json physical = {{"artifactLocation", {{"uri", to_uri(file.path)}}}};
            if (f.location.offset >= 0 && f.location.chain.size() <= 1) {
                physical["region"] = {{"byteOffset", f.location.offset}, {"byteLength", 1}};
            }
            std::string text = f.message;
            if (!f.evidence.empty()) text += ". Evidence: " + f.evidence;
            text += " (at " + format_location(f.location) + ")";
            ordered_json res = {
                {"ruleId", f.rule_id},
                {"ruleIndex", rule_index.count(f.rule_id) ? rule_index[f.rule_id] : 0},
                {"level", sarif_level(f.severity)},
                {"message", {{"text", text}}},
                {"locations", ordered_json::array({{{"physicalLocation", physical}}})},
                {"partialFingerprints", {{"mscanFingerprint/v1", f.fingerprint}}},
                {"properties",
                 {{"severity", std::string(severity_name(f.severity))},
                  {"subject", f.subject},
                  {"evidence", f.evidence},
                  {"occurrences", f.occurrences}}}};
            if (!rule_index.count(f.rule_id)) res.erase("ruleIndex");
            if (!f.suppressed.empty()) {
                // Accepted on review (configuration) or in the baseline: GitHub shows it as
                // dismissed; it fails nothing.
                res["suppressions"] = ordered_json::array({{{"kind", "external"},
                                                            {"status", "accepted"},
                                                            {"justification", f.justification}}});
            }
            results.push_back(std::move(res));
        }
    }
    ordered_json invocation = {{"executionSuccessful", true}};
    if (!notifications.empty()) invocation["toolExecutionNotifications"] = notifications;
    ordered_json doc = {
        {"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
        {"version", "2.1.0"},
        {"runs", ordered_json::array({{{"tool",
                                        {{"driver",
                                          {{"name", "mscan"},
                                           {"version", kVersion},
                                           {"semanticVersion", kVersion},
                                           {"informationUri", kInformationUri},
                                           {"rules", rule_list}}}}},
                                       {"invocations", ordered_json::array({invocation})},
                                       {"results", results}}})}};
    if (!result.repos.empty()) {
        // Which commit of which Hugging Face repo was read, and the Hub's own verdict beside
        // ours (labelled as the Hub's).
        ordered_json provenance = ordered_json::array();
        ordered_json repos = ordered_json::array();
        for (const auto& r : result.repos) {
            if (!r.commit.empty() && !r.web_url.empty()) {
                ordered_json v = {{"repositoryUri", r.web_url}, {"revisionId", r.commit}};
                if (!r.revision.empty()) v["branch"] = r.revision;
                provenance.push_back(std::move(v));
            }
            ordered_json entry = {{"name", r.name},
                                  {"commit", r.commit},
                                  {"fetched", r.fetched},
                                  {"totalSize", r.total_size}};
            if (!r.error.empty()) entry["error"] = r.error;
            if (r.hub_status.present) {
                ordered_json issues = ordered_json::array();
                for (const auto& [path, level] : r.hub_status.files_with_issues)
                    issues.push_back({{"path", path}, {"level", level}});
                entry["hubSecurityStatus"] = {{"scansDone", r.hub_status.scans_done},
                                              {"filesWithIssues", issues}};
            }
            repos.push_back(std::move(entry));
        }
        auto& run = doc["runs"][0];
        if (!provenance.empty()) run["versionControlProvenance"] = provenance;
        run["properties"] = {{"huggingFaceRepos", repos}};
    }
    out << doc.dump(2, ' ', false, ordered_json::error_handler_t::replace) << "\n";
}

}  // namespace mscan
