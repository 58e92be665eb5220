// libarchive reads through mscan's own inputs, never by opening a path: a Source (seekable, so
// 7z works, and in-memory members such as a tar inside a zip read the same way as files) or a
// stream of decompressed bytes. Only the formats and filters named here are enabled: nothing
// that would make libarchive start an external program. libarchive itself is loaded on first
// use (libarchive_api.h): open_archive() fails with its loader's error when it cannot be.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "formats/archive/libarchive_api.h"
#include "mscan/source.h"

namespace mscan::archive {

/// Single-stream compressions mscan recognises by their magic bytes.
enum class Compression { None, Gzip, Bzip2, Xz, Lzma, Zstd, Lz4 };

/// Short name for reports ("gzip").
const char* compression_name(Compression c);

/// Whether this build of libarchive decompresses `c` in-process (checked once at run time;
/// a filter libarchive would hand to an external program counts as missing).
bool libarchive_has_filter(Compression c);

/// What libarchive reads from. Blocks it returns stay valid until the next read.
class Input {
  public:
    virtual ~Input() = default;
    /// The next block of bytes: how many (0 at the end), or ARCHIVE_FATAL.
    virtual la_ssize_t read(const void** block) = 0;
    /// Bytes of the underlying input (compressed, where it is) taken so far: what a
    /// compression ratio is measured against.
    virtual std::uint64_t consumed() const = 0;
    /// Skips forward without reading; 0 when it cannot (libarchive then reads instead).
    virtual la_int64_t skip(la_int64_t /*request*/) { return 0; }
    /// Random access (7z needs it): the new position, or ARCHIVE_FATAL when not seekable.
    virtual la_int64_t seek(la_int64_t /*offset*/, int /*whence*/) { return ARCHIVE_FATAL; }
    virtual bool seekable() const { return false; }
};

/// A Source as libarchive input: copied out block by block (a view may not outlive the next
/// view of its source, and members are scanned while libarchive holds its block), with skip
/// and seek.
class SourceInput final : public Input {
  public:
    explicit SourceInput(Source& source);
    la_ssize_t read(const void** block) override;
    std::uint64_t consumed() const override { return served_; }
    la_int64_t skip(la_int64_t request) override;
    la_int64_t seek(la_int64_t offset, int whence) override;
    bool seekable() const override { return true; }

  private:
    Source& source_;
    std::uint64_t position_ = 0;
    std::uint64_t served_ = 0;    ///< bytes handed to libarchive, re-reads included
    std::uint64_t released_ = 0;  ///< input before this offset was released
    std::vector<std::uint8_t> block_;
};

struct ArchiveFree {
    /// Only archives libarchive().read_new made are held, so libarchive is loaded here.
    void operator()(struct archive* a) const { libarchive().read_free(a); }
};
using ArchivePtr = std::unique_ptr<struct archive, ArchiveFree>;

/// What to open the input as.
enum class Layout {
    Tar,       ///< tar (ustar, pax, GNU, v7), no decompression filter
    SevenZip,  ///< 7z (needs a seekable input)
    Raw,       ///< one compressed stream, decompressed by libarchive's filter for `compression`
};

/// Opens `input` with libarchive. On failure returns nullptr and sets `error` to what
/// libarchive said (or why it could not be loaded). `input` must outlive the archive.
ArchivePtr open_archive(Input& input, Layout layout, Compression compression, std::string& error);

/// libarchive's last error message for `a`, or a placeholder when it gave none.
std::string error_text(struct archive* a);

}  // namespace mscan::archive
