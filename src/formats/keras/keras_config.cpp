// The Keras config walker. Keras rebuilds a model from its config by walking the JSON: every
// object with a "class_name" is a serialized Keras object; Keras 3 imports its "module" and
// takes the class (or, for "class_name": "function", the function named by "config") from it;
// tf.keras 2 looks "class_name" up among Keras's own classes and the custom objects given to
// the loader; a Lambda layer carries its function as base64 of marshaled bytecode and runs it.
//
// The walk visits every object at every depth (nested models, wrappers such as
// TimeDistributed or Bidirectional, initializers, regularizers, compile configs), because the
// loader deserializes them all. It reports facts as operations; rules decide severity:
//   - a reference into a module outside Keras and TensorFlow, or to any function, is a Call of
//     its qualified name ("builtins.exec", "keras.utils.get_file");
//   - a Lambda layer is anomaly keras.lambda, with the decoded code as evidence, and each
//     module attribute or builtin its code names becomes a Call ("os.system");
//   - a class name Keras does not define, without a module, is keras.custom-object;
//   - JSON that cannot be read is keras.malformed-config.
#include "formats/keras/keras_config.h"

#include <algorithm>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "formats/common_codes.h"
#include "formats/keras/keras_codes.h"
#include "formats/keras/marshal_reader.h"
#include "formats/python_json.h"
#include "mscan/limits.h"
#include "util/text_safety.h"

