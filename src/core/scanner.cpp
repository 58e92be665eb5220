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

#include <fnmatch.h>
#include <sys/stat.h>

#include <mutex>

#include "core/work.h"
#include "formats/member.h"
#include "formats/member_names.h"
#include "formats/registry.h"
#include "formats/zip/zip_format.h"
#include "hub/cache.h"
#include "hub/hub.h"
#include "hub/remote_source.h"
#include "mscan/limits.h"
#include "mscan/scan.h"
#include "mscan/version.h"

namespace mscan {
namespace {

namespace fs = std::filesystem;

std::string hex64(std::uint64_t v) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return buf;
}

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
    return hex64(h);
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
        cap.name = "limit.exceeded";
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

/// A directory's identity, to follow symbolic links to directories without going round in
/// circles or reading one folder twice.
using DirId = std::pair<std::uintmax_t, std::uintmax_t>;  // (device, inode)

std::optional<DirId> dir_id(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return std::nullopt;
    return DirId{static_cast<std::uintmax_t>(st.st_dev), static_cast<std::uintmax_t>(st.st_ino)};
}

/// Walks a directory target. Real subdirectories are walked first; symbolic links to
/// directories are followed afterwards, in name order, each unless the directory it leads to
/// was walked already (a loop back to an ancestor, or a second way to one folder), which is
/// listed as skipped with the reason. A directory that cannot be listed, an entry that cannot
/// be examined, a broken link and a folder past the depth cap are errors: nothing under a
/// directory target is dropped without a word.
void collect_directory(const std::string& target, std::vector<Work>& found,
                       const ScanOptions& options) {
    struct Pending {
        fs::path path;
        int depth;
    };
    std::set<DirId> visited;
    if (auto id = dir_id(target)) visited.insert(*id);
    std::vector<Pending> dirs{{fs::path(target), 0}};
    std::vector<Pending> links;  // symbolic links to directories, followed after the real tree
    auto add = [&](const fs::path& path, Work w) {
        const std::string rel = path.lexically_relative(fs::path(target)).generic_string();
        w.path = path.string();
        w.relative = rel;
        if (!w.error && !w.skip) {
            if (auto why =
                    glob_rejects(rel.empty() ? w.path : rel, options.include, options.exclude)) {
                w.skip = w.excluded = true;
                w.reason = *why;
            }
        }
        found.push_back(std::move(w));
    };
    auto walk = [&](const Pending& dir) {
        std::error_code ec;
        fs::directory_iterator it(dir.path, ec);
        if (ec) {
            add(dir.path, Work::failed("", "cannot list directory: " + ec.message()));
            return;
        }
        for (const fs::directory_iterator end; it != end; it.increment(ec)) {
            if (ec) break;
            const fs::path path = it->path();
            std::error_code e2;
            const auto link = it->symlink_status(e2);
            if (e2) {
                add(path, Work::failed("", "cannot examine: " + e2.message()));
                continue;
            }
            if (fs::is_directory(link)) {
                if (auto id = dir_id(path.string())) visited.insert(*id);
                dirs.push_back({path, dir.depth + 1});
                continue;
            }
            if (fs::is_symlink(link)) {
                const auto status = fs::status(path, e2);
                if (e2 || !fs::exists(status)) {
                    add(path, Work::failed("", "broken symbolic link"));
                } else if (fs::is_directory(status)) {
                    links.push_back({path, dir.depth + 1});
                } else {
                    add(path, Work{});  // a link to a file: read what it points to
                }
                continue;
            }
            add(path, Work{});  // scan_path() says what a non-regular file is
        }
        if (ec) add(dir.path, Work::failed("", "cannot finish listing directory: " + ec.message()));
    };
    auto drain = [&] {
        while (!dirs.empty()) {
            const Pending dir = dirs.back();
            dirs.pop_back();
            if (dir.depth > limits::kMaxDirectoryDepth) {
                add(dir.path,
                    Work::failed("", "more than " + std::to_string(limits::kMaxDirectoryDepth) +
                                         " directory levels deep: NOT scanned"));
                continue;
            }
            walk(dir);
        }
    };
    drain();
    while (!links.empty()) {
        std::sort(links.begin(), links.end(),
                  [](const Pending& a, const Pending& b) { return a.path > b.path; });
        const Pending link = links.back();
        links.pop_back();
        const auto id = dir_id(link.path.string());
        std::error_code ec;
        const fs::path to = fs::read_symlink(link.path, ec);
        if (id && visited.count(*id)) {
            Work w;
            w.skip = true;
            w.reason = "symbolic link to a directory already scanned (" + to.string() +
                       "): a loop, or a second path to one folder; not followed";
            add(link.path, std::move(w));
            continue;
        }
        if (id) visited.insert(*id);
        dirs.push_back(link);
        drain();
    }
}

void collect(const std::string& target, std::vector<Work>& work, std::uint64_t& target_errors,
             const ScanOptions& options) {
    std::error_code ec;
    const auto status = fs::status(target, ec);
    if (ec || !fs::exists(status)) {
        work.push_back(Work::failed(target, ec ? ec.message() : "no such file or directory"));
        ++target_errors;
        return;
    }
    if (!fs::is_directory(status)) {
        Work w = Work::file(target);
        w.relative = fs::path(target).filename().string();
        work.push_back(std::move(w));
        return;
    }
    std::vector<Work> found;
    collect_directory(target, found, options);
    for (const auto& w : found)
        target_errors += w.error && w.path == target;
    work.insert(work.end(), found.begin(), found.end());
}

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

/// Adds a cache snapshot's files (those under `under`, when given) named by repo path.
void add_snapshot(const hub::CacheSnapshot& snap, const std::string& under,
                  const ScanOptions& options, std::vector<Work>& work, RepoSummary& summary) {
    summary.name = snap.display();
    summary.type = hub::type_name(snap.type);
    summary.repo_id = snap.repo_id;
    summary.commit = snap.commit;
    summary.from_cache = true;
    summary.local_path = snap.dir;
    for (const auto& [rel, local] : snap.files) {
        if (!under.empty() && rel != under && rel.rfind(under + "/", 0) != 0) continue;
        Work w;
        w.path = summary.name + "/" + rel;
        w.local = local;
        if (auto why = glob_rejects(rel, options.include, options.exclude)) {
            w.skip = w.excluded = true;
            w.reason = *why;
        }
        std::error_code ec;
        summary.total_size += fs::file_size(local, ec) * !ec;
        ++summary.files;
        work.push_back(std::move(w));
    }
    for (const auto& [local, why] : snap.broken) {
        work.push_back(Work::failed(local, why));
        ++summary.files;
    }
}

/// The scan's progress, reported from the main thread (listing repos) and from workers
/// (files done, slow or retried requests), one report at a time.
class ProgressReporter {
  public:
    explicit ProgressReporter(const ScanOptions& options) : callback_(options.progress) {}
    bool enabled() const { return static_cast<bool>(callback_); }
    void set_total(std::uint64_t total) {
        std::lock_guard guard(mutex_);
        progress_.files_total = total;
    }
    /// A file is done; `fetched` is every byte downloaded so far.
    void file_done(std::uint64_t fetched) {
        if (!callback_) return;
        std::lock_guard guard(mutex_);
        ++progress_.files_done;
        progress_.fetched = fetched;
        progress_.activity.clear();
        callback_(progress_);
    }
    /// What the scan is waiting for now (empty: nothing in particular).
    void activity(std::string text) {
        if (!callback_) return;
        std::lock_guard guard(mutex_);
        progress_.activity = std::move(text);
        callback_(progress_);
    }
    /// A slow or failed HTTP request, in words.
    void http_event(const hub::HttpEvent& e) {
        char seconds[32];
        std::snprintf(seconds, sizeof seconds, "%.0f s", e.seconds);
        // The part that changes comes first: a narrow terminal cuts the end of the line.
        if (e.kind == hub::HttpEvent::Kind::Waiting) {
            activity(std::string("no answer for ") + seconds + " from " + e.host + " (attempt " +
                     std::to_string(e.attempt) + " of " + std::to_string(e.max_attempts) + ")");
        } else {
            std::snprintf(seconds, sizeof seconds, "%.1f s", e.seconds);
            activity("attempt " + std::to_string(e.attempt + 1) + " of " +
                     std::to_string(e.max_attempts) + " in " + seconds + ": " + e.reason);
        }
    }

