// Anomaly codes of the Hydra/YAML config parser (hydra_config.cpp).
#pragma once

#include "formats/anomaly.h"

namespace mscan::hydra {

/// A _target_ whose value is an interpolation mscan cannot resolve.
inline constexpr AnomalyCode kTargetUnresolved{"hydra.target-unresolved"};
/// Part of the YAML was not checked (a construct mscan does not follow).
inline constexpr AnomalyCode kYamlNotChecked{"yaml.not-checked"};
/// The YAML is not well-formed.
inline constexpr AnomalyCode kYamlMalformed{"yaml.malformed"};

/// Every code above: the Hydra/YAML code table (tests/test_codes.cpp checks it against the rules).
inline constexpr AnomalyCode kAnomalyCodes[] = {
    kTargetUnresolved,
    kYamlNotChecked,
    kYamlMalformed,
};

}  // namespace mscan::hydra
