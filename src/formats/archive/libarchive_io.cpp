// libarchive client callbacks over mscan inputs, and the only place archives are opened.
#include "formats/archive/libarchive_io.h"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "mscan/limits.h"

namespace mscan::archive {
namespace {

/// Bytes handed to libarchive per read from a Source.
constexpr std::size_t kBlock = 64 * 1024;

la_ssize_t read_callback(struct archive* a, void* data, const void** block) {
    try {
        return static_cast<Input*>(data)->read(block);
    } catch (...) {
        libarchive().set_error(a, ENOMEM, "out of memory while reading the input");
        return ARCHIVE_FATAL;
    }
}

la_int64_t skip_callback(struct archive*, void* data, la_int64_t request) {
    return static_cast<Input*>(data)->skip(request);
}

la_int64_t seek_callback(struct archive*, void* data, la_int64_t offset, int whence) {
    return static_cast<Input*>(data)->seek(offset, whence);
}

/// Registers the libarchive filter for `c`; its return code says whether libarchive decodes it
/// itself (ARCHIVE_OK) or would run an external program (ARCHIVE_WARN).
int support_filter(struct archive* a, Compression c) {
    const LibarchiveApi& la = libarchive();
    switch (c) {
        case Compression::Gzip:
            return la.read_support_filter_gzip(a);
        case Compression::Bzip2:
            return la.read_support_filter_bzip2(a);
        case Compression::Xz:
            return la.read_support_filter_xz(a);
        case Compression::Lzma:
            return la.read_support_filter_lzma(a);
        case Compression::Zstd:
            return la.read_support_filter_zstd(a);
        case Compression::Lz4:
            return la.read_support_filter_lz4(a);
        case Compression::None:
            return ARCHIVE_OK;
    }
    return ARCHIVE_FATAL;
}

constexpr std::size_t kCompressions = 7;

std::array<bool, kCompressions> probe_filters() {
    std::array<bool, kCompressions> native{};
    const LibarchiveApi& la = libarchive();
    if (!la.loaded) return native;
    for (std::size_t i = 0; i < kCompressions; ++i) {
        struct archive* a = la.read_new();
        if (!a) continue;
        native[i] = support_filter(a, static_cast<Compression>(i)) == ARCHIVE_OK;
        la.read_free(a);
    }
    return native;
}

}  // namespace

const char* compression_name(Compression c) {
    switch (c) {
        case Compression::Gzip:
            return "gzip";
        case Compression::Bzip2:
            return "bzip2";
        case Compression::Xz:
            return "xz";
        case Compression::Lzma:
            return "lzma";
        case Compression::Zstd:
            return "zstd";
        case Compression::Lz4:
            return "lz4";
        case Compression::None:
            return "none";
    }
    return "unknown";
}

bool libarchive_has_filter(Compression c) {
    static const std::array<bool, kCompressions> native = probe_filters();
    const auto i = static_cast<std::size_t>(c);
    return i < kCompressions && native[i];
}

SourceInput::SourceInput(Source& source) : source_(source), block_(kBlock) {}

la_ssize_t SourceInput::read(const void** block) {
    const auto view = source_.view(position_, kBlock);
    if (view.empty()) return 0;
    std::memcpy(block_.data(), view.data(), view.size());
    position_ += view.size();
    served_ += view.size();
    // What was copied out need not stay mapped (a large file read front to back).
    if (position_ > released_ && position_ - released_ >= limits::kReleaseChunk) {
        source_.release(released_, position_ - released_);
        released_ = position_;
    }
    *block = block_.data();
    return static_cast<la_ssize_t>(view.size());
}

la_int64_t SourceInput::skip(la_int64_t request) {
    if (request <= 0 || position_ >= source_.size()) return 0;
    const std::uint64_t left = source_.size() - position_;
    const std::uint64_t n =
        static_cast<std::uint64_t>(request) < left ? static_cast<std::uint64_t>(request) : left;
    position_ += n;
    return static_cast<la_int64_t>(n);
}

la_int64_t SourceInput::seek(la_int64_t offset, int whence) {
    const auto size = static_cast<la_int64_t>(source_.size());
    la_int64_t base = 0;
    if (whence == SEEK_CUR) {
        base = static_cast<la_int64_t>(position_);
    } else if (whence == SEEK_END) {
        base = size;
    } else if (whence != SEEK_SET) {
        return ARCHIVE_FATAL;
    }
    // base and size are at most the source size, so only `offset` can overflow the sum.
    if ((offset > 0 && offset > size - base) || (offset < 0 && offset < -base))
        return ARCHIVE_FATAL;
    position_ = static_cast<std::uint64_t>(base + offset);
    return static_cast<la_int64_t>(position_);
}

std::string error_text(struct archive* a) {
    // An archive exists only when libarchive is loaded.
    const char* text = a ? libarchive().error_string(a) : nullptr;
    return text && *text ? text : "libarchive gave no reason";
}

ArchivePtr open_archive(Input& input, Layout layout, Compression compression, std::string& error) {
    const LibarchiveApi& la = libarchive();
    if (!la.loaded) {
        error = la.error;
        return nullptr;
    }
    ArchivePtr a(la.read_new());
    if (!a) {
        error = "libarchive could not be initialised";
        return nullptr;
    }
    int rc = ARCHIVE_OK;
    switch (layout) {
        case Layout::Tar:
            rc = la.read_support_format_tar(a.get());
            break;
        case Layout::SevenZip:
            rc = la.read_support_format_7zip(a.get());
            break;
        case Layout::Raw:
            rc = la.read_support_format_raw(a.get());
            // Only filters libarchive runs in-process are ever registered (an ARCHIVE_WARN
            // here would mean an external program).
            if (rc == ARCHIVE_OK && !libarchive_has_filter(compression)) {
                error = std::string("this libarchive build has no ") +
                        compression_name(compression) + " decoder";
                return nullptr;
            }
            if (rc == ARCHIVE_OK) rc = support_filter(a.get(), compression);
            break;
    }
    if (rc != ARCHIVE_OK) {
        error = error_text(a.get());
        return nullptr;
    }
    la.read_set_callback_data(a.get(), &input);
    la.read_set_read_callback(a.get(), read_callback);
    if (input.seekable()) {
        la.read_set_skip_callback(a.get(), skip_callback);
        la.read_set_seek_callback(a.get(), seek_callback);
    }
    if (la.read_open1(a.get()) < ARCHIVE_WARN) {
        error = error_text(a.get());
        return nullptr;
    }
    return a;
}

}  // namespace mscan::archive
