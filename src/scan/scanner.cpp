// Walks targets, detects formats, runs parsers, applies rules, and tidies findings
// (deduplicated, capped, fingerprinted, sorted) so output is deterministic.
#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <string_view>
#include <thread>
#include <tuple>

#include <mutex>

#include "formats/common_codes.h"
#include "formats/member.h"
#include "formats/registry.h"
#include "formats/zip/zip_format.h"
#include "mscan/limits.h"
#include "mscan/scan.h"
#include "mscan/version.h"
#include "net/remote_source.h"
#include "targets/targets.h"
#include "targets/work.h"
#include "util/text.h"
#include "util/text_safety.h"

namespace mscan {
namespace {

namespace fs = std::filesystem;

/// FNV-1a over the parts, separated so that ("ab","c") and ("a","bc") differ.
std::string fingerprint(const Finding& f, std::string_view name) {
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
    for (std::size_t i = 0; i < f.location.chain.size(); ++i)
        mix(i == 0 && !name.empty() ? name : std::string_view(f.location.chain[i]));
    mix(f.location.stream);
    mix(f.subject);
    mix(f.evidence);
    return util::hex64(h);
}

bool finding_order(const Finding& a, const Finding& b) {
    return std::tie(b.severity, a.location.chain, a.location.stream, a.location.offset, a.rule_id,
                    a.subject, a.evidence) < std::tie(a.severity, b.location.chain,
                                                      b.location.stream, b.location.offset,
                                                      b.rule_id, b.subject, b.evidence);
}

void tidy(std::vector<Finding>& findings, std::string_view name, const RuleEngine& engine) {
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
        // Said through the rule engine like every finding, so the rule's configured severity
        // (or its being turned off) applies.
        Operation cap;
        cap.kind = OpKind::Anomaly;
        cap.name = kLimitExceeded;
        cap.evidence = std::to_string(dropped) + " more findings (the lowest in severity) were " +
                       "not listed: a file reports at most " +
                       std::to_string(limits::kMaxFindingsPerFile);
        cap.location.chain = out.front().location.chain;
        if (auto finding = engine.evaluate(cap)) out.push_back(std::move(*finding));
    }
    for (auto& f : out)
        f.fingerprint = fingerprint(f, name);
    findings = std::move(out);
}

}  // namespace

FileResult scan_source(Source& source, const std::string& display_path, const RuleSet& rules,
                       std::string_view fingerprint_name, const Neighbours* neighbours) {
    FileResult result;
    result.path = display_path;
    result.size = source.size();
    // The same detection verdict as every container member's (formats/member.h). A model
    // container this version cannot read is an error that fails a CI gate rather than a
    // silently skipped file or a misdetected one.
    const Judgement verdict = judge(source, display_path);
    if (verdict.unsupported) {
        result.status = FileStatus::Error;
        result.reason = std::string(verdict.unsupported) +
                        ": not supported by this version of mscan, so it was NOT scanned";
        return result;
    }
    const Format* format = verdict.format;
    if (!format && !source.read_error().empty()) {
        result.status = FileStatus::Error;
        result.reason = source.read_error();
        return result;
    }
    const char* claimed = verdict.claimed;
    if (!format && !claimed) {
        result.status = FileStatus::Skipped;
        result.reason = source.size() == 0 ? "empty file" : "not a model format mscan reads";
        result.not_model = true;
        return result;
    }
    result.format = format ? format->name : "unrecognised";
    RuleEngine engine(rules);
    Location base;
    base.chain.push_back(display_path);
    std::vector<Finding> findings;
    const OperationSink sink = [&](Operation&& op) {
        if (auto f = engine.evaluate(op)) findings.push_back(std::move(*f));
    };
    ScanBudget budget;
    ParseContext context(sink, base, budget);
    context.set_neighbours(neighbours);
    if (format) {
        format->parse(source, context);
    } else {
        // Named as a model format it is not (empty, cut short, text): the loader would still
        // be handed it, so it is a finding, not a skipped file.
        context.anomaly(kFormatMismatch, describe_mismatch(source, display_path, claimed));
    }
    // A file read as one format may also end with a zip archive (a polyglot): scan both. (The
    // tar reader checks this itself: the end record of a zip member is not the tar's own.)
    if (!format || !format->owns_trailing_zip) zip::scan_appended(source, context, result.format);
    tidy(findings, fingerprint_name.empty() ? std::string_view(display_path) : fingerprint_name,
         engine);
    result.findings = std::move(findings);
    if (const std::string error = source.read_error(); !error.empty()) {
        // Bytes the parser needed never came: what was found stands, but the file was not
        // read whole, which is an error rather than a pass.
        result.status = FileStatus::Error;
        result.reason = error;
    }
    return result;
}

