// The Hugging Face Hub client: where the Hub is and who we are (the official clients'
// environment variables), what a hf:// target or pasted web URL names, and the repo listing
// at one resolved commit (repo info, then the paginated tree).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mscan/scan.h"
#include "net/http.h"

namespace mscan::hub {

enum class RepoType { Model, Dataset, Space };
/// "models", "datasets", "spaces" (API paths).
std::string_view type_plural(RepoType type);
/// "", "datasets/", "spaces/" (web, resolve and hf:// paths).
std::string_view type_prefix(RepoType type);
/// "model", "dataset", "space" (reports).
std::string type_name(RepoType type);

struct HubConfig {
    /// Base URL, no trailing slash (HF_ENDPOINT, default https://huggingface.co).
    std::string endpoint = "https://huggingface.co";
    std::string token;
    /// Where the token came from, for messages ("HF_TOKEN", a file path); never the token.
    std::string token_source;
    /// HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is set: no request at all.
    bool offline = false;
    std::string offline_variable;
    /// The local cache root (HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, HF_HOME/hub, ...).
    std::string cache_dir;
};

/// The configuration the official clients would use, read through `env` (getenv in the CLI,
/// a map in tests). The token file is read from disk.
HubConfig config_from_environment(const std::function<const char*(const char*)>& env);

struct HubTarget {
    RepoType type = RepoType::Model;
    std::string repo_id;
    /// Branch, tag, commit or refs/pr/N; "main" when not given.
    std::string revision = "main";
    bool revision_given = false;
    /// A file or folder inside the repo; empty for the whole repo.
    std::string path;

    /// hf://[datasets/|spaces/]repo_id[@revision] — how results name the repo.
    std::string display() const;
};

/// Whether `text` names something on the Hub: hf://…, or a web URL on the Hub's host (or
/// HF_ENDPOINT's).
bool is_hub_target(std::string_view text, const HubConfig& config);

/// Parses hf://[datasets/|spaces/]org/name[@rev][/path] and web URLs
/// (https://huggingface.co/org/name[/tree|blob|resolve/<rev>[/path]]). nullopt with `error`
/// set when it cannot.
std::optional<HubTarget> parse_target(std::string_view text, const HubConfig& config,
                                      std::string& error);

struct RepoEntry {
    std::string path;
    std::uint64_t size = 0;
    bool lfs = false;
};

struct RepoListing {
    /// Non-empty: listing failed (readable, with what to do).
    std::string error;
    std::string commit;
    std::string gated;  // "", "auto", "manual"
    bool is_private = false;
    HubScanStatus hub_status;
    std::vector<RepoEntry> files;
    /// Every file under `path` was a directory entry only, or `path` named one file.
    bool single_file = false;
};

/// Parses a repo-info body (GET /api/models/{id}/revision/{rev}?securityStatus=true).
bool parse_repo_info(std::string_view body, RepoListing& out, std::string& error);
/// Appends a tree page's file entries; directory paths go to `directories` when given. Entries
/// whose paths could name something outside the repo ('..', absolute) fail the page.
bool parse_tree_page(std::string_view body, std::vector<RepoEntry>& out, std::string& error,
                     std::vector<std::string>* directories = nullptr);
/// A revision mscan will put in a URL or look up in the cache: no '..', no leading, trailing
/// or doubled '/', nothing unprintable.
bool valid_revision(std::string_view revision);
/// The rel="next" URL of a Link header, if any.
std::optional<std::string> next_link(std::string_view link_header);

/// The repo's page on the Hub (for reports and SARIF provenance).
std::string web_url(const HubConfig& config, const HubTarget& target);

class HubClient {
  public:
    HubClient(HubConfig config, HttpClient& http) : config_(std::move(config)), http_(http) {}

    /// Resolves the revision to a commit and lists the files under the target's path.
    RepoListing list(const HubTarget& target);
    /// Where a file's bytes are asked for, at a commit.
    std::string resolve_url(const HubTarget& target, std::string_view commit,
                            std::string_view path) const;
    std::string web_url(const HubTarget& target) const { return hub::web_url(config_, target); }
    const HubConfig& config() const { return config_; }
    HttpClient& http() { return http_; }

  private:
    HttpResponse get(const std::string& url);
    HubConfig config_;
    HttpClient& http_;
};

}  // namespace mscan::hub