namespace mscan::keras {
namespace {

using nlohmann::json;

/// Module roots whose classes Keras instantiates as its own objects: Keras, TensorFlow, and
/// the Keras model libraries (KerasHub and its predecessors KerasNLP and KerasCV), which
/// register their classes with Keras. Their loading gadgets are still reported (kGadgets).
constexpr std::string_view kKerasRoots[] = {"keras",     "tf_keras",        "tensorflow",
                                            "tf",        "tensorflow_core", "keras_hub",
                                            "keras_nlp", "keras_cv"};

/// Names under those roots that load code, files or other models, whatever module path
/// (alias, keras.src.* re-export) a config reaches them by: reported as the public name the
/// rules deny, with the spelling found in the evidence.
struct Gadget {
    std::string_view name;
    std::string_view canonical;
};
constexpr Gadget kGadgets[] = {
    {"get_file", "keras.utils.get_file"},
    {"func_load", "keras.utils.generic_utils.func_load"},
    {"load_model", "keras.models.load_model"},
    {"enable_unsafe_deserialization", "keras.config.enable_unsafe_deserialization"},
    {"TFSMLayer", "keras.layers.TFSMLayer"},
};

const Gadget* gadget_named(std::string_view name) {
    for (const auto& g : kGadgets)
        if (g.name == name) return &g;
    return nullptr;
}

/// Keras's own functions a config names as {"module": "builtins", "class_name": "function"}
/// (Keras 3 writes function-valued losses, metrics and activations so, and resolves the name
/// among keras.activations, losses, metrics, ... before anything else).
constexpr std::string_view kKerasBuiltinFunctions[] = {"binary_crossentropy",
                                                       "binary_focal_crossentropy",
                                                       "categorical_crossentropy",
                                                       "categorical_focal_crossentropy",
                                                       "sparse_categorical_crossentropy",
                                                       "mean_squared_error",
                                                       "mse",
                                                       "mean_absolute_error",
                                                       "mae",
                                                       "mean_absolute_percentage_error",
                                                       "mape",
                                                       "mean_squared_logarithmic_error",
                                                       "msle",
                                                       "hinge",
                                                       "squared_hinge",
                                                       "categorical_hinge",
                                                       "kl_divergence",
                                                       "kld",
                                                       "kullback_leibler_divergence",
                                                       "poisson",
                                                       "cosine_similarity",
                                                       "log_cosh",
                                                       "logcosh",
                                                       "huber",
                                                       "ctc",
                                                       "dice",
                                                       "tversky",
                                                       "accuracy",
                                                       "binary_accuracy",
                                                       "categorical_accuracy",
                                                       "sparse_categorical_accuracy",
                                                       "top_k_categorical_accuracy",
                                                       "sparse_top_k_categorical_accuracy",
                                                       "relu",
                                                       "relu6",
                                                       "leaky_relu",
                                                       "sigmoid",
                                                       "softmax",
                                                       "log_softmax",
                                                       "tanh",
                                                       "elu",
                                                       "selu",
                                                       "softplus",
                                                       "softsign",
                                                       "swish",
                                                       "silu",
                                                       "gelu",
                                                       "exponential",
                                                       "linear",
                                                       "hard_sigmoid",
                                                       "hard_silu",
                                                       "hard_swish",
                                                       "mish"};

/// Classes tf.keras and Keras 3 define (layers, models, initializers, regularizers,
/// constraints, optimizers, losses, metrics, schedules), by the names their configs use.
/// A "class_name" outside this list and without a module is a custom object.
constexpr std::string_view kKerasClasses[] = {
    // models
    "Functional", "Model", "Sequential", "InputLayer", "InputSpec", "KerasTensor",
    // core and merging
    "Activation", "ActivityRegularization", "Add", "AdditiveAttention", "AlphaDropout", "Attention",
    "Average", "BatchNormalization", "Bidirectional", "CategoryEncoding", "CenterCrop",
    "Concatenate", "Conv1D", "Conv1DTranspose", "Conv2D", "Conv2DTranspose", "Conv3D",
    "Conv3DTranspose", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "Convolution1D", "Convolution2D",
    "Convolution3D", "Cropping1D", "Cropping2D", "Cropping3D", "Dense", "DenseFeatures",
    "DepthwiseConv1D", "DepthwiseConv2D", "Discretization", "Dot", "Dropout", "ELU", "EinsumDense",
    "Embedding", "Flatten", "GRU", "GRUCell", "GaussianDropout", "GaussianNoise",
    "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D", "GlobalAvgPool1D",
    "GlobalAvgPool2D", "GlobalAvgPool3D", "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D",
    "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D", "GroupNormalization",
    "GroupQueryAttention", "HashedCrossing", "Hashing", "Identity", "IntegerLookup", "LSTM",
    "LSTMCell", "LayerNormalization", "LeakyReLU", "LocallyConnected1D", "LocallyConnected2D",
    "Masking", "MaxPool1D", "MaxPool2D", "MaxPool3D", "MaxPooling1D", "MaxPooling2D",
    "MaxPooling3D", "Maximum", "Minimum", "MultiHeadAttention", "Multiply", "Normalization",
    "PReLU", "Permute", "RNN", "RandomBrightness", "RandomContrast", "RandomCrop", "RandomFlip",
    "RandomHeight", "RandomRotation", "RandomTranslation", "RandomWidth", "RandomZoom", "ReLU",
    "RepeatVector", "Rescaling", "Reshape", "Resizing", "SeparableConv1D", "SeparableConv2D",
    "SeparableConvolution1D", "SeparableConvolution2D", "SimpleRNN", "SimpleRNNCell", "Softmax",
    "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "SpectralNormalization",
    "StackedRNNCells", "StringLookup", "Subtract", "TextVectorization", "ThresholdedReLU",
    "TimeDistributed", "UnitNormalization", "UpSampling1D", "UpSampling2D", "UpSampling3D",
    "Wrapper", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "AveragePooling1D",
    "AveragePooling2D", "AveragePooling3D", "AvgPool1D", "AvgPool2D", "AvgPool3D", "CuDNNGRU",
    "CuDNNLSTM", "AbstractRNNCell", "Layer", "Lambda", "TFOpLambda", "SlicingOpLambda",
    "TensorFlowOpLayer", "Pipeline", "AutoContrast", "Equalization", "MelSpectrogram",
    "RandomGrayscale", "RandomColorDegeneration", "RandomColorJitter", "RandomHue",
    "RandomPosterization", "RandomSaturation", "RandomSharpness", "RandomShear", "Solarization",
    "STFTSpectrogram", "MixUp", "CutMix", "RandAugment", "Rescale", "RMSNormalization",
    "ReversibleEmbedding", "Flax", "JaxLayer", "FlaxLayer", "TorchModuleWrapper",
    // initializers
    "Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "IdentityInitializer",
    "Initializer", "LecunNormal", "LecunUniform", "Ones", "Orthogonal", "OrthogonalInitializer",
    "RandomNormal", "RandomUniform", "STFTInitializer", "TruncatedNormal", "VarianceScaling",
    "Zeros", "ConstantInitializer", "OnesInitializer", "ZerosInitializer",
    // regularizers and constraints
    "L1", "L1L2", "L2", "OrthogonalRegularizer", "Regularizer", "Constraint", "MaxNorm",
    "MinMaxNorm", "NonNeg", "RadialConstraint", "UnitNorm",
    // optimizers and schedules
    "Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW", "Adamax", "Ftrl", "Lamb", "Lion",
    "LossScaleOptimizer", "Muon", "Nadam", "Optimizer", "RMSprop", "SGD", "CosineDecay",
    "CosineDecayRestarts", "ExponentialDecay", "InverseTimeDecay", "LearningRateSchedule",
    "PiecewiseConstantDecay", "PolynomialDecay",
    // losses
    "BinaryCrossentropy", "BinaryFocalCrossentropy", "CTC", "CategoricalCrossentropy",
    "CategoricalFocalCrossentropy", "CategoricalHinge", "Circle", "CosineSimilarity", "Dice",
    "Hinge", "Huber", "KLDivergence", "LogCosh", "Loss", "LossFunctionWrapper", "MeanAbsoluteError",
    "MeanAbsolutePercentageError", "MeanSquaredError", "MeanSquaredLogarithmicError", "Poisson",
    "SparseCategoricalCrossentropy", "SquaredHinge", "Tversky",
    // metrics
    "AUC", "Accuracy", "BinaryAccuracy", "BinaryIoU", "CategoricalAccuracy",
    "ConcordanceCorrelation", "F1Score", "FBetaScore", "FalseNegatives", "FalsePositives", "IoU",
    "KLD", "LogCoshError", "Mean", "MeanIoU", "MeanMetricWrapper", "Metric", "OneHotIoU",
    "OneHotMeanIoU", "PearsonCorrelation", "Precision", "PrecisionAtRecall", "R2Score", "Recall",
    "RecallAtPrecision", "RootMeanSquaredError", "SensitivityAtSpecificity",
    "SparseCategoricalAccuracy", "SparseTopKCategoricalAccuracy", "SpecificityAtSensitivity", "Sum",
    "TopKCategoricalAccuracy", "TrueNegatives", "TruePositives",
    // dtype policies and serialization helpers
    "DTypePolicy", "FloatDTypePolicy", "QuantizedDTypePolicy", "QuantizedFloat8DTypePolicy",
    "Policy", "DTypePolicyMap", "GPTQDTypePolicy", "TensorShape", "TypeSpec", "TensorSpec",
    "RaggedTensorSpec", "SparseTensorSpec", "__tensor__", "__numpy__", "__bytes__", "__ellipsis__",
    "__slice__", "__typespec__", "__lambda__", "__keras_tensor__", "function",
    "Functional>Functional", "Custom>Adam", "Custom>SGD", "Custom>RMSprop", "Custom>Adagrad",
    "Custom>Adadelta", "Custom>Adamax", "Custom>Nadam", "Custom>Ftrl", "Custom>AdamW"};

/// Standard-library modules a Lambda's code may reach through its names: a name followed by
/// an attribute name is read as module.attribute when the first is one of these.
constexpr std::string_view kStdlibModules[] = {
    "os",       "posix",     "nt",        "subprocess", "sys",      "shutil",    "socket",
    "builtins", "importlib", "pty",       "ctypes",     "urllib",   "requests",  "http",
    "pickle",   "marshal",   "codecs",    "base64",     "io",       "pathlib",   "tempfile",
    "runpy",    "code",      "types",     "inspect",    "signal",   "threading", "multiprocessing",
    "ftplib",   "smtplib",   "telnetlib", "webbrowser", "platform", "glob",      "zipfile",
    "tarfile",  "operator",  "functools", "asyncio",    "select",   "commands",  "popen2",
    "cPickle",  "dill"};

/// Builtins that run code, open files or reach objects by name.
constexpr std::string_view kRiskyBuiltins[] = {"eval",       "exec",    "compile", "__import__",
                                               "open",       "getattr", "setattr", "input",
                                               "breakpoint", "globals", "vars"};

template <std::size_t N>
bool contains(const std::string_view (&list)[N], std::string_view s) {
    return std::find(std::begin(list), std::end(list), s) != std::end(list);
}

std::string root_of(std::string_view module) {
    return std::string(module.substr(0, module.find('.')));
}

bool keras_module(std::string_view module) {
    return contains(kKerasRoots, root_of(module));
}

/// File text for evidence: control and non-ASCII bytes escaped (a name or constant must not
/// reach a terminal raw), cut to `n` bytes.
std::string cut(std::string_view s, std::size_t n = 120) {
    if (s.size() <= n) return printable(s);
    return printable(s.substr(0, n)) + "...";
}

std::string join_quoted(const std::vector<std::string>& items, bool quote, std::size_t max) {
    std::string out;
    std::size_t shown = 0;
    for (const auto& item : items) {
        if (shown == max) {
            out += ", ... (" + std::to_string(items.size() - max) + " more)";
            break;
        }
        if (shown++) out += ", ";
        out += quote ? "'" + cut(item, 80) + "'" : cut(item, 80);
    }
    return out;
}

/// "Lambda layer 'x'" for its function, "Lambda layer 'x' output_shape function" for the other.
std::string function_label(const std::string& layer, std::string_view field) {
    return field == "function" ? layer : layer + " " + std::string(field) + " function";
}

/// JSON nesting depth of `text`, counted outside strings; stops counting past `cap`.
class Walker {
  public:
    Walker(std::string_view label, const ParseContext& context)
        : label_(label), context_(context) {}

