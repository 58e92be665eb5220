// A C library mscan opens with dlopen when a format first needs it, instead of linking it:
// linking makes the dynamic loader map the library and everything it depends on at every
// start, whatever is scanned (libarchive alone brings libxml2, ICU, nettle and libcrypto).
#pragma once

#include <string>

namespace mscan {

/// A shared library opened with dlopen; its entry points are looked up by name into typed
/// function pointers. The library stays mapped for the rest of the process (its functions may
/// be called at any time), so there is no close.
class SharedLibrary {
  public:
    /// Opens `soname` (the name the library was linked under at build time, e.g.
    /// "libarchive.so.13"), resolving all its symbols now. When that fails, opened() is false
    /// and error() says why, in the dynamic loader's words.
    explicit SharedLibrary(const char* soname);

    bool opened() const { return handle_ != nullptr; }

    /// Looks `symbol` up into `slot` (nullptr when missing; error() then names it).
    template <class Function>
    void bind(Function*& slot, const char* symbol) {
        slot = reinterpret_cast<Function*>(lookup(symbol));
    }

    /// Why the library could not be opened, or the symbols it lacks; empty when all is well.
    const std::string& error() const { return error_; }

  private:
    void* lookup(const char* symbol);

    std::string soname_;
    void* handle_ = nullptr;
    std::string error_;
};

/// A table of entry points (a struct with `loaded`, `error` and one function pointer per entry
/// point) filled from `soname` by `bind_all`. `loaded` is set only when the library opened and
/// every symbol was found; otherwise the table is left empty and `error` says
/// "<what> could not be loaded (<why>)".
template <class Api>
Api load_api(const char* soname, const char* what, void (*bind_all)(SharedLibrary&, Api&)) {
    Api api;
    SharedLibrary lib(soname);
    if (lib.opened()) bind_all(lib, api);
    if (!lib.error().empty()) {
        api = Api{};  // a partly bound table is never used
        api.error = std::string(what) + " could not be loaded (" + lib.error() + ")";
        return api;
    }
    api.loaded = true;
    return api;
}

}  // namespace mscan
