// The one checked reader: the only code that does offset arithmetic on untrusted bytes.
// Every read checks offset + length against the source size with overflow-safe arithmetic;
// a failed read returns false/nullopt and leaves the cursor where it was.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "mscan/source.h"

namespace mscan {

/// Sequential, bounds-checked reading over a Source, through a cached window.
class ByteReader {
  public:
    explicit ByteReader(Source& source, std::uint64_t start = 0, std::uint64_t end = UINT64_MAX);

    std::uint64_t pos() const { return pos_; }
    std::uint64_t end() const { return end_; }
    std::uint64_t remaining() const { return end_ - pos_; }
    bool at_end() const { return pos_ >= end_; }
    /// Moves the cursor; fails (cursor unchanged) if `to` lies past the end.
    bool seek(std::uint64_t to);
    /// Skips `n` bytes without reading them; fails (cursor unchanged) past the end.
    bool skip(std::uint64_t n);

    [[gnu::always_inline]] std::optional<std::uint8_t> u8() {
        if (pos_ < end_ && pos_ >= window_start_ && pos_ - window_start_ < window_.size()) {
            return window_[static_cast<std::size_t>(pos_++ - window_start_)];
        }
        return u8_slow();
    }
    std::optional<std::uint16_t> u16le();
    std::optional<std::uint32_t> u32le();
    std::optional<std::uint64_t> u64le();
    std::optional<std::int32_t> i32le();
    std::optional<double> f64be();
    /// Borrows the next `n` bytes (valid until the next read). Fails past the end.
    std::optional<std::span<const std::uint8_t>> bytes(std::size_t n);
    /// Reads up to and excluding the next '\n' (consumed), looking at most `max_len` bytes.
    /// Fails if no newline occurs within `max_len` bytes or before the end.
    std::optional<std::string_view> line(std::size_t max_len);
    /// Peeks at the next byte without consuming it.
    std::optional<std::uint8_t> peek();
    /// The underlying source (to start another reader over the same bytes).
    Source& source() const { return source_; }
    /// Tells the source that bytes before `offset` will not be read again.
    void release_before(std::uint64_t offset);

  private:
    bool ensure(std::size_t n);
    std::optional<std::uint8_t> u8_slow();
    Source& source_;
    std::uint64_t pos_;
    std::uint64_t end_;
    std::span<const std::uint8_t> window_;
    std::uint64_t window_start_ = 0;
};

}  // namespace mscan
