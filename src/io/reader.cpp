// The checked byte reader. All bounds checks on untrusted input happen here.
#include "mscan/reader.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace mscan {

ByteReader::ByteReader(Source& source, std::uint64_t start, std::uint64_t end)
    : source_(source), end_(std::min(end, source.size())) {
    pos_ = std::min(start, end_);
}

bool ByteReader::ensure(std::size_t n) {
    if (n > end_ - pos_) return false;
    if (pos_ >= window_start_ && pos_ - window_start_ <= window_.size() &&
        n <= window_.size() - (pos_ - window_start_)) {
        return true;
    }
    const std::size_t want = std::max(n, source_.preferred_window());
    const std::uint64_t avail = end_ - pos_;
    window_ = source_.view(pos_, static_cast<std::size_t>(std::min<std::uint64_t>(want, avail)));
    window_start_ = pos_;
    return window_.size() >= n;
}

bool ByteReader::seek(std::uint64_t to) {
    if (to > end_) return false;
    pos_ = to;
    return true;
}

bool ByteReader::skip(std::uint64_t n) {
    if (n > end_ - pos_) return false;
    pos_ += n;
    return true;
}

std::optional<std::span<const std::uint8_t>> ByteReader::bytes(std::size_t n) {
    if (!ensure(n)) return std::nullopt;
    auto out = window_.subspan(static_cast<std::size_t>(pos_ - window_start_), n);
    pos_ += n;
    return out;
}

std::optional<std::uint8_t> ByteReader::u8_slow() {
    if (!ensure(1)) return std::nullopt;
    return window_[static_cast<std::size_t>(pos_++ - window_start_)];
}

std::optional<std::uint8_t> ByteReader::peek() {
    if (!ensure(1)) return std::nullopt;
    return window_[static_cast<std::size_t>(pos_ - window_start_)];
}

namespace {
template <typename T>
T load_le(const std::uint8_t* p) {
    T v = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i)
        v |= static_cast<T>(static_cast<T>(p[i]) << (8 * i));
    return v;
}
}  // namespace

std::optional<std::uint16_t> ByteReader::u16le() {
    auto b = bytes(2);
    if (!b) return std::nullopt;
    return load_le<std::uint16_t>(b->data());
}

std::optional<std::uint32_t> ByteReader::u32le() {
    auto b = bytes(4);
    if (!b) return std::nullopt;
    return load_le<std::uint32_t>(b->data());
}

std::optional<std::uint64_t> ByteReader::u64le() {
    auto b = bytes(8);
    if (!b) return std::nullopt;
    return load_le<std::uint64_t>(b->data());
}

std::optional<std::int32_t> ByteReader::i32le() {
    auto v = u32le();
    if (!v) return std::nullopt;
    return static_cast<std::int32_t>(*v);
}

std::optional<double> ByteReader::f64be() {
    auto b = bytes(8);
    if (!b) return std::nullopt;
    std::uint64_t bits = 0;
    for (std::size_t i = 0; i < 8; ++i)
        bits = (bits << 8) | (*b)[i];
    return std::bit_cast<double>(bits);
}

std::optional<std::string_view> ByteReader::line(std::size_t max_len) {
    const std::uint64_t limit = std::min<std::uint64_t>(end_ - pos_, max_len);
    // Grow the window until it holds a newline or the limit.
    std::size_t looked = 0;
    std::size_t want = 256;
    while (true) {
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(want, limit));
        if (!ensure(n) && !ensure(static_cast<std::size_t>(limit))) return std::nullopt;
        const auto start = static_cast<std::size_t>(pos_ - window_start_);
        const std::size_t have =
            std::min<std::size_t>(window_.size() - start, static_cast<std::size_t>(limit));
        const void* nl = std::memchr(window_.data() + start + looked, '\n', have - looked);
        if (nl) {
            const auto len = static_cast<std::size_t>(static_cast<const std::uint8_t*>(nl) -
                                                      (window_.data() + start));
            std::string_view out(reinterpret_cast<const char*>(window_.data() + start), len);
            pos_ += len + 1;
            return out;
        }
        if (have >= limit) return std::nullopt;
        looked = have;
        want = have * 2;
    }
}

void ByteReader::release_before(std::uint64_t offset) {
    source_.release(0, offset);
}

}  // namespace mscan
