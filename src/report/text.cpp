// Text report: findings grouped by file, worst first, then one summary line. Every string that
// comes from the input or the network (paths, member and repo names, messages, evidence, server
// text) goes through terminal_safe(): a file name must not be able to move the cursor or erase
// the lines above it. The only escape sequences written are this file's own colours.
#include <algorithm>
#include <cstdio>
#include <map>
#include <vector>

#include "report/reporters.h"
#include "util/text_safety.h"

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
    if (f.status == FileStatus::Error) return "ERROR: " + terminal_safe(f.reason);
    if (f.status == FileStatus::Skipped) return "skipped: " + terminal_safe(f.reason);
    if (f.findings.empty()) return "clean (" + f.format + ")";
    Severity worst = f.findings.front().severity;
    for (const auto& x : f.findings)
        if (x.severity > worst) worst = x.severity;
    return std::string(severity_label(worst)) + " (" + f.format + ", " +
           std::to_string(f.findings.size()) + " finding" + (f.findings.size() == 1 ? "" : "s") +
           ")";
}

/// `text` broken at spaces into lines of at most `width` columns (0: one line), the first
/// after `first` columns already used, the others indented by `indent` spaces. A word longer
/// than a line stays whole. Columns are counted in bytes but for UTF-8 continuation bytes.
std::string wrap(const std::string& text, std::size_t first, std::size_t indent,
                 std::size_t width) {
    if (width == 0 || width <= indent + 20) return text;
    auto columns = [](std::string_view s) {
        std::size_t n = 0;
        for (unsigned char c : s)
            n += (c & 0xC0) != 0x80;
        return n;
    };
    std::string out;
    std::size_t used = first;
    std::size_t start = 0;
    bool line_empty = true;
    while (start < text.size()) {
        std::size_t end = text.find(' ', start);
        if (end == std::string::npos) end = text.size();
        const std::string_view word(text.data() + start, end - start);
        const std::size_t w = columns(word);
        if (!line_empty && used + 1 + w > width) {
            out += "\n" + std::string(indent, ' ');
            used = indent;
            line_empty = true;
        }
        if (!line_empty) {
            out += ' ';
            ++used;
        }
        out.append(word);
        used += w;
        line_empty = false;
        start = end + 1;
    }
    return out;
}

/// One block per Hugging Face repo: what was read, at which commit, what it cost, each
/// file's verdict, and the Hub's own scan status labelled as the Hub's.
void write_repos(std::ostream& out, const ScanResult& result, const ReportOptions& opt) {
    for (const auto& r : result.repos) {
        out << (opt.color ? "\033[1m" : "") << terminal_safe(r.name) << (opt.color ? "\033[0m" : "")
            << "  (" << r.type << (r.from_cache ? ", local cache" : "") << ")\n";
        if (!r.error.empty()) {
            out << "  not scanned: " << terminal_safe(r.error) << "\n\n";
            continue;
        }
        out << "  commit " << terminal_safe(r.commit);
        if (!r.revision.empty() && r.revision != r.commit)
            out << " (" << terminal_safe(r.revision) << ")";
        if (r.from_cache) out << ", snapshot " << terminal_safe(r.local_path);
        if (!r.gated.empty()) out << ", gated: " << terminal_safe(r.gated);
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
                        out << " " << terminal_safe(path) << " (" << terminal_safe(level) << ")";
                    }
                    out << "\n";
                }
            }
        }
        const std::string prefix = r.name + "/";
        std::size_t width = 4;
        for (const auto& f : result.files) {
            if (f.path.compare(0, prefix.size(), prefix) == 0)
                width = std::max(width, terminal_safe(f.path.substr(prefix.size())).size());
        }
        width = std::min<std::size_t>(width, 60);
        char line[512];
        std::snprintf(line, sizeof line, "  %-*s %10s %10s  %s\n", static_cast<int>(width), "file",
                      "size", r.from_cache ? "" : "fetched", "mscan verdict");
        out << line;
        for (const auto& f : result.files) {
            if (f.path.compare(0, prefix.size(), prefix) != 0) continue;
            const std::string name = terminal_safe(f.path.substr(prefix.size()));
            std::snprintf(line, sizeof line, "  %-*s %10s %10s  ", static_cast<int>(width),
                          name.size() < 400 ? name.c_str() : (name.substr(0, 397) + "...").c_str(),
                          human_size(f.size).c_str(),
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
        s += terminal_safe(loc.chain[i]);
    }
    if (loc.offset >= 0) {
        char buf[32];
        std::snprintf(buf, sizeof buf, " @0x%llx", static_cast<unsigned long long>(loc.offset));
        s += buf;
    }
    if (loc.index >= 0) s += " opcode #" + std::to_string(loc.index);
    if (!loc.stream.empty()) s += " (" + terminal_safe(loc.stream) + ")";
    return s;
}

