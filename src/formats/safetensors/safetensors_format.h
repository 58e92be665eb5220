// safetensors files: an 8-byte little-endian header length N, N bytes of UTF-8 JSON (an object
// of tensor entries {dtype, shape, data_offsets} plus an optional "__metadata__" map of
// strings), then the tensor data. Loading one runs no code, so what matters is whether the
// header is one the safetensors loader accepts and describes the data exactly; each way it does
// not is an anomaly naming the tensor. Only the header is read: tensor data is never touched,
// so a file of any size costs its header.
#pragma once

#include <string_view>

#include "formats/context.h"
#include "mscan/source.h"

namespace mscan::safetensors {

/// A header length, then (after optional JSON whitespace) '{' inside the header. The length
/// must fit in the file, or be plausible for a cut-short file (below 2^32, or the extension is
/// .safetensors), so that a truncated download is still read and reported.
bool detect(Source& source, std::string_view extension);

/// Validates the header by the rules of the safetensors loader and reports each violation
/// (`safetensors.malformed`, `safetensors.nonstandard`) and, when the header is a JSON object,
/// one `safetensors.summary` (tensor count, dtypes, data bytes, metadata keys).
void parse(Source& source, const ParseContext& context);

/// For containers: whether the first bytes of a member hold the whole header (then the rest of
/// the member, tensor data, need not be decompressed).
bool head_suffices(Source& head);

}  // namespace mscan::safetensors
