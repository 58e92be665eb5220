// Fuzz target for the safetensors header reader: any bytes, scanned end to end as a file named
// .safetensors (so detection by name is exercised too), then read by the parser directly and
// through the head_suffices check containers use. Must never crash, hang or grow memory
// without bound.
#include <cstdint>
#include <vector>

#include "formats/context.h"
#include "formats/safetensors/safetensors_format.h"
#include "mscan/rules.h"
#include "mscan/scan.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const mscan::RuleSet rules = mscan::RuleSet::builtin();
    std::vector<std::uint8_t> bytes(data, data + size);
    mscan::MemorySource source(std::move(bytes));
    (void)mscan::scan_source(source, "fuzz.safetensors", rules);
    (void)mscan::safetensors::head_suffices(source);
    if (size >= 10 && mscan::safetensors::detect(source, "")) {
        std::uint64_t operations = 0;
        const mscan::OperationSink sink = [&operations](mscan::Operation&&) { ++operations; };
        mscan::ScanBudget budget;
        const mscan::ParseContext context(sink, mscan::Location{}, budget);
        mscan::safetensors::parse(source, context);
        // The anomaly cap: at most 8 per code plus one count each, and the summary.
        if (operations > 2 * 9 + 1) __builtin_trap();
    }
    return 0;
}
