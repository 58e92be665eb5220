// Fuzz target for word2vec recognition: any bytes, as a file named vectors.bin (header, first
// record, then the appended-zip check every non-zip format gets). Must never crash or hang.
#include <cstdint>
#include <vector>

#include "mscan/rules.h"
#include "mscan/scan.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const mscan::RuleSet rules = mscan::RuleSet::builtin();
    std::vector<std::uint8_t> bytes(data, data + size);
    mscan::MemorySource source(std::move(bytes));
    (void)mscan::scan_source(source, "vectors.bin", rules);
    return 0;
}
