// dlopen of libzip's runtime library (Debian's libzip4, which libzip-dev pulls in).
#include "formats/zip/libzip_api.h"

#include "util/shared_library.h"

#ifndef MSCAN_LIBZIP_SONAME
#error "MSCAN_LIBZIP_SONAME (the SONAME of the libzip built against) comes from CMakeLists.txt"
#endif

namespace mscan::zip {
namespace {

void bind_all(SharedLibrary& lib, LibzipApi& api) {
    lib.bind(api.error_init, "zip_error_init");
    lib.bind(api.error_fini, "zip_error_fini");
    lib.bind(api.error_set, "zip_error_set");
    lib.bind(api.error_strerror, "zip_error_strerror");
    lib.bind(api.error_to_data, "zip_error_to_data");
    lib.bind(api.source_function_create, "zip_source_function_create");
    lib.bind(api.source_free, "zip_source_free");
    lib.bind(api.source_make_command_bitmap, "zip_source_make_command_bitmap");
    lib.bind(api.source_seek_compute_offset, "zip_source_seek_compute_offset");
    lib.bind(api.stat_init, "zip_stat_init");
    lib.bind(api.open_from_source, "zip_open_from_source");
    lib.bind(api.get_num_entries, "zip_get_num_entries");
    lib.bind(api.get_name, "zip_get_name");
    lib.bind(api.discard, "zip_discard");
}

}  // namespace

LibzipApi load_libzip(const char* soname) {
    return load_api(soname, "libzip", bind_all);
}

const LibzipApi& libzip() {
    static const LibzipApi api = load_libzip(MSCAN_LIBZIP_SONAME);
    return api;
}

}  // namespace mscan::zip
