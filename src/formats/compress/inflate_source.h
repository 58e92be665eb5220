// A decompressed DEFLATE stream (a zip member, a zlib or gzip file) as a Source, without
// holding it in memory: a first pass counts its size (and applies the caps), then views come
// from WindowedSource, decoding again with zlib on demand.
#pragma once

#include <zlib.h>

#include <cstdint>

#include "formats/compress/inflate.h"
#include "formats/compress/windowed_source.h"

namespace mscan::compress {

class InflateSource final : public WindowedSource {
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

  private:
    bool restart() override;
    std::size_t decode(std::uint8_t* out, std::size_t n) override;

    Source& parent_;
    std::uint64_t offset_, length_;
    Wrapper wrapper_;
    Inflated first_;
    z_stream z_{};
    bool live_ = false;
    bool ended_ = false;
    bool pending_ = false;   // the last call filled its output: zlib may hold more
    std::uint64_t fed_ = 0;  // compressed bytes handed to zlib
};

}  // namespace mscan::compress
