// ONNX models (.onnx): a ModelProto (onnx/onnx.proto) in protobuf's binary encoding, read with
// the bounded wire reader of src/formats/protobuf/. Loading an ONNX model runs its graph's
// operators, reads tensor data from the files its external_data entries name, and loads
// whatever the runtime needs for operators outside the standard domains. The walk covers the
// main graph, every subgraph held in a node attribute (If, Loop, Scan bodies and any other
// graph-valued attribute, to any depth the wire reader allows), the model-local functions and
// the training_info graphs, and reports:
//   - external data whose location is absolute or climbs out of the model's folder, names a file
//     that is not beside the model, or whose offset/length are not numbers or do not fit it;
//   - operators from domains outside the ONNX standard ones (runtime contrib domains apart from
//     unknown custom ones, which need a custom-op library), model-local functions excepted;
//   - operators that run Python (ONNX Runtime's PyOp, the training PythonOp/PythonOpGrad), whose
//     named callable is also reported as a call so the deny rules judge it;
//   - tensors whose dims and data type do not match the bytes they hold;
//   - protobuf that the loader's parser refuses.
// Nothing is trusted: every length comes from the wire reader, which checks it first; tensor
// payloads are never copied or decoded, only their lengths are compared.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "formats/context.h"
#include "mscan/source.h"

namespace mscan::onnx {

/// A ModelProto: the first fields have ModelProto's wire types (ir_version a varint, the
/// producer strings text, the graph and opset_import messages of the right shape) and the file
/// has an ir_version and a plausible graph or opset_import. The ".onnx" extension only breaks
/// ties (a file cut short before its graph, or without an ir_version).
bool detect(Source& source, std::string_view extension);

/// Reports what loading the model would do (see the file comment).
void parse(Source& source, const ParseContext& context);

/// The detection check on bytes in memory (for tests): `head` is the start of an object of
/// `total_size` bytes.
bool looks_like_onnx(std::span<const std::uint8_t> head, std::uint64_t total_size,
                     std::string_view extension);

}  // namespace mscan::onnx
