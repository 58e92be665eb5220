// The decompressed bytes of a stream as a Source, without holding them whole: views are served
// from a window that is refilled by decoding forward; a read behind the window starts the
// decoder over. Subclasses supply the decoder (zlib's inflate, libarchive's filters, ...); the
// size comes from a first pass that read the stream under the caps.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "mscan/source.h"

namespace mscan::compress {

class WindowedSource : public Source {
  public:
    std::uint64_t size() const override { return size_; }
    std::span<const std::uint8_t> view(std::uint64_t offset, std::size_t n) override;
    std::size_t preferred_window() const override { return kWindow; }

    /// Bytes held at once for views (a larger request gets a window of its own size).
    static constexpr std::size_t kWindow = 16u << 20;

  protected:
    explicit WindowedSource(std::uint64_t size = 0) : size_(size) {}
    void set_size(std::uint64_t size) { size_ = size; }
    /// Starts decoding from the beginning of the stream; false if that is impossible.
    virtual bool restart() = 0;
    /// Decodes the next bytes into `out` (at most `n`); 0 once the stream ended or failed.
    virtual std::size_t decode(std::uint8_t* out, std::size_t n) = 0;

  private:
    /// Decodes up to `n` bytes into `out` (nullptr: discards them); returns how many.
    std::size_t produce(std::uint8_t* out, std::size_t n);

    std::uint64_t size_;
    bool started_ = false;
    std::uint64_t produced_ = 0;  ///< bytes produced since the last restart()
    std::vector<std::uint8_t> window_;
    std::uint64_t window_start_ = 0;
    std::vector<std::uint8_t> scratch_;
};

}  // namespace mscan::compress
