// Anomaly codes of the Keras parsers (keras_format.cpp, keras_config.cpp).
#pragma once

#include "formats/anomaly.h"

namespace mscan::keras {

/// A Lambda layer: Python bytecode or code that runs on load.
inline constexpr AnomalyCode kLambda{"keras.lambda"};
/// A TFOpLambda / TensorFlowOpLayer calling a TensorFlow op.
inline constexpr AnomalyCode kTfOpLayer{"keras.tf-op-layer"};
/// A class from outside Keras that the loader imports.
inline constexpr AnomalyCode kCustomObject{"keras.custom-object"};
/// The model config is not what Keras could read.
inline constexpr AnomalyCode kMalformedConfig{"keras.malformed-config"};

/// Every code above: the Keras code table (tests/test_codes.cpp checks it against the rules).
inline constexpr AnomalyCode kAnomalyCodes[] = {
    kLambda,
    kTfOpLayer,
    kCustomObject,
    kMalformedConfig,
};

}  // namespace mscan::keras
