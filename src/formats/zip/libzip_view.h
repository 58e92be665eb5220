// A second opinion on a zip archive from libzip, the zip library behind many tools, reading
// through mscan's Source (a libzip source callback), so it works on members and remote
// sources alike. Where libzip refuses an archive or lists other members than the reader that
// follows torch.load, the two kinds of reader disagree, which is reported.
#pragma once

#include <string>
#include <vector>

#include "mscan/source.h"

namespace mscan::zip {

struct LibzipView {
    bool opened = false;
    std::string error;               ///< why libzip refused the archive
    std::vector<std::string> names;  ///< its entry names, in its order
};

/// Opens the archive read-only with libzip (central directory only; no member is read).
LibzipView libzip_view(Source& source);

}  // namespace mscan::zip
