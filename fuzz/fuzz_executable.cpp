// Fuzz target for the executable format: any bytes, detected and parsed as a native executable
// or shared library (ELF, PE, Mach-O, Actually Portable Executable headers) with the zip search
// at its end, then scanned end to end as a file named model.llamafile. Must never crash, hang or
// grow memory without bound.
#include <cstdint>
#include <vector>

#include "formats/context.h"
#include "formats/executable/executable_format.h"
#include "mscan/rules.h"
#include "mscan/scan.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const mscan::RuleSet rules = mscan::RuleSet::builtin();
    mscan::MemorySource source(std::vector<std::uint8_t>(data, data + size));
    if (mscan::executable::detect(source, ".llamafile")) {
        std::size_t operations = 0;
        const mscan::OperationSink sink = [&operations](mscan::Operation&&) { ++operations; };
        mscan::ScanBudget budget;
        mscan::Location base;
        base.chain = {"fuzz.llamafile"};
        const mscan::ParseContext context(sink, base, budget);
        mscan::executable::parse(source, context);
    }
    (void)mscan::scan_source(source, "model.llamafile", rules);
    return 0;
}
