// Reading the Hugging Face cache layout. Links are followed only to name and find files; the
// scan reads each snapshot file through its link, as a loader would.
#include "targets/cache.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "mscan/limits.h"

namespace mscan::hub {
namespace {

namespace fs = std::filesystem;

/// "models--org--name" → (type, "org/name").
std::optional<std::pair<RepoType, std::string>> repo_folder_name(const std::string& name) {
    static const std::pair<const char*, RepoType> kinds[] = {{"models--", RepoType::Model},
                                                             {"datasets--", RepoType::Dataset},
                                                             {"spaces--", RepoType::Space}};
    for (const auto& [prefix, type] : kinds) {
        const std::string p = prefix;
        if (name.size() <= p.size() || name.compare(0, p.size(), p) != 0) continue;
        std::string rest = name.substr(p.size());
        const auto sep = rest.find("--");
        std::string id =
            sep == std::string::npos ? rest : rest.substr(0, sep) + "/" + rest.substr(sep + 2);
        if (id.empty() || id.find("--") != std::string::npos) return std::nullopt;
        return std::make_pair(type, id);
    }
    return std::nullopt;
}

bool is_repo_folder(const fs::path& dir) {
    std::error_code ec;
    return repo_folder_name(dir.filename().string()) && fs::is_directory(dir / "snapshots", ec);
}

CacheSnapshot read_snapshot(const fs::path& snap_dir, RepoType type, const std::string& id,
                            std::set<std::string>* linked_blobs) {
    CacheSnapshot s;
    s.type = type;
    s.repo_id = id;
    s.commit = snap_dir.filename().string();
    s.dir = snap_dir.string();
    std::error_code ec;
    fs::recursive_directory_iterator it(snap_dir, fs::directory_options::skip_permission_denied,
                                        ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it.depth() > limits::kMaxDirectoryDepth) {
            it.disable_recursion_pending();
            continue;
        }
        std::error_code e2;
        const fs::path p = it->path();
        if (it->is_directory(e2)) continue;
        const std::string rel = p.lexically_relative(snap_dir).generic_string();
        if (it->is_symlink(e2)) {
            const fs::path target = fs::weakly_canonical(p, e2);
            if (e2 || !fs::exists(target, e2)) {
                s.broken.emplace_back(p.string(),
                                      "broken link: its blob is missing from the cache");
                continue;
            }
            if (linked_blobs) linked_blobs->insert(target.string());
        }
        s.files.emplace_back(rel, p.string());
    }
    if (ec) s.broken.emplace_back(snap_dir.string(), "cannot walk the snapshot: " + ec.message());
    std::sort(s.files.begin(), s.files.end());
    return s;
}

void read_repo(const fs::path& repo_dir, CacheListing& out) {
    const auto name = repo_folder_name(repo_dir.filename().string());
    if (!name) return;
    std::set<std::string> linked;
    std::error_code ec;
    std::vector<fs::path> snaps;
    for (fs::directory_iterator it(repo_dir / "snapshots", ec);
         !ec && it != fs::directory_iterator(); it.increment(ec)) {
        std::error_code e2;
        if (it->is_directory(e2)) snaps.push_back(it->path());
    }
    std::sort(snaps.begin(), snaps.end());
    for (const auto& snap : snaps)
        out.snapshots.push_back(read_snapshot(snap, name->first, name->second, &linked));
    // Blobs no snapshot links to (an interrupted download, a snapshot deleted by hand) are
    // scanned under their own paths; refs/ and .no_exist/ hold only commit ids and markers.
    for (fs::recursive_directory_iterator it(repo_dir / "blobs", ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        std::error_code e2;
        if (!it->is_regular_file(e2)) continue;
        const fs::path canon = fs::weakly_canonical(it->path(), e2);
        if (!linked.count(canon.string())) out.other_files.push_back(it->path().string());
    }
}

}  // namespace

std::string CacheSnapshot::display() const {
    return "hf://" + std::string(type_prefix(type)) + repo_id + "@" + commit;
}

std::optional<CacheListing> read_cache_dir(const std::string& dir_text) {
    std::error_code ec;
    const fs::path dir = fs::absolute(fs::path(dir_text), ec).lexically_normal();
    if (ec || !fs::is_directory(dir, ec)) return std::nullopt;
    fs::path d = dir;
    if (d.filename().empty()) d = d.parent_path();
    CacheListing out;
    // A snapshot folder: <repo>/snapshots/<commit>.
    if (d.parent_path().filename() == "snapshots" &&
        is_repo_folder(d.parent_path().parent_path())) {
        const fs::path repo = d.parent_path().parent_path();
        const auto name = repo_folder_name(repo.filename().string());
        out.snapshots.push_back(read_snapshot(d, name->first, name->second, nullptr));
        return out;
    }
    if (is_repo_folder(d)) {
        read_repo(d, out);
        return out;
    }
    // A cache root: at least one repo folder among its entries.
    bool any = false;
    std::vector<fs::path> entries;
    for (fs::directory_iterator it(d, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
        entries.push_back(it->path());
        if (entries.size() > 100000) break;
    }
    std::sort(entries.begin(), entries.end());
    for (const auto& e : entries) {
        if (is_repo_folder(e)) {
            any = true;
            read_repo(e, out);
        } else {
            out.other_paths.push_back(e.string());
        }
    }
    if (!any) return std::nullopt;
    return out;
}

std::optional<CacheSnapshot> find_cached(const std::string& cache_dir, const HubTarget& target,
                                         std::string& error) {
    std::string folder = std::string(type_plural(target.type)) + "--" + target.repo_id;
    for (std::size_t at = folder.find('/'); at != std::string::npos; at = folder.find('/', at + 2))
        folder.replace(at, 1, "--");
    const fs::path repo = fs::path(cache_dir) / folder;
    std::error_code ec;
    if (cache_dir.empty() || !fs::is_directory(repo / "snapshots", ec)) {
        error = target.display() + " is not in the local cache (" +
                (cache_dir.empty() ? std::string("no cache folder known") : repo.string()) + ")";
        return std::nullopt;
    }
    std::string commit = target.revision;
    const bool is_commit =
        commit.size() == 40 && std::all_of(commit.begin(), commit.end(), [](char c) {
            return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
        });
    if (!is_commit) {
        // refs/<revision> must be a regular file inside refs/ (a revision is checked to have no
        // '..' and no leading '/', and this checks what the file system says too).
        const fs::path ref = repo / "refs" / target.revision;
        const fs::path refs_dir = fs::weakly_canonical(repo / "refs", ec);
        const fs::path ref_real = fs::weakly_canonical(ref, ec);
        const auto rel = ref_real.lexically_relative(refs_dir);
        if (!valid_revision(target.revision) || ec || rel.empty() || *rel.begin() == ".." ||
            !fs::is_regular_file(ref_real, ec)) {
            error = target.display() + ": revision '" + target.revision +
                    "' is not in the local cache (" + repo.string() + ")";
            return std::nullopt;
        }
        std::ifstream in(ref_real, std::ios::binary);
        std::string text(64, '\0');
        if (in) in.read(text.data(), static_cast<std::streamsize>(text.size()));
        text.resize(in ? text.size()
                       : static_cast<std::size_t>(std::max<std::streamsize>(in.gcount(), 0)));
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
            text.pop_back();
        commit = text;
    }
    if (commit.empty() || commit.find('/') != std::string::npos ||
        commit.find("..") != std::string::npos || commit == "." ||
        !fs::is_directory(repo / "snapshots" / commit, ec)) {
        error = target.display() + ": revision '" + target.revision +
                "' is not in the local cache (" + repo.string() + ")";
        return std::nullopt;
    }
    const auto name = repo_folder_name(folder);
    return read_snapshot(repo / "snapshots" / commit, name ? name->first : target.type,
                         target.repo_id, nullptr);
}

}  // namespace mscan::hub
