// GGUF files (llama.cpp and everything built on ggml): "GGUF", a version (1-3), a tensor count
// and a metadata key/value count, the key/value pairs (scalars, strings, arrays, arrays of
// arrays), the tensor infos (name, dimensions, ggml type, offset), padding to the alignment,
// then the tensor data. Loading one runs no code, but llama.cpp's loader had heap overflows from
// counts and lengths the file did not back (CVE-2024-21825, -21836, -21802, -23496, -23605),
// and the metadata carries a Jinja chat template that some loaders render without a sandbox
// (llama-cpp-python, CVE-2024-34359). Every count and length is checked against the bytes that
// remain before anything is read or allocated; tensor data is never touched, so a file of any
// size costs its header, metadata and tensor infos.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "formats/context.h"
#include "mscan/source.h"

namespace mscan::gguf {

/// One tensor info as the file declares it.
struct TensorInfo {
    std::string name;
    std::vector<std::uint64_t> dims;
    std::uint32_t type = 0;    ///< ggml type id
    std::uint64_t offset = 0;  ///< relative to the data section
    std::uint64_t nbytes = 0;  ///< size from the type's block size and type size (0: unknown)
};

/// What read() saw, as far as it got.
struct Header {
    std::uint32_t version = 0;
    bool big_endian = false;
    std::uint64_t tensor_count = 0;      ///< as declared
    std::uint64_t kv_count = 0;          ///< as declared
    std::vector<std::string> keys;       ///< metadata keys read, in file order
    std::vector<TensorInfo> tensors;     ///< tensor infos read, in file order
    std::uint64_t alignment = 32;        ///< general.alignment, or GGUF's default 32
    std::uint64_t data_start = 0;        ///< 0 when the tensor infos could not all be read
    std::string architecture;            ///< general.architecture, if a string
    std::string name;                    ///< general.name, if a string
    std::vector<std::string> templates;  ///< keys whose string value was checked as a template
    bool complete = false;               ///< header, metadata and tensor infos all read
};

/// "GGUF" at offset 0.
bool detect(Source& source, std::string_view extension);

/// Reads the header, metadata and tensor infos of `source`, reporting each problem as an
/// anomaly of `context` (`gguf.oversized`, `gguf.malformed`, `gguf.nonstandard`, the
/// `template.*` codes of jinja_check.h for templates in metadata, `limit.exceeded`), and
/// returns what it saw. Emits no summary.
Header read(Source& source, const ParseContext& context);

/// read(), then one `gguf.summary` anomaly (version, architecture, tensors by type, data
/// bytes, metadata keys, templates).
void parse(Source& source, const ParseContext& context);

/// The ggml type's name ("Q4_K"), or nullptr when the id is unknown.
const char* ggml_type_name(std::uint32_t type);

}  // namespace mscan::gguf
