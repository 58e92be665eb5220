// Anomaly codes of the TensorFlow SavedModel parser (savedmodel_format.cpp).
#pragma once

#include "formats/anomaly.h"

namespace mscan::savedmodel {

/// The SavedModel is not valid protobuf or not what TensorFlow reads.
inline constexpr AnomalyCode kMalformed{"savedmodel.malformed"};

/// Every code above: the SavedModel code table (tests/test_codes.cpp checks it against the rules).
inline constexpr AnomalyCode kAnomalyCodes[] = {
    kMalformed,
};

}  // namespace mscan::savedmodel
