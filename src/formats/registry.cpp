// The format table and content-based detection.
#include "formats/registry.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <string>
#include <utility>

#include "formats/archive/archive_format.h"
#include "formats/code_config/hf_config.h"
#include "formats/executable/executable_format.h"
#include "formats/gguf/gguf_format.h"
#include "formats/hdf5/hdf5_format.h"
#include "formats/hydra_yaml/hydra_config.h"
#include "formats/jinja_template/template_format.h"
#include "formats/joblib/joblib_zfile.h"
#include "formats/keras/keras_format.h"
#include "formats/npy/npy_format.h"
#include "formats/onnx/onnx_format.h"
#include "formats/pickle/pickle_detect.h"
#include "formats/pickle/pickle_format.h"
#include "formats/safetensors/safetensors_format.h"
#include "formats/savedmodel/savedmodel_format.h"
#include "formats/word2vec/word2vec_format.h"
#include "formats/zip/zip_format.h"
#include "formats/zlib/zlib_format.h"
#include "util/text.h"

namespace mscan {
namespace {

constexpr std::array kFormats = {
    Format{"gguf", "gguf",
           "GGUF (llama.cpp): header, metadata and tensor infos are checked, chat templates "
           "in metadata are checked for template injection; tensor data is never read",
           gguf::detect, gguf::parse, nullptr},
    Format{"zip", "zip",
           "zip archive: PyTorch checkpoint (torch.save >= 1.6), TorchScript, .npz or any other; "
           "members are scanned by their own format",
           zip::detect, zip::parse, nullptr, /*owns_trailing_zip=*/true,
           /*needs_stable_views=*/true},
    Format{"executable", "executable",
           "native executable or shared library (ELF, PE, Mach-O, Actually Portable Executable "
           "such as llamafile); a zip archive at its end is scanned too",
           executable::detect, executable::parse, nullptr, /*owns_trailing_zip=*/true},
    Format{"npy", "npy", "NumPy .npy array (format 1.0-3.0); object arrays carry a pickle",
           numpy::detect, numpy::parse, numpy::head_suffices},
    Format{"7z", "archive", "7z archive; members are scanned by their own format",
           archive::detect_7z, archive::parse_7z, nullptr},
    Format{"gzip", "archive", "gzip-compressed file or tar.gz", archive::detect_gzip,
           archive::parse_compressed, nullptr},
    Format{"bzip2", "archive", "bzip2-compressed file or tar.bz2", archive::detect_bzip2,
           archive::parse_compressed, nullptr},
    Format{"xz", "archive", "xz-compressed file or tar.xz", archive::detect_xz,
           archive::parse_compressed, nullptr},
    Format{"zstd", "archive", "zstd-compressed file or tar.zst", archive::detect_zstd,
           archive::parse_compressed, nullptr},
    Format{"lz4", "archive", "lz4-compressed file or tar.lz4", archive::detect_lz4,
           archive::parse_compressed, nullptr},
    Format{"lzma", "archive", "lzma-compressed (LZMA alone) file or tar.lzma", archive::detect_lzma,
           archive::parse_compressed, nullptr},
    Format{"tar", "archive",
           "tar archive (ustar, pax, GNU, v7); members are scanned by their own format",
           archive::detect_tar, archive::parse_tar, nullptr, /*owns_trailing_zip=*/true},
    Format{"hdf5", "hdf5",
           "HDF5 file: a Keras .h5 model (model_config and training_config attributes) or "
           "weights; a user block before it is scanned too",
           hdf5::detect, hdf5::parse, nullptr},
    Format{"code-config", "code_config",
           "a config that makes the loader run code shipped with the model: transformers "
           "auto_map / custom_pipelines (trust_remote_code), sentence-transformers modules.json, "
           "TorchServe MANIFEST.json",
           hfconfig::detect, hfconfig::parse, nullptr, /*owns_trailing_zip=*/false,
           /*needs_stable_views=*/false, hfconfig::claims_name},
    Format{"jinja-template", "jinja_template",
           "a Jinja chat template file (chat_template.jinja), rendered by chat front ends",
           jinja::detect, jinja::parse, nullptr},
    Format{"hydra-yaml", "hydra_yaml",
           "a YAML config whose _target_/target/cls keys name classes to instantiate (Hydra, "
           "NeMo's model_config.yaml)",
           hydra::detect, hydra::parse, nullptr},
    Format{"keras-json", "keras", "Keras model config as JSON (a .keras archive's config.json)",
           keras::detect_json, keras::parse_json, nullptr},
    Format{"safetensors", "safetensors",
           "safetensors file: the JSON header is checked; tensor data is never read",
           safetensors::detect, safetensors::parse, safetensors::head_suffices},
    Format{"savedmodel", "savedmodel",
           "TensorFlow SavedModel (saved_model.pb): the ops of every graph and library function",
           savedmodel::detect, savedmodel::parse, nullptr, /*owns_trailing_zip=*/false,
           /*needs_stable_views=*/false, savedmodel::claims_binary_name},
    Format{"savedmodel-text", "savedmodel",
           "TensorFlow SavedModel in protobuf text format (saved_model.pbtxt)",
           savedmodel::detect_text, savedmodel::parse_text, nullptr, /*owns_trailing_zip=*/false,
           /*needs_stable_views=*/false, savedmodel::claims_text_name},
    Format{"keras-metadata", "savedmodel",
           "Keras metadata of a tf.keras SavedModel (keras_metadata.pb): each object's config",
           savedmodel::detect_keras_metadata, savedmodel::parse_keras_metadata, nullptr,
           /*owns_trailing_zip=*/false, /*needs_stable_views=*/false,
           savedmodel::claims_keras_metadata_name},
    Format{"onnx", "onnx",
           "ONNX model (ModelProto): graphs, subgraphs and functions, operator domains, external "
           "data and tensor sizes",
           onnx::detect, onnx::parse, nullptr},
    Format{"joblib-zfile", "joblib",
           "joblib's old ZF container (joblib <= 0.9.3): a zlib-compressed pickle that "
           "joblib.load still unpickles",
           joblib::detect, joblib::parse, nullptr},
    Format{"pickle", "pickle",
           "Python pickle stream (protocols 0-5), possibly several back to back", pickle::detect,
           pickle::parse, nullptr},
    Format{"zlib", "zlib", "a zlib stream (joblib .z compression) holding a format mscan reads",
           zlib::detect, zlib::parse, nullptr},
    Format{"zip", "zip", "zip archive with data before it (found by its end record)",
           zip::detect_embedded, zip::parse, nullptr, /*owns_trailing_zip=*/true,
           /*needs_stable_views=*/true},
    Format{"word2vec", "word2vec",
           "word2vec vectors (gensim save_word2vec_format, text or binary): numbers and words "
           "only, nothing runs when they are loaded",
           word2vec::detect, word2vec::parse, nullptr},
};

/// The file's extension, lower case with its dot; for the compound names torch checkpoints
/// use (".pth.tar", ".pt.tar": a torch.save file, not a tar) both parts.
std::string lower_extension(std::string_view path) {
    const auto slash = path.find_last_of('/');
    const auto dot = path.find_last_of('.');
    if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash))
        return {};
    std::string ext = util::ascii_lower(path.substr(dot));
    if (ext == ".tar") {
        for (std::string_view compound : {".pth.tar", ".pt.tar"}) {
            if (path.size() > compound.size() &&
                util::ascii_lower(path.substr(path.size() - compound.size())) == compound &&
                (slash == std::string_view::npos || path.size() - compound.size() > slash + 1))
                return std::string(compound);
        }
    }
    return ext;
}

