// dlopen of libcurl's runtime library (Debian's libcurl4, which libcurl4-openssl-dev pulls in).
#include "net/curl_api.h"

#include <dlfcn.h>

#include <mutex>

namespace mscan::hub {
namespace {

CurlApi load() {
    CurlApi api;
    void* lib = nullptr;
    for (const char* name : {"libcurl.so.4", "libcurl-gnutls.so.4", "libcurl.so"}) {
        lib = ::dlopen(name, RTLD_NOW | RTLD_LOCAL);
        if (lib) break;
    }
    if (!lib) {
        const char* why = ::dlerror();
        api.error = std::string("libcurl could not be loaded (") + (why ? why : "not found") +
                    "); install it (Debian: apt-get install libcurl4) to scan hf:// targets";
        return api;
    }
    bool all = true;
    auto get = [&](auto& slot, const char* symbol) {
        slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(::dlsym(lib, symbol));
        all = all && slot != nullptr;
    };
    get(api.global_init, "curl_global_init");
    get(api.easy_init, "curl_easy_init");
    get(api.easy_cleanup, "curl_easy_cleanup");
    get(api.easy_reset, "curl_easy_reset");
    get(api.easy_setopt, "curl_easy_setopt");
    get(api.easy_perform, "curl_easy_perform");
    get(api.easy_getinfo, "curl_easy_getinfo");
    get(api.easy_strerror, "curl_easy_strerror");
    get(api.free, "curl_free");
    get(api.share_init, "curl_share_init");
    get(api.share_setopt, "curl_share_setopt");
    get(api.share_cleanup, "curl_share_cleanup");
    get(api.slist_append, "curl_slist_append");
    get(api.slist_free_all, "curl_slist_free_all");
    get(api.url, "curl_url");
    get(api.url_cleanup, "curl_url_cleanup");
    get(api.url_get, "curl_url_get");
    get(api.url_set, "curl_url_set");
    if (!all) {
        api.error = "the libcurl found is too old (curl 7.85 or later is needed for hf:// targets)";
        return api;  // the library stays mapped; nothing else uses it
    }
    if (api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        api.error = "libcurl failed to initialise";
        return api;
    }
    api.loaded = true;
    return api;
}

}  // namespace

const CurlApi& curl_api() {
    static const CurlApi api = load();  // thread-safe initialisation
    return api;
}

}  // namespace mscan::hub