  private:
    std::function<void(const ScanProgress&)> callback_;
    std::mutex mutex_;
    ScanProgress progress_;
};

struct HubState {
    std::optional<hub::HubConfig> config;
    std::optional<hub::HubConfig> endpoint_only;
    std::unique_ptr<hub::HttpClient> http;
    /// Where slow requests and retries are reported (none for a probe of a target's form).
    ProgressReporter* progress = nullptr;
};

const hub::HubConfig& hub_config(HubState& state, const ScanOptions& options) {
    if (!state.config) {
        state.config = hub::config_from_environment(
            options.env ? options.env
                        : [](const char* name) -> const char* { return std::getenv(name); });
    }
    return *state.config;
}

/// Only where the Hub is (to recognise its web URLs): no token is read for a local scan.
const hub::HubConfig& hub_endpoint(HubState& state, const ScanOptions& options) {
    if (state.config) return *state.config;
    if (!state.endpoint_only) {
        state.endpoint_only.emplace();
        const char* ep = options.env ? options.env("HF_ENDPOINT") : std::getenv("HF_ENDPOINT");
        hub::HubConfig full = hub::config_from_environment([&](const char* name) -> const char* {
            return std::string_view(name) == "HF_ENDPOINT" ? ep : nullptr;
        });
        state.endpoint_only->endpoint = full.endpoint;
    }
    return *state.endpoint_only;
}

void expand_hub_target(const std::string& text, const ScanOptions& options, HubState& state,
                       std::vector<Work>& work, ScanResult& result) {
    const hub::HubConfig& config = hub_config(state, options);
    std::string error;
    auto target = hub::parse_target(text, config, error);
    if (!target) {
        work.push_back(Work::failed(text, "not a Hugging Face target: " + error));
        ++result.target_errors;
        return;
    }
    if (!options.revision.empty() && !hub::valid_revision(options.revision)) {
        work.push_back(Work::failed(
            text, "--revision '" + options.revision.substr(0, 200) + "' is not a revision"));
        ++result.target_errors;
        return;
    }
    if (!options.revision.empty() && !target->revision_given) {
        target->revision = options.revision;
        target->revision_given = true;
    }
    RepoSummary summary;
    summary.target = text;
    summary.name = target->display();
    summary.type = hub::type_name(target->type);
    summary.repo_id = target->repo_id;
    summary.revision = target->revision;
    summary.web_url = hub::web_url(config, *target);
    auto fail = [&](std::string why) {
        summary.error = why;
        std::string shown = summary.name + (target->path.empty() ? "" : "/" + target->path);
        work.push_back(Work::failed(shown, std::move(why)));
        ++result.target_errors;
        result.repos.push_back(std::move(summary));
    };
    if (config.offline) {
        auto snap = hub::find_cached(config.cache_dir, *target, error);
        if (!snap) {
            fail(config.offline_variable + " is set, so the Hub was not contacted, and " + error);
            return;
        }
        const std::string revision = summary.revision;
        add_snapshot(*snap, target->path, options, work, summary);
        summary.revision = revision;
        summary.target = text;
        result.repos.push_back(std::move(summary));
        return;
    }
    if (!state.http) {
        hub::HttpOptions http_options;
        http_options.user_agent = std::string("mscan/") + kVersion;
        if (options.http_retries >= 0) http_options.max_retries = options.http_retries;
        if (state.progress && state.progress->enabled()) {
            http_options.on_event = [reporter = state.progress](const hub::HttpEvent& e) {
                reporter->http_event(e);
            };
        }
        state.http = std::make_unique<hub::HttpClient>(http_options);
    }
    hub::HubClient client(config, *state.http);
    const std::uint64_t before = state.http->requests();
    if (state.progress) state.progress->activity("listing " + terminal_safe(summary.name));
    const hub::RepoListing listing = client.list(*target);
    if (state.progress) state.progress->activity("");
    summary.requests = state.http->requests() - before;
    if (!listing.error.empty()) {
        fail(listing.error);
        return;
    }
    summary.commit = listing.commit;
    summary.gated = listing.gated;
    summary.is_private = listing.is_private;
    summary.hub_status = listing.hub_status;
    const std::string origin = hub::url_origin(config.endpoint);
    // The listing of a folder target covers every file under it, so a file's neighbours can
    // be looked up in it; a single-file target's listing does not (they stay unknown).
    std::shared_ptr<Listing> all;
    if (!listing.single_file) {
        all = std::make_shared<Listing>();
        for (const auto& file : listing.files)
            all->emplace(file.path, file.size);
    }
    for (const auto& file : listing.files) {
        Work w;
        w.path = summary.name + "/" + file.path;
        w.listing = all;
        if (const auto slash = file.path.rfind('/'); slash != std::string::npos)
            w.folder = file.path.substr(0, slash);
        w.remote = hub::RemoteFile{client.resolve_url(*target, listing.commit, file.path),
                                   file.size, config.token, origin};
        if (auto why = glob_rejects(file.path, options.include, options.exclude)) {
            w.skip = w.excluded = true;
            w.reason = *why;
        }
        ++summary.files;
        summary.total_size += file.size;
        work.push_back(std::move(w));
    }
    result.repos.push_back(std::move(summary));
}

void expand_cache_dir(const std::string& dir, const hub::CacheListing& cache,
                      const ScanOptions& options, std::vector<Work>& work, ScanResult& result) {
    for (const auto& snap : cache.snapshots) {
        RepoSummary summary;
        summary.target = dir;
        add_snapshot(snap, "", options, work, summary);
        result.repos.push_back(std::move(summary));
    }
    for (const auto& path : cache.other_files)
        work.push_back(Work::file(path));
    for (const auto& path : cache.other_paths)
        collect(path, work, result.target_errors, options);
}

}  // namespace

