// Keras models: HDF5 files (.h5/.hdf5, tf.keras and Keras 3's legacy format), whose root
// group's model_config and training_config attributes hold the model's JSON config, and a
// Keras config as a JSON file (a .keras zip's config.json, model.to_json() output). Both go
// through the one config walker (keras_config.h). The Keras 3 .keras zip needs nothing more:
// the zip reader hands config.json and model.weights.h5 back to detection.
#pragma once

#include <string_view>

#include "formats/context.h"
#include "mscan/source.h"

namespace mscan::keras {

/// Any HDF5 file: the signature at 0, 512, 1024, 2048, ... (after a user block).
bool detect_hdf5(Source& source, std::string_view extension);
/// Reads the root attributes; what cannot be read is hdf5.unreadable ("could not verify");
/// a user block before the superblock is scanned as a member of its own.
void parse_hdf5(Source& source, const ParseContext& context);

/// A JSON object that names "class_name" and "config": a serialized Keras object.
bool detect_json(Source& source, std::string_view extension);
/// Whether the first non-blank byte is '{' (a container must inflate such a member whole
/// before detect_json can decide).
bool starts_like_json_object(Source& source);
void parse_json(Source& source, const ParseContext& context);

}  // namespace mscan::keras
