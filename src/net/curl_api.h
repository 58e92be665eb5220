// libcurl, loaded on first use with dlopen: only hf:// scans need it, and linking it would make
// every run pay for mapping its dependencies (TLS, HTTP/2, SSH, LDAP, ...: about 12 ms at
// start-up, measured in docs/benchmarks.md).
#pragma once

#include <curl/curl.h>

#include <string>

namespace mscan::hub {

struct CurlApi {
    bool loaded = false;
    /// Why libcurl could not be loaded (empty when loaded).
    std::string error;
    decltype(&::curl_global_init) global_init = nullptr;
    decltype(&::curl_easy_init) easy_init = nullptr;
    decltype(&::curl_easy_cleanup) easy_cleanup = nullptr;
    decltype(&::curl_easy_reset) easy_reset = nullptr;
    decltype(&::curl_easy_setopt) easy_setopt = nullptr;
    decltype(&::curl_easy_perform) easy_perform = nullptr;
    decltype(&::curl_easy_getinfo) easy_getinfo = nullptr;
    decltype(&::curl_easy_strerror) easy_strerror = nullptr;
    decltype(&::curl_free) free = nullptr;
    decltype(&::curl_share_init) share_init = nullptr;
    decltype(&::curl_share_setopt) share_setopt = nullptr;
    decltype(&::curl_share_cleanup) share_cleanup = nullptr;
    decltype(&::curl_slist_append) slist_append = nullptr;
    decltype(&::curl_slist_free_all) slist_free_all = nullptr;
    decltype(&::curl_url) url = nullptr;
    decltype(&::curl_url_cleanup) url_cleanup = nullptr;
    decltype(&::curl_url_get) url_get = nullptr;
    decltype(&::curl_url_set) url_set = nullptr;
};

/// libcurl's entry points, loaded (and curl_global_init called) once; check `loaded`.
const CurlApi& curl_api();

}  // namespace mscan::hub
