// Keras configs as JSON files (a .keras zip's config.json, model.to_json() output), read by the
// one config walker (keras_config.h), which also reads the configs of Keras HDF5 files
// (formats/hdf5/hdf5_format.h). The Keras 3 .keras zip needs nothing more: the zip reader hands
// config.json and model.weights.h5 back to detection.
#pragma once

#include <string_view>

#include "formats/context.h"
#include "mscan/source.h"

namespace mscan::keras {

/// A JSON object that names "class_name" and "config": a serialized Keras object.
bool detect_json(Source& source, std::string_view extension);
/// Whether the first non-blank byte is '{' (a container must inflate such a member whole
/// before detect_json can decide).
bool starts_like_json_object(Source& source);
void parse_json(Source& source, const ParseContext& context);

}  // namespace mscan::keras
