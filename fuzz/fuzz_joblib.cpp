// Fuzz target for joblib streams: any bytes, scanned as a file named .joblib, so that the
// NumpyArrayWrapper handling (dtype and shape from the wrapper's state, alignment padding,
// array bytes skipped by length, nested object-array pickles) runs on hostile input, seeded
// with real joblib dumps. Must never crash, hang or grow memory without bound.
#include <cstdint>
#include <vector>

#include "mscan/rules.h"
#include "mscan/scan.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const mscan::RuleSet rules = mscan::RuleSet::builtin();
    std::vector<std::uint8_t> bytes(data, data + size);
    mscan::MemorySource source(std::move(bytes));
    (void)mscan::scan_source(source, "fuzz.joblib", rules);
    return 0;
}
