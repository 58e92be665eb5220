// Configs that make a loader run code shipped beside the weights (see hf_config.h).
//
// The JSON is read with a SAX pass that keeps only the parts that matter (the top-level keys
// listed in kKept, and the "type" and "path" of modules.json entries), each capped in values,
// so a large tokenizer_config.json costs no more memory than its chat template.
#include "formats/code_config/hf_config.h"

#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "formats/code_config/code_config_codes.h"
#include "formats/common_codes.h"
#include "formats/jinja_template/jinja_check.h"
#include "formats/keras/keras_format.h"
#include "formats/python_json.h"
#include "mscan/limits.h"
#include "util/text.h"
#include "util/text_safety.h"

namespace mscan::hfconfig {
namespace {

using nlohmann::json;

/// Top-level keys whose values are kept.
constexpr std::string_view kKept[] = {
    "auto_map", "custom_pipelines", "chat_template",     "archiverVersion",
    "model",    "runtime",          "_diffusers_version"};
/// Keys (top level) whose presence makes a JSON object a config this reader handles.
constexpr std::string_view kDetectKeys[] = {"auto_map", "custom_pipelines", "chat_template",
                                            "archiverVersion", "_diffusers_version"};

/// Files their loaders open by name: a file so named is read here whatever it holds.
constexpr std::string_view kConfigNames[] = {
    "config.json",           "tokenizer_config.json",
    "processor_config.json", "preprocessor_config.json",
    "chat_template.json",    "modules.json",
    "MANIFEST.json",         "model_index.json",
};

std::string_view base_name(std::string_view path) {
    const auto slash = path.find_last_of("/\\");
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool kept_key(std::string_view key) {
    return std::find(std::begin(kKept), std::end(kKept), key) != std::end(kKept);
}

/// Keeps the values of interesting top-level keys (an object document) or the "type" and
/// "path" strings of each element (an array document, sentence-transformers modules.json).
class Keeper final : public nlohmann::json_sax<json> {
  public:
    /// Keep every top-level value (diffusers' model_index.json names its components under
    /// keys of their own), still within the value cap.
    bool keep_all = false;
    json kept = json::object();
    std::vector<json> modules;
    bool is_array = false;
    bool too_many = false;
    std::string error;

    bool null() override { return value(json()); }
    bool boolean(bool v) override { return value(json(v)); }
    bool number_integer(number_integer_t v) override { return value(json(v)); }
    bool number_unsigned(number_unsigned_t v) override { return value(json(v)); }
    bool number_float(number_float_t v, const string_t&) override { return value(json(v)); }
    bool string(string_t& v) override { return value(json(std::move(v))); }
    bool binary(binary_t&) override { return value(json()); }
    bool start_object(std::size_t) override { return open(json::object()); }
    bool start_array(std::size_t) override {
        if (depth_ == 0) is_array = true;
        return open(json::array());
    }
    bool end_object() override { return close(); }
    bool end_array() override { return close(); }
    bool key(string_t& k) override {
        key_ = k;
        if (depth_ == 1 && !is_array) capturing_ = keep_all || kept_key(k);
        if (depth_ == 2 && is_array) capturing_ = k == "type" || k == "path";
        return true;
    }
    bool parse_error(std::size_t position, const std::string&,
                     const nlohmann::detail::exception& e) override {
        error = "not valid JSON at byte " + std::to_string(position) + ": " + e.what();
        return false;
    }

  private:
    /// A scalar or a container being opened at the current position.
    bool value(json v) {
        if (!stack_.empty()) return add(std::move(v));
        if (!capturing_) return true;
        if (depth_ == 1) {
            kept[key_] = std::move(v);
        } else if (depth_ == 2 && is_array && !modules.empty()) {
            modules.back()[key_] = std::move(v);
        }
        return true;
    }
    bool add(json v) {
        if (++values_ > limits::kHfConfigMaxValues) {
            too_many = true;
            return false;
        }
        json& top = *stack_.back();
        if (top.is_array()) {
            top.push_back(std::move(v));
        } else {
            top[key_] = std::move(v);
        }
        return true;
    }
    bool open(json container) {
        ++depth_;
        if (depth_ == 2 && is_array) {
            if (++values_ > limits::kHfConfigMaxValues) {
                too_many = true;
                return false;
            }
            modules.push_back(json::object());
            return true;
        }
        if (!stack_.empty()) {
            if (!add(std::move(container))) return false;
            json& top = *stack_.back();
            stack_.push_back(top.is_array() ? &top.back() : &top[key_]);
            return true;
        }
        if (capturing_ && depth_ == 2 && !is_array) {
            kept[key_] = std::move(container);
            stack_.push_back(&kept[key_]);
        }
        return true;
    }
    bool close() {
        if (!stack_.empty()) stack_.pop_back();
        --depth_;
        if (depth_ <= 1) capturing_ = false;
        return true;
    }

    int depth_ = 0;
    bool capturing_ = false;
    std::string key_;
    std::vector<json*> stack_;
    std::size_t values_ = 0;
};

std::string in_quotes(std::string_view s) {
    return "\"" + printable(s.substr(0, limits::kEvidenceChars)) + "\"";
}

std::string with_commas(std::uint64_t n) {
    std::string s = std::to_string(n);
    for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3)
        s.insert(static_cast<std::size_t>(i), ",");
    return s;
}

/// Where the file a config names stands: beside it, missing, or unknown.
std::string presence(const ParseContext& context, const std::string& file) {
    const Neighbours* near = context.neighbours();
    if (!near) return "could not check whether it is there";
    if (const auto size = near->file_size(file)) return "present, " + with_commas(*size) + " bytes";
    return "NOT in " + printable(near->describe()) +
           "; the loader then fails or takes it from elsewhere";
}

/// A transformers class reference "[org/name--]module.Class": reports the module it imports.
void remote_code(const ParseContext& context, const std::string& where,
                 const std::string& reference, std::string_view loader) {
    std::string ref = reference;
    std::string repo;
    if (const auto dashes = ref.find("--"); dashes != std::string::npos) {
        repo = ref.substr(0, dashes);
        ref = ref.substr(dashes + 2);
    }
    // transformers splits "module.Class" at its dot and opens module + ".py" in the model's
    // folder (os.path.join, so an absolute module path replaces the folder).
    const auto dot = ref.rfind('.');
    const std::string module = dot == std::string::npos ? ref : ref.substr(0, dot);
    const std::string file = module + ".py";
    std::string evidence = where + " = " + in_quotes(reference) + ": ";
    if (!repo.empty()) {
        context.anomaly(kRemoteCodeExternal, evidence + std::string(loader) +
                                                 " downloads and runs " + printable(file) +
                                                 " from ANOTHER repo, " + printable(repo) +
                                                 ", at whatever revision it has then");
        return;
    }
    if (module.empty() || !stays_inside(file)) {
        context.anomaly(kRemoteCodeExternal, evidence + std::string(loader) + " runs " +
                                                 printable(file) +
                                                 ", which lies outside the model's folder");
        return;
    }
    context.anomaly(kRemoteCode, evidence + std::string(loader) + " runs " + printable(file) +
                                     " (" + presence(context, file) + ")");
}

constexpr std::string_view kTrustRemoteCode = "from_pretrained(..., trust_remote_code=True)";

void check_auto_map(const json& map, const ParseContext& context) {
    if (!map.is_object()) {
        context.anomaly(kConfigMalformed, "auto_map is not an object; transformers fails");
        return;
    }
    for (const auto& [auto_class, value] : map.items()) {
        const std::string where = "auto_map." + printable(auto_class);
        if (value.is_string()) {
            remote_code(context, where, value.get<std::string>(), kTrustRemoteCode);
        } else if (value.is_array()) {
            // AutoTokenizer: [slow, fast], either may be null.
            std::size_t i = 0;
            for (const auto& item : value) {
                if (item.is_string())
                    remote_code(context, where + "[" + std::to_string(i) + "]",
                                item.get<std::string>(), kTrustRemoteCode);
                ++i;
            }
        } else if (!value.is_null()) {
            context.anomaly(kConfigMalformed,
                            where + " is neither a class reference nor a list of them");
        }
    }
}

void check_custom_pipelines(const json& pipelines, const ParseContext& context) {
    if (!pipelines.is_object()) return;
    for (const auto& [task, spec] : pipelines.items()) {
        if (!spec.is_object() || !spec.contains("impl") || !spec["impl"].is_string()) continue;
        remote_code(context, "custom_pipelines." + printable(task) + ".impl",
                    spec["impl"].get<std::string>(), "pipeline(..., trust_remote_code=True)");
    }
}

/// tokenizer_config.json's chat_template: one template, or [{"name": ..., "template": ...}].
void check_templates(const json& value, const ParseContext& context) {
    if (value.is_string()) {
        jinja::report_template(context, "chat_template", value.get<std::string>(), -1);
        return;
    }
    if (!value.is_array()) return;
    for (const auto& entry : value) {
        if (!entry.is_object()) continue;
        const auto text = entry.find("template");
        if (text == entry.end() || !text->is_string()) continue;
        const auto name = entry.find("name");
        const std::string label = "chat_template." + (name != entry.end() && name->is_string()
                                                          ? printable(name->get<std::string>())
                                                          : std::string("?"));
        jinja::report_template(context, label, text->get<std::string>(), -1);
    }
}

/// TorchServe's built-in handlers (ts/torch_handler/); any other handler is code in the
/// archive (a module file, or "module:function").
constexpr std::string_view kBuiltinHandlers[] = {"image_classifier", "image_segmenter",
                                                 "object_detector",  "text_classifier",
                                                 "text_handler",     "base_handler"};

/// Libraries diffusers imports components from itself (LOADABLE_CLASSES); any other library
/// name is one of diffusers' pipeline modules or, when the repo ships that module, custom
/// code.
constexpr std::string_view kDiffusersLibraries[] = {"diffusers", "transformers", "onnxruntime",
                                                    "onnxruntime.training"};

/// diffusers' model_index.json: `_class_name` as [module, Class] is a custom pipeline, and a
/// component given as [library, Class] whose library is the repo's own module
/// (<component>/<library>.py or <library>.py) is a custom component; DiffusionPipeline.
/// from_pretrained(..., trust_remote_code=True) imports both.
void check_diffusers(const json& kept, const ParseContext& context) {
    constexpr std::string_view kLoader =
        "DiffusionPipeline.from_pretrained(..., "
        "trust_remote_code=True)";
    const Neighbours* near = context.neighbours();
    for (const auto& [key, value] : kept.items()) {
        if (!value.is_array() || value.size() != 2 || !value[0].is_string() ||
            !value[1].is_string())
            continue;
        const std::string library = value[0].get<std::string>();
        const std::string reference = library + "." + value[1].get<std::string>();
        if (key == "_class_name") {
            remote_code(context, key, reference, kLoader);
            continue;
        }
        if (key.empty() || key[0] == '_') continue;
        if (std::find(std::begin(kDiffusersLibraries), std::end(kDiffusersLibraries), library) !=
            std::end(kDiffusersLibraries))
            continue;
        // Otherwise a pipeline module of diffusers ("stable_diffusion"), unless the repo holds
        // a module of that name, which is then imported as custom code. Unknown inside an
        // archive: reported.
        if (!near) {
            remote_code(context, key, reference, kLoader);
        } else if (near->file_size(key + "/" + library + ".py")) {
            remote_code(context, key, key + "/" + reference, kLoader);
        } else if (near->file_size(library + ".py")) {
            remote_code(context, key, reference, kLoader);
        }
    }
}

void check_torchserve(const json& kept, const ParseContext& context) {
    const auto model = kept.find("model");
    if (model == kept.end() || !model->is_object()) return;
    auto field = [&](const char* name) -> std::string {
        const auto it = model->find(name);
        return it != model->end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    const std::string handler = field("handler");
    if (!handler.empty()) {
        const std::string module = handler.substr(0, handler.find(':'));
        const bool builtin = std::find(std::begin(kBuiltinHandlers), std::end(kBuiltinHandlers),
                                       module) != std::end(kBuiltinHandlers);
        if (!builtin) {
            std::string file = module;
            if (file.size() < 3 || file.compare(file.size() - 3, 3, ".py") != 0) file += ".py";
            context.anomaly(kTorchserveCode, "model.handler = " + in_quotes(handler) +
                                                 ": TorchServe imports " + printable(file) +
                                                 " from the archive and runs it for every "
                                                 "request");
        }
    }
    if (const std::string file = field("modelFile"); !file.empty()) {
        context.anomaly(kTorchserveCode, "model.modelFile = " + in_quotes(file) +
                                             ": TorchServe imports it to build the model");
    }
    if (const std::string file = field("requirementsFile"); !file.empty()) {
        context.anomaly(kTorchserveRequirements, "model.requirementsFile = " + in_quotes(file) +
                                                     ": TorchServe pip-installs what it lists when "
                                                     "install_py_dep_per_model is set");
    }
}

void check_modules(const std::vector<json>& modules, const ParseContext& context) {
    std::size_t i = 0;
    for (const auto& m : modules) {
        const auto type = m.find("type");
        if (type != m.end() && type->is_string()) {
            const std::string t = type->get<std::string>();
            if (t.rfind("sentence_transformers.", 0) != 0)
                remote_code(context, "modules[" + std::to_string(i) + "].type", t,
                            "SentenceTransformer(..., trust_remote_code=True)");
        }
        ++i;
    }
}

}  // namespace

bool looks_like_config(std::string_view text) {
    if (!pyjson::starts_like_json(text)) return false;
    const bool array = !pyjson::starts_like_json(text, /*object_only=*/true);
    // The keys as json.loads reads them (escapes decoded), wherever they are in the text.
    // An object: one of kDetectKeys at the top level. An array: sentence-transformers'
    // modules.json, [{"idx": 0, "name": "0", "path": "", "type": ...}, ...].
    bool found = false, idx = false, type = false, path = false;
    const auto result = pyjson::for_each_key(
        text,
        [&](const std::string& key, int depth) {
            if (!array && depth == 1)
                found = std::find(std::begin(kDetectKeys), std::end(kDetectKeys), key) !=
                        std::end(kDetectKeys);
            if (array && depth == 2) {
                idx = idx || key == "idx";
                type = type || key == "type";
                path = path || key == "path";
                found = idx && type && path;
            }
            return !found;
        },
        limits::kPythonJsonMaxDepth);
    // Nested too deep to read: claimed only if it also names a key in plain text, so that
    // parse() reports it.
    if (!found && result.too_deep)
        return std::any_of(std::begin(kDetectKeys), std::end(kDetectKeys), [&](std::string_view k) {
            return text.find(k) != std::string_view::npos;
        });
    return found;
}

/// A JSON object over the size cap that holds one of the keys anywhere in its first
/// limits::kKerasMaxConfigBytes (read in overlapping windows, as the Keras detector reads):
/// padding a config past the cap must not make it pass unchecked.
bool oversized_config(Source& source) {
    const std::uint64_t end = std::min<std::uint64_t>(source.size(), limits::kKerasMaxConfigBytes);
    constexpr std::size_t kWindow = 1u << 20;
    for (std::uint64_t at = 0; at < end;) {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(kWindow, end - at));
        const auto text = util::as_text(source.view(at, n));
        if (text.empty()) return false;
        for (const auto key : kDetectKeys)
            if (text.find("\"" + std::string(key) + "\"") != std::string_view::npos) return true;
        if (at + text.size() >= end) break;
        at += text.size() > 32 ? text.size() - 32 : text.size();
    }
    return false;
}

bool detect(Source& source, std::string_view /*extension*/) {
    if (source.size() < 2 || !pyjson::starts_like_json(source)) return false;
    if (source.size() > limits::kHfConfigMaxBytes) return oversized_config(source);
    const auto bytes = source.view(0, static_cast<std::size_t>(source.size()));
    if (bytes.size() != source.size()) return false;
    std::string error;
    const auto text = pyjson::decode(bytes, error);
    return text && looks_like_config(*text);
}

bool claims_name(std::string_view file_name) {
    return std::find(std::begin(kConfigNames), std::end(kConfigNames), file_name) !=
           std::end(kConfigNames);
}

void check_config(std::string_view text, const ParseContext& context) {
    // A file its loader opens by name that cannot be read is high (hf.config-unreadable): a
    // pattern that stops the reader may be what hides the payload. Recognised by content
    // only, it is low (hf.config-malformed).
    const auto& chain = context.base().chain;
    const bool named = !chain.empty() && claims_name(base_name(chain.back()));
    const AnomalyCode unreadable = named ? kConfigUnreadable : kConfigMalformed;
    // Read as json.loads(bytes) reads it: the encodings it detects, NaN and Infinity,
    // escaped keys, the last of duplicate keys.
    std::string error;
    const auto decoded =
        pyjson::decode({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}, error);
    if (!decoded) {
        context.anomaly(unreadable, "not text json.loads can decode (" + error + "); not read");
        return;
    }
    if (named && !pyjson::starts_like_json(*decoded)) {
        context.anomaly(unreadable,
                        "named like a config its loader opens by name, but not a "
                        "JSON object or array: NOT read");
        return;
    }
    Keeper keeper;
    keeper.keep_all = named && base_name(chain.back()) == "model_index.json";
    const auto parsed = pyjson::parse(*decoded, keeper, limits::kPythonJsonMaxDepth);
    if (parsed.too_deep) {
        // Deeper than json.loads reads (RecursionError): the loader refuses the file.
        context.anomaly(unreadable, "JSON nested deeper than " +
                                        std::to_string(limits::kPythonJsonMaxDepth) +
                                        " levels, where Python's json.loads gives up; not read");
        return;
    }
    if (!parsed.ok && !keeper.too_many) {
        keeper.error =
            "not valid JSON at byte " + std::to_string(parsed.offset) + ": " + parsed.error;
    }
    if (keeper.too_many) {
        context.anomaly(kConfigMalformed, "a config value holds more than " +
                                              std::to_string(limits::kHfConfigMaxValues) +
                                              " JSON values; the rest was not read");
    } else if (!keeper.error.empty()) {
        context.anomaly(unreadable, keeper.error + "; what came before was checked");
    }
    const json& kept = keeper.kept;
    if (const auto it = kept.find("auto_map"); it != kept.end()) check_auto_map(*it, context);
    if (const auto it = kept.find("custom_pipelines"); it != kept.end())
        check_custom_pipelines(*it, context);
    if (const auto it = kept.find("chat_template"); it != kept.end()) check_templates(*it, context);
    if (kept.contains("archiverVersion") || kept.contains("runtime"))
        check_torchserve(kept, context);
    if (keeper.keep_all || kept.contains("_diffusers_version")) check_diffusers(kept, context);
    if (keeper.is_array) check_modules(keeper.modules, context);
}

void parse(Source& source, const ParseContext& context) {
    if (source.size() > limits::kHfConfigMaxBytes) {
        context.anomaly(kLimitExceeded,
                        "a JSON config of " + std::to_string(source.size()) +
                            " bytes names auto_map, custom_pipelines, chat_template or a "
                            "TorchServe manifest but is over the " +
                            std::to_string(limits::kHfConfigMaxBytes >> 20) +
                            " MiB cap: NOT checked");
        if (keras::detect_json(source, {})) keras::parse_json(source, context);
        return;
    }
    const auto bytes = source.view(0, static_cast<std::size_t>(source.size()));
    if (bytes.size() != source.size()) {
        context.anomaly(kConfigMalformed, "the config could not be read whole (" +
                                              std::to_string(bytes.size()) + " of " +
                                              std::to_string(source.size()) + " bytes)");
        return;
    }
    check_config(util::as_text(bytes), context);
    // The same file may also be a Keras config; the Keras walker then reads it too, so that
    // adding one of our keys cannot hide a Keras payload.
    if (keras::detect_json(source, {})) keras::parse_json(source, context);
}

}  // namespace mscan::hfconfig
