// A decompressed DEFLATE stream (a zip member, a zlib or gzip file) as a Source, without
// holding it in memory: a first pass counts its size (and applies the caps), then views are
// served from a window that is refilled by decompressing forward, restarting from the
// beginning only for the rare read behind the window.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <vector>

#include "formats/compress/inflate.h"
#include "mscan/source.h"

namespace mscan::compress {

class InflateSource final : public Source {
  public:
    /// Decompresses [offset, offset + length) of `parent` (which must outlive this), producing
    /// at most `max_out` bytes. The first pass runs here; see first_pass() for how it ended.
    InflateSource(Source& parent, std::uint64_t offset, std::uint64_t length, Wrapper wrapper,
                  std::uint64_t max_out);
    ~InflateSource() override;
    InflateSource(const InflateSource&) = delete;
    InflateSource& operator=(const InflateSource&) = delete;

    /// How the first pass ended (its `bytes` are empty: only the flags, error and crc32).
    const Inflated& first_pass() const { return first_; }
    std::uint64_t size() const override { return size_; }
    std::span<const std::uint8_t> view(std::uint64_t offset, std::size_t n) override;
    std::size_t preferred_window() const override { return kWindow; }

    /// Bytes held at once for views (larger requests get a buffer of their own size).
    static constexpr std::size_t kWindow = 16u << 20;

  private:
    bool start();
    /// Decompresses up to `n` bytes into `out` (nullptr: discard); returns how many.
    std::size_t produce(std::uint8_t* out, std::size_t n);

    Source& parent_;
    std::uint64_t offset_, length_;
    Wrapper wrapper_;
    Inflated first_;
    std::uint64_t size_ = 0;
    z_stream z_{};
    bool live_ = false;
    std::uint64_t fed_ = 0;       // compressed bytes handed to zlib
    std::uint64_t produced_ = 0;  // decompressed bytes produced since start()
    std::vector<std::uint8_t> window_;
    std::uint64_t window_start_ = 0;
    std::vector<std::uint8_t> scratch_;
};

}  // namespace mscan::compress