void write_text(std::ostream& out, const ScanResult& result, const RuleSet&,
                const ReportOptions& opt) {
    auto paint = [&](const char* code, const std::string& text) {
        return opt.color ? std::string(code) + text + "\033[0m" : text;
    };
    constexpr std::size_t kIndent = 11;  // "           at ..."
    std::map<Severity, std::uint64_t> counts;
    std::uint64_t suppressed = 0, baselined = 0, info_hidden = 0;
    for (const auto& file : result.files) {
        // Accepted findings (configuration, baseline) are counted, and listed only with -v;
        // so are INFO findings (a torch file's persistent ids, a safetensors summary), which
        // JSON and SARIF always carry.
        std::vector<const Finding*> shown;
        for (const auto& f : file.findings) {
            if (f.suppressed.empty()) {
                ++counts[f.severity];
            } else {
                ++(f.suppressed == "baseline" ? baselined : suppressed);
            }
            const bool hidden =
                !opt.verbose && (!f.suppressed.empty() || f.severity == Severity::Info);
            if (!hidden) shown.push_back(&f);
            info_hidden += hidden && f.suppressed.empty();
        }
        const std::string path = terminal_safe(file.path);
        if (file.status == FileStatus::Error) {
            out << paint("\033[1;35m", "ERROR") << "  " << path << ": "
                << terminal_safe(file.reason) << "\n";
            if (shown.empty()) continue;  // what was found before the error still shows
        } else if (file.status == FileStatus::Skipped) {
            if (opt.show_skipped || opt.verbose) {
                out << paint("\033[2m", "skipped") << "  " << path << ": "
                    << terminal_safe(file.reason) << "\n";
            }
            continue;
        } else if (shown.empty()) {
            if (opt.verbose) {
                out << paint("\033[32m", "clean") << "  " << path << "  [" << file.format << ", "
                    << human_size(file.size) << "]\n";
            }
            continue;
        }
        out << paint("\033[1m", path) << "  [" << (file.format.empty() ? "?" : file.format) << ", "
            << human_size(file.size) << "]\n";
        for (const Finding* fp : shown) {
            const Finding& f = *fp;
            char label[16];
            std::snprintf(label, sizeof label, "%-8s", severity_label(f.severity));
            out << "  " << paint(severity_color(f.severity), label) << " " << f.rule_id << ": "
                << terminal_safe(f.message) << "\n";
            out << "           at " << format_location(f.location);
            if (f.occurrences > 1) out << " (and " << (f.occurrences - 1) << " more like it)";
            out << "\n";
            if (!f.evidence.empty())
                out << "           evidence: " << terminal_safe(f.evidence) << "\n";
            if (!f.why.empty() && !opt.quiet) {
                out << "           why: "
                    << wrap(terminal_safe(f.why), kIndent + 5, kIndent + 5, opt.width) << "\n";
            }
            if (!f.suppressed.empty()) {
                out << "           accepted (" << f.suppressed
                    << "): " << terminal_safe(f.justification) << "\n";
            }
        }
        out << "\n";
    }
    if (opt.quiet) return;
    write_repos(out, result, opt);
    const auto c = count_files(result);
    std::string summary = "Scanned " + std::to_string(c.scanned) + " file" +
                          (c.scanned == 1 ? "" : "s") + ", skipped " + std::to_string(c.skipped) +
                          ", errors " + std::to_string(c.errors) +
                          ". Findings: " + std::to_string(counts[Severity::Critical]) +
                          " critical, " + std::to_string(counts[Severity::High]) + " high, " +
                          std::to_string(counts[Severity::Medium]) + " medium, " +
                          std::to_string(counts[Severity::Low]) + " low, " +
                          std::to_string(counts[Severity::Info]) + " info.";
    if (opt.timing) {
        char buf[32];
        std::snprintf(buf, sizeof buf, " %.2f s.", result.elapsed_seconds);
        summary += buf;
    }
    out << wrap(summary, 0, 0, opt.width) << "\n";
    std::vector<std::string> notes;
    if (suppressed || baselined) {
        notes.push_back("(" + std::to_string(suppressed) + " finding" +
                        (suppressed == 1 ? "" : "s") + " suppressed by the configuration and " +
                        std::to_string(baselined) +
                        " in the baseline were not counted; -v lists them, and JSON and SARIF "
                        "carry them.)");
    }
    if (info_hidden) {
        notes.push_back("(" + std::to_string(info_hidden) + " info finding" +
                        (info_hidden == 1 ? " is" : "s are") +
                        " not listed; -v lists them, and JSON and SARIF carry them.)");
    }
    if (c.skipped && !opt.show_skipped && !opt.verbose) {
        std::vector<std::string> parts;
        auto part = [&](std::uint64_t n, const char* what) {
            if (n) parts.push_back(std::to_string(n) + " " + what);
        };
        part(c.not_model,
             c.not_model == 1 ? "file was not a model format" : "files were not a model format");
        part(c.excluded, c.excluded == 1 ? "file was left out by --include/--exclude"
                                         : "files were left out by --include/--exclude");
        const std::uint64_t other = c.skipped - c.not_model - c.excluded;
        part(other, other == 1 ? "path was skipped for another reason"
                               : "paths were skipped for other reasons");
        std::string note = "(";
        for (std::size_t i = 0; i < parts.size(); ++i)
            note += (i ? "; " : "") + parts[i];
        notes.push_back(note + "; --show-skipped lists them with the reason.)");
    }
    for (const auto& note : notes)
        out << wrap(note, 0, 1, opt.width) << "\n";
}

}  // namespace mscan
