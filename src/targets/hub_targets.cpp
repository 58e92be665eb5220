// Hugging Face targets (hf://, web URLs of the Hub, cache folders) and the expansion of all
// targets into work (targets/targets.h).
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <string_view>

#include "mscan/version.h"
#include "targets/cache.h"
#include "targets/hub.h"
#include "targets/local.h"
#include "targets/targets.h"
#include "util/glob.h"
#include "util/text_safety.h"

namespace mscan {
namespace {

namespace fs = std::filesystem;

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

TargetList expand_targets(const ScanOptions& options, ProgressReporter& progress,
                          ScanResult& result) {
    std::vector<Work> work;
    HubState hub_state;
    hub_state.progress = &progress;
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
    return TargetList{std::move(work), std::move(hub_state.http)};
}

}  // namespace mscan