    void walk(const json& node, const std::string& path) {
        if (ops_ >= kMaxOps) return;
        if (node.is_object()) {
            visit_object(node, path);
            for (const auto& [key, value] : node.items()) {
                if (value.is_structured())
                    walk(value, path.empty() ? cut(key, 64) : path + "." + cut(key, 64));
            }
        } else if (node.is_array()) {
            std::size_t i = 0;
            for (const auto& value : node) {
                if (value.is_structured()) walk(value, path + "[" + std::to_string(i) + "]");
                ++i;
            }
        }
    }

    void finish() const {
        if (ops_ >= kMaxOps) {
            context_.anomaly_at(where(""), kLimitExceeded,
                                std::string(label_) + ": more than " + std::to_string(kMaxOps) +
                                    " findings in one Keras config; the rest were not reported");
        }
    }

  private:
    static constexpr std::size_t kMaxOps = 1000;

    Location where(const std::string& path) const {
        Location loc = context_.base();
        loc.stream = path.empty() ? std::string(label_) : std::string(label_) + ": " + path;
        return loc;
    }

    void call(const std::string& name, const std::string& evidence, const std::string& path) {
        if (ops_ >= kMaxOps) return;
        if (!seen_.insert(name + '\n' + path).second) return;
        ++ops_;
        Operation op;
        op.kind = OpKind::Call;
        op.name = printable(name);
        op.evidence = evidence;
        op.location = where(path);
        context_.emit(std::move(op));
    }

