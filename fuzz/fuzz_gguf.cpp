// Fuzz target for the GGUF reader: any bytes, read as a GGUF file (header, metadata of every
// value type, nested arrays, tensor infos, layout, chat templates in metadata) and scanned end
// to end as a file named .gguf. Must never crash, hang, or allocate from a declared count.
#include <cstdint>
#include <vector>

#include "formats/context.h"
#include "formats/gguf/gguf_format.h"
#include "mscan/rules.h"
#include "mscan/scan.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const mscan::RuleSet rules = mscan::RuleSet::builtin();
    std::vector<std::uint8_t> bytes(data, data + size);
    mscan::MemorySource source(std::move(bytes));
    (void)mscan::scan_source(source, "fuzz.gguf", rules);
    return 0;
}
