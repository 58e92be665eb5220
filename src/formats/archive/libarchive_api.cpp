// dlopen of libarchive's runtime library (Debian's libarchive13, which libarchive-dev pulls in).
#include "formats/archive/libarchive_api.h"

#include "util/shared_library.h"

#ifndef MSCAN_LIBARCHIVE_SONAME
#error \
    "MSCAN_LIBARCHIVE_SONAME (the SONAME of the libarchive built against) comes from CMakeLists.txt"
#endif

namespace mscan::archive {
namespace {

void bind_all(SharedLibrary& lib, LibarchiveApi& api) {
    lib.bind(api.read_new, "archive_read_new");
    lib.bind(api.read_free, "archive_read_free");
    lib.bind(api.read_support_format_tar, "archive_read_support_format_tar");
    lib.bind(api.read_support_format_7zip, "archive_read_support_format_7zip");
    lib.bind(api.read_support_format_raw, "archive_read_support_format_raw");
    lib.bind(api.read_support_filter_gzip, "archive_read_support_filter_gzip");
    lib.bind(api.read_support_filter_bzip2, "archive_read_support_filter_bzip2");
    lib.bind(api.read_support_filter_xz, "archive_read_support_filter_xz");
    lib.bind(api.read_support_filter_lzma, "archive_read_support_filter_lzma");
    lib.bind(api.read_support_filter_zstd, "archive_read_support_filter_zstd");
    lib.bind(api.read_support_filter_lz4, "archive_read_support_filter_lz4");
    lib.bind(api.read_set_callback_data, "archive_read_set_callback_data");
    lib.bind(api.read_set_read_callback, "archive_read_set_read_callback");
    lib.bind(api.read_set_skip_callback, "archive_read_set_skip_callback");
    lib.bind(api.read_set_seek_callback, "archive_read_set_seek_callback");
    lib.bind(api.read_open1, "archive_read_open1");
    lib.bind(api.read_next_header, "archive_read_next_header");
    lib.bind(api.read_data, "archive_read_data");
    lib.bind(api.read_data_block, "archive_read_data_block");
    lib.bind(api.filter_bytes, "archive_filter_bytes");
    lib.bind(api.filter_code, "archive_filter_code");
    lib.bind(api.filter_count, "archive_filter_count");
    lib.bind(api.error_string, "archive_error_string");
    lib.bind(api.set_error, "archive_set_error");
    lib.bind(api.entry_pathname_utf8, "archive_entry_pathname_utf8");
    lib.bind(api.entry_pathname, "archive_entry_pathname");
    lib.bind(api.entry_size, "archive_entry_size");
    lib.bind(api.entry_size_is_set, "archive_entry_size_is_set");
    lib.bind(api.entry_sparse_count, "archive_entry_sparse_count");
    lib.bind(api.entry_hardlink, "archive_entry_hardlink");
    lib.bind(api.entry_symlink, "archive_entry_symlink");
    lib.bind(api.entry_filetype, "archive_entry_filetype");
    lib.bind(api.entry_is_encrypted, "archive_entry_is_encrypted");
}

}  // namespace

LibarchiveApi load_libarchive(const char* soname) {
    return load_api(soname, "libarchive", bind_all);
}

const LibarchiveApi& libarchive() {
    static const LibarchiveApi api = load_libarchive(MSCAN_LIBARCHIVE_SONAME);
    return api;
}

}  // namespace mscan::archive
