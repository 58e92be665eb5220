// Compression sniffing, zlib's gzip (multi-member, CRC-checked) and libarchive's raw filters.
#include "formats/archive/decoders.h"

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <span>
#include <vector>

#include "mscan/limits.h"

namespace mscan::archive {
namespace {

constexpr std::size_t kInputBlock = 64 * 1024;

bool starts_with(std::span<const std::uint8_t> head, std::string_view magic) {
    return head.size() >= magic.size() && std::memcmp(head.data(), magic.data(), magic.size()) == 0;
}

/// An "lzma alone" header (LZMA SDK, xz --format=lzma): properties 0x5d, a dictionary size
/// that lzma writes (2^n or 2^n + 2^(n-1)), a size that is unknown (all ones) or sane, and the
/// range coder's first byte, always 0. The same checks libarchive's bidder makes.
bool lzma_alone(std::span<const std::uint8_t> h) {
    if (h.size() < 14 || h[0] != 0x5d || h[1] != 0 || h[2] != 0) return false;
    const std::uint32_t dict =
        static_cast<std::uint32_t>(h[3]) << 16 | static_cast<std::uint32_t>(h[4]) << 24;
    const std::uint32_t low = dict & (~dict + 1);  // lowest set bit
    if (dict == 0 || (dict != low && dict != low * 3)) return false;
    std::uint64_t size = 0;
    for (int i = 12; i >= 5; --i)
        size = size << 8 | h[static_cast<std::size_t>(i)];
    if (size != UINT64_MAX && size >> 48 != 0) return false;
    return h[13] == 0;
}

/// gzip with zlib: every member in turn (as gunzip and Python's gzip module read them), each
/// checked against its CRC-32 and length trailer; zero padding after the last member is
/// accepted, anything else there is reported.
class GzipDecoder final : public Decoder {
  public:
    explicit GzipDecoder(Source& source) : source_(source), in_(kInputBlock) {
        if (inflateInit2(&z_, 15 + 16) != Z_OK) {
            error_ = "zlib could not be initialised";
            done_ = true;
            return;
        }
        ready_ = true;
    }
    ~GzipDecoder() override {
        if (ready_) inflateEnd(&z_);
    }
    GzipDecoder(const GzipDecoder&) = delete;
    GzipDecoder& operator=(const GzipDecoder&) = delete;

    std::size_t read(std::uint8_t* out, std::size_t n) override {
        if (done_ || n == 0) return 0;
        z_.next_out = out;
        z_.avail_out = static_cast<uInt>(std::min<std::size_t>(n, UINT_MAX));
        const uInt asked = z_.avail_out;
        while (z_.avail_out > 0 && !done_) {
            if (z_.avail_in == 0 && !refill()) {
                error_ = "the gzip stream is cut short inside member " +
                         std::to_string(members_ + 1) + " (no end of data or CRC-32 trailer)";
                done_ = true;
                break;
            }
            const int rc = ::inflate(&z_, Z_NO_FLUSH);
            if (rc == Z_STREAM_END) {
                ++members_;
                next_member();
            } else if (rc == Z_BUF_ERROR && z_.avail_in != 0) {
                error_ = "corrupt gzip data: the decoder makes no progress";
                done_ = true;
            } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
                error_ = describe(rc);
                done_ = true;
            }
        }
        return asked - z_.avail_out;
    }

    std::uint64_t consumed() const override { return fed_ - z_.avail_in; }

  private:
    bool refill() {
        const auto view = source_.view(fed_, kInputBlock);
        if (view.empty()) return false;
        std::memcpy(in_.data(), view.data(), view.size());
        fed_ += view.size();
        if (fed_ > released_ && fed_ - released_ >= limits::kReleaseChunk) {
            source_.release(released_, fed_ - released_);  // copied out: not needed mapped
            released_ = fed_;
        }
        z_.next_in = in_.data();
        z_.avail_in = static_cast<uInt>(view.size());
        return true;
    }

    std::string describe(int rc) const {
        const std::string msg = z_.msg ? z_.msg : "zlib error " + std::to_string(rc);
        const std::string member = "gzip member " + std::to_string(members_ + 1);
        if (msg == "incorrect data check")
            return "the CRC-32 of " + member +
                   " does not match its data (gunzip and Python's gzip module refuse it)";
        if (msg == "incorrect length check")
            return "the length trailer of " + member +
                   " does not match its data (gunzip and Python's gzip module refuse it)";
        return "corrupt data in " + member + ": " + msg;
    }

