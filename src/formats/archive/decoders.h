// Single compressed streams (gzip, bzip2, xz, lzma, zstd, lz4) as decompressed bytes read front
// to back. gzip is decoded with zlib, member by member, because libarchive's gzip filter
// neither checks the CRC-32 trailer nor hands over what it decoded before a truncation; the
// other compressions go through libarchive's in-process filters.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "formats/archive/libarchive_io.h"
#include "formats/compress/windowed_source.h"
#include "mscan/source.h"

namespace mscan::archive {

/// The compression a source starts with, by magic bytes (lzma, whose magic is weak, also by
/// the plausibility of its header); Compression::None if none.
Compression sniff_compression(Source& source);

/// Decompressed bytes of one compressed stream.
class Decoder {
  public:
    virtual ~Decoder() = default;
    /// Fills up to `n` bytes of `out` and returns how many; 0 once the stream has ended or
    /// failed (then error() says why).
    virtual std::size_t read(std::uint8_t* out, std::size_t n) = 0;
    /// Compressed bytes consumed so far.
    virtual std::uint64_t consumed() const = 0;
    /// Why the stream is damaged ("" if it is not, as far as it was read). It may be set while
    /// data is still delivered (bytes after the last gzip member), so check it at the end.
    const std::string& error() const { return error_; }

  protected:
    std::string error_;
};

/// A decoder for `source`, which starts with `compression` (not None). A stream that cannot
/// be opened gives a decoder that reads nothing and says why in error().
std::unique_ptr<Decoder> open_decoder(Source& source, Compression compression);

/// The first `size` decompressed bytes of a stream as a Source, without holding them whole
/// (`size` comes from a first pass that read the stream under the caps). Views are served from
/// a window refilled by decoding forward; a read behind the window starts a new decoder.
class StreamSource final : public compress::WindowedSource {
  public:
    /// `compressed` must outlive this.
    StreamSource(Source& compressed, Compression compression, std::uint64_t size)
        : WindowedSource(size), compressed_(compressed), compression_(compression) {}

  private:
    bool restart() override;
    std::size_t decode(std::uint8_t* out, std::size_t n) override;

    Source& compressed_;
    Compression compression_;
    std::unique_ptr<Decoder> decoder_;
};

}  // namespace mscan::archive