    void anomaly(AnomalyCode code, const std::string& evidence, const std::string& path) {
        if (ops_ >= kMaxOps) return;
        ++ops_;
        context_.anomaly_at(where(path), code, evidence);
    }

    static std::string string_field(const json& object, const char* key) {
        auto it = object.find(key);
        return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
    }

    /// The layer name for evidence: config.name, or "".
    static std::string layer_name(const json& object) {
        auto config = object.find("config");
        if (config == object.end() || !config->is_object()) return {};
        return string_field(*config, "name");
    }

    void visit_object(const json& object, const std::string& path) {
        const std::string class_name = string_field(object, "class_name");
        if (class_name.empty()) return;
        const std::string module = string_field(object, "module");
        const std::string registered = string_field(object, "registered_name");

        if (class_name == "function") {
            // Keras 3: {"module": M, "class_name": "function", "config": NAME}: the loader
            // imports M and takes NAME from it.
            std::string fn = string_field(object, "config");
            if (fn.empty()) fn = registered;
            if (fn.empty()) return;
            const std::string target = module.empty() ? fn : module + "." + fn;
            // A Keras loss, metric or activation, named through "builtins" (Keras 3 resolves
            // that among its own modules) or through a Keras module (keras.losses).
            if ((module == "builtins" || keras_module(module)) &&
                contains(kKerasBuiltinFunctions, std::string_view(fn)))
                return;
            // A gadget of Keras's is reported by its public name, whatever path reaches it;
            // any other function by the name the loader imports (the rules judge it).
            const Gadget* g = keras_module(module) || module.empty() ? gadget_named(fn) : nullptr;
            call(g ? std::string(g->canonical) : target,
                 "Keras config references the function " + cut(target) +
                     " (the loader imports it by name)",
                 path);
            return;
        }
        if (class_name == "__lambda__") {
            auto config = object.find("config");
            // Lambda.get_config writes {"code": ..., "defaults": ..., "closure": ...};
            // serialize_keras_object writes {"value": [code, defaults, closure]}.
            const json* code = nullptr;
            if (config != object.end() && config->is_object()) {
                auto c = config->find("code");
                if (c != config->end()) code = &*c;
                auto v = config->find("value");
                if (!code && v != config->end()) {
                    if (v->is_array() && !v->empty())
                        code = &(*v)[0];
                    else
                        code = &*v;
                }
            }
            lambda("<lambda function>", code, path);
            return;
        }
        if (class_name == "Lambda" || class_name == "TFOpLambda" ||
            class_name == "SlicingOpLambda" || class_name == "TensorFlowOpLayer") {
            layer_with_function(object, class_name, path);
        }
        if (!module.empty()) {
            if (const Gadget* g = gadget_named(class_name); g && keras_module(module)) {
                call(std::string(g->canonical),
                     "Keras config names class " + cut(class_name) + " from module " + cut(module) +
                         "; the loader instantiates it",
                     path);
                return;
            }
            if (!keras_module(module)) {
                const std::string target = module + "." + class_name;
                call(target,
                     "Keras config names class " + cut(class_name) + " from module " + cut(module) +
                         (registered.empty() ? std::string()
                                             : " (registered as " + cut(registered) + ")") +
                         "; the loader imports the module and instantiates it",
                     path);
            }
            return;
        }
        // tf.keras 2 style: no module; Keras resolves the name among its own classes and the
        // custom objects the caller passes.
        const std::string_view bare = class_name;
        if (!contains(kKerasClasses, bare)) {
            if (reported_custom_.insert(class_name).second) {
                anomaly(kCustomObject,
                        "class_name '" + cut(class_name) + "'" +
                            (layer_name(object).empty()
                                 ? std::string()
                                 : " (layer '" + cut(layer_name(object)) + "')") +
                            " is not a Keras class; loading needs custom code registered for it",
                        path);
            }
        }
    }

