// The jinja-template format (template_format.h).
#include "formats/jinja_template/template_format.h"

#include <cstdint>
#include <span>

#include "formats/jinja_template/jinja_check.h"
#include "mscan/limits.h"
#include "util/text.h"

namespace mscan::jinja {
bool detect(Source& source, std::string_view extension) {
    if (extension != ".jinja" && extension != ".j2") return false;
    if (source.size() == 0 || source.size() > limits::kHfConfigMaxBytes) return false;
    const auto bytes = source.view(0, static_cast<std::size_t>(source.size()));
    return looks_like_template(util::as_text(bytes));
}

void parse(Source& source, const ParseContext& context) {
    const auto bytes = source.view(0, static_cast<std::size_t>(source.size()));
    report_template(context, "template", util::as_text(bytes), 0);
}

}  // namespace mscan::jinja
