// Anomaly codes of joblib's formats: the array wrappers joblib pickles (NumpyArrayWrapper,
// read by the pickle machine, which is where joblib.load reads them) and the ZF container.
#pragma once

#include "formats/anomaly.h"

namespace mscan::joblib {

/// A joblib array wrapper that breaks joblib's layout.
inline constexpr AnomalyCode kMalformed{"joblib.malformed"};
/// A joblib wrapper state that repeats a key.
inline constexpr AnomalyCode kDuplicateKey{"joblib.duplicate-key"};

/// Every code above: the joblib code table (tests/test_codes.cpp checks it against the rules).
inline constexpr AnomalyCode kAnomalyCodes[] = {
    kMalformed,
    kDuplicateKey,
};

}  // namespace mscan::joblib
