// Every anomaly code table, one line per format: the list the code test
// (tests/test_codes.cpp) checks against the rules, and where a code held as text (a sub-reader
// not converted yet) is looked up to become an AnomalyCode again.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "formats/anomaly.h"
#include "formats/archive/archive_codes.h"
#include "formats/common_codes.h"
#include "formats/gguf/gguf_codes.h"
#include "formats/hdf5/hdf5_codes.h"
#include "formats/hfconfig/hfconfig_codes.h"
#include "formats/hydra/hydra_codes.h"
#include "formats/keras/keras_codes.h"
#include "formats/native/native_codes.h"
#include "formats/numpy/numpy_codes.h"
#include "formats/onnx/onnx_codes.h"
#include "formats/pickle/pickle_codes.h"
#include "formats/safetensors/safetensors_codes.h"
#include "formats/savedmodel/savedmodel_codes.h"
#include "formats/template/template_codes.h"
#include "formats/torchscript/torchscript_codes.h"
#include "formats/zip/zip_codes.h"

namespace mscan {

/// One format's code table and the header that declares it.
struct CodeTable {
    /// The folder under src/formats/ ("" for the cross-format codes).
    std::string_view folder;
    /// Its header, relative to src/.
    std::string_view header;
    std::span<const AnomalyCode> codes;
};

/// Every code table. The compress, protobuf and word2vec folders have no codes of their own
/// (compress reports archive.* and container.*; protobuf's callers report their own format's).
inline constexpr CodeTable kCodeTables[] = {
    {"", "formats/common_codes.h", kCommonAnomalyCodes},
    {"archive", "formats/archive/archive_codes.h", archive::kAnomalyCodes},
    {"gguf", "formats/gguf/gguf_codes.h", gguf::kAnomalyCodes},
    {"hdf5", "formats/hdf5/hdf5_codes.h", hdf5::kAnomalyCodes},
    {"hfconfig", "formats/hfconfig/hfconfig_codes.h", hfconfig::kAnomalyCodes},
    {"hydra", "formats/hydra/hydra_codes.h", hydra::kAnomalyCodes},
    {"keras", "formats/keras/keras_codes.h", keras::kAnomalyCodes},
    {"native", "formats/native/native_codes.h", native::kAnomalyCodes},
    {"numpy", "formats/numpy/numpy_codes.h", numpy::kAnomalyCodes},
    {"onnx", "formats/onnx/onnx_codes.h", onnx::kAnomalyCodes},
    {"pickle", "formats/pickle/pickle_codes.h", pickle::kAnomalyCodes},
    {"safetensors", "formats/safetensors/safetensors_codes.h", safetensors::kAnomalyCodes},
    {"savedmodel", "formats/savedmodel/savedmodel_codes.h", savedmodel::kAnomalyCodes},
    {"template", "formats/template/template_codes.h", jinja::kAnomalyCodes},
    {"torchscript", "formats/torchscript/torchscript_codes.h", torchscript::kAnomalyCodes},
    {"zip", "formats/zip/zip_codes.h", zip::kAnomalyCodes},
};

/// The declared code spelled `text`, or nullopt. For the boundary of a sub-reader that still
/// carries its codes as text (the zip directory reader's Issue records).
constexpr std::optional<AnomalyCode> find_code(std::string_view text) {
    for (const CodeTable& table : kCodeTables)
        for (const AnomalyCode& code : table.codes)
            if (code.text() == text) return code;
    return std::nullopt;
}

}  // namespace mscan
