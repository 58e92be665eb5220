// Fuzz target for the zip reader: any bytes, read as a zip archive (end records, central
// directory, local headers, member extraction and inflation, members back through detection),
// and scanned end to end as a file. Must never crash, hang or grow memory without bound.
#include <cstdint>
#include <vector>

#include "formats/context.h"
#include "formats/zip/zip_format.h"
#include "mscan/rules.h"
#include "mscan/scan.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const mscan::RuleSet rules = mscan::RuleSet::builtin();
    std::vector<std::uint8_t> bytes(data, data + size);
    mscan::MemorySource source(std::move(bytes));
    (void)mscan::scan_source(source, "fuzz.pt", rules);
    std::size_t ops = 0;
    const mscan::OperationSink sink = [&ops](mscan::Operation&&) { ++ops; };
    mscan::ScanBudget budget;
    mscan::Location base;
    base.chain.push_back("fuzz.zip");
    const mscan::ParseContext context(sink, base, budget);
    mscan::zip::parse(source, context);
    mscan::zip::scan_appended(source, context, "pickle");
    return 0;
}
