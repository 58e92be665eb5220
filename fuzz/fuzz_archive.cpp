// Fuzz target for the libarchive-based readers: any bytes, scanned end to end as a file (tar,
// 7z, gzip/bzip2/xz/lzma/zstd/lz4 streams, compressed tars, members back through detection),
// then read as a tar whatever its first bytes, so that libarchive's tar reader and the
// in-place member windows see inputs without a valid first header too. Must never crash, hang
// or grow memory without bound.
#include <cstdint>
#include <vector>

#include "formats/archive/archive_format.h"
#include "mscan/rules.h"
#include "mscan/scan.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const mscan::RuleSet rules = mscan::RuleSet::builtin();
    std::vector<std::uint8_t> bytes(data, data + size);
    mscan::MemorySource source(std::move(bytes));
    (void)mscan::scan_source(source, "fuzz.tar.gz", rules);

    const mscan::OperationSink sink = [](mscan::Operation&&) {};
    mscan::ScanBudget budget;
    mscan::Location base;
    base.chain.emplace_back("fuzz.tar");
    const mscan::ParseContext context(sink, base, budget);
    mscan::archive::parse_tar(source, context);
    return 0;
}
