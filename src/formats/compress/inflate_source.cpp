// Two passes over the compressed bytes instead of one copy of the decompressed ones: memory
// stays at the window size whatever the member's size.
#include "formats/compress/inflate_source.h"

#include <algorithm>

#include "mscan/limits.h"

namespace mscan::compress {
namespace {

int window_bits(Wrapper w) {
    return w == Wrapper::Raw ? -15 : w == Wrapper::Zlib ? 15 : 15 + 16;
}

}  // namespace

InflateSource::InflateSource(Source& parent, std::uint64_t offset, std::uint64_t length,
                             Wrapper wrapper, std::uint64_t max_out)
    : parent_(parent), offset_(offset), length_(length), wrapper_(wrapper) {
    // Pass 1: how much comes out, and whether the stream is sound, under the caps.
    first_ = inflate_count(parent, offset, length, wrapper, max_out, true);
    size_ = first_.size;
}

InflateSource::~InflateSource() {
    if (live_) inflateEnd(&z_);
}

bool InflateSource::start() {
    if (live_) inflateEnd(&z_);
    z_ = z_stream{};
    live_ = inflateInit2(&z_, window_bits(wrapper_)) == Z_OK;
    fed_ = 0;
    produced_ = 0;
    return live_;
}

std::size_t InflateSource::produce(std::uint8_t* out, std::size_t n) {
    std::size_t done = 0;
    if (scratch_.empty() && !out) scratch_.resize(1 << 20);
    while (done < n && live_ && produced_ < size_) {
        if (z_.avail_in == 0) {
            if (fed_ >= length_) break;
            const auto chunk = parent_.view(
                offset_ + fed_,
                static_cast<std::size_t>(std::min<std::uint64_t>(1 << 20, length_ - fed_)));
            if (chunk.empty()) break;
            if (fed_ > 0) parent_.release(offset_ + fed_ - (1 << 20), 1 << 20);  // consumed
            z_.next_in = const_cast<Bytef*>(chunk.data());
            z_.avail_in = static_cast<uInt>(chunk.size());
            fed_ += chunk.size();
        }
        std::size_t want = std::min<std::uint64_t>(n - done, size_ - produced_);
        std::uint8_t* dest = out ? out + done : scratch_.data();
        if (!out) want = std::min(want, scratch_.size());
        z_.next_out = dest;
        z_.avail_out = static_cast<uInt>(std::min<std::size_t>(want, 1u << 30));
        const int rc = ::inflate(&z_, Z_NO_FLUSH);
        const std::size_t got = static_cast<std::size_t>(z_.next_out - dest);
        done += got;
        produced_ += got;
        if (rc == Z_STREAM_END) break;
        if (rc != Z_OK && !(rc == Z_BUF_ERROR && got > 0)) break;
    }
    return done;
}

std::span<const std::uint8_t> InflateSource::view(std::uint64_t offset, std::size_t n) {
    if (offset >= size_) return {};
    n = static_cast<std::size_t>(std::min<std::uint64_t>(n, size_ - offset));
    if (offset >= window_start_ && offset + n <= window_start_ + window_.size()) {
        return {window_.data() + (offset - window_start_), n};
    }
    // Refill the window from `offset`: continue forward, or start over for a read behind.
    if (!live_ || offset < produced_) start();
    if (offset > produced_) produce(nullptr, static_cast<std::size_t>(offset - produced_));
    if (offset != produced_) return {};
    const std::size_t fill =
        static_cast<std::size_t>(std::min<std::uint64_t>(std::max(n, kWindow), size_ - offset));
    window_.resize(fill);
    window_start_ = offset;
    const std::size_t got = produce(window_.data(), fill);
    window_.resize(got);
    return {window_.data(), std::min(n, got)};
}

}  // namespace mscan::compress
