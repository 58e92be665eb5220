// bzip2 and LZMA zip members through libbz2 and liblzma, fed from the parent source in chunks.
#include "formats/compress/codec_source.h"

#include <bzlib.h>
#include <lzma.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

namespace mscan::compress {

class CodecStream {
  public:
    /// `max_out`: the most output that will be asked for (it bounds the LZMA dictionary).
    CodecStream(Source& parent, std::uint64_t offset, std::uint64_t length, ZipCodec codec,
                std::uint64_t max_out)
        : parent_(parent), offset_(offset), length_(length), codec_(codec), max_out_(max_out) {
        if (codec_ == ZipCodec::Bzip2) {
            live_ = BZ2_bzDecompressInit(&bz_, 0, 0) == BZ_OK;
            if (!live_) error_ = "libbz2 could not be initialised";
        } else {
            start_lzma();
        }
    }
    ~CodecStream() { close(); }
    CodecStream(const CodecStream&) = delete;
    CodecStream& operator=(const CodecStream&) = delete;

    /// Decodes up to `n` bytes into `out`; 0 once the stream ended or failed (error()).
    std::size_t read(std::uint8_t* out, std::size_t n) {
        std::size_t done = 0;
        while (done < n && live_ && !ended_) {
            // More input only once the library has handed over what it holds.
            if (in_left_ == 0 && !pending_ && !feed()) break;
            const std::size_t room = std::min<std::size_t>(n - done, 1u << 30);
            std::size_t used = 0, got = 0;
            bool progress_error = false;
            if (codec_ == ZipCodec::Bzip2) {
                bz_.next_in = const_cast<char*>(reinterpret_cast<const char*>(in_));
                bz_.avail_in = static_cast<unsigned>(in_left_);
                bz_.next_out = reinterpret_cast<char*>(out + done);
                bz_.avail_out = static_cast<unsigned>(room);
                const int rc = BZ2_bzDecompress(&bz_);
                used = in_left_ - bz_.avail_in;
                got = room - bz_.avail_out;
                if (rc == BZ_STREAM_END) {
                    ended_ = true;
                } else if (rc != BZ_OK) {
                    error_ = "corrupt bzip2 data (libbz2 error " + std::to_string(rc) + ")";
                    progress_error = true;
                }
            } else {
                xz_.next_in = in_;
                xz_.avail_in = in_left_;
                xz_.next_out = out + done;
                xz_.avail_out = room;
                const lzma_ret rc = lzma_code(&xz_, LZMA_RUN);
                used = in_left_ - xz_.avail_in;
                got = room - xz_.avail_out;
                if (rc == LZMA_STREAM_END) {
                    ended_ = true;
                } else if (rc != LZMA_OK) {
                    error_ = "corrupt LZMA data (liblzma error " + std::to_string(rc) + ")";
                    progress_error = true;
                }
            }
            in_ += used;
            in_left_ -= used;
            consumed_ += used;
            done += got;
            pending_ = got == room;  // the output filled up: more may be waiting
            if (progress_error) {
                close();
                break;
            }
            if (used == 0 && got == 0 && in_left_ != 0) {
                error_ = "corrupt compressed data: no progress";
                close();
                break;
            }
        }
        return done;
    }

    bool ended() const { return ended_; }
    /// The input ran out before the stream's end (LZMA without an end marker ends so).
    bool input_exhausted() const { return exhausted_; }
    std::uint64_t consumed() const { return consumed_; }
    const std::string& error() const { return error_; }

  private:
    /// Python's zipfile: 2 bytes of version, a 2-byte properties size, the properties (5
    /// bytes for LZMA1: lc/lp/pb and the dictionary size), then raw LZMA1 data.
    void start_lzma() {
        const auto h = parent_.view(offset_, 4);
        if (h.size() < 4 || length_ < 4) {
            error_ = "the LZMA member is too short for its 4-byte header";
            return;
        }
        const std::uint32_t props_size = h[2] | static_cast<std::uint32_t>(h[3]) << 8;
        if (props_size != 5) {
            error_ = "the LZMA header declares " + std::to_string(props_size) +
                     " property bytes, not 5 (Python's zipfile refuses it)";
            return;
        }
        const auto props = parent_.view(offset_ + 4, 5);
        if (props.size() < 5 || length_ < 9) {
            error_ = "the LZMA member ends inside its properties";
            return;
        }
        lzma_filter filters[2] = {{LZMA_FILTER_LZMA1, nullptr}, {LZMA_VLI_UNKNOWN, nullptr}};
        if (lzma_properties_decode(&filters[0], nullptr, props.data(), props.size()) != LZMA_OK) {
            error_ = "the LZMA properties are not valid";
            return;
        }
        // The dictionary is allocated up front at the size the file asks for (up to 4 GiB).
        // No match reaches further back than the output so far, so a dictionary as large as
        // the output mscan will take decodes exactly the same bytes.
        auto* options = static_cast<lzma_options_lzma*>(filters[0].options);
        const std::uint64_t enough = std::max<std::uint64_t>(LZMA_DICT_SIZE_MIN, max_out_);
        if (options->dict_size > enough) options->dict_size = static_cast<std::uint32_t>(enough);
        live_ = lzma_raw_decoder(&xz_, filters) == LZMA_OK;
        std::free(filters[0].options);
        if (!live_) error_ = "liblzma could not start the LZMA decoder";
        skip_ = 9;
    }

