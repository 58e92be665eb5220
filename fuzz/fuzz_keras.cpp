// Fuzz target for the Keras config walker: any bytes, walked as a Keras config (JSON nesting
// check, parse, the walk over nested layers, Lambda decoding through base64 and the marshal
// reader) and scanned end to end as a config.json. Must never crash, hang or grow memory
// without bound.
#include <cstdint>
#include <string_view>
#include <vector>

#include "formats/context.h"
#include "formats/keras/keras_config.h"
#include "mscan/rules.h"
#include "mscan/scan.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const mscan::RuleSet rules = mscan::RuleSet::builtin();
    std::size_t operations = 0;
    mscan::OperationSink sink = [&operations](mscan::Operation&&) { ++operations; };
    mscan::ScanBudget budget;
    mscan::Location base;
    base.chain = {"fuzz.json"};
    mscan::ParseContext context(sink, base, budget);
    mscan::keras::walk_config_json(std::string_view(reinterpret_cast<const char*>(data), size),
                                   "fuzz", context);
    std::vector<std::uint8_t> bytes(data, data + size);
    mscan::MemorySource source(std::move(bytes));
    (void)mscan::scan_source(source, "config.json", rules);
    return 0;
}
