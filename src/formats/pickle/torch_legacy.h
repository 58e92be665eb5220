// Legacy torch.save files (before PyTorch 1.6, or _use_new_zipfile_serialization=False): five
// pickles back to back -- magic number, protocol version, sys info, the model, the storage
// keys -- then each storage's raw bytes. torch.load unpickles all five (so a payload in any of
// them runs); the storages are skipped by the sizes the model's persistent ids record.
#pragma once

#include "formats/context.h"
#include "mscan/source.h"

namespace mscan::pickle {

/// Starts with legacy torch.save's magic-number pickle.
bool is_torch_legacy(Source& source);
/// Scans the five pickles and checks the storage area against what they declare.
void scan_torch_legacy(Source& source, const ParseContext& context);

}  // namespace mscan::pickle
