// Anomaly codes of the ONNX parser (onnx_format.cpp). The underscore spelling is the rules'
// (rules/onnx.json).
#pragma once

#include "formats/anomaly.h"

namespace mscan::onnx {

/// The model is not valid ONNX protobuf.
inline constexpr AnomalyCode kMalformed{"onnx.malformed"};
/// An external data location escapes the model's folder.
inline constexpr AnomalyCode kUnsafePath{"onnx.external_data_path"};
/// An external data file is not there.
inline constexpr AnomalyCode kMissing{"onnx.external_data_missing"};
/// An external data entry is invalid (bad offset, length or key).
inline constexpr AnomalyCode kInvalidExternal{"onnx.external_data_invalid"};
/// External data that could not be checked (no neighbouring files known).
inline constexpr AnomalyCode kUnchecked{"onnx.external_data_unchecked"};
/// An operator from a custom domain (a custom op library must be loaded).
inline constexpr AnomalyCode kCustomDomain{"onnx.custom_domain"};
/// An operator from a runtime's contrib domain.
inline constexpr AnomalyCode kContribDomain{"onnx.contrib_domain"};
/// An operator that runs Python (PythonOp, PyOp).
inline constexpr AnomalyCode kPythonOp{"onnx.python_op"};
/// A tensor whose declared size does not match its data.
inline constexpr AnomalyCode kTensorSize{"onnx.tensor_size"};

/// Every code above: the ONNX code table (tests/test_codes.cpp checks it against the rules).
inline constexpr AnomalyCode kAnomalyCodes[] = {
    kMalformed,    kUnsafePath,    kMissing,  kInvalidExternal, kUnchecked,
    kCustomDomain, kContribDomain, kPythonOp, kTensorSize,
};

}  // namespace mscan::onnx
