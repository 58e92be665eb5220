// The code of a TorchScript archive (<prefix>/code/**/*.py): torch.jit.load (and torch.load,
// which hands TorchScript archives to it) compiles these files, runs each scripted
// `__setstate__` while it restores the module's state, and the model runs the rest when it is
// called. The review tokenises the code as torch's lexer does (lexer.h) and resolves every
// reference the way torch's source importer resolves names: `torch.<op>` and
// `torch.autograd.<op>` are aten ops, `ops.<ns>.<op>` is the op <ns>::<op>,
// `__torch__.torch.classes.<ns>.<Class>` a native custom class; `getattr(x, "literal")` is
// `x.literal`, parentheses are looked through, and a local name bound to a namespace
// (`_0 = ops`) is followed. It reports the references that reach files, processes, native
// libraries, the network or op namespaces no known library registers, and each `__setstate__`.
// A text it cannot read to the end is reported as not checked. Nothing is ever run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "formats/torchscript/torchscript_codes.h"
#include "mscan/operation.h"

namespace mscan {
class ParseContext;
}

namespace mscan::torchscript {

/// What a reference in TorchScript code reaches.
enum class IssueKind {
    /// Reads, writes or maps files: aten::from_file (torch.from_file, any `.from_file`),
    /// aten::save (torch.save, `.save` on a value), torch.load, torchvision's
    /// image::read_file/write_file and video_reader::*_from_file, builtin open, Python's
    /// io/pathlib/shutil/tempfile modules.
    FileAccess,
    /// Loads a native library: torch.ops.load_library, torch.classes.load_library, ctypes,
    /// cffi.
    NativeLibrary,
    /// Runs commands or Python: os, posix, subprocess, sys, builtins, importlib, eval, exec,
    /// compile, __import__.
    Process,
    /// Talks to other hosts: prim::rpc_sync/rpc_async/rpc_remote, the c10d collectives and
    /// process groups, torch.classes.dist_rpc, socket, urllib, http.
    Network,
    /// An op namespace (`ops.<ns>`) or custom class namespace (`torch.classes.<ns>`) that
    /// neither torch nor its domain libraries register: it only exists once the loading
    /// program has loaded the native library that defines it.
    CustomOp,
    /// A `__setstate__` method: torch.jit.load runs it while restoring the module's state.
    SetState,
    /// Part of the text could not be checked: over the size cap, a byte or string torch's
    /// lexer refuses, a reference nested too deeply, a `getattr` on a namespace with a name
    /// that is not a string literal.
    NotChecked,
};

/// One finding in a code file.
struct CodeIssue {
    IssueKind kind = IssueKind::NotChecked;
    /// The reference as written, with its first string argument when it is called with one
    /// (`torch.from_file("/etc/passwd", ...)`), or what stopped the check.
    std::string expression;
    /// What it resolves to and why it matters ("aten::from_file: maps the named file ...").
    std::string why;
    /// Byte offset and 1-based line of the reference in the text.
    std::size_t offset = 0;
    std::size_t line = 0;
};

/// Reviews the text of one code file. Deterministic, linear in the text (at most
/// limits::kTorchScriptMaxCodeBytes are read: a longer text gets a NotChecked issue), at most
/// limits::kTorchScriptMaxIssuesPerKind issues of each kind, in text order within a kind.
std::vector<CodeIssue> review_code(std::string_view text);

/// The anomaly code an issue is reported with (kFileAccess, ...). A SetState issue that is the
/// only kind of issue in its file (read to the end, nothing else in it reaches what the review
/// reports) is reported as kSetStateReviewed instead.
AnomalyCode anomaly_code(IssueKind kind);

/// Reports every issue of `text`, the code member at `where`, as an anomaly. `declared_size`
/// is the member's real size when `text` holds only its start (the rest is then reported as
/// not checked). Returns the number of issues.
std::size_t report_code(const ParseContext& context, const Location& where, std::string_view text,
                        std::uint64_t declared_size);

}  // namespace mscan::torchscript
