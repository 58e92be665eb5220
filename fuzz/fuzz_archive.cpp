// Fuzz target for the libarchive-based readers: any bytes, scanned end to end as a file (tar,
// 7z, gzip/bzip2/xz/lzma/zstd/lz4 streams, compressed tars, members back through detection),
// then read as a tar whatever its first bytes, so that libarchive's tar reader and the
// in-place member windows see inputs without a valid first header too. Must never crash, hang
// or grow memory without bound, and must never drop a tar member without a word: every member
// libarchive lists on its own is in the member ledger (unless the walk stopped early, which is
// reported).
#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "formats/archive/archive_format.h"
#include "formats/context.h"
#include "mscan/rules.h"
#include "mscan/scan.h"

namespace {

/// Member names as libarchive's tar reader lists them, up to its first error.
std::vector<std::string> list_tar(const std::uint8_t* data, std::size_t size) {
    std::vector<std::string> names;
    struct archive* a = archive_read_new();
    archive_read_support_format_tar(a);
    if (archive_read_open_memory(a, data, size) == ARCHIVE_OK) {
        struct archive_entry* e = nullptr;
        while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
            const char* name = archive_entry_pathname_utf8(e);
            if (!name) name = archive_entry_pathname(e);
            if (name && *name) names.emplace_back(name);
        }
    }
    archive_read_free(a);
    return names;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const mscan::RuleSet rules = mscan::RuleSet::builtin();
    std::vector<std::uint8_t> bytes(data, data + size);
    mscan::MemorySource source(std::move(bytes));
    (void)mscan::scan_source(source, "fuzz.tar.gz", rules);

    const mscan::OperationSink sink = [](mscan::Operation&&) {};
    mscan::MemberLedger ledger;
    mscan::ScanBudget budget;
    budget.ledger = &ledger;
    mscan::Location base;
    base.chain.emplace_back("fuzz.tar");
    const mscan::ParseContext context(sink, base, budget);
    mscan::archive::parse_tar(source, context);
    if (ledger.stopped_early) return 0;  // a cap, a bomb or damage ended the walk (reported)
    for (const auto& name : list_tar(data, size)) {
        const bool accounted =
            std::any_of(ledger.records.begin(), ledger.records.end(),
                        [&](const auto& r) { return r.chain.size() == 2 && r.chain[1] == name; });
        if (!accounted) {
            std::fprintf(stderr, "tar member dropped without a word: '%s'\n", name.c_str());
            std::abort();
        }
    }
    return 0;
}
