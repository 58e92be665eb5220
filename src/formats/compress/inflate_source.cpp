// Two passes over the compressed bytes instead of one copy of the decompressed ones: memory
// stays at the window size whatever the member's size.
#include "formats/compress/inflate_source.h"

#include <algorithm>

namespace mscan::compress {
namespace {

constexpr std::size_t kIn = 1 << 20;

int window_bits(Wrapper w) {
    return w == Wrapper::Raw ? -15 : w == Wrapper::Zlib ? 15 : 15 + 16;
}

}  // namespace

InflateSource::InflateSource(Source& parent, std::uint64_t offset, std::uint64_t length,
                             Wrapper wrapper, std::uint64_t max_out)
    : parent_(parent), offset_(offset), length_(length), wrapper_(wrapper) {
    // Pass 1: how much comes out, and whether the stream is sound, under the caps.
    first_ = inflate_count(parent, offset, length, wrapper, max_out, true);
    set_size(first_.size);
}

InflateSource::~InflateSource() {
    if (live_) inflateEnd(&z_);
}

bool InflateSource::restart() {
    if (live_) inflateEnd(&z_);
    z_ = z_stream{};
    live_ = inflateInit2(&z_, window_bits(wrapper_)) == Z_OK;
    ended_ = false;
    pending_ = false;
    fed_ = 0;
    return live_;
}

std::size_t InflateSource::decode(std::uint8_t* out, std::size_t n) {
    std::size_t done = 0;
    while (done < n && live_ && !ended_) {
        // More input only once zlib has handed over what it holds.
        if (z_.avail_in == 0 && !pending_) {
            if (fed_ >= length_) break;
            const auto chunk = parent_.view(
                offset_ + fed_,
                static_cast<std::size_t>(std::min<std::uint64_t>(kIn, length_ - fed_)));
            if (chunk.empty()) break;
            if (fed_ > 0) parent_.release(offset_ + fed_ - kIn, kIn);  // consumed
            z_.next_in = const_cast<Bytef*>(chunk.data());
            z_.avail_in = static_cast<uInt>(chunk.size());
            fed_ += chunk.size();
        }
        z_.next_out = out + done;
        z_.avail_out = static_cast<uInt>(std::min<std::size_t>(n - done, 1u << 30));
        const int rc = ::inflate(&z_, Z_NO_FLUSH);
        const std::size_t got = static_cast<std::size_t>(z_.next_out - (out + done));
        done += got;
        pending_ = z_.avail_out == 0;
        if (rc == Z_STREAM_END) ended_ = true;
        if (rc == Z_BUF_ERROR && got == 0 && z_.avail_in == 0) continue;  // wants input
        if (rc != Z_OK && rc != Z_STREAM_END && !(rc == Z_BUF_ERROR && got > 0)) break;
    }
    return done;
}

}  // namespace mscan::compress
