// Fuzz target for the readers of code shipped beside weights: any bytes, read as a
// transformers / TorchServe / sentence-transformers config (the SAX keeper, auto_map,
// chat_template), as a Hydra/NeMo YAML config (libyaml tree, interpolations; fuzz_hydra_yaml goes
// deeper) and as a native executable header, each also scanned end to end under the file name that
// selects it. Must never crash, hang or grow memory without bound.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "formats/code_config/hf_config.h"
#include "formats/context.h"
#include "formats/executable/executable_format.h"
#include "formats/hydra_yaml/hydra_config.h"
#include "mscan/rules.h"
#include "mscan/scan.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const mscan::RuleSet rules = mscan::RuleSet::builtin();
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const mscan::OperationSink sink = [](mscan::Operation&&) {};
    mscan::ScanBudget budget;
    const mscan::ParseContext context(sink, mscan::Location{}, budget);
    mscan::hfconfig::check_config(text, context);
    mscan::hydra::check_yaml(text, context);
    (void)mscan::executable::describe({data, size});
    for (const char* name : {"config.json", "model_config.yaml", "chat_template.jinja"}) {
        mscan::MemorySource source(std::vector<std::uint8_t>(data, data + size));
        (void)mscan::scan_source(source, name, rules);
    }
    return 0;
}
