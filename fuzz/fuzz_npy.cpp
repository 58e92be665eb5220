// Fuzz target for the .npy reader: any bytes, read as a NumPy file (magic, version, header
// literal, dtype, shape, object-array pickle) and scanned end to end as a file named .npy.
// The same bytes also go straight to the Python literal parser (as the header text), the
// pickle content probe and joblib's ZF reader, which detection reaches only for some inputs.
// Must never crash, hang or grow memory without bound.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "formats/npy/npy_format.h"
#include "formats/npy/py_literal.h"
#include "formats/pickle/pickle_detect.h"
#include "mscan/rules.h"
#include "mscan/scan.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const mscan::RuleSet rules = mscan::RuleSet::builtin();
    std::vector<std::uint8_t> bytes(data, data + size);
    mscan::MemorySource source(std::move(bytes));
    (void)mscan::scan_source(source, "fuzz.npy", rules);
    std::string error;
    (void)mscan::numpy::parse_header(source, error);
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    for (const bool utf8 : {false, true}) {
        mscan::numpy::PyValue value;
        mscan::numpy::PyLiteralOptions options;
        options.utf8 = utf8;
        options.drop_long_suffix = !utf8;
        if (mscan::numpy::parse_py_literal(text, options, value, error))
            (void)mscan::numpy::render_py(value);
    }
    (void)mscan::pickle::plausible_pickle(source);
    (void)mscan::scan_source(source, "fuzz", rules);  // no name: detection by content only
    return 0;
}
