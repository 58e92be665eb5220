// The exit-code table's help text, and the map from the library's verdict to an exit code.
#include "cli/exit_codes.h"

namespace mscan::cli {

std::string exit_code_help() {
    std::string help = "Exit codes:\n";
    for (const auto& entry : kExitCodes) {
        help += "  " + std::to_string(exit_status(entry.code)) + "  ";
        help += entry.meaning;
        help += '\n';
    }
    return help;
}

ExitCode exit_code_for(Verdict verdict) {
    switch (verdict) {
        case Verdict::Clean:
            return ExitCode::Clean;
        case Verdict::Findings:
            return ExitCode::Findings;
        case Verdict::ScanError:
            return ExitCode::ScanError;
        case Verdict::NothingScanned:
            return ExitCode::NothingScanned;
    }
    return ExitCode::ScanError;  // not reached: the switch names every verdict
}

}  // namespace mscan::cli