    /// A Lambda-like layer: tf.keras 2 keeps the function as [base64 code, defaults, closure]
    /// with function_type "lambda" (or a name with function_type "function" and a module);
    /// Keras 3 nests a "__lambda__" or "function" object, which the walk visits anyway.
    void layer_with_function(const json& object, const std::string& class_name,
                             const std::string& path) {
        auto config = object.find("config");
        const std::string name = layer_name(object);
        const std::string what =
            class_name + " layer" + (name.empty() ? "" : " '" + cut(name) + "'");
        if (config == object.end() || !config->is_object()) {
            if (class_name == "Lambda") anomaly(kLambda, what + " without a readable config", path);
            return;
        }
        if (class_name != "Lambda") {
            // TFOpLambda and relatives call a TensorFlow API symbol by name.
            std::string fn = string_field(*config, "function");
            if (fn.empty()) fn = string_field(*config, "op_name");
            anomaly(kTfOpLayer, what + " calls TensorFlow symbol '" + cut(fn) + "' by name", path);
            return;
        }
        bool reported = false;
        for (const char* field : {"function", "output_shape"}) {
            auto f = config->find(field);
            if (f == config->end()) continue;
            const std::string type = string_field(*config, (std::string(field) + "_type").c_str());
            const std::string fpath = path + ".config." + field;
            if (f->is_array() && !f->empty() && (*f)[0].is_string()) {
                lambda(function_label(what, field), &(*f)[0], fpath);
                reported = true;
            } else if (f->is_string() && type == "lambda") {
                lambda(function_label(what, field), &*f, fpath);
                reported = true;
            } else if (f->is_string() && type == "function") {
                const std::string mod =
                    string_field(*config, (std::string(field) + "_module").c_str());
                const std::string m = mod.empty() ? string_field(*config, "module") : mod;
                const std::string target =
                    m.empty() ? f->get<std::string>() : m + "." + f->get<std::string>();
                call(target, what + " calls the function " + cut(target) + " by name", fpath);
                reported = true;
            } else if (std::string_view(field) == "function" && f->is_object()) {
                const std::string cls = string_field(*f, "class_name");
                if (cls == "__lambda__") {
                    // The nested object is visited by the walk and reported there, once.
                    pending_lambda_name_ = what;
                    reported = true;
                } else if (cls == "function") {
                    reported = true;  // the function reference is reported by the walk
                }
            }
        }
        if (!reported)
            anomaly(kLambda, what + ": its function could not be found in the config", path);
    }

