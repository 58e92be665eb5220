// Anomaly codes of the pickle parsers: the pickle machine (pickle_machine.cpp), the formats around
// it (pickle_format.cpp), legacy torch.save files (torch_legacy.cpp) (joblib's own codes are
// formats/joblib/joblib_codes.h).
#pragma once

#include "formats/anomaly.h"

namespace mscan::pickle {

/// The stream ends before STOP.
inline constexpr AnomalyCode kTruncated{"pickle.truncated"};
/// A byte that is no opcode of any protocol.
inline constexpr AnomalyCode kInvalidOpcode{"pickle.invalid-opcode"};
/// An opcode's operand is invalid.
inline constexpr AnomalyCode kBadOperand{"pickle.bad-operand"};
/// An opcode pops more than the stack holds.
inline constexpr AnomalyCode kStackUnderflow{"pickle.stack-underflow"};
/// An opcode needs a MARK there is none of.
inline constexpr AnomalyCode kNoMark{"pickle.no-mark"};
/// A memo lookup of a slot never stored.
inline constexpr AnomalyCode kMemoMissing{"pickle.memo-missing"};
/// An opcode applied to a value of the wrong type.
inline constexpr AnomalyCode kBadType{"pickle.bad-type"};
/// A bad escape in a text string operand.
inline constexpr AnomalyCode kBadStringEscape{"pickle.bad-string-escape"};
/// An opcode runs past the end of its FRAME.
inline constexpr AnomalyCode kFrameStraddle{"pickle.frame-straddle"};
/// A FRAME inside another, or past the end of the file.
inline constexpr AnomalyCode kFrameMismatch{"pickle.frame-mismatch"};
/// STOP before the end of its FRAME.
inline constexpr AnomalyCode kStopInsideFrame{"pickle.stop-inside-frame"};
/// Bytes that are no pickle after the last STOP.
inline constexpr AnomalyCode kTrailingBytes{"pickle.trailing-bytes"};
/// More than one pickle back to back.
inline constexpr AnomalyCode kMultipleStreams{"pickle.multiple-streams"};
/// A GLOBAL / STACK_GLOBAL operand that is not a constant string.
inline constexpr AnomalyCode kUnresolvedGlobal{"pickle.unresolved-global"};
/// A call whose target is not a resolvable global.
inline constexpr AnomalyCode kUnresolvedCallable{"pickle.unresolved-callable"};
/// A global path through a dunder attribute.
inline constexpr AnomalyCode kDunderAttribute{"pickle.dunder-attribute"};
/// BUILD writes attributes of a module or class.
inline constexpr AnomalyCode kAttributeWrite{"pickle.attribute-write"};
/// An EXT1/EXT2/EXT4 extension-registry opcode.
inline constexpr AnomalyCode kExtensionCode{"pickle.extension-code"};
/// A persistent ID the loader resolves with its own code.
inline constexpr AnomalyCode kPersistentId{"pickle.persistent-id"};
/// A NEXT_BUFFER / READONLY_BUFFER opcode.
inline constexpr AnomalyCode kOutOfBandBuffer{"pickle.out-of-band-buffer"};
/// An unusual PROTO opcode.
inline constexpr AnomalyCode kProtocolAnomaly{"pickle.protocol-anomaly"};
/// A scipy distribution template that evaluates text.
inline constexpr AnomalyCode kScipyTemplate{"pickle.scipy-template"};
/// Text handed to sympy's sympify (it evaluates Python).
inline constexpr AnomalyCode kSympifiedText{"pickle.sympify-text"};
/// A legacy torch.save file that breaks its layout.
inline constexpr AnomalyCode kTorchLegacyMalformed{"torch.legacy-malformed"};

/// Every code above: the pickle code table (tests/test_codes.cpp checks it against the rules).
inline constexpr AnomalyCode kAnomalyCodes[] = {
    kTruncated,       kInvalidOpcode,  kBadOperand,      kStackUnderflow,       kNoMark,
    kMemoMissing,     kBadType,        kBadStringEscape, kFrameStraddle,        kFrameMismatch,
    kStopInsideFrame, kTrailingBytes,  kMultipleStreams, kUnresolvedGlobal,     kUnresolvedCallable,
    kDunderAttribute, kAttributeWrite, kExtensionCode,   kPersistentId,         kOutOfBandBuffer,
    kProtocolAnomaly, kScipyTemplate,  kSympifiedText,   kTorchLegacyMalformed,
};

}  // namespace mscan::pickle
