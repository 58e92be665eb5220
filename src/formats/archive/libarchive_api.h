// libarchive, loaded on first use with dlopen: only tar, 7z and compressed files need it, and
// linking it would make every run pay for mapping its dependencies (libxml2, ICU, nettle,
// libcrypto, ...: most of mscan's start-up time, measured in docs/benchmarks.md). Only its
// headers are used at build time; the library is the one named by the SONAME of the
// libarchive mscan was built against (CMakeLists.txt).
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <string>

namespace mscan::archive {

/// The libarchive entry points mscan calls, each the function of that name.
struct LibarchiveApi {
    bool loaded = false;
    /// Why libarchive could not be loaded (empty when loaded).
    std::string error;

    decltype(&::archive_read_new) read_new = nullptr;
    decltype(&::archive_read_free) read_free = nullptr;
    decltype(&::archive_read_support_format_tar) read_support_format_tar = nullptr;
    decltype(&::archive_read_support_format_7zip) read_support_format_7zip = nullptr;
    decltype(&::archive_read_support_format_raw) read_support_format_raw = nullptr;
    decltype(&::archive_read_support_filter_gzip) read_support_filter_gzip = nullptr;
    decltype(&::archive_read_support_filter_bzip2) read_support_filter_bzip2 = nullptr;
    decltype(&::archive_read_support_filter_xz) read_support_filter_xz = nullptr;
    decltype(&::archive_read_support_filter_lzma) read_support_filter_lzma = nullptr;
    decltype(&::archive_read_support_filter_zstd) read_support_filter_zstd = nullptr;
    decltype(&::archive_read_support_filter_lz4) read_support_filter_lz4 = nullptr;
    decltype(&::archive_read_set_callback_data) read_set_callback_data = nullptr;
    decltype(&::archive_read_set_read_callback) read_set_read_callback = nullptr;
    decltype(&::archive_read_set_skip_callback) read_set_skip_callback = nullptr;
    decltype(&::archive_read_set_seek_callback) read_set_seek_callback = nullptr;
    decltype(&::archive_read_open1) read_open1 = nullptr;
    decltype(&::archive_read_next_header) read_next_header = nullptr;
    decltype(&::archive_read_data) read_data = nullptr;
    decltype(&::archive_read_data_block) read_data_block = nullptr;
    decltype(&::archive_filter_bytes) filter_bytes = nullptr;
    decltype(&::archive_filter_code) filter_code = nullptr;
    decltype(&::archive_filter_count) filter_count = nullptr;
    decltype(&::archive_error_string) error_string = nullptr;
    decltype(&::archive_set_error) set_error = nullptr;
    decltype(&::archive_entry_pathname_utf8) entry_pathname_utf8 = nullptr;
    decltype(&::archive_entry_pathname) entry_pathname = nullptr;
    decltype(&::archive_entry_size) entry_size = nullptr;
    decltype(&::archive_entry_size_is_set) entry_size_is_set = nullptr;
    decltype(&::archive_entry_sparse_count) entry_sparse_count = nullptr;
    decltype(&::archive_entry_hardlink) entry_hardlink = nullptr;
    decltype(&::archive_entry_symlink) entry_symlink = nullptr;
    decltype(&::archive_entry_filetype) entry_filetype = nullptr;
    decltype(&::archive_entry_is_encrypted) entry_is_encrypted = nullptr;
};

/// libarchive's entry points, loaded once, on first use (thread-safe); check `loaded` before
/// calling any of them.
const LibarchiveApi& libarchive();

/// Loads libarchive from `soname`: libarchive() passes the SONAME mscan was built against;
/// tests pass a missing one to check what a scan is told then.
LibarchiveApi load_libarchive(const char* soname);

}  // namespace mscan::archive
