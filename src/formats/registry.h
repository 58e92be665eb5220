// The format registry: one line per format mscan reads. A new format is a folder under
// src/formats/, a detect and a parse function, and one line in kFormats (registry.cpp);
// tests/test_format_table.cpp checks that each has its folder, fuzz target, rules, samples with
// goldens and a docs section.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "formats/common_codes.h"  // kFormatMismatch, for the callers of describe_mismatch
#include "formats/context.h"
#include "mscan/operation.h"
#include "mscan/source.h"

namespace mscan {

struct Format {
    /// Stable short name, shown in reports ("pickle").
    const char* name;
    /// Its folder under src/formats/, which also names its fuzz target (fuzz/fuzz_<folder>).
    /// Formats read by one reader share it ("archive" for 7z, tar and the compressors).
    const char* folder;
    const char* description;
    /// Content check. `extension` (lower case, with dot, may be empty) only breaks ties.
    bool (*detect)(Source& source, std::string_view extension);
    /// Reports every operation loading this content would perform; containers hand their
    /// members back through context.scan_member().
    void (*parse)(Source& source, const ParseContext& context);
    /// Optional, for containers: whether the first bytes of a compressed member are all this
    /// format needs (so the rest is not decompressed). nullptr: it needs the whole member.
    bool (*head_suffices)(Source& head);
    /// The format itself looks for a zip archive at its end (a zip, a tar, an executable with
    /// a zip appended): the scanner does not look again, and a member in this format owns the
    /// zip end record inside it.
    bool owns_trailing_zip = false;
    /// Its reader keeps a view of its source while it asks for another (the zip reader holds
    /// the central directory while it reads local headers), which a windowed source would
    /// invalidate: a container hands it members held whole.
    bool needs_stable_views = false;
    /// Optional: whether a file of this name (the last path component, as written) is one the
    /// format's loader opens by that name (transformers opens "config.json"), so that a file
    /// so named that detection does not accept is still read by this format, which then says
    /// why it could not be read.
    bool (*claims_name)(std::string_view file_name) = nullptr;
};

/// All formats, in detection order.
std::span<const Format> formats();

/// The first format whose detect() accepts the source, or nullptr.
const Format* detect_format(Source& source, std::string_view path);

/// The format whose loader opens files by this name (Format::claims_name), or nullptr.
const Format* format_claiming_name(std::string_view path);

/// Whether the first bytes of a larger member, which no format accepted, are too few to rule
/// one out: a JSON object may name its Keras class anywhere in its text. A container must then
/// detect on the whole member instead of skipping it.
bool head_inconclusive(Source& head);

/// The model format a file's name claims, by an extension only that format uses (".pkl":
/// "a pickle", ".safetensors": "a safetensors file"), or nullptr (no extension, or one many
/// kinds of file share, such as ".bin" or ".json"). A file so named that detection does not
/// accept is reported, not skipped: the loader would be handed it.
const char* format_named_by(std::string_view path);

/// Whether a file's name is one model files commonly carry although other files share it
/// (".bin", ".ckpt", ".pb"): not enough to claim a format for one file, but inside a scan that
/// found models, such a file that matches no format is reported, not skipped.
bool named_like_model(std::string_view path);

/// Evidence for kFormatMismatch: what the name claims and what the content is ("named as a
/// safetensors file (.safetensors), but only 3 bytes long: too short to be one").
std::string describe_mismatch(Source& source, std::string_view path, const char* claimed);

/// Model formats recognised by their magic bytes that no parser reads yet, described ("HDF5
/// file (Keras .h5)"), or nullptr. Checked before detection, so that such a file is reported
/// as not scanned rather than mistaken for another format or skipped.
const char* unsupported_container(Source& source);

}  // namespace mscan