/// Extensions that name one model format. Ambiguous ones (".bin", ".ckpt", ".pb", ".json",
/// ".dat") are left out: many other kinds of file use them.
constexpr std::array<std::pair<std::string_view, const char*>, 19> kNamedFormats = {{
    {".pkl", "a pickle"},
    {".pth.tar", "a PyTorch file"},
    {".pt.tar", "a PyTorch file"},
    {".pickle", "a pickle"},
    {".dill", "a pickle (dill)"},
    {".joblib", "a joblib pickle"},
    {".pt", "a PyTorch file"},
    {".pth", "a PyTorch file"},
    {".safetensors", "a safetensors file"},
    {".gguf", "a GGUF file"},
    {".onnx", "an ONNX model"},
    {".npy", "a NumPy .npy array"},
    {".npz", "a NumPy .npz archive"},
    {".h5", "an HDF5 file"},
    {".hdf5", "an HDF5 file"},
    {".keras", "a Keras archive"},
    {".nemo", "a NeMo archive"},
    {".mar", "a TorchServe archive"},
    {".llamafile", "a llamafile executable"},
}};

}  // namespace

const char* format_named_by(std::string_view path) {
    const std::string ext = lower_extension(path);
    for (const auto& [e, name] : kNamedFormats) {
        if (e == ext) return name;
    }
    return nullptr;
}

