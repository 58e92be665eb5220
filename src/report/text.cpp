// Text report: findings grouped by file, worst first, then one summary line.
#include <algorithm>
#include <cstdio>
#include <map>
#include <vector>

#include "report/reporters.h"

namespace mscan {
namespace {

const char* severity_label(Severity s) {
    switch (s) {
        case Severity::Critical:
            return "CRITICAL";
        case Severity::High:
            return "HIGH";
        case Severity::Medium:
            return "MEDIUM";
        case Severity::Low:
            return "LOW";
        case Severity::Info:
            return "INFO";
    }
    return "INFO";
}

const char* severity_color(Severity s) {
    switch (s) {
        case Severity::Critical:
            return "\033[1;31m";
        case Severity::High:
            return "\033[31m";
        case Severity::Medium:
            return "\033[33m";
        case Severity::Low:
            return "\033[36m";
        case Severity::Info:
            return "\033[2m";
    }
    return "";
}

std::string human_size(std::uint64_t n) {
    char buf[32];
    if (n < 1024) {
        std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
    } else if (n < 1024 * 1024) {
        std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(n) / 1024);
    } else if (n < 1024ull * 1024 * 1024) {
        std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(n) / (1024 * 1024));
    } else {
        std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(n) / (1024.0 * 1024 * 1024));
    }
    return buf;
}

std::string percent(std::uint64_t part, std::uint64_t whole) {
    if (whole == 0) return "-";
    char buf[32];
    const double p = 100.0 * static_cast<double>(part) / static_cast<double>(whole);
    std::snprintf(buf, sizeof buf, p < 0.01 ? "%.4f%%" : p < 10 ? "%.2f%%" : "%.1f%%", p);
    return buf;
}

std::string verdict(const FileResult& f) {
    if (f.status == FileStatus::Error) return "ERROR: " + f.reason;
    if (f.status == FileStatus::Skipped) return "skipped: " + f.reason;
    if (f.findings.empty()) return "clean (" + f.format + ")";
    Severity worst = f.findings.front().severity;
    for (const auto& x : f.findings)
        if (x.severity > worst) worst = x.severity;
    return std::string(severity_label(worst)) + " (" + f.format + ", " +
           std::to_string(f.findings.size()) + " finding" + (f.findings.size() == 1 ? "" : "s") +
           ")";
}

/// One block per Hugging Face repo: what was read, at which commit, what it cost, each
/// file's verdict, and the Hub's own scan status labelled as the Hub's.
void write_repos(std::ostream& out, const ScanResult& result, const ReportOptions& opt) {
    for (const auto& r : result.repos) {
        out << (opt.color ? "\033[1m" : "") << r.name << (opt.color ? "\033[0m" : "") << "  ("
            << r.type << (r.from_cache ? ", local cache" : "") << ")\n";
        if (!r.error.empty()) {
            out << "  not scanned: " << r.error << "\n\n";
            continue;
        }
        out << "  commit " << r.commit;
        if (!r.revision.empty() && r.revision != r.commit) out << " (" << r.revision << ")";
        if (r.from_cache) out << ", snapshot " << r.local_path;
        if (!r.gated.empty()) out << ", gated: " << r.gated;
        if (r.is_private) out << ", private";
        out << "\n";
        if (!r.from_cache) {
            out << "  The Hub's own scan (securityRepoStatus, not mscan's verdict): ";
            if (!r.hub_status.present) {
                out << "not reported\n";
            } else {
                out << (r.hub_status.scans_done ? "done" : "not finished");
                if (r.hub_status.files_with_issues.empty()) {
                    out << ", no file flagged\n";
                } else {
                    out << ", " << r.hub_status.files_with_issues.size() << " file(s) flagged:";
                    std::size_t shown = 0;
                    for (const auto& [path, level] : r.hub_status.files_with_issues) {
                        if (shown++ == 10) {
                            out << " ...";
                            break;
                        }
                        out << " " << path << " (" << level << ")";
                    }
                    out << "\n";
                }
            }
        }
        const std::string prefix = r.name + "/";
        std::size_t width = 4;
        for (const auto& f : result.files) {
            if (f.path.compare(0, prefix.size(), prefix) == 0)
                width = std::max(width, f.path.size() - prefix.size());
        }
        width = std::min<std::size_t>(width, 60);
        char line[512];
        std::snprintf(line, sizeof line, "  %-*s %10s %10s  %s\n", static_cast<int>(width), "file",
                      "size", r.from_cache ? "" : "fetched", "mscan verdict");
        out << line;
        for (const auto& f : result.files) {
            if (f.path.compare(0, prefix.size(), prefix) != 0) continue;
            std::snprintf(line, sizeof line, "  %-*s %10s %10s  ", static_cast<int>(width),
                          f.path.substr(prefix.size()).c_str(), human_size(f.size).c_str(),
                          r.from_cache ? "" : human_size(f.fetched).c_str());
            out << line << verdict(f) << "\n";
        }
        out << "  " << r.files << " file" << (r.files == 1 ? "" : "s") << ", "
            << human_size(r.total_size);
        if (!r.from_cache) {
            out << "; fetched " << human_size(r.fetched) << " (" << r.fetched << " bytes, "
                << percent(r.fetched, r.total_size) << " of the repo) in " << r.requests
                << " requests";
        }
        out << "\n\n";
    }
}

}  // namespace

