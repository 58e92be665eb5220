// Glue between the format registry and the pickle machine.
#pragma once

#include <string_view>

#include "formats/context.h"
#include "mscan/operation.h"
#include "mscan/source.h"

namespace mscan::pickle {

/// Whether the source starts like a pickle (plausible_pickle() in pickle_detect.h); a name
/// that suggests a pickle only admits a well-formed protocol 0/1 prefix cut off early.
bool detect(Source& source, std::string_view extension);
/// Whether a file so named is handed to an unpickler by its usual loader (".pkl", ".pt",
/// ".npy", ...). `extension` is lower case with its dot.
bool extension_suggests_pickle(std::string_view extension);
/// Runs the symbolic machine over every pickle stream in the source.
void parse(Source& source, const ParseContext& context);

struct MachineOptions;
/// Lets the machine hand bytes operands that are files of their own (a torch.save zip inside
/// a pickle) back to detection, scanned one level deeper under `context`.
void scan_nested_blobs(MachineOptions& options, const ParseContext& context);

}  // namespace mscan::pickle
