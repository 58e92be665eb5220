// The Hugging Face cache on disk (huggingface_hub's layout): {models,datasets,spaces}--org--name
// folders with refs/<revision> (a commit id), blobs/<hash> and snapshots/<commit>/<repo path>
// (links into blobs/). Files are named by their repo paths, as the Hub would name them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "targets/hub.h"

namespace mscan::hub {

struct CacheSnapshot {
    RepoType type = RepoType::Model;
    std::string repo_id;
    std::string commit;
    /// The snapshot folder.
    std::string dir;
    /// (repo path, local path), sorted by repo path.
    std::vector<std::pair<std::string, std::string>> files;
    /// (local path, reason): entries that cannot be read (a link whose blob is missing).
    std::vector<std::pair<std::string, std::string>> broken;

    std::string display() const;  // hf://[datasets/|spaces/]org/name@commit
};

struct CacheListing {
    std::vector<CacheSnapshot> snapshots;
    /// Blobs no snapshot links to, and other files in repo folders (scanned under their own
    /// paths: nothing in the cache goes unread).
    std::vector<std::string> other_files;
    /// Entries of a cache root that are not repo folders (scanned as ordinary paths).
    std::vector<std::string> other_paths;
};

/// If `dir` is a cache root, a repo folder or a snapshot folder, its listing; nullopt if it is
/// not part of a Hugging Face cache.
std::optional<CacheListing> read_cache_dir(const std::string& dir);

/// The snapshot of `target` (its revision through refs/, or a commit) in the cache at
/// `cache_dir`; nullopt with `error` set when it is not there.
std::optional<CacheSnapshot> find_cached(const std::string& cache_dir, const HubTarget& target,
                                         std::string& error);

}  // namespace mscan::hub