bool named_like_model(std::string_view path) {
    // pytorch_model.bin, training_args.bin; *.ckpt (Lightning, Stable Diffusion); saved_model.pb
    static constexpr std::string_view kShared[] = {".bin", ".ckpt", ".pb"};
    const std::string ext = lower_extension(path);
    return std::find(std::begin(kShared), std::end(kShared), ext) != std::end(kShared);
}

std::string describe_mismatch(Source& source, std::string_view path, const char* claimed) {
    std::string out = std::string("named as ") + claimed + " (" + lower_extension(path) + "), but ";
    const std::uint64_t size = source.size();
    if (size == 0) return out + "the file is empty";
    if (size < 16) {
        return out + "only " + std::to_string(size) + " byte" + (size == 1 ? "" : "s") +
               " long: too short to be one";
    }
    // Text: printable ASCII, whitespace and UTF-8 lead/continuation bytes in the first 4 KiB.
    const auto head = source.view(0, std::min<std::uint64_t>(size, 4096));
    const bool text = !head.empty() && std::all_of(head.begin(), head.end(), [](std::uint8_t c) {
        return (c >= 0x20 && c != 0x7f) || c == '\t' || c == '\n' || c == '\r';
    });
    // For a name that promises a pickle, say where an unpickler would stop (a protocol 0
    // pickle is text too, so text alone does not say enough).
    std::string as_pickle;
    if (pickle::extension_suggests_pickle(lower_extension(path))) {
        const pickle::PickleProbe probe = pickle::plausible_pickle(source);
        if (!probe.pickle && !probe.why.empty())
            as_pickle = "; read as a pickle it breaks at byte " + std::to_string(probe.stopped_at) +
                        " (" + probe.why + "), before anything ran";
    }
    if (text) return out + "the content is text, not a model format" + as_pickle;
    static constexpr std::pair<std::string_view, const char*> kOtherFiles[] = {
        {"\x89PNG\r\n\x1a\n", "a PNG image"},
        {"\xff\xd8\xff", "a JPEG image"},
        {"GIF87a", "a GIF image"},
        {"GIF89a", "a GIF image"},
        {"%PDF-", "a PDF document"},
        {"RIFF", "a RIFF file (WAV, WebP, AVI)"},
    };
    for (const auto& [magic, what] : kOtherFiles) {
        if (head.size() >= magic.size() &&
            std::equal(magic.begin(), magic.end(), head.begin(),
                       [](char a, std::uint8_t b) { return static_cast<std::uint8_t>(a) == b; }))
            return out + "the content is " + what + ", not a model format";
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "the content is not one (it starts %02x %02x %02x %02x)",
                  head.size() > 0 ? head[0] : 0, head.size() > 1 ? head[1] : 0,
                  head.size() > 2 ? head[2] : 0, head.size() > 3 ? head[3] : 0);
    return out + buf + as_pickle;
}

std::span<const Format> formats() {
    return kFormats;
}

const char* unsupported_container(Source& source) {
    const auto head = source.view(0, 16);
    auto starts = [&head](std::string_view magic) {
        return head.size() >= magic.size() &&
               std::equal(magic.begin(), magic.end(), head.begin(),
                          [](char a, std::uint8_t b) { return static_cast<std::uint8_t>(a) == b; });
    };
    // llama.cpp's formats before GGUF (2023 .bin files): a little-endian magic, then a version
    // (GGMF 1, GGJT 1-3) or, for unversioned GGML, the vocabulary size. (GGUF has its reader.)
    auto u32_at = [&head](std::size_t at) -> std::uint32_t {
        if (head.size() < at + 4) return 0;
        return static_cast<std::uint32_t>(head[at]) |
               static_cast<std::uint32_t>(head[at + 1]) << 8 |
               static_cast<std::uint32_t>(head[at + 2]) << 16 |
               static_cast<std::uint32_t>(head[at + 3]) << 24;
    };
    const std::uint32_t version = u32_at(4);
    if ((starts("tjgg") && version >= 1 && version <= 3) || (starts("fmgg") && version == 1) ||
        (starts("lmgg") && version >= 1 && version <= (1u << 24)))
        return "GGML/GGJT file (llama.cpp's format before GGUF)";
    return nullptr;
}

bool head_inconclusive(Source& head) {
    return keras::starts_like_json_object(head);
}

const Format* format_claiming_name(std::string_view path) {
    const auto slash = path.find_last_of("/\\");
    const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
    for (const auto& format : kFormats)
        if (format.claims_name && format.claims_name(name)) return &format;
    return nullptr;
}

const Format* detect_format(Source& source, std::string_view path) {
    const std::string ext = lower_extension(path);
    for (const auto& format : kFormats) {
        if (format.detect(source, ext)) return &format;
    }
    return nullptr;
}

}  // namespace mscan
