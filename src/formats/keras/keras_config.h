// The Keras config walker: one walk for every place a Keras model config is stored (an H5
// file's model_config attribute, a .keras zip's config.json, a SavedModel's
// keras_metadata.pb). It reports what deserializing the config would do: Lambda layers with
// their decoded code, references to modules outside Keras and TensorFlow, loader gadgets,
// custom objects Keras does not know.
#pragma once

#include <string_view>

#include "formats/context.h"

namespace mscan::keras {

/// Walks one Keras config given as JSON text. `label` names where it came from ("model_config
/// attribute", "config.json", "keras_metadata.pb node 3"); it is used as the operations'
/// Location::stream. Text that is not valid JSON is reported (keras.malformed-config).
void walk_config_json(std::string_view json, std::string_view label, const ParseContext& context);

}  // namespace mscan::keras
