// The hdf5 format: HDF5 files (.h5/.hdf5), read for what loading them as a Keras model runs.
// tf.keras and Keras 3's legacy format keep the model's JSON config in the root group's
// model_config and training_config attributes; it goes to the Keras config walker
// (formats/keras/keras_config.h). The bytes are read by hdf5_reader.h.
#pragma once

#include <string_view>

#include "formats/context.h"
#include "mscan/source.h"

namespace mscan::hdf5 {

/// Any HDF5 file: the signature at 0, 512, 1024, 2048, ... (after a user block).
bool detect(Source& source, std::string_view extension);
/// Reads the root attributes; what cannot be read is hdf5.unreadable ("could not verify");
/// a user block before the superblock is scanned as a member of its own.
void parse(Source& source, const ParseContext& context);

}  // namespace mscan::hdf5
