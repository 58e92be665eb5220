// Walks targets, detects formats, runs parsers, applies rules, and tidies findings
// (deduplicated, capped, fingerprinted, sorted) so output is deterministic.
#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <string_view>
#include <thread>
#include <tuple>

#include "formats/registry.h"
#include "formats/zip/zip_format.h"
#include "mscan/limits.h"
#include "mscan/scan.h"

namespace mscan {
namespace {

namespace fs = std::filesystem;

std::string hex64(std::uint64_t v) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return buf;
}

/// FNV-1a over the parts, separated so that ("ab","c") and ("a","bc") differ.
std::string fingerprint(const Finding& f) {
    std::uint64_t h = 1469598103934665603ull;
    auto mix = [&h](std::string_view s) {
        for (unsigned char c : s) {
            h ^= c;
            h *= 1099511628211ull;
        }
        h ^= 0xff;
        h *= 1099511628211ull;
    };
    mix(f.rule_id);
    for (const auto& part : f.location.chain)
        mix(part);
    mix(f.location.stream);
    mix(f.subject);
    mix(f.evidence);
    return hex64(h);
}

bool finding_order(const Finding& a, const Finding& b) {
    return std::tie(b.severity, a.location.chain, a.location.stream, a.location.offset, a.rule_id,
                    a.subject, a.evidence) < std::tie(a.severity, b.location.chain,
                                                      b.location.stream, b.location.offset,
                                                      b.rule_id, b.subject, b.evidence);
}

void tidy(std::vector<Finding>& findings) {
    // Fold identical findings (same rule, place, subject, evidence) into one with a count.
    std::map<
        std::tuple<std::string, std::vector<std::string>, std::string, std::string, std::string>,
        std::size_t>
        seen;
    std::vector<Finding> out;
    for (auto& f : findings) {
        auto key =
            std::make_tuple(f.rule_id, f.location.chain, f.location.stream, f.subject, f.evidence);
        auto [it, inserted] = seen.emplace(std::move(key), out.size());
        if (inserted) {
            out.push_back(std::move(f));
        } else {
            Finding& first = out[it->second];
            ++first.occurrences;
            if (f.location.offset >= 0 &&
                (first.location.offset < 0 || f.location.offset < first.location.offset)) {
                first.location = f.location;
            }
        }
    }
    std::sort(out.begin(), out.end(), finding_order);
    if (out.size() > limits::kMaxFindingsPerFile) {
        const std::size_t dropped = out.size() - limits::kMaxFindingsPerFile;
        out.resize(limits::kMaxFindingsPerFile);
        Finding cap;
        cap.rule_id = "scan-limit-exceeded";
        cap.severity = Severity::Medium;
        cap.title = "Scan limit exceeded";
        cap.message = std::to_string(dropped) + " more findings were not listed";
        cap.subject = "limit.exceeded";
        cap.location.chain = out.front().location.chain;
        out.push_back(std::move(cap));
    }
    for (auto& f : out)
        f.fingerprint = fingerprint(f);
    findings = std::move(out);
}

}  // namespace

FileResult scan_source(Source& source, const std::string& display_path, const RuleSet& rules) {
    FileResult result;
    result.path = display_path;
    result.size = source.size();
    // Containers no parser reads yet are recognised by their magic bytes first, so that a
    // model this version cannot read is an error that fails a CI gate rather than a silently
    // skipped file or a misdetected one. (A format that gains a parser moves from
    // unsupported_container() to the format registry.)
    if (const char* container = unsupported_container(source)) {
        result.status = FileStatus::Error;
        result.reason = std::string(container) +
                        ": not supported by this version of mscan, so it was NOT scanned";
        return result;
    }
    const Format* format = detect_format(source, display_path);
    if (!format) {
        result.status = FileStatus::Skipped;
        result.reason = source.size() == 0 ? "empty file" : "not a model format mscan reads";
        return result;
    }
    result.format = format->name;
    RuleEngine engine(rules);
    Location base;
    base.chain.push_back(display_path);
    std::vector<Finding> findings;
    const OperationSink sink = [&](Operation&& op) {
        if (auto f = engine.evaluate(op)) findings.push_back(std::move(*f));
    };
    ScanBudget budget;
    const ParseContext context(sink, base, budget);
    format->parse(source, context);
    // A file read as one format may also end with a zip archive (a polyglot): scan both. (The
    // tar reader checks this itself: the end record of a zip member is not the tar's own.)
    const std::string_view name = format->name;
    if (name != "zip" && name != "tar") zip::scan_appended(source, context, format->name);
    tidy(findings);
    result.findings = std::move(findings);
    return result;
}

