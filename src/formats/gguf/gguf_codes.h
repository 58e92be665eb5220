// Anomaly codes of the GGUF parser (gguf_format.cpp).
#pragma once

#include "formats/anomaly.h"

namespace mscan::gguf {

/// A count or length the file cannot back (a memory-exhaustion attempt).
inline constexpr AnomalyCode kOversized{"gguf.oversized"};
/// The file breaks the GGUF layout.
inline constexpr AnomalyCode kMalformed{"gguf.malformed"};
/// Valid GGUF that llama.cpp's writers never produce.
inline constexpr AnomalyCode kNonstandard{"gguf.nonstandard"};
/// What the file holds (informational).
inline constexpr AnomalyCode kSummary{"gguf.summary"};

/// Every code above: the GGUF code table (tests/test_codes.cpp checks it against the rules).
inline constexpr AnomalyCode kAnomalyCodes[] = {
    kOversized,
    kMalformed,
    kNonstandard,
    kSummary,
};

}  // namespace mscan::gguf