std::string format_location(const Location& loc) {
    std::string s;
    for (std::size_t i = 0; i < loc.chain.size(); ++i) {
        if (i) s += "!/";
        s += loc.chain[i];
    }
    if (loc.offset >= 0) {
        char buf[32];
        std::snprintf(buf, sizeof buf, " @0x%llx", static_cast<unsigned long long>(loc.offset));
        s += buf;
    }
    if (loc.index >= 0) s += " opcode #" + std::to_string(loc.index);
    if (!loc.stream.empty()) s += " (" + loc.stream + ")";
    return s;
}

void write_text(std::ostream& out, const ScanResult& result, const RuleSet&,
                const ReportOptions& opt) {
    auto paint = [&](const char* code, const std::string& text) {
        return opt.color ? std::string(code) + text + "\033[0m" : text;
    };
    std::map<Severity, std::uint64_t> counts;
    std::uint64_t suppressed = 0, baselined = 0;
    for (const auto& file : result.files) {
        // Accepted findings (configuration, baseline) are counted, and listed only with -v.
        std::vector<const Finding*> shown;
        for (const auto& f : file.findings) {
            if (f.suppressed.empty()) {
                ++counts[f.severity];
            } else {
                ++(f.suppressed == "baseline" ? baselined : suppressed);
            }
            if (f.suppressed.empty() || opt.verbose) shown.push_back(&f);
        }
        if (file.status == FileStatus::Error) {
            out << paint("\033[1;35m", "ERROR") << "  " << file.path << ": " << file.reason << "\n";
            if (shown.empty()) continue;  // what was found before the error still shows
        } else if (file.status == FileStatus::Skipped) {
            if (opt.show_skipped || opt.verbose) {
                out << paint("\033[2m", "skipped") << "  " << file.path << ": " << file.reason
                    << "\n";
            }
            continue;
        } else if (shown.empty()) {
            if (opt.verbose) {
                out << paint("\033[32m", "clean") << "  " << file.path << "  [" << file.format
                    << ", " << human_size(file.size) << "]\n";
            }
            continue;
        }
        out << paint("\033[1m", file.path) << "  [" << (file.format.empty() ? "?" : file.format)
            << ", " << human_size(file.size) << "]\n";
        for (const Finding* fp : shown) {
            const Finding& f = *fp;
            char label[16];
            std::snprintf(label, sizeof label, "%-8s", severity_label(f.severity));
            out << "  " << paint(severity_color(f.severity), label) << " " << f.rule_id << ": "
                << f.message << "\n";
            out << "           at " << format_location(f.location);
            if (f.occurrences > 1) out << " (and " << (f.occurrences - 1) << " more like it)";
            out << "\n";
            if (!f.evidence.empty()) out << "           evidence: " << f.evidence << "\n";
            if (!f.why.empty() && !opt.quiet) out << "           why: " << f.why << "\n";
            if (!f.suppressed.empty())
                out << "           accepted (" << f.suppressed << "): " << f.justification << "\n";
        }
        out << "\n";
    }
    if (opt.quiet) return;
    write_repos(out, result, opt);
    const auto c = count_files(result);
    out << "Scanned " << c.scanned << " file" << (c.scanned == 1 ? "" : "s") << ", skipped "
        << c.skipped << ", errors " << c.errors << ". Findings: " << counts[Severity::Critical]
        << " critical, " << counts[Severity::High] << " high, " << counts[Severity::Medium]
        << " medium, " << counts[Severity::Low] << " low, " << counts[Severity::Info] << " info.";
    if (opt.timing) {
        char buf[32];
        std::snprintf(buf, sizeof buf, " %.2f s.", result.elapsed_seconds);
        out << buf;
    }
    out << "\n";
    if (suppressed || baselined) {
        out << "(" << suppressed << " finding" << (suppressed == 1 ? "" : "s")
            << " suppressed by the configuration and " << baselined
            << " in the baseline were not counted; -v lists them, and JSON and SARIF carry "
               "them.)\n";
    }
    if (c.skipped && !opt.show_skipped && !opt.verbose) {
        out << "(" << c.skipped << " file" << (c.skipped == 1 ? " was" : "s were")
            << " not a model format; --show-skipped lists them.)\n";
    }
}

}  // namespace mscan
