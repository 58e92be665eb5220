// Fuzz target for the legacy torch.save reader: the input follows the magic-number pickle, so
// every input reaches the five-pickle walk, the storage-keys decoder and the storage-area
// checks. Must never crash, hang or grow memory without bound.
#include <cstdint>
#include <vector>

#include "mscan/rules.h"
#include "mscan/scan.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const mscan::RuleSet rules = mscan::RuleSet::builtin();
    static const std::uint8_t kMagic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46,
                                          0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e};
    std::vector<std::uint8_t> bytes(kMagic, kMagic + sizeof kMagic);
    bytes.insert(bytes.end(), data, data + size);
    mscan::MemorySource source(std::move(bytes));
    (void)mscan::scan_source(source, "fuzz.pt", rules);
    return 0;
}
