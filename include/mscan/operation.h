// Operations: the neutral stream parsers produce and rules consume. A parser knows formats and
// no policy; every operation says what loading the file would do, and where in the file.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace mscan {

/// Where something was seen: a chain of containers (file, then members) and a position.
struct Location {
    /// Outermost first: the target path, then member names inside containers.
    std::vector<std::string> chain;
    /// Byte offset in the innermost object, or -1 when not meaningful.
    std::int64_t offset = -1;
    /// Index of the opcode (pickle) or record within the innermost object, or -1.
    std::int64_t index = -1;
    /// Which sub-stream, e.g. "pickle 2 of 3"; empty for the only one.
    std::string stream;
};

enum class OpKind {
    Import,   ///< a global is resolved (GLOBAL, STACK_GLOBAL, INST) but not called
    Call,     ///< a global is called (REDUCE, NEWOBJ, OBJ, INST, BUILD → __setstate__)
    Anomaly,  ///< the input breaks its format or a limit; `code` names it
};

/// One thing loading the file would do (or one way the file is malformed).
struct Operation {
    OpKind kind = OpKind::Import;
    /// Canonical qualified global name for Import/Call (e.g. "posix.system"); for Anomaly the
    /// anomaly code (e.g. "pickle.truncated").
    std::string name;
    /// Other names the same global is reachable as, e.g. "os.system" for "pathlib.os.system".
    std::vector<std::string> aliases;
    /// Human-readable evidence: the call with constant arguments, or the anomaly details.
    std::string evidence;
    Location location;
    /// Import/Call: report it only when a deny rule names it, never as an unknown global. For
    /// names inside a framework whose own classes a config builds (a NeMo config's
    /// nemo.collections... targets), where only the known-dangerous ones matter.
    bool only_if_denied = false;
};

/// Receives operations as a parser produces them.
using OperationSink = std::function<void(Operation&&)>;

}  // namespace mscan
