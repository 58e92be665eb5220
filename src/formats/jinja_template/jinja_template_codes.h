// Anomaly codes of the Jinja chat-template check (jinja_check.cpp).
#pragma once

#include "formats/anomaly.h"

namespace mscan::jinja {

/// The template reaches Python internals (dunder attributes).
inline constexpr AnomalyCode kPythonInternals{"template.python-internals"};
/// The template names a function or object that is dangerous.
inline constexpr AnomalyCode kDangerousName{"template.dangerous-name"};
/// The template does something chat templates do not need.
inline constexpr AnomalyCode kUnusual{"template.unusual"};
/// The template can exhaust memory or time.
inline constexpr AnomalyCode kResourceExhaustion{"template.resource-exhaustion"};
/// The template does not parse.
inline constexpr AnomalyCode kMalformed{"template.malformed"};
/// Part of the template was not checked (a cap).
inline constexpr AnomalyCode kNotChecked{"template.not-checked"};

/// Every code above: the chat template code table (tests/test_codes.cpp checks it against the
/// rules).
inline constexpr AnomalyCode kAnomalyCodes[] = {
    kPythonInternals, kDangerousName, kUnusual, kResourceExhaustion, kMalformed, kNotChecked,
};

}  // namespace mscan::jinja
