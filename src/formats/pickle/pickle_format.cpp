// Raw pickle files: detection by content, then every back-to-back stream through the machine.
#include "formats/pickle/pickle_format.h"

#include <array>

#include "formats/pickle/pickle_machine.h"
#include "formats/pickle/torch_legacy.h"

namespace mscan::pickle {

bool detect(Source& source, std::string_view extension) {
    static constexpr std::array<std::string_view, 13> kPickleExtensions = {
        ".pkl", ".pickle", ".pt", ".pth",  ".bin", ".ckpt", ".joblib",
        ".dat", ".data",   ".p",  ".dill", ".sav", ".pck"};
    bool suggested = false;
    for (auto e : kPickleExtensions)
        suggested = suggested || e == extension;
    return looks_like_pickle(source, suggested);
}

void parse(Source& source, const ParseContext& context) {
    if (is_torch_legacy(source)) {
        scan_torch_legacy(source, context);
        return;
    }
    ByteReader reader(source);
    scan_pickle(reader, context.base(), context.sink());
}

}  // namespace mscan::pickle
