// Fuzz target for the zip reader: any bytes, read as a zip archive (end records, central
// directory, local headers, member extraction and inflation, members back through detection),
// and scanned end to end as a file. Must never crash, hang or grow memory without bound, and
// must never drop a member its central directory lists without a word (the member ledger).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "formats/context.h"
#include "formats/zip/zip_directory.h"
#include "formats/zip/zip_format.h"
#include "mscan/rules.h"
#include "mscan/scan.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const mscan::RuleSet rules = mscan::RuleSet::builtin();
    std::vector<std::uint8_t> bytes(data, data + size);
    mscan::MemorySource source(std::move(bytes));
    // As a file: detection, the zip reader (or the pickle machine plus the appended-zip check
    // for polyglots), members back through detection. Scanning it once keeps the slowest
    // legal input (a 64 KiB member that inflates to the fuzz build's member cap) well inside
    // libFuzzer's per-input timeout.
    (void)mscan::scan_source(source, "fuzz.pt", rules);

    // The zip reader alone, with a ledger: every entry of the directory it reads is scanned,
    // reported, or skipped for a stated reason.
    if (!mscan::zip::detect(source, "")) return 0;
    std::string error;
    const auto dir = mscan::zip::read_directory(source, error);
    if (!dir) return 0;
    mscan::MemberLedger ledger;
    mscan::ScanBudget budget;
    budget.ledger = &ledger;
    const mscan::OperationSink sink = [](mscan::Operation&&) {};
    mscan::Location base;
    base.chain = {"fuzz.pt"};
    mscan::ParseContext context(sink, base, budget);
    mscan::zip::parse(source, context);
    for (const auto& e : dir->entries) {
        const bool accounted =
            std::any_of(ledger.records.begin(), ledger.records.end(),
                        [&](const auto& r) { return r.chain.size() == 2 && r.chain[1] == e.name; });
        if (!accounted) {
            std::fprintf(stderr, "zip member dropped without a word: '%s'\n", e.name.c_str());
            std::abort();
        }
    }
    return 0;
}
