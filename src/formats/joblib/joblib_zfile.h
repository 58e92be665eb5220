// joblib's old container (joblib <= 0.9.3, still read by joblib.load through
// numpy_pickle_compat.load_compatibility): "ZF", the uncompressed length in hex padded to 19
// characters ('{:#x}'.ljust(19)), an optional blank, then a zlib stream holding one pickle.
#pragma once

#include <string_view>

#include "formats/context.h"
#include "mscan/source.h"

namespace mscan::joblib {

/// Whether the source is a joblib ZF file: the prefix, a length int(x, 16) accepts, and a
/// zlib header where joblib starts decompressing.
bool detect(Source& source, std::string_view extension);
/// Decompresses the stream and scans it as the pickle joblib unpickles.
void parse(Source& source, const ParseContext& context);

}  // namespace mscan::joblib
