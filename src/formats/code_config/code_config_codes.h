// Anomaly codes of the Hugging Face config and TorchServe manifest parser (hf_config.cpp).
#pragma once

#include "formats/anomaly.h"

namespace mscan::hfconfig {

/// auto_map names code in the repository that trust_remote_code runs.
inline constexpr AnomalyCode kRemoteCode{"hf.remote-code"};
/// auto_map names code in another repository.
inline constexpr AnomalyCode kRemoteCodeExternal{"hf.remote-code-external"};
/// A config that names code could not be read whole.
inline constexpr AnomalyCode kConfigMalformed{"hf.config-malformed"};
/// A config its loader opens by name could not be read.
inline constexpr AnomalyCode kConfigUnreadable{"hf.config-unreadable"};
/// A TorchServe archive names a handler or model file that runs on load.
inline constexpr AnomalyCode kTorchserveCode{"torchserve.code"};
/// A TorchServe archive installs requirements.
inline constexpr AnomalyCode kTorchserveRequirements{"torchserve.requirements"};

/// Every code above: the Hugging Face config code table (tests/test_codes.cpp checks it against the
/// rules).
inline constexpr AnomalyCode kAnomalyCodes[] = {
    kRemoteCode,       kRemoteCodeExternal, kConfigMalformed,
    kConfigUnreadable, kTorchserveCode,     kTorchserveRequirements,
};

}  // namespace mscan::hfconfig
