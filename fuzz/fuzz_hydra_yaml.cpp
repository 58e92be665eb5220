// Fuzz target for the YAML reader: any bytes, parsed by libyaml into the tree (yaml_doc.h)
// and read for Hydra / NeMo targets with OmegaConf's interpolations and Python tags
// (hydra_config.h), also scanned end to end as model_config.yaml. Must never crash, hang or
// grow memory without bound (aliases, nesting, interpolation cycles are all capped).
#include <cstdint>
#include <string_view>
#include <vector>

#include "formats/context.h"
#include "formats/hydra_yaml/hydra_config.h"
#include "formats/hydra_yaml/yaml_doc.h"
#include "mscan/rules.h"
#include "mscan/scan.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const mscan::RuleSet rules = mscan::RuleSet::builtin();
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto tree = mscan::yaml::parse(text);
    for (const auto& node : tree.nodes)
        for (const auto item : node.items)
            if (item >= tree.nodes.size()) __builtin_trap();  // every reference is a node
    const mscan::OperationSink sink = [](mscan::Operation&&) {};
    mscan::ScanBudget budget;
    const mscan::ParseContext context(sink, mscan::Location{}, budget);
    mscan::hydra::check_yaml(text, context);
    mscan::MemorySource source(std::vector<std::uint8_t>(data, data + size));
    (void)mscan::scan_source(source, "model_config.yaml", rules);
    return 0;
}
