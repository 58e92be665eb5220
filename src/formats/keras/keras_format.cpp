// Keras configs as JSON files: find the config, hand it to the walker.
#include "formats/keras/keras_format.h"

#include <algorithm>
#include <string>

#include "formats/keras/keras_codes.h"
#include "formats/keras/keras_config.h"
#include "formats/python_json.h"
#include "mscan/limits.h"
#include "util/text.h"

namespace mscan::keras {
bool starts_like_json_object(Source& source) {
    return pyjson::starts_like_json(source, /*object_only=*/true);
}

bool detect_json(Source& source, std::string_view /*extension*/) {
    if (source.size() < 2 || !starts_like_json_object(source)) return false;
    // Past the size cap the file is claimed anyway, so that parse_json reports it instead of
    // it being skipped.
    if (source.size() > limits::kKerasMaxConfigBytes) return true;
    const auto bytes = source.view(0, static_cast<std::size_t>(source.size()));
    if (bytes.size() != source.size()) return false;
    // Keras writes "class_name" near the start, but its loader finds the key anywhere in the
    // object, spelt any way JSON allows ("class\u005fname"): the keys are read as
    // json.loads reads them.
    std::string error;
    const auto text = pyjson::decode(bytes, error);
    if (!text) return false;
    bool class_name = false, config = false;
    const auto result = pyjson::for_each_key(
        *text,
        [&](const std::string& key, int) {
            class_name = class_name || key == "class_name";
            config = config || key == "config";
            return !(class_name && config);
        },
        limits::kPythonJsonMaxDepth);
    // Too deep to read: claimed, so that parse_json says it was not read.
    return (class_name && config) || result.too_deep;
}

void parse_json(Source& source, const ParseContext& context) {
    if (source.size() > limits::kKerasMaxConfigBytes) {
        context.anomaly(kMalformedConfig, "Keras config of " + std::to_string(source.size()) +
                                              " bytes exceeds the " +
                                              std::to_string(limits::kKerasMaxConfigBytes >> 20) +
                                              " MiB cap; not read");
        return;
    }
    const auto bytes = source.view(0, static_cast<std::size_t>(source.size()));
    if (bytes.size() != source.size()) {
        context.anomaly(kMalformedConfig, "the Keras config could not be read whole (" +
                                              std::to_string(bytes.size()) + " of " +
                                              std::to_string(source.size()) + " bytes)");
        return;
    }
    walk_config_json(util::as_text(bytes), "Keras config", context);
}

}  // namespace mscan::keras