namespace {

struct Work {
    std::string path;
    bool error = false;
    std::string reason;
};

void collect(const std::string& target, std::vector<Work>& work, std::uint64_t& target_errors) {
    std::error_code ec;
    const auto status = fs::status(target, ec);
    if (ec || !fs::exists(status)) {
        work.push_back({target, true, ec ? ec.message() : "no such file or directory"});
        ++target_errors;
        return;
    }
    if (!fs::is_directory(status)) {
        work.push_back({target, false, {}});
        return;
    }
    std::vector<Work> found;
    fs::recursive_directory_iterator it(target, fs::directory_options::skip_permission_denied, ec);
    const fs::recursive_directory_iterator end;
    while (!ec && it != end) {
        const auto& entry = *it;
        std::error_code e2;
        if (it.depth() > limits::kMaxDirectoryDepth) {
            it.disable_recursion_pending();
        } else if (entry.is_regular_file(e2)) {
            found.push_back({entry.path().string(), false, {}});
        } else if (!entry.is_directory(e2)) {
            if (entry.is_symlink(e2) && !fs::exists(entry.path(), e2)) {
                found.push_back({entry.path().string(), true, "broken symbolic link"});
            } else if (!entry.is_symlink(e2)) {
                found.push_back({entry.path().string(), false, {}});
            }
        }
        it.increment(ec);
    }
    if (ec) {
        found.push_back({target, true, "cannot walk directory: " + ec.message()});
    }
    work.insert(work.end(), found.begin(), found.end());
}

FileResult scan_path(const Work& w, const RuleSet& rules) {
    if (w.error) {
        FileResult r;
        r.path = w.path;
        r.status = FileStatus::Error;
        r.reason = w.reason;
        return r;
    }
    if (w.path == "-") {
        std::vector<std::uint8_t> bytes;
        std::uint8_t buf[65536];
        std::size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) {
            if (bytes.size() + n > limits::kMaxStdinBytes) {
                FileResult r;
                r.path = "-";
                r.status = FileStatus::Error;
                r.reason = "standard input is larger than the stdin limit; scan a file instead";
                return r;
            }
            bytes.insert(bytes.end(), buf, buf + n);
        }
        MemorySource source(std::move(bytes));
        return scan_source(source, "-", rules);
    }
    std::error_code ec;
    if (!fs::is_regular_file(w.path, ec)) {
        FileResult r;
        r.path = w.path;
        r.status = FileStatus::Skipped;
        r.reason = "not a regular file";
        return r;
    }
    std::string error;
    auto source = MmapSource::open(w.path, error);
    if (!source) {
        FileResult r;
        r.path = w.path;
        r.status = FileStatus::Error;
        r.reason = "cannot open: " + error;
        return r;
    }
    return scan_source(*source, w.path, rules);
}

}  // namespace

ScanResult scan(const ScanOptions& options, const RuleSet& rules) {
    const auto start = std::chrono::steady_clock::now();
    ScanResult result;
    std::vector<Work> work;
    for (const auto& target : options.targets) {
        if (target == "-") {
            work.push_back({"-", false, {}});
        } else {
            collect(target, work, result.target_errors);
        }
    }
    std::sort(work.begin(), work.end(),
              [](const Work& a, const Work& b) { return a.path < b.path; });
    work.erase(std::unique(work.begin(), work.end(),
                           [](const Work& a, const Work& b) { return a.path == b.path; }),
               work.end());
    result.files.resize(work.size());
    unsigned jobs = options.jobs ? options.jobs : std::max(1u, std::thread::hardware_concurrency());
    jobs =
        static_cast<unsigned>(std::min<std::size_t>(jobs, std::max<std::size_t>(1, work.size())));
    std::atomic<std::size_t> next{0};
    auto worker = [&] {
        for (std::size_t i = next++; i < work.size(); i = next++) {
            result.files[i] = scan_path(work[i], rules);
        }
    };
    if (jobs <= 1) {
        worker();
    } else {
        std::vector<std::thread> threads;
        for (unsigned t = 0; t < jobs; ++t)
            threads.emplace_back(worker);
        for (auto& t : threads)
            t.join();
    }
    result.elapsed_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
}

std::optional<Severity> worst_severity(const ScanResult& result) {
    std::optional<Severity> worst;
    for (const auto& file : result.files) {
        for (const auto& f : file.findings) {
            if (!worst || f.severity > *worst) worst = f.severity;
        }
    }
    return worst;
}

FileCounts count_files(const ScanResult& result) {
    FileCounts c;
    for (const auto& f : result.files) {
        if (f.status == FileStatus::Scanned) ++c.scanned;
        if (f.status == FileStatus::Skipped) ++c.skipped;
        if (f.status == FileStatus::Error) ++c.errors;
    }
    return c;
}

}  // namespace mscan
