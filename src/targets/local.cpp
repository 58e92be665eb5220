// Local targets (targets/local.h): walks directories, following links to folders once.
#include "targets/local.h"

#include <sys/stat.h>

#include <filesystem>
#include <optional>
#include <set>
#include <utility>

#include "mscan/limits.h"
#include "util/glob.h"

namespace mscan {
namespace {

namespace fs = std::filesystem;

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

}  // namespace

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

}  // namespace mscan
