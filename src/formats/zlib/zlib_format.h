// A file that is one zlib stream (joblib's ".z" compression, zlib.compress output): inflated
// under the decompression caps and handed back to detection as one member.
#pragma once

#include <string_view>

#include "formats/context.h"
#include "mscan/source.h"

namespace mscan::zlib {

/// A valid zlib header whose first decompressed bytes are a format mscan reads.
bool detect(Source& source, std::string_view extension);
void parse(Source& source, const ParseContext& context);

}  // namespace mscan::zlib