    /// Reports one marshaled function: the layer as keras.lambda with the decoded names and
    /// constants, and a Call for each module attribute or risky builtin the code names.
    void lambda(std::string what, const json* code, const std::string& path) {
        if (what == "<lambda function>" && !pending_lambda_name_.empty()) {
            what = pending_lambda_name_;
            pending_lambda_name_.clear();
        }
        if (!code || !code->is_string()) {
            anomaly(kLambda, what + " carries no marshaled code to read", path);
            return;
        }
        std::vector<std::uint8_t> bytes;
        if (!marshal::decode_base64(code->get_ref<const std::string&>(), bytes)) {
            anomaly(kLambda, what + " carries code that is not valid base64; not decoded", path);
            return;
        }
        const marshal::CodeSummary summary = marshal::summarize(bytes);
        std::string evidence =
            what + " runs marshaled Python bytecode (" + std::to_string(bytes.size()) + " bytes";
        if (!summary.layout.empty()) evidence += ", Python " + summary.layout + " layout";
        evidence += ")";
        if (!summary.function_name.empty()) evidence += ": " + cut(summary.function_name);
        evidence += "; names [" + join_quoted(summary.names, false, 12) + "]";
        if (!summary.string_constants.empty())
            evidence += "; constants [" + join_quoted(summary.string_constants, true, 6) + "]";
        if (!summary.error.empty()) evidence += "; could not read it all: " + summary.error;
        anomaly(kLambda, evidence, path);

        // What the code reaches, as qualified names for the rules.
        const auto& names = summary.names;
        for (std::size_t i = 0; i < names.size(); ++i) {
            const std::string& n = names[i];
            if (contains(kRiskyBuiltins, n))
                call("builtins." + n, what + " code calls " + n + "()", path);
            if (contains(kStdlibModules, n) && i + 1 < names.size())
                call(n + "." + names[i + 1], what + " code uses " + n + "." + cut(names[i + 1]),
                     path);
        }
        // __import__('os').system(...): the module is a constant, the attribute the next name.
        auto imp = std::find(names.begin(), names.end(), "__import__");
        if (imp != names.end()) {
            for (const auto& c : summary.string_constants) {
                if (!contains(kStdlibModules, root_of(c))) continue;
                if (imp + 1 != names.end())
                    call(c + "." + imp[1],
                         what + " code uses __import__('" + cut(c) + "')." + cut(imp[1]), path);
            }
        }
    }

    std::string_view label_;
    const ParseContext& context_;
    std::size_t ops_ = 0;
    std::set<std::string> seen_;
    std::set<std::string> reported_custom_;
    std::string pending_lambda_name_;
};

}  // namespace

void walk_config_json(std::string_view text, std::string_view label, const ParseContext& context) {
    Location loc = context.base();
    loc.stream = std::string(label);
    if (text.size() > limits::kKerasMaxConfigBytes) {
        context.anomaly_at(loc, kMalformedConfig,
                           std::string(label) + ": config of " + std::to_string(text.size()) +
                               " bytes exceeds the " +
                               std::to_string(limits::kKerasMaxConfigBytes >> 20) +
                               " MiB cap; not read");
        return;
    }
    // Read as json.loads reads it: any encoding it detects, NaN and Infinity, escaped keys.
    std::string error;
    const auto decoded =
        pyjson::decode({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}, error);
    if (!decoded) {
        context.anomaly_at(loc, kMalformedConfig,
                           std::string(label) + ": not text json.loads can decode (" + error +
                               "); the config could not be read");
        return;
    }
    pyjson::Result parsed;
    auto document = pyjson::parse_value(*decoded, parsed, limits::kPythonJsonMaxDepth);
    if (!document) {
        context.anomaly_at(
            loc, kMalformedConfig,
            std::string(label) +
                (parsed.too_deep
                     ? ": JSON nested deeper than " + std::to_string(limits::kPythonJsonMaxDepth) +
                           " levels; not read"
                     : ": not valid JSON (" + parsed.error + " at byte " +
                           std::to_string(parsed.offset) + "); the config could not be read"));
        return;
    }
    const json& config = *document;
    if (!config.is_object()) {
        context.anomaly_at(loc, kMalformedConfig,
                           std::string(label) + ": JSON is not an object; not a Keras config");
        return;
    }
    Walker walker(label, context);
    walker.walk(config, "");
    walker.finish();
}

}  // namespace mscan::keras