    /// After a member's end: zero padding is skipped; another member is decoded next; any
    /// other byte is reported and ends the stream.
    void next_member() {
        std::uint64_t at = consumed();
        for (;;) {
            const auto view = source_.view(at, kInputBlock);
            if (view.empty()) {
                done_ = true;  // a clean end
                return;
            }
            const auto nonzero =
                std::find_if(view.begin(), view.end(), [](std::uint8_t b) { return b != 0; });
            at += static_cast<std::uint64_t>(nonzero - view.begin());
            if (nonzero != view.end()) break;
        }
        const auto magic = source_.view(at, 3);
        if (magic.size() == 3 && magic[0] == 0x1f && magic[1] == 0x8b && magic[2] == 8 &&
            inflateReset(&z_) == Z_OK) {
            fed_ = at;
            z_.avail_in = 0;
            return;
        }
        error_ = std::to_string(source_.size() - at) + " bytes after gzip member " +
                 std::to_string(members_) +
                 " are not a gzip member (gunzip ignores them with a warning, Python's gzip "
                 "module refuses the file)";
        done_ = true;
    }

    Source& source_;
    z_stream z_{};
    bool ready_ = false;
    bool done_ = false;
    std::uint64_t fed_ = 0;       ///< source offset just past the bytes given to zlib
    std::uint64_t released_ = 0;  ///< input before this offset was released
    std::vector<std::uint8_t> in_;
    int members_ = 0;
};

int filter_code(Compression c) {
    switch (c) {
        case Compression::Gzip:
            return ARCHIVE_FILTER_GZIP;
        case Compression::Bzip2:
            return ARCHIVE_FILTER_BZIP2;
        case Compression::Xz:
            return ARCHIVE_FILTER_XZ;
        case Compression::Lzma:
            return ARCHIVE_FILTER_LZMA;
        case Compression::Zstd:
            return ARCHIVE_FILTER_ZSTD;
        case Compression::Lz4:
            return ARCHIVE_FILTER_LZ4;
        case Compression::None:
            return ARCHIVE_FILTER_NONE;
    }
    return ARCHIVE_FILTER_NONE;
}

/// libarchive's "raw" format over one in-process filter: the whole decompressed stream as the
/// data of a single entry. libarchive is loaded whenever archive_ is set (open_archive).
class LibarchiveDecoder final : public Decoder {
  public:
    LibarchiveDecoder(Source& source, Compression compression) : input_(source) {
        std::string error;
        archive_ = open_archive(input_, Layout::Raw, compression, error);
        if (!archive_) {
            error_ = error;
            return;
        }
        struct archive_entry* entry = nullptr;
        if (libarchive().read_next_header(archive_.get(), &entry) < ARCHIVE_WARN) {
            error_ = error_text(archive_.get());
            archive_.reset();
            return;
        }
        // With the filter declining, raw would hand over the compressed bytes themselves.
        if (libarchive().filter_count(archive_.get()) < 2 ||
            libarchive().filter_code(archive_.get(), 0) != filter_code(compression)) {
            error_ = std::string("the data starts like a ") + compression_name(compression) +
                     " stream but libarchive does not recognise it as one";
            archive_.reset();
        }
    }

    std::size_t read(std::uint8_t* out, std::size_t n) override {
        if (!archive_ || n == 0) return 0;
        const la_ssize_t got = libarchive().read_data(archive_.get(), out, n);
        if (got > 0) return static_cast<std::size_t>(got);
        if (got < 0) error_ = error_text(archive_.get());
        consumed_ = consumed();
        archive_.reset();
        return 0;
    }

    std::uint64_t consumed() const override {
        if (!archive_) return consumed_;
        const la_int64_t n = libarchive().filter_bytes(archive_.get(), -1);
        return n > 0 ? static_cast<std::uint64_t>(n) : 0;
    }

  private:
    SourceInput input_;
    ArchivePtr archive_;
    std::uint64_t consumed_ = 0;
};

}  // namespace

Compression sniff_compression(Source& source) {
    const auto head = source.view(0, 16);
    if (starts_with(head, "\x1f\x8b\x08")) return Compression::Gzip;
    if (starts_with(head, "BZh") && head.size() >= 4 && head[3] >= '1' && head[3] <= '9')
        return Compression::Bzip2;
    if (starts_with(head, std::string_view("\xfd"
                                           "7zXZ\0",
                                           6)))
        return Compression::Xz;
    if (starts_with(head, "\x28\xb5\x2f\xfd")) return Compression::Zstd;
    if (starts_with(head, "\x04\x22\x4d\x18") || starts_with(head, "\x02\x21\x4c\x18"))
        return Compression::Lz4;
    if (lzma_alone(head)) return Compression::Lzma;
    return Compression::None;
}

std::unique_ptr<Decoder> open_decoder(Source& source, Compression compression) {
    if (compression == Compression::Gzip) return std::make_unique<GzipDecoder>(source);
    return std::make_unique<LibarchiveDecoder>(source, compression);
}

bool StreamSource::restart() {
    decoder_ = open_decoder(compressed_, compression_);
    return decoder_ != nullptr;
}

std::size_t StreamSource::decode(std::uint8_t* out, std::size_t n) {
    return decoder_ ? decoder_->read(out, n) : 0;
}

}  // namespace mscan::archive
