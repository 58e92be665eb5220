// Zip archives: PyTorch checkpoints (torch.save since 1.6), TorchScript archives, .npz and any
// other zip. Members are found the way PyTorch's reader finds them and handed back to
// detection; structural disagreements between zip readers are reported.
#pragma once

#include <string_view>

#include "formats/context.h"
#include "mscan/source.h"

namespace mscan::zip {

/// Starts with a zip local header (or is an empty zip).
bool detect(Source& source, std::string_view extension);
/// Does not start like a zip but ends with a readable zip directory (data prepended to an
/// archive). Used after every other format declined.
bool detect_embedded(Source& source, std::string_view extension);
/// Reports the archive's structural issues and scans every member that may be loaded.
void parse(Source& source, const ParseContext& context);
/// For a file read as another format (`format`): if a zip archive is also appended to it, the
/// file is a polyglot; reports that and scans the archive too.
void scan_appended(Source& source, const ParseContext& context, std::string_view format);
/// For a program that carries a zip archive at its end as its payload (a llamafile, a
/// self-extracting archive): scans the archive, if there is a readable one, without reporting
/// the program before it as leading data. Returns whether there was one.
bool scan_payload(Source& source, const ParseContext& context);

}  // namespace mscan::zip
