// A second opinion on a zip archive from libzip, the zip library behind many tools, reading
// through mscan's Source (a libzip source callback), so it works on members and remote
// sources alike. Where libzip refuses an archive or lists other members than the reader that
// follows torch.load, the two kinds of reader disagree, which is reported. libzip is loaded on
// first use (libzip_api.h).
#pragma once

#include <string>
#include <vector>

#include "mscan/source.h"

namespace mscan::zip {

struct LibzipView {
    /// libzip could be loaded (it is on first use); when not, `error` says why and nothing
    /// was asked of it.
    bool available = false;
    bool opened = false;
    std::string error;               ///< why libzip refused the archive, or could not be loaded
    std::vector<std::string> names;  ///< its entry names, in its order
};

/// Opens the archive read-only with libzip (central directory only; no member is read).
LibzipView libzip_view(Source& source);

}  // namespace mscan::zip
