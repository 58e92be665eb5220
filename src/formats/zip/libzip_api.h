// libzip, loaded on first use with dlopen: only zip archives need it (for a second opinion on
// their directory), and linking it would make every run pay for mapping it and libcrypto.
// Only its headers are used at build time; the library is the one named by the SONAME of the
// libzip mscan was built against (CMakeLists.txt).
#pragma once

#include <zip.h>

#include <string>

namespace mscan::zip {

/// The libzip entry points mscan calls, each the function of that name.
struct LibzipApi {
    bool loaded = false;
    /// Why libzip could not be loaded (empty when loaded).
    std::string error;

    decltype(&::zip_error_init) error_init = nullptr;
    decltype(&::zip_error_fini) error_fini = nullptr;
    decltype(&::zip_error_set) error_set = nullptr;
    decltype(&::zip_error_strerror) error_strerror = nullptr;
    decltype(&::zip_error_to_data) error_to_data = nullptr;
    decltype(&::zip_source_function_create) source_function_create = nullptr;
    decltype(&::zip_source_free) source_free = nullptr;
    decltype(&::zip_source_make_command_bitmap) source_make_command_bitmap = nullptr;
    decltype(&::zip_source_seek_compute_offset) source_seek_compute_offset = nullptr;
    decltype(&::zip_stat_init) stat_init = nullptr;
    decltype(&::zip_open_from_source) open_from_source = nullptr;
    decltype(&::zip_get_num_entries) get_num_entries = nullptr;
    decltype(&::zip_get_name) get_name = nullptr;
    decltype(&::zip_discard) discard = nullptr;
};

/// libzip's entry points, loaded once, on first use (thread-safe); check `loaded` before
/// calling any of them.
const LibzipApi& libzip();

/// Loads libzip from `soname`: libzip() passes the SONAME mscan was built against; tests pass
/// a missing one to check what a scan is told then.
LibzipApi load_libzip(const char* soname);

}  // namespace mscan::zip