    bool feed() {
        const std::uint64_t at = skip_ + fed_;
        if (at >= length_) {
            exhausted_ = true;
            return false;
        }
        const auto chunk = parent_.view(
            offset_ + at, static_cast<std::size_t>(std::min<std::uint64_t>(kIn, length_ - at)));
        if (chunk.empty()) {
            exhausted_ = true;
            return false;
        }
        if (fed_ > 0) parent_.release(offset_ + at - kIn, kIn);  // the previous chunk is done
        in_ = chunk.data();
        in_left_ = chunk.size();
        fed_ += chunk.size();
        return true;
    }

    void close() {
        if (!live_) return;
        if (codec_ == ZipCodec::Bzip2)
            BZ2_bzDecompressEnd(&bz_);
        else
            lzma_end(&xz_);
        live_ = false;
    }

    static constexpr std::size_t kIn = 1 << 20;
    Source& parent_;
    std::uint64_t offset_, length_;
    ZipCodec codec_;
    std::uint64_t max_out_;
    bz_stream bz_{};
    lzma_stream xz_ = LZMA_STREAM_INIT;
    bool live_ = false;
    bool ended_ = false;
    bool pending_ = false;  ///< the last call filled the output: the library may hold more
    bool exhausted_ = false;
    std::uint64_t skip_ = 0;  ///< header bytes before the compressed data (LZMA: 9)
    std::uint64_t fed_ = 0;   ///< compressed bytes handed to the library
    std::uint64_t consumed_ = 0;
    const std::uint8_t* in_ = nullptr;
    std::size_t in_left_ = 0;
    std::string error_;
};

namespace {

/// One counting (and, with `keep`, keeping) pass under `max_out`, as inflate.cpp's for deflate.
Inflated run(Source& source, std::uint64_t offset, std::uint64_t length, ZipCodec codec,
             std::uint64_t max_out, bool want_crc, std::vector<std::uint8_t>* keep) {
    Inflated out;
    CodecStream stream(source, offset, length, codec, max_out);
    std::vector<std::uint8_t> scratch;
    if (!keep) scratch.resize(1 << 20);
    uLong crc = crc32(0L, Z_NULL, 0);
    for (;;) {
        const std::uint64_t room_left = max_out - out.size;
        const std::size_t room = static_cast<std::size_t>(
            std::min<std::uint64_t>(room_left + 1, keep ? (1u << 20) : scratch.size()));
        std::uint8_t* dest;
        if (keep) {
            keep->resize(out.size + room);
            dest = keep->data() + out.size;
        } else {
            dest = scratch.data();
        }
        std::size_t got = stream.read(dest, room);
        if (got > room_left) {
            got = static_cast<std::size_t>(room_left);
            out.capped = true;
        }
        if (want_crc) crc = crc32(crc, dest, static_cast<uInt>(got));
        out.size += got;
        if (keep) keep->resize(out.size);
        if (!out.ratio_exceeded && ratio_exceeded(out.size, stream.consumed()))
            out.ratio_exceeded = true;
        if (out.capped || got == 0) break;
    }
    out.consumed = stream.consumed();
    out.error = stream.error();
    // An LZMA stream may end with its data instead of an end marker: zipfile accepts that.
    out.complete = !out.capped && out.error.empty() &&
                   (stream.ended() || (codec == ZipCodec::Lzma && stream.input_exhausted()));
    if (!out.capped && out.error.empty() && !out.complete)
        out.error = "the compressed data ends before the end of the stream";
    out.crc32 = static_cast<std::uint32_t>(crc);
    return out;
}

}  // namespace

Inflated decode_zip_codec(Source& source, std::uint64_t offset, std::uint64_t length,
                          ZipCodec codec, std::uint64_t max_out, bool want_crc) {
    std::vector<std::uint8_t> bytes;
    Inflated out = run(source, offset, length, codec, max_out, want_crc, &bytes);
    out.bytes = std::move(bytes);
    return out;
}

CodecSource::CodecSource(Source& parent, std::uint64_t offset, std::uint64_t length, ZipCodec codec,
                         std::uint64_t max_out)
    : parent_(parent), offset_(offset), length_(length), codec_(codec) {
    first_ = run(parent, offset, length, codec, max_out, true, nullptr);
    set_size(first_.size);
}

CodecSource::~CodecSource() = default;

bool CodecSource::restart() {
    stream_ = std::make_unique<CodecStream>(parent_, offset_, length_, codec_, size());
    return stream_->error().empty();
}

std::size_t CodecSource::decode(std::uint8_t* out, std::size_t n) {
    return stream_ ? stream_->read(out, n) : 0;
}

}  // namespace mscan::compress
