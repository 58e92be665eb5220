// Range reads with a block cache. Every answer is checked: a 206 must carry exactly the bytes
// asked for and the size the listing promised; a 200 (a server that ignored Range) is used
// only for a small file, whole; anything else is a read error, never silently short data.
#include "net/remote_source.h"

#include <algorithm>
#include <charconv>

namespace mscan::hub {
namespace {

std::optional<std::uint64_t> number(std::string_view s) {
    std::uint64_t v = 0;
    if (s.empty() || s.size() > 19) return std::nullopt;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return v;
}

std::string mib(std::uint64_t n) {
    return std::to_string((n + (1u << 20) - 1) >> 20) + " MiB";
}

}  // namespace

std::optional<ContentRange> parse_content_range(std::string_view v) {
    if (!v.starts_with("bytes ")) return std::nullopt;
    v.remove_prefix(6);
    const auto dash = v.find('-');
    const auto slash = v.find('/');
    if (dash == std::string_view::npos || slash == std::string_view::npos || dash > slash)
        return std::nullopt;
    const auto first = number(v.substr(0, dash));
    const auto last = number(v.substr(dash + 1, slash - dash - 1));
    const auto total = number(v.substr(slash + 1));
    if (!first || !last || !total || *first > *last || *last >= *total) return std::nullopt;
    return ContentRange{*first, *last, *total};
}

RemoteSource::RemoteSource(HttpClient& client, RemoteFile file, RemoteLimits limits)
    : client_(client), file_(std::move(file)), limits_(limits) {
    limits_.block = std::max<std::size_t>(limits_.block, 1);
}

bool RemoteSource::fetch(std::uint64_t start, std::uint64_t n, std::vector<std::uint8_t>& out,
                         bool& whole) {
    whole = false;
    if (fetched_ + n > limits_.max_fetch) {
        error_ = "reading it needs more than the " + mib(limits_.max_fetch) +
                 " download limit per file (--hf-max-fetch); it was NOT fully scanned";
        return false;
    }
    for (int pass = 0; pass < 2; ++pass) {
        const bool via_direct = !direct_.empty();
        HttpRequest request;
        request.url = via_direct ? direct_ : file_.url;
        request.range = std::make_pair(start, start + n - 1);
        request.token = file_.token;
        request.token_origin = file_.token_origin;
        // Room for the whole body when a small file may come back whole (a 200).
        request.max_body = static_cast<std::size_t>(file_.size <= limits::kRemoteWholeFileBytes
                                                        ? std::max<std::uint64_t>(n, file_.size)
                                                        : n);
        HttpResponse r = client_.fetch(request);
        fetched_ += r.received;
        requests_ += static_cast<std::uint64_t>(std::max(r.attempts, 1));
        if (via_direct && pass == 0 &&
            (r.status == 401 || r.status == 403 || r.status == 404 || r.status == 410)) {
            direct_.clear();  // a signed address that expired: resolve again, once
            continue;
        }
        if (r.status != 200 && r.status != 206) {
            error_ = "reading bytes " + std::to_string(start) + "-" +
                     std::to_string(start + n - 1) + " failed: " + describe_failure(r);
            return false;
        }
        const std::string encoding = r.header("content-encoding").value_or("identity");
        if (encoding != "identity" && !encoding.empty()) {
            error_ = "the server sent the bytes content-encoded (" + encoding.substr(0, 40) +
                     ") although identity was asked for";
            return false;
        }
        if (r.status == 200) {
            // Range ignored: the body is the whole file. Usable only if it all arrived.
            if (r.body_cut || r.body.size() != file_.size) {
                error_ = "the server ignored the Range request and started sending the whole " +
                         std::to_string(file_.size) +
                         "-byte file; mscan does not download large files whole, so it was NOT "
                         "scanned";
                return false;
            }
            out.assign(r.body.begin(), r.body.end());
            whole = true;
            if (r.url != file_.url) direct_ = r.url;
            return true;
        }
        const auto range = parse_content_range(r.header("content-range").value_or(""));
        if (!range || range->first != start || range->last != start + n - 1 ||
            range->total != file_.size || r.body.size() != n || r.body_cut) {
            error_ = "the server answered a range request for bytes " + std::to_string(start) +
                     "-" + std::to_string(start + n - 1) + " of " + std::to_string(file_.size) +
                     " with Content-Range '" +
                     r.header("content-range").value_or("").substr(0, 80) + "' and " +
                     std::to_string(r.body.size()) +
                     " bytes; the file may have changed, so it was NOT scanned";
            return false;
        }
        out.insert(out.end(), r.body.begin(), r.body.end());
        if (r.url != file_.url) direct_ = r.url;
        return true;
    }
    return false;
}

void RemoteSource::evict(const Block* keep) {
    std::size_t total = 0;
    for (const auto& b : blocks_)
        total += b.bytes.size();
    while (total > limits_.cache && blocks_.size() > 1) {
        auto victim = blocks_.end();
        for (auto it = blocks_.begin(); it != blocks_.end(); ++it) {
            if (&*it == keep) continue;
            if (victim == blocks_.end() || it->used < victim->used) victim = it;
        }
        if (victim == blocks_.end()) break;
        total -= victim->bytes.size();
        blocks_.erase(victim);
    }
}

std::span<const std::uint8_t> RemoteSource::view(std::uint64_t offset, std::size_t n) {
    if (!error_.empty() || offset >= file_.size || n == 0) return {};
    const std::uint64_t len = std::min<std::uint64_t>(n, file_.size - offset);
    if (len > limits::kRemoteMaxView) {
        error_ = "a reader asked for " + mib(len) + " at once, more than a remote read allows";
        return {};
    }
    ++clock_;
    for (auto& b : blocks_) {
        if (b.start <= offset && offset + len <= b.end()) {
            b.used = clock_;
            return {b.bytes.data() + (offset - b.start), static_cast<std::size_t>(len)};
        }
    }
    // Read ahead a block, except for a tiny read out of the blue (a format probing for a
    // signature at a few offsets): one page is enough there.
    bool adjacent = offset == 0;
    for (const auto& b : blocks_)
        adjacent = adjacent || (b.start <= offset && offset <= b.end());
    const std::uint64_t ahead = (adjacent || len >= 512) ? limits_.block : limits_.probe;
    const std::uint64_t end =
        std::min<std::uint64_t>(file_.size, std::max<std::uint64_t>(offset + len, offset + ahead));
    // Assemble [offset, end) from cached blocks, downloading only the gaps between them.
    Block built;
    built.start = offset;
    built.bytes.reserve(static_cast<std::size_t>(end - offset));
    std::uint64_t at = offset;
    while (at < end) {  // `at` may pass `end` by the last gap's read-ahead
        const Block* have = nullptr;
        std::uint64_t next_start = end;
        for (const auto& b : blocks_) {
            if (b.start <= at && at < b.end()) have = &b;
            if (b.start > at && b.start < next_start) next_start = b.start;
        }
        if (have) {
            const std::uint64_t stop = std::min(end, have->end());
            built.bytes.insert(built.bytes.end(), have->bytes.begin() + (at - have->start),
                               have->bytes.begin() + (stop - have->start));
            at = stop;
            continue;
        }
        // The last gap reads ahead from where the cached bytes stop, so a reader creeping
        // forward past a block costs one request per block, not one per call.
        std::uint64_t gap_end = next_start;
        if (next_start == end) {
            gap_end = std::min<std::uint64_t>(file_.size, std::max<std::uint64_t>(end, at + ahead));
            for (const auto& b : blocks_) {
                if (b.start > at && b.start < gap_end) gap_end = b.start;
            }
        }
        std::vector<std::uint8_t> bytes;
        bool whole = false;
        if (!fetch(at, gap_end - at, bytes, whole)) return {};
        if (whole) {
            blocks_.clear();
            blocks_.push_back(Block{0, std::move(bytes), clock_});
            const Block& b = blocks_.back();
            return {b.bytes.data() + offset, static_cast<std::size_t>(len)};
        }
        built.bytes.insert(built.bytes.end(), bytes.begin(), bytes.end());
        at = gap_end;
    }
    // The new block replaces the blocks it covers.
    blocks_.remove_if(
        [&](const Block& b) { return b.start >= built.start && b.end() <= built.end(); });
    built.used = clock_;
    blocks_.push_back(std::move(built));
    Block* target = &blocks_.back();
    evict(target);
    return {target->bytes.data(), static_cast<std::size_t>(len)};
}

}  // namespace mscan::hub
