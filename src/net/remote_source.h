// A file on the Hugging Face Hub (or any HTTP server that honours Range) as a Source: every
// view is served from a small block cache filled by explicit range requests, so a parser
// that needs a zip's central directory or a safetensors header downloads only that.
#pragma once

#include <cstdint>
#include <list>
#include <string>
#include <vector>

#include "mscan/limits.h"
#include "mscan/source.h"
#include "net/http.h"

namespace mscan::hub {

struct RemoteFile {
    /// Where the bytes are asked for first (the Hub's resolve URL); redirects are followed,
    /// and the final address is reused for later ranges until it stops working.
    std::string url;
    /// Size as the listing gave it; every response must agree.
    std::uint64_t size = 0;
    std::string token;
    std::string token_origin;
};

struct RemoteLimits {
    std::size_t block = limits::kRemoteBlockBytes;
    /// What a tiny read away from everything read so far fetches.
    std::size_t probe = limits::kRemoteProbeBytes;
    std::size_t cache = limits::kRemoteCacheBytes;
    std::uint64_t max_fetch = limits::kRemoteDefaultMaxFetch;
};

class RemoteSource final : public Source {
  public:
    RemoteSource(HttpClient& client, RemoteFile file, RemoteLimits limits = {});
    std::uint64_t size() const override { return file_.size; }
    std::span<const std::uint8_t> view(std::uint64_t offset, std::size_t n) override;
    std::size_t preferred_window() const override { return limits_.block; }
    std::string read_error() const override { return error_; }

    /// Body bytes received for this file (what downloading cost).
    std::uint64_t fetched() const { return fetched_; }
    /// HTTP requests sent for this file (redirect hops and retries included).
    std::uint64_t requests() const { return requests_; }

  private:
    struct Block {
        std::uint64_t start = 0;
        std::vector<std::uint8_t> bytes;
        std::uint64_t used = 0;
        std::uint64_t end() const { return start + bytes.size(); }
    };
    /// Downloads [start, start + n) and appends it to `out`; false (error_ set) on failure.
    /// A server that sends the whole (small) file instead fills `whole`.
    bool fetch(std::uint64_t start, std::uint64_t n, std::vector<std::uint8_t>& out, bool& whole);
    void evict(const Block* keep);

    HttpClient& client_;
    RemoteFile file_;
    RemoteLimits limits_;
    std::string direct_;       // the address the last range came from (a signed CDN URL)
    std::list<Block> blocks_;  // a list: a block stays put while others come and go
    std::uint64_t clock_ = 0;
    std::uint64_t fetched_ = 0;
    std::uint64_t requests_ = 0;
    std::string error_;
};

/// "bytes a-b/total" → (a, b, total); nullopt if malformed.
struct ContentRange {
    std::uint64_t first = 0, last = 0, total = 0;
};
std::optional<ContentRange> parse_content_range(std::string_view value);

}  // namespace mscan::hub
