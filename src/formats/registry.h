// The format registry: one line per format mscan reads. A new format is a folder under
// src/formats/, a detect and a parse function, and one line in kFormats (registry.cpp).
#pragma once

#include <span>
#include <string_view>

#include "mscan/operation.h"
#include "mscan/source.h"

namespace mscan {

struct Format {
    /// Stable short name, shown in reports ("pickle").
    const char* name;
    const char* description;
    /// Content check. `extension` (lower case, with dot, may be empty) only breaks ties.
    bool (*detect)(Source& source, std::string_view extension);
    /// Reports every operation loading this content would perform.
    void (*parse)(Source& source, const Location& base, const OperationSink& sink);
};

/// All formats, in detection order.
std::span<const Format> formats();

/// The first format whose detect() accepts the source, or nullptr.
const Format* detect_format(Source& source, std::string_view path);

}  // namespace mscan
