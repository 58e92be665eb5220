// Native executables and shared libraries found among model files: ELF, PE (Windows .exe and
// .dll) and Mach-O, including Actually Portable Executables such as llamafile (a PE/ELF
// polyglot that carries its weights in a zip archive at its end). None of them is a model a
// loader reads: running one, or loading it as a library (ctypes, torch.ops.load_library,
// tf.load_op_library, an ONNX custom-op library), runs native code that mscan cannot check.
// The kind of file is reported; a zip archive at its end is scanned member by member.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "formats/context.h"
#include "mscan/source.h"

namespace mscan::executable {

bool detect(Source& source, std::string_view extension);
void parse(Source& source, const ParseContext& context);

/// What a file's bytes say it is ("ELF 64-bit executable, x86-64"), or empty when they are
/// not a native executable (for tests).
std::string describe(std::span<const std::uint8_t> bytes);

}  // namespace mscan::executable
