// DEFLATE decompression (zip members; zlib and gzip streams) from a Source, bounded: output
// stops at a byte cap. A stream whose output outgrows its input by more than the
// compression-ratio limit is noted (Inflated::ratio_exceeded) but read on to the cap, as its
// loader would read it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mscan/source.h"

namespace mscan::compress {

enum class Wrapper { Raw, Zlib, Gzip };

/// Whether `out` decompressed bytes from `in` compressed ones break the compression-ratio
/// limit (judged once kRatioCheckAfter bytes have come out; mscan/limits.h).
bool ratio_exceeded(std::uint64_t out, std::uint64_t in);

struct Inflated {
    std::vector<std::uint8_t> bytes;  ///< the output (empty for inflate_count)
    std::uint64_t size = 0;           ///< bytes produced
    std::uint64_t consumed = 0;       ///< compressed bytes they came from
    bool complete = false;            ///< the stream ended properly
    bool capped = false;              ///< stopped at max_out with more to come
    bool ratio_exceeded = false;      ///< output/input went beyond the ratio limit (read on)
    std::string error;                ///< corrupt or truncated stream (empty if none)
    std::uint32_t crc32 = 0;          ///< CRC-32 of the output, if asked for
};

/// Decompresses [offset, offset + length) of `source`, producing at most `max_out` bytes.
Inflated inflate(Source& source, std::uint64_t offset, std::uint64_t length, Wrapper wrapper,
                 std::uint64_t max_out, bool want_crc = true);

/// The same pass without keeping the output: its size, how it ended, its CRC-32 if asked.
Inflated inflate_count(Source& source, std::uint64_t offset, std::uint64_t length, Wrapper wrapper,
                       std::uint64_t max_out, bool want_crc);

}  // namespace mscan::compress
