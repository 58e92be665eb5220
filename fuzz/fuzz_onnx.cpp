// Fuzz target for the ONNX reader: any bytes, checked by ONNX detection and scanned end to end
// as a file named .onnx (so detection lets broken models through to the walk), with and
// without files beside it. Must never crash, hang or grow memory without bound.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/onnx/onnx_format.h"
#include "mscan/neighbours.h"
#include "mscan/rules.h"
#include "mscan/scan.h"

namespace {

/// Every relative location "exists" with a size taken from its length, so the range checks run.
class AnyNeighbours final : public mscan::Neighbours {
  public:
    std::optional<std::uint64_t> file_size(std::string_view relative) const override {
        if (!mscan::stays_inside(relative)) return std::nullopt;
        if (relative.size() % 3 == 0) return std::nullopt;
        return relative.size() * 16;
    }
    std::string describe() const override { return "fuzz/"; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const mscan::RuleSet rules = mscan::RuleSet::builtin();
    static const AnyNeighbours neighbours;
    std::vector<std::uint8_t> bytes(data, data + size);
    (void)mscan::onnx::looks_like_onnx(bytes, bytes.size(), "");
    mscan::MemorySource source(std::move(bytes));
    (void)mscan::scan_source(source, "fuzz.onnx", rules);
    (void)mscan::scan_source(source, "fuzz.onnx", rules, {}, &neighbours);
    return 0;
}
