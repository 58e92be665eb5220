// Anomaly codes of the safetensors parser (safetensors_format.cpp).
#pragma once

#include "formats/anomaly.h"

namespace mscan::safetensors {

/// The file breaks the safetensors format: loaders refuse it.
inline constexpr AnomalyCode kMalformed{"safetensors.malformed"};
/// Valid safetensors that the reference writer never produces.
inline constexpr AnomalyCode kNonstandard{"safetensors.nonstandard"};
/// What the file holds (informational).
inline constexpr AnomalyCode kSummary{"safetensors.summary"};

/// Every code above: the safetensors code table (tests/test_codes.cpp checks it against the rules).
inline constexpr AnomalyCode kAnomalyCodes[] = {
    kMalformed,
    kNonstandard,
    kSummary,
};

}  // namespace mscan::safetensors
