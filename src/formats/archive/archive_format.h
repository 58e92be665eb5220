// tar (ustar, pax, GNU), 7z and single-stream compressed files (gzip, bzip2, xz, lzma, zstd,
// lz4), read with libarchive through mscan's Source. Every regular member goes back to
// detection through ParseContext::scan_member; a compressed tar (tar.gz, tar.xz, ...) is read
// as one archive, any other compressed stream is one member named after the file.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "formats/context.h"
#include "mscan/source.h"

namespace mscan::archive {

/// Starts with a tar header: "ustar" at offset 257, or a header whose checksum adds up.
bool detect_tar(Source& source, std::string_view extension);
/// Starts with the 7z signature.
bool detect_7z(Source& source, std::string_view extension);
/// Start with the magic bytes of their compression.
bool detect_gzip(Source& source, std::string_view extension);
bool detect_bzip2(Source& source, std::string_view extension);
bool detect_xz(Source& source, std::string_view extension);
bool detect_lzma(Source& source, std::string_view extension);
bool detect_zstd(Source& source, std::string_view extension);
bool detect_lz4(Source& source, std::string_view extension);

/// Scans every member of a tar archive; members of an uncompressed tar are read in place.
void parse_tar(Source& source, const ParseContext& context);
/// Scans every member of a 7z archive.
void parse_7z(Source& source, const ParseContext& context);
/// Decompresses the stream under the caps; reads it as a tar if it is one, otherwise scans
/// it as one member.
void parse_compressed(Source& source, const ParseContext& context);

/// Whether `block` (the first 512 bytes of something) is a plausible tar header.
bool looks_like_tar_header(std::span<const std::uint8_t> block);

}  // namespace mscan::archive
