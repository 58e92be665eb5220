// Fuzz target for the pickle machine: any bytes, scanned as a pickle file end to end
// (machine, rules, finding tidy-up). Must never crash, hang or grow memory without bound.
#include <cstdint>
#include <vector>

#include "formats/pickle/pickle_machine.h"
#include "mscan/rules.h"
#include "mscan/scan.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const mscan::RuleSet rules = mscan::RuleSet::builtin();
    std::vector<std::uint8_t> bytes(data, data + size);
    mscan::MemorySource source(std::move(bytes));
    // Through detection (as a file named .pkl, so any first opcode is accepted)...
    (void)mscan::scan_source(source, "fuzz.pkl", rules);
    // ...and straight through the machine, whatever detection says.
    mscan::ByteReader reader(source);
    std::size_t ops = 0;
    mscan::pickle::scan_pickle(reader, mscan::Location{}, [&ops](mscan::Operation&&) { ++ops; });
    return 0;
}
