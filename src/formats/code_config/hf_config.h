// JSON files beside model weights that make a loader run code shipped with the model:
//   - Hugging Face transformers configs (config.json, tokenizer_config.json,
//     preprocessor_config.json, processor_config.json, ...): every `auto_map` entry names a
//     Python module of the repo (or of another repo, "org/name--module.Class") that
//     `from_pretrained(..., trust_remote_code=True)` imports; `custom_pipelines` entries name
//     pipeline classes the same way;
//   - sentence-transformers modules.json: a module `type` outside sentence_transformers is
//     imported from the repo's own code;
//   - TorchServe MANIFEST.json (MAR-INF/ of a .mar archive): the handler and model file
//     TorchServe imports, and the requirements file it pip-installs;
//   - diffusers model_index.json: a custom pipeline (`_class_name` as [module, Class]) or a
//     component whose library is a module the repo ships.
// The JSON is read as Python's json.loads(bytes) reads it (formats/python_json.h).
// Each is reported with the file it runs and whether that file is there (context.neighbours();
// a member of an archive cannot be checked). tokenizer_config.json's `chat_template` is a
// Jinja template and goes through the template check.
#pragma once

#include <string_view>

#include "formats/context.h"
#include "mscan/source.h"

namespace mscan::hfconfig {

/// A JSON object (up to limits::kHfConfigMaxBytes) holding one of the keys "auto_map",
/// "custom_pipelines", "chat_template" or "archiverVersion" (TorchServe), or a JSON array
/// of sentence-transformers modules ("idx", "path" and "type" keys).
bool detect(Source& source, std::string_view extension);
/// Reports what loading with the config would run; a file that is also a Keras config is
/// walked as one too.
void parse(Source& source, const ParseContext& context);

/// Whether the loaders open a file of this name (config.json, tokenizer_config.json,
/// modules.json, MANIFEST.json, model_index.json, ...): such a file is read here whatever it
/// holds, and one that cannot be read is reported high.
bool claims_name(std::string_view file_name);

/// The same checks on text in memory (for tests).
bool looks_like_config(std::string_view text);
void check_config(std::string_view text, const ParseContext& context);

}  // namespace mscan::hfconfig
