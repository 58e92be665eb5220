// Fuzz target for the zlib format (joblib's .z compression): any bytes, detected (header check
// and a probe of the decompressed head) and parsed (decompressed under the caps and handed back
// to detection), then scanned end to end as model.joblib.z. Must never crash, hang or grow
// memory without bound.
#include <cstdint>
#include <vector>

#include "formats/context.h"
#include "formats/zlib/zlib_format.h"
#include "mscan/rules.h"
#include "mscan/scan.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const mscan::RuleSet rules = mscan::RuleSet::builtin();
    mscan::MemorySource source(std::vector<std::uint8_t>(data, data + size));
    if (mscan::zlib::detect(source, ".z")) {
        std::size_t operations = 0;
        const mscan::OperationSink sink = [&operations](mscan::Operation&&) { ++operations; };
        mscan::ScanBudget budget;
        mscan::Location base;
        base.chain = {"fuzz.joblib.z"};
        const mscan::ParseContext context(sink, base, budget);
        mscan::zlib::parse(source, context);
    }
    (void)mscan::scan_source(source, "model.joblib.z", rules);
    return 0;
}
