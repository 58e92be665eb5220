// Anomaly codes of the zip reader (zip_format.cpp, zip_directory.cpp): places where zip readers
// disagree, data around the archive, and a TorchScript archive's code.
#pragma once

#include "formats/anomaly.h"

namespace mscan::zip {

/// A member's data does not match its CRC-32.
inline constexpr AnomalyCode kBadCrc{"zip.bad-crc"};
/// Two members share a name.
inline constexpr AnomalyCode kDuplicateName{"zip.duplicate-name"};
/// End records that disagree (which one a reader trusts decides what it sees).
inline constexpr AnomalyCode kEndRecordDisagreement{"zip.end-record-disagreement"};
/// A local header disagrees with its central directory entry.
inline constexpr AnomalyCode kHeaderMismatch{"zip.header-mismatch"};
/// libzip reads the archive differently from mscan's reader.
inline constexpr AnomalyCode kLibzipDiffers{"zip.libzip-differs"};
/// libzip refuses an archive mscan's reader reads.
inline constexpr AnomalyCode kLibzipRefuses{"zip.libzip-refuses"};
/// A local header names a member differently from its central entry.
inline constexpr AnomalyCode kNameMismatch{"zip.name-mismatch"};
/// Members whose data overlap.
inline constexpr AnomalyCode kOverlappingMembers{"zip.overlapping-members"};
/// Data before the first member.
inline constexpr AnomalyCode kLeadingData{"zip.leading-data"};
/// Data after the end record.
inline constexpr AnomalyCode kTrailingData{"zip.trailing-data"};
/// The zip64 end record and the end record disagree.
inline constexpr AnomalyCode kZip64Mismatch{"zip.zip64-mismatch"};
/// A TorchScript archive: its code runs on torch.jit.load.
inline constexpr AnomalyCode kTorchScript{"torch.torchscript"};

/// Every code above: the zip code table (tests/test_codes.cpp checks it against the rules).
inline constexpr AnomalyCode kAnomalyCodes[] = {
    kBadCrc,        kDuplicateName, kEndRecordDisagreement, kHeaderMismatch,
    kLibzipDiffers, kLibzipRefuses, kNameMismatch,          kOverlappingMembers,
    kLeadingData,   kTrailingData,  kZip64Mismatch,         kTorchScript,
};

}  // namespace mscan::zip