namespace {

FileResult scan_path(const Work& w, const RuleSet& rules, hub::HttpClient* http,
                     std::uint64_t max_fetch) {
    if (w.error || w.skip) {
        FileResult r;
        r.path = w.path;
        r.status = w.error ? FileStatus::Error : FileStatus::Skipped;
        r.reason = w.reason;
        r.excluded = w.excluded;
        r.remote = w.remote.has_value();
        if (w.remote) r.size = w.remote->size;
        return r;
    }
    if (w.remote) {
        if (!http) {
            FileResult r;
            r.path = w.path;
            r.status = FileStatus::Error;
            r.reason = "no HTTP client";
            return r;
        }
        hub::RemoteLimits lim;
        if (max_fetch) lim.max_fetch = max_fetch;
        hub::RemoteSource source(*http, *w.remote, lim);
        std::unique_ptr<Neighbours> neighbours;
        if (w.listing) {
            const auto slash = w.path.rfind('/');
            neighbours = listed_neighbours(w.listing, w.folder, w.path.substr(0, slash + 1));
        }
        FileResult r = scan_source(source, w.path, rules, w.relative, neighbours.get());
        r.remote = true;
        r.fetched = source.fetched();
        r.requests = source.requests();
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
    const std::string& local = w.local.empty() ? w.path : w.local;
    std::error_code ec;
    if (!fs::is_regular_file(local, ec)) {
        FileResult r;
        r.path = w.path;
        r.local_path = w.local;
        r.status = FileStatus::Skipped;
        r.reason = "not a regular file";
        return r;
    }
    std::string error;
    auto source = MmapSource::open(local, error);
    if (!source) {
        FileResult r;
        r.path = w.path;
        r.local_path = w.local;
        r.status = FileStatus::Error;
        r.reason = "cannot open: " + error;
        return r;
    }
    // A file of the Hugging Face cache links into its repo folder's blobs/: links may resolve
    // anywhere in that folder (models--org--name/), not only in the snapshot.
    std::string root;
    if (!w.local.empty()) {
        if (const auto at = w.local.rfind("/snapshots/"); at != std::string::npos)
            root = w.local.substr(0, at);
    }
    const auto neighbours = local_neighbours(local, root);
    FileResult r = scan_source(*source, w.path, rules, w.relative, neighbours.get());
    r.local_path = w.local;
    return r;
}

}  // namespace

namespace {

/// A file named like a model file (".bin", ".ckpt", ".pb") that matches no format is skipped
/// when it is all there is (the run then exits 3), but in a run that found models it becomes
/// a finding: a folder of checkpoints with one unreadable "model.bin" must not pass as clean.
void report_unrecognised_model_names(ScanResult& result, const RuleSet& rules) {
    const bool found_models =
        std::any_of(result.files.begin(), result.files.end(),
                    [](const auto& f) { return f.status == FileStatus::Scanned; });
    if (!found_models) return;
    std::set<std::string> paths;
    for (const auto& f : result.files)
        paths.insert(f.path);
    // OpenVINO IR: model.xml describes the graph, model.bin is its raw weights (no format).
    const auto openvino_weights = [&paths](const std::string& path) {
        const auto dot = path.find_last_of('.');
        return dot != std::string::npos && path.compare(dot, std::string::npos, ".bin") == 0 &&
               paths.count(path.substr(0, dot) + ".xml") > 0;
    };
    const RuleEngine engine(rules);
    for (auto& f : result.files) {
        if (f.status != FileStatus::Skipped || !f.not_model || !named_like_model(f.path) ||
            openvino_weights(f.path))
            continue;
        Operation op;
        op.kind = OpKind::Anomaly;
        op.name = kFormatMismatch;
        op.evidence = std::string("named like a model file, but ") +
                      (f.size == 0 ? "empty" : "its content matches no format mscan reads") +
                      ": it was NOT scanned (whatever loads it reads it as the format it expects)";
        op.location.chain.push_back(f.path);
        std::vector<Finding> findings;
        if (auto finding = engine.evaluate(op)) findings.push_back(std::move(*finding));
        tidy(findings, f.path, engine);
        f.findings = std::move(findings);
        f.status = FileStatus::Scanned;
        f.not_model = false;
        f.format = "unrecognised";
        f.reason.clear();
    }
}

}  // namespace

ScanResult scan(const ScanOptions& options, const RuleSet& rules) {
    const auto start = std::chrono::steady_clock::now();
    ScanResult result;
    ProgressReporter reporter(options);
    TargetList targets = expand_targets(options, reporter, result);
    const std::vector<Work>& work = targets.work;
    result.files.resize(work.size());
    const bool any_remote =
        std::any_of(work.begin(), work.end(), [](const Work& w) { return w.remote.has_value(); });
    unsigned jobs = options.jobs ? options.jobs : std::max(1u, std::thread::hardware_concurrency());
    if (!options.jobs && any_remote) jobs = std::max(jobs, 8u);
    jobs =
        static_cast<unsigned>(std::min<std::size_t>(jobs, std::max<std::size_t>(1, work.size())));
    std::atomic<std::size_t> next{0};
    reporter.set_total(work.size());
    hub::HttpClient* http = targets.http.get();
    auto worker = [&] {
        for (std::size_t i = next++; i < work.size(); i = next++) {
            result.files[i] = scan_path(work[i], rules, http, options.max_fetch);
            reporter.file_done(http ? http->received() : 0);
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
    report_unrecognised_model_names(result, rules);
    // Per-repo totals: what its files cost to read.
    for (auto& repo : result.repos) {
        const std::string prefix = repo.name + "/";
        for (const auto& f : result.files) {
            if (f.remote && f.path.compare(0, prefix.size(), prefix) == 0) {
                repo.fetched += f.fetched;
                repo.requests += f.requests;
            }
        }
    }
    // What the caller accepts, then the verdict (the CLI's exit code comes from it).
    apply_suppressions(result, options.policy.suppressions, options.policy.suppressions_base);
    if (options.policy.baseline) apply_baseline(result, *options.policy.baseline);
    result.verdict = verdict(result, options.policy.fail_on);
    result.elapsed_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
}

std::optional<Severity> worst_severity(const ScanResult& result) {
    std::optional<Severity> worst;
    for (const auto& file : result.files) {
        for (const auto& f : file.findings) {
            if (f.suppressed.empty() && (!worst || f.severity > *worst)) worst = f.severity;
        }
    }
    return worst;
}

FileCounts count_files(const ScanResult& result) {
    FileCounts c;
    for (const auto& f : result.files) {
        if (f.status == FileStatus::Scanned) ++c.scanned;
        if (f.status == FileStatus::Skipped) ++c.skipped;
        if (f.status == FileStatus::Skipped && f.excluded) ++c.excluded;
        if (f.status == FileStatus::Skipped && f.not_model) ++c.not_model;
        if (f.status == FileStatus::Error) ++c.errors;
    }
    return c;
}

}  // namespace mscan
