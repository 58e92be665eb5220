// Every anomaly code table, one line per format: the list the code test
// (tests/test_codes.cpp) checks against the rules, and where a code held as text (a sub-reader
// not converted yet) is looked up to become an AnomalyCode again.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "formats/anomaly.h"
#include "formats/archive/archive_codes.h"
#include "formats/code_config/code_config_codes.h"
#include "formats/common_codes.h"
#include "formats/executable/executable_codes.h"
#include "formats/gguf/gguf_codes.h"
#include "formats/hdf5/hdf5_codes.h"
#include "formats/hydra_yaml/hydra_yaml_codes.h"
#include "formats/jinja_template/jinja_template_codes.h"
#include "formats/joblib/joblib_codes.h"
#include "formats/keras/keras_codes.h"
#include "formats/npy/npy_codes.h"
#include "formats/onnx/onnx_codes.h"
#include "formats/pickle/pickle_codes.h"
#include "formats/safetensors/safetensors_codes.h"
#include "formats/savedmodel/savedmodel_codes.h"
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

/// Every code table: one per format folder (tests/test_format_table.cpp checks that), and the
/// cross-format codes. The shared readers have no codes of their own (compress reports
/// archive.* and container.*; protobuf's callers report their own format's).
inline constexpr CodeTable kCodeTables[] = {
    {"", "formats/common_codes.h", kCommonAnomalyCodes},
    {"archive", "formats/archive/archive_codes.h", archive::kAnomalyCodes},
    {"gguf", "formats/gguf/gguf_codes.h", gguf::kAnomalyCodes},
    {"hdf5", "formats/hdf5/hdf5_codes.h", hdf5::kAnomalyCodes},
    {"code_config", "formats/code_config/code_config_codes.h", hfconfig::kAnomalyCodes},
    {"executable", "formats/executable/executable_codes.h", executable::kAnomalyCodes},
    {"hydra_yaml", "formats/hydra_yaml/hydra_yaml_codes.h", hydra::kAnomalyCodes},
    {"jinja_template", "formats/jinja_template/jinja_template_codes.h", jinja::kAnomalyCodes},
    {"joblib", "formats/joblib/joblib_codes.h", joblib::kAnomalyCodes},
    {"keras", "formats/keras/keras_codes.h", keras::kAnomalyCodes},
    {"npy", "formats/npy/npy_codes.h", numpy::kAnomalyCodes},
    {"onnx", "formats/onnx/onnx_codes.h", onnx::kAnomalyCodes},
    {"pickle", "formats/pickle/pickle_codes.h", pickle::kAnomalyCodes},
    {"safetensors", "formats/safetensors/safetensors_codes.h", safetensors::kAnomalyCodes},
    {"savedmodel", "formats/savedmodel/savedmodel_codes.h", savedmodel::kAnomalyCodes},
    {"torchscript", "formats/torchscript/torchscript_codes.h", torchscript::kAnomalyCodes},
    {"zip", "formats/zip/zip_codes.h", zip::kAnomalyCodes},
    // Formats with no anomaly of their own: a zlib stream's problems are its member's
    // (container.*, limit.exceeded); word2vec text is numbers and words, and what cannot be
    // read as it is not detected as it.
    {"zlib", "formats/zlib/zlib_format.h", {}},
    {"word2vec", "formats/word2vec/word2vec_format.h", {}},
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
