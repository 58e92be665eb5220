// Zip members compressed with bzip2 (method 12) or LZMA (method 14), decoded the way Python's
// zipfile decodes them (and so numpy.load, Keras and joblib's zip readers): bzip2 as one
// bzip2 stream with libbz2; LZMA as zipfile's 4-byte header (version, properties size), the
// 5 LZMA1 properties, then a raw LZMA1 stream that ends at its end marker or where the data
// ends, with liblzma. torch.load's miniz reads neither and refuses such a member.
#pragma once

#include <cstdint>
#include <memory>

#include "formats/compress/inflate.h"
#include "formats/compress/windowed_source.h"

namespace mscan::compress {

enum class ZipCodec { Bzip2 = 12, Lzma = 14 };

/// One pass of decoding, front to back (defined in codec_source.cpp).
class CodecStream;

/// The first `max_out` decompressed bytes of [offset, offset + length) of `source`, kept (for
/// detection), with how the stream went (errors, the ratio, the CRC-32 if asked).
Inflated decode_zip_codec(Source& source, std::uint64_t offset, std::uint64_t length,
                          ZipCodec codec, std::uint64_t max_out, bool want_crc = true);

/// The same data as a Source, without holding it: a first pass counts it under `max_out`,
/// views then decode again on demand (as InflateSource does for deflate).
class CodecSource final : public WindowedSource {
  public:
    CodecSource(Source& parent, std::uint64_t offset, std::uint64_t length, ZipCodec codec,
                std::uint64_t max_out);
    ~CodecSource() override;
    CodecSource(const CodecSource&) = delete;
    CodecSource& operator=(const CodecSource&) = delete;

    const Inflated& first_pass() const { return first_; }

  private:
    bool restart() override;
    std::size_t decode(std::uint8_t* out, std::size_t n) override;

    Source& parent_;
    std::uint64_t offset_, length_;
    ZipCodec codec_;
    Inflated first_;
    std::unique_ptr<CodecStream> stream_;
};

}  // namespace mscan::compress
