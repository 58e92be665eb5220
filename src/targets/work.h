// One unit of scanning work: a local file, standard input, a file inside the Hugging Face
// cache, a remote file, or a target that failed before any byte was read.
#pragma once

#include <optional>
#include <string>

#include "mscan/neighbours.h"
#include "net/remote_source.h"

namespace mscan {

struct Work {
    /// How results name it (a path, "-", hf://org/name/file).
    std::string path;
    /// Set: the target failed; `reason` says why.
    bool error = false;
    /// Set: listed but not read (excluded by a glob, a link to a folder already walked);
    /// `reason` says why.
    bool skip = false;
    /// Set with `skip` when --include/--exclude left it out.
    bool excluded = false;
    std::string reason;
    /// The local file to read when `path` is not one (a Hugging Face cache snapshot file).
    std::string local;
    /// A file on the Hub.
    std::optional<hub::RemoteFile> remote;
    /// The file's name inside its target (relative path under a directory target, the file
    /// name of a file target): what fingerprints use, so they do not depend on where the
    /// target sits. Empty: `path`.
    std::string relative = {};
    /// A remote file: the repo listing its neighbours are looked up in (null when the listing
    /// does not cover its folder, as for a single-file target), and its folder in the repo.
    std::shared_ptr<const Listing> listing = {};
    std::string folder = {};

    /// A file (or standard input) to read as it is named.
    static Work file(std::string path) {
        Work w;
        w.path = std::move(path);
        return w;
    }
    /// A target or entry that failed before any byte was read.
    static Work failed(std::string path, std::string reason) {
        Work w;
        w.path = std::move(path);
        w.error = true;
        w.reason = std::move(reason);
        return w;
    }
};

}  // namespace mscan
