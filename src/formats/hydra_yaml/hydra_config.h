// YAML configs that name classes for Hydra / OmegaConf to instantiate: NeMo's
// model_config.yaml inside a .nemo bundle (restore_from instantiates its `target` /
// `_target_` classes, CVE-2025-23304), and Hydra configs shipped with models in general.
//
// The YAML is parsed by libyaml (yaml_doc.h), the grammar PyYAML and so OmegaConf's loader
// read: a key is a key however it is written (quoted, escaped, `? key`, tagged `!!str`, an
// alias of an anchored scalar, merged in by `<<`), and a value is a value however it is
// written (next line, folded or literal block, alias). Every `_target_`, `target` and `cls`
// key of every mapping is then read as OmegaConf reads it:
// - a value with `${...}` interpolations is resolved as OmegaConf resolves it: absolute
//   (`${a.b[0].c}`) and relative (`${.x}`, `${..x}`) key paths, nested interpolations
//   (`${${k}}`), string interpolation (`os.${fn}`), `\${` escapes, merged keys;
// - a dotted Python name is reported as a call of that name, so the deny rules judge it
//   (`_target_: os.system` is process execution). Empty dotted parts (`os..system`), which
//   older Hydra's _locate drops, are dropped too. Names inside the ML frameworks such configs
//   normally build (nemo, torch, lightning, transformers, ...) are reported only when a deny
//   rule names them; any other name is an unknown global;
// - a value mscan cannot resolve (a resolver call such as `${oc.env:X}` or `${oc.decode:..}`,
//   a missing key, a cycle, more than limits::kOmegaConfMaxDepth levels) is reported as
//   `hydra.target-unresolved` (high): the loader computes a name mscan never sees.
// Python tags (`!!python/object/apply:os.system`, `!!python/name:...`) anywhere are reported
// as what PyYAML's unsafe loaders would call or import: OmegaConf's loader refuses them, but
// a YAML file is loaded by other code too.
// A file libyaml cannot parse is one PyYAML refuses as well: `yaml.malformed` (low), unless the
// unread part spells a target key or a Python tag (`yaml.not-checked`, high).
#pragma once

#include <string_view>

#include "formats/context.h"
#include "mscan/source.h"

namespace mscan::hydra {

/// A .yaml/.yml file with a target key or a Python tag, or one that is over
/// limits::kHydraMaxBytes, does not parse or has more nodes than mscan keeps (each of
/// those is reported by parse()).
bool detect(Source& source, std::string_view extension);
void parse(Source& source, const ParseContext& context);

/// The same on text in memory (for tests).
bool has_targets(std::string_view text);
void check_yaml(std::string_view text, const ParseContext& context);

}  // namespace mscan::hydra
