// The scanner: targets in, per-file results out. This is the library's front door; the CLI
// only parses arguments, calls scan() and hands the result to a reporter.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mscan/finding.h"
#include "mscan/neighbours.h"
#include "mscan/policy.h"
#include "mscan/rules.h"
#include "mscan/source.h"

namespace mscan {

/// What a long scan has done so far (for a progress line).
struct ScanProgress {
    std::uint64_t files_done = 0;
    std::uint64_t files_total = 0;
    /// Bytes downloaded from remote sources so far.
    std::uint64_t fetched = 0;
    /// What the scan is waiting for, when it has been waiting a while (listing a repo, a slow
    /// server, a retry); empty otherwise. Escaped for a terminal.
    std::string activity;
};

struct ScanOptions {
    /// Files, directories (walked recursively), "-" for standard input, hf:// targets and
    /// Hugging Face web URLs.
    std::vector<std::string> targets;
    /// Worker threads; 0 means one per hardware thread (at least 8 when reading remote files,
    /// whose time is spent waiting for the network).
    unsigned jobs = 0;
    /// Glob patterns on paths inside a target (a pattern without '/' matches the file name
    /// anywhere): files matching an exclude, or no include when there are includes, are
    /// listed as skipped.
    std::vector<std::string> include;
    std::vector<std::string> exclude;
    /// Revision for hf:// targets that do not name one (empty: the target's or "main").
    std::string revision;
    /// Cap on bytes downloaded per remote file.
    std::uint64_t max_fetch = 0;  // 0: the default (limits::kRemoteDefaultMaxFetch)
    /// Retries of a failed HTTP request (429, 5xx, dropped connection); negative: default.
    int http_retries = -1;
    /// Also scan the whole local Hugging Face cache.
    bool hf_cache = false;
    /// Environment lookup for the Hub client (getenv when empty).
    std::function<const char*(const char*)> env;
    /// Called after each file, and while a remote request is slow or retried (from worker
    /// threads, serialised).
    std::function<void(const ScanProgress&)>
        progress;  /// Suppressions, baseline and fail-on: applied to the result, which carries the
                   /// verdict.
    Policy policy;
};

/// The Hub's own scanners' verdict on a repo (securityRepoStatus), shown beside mscan's.
struct HubScanStatus {
    /// The Hub sent a status at all.
    bool present = false;
    bool scans_done = false;
    /// (path, level): level is the Hub's word (unsafe, suspicious, caution, ...).
    std::vector<std::pair<std::string, std::string>> files_with_issues;
};

/// One Hugging Face repo target (remote, or a snapshot in the local cache).
struct RepoSummary {
    /// The target as given.
    std::string target;
    /// hf://[datasets/|spaces/]org/name: the prefix of its files' paths.
    std::string name;
    std::string type;  // model, dataset, space
    std::string repo_id;
    std::string revision;
    /// The resolved commit every file was read at (reproducible).
    std::string commit;
    std::string web_url;
    /// Read from the local cache instead of the network.
    bool from_cache = false;
    std::string local_path;
    std::string gated;
    bool is_private = false;
    HubScanStatus hub_status;
    /// Listing failed (the target is also an error in files).
    std::string error;
    std::uint64_t files = 0;
    std::uint64_t total_size = 0;
    std::uint64_t fetched = 0;
    std::uint64_t requests = 0;
};

enum class FileStatus {
    Scanned,  ///< read as a model format (findings may be empty)
    Skipped,  ///< not a model format mscan reads; `reason` says why
    Error,    ///< could not be read (I/O); `reason` says why
};

struct FileResult {
    /// The path as given or found under a directory target ("-" for standard input).
    std::string path;
    FileStatus status = FileStatus::Scanned;
    /// Format name for scanned files ("pickle").
    std::string format;
    std::string reason;
    /// Skipped because --include/--exclude left it out (not because of its content).
    bool excluded = false;
    /// Skipped because its content is no model format mscan reads (or it is empty).
    bool not_model = false;
    std::uint64_t size = 0;
    /// Sorted by severity (worst first), then location.
    std::vector<Finding> findings;
    /// A remote file: what reading it cost.
    bool remote = false;
    std::uint64_t fetched = 0;
    std::uint64_t requests = 0;
    /// Where the bytes are when `path` is not a local path (a file in the Hugging Face cache).
    std::string local_path;
};

struct ScanResult {
    /// Sorted by path.
    std::vector<FileResult> files;
    /// The outcome under ScanOptions::policy (its suppressions and baseline applied).
    Verdict verdict = Verdict::Clean;
    double elapsed_seconds = 0;
    /// Target arguments that did not exist or could not be opened (also listed in files).
    std::uint64_t target_errors = 0;
    /// Hugging Face repos among the targets, in target order.
    std::vector<RepoSummary> repos;
};

/// Scans one source already opened (used for standard input, tests and fuzzing).
/// `fingerprint_name` names the file in fingerprints (default: display_path); `neighbours`,
/// when known, are the files beside it (for formats that name other files).
FileResult scan_source(Source& source, const std::string& display_path, const RuleSet& rules,
                       std::string_view fingerprint_name = {},
                       const Neighbours* neighbours = nullptr);

/// Why a target cannot be scanned as written, which the caller should treat as a usage error:
/// a URL that is not the Hugging Face Hub's (mscan fetches nothing else), or an hf:// target
/// or Hub web URL that does not parse. nullopt otherwise (a missing path is a scan error,
/// reported by scan()). Uses options.env for HF_ENDPOINT; reads no token.
std::optional<std::string> target_usage_error(const std::string& target,
                                              const ScanOptions& options);

/// Scans every target. Never throws for bad input; unreadable paths become Error results.
ScanResult scan(const ScanOptions& options, const RuleSet& rules);

/// Worst severity among all findings not suppressed or baselined, if any.
std::optional<Severity> worst_severity(const ScanResult& result);

/// Counts of files by status.
struct FileCounts {
    std::uint64_t scanned = 0, skipped = 0, errors = 0;
    /// Of the skipped files, those left out by --include/--exclude, and those that are not a
    /// model format (the rest: links to folders already walked, devices, pipes).
    std::uint64_t excluded = 0, not_model = 0;
};
FileCounts count_files(const ScanResult& result);

}  // namespace mscan
