// The window logic shared by every streamed decompressor.
#include "formats/compress/windowed_source.h"

#include <algorithm>

namespace mscan::compress {

std::size_t WindowedSource::produce(std::uint8_t* out, std::size_t n) {
    if (!out && scratch_.empty()) scratch_.resize(1 << 20);
    std::size_t done = 0;
    while (done < n && produced_ < size_) {
        std::size_t want =
            static_cast<std::size_t>(std::min<std::uint64_t>(n - done, size_ - produced_));
        std::uint8_t* dest = out ? out + done : scratch_.data();
        if (!out) want = std::min(want, scratch_.size());
        const std::size_t got = decode(dest, want);
        if (got == 0) break;
        done += got;
        produced_ += got;
    }
    return done;
}

std::span<const std::uint8_t> WindowedSource::view(std::uint64_t offset, std::size_t n) {
    if (offset >= size_) return {};
    n = static_cast<std::size_t>(std::min<std::uint64_t>(n, size_ - offset));
    if (offset >= window_start_ && offset + n <= window_start_ + window_.size())
        return {window_.data() + (offset - window_start_), n};
    // Refill the window at `offset`: decode on, or start over for a read behind.
    if (!started_ || offset < produced_) {
        started_ = restart();
        produced_ = 0;
        if (!started_) return {};
    }
    if (offset > produced_) produce(nullptr, static_cast<std::size_t>(offset - produced_));
    if (offset != produced_) return {};
    const std::size_t fill =
        static_cast<std::size_t>(std::min<std::uint64_t>(std::max(n, kWindow), size_ - offset));
    window_.resize(fill);
    window_start_ = offset;
    window_.resize(produce(window_.data(), fill));
    return {window_.data(), std::min(n, window_.size())};
}

}  // namespace mscan::compress
