// Keras HDF5 files and JSON configs: find the config, hand it to the walker.
#include "formats/keras/keras_format.h"

#include <algorithm>
#include <string>

#include "formats/hdf5/hdf5_codes.h"
#include "formats/hdf5/hdf5_reader.h"
#include "formats/keras/keras_codes.h"
#include "formats/keras/keras_config.h"
#include "formats/python_json.h"
#include "mscan/limits.h"

namespace mscan::keras {
namespace {

/// Root attributes whose value is a Keras config (tf.keras saving/hdf5_format.py and Keras 3's
/// legacy_h5_format.py write these two).
constexpr std::string_view kConfigAttributes[] = {"model_config", "training_config"};

/// Problems reported per file; the rest are counted in the last one.
constexpr std::size_t kMaxProblems = 8;

std::string_view as_text(std::span<const std::uint8_t> bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace

bool detect_hdf5(Source& source, std::string_view /*extension*/) {
    return hdf5::find_superblock(source).has_value();
}

void parse_hdf5(Source& source, const ParseContext& context) {
    const auto superblock = hdf5::find_superblock(source);
    if (!superblock) {
        context.anomaly(hdf5::kUnreadable, "no HDF5 superblock signature found");
        return;
    }
    if (*superblock > 0) {
        // A user block is opaque to HDF5 but may be read by something else (a pickle loader
        // reads from offset 0): scan it as content of its own.
        SliceSource user_block(source, 0, *superblock);
        context.scan_member(user_block, "HDF5 user block");
    }
    const hdf5::RootAttributes root = hdf5::read_root_attributes(source, *superblock);
    for (std::size_t i = 0; i < root.problems.size() && i < kMaxProblems; ++i) {
        Anomaly problem = root.problems[i];
        problem.evidence = "could not verify the root group's attributes: " + problem.evidence;
        if (i + 1 == kMaxProblems && root.problems.size() > kMaxProblems)
            problem.evidence +=
                " (and " + std::to_string(root.problems.size() - kMaxProblems) + " more problems)";
        context.report(std::move(problem));
    }
    for (const auto& attribute : root.attributes) {
        if (std::find(std::begin(kConfigAttributes), std::end(kConfigAttributes), attribute.name) ==
            std::end(kConfigAttributes))
            continue;
        const std::string label = "HDF5 attribute " + attribute.name;
        if (attribute.kind != hdf5::Attribute::Kind::String || attribute.strings.size() != 1) {
            Location where = context.base();
            where.stream = label;
            where.offset = static_cast<std::int64_t>(attribute.offset);
            context.anomaly_at(where, kMalformedConfig,
                               label + " is a " + attribute.type +
                                   ", not one string; Keras could not read it and mscan did not");
            continue;
        }
        walk_config_json(attribute.strings.front(), label, context);
    }
}

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
    walk_config_json(as_text(bytes), "Keras config", context);
}

}  // namespace mscan::keras
