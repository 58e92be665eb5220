// zlib's inflate over a Source, in chunks, with the caps from mscan/limits.h.
#include "formats/compress/inflate.h"

#include <zlib.h>

#include <algorithm>

#include "mscan/limits.h"

namespace mscan::compress {
namespace {

/// The one decompression loop: output goes to `keep` (nullptr: counted and dropped).
Inflated run(Source& source, std::uint64_t offset, std::uint64_t length, Wrapper wrapper,
             std::uint64_t max_out, bool want_crc, std::vector<std::uint8_t>* keep) {
    Inflated out;
    z_stream z{};
    const int bits = wrapper == Wrapper::Raw ? -15 : wrapper == Wrapper::Zlib ? 15 : 15 + 16;
    if (inflateInit2(&z, bits) != Z_OK) {
        out.error = "zlib could not be initialised";
        return out;
    }
    constexpr std::size_t kIn = 1 << 20;
    constexpr std::size_t kOut = 1 << 20;
    std::vector<std::uint8_t> scratch;
    if (!keep) scratch.resize(kOut);
    std::uint64_t fed = 0;
    uLong crc = crc32(0L, Z_NULL, 0);
    int rc = Z_OK;
    bool pending = false;  // the last call filled its output: zlib may hold more
    while (rc != Z_STREAM_END) {
        if (z.avail_in == 0 && !pending) {
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
            if (fed > 0) source.release(offset + fed - kIn, kIn);  // the previous chunk is done
            z.next_in = const_cast<Bytef*>(chunk.data());
            z.avail_in = static_cast<uInt>(chunk.size());
            fed += chunk.size();
        }
        // Room for the next piece of output, never past max_out (+1 to see if more follows).
        const std::uint64_t room_left = max_out - out.size;
        const std::size_t room = room_left >= kOut ? kOut : static_cast<std::size_t>(room_left + 1);
        std::uint8_t* dest;
        if (keep) {
            if (keep->capacity() < out.size + room)
                keep->reserve(std::max<std::uint64_t>(out.size + room, keep->capacity() * 2));
            keep->resize(out.size + room);
            dest = keep->data() + out.size;
        } else {
            dest = scratch.data();
        }
        z.next_out = dest;
        z.avail_out = static_cast<uInt>(room);
        rc = ::inflate(&z, Z_NO_FLUSH);
        std::size_t produced = room - z.avail_out;
        pending = z.avail_out == 0;
        if (produced > room_left) {  // one byte beyond the cap: there is more
            produced = static_cast<std::size_t>(room_left);
            out.capped = true;
        }
        if (want_crc) crc = crc32(crc, dest, static_cast<uInt>(produced));
        out.size += produced;
        if (keep) keep->resize(out.size);
        if (out.capped) break;
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
            out.error = std::string("corrupt compressed data: ") + (z.msg ? z.msg : "zlib error");
            break;
        }
        // A ratio beyond the limit is noted, not a reason to stop: the loader inflates the
        // whole stream (a run of zeros may come before a payload), so mscan does too, within
        // max_out.
        if (!out.ratio_exceeded && ratio_exceeded(out.size, fed - z.avail_in))
            out.ratio_exceeded = true;
        if (rc == Z_BUF_ERROR && produced == 0 && z.avail_in != 0) {
            out.error = "corrupt compressed data: no progress";
            break;
        }
    }
    out.consumed = fed - z.avail_in;
    out.complete = rc == Z_STREAM_END && !out.capped;
    out.crc32 = static_cast<std::uint32_t>(crc);
    inflateEnd(&z);
    return out;
}

}  // namespace

bool ratio_exceeded(std::uint64_t out, std::uint64_t in) {
    return out >= limits::kRatioCheckAfter &&
           out / std::max<std::uint64_t>(in, 1) > limits::kMaxCompressionRatio;
}

Inflated inflate(Source& source, std::uint64_t offset, std::uint64_t length, Wrapper wrapper,
                 std::uint64_t max_out, bool want_crc) {
    std::vector<std::uint8_t> bytes;
    Inflated out = run(source, offset, length, wrapper, max_out, want_crc, &bytes);
    out.bytes = std::move(bytes);
    return out;
}

Inflated inflate_count(Source& source, std::uint64_t offset, std::uint64_t length, Wrapper wrapper,
                       std::uint64_t max_out, bool want_crc) {
    return run(source, offset, length, wrapper, max_out, want_crc, nullptr);
}

}  // namespace mscan::compress
