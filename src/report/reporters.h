// The reporter functions behind the registry.
#pragma once

#include <string>

#include "mscan/report.h"

namespace mscan {

void write_text(std::ostream& out, const ScanResult& result, const RuleSet& rules,
                const ReportOptions& options);
void write_json(std::ostream& out, const ScanResult& result, const RuleSet& rules,
                const ReportOptions& options);
void write_sarif(std::ostream& out, const ScanResult& result, const RuleSet& rules,
                 const ReportOptions& options);

/// "path!/member @0x1a3 #12 (pickle 2)" — the location as one readable string.
std::string format_location(const Location& loc);

}  // namespace mscan
