// Fuzz target for the TorchScript code review: any bytes, read as one code file of a
// TorchScript archive (the lexer's strings, escapes, comments and line joins; references
// through parentheses, getattr() and local bindings; the caps), reviewed and reported as
// anomalies. Must never crash, hang, or grow memory without bound.
#include <cstdint>
#include <string_view>

#include "formats/context.h"
#include "formats/torchscript/lexer.h"
#include "formats/torchscript/torchscript_code.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto lexed = mscan::torchscript::tokenize(text);
    for (const auto& token : lexed.tokens) {
        if (token.offset >= size) __builtin_trap();
    }
    if (!lexed.error.empty() && lexed.error_offset > size) __builtin_trap();
    const mscan::OperationSink sink = [](mscan::Operation&&) {};
    mscan::ScanBudget budget;
    const mscan::ParseContext context(sink, mscan::Location{}, budget);
    const auto issues = mscan::torchscript::review_code(text);
    for (const auto& issue : issues) {
        if (issue.offset > size) __builtin_trap();
    }
    (void)mscan::torchscript::report_code(context, mscan::Location{}, text, size + 1);
    return 0;
}
