// Anomaly codes of the .npy/.npz parser (npy_format.cpp).
#pragma once

#include "formats/anomaly.h"

namespace mscan::numpy {

/// An object array: numpy.load(allow_pickle=True) unpickles it.
inline constexpr AnomalyCode kObjectArray{"numpy.object-array"};
/// The header or layout breaks the .npy format.
inline constexpr AnomalyCode kMalformed{"numpy.malformed"};
/// A header dictionary repeats a key (readers disagree on which wins).
inline constexpr AnomalyCode kDuplicateKey{"numpy.duplicate-key"};

/// Every code above: the NumPy code table (tests/test_codes.cpp checks it against the rules).
inline constexpr AnomalyCode kAnomalyCodes[] = {
    kObjectArray,
    kMalformed,
    kDuplicateKey,
};

}  // namespace mscan::numpy
