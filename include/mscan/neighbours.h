// The files beside the one being scanned: its folder on disk, or its folder in a Hugging Face
// repo listing. Some formats name other files that the loader reads or runs (an ONNX tensor's
// external_data location, a config.json's auto_map module); a parser asks here whether such a
// file is there and how large it is. A member inside an archive, standard input and a fuzz
// input have no neighbours: the parser then gets nullptr and says it could not check.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace mscan {

class Neighbours {
  public:
    virtual ~Neighbours() = default;
    /// The size of the regular file at `relative` (a '/'-separated path relative to the
    /// scanned file's folder), or nullopt when there is none. A path that is absolute or
    /// climbs out of the folder (a ".." component) is never looked up: nullopt.
    virtual std::optional<std::uint64_t> file_size(std::string_view relative) const = 0;
    /// Where the folder is, for messages ("models/onnx/", "hf://org/name").
    virtual std::string describe() const = 0;
    /// When `relative` names an existing file that is reached through a symbolic link
    /// resolving outside the folder (or outside the tree the folder belongs to, for a Hugging
    /// Face cache snapshot, whose files all link into its blobs/): where it really is. Empty
    /// otherwise, and always for a listing (a Hub repo has no links).
    virtual std::string outside_target(std::string_view /*relative*/) const { return {}; }
};

/// Whether `relative` stays inside the folder it is relative to: not empty, not absolute (no
/// leading '/' or '\\', no drive letter), no ".." component (with either separator).
bool stays_inside(std::string_view relative);

/// The folder holding the local file `path`. Links may resolve anywhere under `root` (empty:
/// the folder itself); the scanner passes the repo's folder for a file of the Hugging Face
/// cache.
std::unique_ptr<Neighbours> local_neighbours(const std::string& path, const std::string& root = {});

/// Every file of a listing (a Hugging Face repo) by its path, with its size; shared by the
/// neighbours of all its files.
using Listing = std::map<std::string, std::uint64_t, std::less<>>;

/// The folder `folder` ("" for the root) of a listing; `name` is how messages name it.
std::unique_ptr<Neighbours> listed_neighbours(std::shared_ptr<const Listing> files,
                                              std::string folder, std::string name);

}  // namespace mscan
