// Anomaly codes any format may emit: a scan limit reached, a container member not scanned or not
// supported, a file that is two formats at once, a file named as a format it is not.
#pragma once

#include "formats/anomaly.h"

namespace mscan {

/// A cap of mscan/limits.h was reached: the rest was not (fully) checked.
inline constexpr AnomalyCode kLimitExceeded{"limit.exceeded"};
/// The file's name claims a model format its content is not.
inline constexpr AnomalyCode kFormatMismatch{"file.format-mismatch"};
/// Members or bytes of a container were NOT scanned (a cap was reached).
inline constexpr AnomalyCode kContainerNotScanned{"container.not-scanned"};
/// A member is a model format mscan recognises but does not read.
inline constexpr AnomalyCode kUnsupportedMember{"container.unsupported-member"};
/// The file is valid as two formats (a zip and a pickle, a tar and a pickle).
inline constexpr AnomalyCode kPolyglot{"container.polyglot"};

/// Every code above: the cross-format code table (tests/test_codes.cpp checks it against the
/// rules).
inline constexpr AnomalyCode kCommonAnomalyCodes[] = {
    kLimitExceeded, kFormatMismatch, kContainerNotScanned, kUnsupportedMember, kPolyglot,
};

}  // namespace mscan
