// Fuzz target for the zip reader: any bytes, read as a zip archive (end records, central
// directory, local headers, member extraction and inflation, members back through detection),
// and scanned end to end as a file. Must never crash, hang or grow memory without bound.
#include <cstdint>
#include <vector>

#include "mscan/rules.h"
#include "mscan/scan.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const mscan::RuleSet rules = mscan::RuleSet::builtin();
    std::vector<std::uint8_t> bytes(data, data + size);
    mscan::MemorySource source(std::move(bytes));
    // As a file: detection, the zip reader (or the pickle machine plus the appended-zip check
    // for polyglots), members back through detection. Scanning it once keeps the slowest
    // legal input (a 64 KiB member that inflates to the 16 MiB ratio check) well inside
    // libFuzzer's per-input timeout.
    (void)mscan::scan_source(source, "fuzz.pt", rules);
    return 0;
}
