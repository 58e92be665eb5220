// Anomaly codes of the native executable detector (executable_format.cpp).
#pragma once

#include "formats/anomaly.h"

namespace mscan::executable {

/// A native executable or shared library.
inline constexpr AnomalyCode kExecutable{"native.executable"};

/// Every code above: the native executable code table (tests/test_codes.cpp checks it against the
/// rules).
inline constexpr AnomalyCode kAnomalyCodes[] = {
    kExecutable,
};

}  // namespace mscan::executable
