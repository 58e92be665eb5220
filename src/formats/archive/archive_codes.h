// Anomaly codes of archives and compressed streams (archive.*): emitted by the libarchive reader
// here and by every other container reader (zip, the decompressors, nested members).
#pragma once

#include "formats/anomaly.h"

namespace mscan::archive {

/// The archive or compressed stream is damaged or breaks its format.
inline constexpr AnomalyCode kMalformed{"archive.malformed"};
/// A member uses a compression method mscan cannot decode.
inline constexpr AnomalyCode kUnsupportedMethod{"archive.unsupported-method"};
/// A member is encrypted: its content cannot be checked.
inline constexpr AnomalyCode kEncrypted{"archive.encrypted"};
/// A member name escapes the extraction folder (absolute, "..", a link).
inline constexpr AnomalyCode kUnsafePath{"archive.unsafe-path"};
/// A member expands past the decompression cap.
inline constexpr AnomalyCode kCompressionBomb{"archive.compression-bomb"};
/// A member expands by an implausible ratio.
inline constexpr AnomalyCode kCompressionRatio{"archive.compression-ratio"};

/// Every code above: the archive code table (tests/test_codes.cpp checks it against the rules).
inline constexpr AnomalyCode kAnomalyCodes[] = {
    kMalformed, kUnsupportedMethod, kEncrypted, kUnsafePath, kCompressionBomb, kCompressionRatio,
};

}  // namespace mscan::archive
