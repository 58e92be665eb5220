// zlib's inflate over a Source, in chunks, with the caps from mscan/limits.h.
#include "formats/compress/inflate.h"

#include <zlib.h>

#include <algorithm>

#include "mscan/limits.h"

namespace mscan::compress {

Inflated inflate(Source& source, std::uint64_t offset, std::uint64_t length, Wrapper wrapper,
                 std::uint64_t max_out) {
    Inflated out;
    z_stream z{};
    const int bits = wrapper == Wrapper::Raw ? -15 : wrapper == Wrapper::Zlib ? 15 : 15 + 16;
    if (inflateInit2(&z, bits) != Z_OK) {
        out.error = "zlib could not be initialised";
        return out;
    }
    constexpr std::size_t kIn = 1 << 20;
    std::uint64_t fed = 0;
    std::uint8_t buffer[64 * 1024];
    uLong crc = crc32(0L, Z_NULL, 0);
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
        if (z.avail_in == 0) {
            if (fed >= length) {
                out.error = "the compressed data ends before the end of the stream";
                break;
            }
            const auto chunk = source.view(
                offset + fed, static_cast<std::size_t>(std::min<std::uint64_t>(kIn, length - fed)));
            if (chunk.empty()) {
                out.error = "the compressed data is cut short by the end of the file";
                break;
            }
            z.next_in = const_cast<Bytef*>(chunk.data());
            z.avail_in = static_cast<uInt>(chunk.size());
            fed += chunk.size();
        }
        z.next_out = buffer;
        z.avail_out = sizeof buffer;
        rc = ::inflate(&z, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
            out.error = std::string("corrupt compressed data: ") + (z.msg ? z.msg : "zlib error");
            break;
        }
        const std::size_t produced = sizeof buffer - z.avail_out;
        const std::size_t room =
            static_cast<std::size_t>(std::min<std::uint64_t>(produced, max_out - out.bytes.size()));
        out.bytes.insert(out.bytes.end(), buffer, buffer + room);
        crc = crc32(crc, buffer, static_cast<uInt>(room));
        if (room < produced || (out.bytes.size() == max_out && rc != Z_STREAM_END)) {
            out.capped = true;
            break;
        }
        const std::uint64_t consumed = fed - z.avail_in;
        if (out.bytes.size() >= limits::kRatioCheckAfter &&
            out.bytes.size() / std::max<std::uint64_t>(consumed, 1) >
                limits::kMaxCompressionRatio) {
            out.ratio_exceeded = true;
            break;
        }
        if (rc == Z_BUF_ERROR && produced == 0 && z.avail_in != 0) {
            out.error = "corrupt compressed data: no progress";
            break;
        }
    }
    out.complete = rc == Z_STREAM_END;
    out.crc32 = static_cast<std::uint32_t>(crc);
    inflateEnd(&z);
    return out;
}

}  // namespace mscan::compress
