// Fuzz target for the protobuf wire reader and the TensorFlow SavedModel readers: any bytes,
// walked generically (every length-delimited field tried as a sub-message, to the depth limit),
// then parsed as saved_model.pb, saved_model.pbtxt and keras_metadata.pb (whose Keras configs go
// to the Keras config walker), and scanned end to end as a file named saved_model.pb.
// Must never crash, hang or grow memory without bound.
#include <cstdint>
#include <span>
#include <vector>

#include "formats/context.h"
#include "formats/protobuf/wire.h"
#include "formats/savedmodel/savedmodel_format.h"
#include "mscan/rules.h"
#include "mscan/scan.h"

namespace {

/// Visits every field; Len fields are read as messages too. Returns the fields seen, so the
/// work is not optimised away. Bounded: the cursor refuses nesting past kProtobufMaxDepth, and
/// the fields visited are capped so the walk stays linear-ish in the input size.
std::size_t walk(mscan::protobuf::Message m, std::size_t& budget) {
    std::size_t n = 0;
    mscan::protobuf::Field f;
    while (budget > 0 && m.next(f)) {
        --budget;
        ++n;
        if (f.type == mscan::protobuf::WireType::Len ||
            f.type == mscan::protobuf::WireType::StartGroup)
            n += walk(m.sub(f), budget);
    }
    return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const mscan::RuleSet rules = mscan::RuleSet::builtin();
    const std::span<const std::uint8_t> bytes(data, size);
    std::size_t budget = 1u << 16;
    mscan::protobuf::Message generic(bytes);
    generic.keep_truncated(size % 2 == 0);
    volatile std::size_t fields = walk(generic, budget);
    (void)fields;

    std::vector<std::uint8_t> copy(data, data + size);
    mscan::MemorySource source(std::move(copy));
    std::size_t ops = 0;
    const mscan::OperationSink sink = [&ops](mscan::Operation&&) { ++ops; };
    mscan::Location base;
    base.chain.push_back("fuzz");
    mscan::ScanBudget scan_budget;
    const mscan::ParseContext context(sink, base, scan_budget);
    mscan::savedmodel::parse(source, context);
    mscan::savedmodel::parse_text(source, context);
    mscan::savedmodel::parse_keras_metadata(source, context);
    (void)mscan::savedmodel::detect(source, ".pb");
    (void)mscan::savedmodel::detect_text(source, "");
    (void)mscan::savedmodel::detect_keras_metadata(source, ".pb");
    (void)mscan::scan_source(source, "saved_model.pb", rules);
    return 0;
}
