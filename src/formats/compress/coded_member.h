// A compressed member whose bytes lie in a Source (a zip member, a zlib or joblib stream): it
// can be decoded from its start as often as needed, so its head is decoded on its own and its
// whole content is read through a window (InflateSource, CodecSource), never held.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "formats/member.h"

namespace mscan::compress {

/// How the bytes are compressed: DEFLATE raw (zip) or with a zlib wrapper; bzip2 and LZMA as
/// zip members hold them (Python's zipfile).
enum class Codec { Deflate, Zlib, Bzip2, Lzma };

class CodedMember final : public Member {
  public:
    /// [offset, offset + length) of `source` (which must outlive this), decoded with `codec`;
    /// `declared` is the size its headers declare (what a loader that trusts them allocates).
    CodedMember(Source& source, std::uint64_t offset, std::uint64_t length, Codec codec,
                std::string name, std::uint64_t declared);

    Inflated head(std::size_t n) override;
    /// The rest is not decoded: its declared size stands for it.
    Rest skip_rest() override { return {declared, false}; }
    std::unique_ptr<Source> open(std::uint64_t cap, bool stable, Inflated& first) override;

    /// The first `max_out` decoded bytes, kept (a TorchScript code file).
    Inflated read(std::uint64_t max_out, bool want_crc);

  private:
    Source& source_;
    std::uint64_t offset_, length_;
    Codec codec_;
};

}  // namespace mscan::compress