std::optional<std::string> glob_rejects(const std::string& relative,
                                        const std::vector<std::string>& include,
                                        const std::vector<std::string>& exclude) {
    // A pattern without '/' matches the file's name; one with '/' the path inside the target.
    // An exclude also matches the folders the file is in, the same way: "--exclude
    // node_modules" leaves out every folder of that name, "--exclude a/b" the folder a/b, with
    // all they hold. (An include names files: "--include '*.bin'" does not take in a folder
    // x.bin/.) A trailing '/' only says the pattern means a folder.
    auto matches = [&](std::string pattern, bool folders) {
        while (pattern.size() > 1 && pattern.back() == '/')
            pattern.pop_back();
        const bool whole_path = pattern.find('/') != std::string::npos;
        std::size_t start = folders ? 0 : relative.rfind('/') + 1;
        while (true) {
            const std::size_t end = relative.find('/', start);
            const std::string part =
                whole_path ? relative.substr(0, end) : relative.substr(start, end - start);
            if (::fnmatch(pattern.c_str(), part.c_str(), 0) == 0) return true;
            if (end == std::string::npos) return false;
            start = end + 1;
        }
    };
    for (const auto& pattern : exclude) {
        if (matches(pattern, true)) return "excluded by --exclude '" + pattern + "'";
    }
    if (include.empty()) return std::nullopt;
    for (const auto& pattern : include) {
        if (matches(pattern, false)) return std::nullopt;
    }
    return std::string("not matched by any --include pattern");
}

