// The hdf5 format (hdf5_format.h): find the Keras config attributes, hand them to the walker.
#include "formats/hdf5/hdf5_format.h"

#include <algorithm>
#include <string>

#include "formats/hdf5/hdf5_codes.h"
#include "formats/hdf5/hdf5_reader.h"
#include "formats/keras/keras_codes.h"
#include "formats/keras/keras_config.h"

namespace mscan::hdf5 {
namespace {

/// Root attributes whose value is a Keras config (tf.keras saving/hdf5_format.py and Keras 3's
/// legacy_h5_format.py write these two).
constexpr std::string_view kConfigAttributes[] = {"model_config", "training_config"};

/// Problems reported per file; the rest are counted in the last one.
constexpr std::size_t kMaxProblems = 8;

}  // namespace

bool detect(Source& source, std::string_view /*extension*/) {
    return find_superblock(source).has_value();
}

void parse(Source& source, const ParseContext& context) {
    const auto superblock = find_superblock(source);
    if (!superblock) {
        context.anomaly(kUnreadable, "no HDF5 superblock signature found");
        return;
    }
    if (*superblock > 0) {
        // A user block is opaque to HDF5 but may be read by something else (a pickle loader
        // reads from offset 0): scan it as content of its own.
        SliceSource user_block(source, 0, *superblock);
        context.scan_member(user_block, "HDF5 user block");
    }
    const RootAttributes root = read_root_attributes(source, *superblock);
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
        if (attribute.kind != Attribute::Kind::String || attribute.strings.size() != 1) {
            Location where = context.base();
            where.stream = label;
            where.offset = static_cast<std::int64_t>(attribute.offset);
            context.anomaly_at(where, keras::kMalformedConfig,
                               label + " is a " + attribute.type +
                                   ", not one string; Keras could not read it and mscan did not");
            continue;
        }
        keras::walk_config_json(attribute.strings.front(), label, context);
    }
}

}  // namespace mscan::hdf5
