// Fuzz target for the pickle machine: any bytes, scanned as a pickle file end to end
// (machine, rules, finding tidy-up). Must never crash, hang or grow memory without bound.
// Also differential: the data-only fast path must never change what the machine reports.
#include <cstdint>
#include <cstdlib>
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
    std::vector<mscan::Operation> ways[2];
    for (int fast = 0; fast < 2; ++fast) {
        mscan::ByteReader reader(source);
        mscan::pickle::MachineOptions options;
        options.fast_path = fast == 1;
        mscan::pickle::scan_pickle(
            reader, mscan::Location{},
            [&ops = ways[fast]](mscan::Operation&& o) { ops.push_back(std::move(o)); }, options);
    }
    const auto& slow = ways[0];
    const auto& fast = ways[1];
    if (slow.size() != fast.size()) std::abort();
    for (std::size_t i = 0; i < slow.size(); ++i) {
        if (slow[i].kind != fast[i].kind || slow[i].name != fast[i].name ||
            slow[i].evidence != fast[i].evidence ||
            slow[i].location.offset != fast[i].location.offset ||
            slow[i].location.stream != fast[i].location.stream) {
            std::abort();
        }
    }
    return 0;
}
