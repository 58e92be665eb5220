// YAML configs that name classes for Hydra / OmegaConf to instantiate: NeMo's
// model_config.yaml inside a .nemo bundle (restore_from instantiates its `target` /
// `_target_` classes, CVE-2025-23304), and Hydra configs shipped with models in general.
// Every `_target_:`, `target:` and `cls:` key whose value is a dotted Python name is reported
// as a call of that name, so the deny rules judge it (`_target_: os.system` is process
// execution). Names inside the ML frameworks that such configs normally build (nemo, torch,
// lightning, omegaconf, transformers, ...) are only reported when a deny rule names them;
// any other name is an unknown global. The YAML is read line by line (no YAML library): a
// key is found in block style (`key: value`, `- key: value`) and in flow style
// (`{_target_: x}`), with quotes and comments handled.
#pragma once

#include <string_view>

#include "formats/context.h"
#include "mscan/source.h"

namespace mscan::hydra {

/// A .yaml/.yml file (YAML has no signature) of at most limits::kHydraMaxBytes holding a
/// target key with a dotted name.
bool detect(Source& source, std::string_view extension);
void parse(Source& source, const ParseContext& context);

/// The same on text in memory (for tests).
bool has_targets(std::string_view text);
void check_yaml(std::string_view text, const ParseContext& context);

}  // namespace mscan::hydra
