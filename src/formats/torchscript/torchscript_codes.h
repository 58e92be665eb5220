// Anomaly codes of the TorchScript code review (torchscript_code.cpp) and the zip reader.
#pragma once

#include "formats/anomaly.h"

namespace mscan::torchscript {

/// Code that names process or Python-execution modules.
inline constexpr AnomalyCode kProcess{"torchscript.process"};
/// Code that loads a native library.
inline constexpr AnomalyCode kNativeLibrary{"torchscript.native-library"};
/// Code that reads or writes files.
inline constexpr AnomalyCode kFileAccess{"torchscript.file-access"};
/// Code that talks to other processes (sockets, RPC).
inline constexpr AnomalyCode kNetwork{"torchscript.network"};
/// Code that uses an op or class namespace no known library registers.
inline constexpr AnomalyCode kCustomOp{"torchscript.custom-op"};
/// A __setstate__ that runs on load.
inline constexpr AnomalyCode kSetState{"torchscript.setstate"};
/// A __setstate__, the only issue of a file whose code was read to the end.
inline constexpr AnomalyCode kSetStateReviewed{"torchscript.setstate-reviewed"};
/// Code that was not (fully) checked.
inline constexpr AnomalyCode kNotChecked{"torchscript.not-checked"};

/// Every code above: the TorchScript code table (tests/test_codes.cpp checks it against the rules).
inline constexpr AnomalyCode kAnomalyCodes[] = {
    kProcess,  kNativeLibrary, kFileAccess,       kNetwork,
    kCustomOp, kSetState,      kSetStateReviewed, kNotChecked,
};

}  // namespace mscan::torchscript
