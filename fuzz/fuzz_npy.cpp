// Fuzz target for the .npy reader: any bytes, read as a NumPy file (magic, version, header
// literal, dtype, shape, object-array pickle) and scanned end to end as a file named .npy.
// Must never crash, hang or grow memory without bound.
#include <cstdint>
#include <string>
#include <vector>

#include "formats/numpy/npy_format.h"
#include "mscan/rules.h"
#include "mscan/scan.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const mscan::RuleSet rules = mscan::RuleSet::builtin();
    std::vector<std::uint8_t> bytes(data, data + size);
    mscan::MemorySource source(std::move(bytes));
    (void)mscan::scan_source(source, "fuzz.npy", rules);
    std::string error;
    (void)mscan::numpy::parse_header(source, error);
    return 0;
}
