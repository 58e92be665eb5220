// The jinja-template format: a chat template saved as its own file (chat_template.jinja, as
// transformers >= 4.50 saves a tokenizer's chat template), checked like a template inside a
// config (jinja_check.h).
#pragma once

#include <string_view>

#include "formats/context.h"
#include "mscan/source.h"

namespace mscan::jinja {

/// A .jinja or .j2 name (a template has no signature), at most limits::kHfConfigMaxBytes, and
/// text with a Jinja tag.
bool detect(Source& source, std::string_view extension);
/// Reports what rendering the template could reach (jinja_check.h).
void parse(Source& source, const ParseContext& context);

}  // namespace mscan::jinja