namespace {}  // namespace

std::optional<std::string> target_usage_error(const std::string& target,
                                              const ScanOptions& options) {
    if (target == "-") return std::nullopt;
    HubState state;
    const hub::HubConfig& config = hub_endpoint(state, options);
    if (hub::is_hub_target(target, config)) {
        std::string error;
        if (!hub::parse_target(target, config, error))
            return "'" + terminal_safe(target) +
                   "' is not a Hugging Face target: " + terminal_safe(error) +
                   " (the form is hf://[datasets/|spaces/]org/name[@REV][/path])";
        return std::nullopt;
    }
    // scheme://... that is no file here: mscan reads local paths and the Hub, nothing else.
    const auto colon = target.find("://");
    std::error_code ec;
    if (colon != std::string::npos && colon > 0 &&
        std::all_of(target.begin(), target.begin() + static_cast<std::ptrdiff_t>(colon),
                    [](char c) {
                        return std::isalnum(static_cast<unsigned char>(c)) || c == '+' ||
                               c == '-' || c == '.';
                    }) &&
        !fs::exists(target, ec)) {
        return "'" + terminal_safe(target.substr(0, 300)) +
               "' is a URL: mscan only fetches from the Hugging Face Hub (hf://org/name, or a "
               "web URL of " +
               terminal_safe(config.endpoint) +
               "); download other files first and scan them locally";
    }
    return std::nullopt;
}

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
    std::vector<Work> work;
    ProgressReporter reporter(options);
    HubState hub_state;
    hub_state.progress = &reporter;
    for (const auto& target : options.targets) {
        if (target == "-") {
            work.push_back(Work::file("-"));
            continue;
        }
        if (hub::is_hub_target(target, hub_endpoint(hub_state, options))) {
            expand_hub_target(target, options, hub_state, work, result);
            continue;
        }
        std::error_code ec;
        if (fs::is_directory(target, ec)) {
            if (auto cache = hub::read_cache_dir(target)) {
                expand_cache_dir(target, *cache, options, work, result);
                continue;
            }
        }
        collect(target, work, result.target_errors, options);
    }
    if (options.hf_cache) {
        const std::string& dir = hub_config(hub_state, options).cache_dir;
        if (auto cache = hub::read_cache_dir(dir)) {
            expand_cache_dir(dir, *cache, options, work, result);
        } else {
            work.push_back(
                Work::failed(dir.empty() ? std::string("(Hugging Face cache)") : dir,
                             "no Hugging Face cache found there (set HF_HUB_CACHE or HF_HOME)"));
            ++result.target_errors;
        }
    }
    std::stable_sort(work.begin(), work.end(),
                     [](const Work& a, const Work& b) { return a.path < b.path; });
    work.erase(std::unique(work.begin(), work.end(),
                           [](const Work& a, const Work& b) { return a.path == b.path; }),
               work.end());
    result.files.resize(work.size());
    const bool any_remote =
        std::any_of(work.begin(), work.end(), [](const Work& w) { return w.remote.has_value(); });
    unsigned jobs = options.jobs ? options.jobs : std::max(1u, std::thread::hardware_concurrency());
    if (!options.jobs && any_remote) jobs = std::max(jobs, 8u);
    jobs =
        static_cast<unsigned>(std::min<std::size_t>(jobs, std::max<std::size_t>(1, work.size())));
    std::atomic<std::size_t> next{0};
    reporter.set_total(work.size());
    hub::HttpClient* http = hub_state.http.get();
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
