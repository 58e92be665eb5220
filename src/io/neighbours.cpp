// Neighbours of a local file (its folder on disk) and of a file in a listing (a Hub repo).
#include "mscan/neighbours.h"

#include <filesystem>
#include <system_error>

#include "util/text_safety.h"

namespace mscan {
namespace {

namespace fs = std::filesystem;

class LocalNeighbours final : public Neighbours {
  public:
    LocalNeighbours(fs::path folder, fs::path root)
        : folder_(std::move(folder)), root_(std::move(root)) {}
    std::optional<std::uint64_t> file_size(std::string_view relative) const override {
        if (!stays_inside(relative)) return std::nullopt;
        std::error_code ec;
        const fs::path p = folder_ / fs::path(std::string(relative));
        if (!fs::is_regular_file(p, ec) || ec) return std::nullopt;
        const auto size = fs::file_size(p, ec);
        if (ec) return std::nullopt;
        return size;
    }
    std::string describe() const override {
        return folder_.empty() ? std::string("./") : folder_.generic_string() + "/";
    }
    std::string outside_target(std::string_view relative) const override {
        if (!stays_inside(relative)) return {};
        std::error_code ec;
        const fs::path p = folder_ / fs::path(std::string(relative));
        if (!fs::exists(p, ec)) return {};
        const fs::path real = fs::canonical(p, ec);
        if (ec) return {};
        const fs::path base =
            fs::canonical(root_.empty() ? (folder_.empty() ? "." : folder_) : root_, ec);
        if (ec) return {};
        // Inside when `base` is a prefix of `real`, component by component.
        auto r = real.begin();
        for (auto b = base.begin(); b != base.end(); ++b, ++r)
            if (r == real.end() || *r != *b) return real.generic_string();
        return {};
    }

  private:
    fs::path folder_;
    fs::path root_;
};

class ListedNeighbours final : public Neighbours {
  public:
    ListedNeighbours(std::shared_ptr<const Listing> files, std::string folder, std::string name)
        : files_(std::move(files)), folder_(std::move(folder)), name_(std::move(name)) {}
    std::optional<std::uint64_t> file_size(std::string_view relative) const override {
        if (!files_ || !stays_inside(relative)) return std::nullopt;
        std::string key = folder_;
        if (!key.empty()) key += '/';
        // A listing names files without "./" parts.
        while (relative.substr(0, 2) == "./")
            relative.remove_prefix(2);
        key += relative;
        const auto it = files_->find(key);
        if (it == files_->end()) return std::nullopt;
        return it->second;
    }
    std::string describe() const override { return name_; }

  private:
    std::shared_ptr<const Listing> files_;
    std::string folder_;
    std::string name_;
};

}  // namespace

bool stays_inside(std::string_view relative) {
    // unsafe_path() judges absolute paths, drive letters and '..' components; any "x:" start
    // is refused here too (a stream or drive name on Windows).
    return !relative.empty() && !(relative.size() >= 2 && relative[1] == ':') &&
           unsafe_path(relative) == nullptr;
}

std::unique_ptr<Neighbours> local_neighbours(const std::string& path, const std::string& root) {
    return std::make_unique<LocalNeighbours>(fs::path(path).parent_path(), fs::path(root));
}

std::unique_ptr<Neighbours> listed_neighbours(std::shared_ptr<const Listing> files,
                                              std::string folder, std::string name) {
    return std::make_unique<ListedNeighbours>(std::move(files), std::move(folder), std::move(name));
}

}  // namespace mscan
