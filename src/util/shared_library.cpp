// dlopen and dlsym, with the loader's error text kept for the report.
#include "util/shared_library.h"

#include <dlfcn.h>

namespace mscan {

SharedLibrary::SharedLibrary(const char* soname) : soname_(soname) {
    // RTLD_LOCAL: the library's symbols are not offered to anything loaded after it.
    handle_ = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!handle_) {
        const char* why = ::dlerror();
        error_ = why ? why : soname_ + ": cannot be opened";
    }
}

void* SharedLibrary::lookup(const char* symbol) {
    if (!handle_) return nullptr;
    void* address = ::dlsym(handle_, symbol);
    if (!address) error_ += (error_.empty() ? soname_ + " lacks " : ", ") + symbol;
    return address;
}

}  // namespace mscan
