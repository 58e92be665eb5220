// TensorFlow SavedModel: saved_model.pb (a binary SavedModel protobuf), saved_model.pbtxt (the
// same message in protobuf text format) and keras_metadata.pb (the Keras objects of a
// tf.keras SavedModel). Loading a SavedModel runs graph ops: every node of every meta graph's
// GraphDef and of every function in its function library is reported as a call of
// "tensorflow.raw_ops.<Op>", so the rules decide which ops matter (ReadFile, WriteFile,
// PyFunc, ...). The checkpoint ops of the model's own saver (reachable from the nodes its
// SaverDef names and writing only the file the loader feeds it; saver_graph.h) are reported
// as "tensorflow.saver_ops.<Op>" instead: every SavedModel has them, and they read and write
// only the variables/ checkpoint the loader points them at.
// The variables/ and assets/ directories are not read (they hold data, not ops).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "formats/context.h"
#include "mscan/source.h"

namespace mscan::savedmodel {

/// A binary SavedModel: field 1 a varint (the schema version) and/or field 2 a MetaGraphDef
/// whose fields have MetaGraphDef's wire types. A ".pb" extension only breaks ties (a file cut
/// short before its first meta graph).
bool detect(Source& source, std::string_view extension);
void parse(Source& source, const ParseContext& context);

/// saved_model.pbtxt: text that starts (after blanks and # comments) with the field
/// saved_model_schema_version or meta_graphs.
bool detect_text(Source& source, std::string_view extension);
void parse_text(Source& source, const ParseContext& context);

/// keras_metadata.pb: a SavedMetadata message (repeated SavedObject nodes = 1) whose nodes carry
/// Keras identifiers ("_tf_keras_model", "_tf_keras_layer", ...).
bool detect_keras_metadata(Source& source, std::string_view extension);
/// Hands each node's metadata JSON to the Keras config walker.
void parse_keras_metadata(Source& source, const ParseContext& context);

/// The same checks on bytes in memory (for tests): `total_size` is the object's full size when
/// `head` is only its beginning.
/// The names TensorFlow and Keras open these files by (tf.saved_model.load reads
/// <dir>/saved_model.pb, or saved_model.pbtxt; Keras reads keras_metadata.pb beside it): a
/// file so named is read by this reader whatever its first fields look like (protobuf allows
/// any field order and unknown fields, which content detection does not take on trust).
bool claims_binary_name(std::string_view file_name);
bool claims_text_name(std::string_view file_name);
bool claims_keras_metadata_name(std::string_view file_name);

bool looks_like_savedmodel(std::span<const std::uint8_t> head, std::uint64_t total_size,
                           std::string_view extension);
bool looks_like_keras_metadata(std::span<const std::uint8_t> head, std::uint64_t total_size);
bool looks_like_savedmodel_text(std::span<const std::uint8_t> head);

}  // namespace mscan::savedmodel
