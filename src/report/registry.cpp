// The reporter table: one line per output format.
#include <array>

#include "mscan/report.h"
#include "report/reporters.h"

namespace mscan {
namespace {
constexpr std::array kReporters = {
    Reporter{"text", "human-readable, grouped by file, worst first (default)", write_text},
    Reporter{"json", "machine-readable, versioned schema (docs/json-schema.json)", write_json},
    Reporter{"sarif", "SARIF 2.1.0 for GitHub code scanning and other SARIF consumers",
             write_sarif},
};
}  // namespace

std::span<const Reporter> reporters() {
    return kReporters;
}

const Reporter* find_reporter(std::string_view name) {
    for (const auto& r : kReporters) {
        if (name == r.name) return &r;
    }
    return nullptr;
}

}  // namespace mscan
