// Zip members back to detection. Stored members are read in place (no copy); deflated ones
// are first inflated only far enough to detect their format, and in full only when they are
// a format mscan reads. PyTorch tensor records (<prefix>/data/<n>) are never read: the loader
// copies them into storages and never interprets them.
#include "formats/zip/zip_format.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <optional>

#include "formats/archive/archive_codes.h"
#include "formats/common_codes.h"
#include "formats/compress/coded_member.h"
#include "formats/compress/expansion.h"
#include "formats/compress/inflate.h"
#include "formats/member.h"
#include "formats/registry.h"
#include "formats/torchscript/torchscript_code.h"
#include "formats/torchscript/torchscript_codes.h"
#include "formats/zip/libzip_view.h"
#include "formats/zip/zip_codes.h"
#include "formats/zip/zip_directory.h"
#include "mscan/limits.h"
#include "util/text.h"
#include "util/text_safety.h"

namespace mscan::zip {
namespace {

/// The record prefix PyTorch's reader uses: the first member's top folder, if every member
/// sits under it.
std::string record_prefix(const Directory& dir) {
    if (dir.entries.empty()) return {};
    const std::string& first = dir.entries.front().name;
    const auto slash = first.find('/');
    if (slash == std::string::npos || slash == 0) return {};
    std::string prefix = first.substr(0, slash + 1);
    for (const auto& e : dir.entries)
        if (!e.name.starts_with(prefix)) return {};
    return prefix;
}

/// <prefix>data/<digits>: a tensor storage record.
bool is_tensor_record(std::string_view name, std::string_view prefix) {
    if (!name.starts_with(prefix)) return false;
    name.remove_prefix(prefix.size());
    if (!name.starts_with("data/")) return false;
    name.remove_prefix(5);
    return !name.empty() &&
           std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// The codec of a member's method that mscan decompresses: deflate, and what Python's zipfile
/// reads besides (numpy.load, Keras): bzip2 and LZMA.
std::optional<compress::Codec> codec_of(const Entry& e) {
    switch (e.method) {
        case 8:
            return compress::Codec::Deflate;
        case 12:
            return compress::Codec::Bzip2;
        case 14:
            return compress::Codec::Lzma;
        default:
            return std::nullopt;
    }
}

/// A member's compressed data as a Member: as much of it as the file holds.
compress::CodedMember coded_member(Source& source, const Entry& e, compress::Codec codec) {
    const std::uint64_t avail = source.size() - std::min(e.data_offset, source.size());
    return compress::CodedMember(source, e.data_offset, std::min(e.compressed, avail), codec,
                                 e.name, e.uncompressed);
}

std::uint32_t crc_of(Source& member) {
    std::uint32_t crc = static_cast<std::uint32_t>(::crc32(0L, Z_NULL, 0));
    for (std::uint64_t at = 0; at < member.size();) {
        const auto chunk = member.view(at, 1 << 20);
        if (chunk.empty()) break;
        crc =
            static_cast<std::uint32_t>(::crc32(crc, chunk.data(), static_cast<uInt>(chunk.size())));
        at += chunk.size();
    }
    return crc;
}

/// Opens one member for the member pipeline (admit_member), after what only the zip format
/// knows: encryption, the stored size, the method. Then checks what the pipeline read against
/// the member's header. False when the member cap stops the listing.
bool scan_member(Source& source, const Entry& e, const ParseContext& context) {
    const Location where = context.member_location(e.name);
    auto report = [&](AnomalyCode code, std::string evidence) {
        context.anomaly_at(where, code, std::move(evidence));
    };
    auto bad_crc = [&] {
        report(kBadCrc,
               "the member's CRC-32 does not match its data: readers that verify it (Python's "
               "zipfile) refuse the member, readers that do not (torch.load) load it");
    };
    if (e.encrypted()) {
        // Flagged as encrypted: torch.load's miniz refuses it and Python's zipfile needs the
        // password. The traditional cipher (no strong-encryption flag) puts a 12-byte header
        // before the data, so a stored member is 12 bytes longer than its size: then it is
        // ciphertext no loader reads as it is. Otherwise the flag may be a lie meant to make
        // scanners look away, so stored bytes that are in fact plain are still scanned.
        const bool traditional = (e.flags & 0x40) == 0 && e.compressed == e.uncompressed + 12;
        report(archive::kEncrypted,
               traditional ? "the member is encrypted (traditional PKWARE cipher: a 12-byte "
                             "encryption header before its data); it cannot be inspected"
                           : "the member is flagged as encrypted; it cannot be inspected if "
                             "it really is");
        if (e.method != 0 || traditional) return true;
    }
    if (e.method == 0) {
        if (e.compressed != e.uncompressed) {
            report(archive::kMalformed,
                   "stored member whose compressed size (" + std::to_string(e.compressed) +
                       ") differs from its size (" + std::to_string(e.uncompressed) + ")");
        }
        if (e.compressed > source.size() - std::min(e.data_offset, source.size())) {
            report(archive::kMalformed, "the member's data runs past the end of the file");
        }
        SliceSource data(source, e.data_offset, e.compressed);
        StoredMember member(data, e.name);
        const Admission admitted = admit_member(context, member);
        // It was read, so its CRC is cheap to check: readers that verify it refuse the member.
        if (admitted.format && crc_of(data) != e.crc) bad_crc();
        return !admitted.stop;
    }
    const auto codec = codec_of(e);
    if (!codec) {
        report(archive::kUnsupportedMethod,
               "compression method " + std::to_string(e.method) +
                   " is not one mscan can read (stored, deflate, bzip2 and LZMA are), so it was "
                   "NOT scanned");
        return true;
    }
    compress::CodedMember member = coded_member(source, e, *codec);
    const Admission admitted = admit_member(context, member);
    const compress::Inflated& full = admitted.first;
    if (admitted.decoded && full.complete && full.size != e.uncompressed) {
        report(kHeaderMismatch, "the member decompresses to " + std::to_string(full.size) +
                                    " bytes, not the " + std::to_string(e.uncompressed) +
                                    " its header declares");
    }
    if (admitted.decoded && full.complete && full.crc32 != e.crc) bad_crc();
    return !admitted.stop;
}

/// The text of a TorchScript code member (stored, deflated, or bzip2 and LZMA, which miniz
/// refuses but a patched reader may not), at most limits::kTorchScriptMaxCodeBytes of it. `size` is
/// the member's full size; `problem` says why the text is missing or cut short.
struct CodeText {
    std::string text;
    std::uint64_t size = 0;
    std::string problem;
};

CodeText read_code(Source& source, const Entry& e, const ParseContext& context) {
    CodeText out;
    const std::uint64_t cap = limits::kTorchScriptMaxCodeBytes;
    const auto codec = codec_of(e);
    if (!e.local_ok) {
        out.problem = "its local header cannot be read";
    } else if (e.encrypted() && e.method != 0) {
        out.problem = "it is flagged as encrypted";
    } else if (e.method == 0) {
        const std::uint64_t avail = source.size() - std::min(e.data_offset, source.size());
        out.size = e.compressed;
        const auto view = source.view(
            e.data_offset, static_cast<std::size_t>(std::min({e.compressed, avail, cap})));
        out.text.assign(view.begin(), view.end());
    } else if (codec) {
        auto code = coded_member(source, e, *codec).read(cap, /*want_crc=*/false);
        if (!context.take_decompressed(code.size)) {
            out.problem = "the archive's decompression budget is spent";
            return out;
        }
        out.text.assign(code.bytes.begin(), code.bytes.end());
        out.size = code.size;
        if (code.capped) out.size = std::max<std::uint64_t>(e.uncompressed, cap + 1);
        if (!code.error.empty())
            out.problem = "its data does not decompress: " + code.error;
        else if (!code.complete && !code.capped)
            out.problem = "its data ends before the end of its deflate stream";
    } else {
        out.problem = "compression method " + std::to_string(e.method) + " is not one mscan reads";
    }
    return out;
}

/// Reviews every code file torch.jit.load may compile: <prefix>code/**/*.py (miniz finds
/// members ignoring case). The .debug_pkl pickles beside them are scanned as members.
void review_code_files(Source& source, const ParseContext& context,
                       const std::vector<const Entry*>& files) {
    for (const Entry* e : files) {
        const std::string name = util::ascii_lower(e->name);
        if (name.size() < 3 || name.substr(name.size() - 3) != ".py") continue;
        const Location where = context.member_location(e->name);
        const CodeText code = read_code(source, *e, context);
        if (!code.problem.empty()) {
            context.anomaly_at(where, torchscript::kNotChecked,
                               "the code file cannot be read (" + code.problem +
                                   "); what it holds was NOT checked");
            if (code.text.empty()) continue;
        }
        torchscript::report_code(context, where, code.text, code.size);
    }
}

/// A TorchScript archive as torch.jit.load finds one: PyTorchStreamReader takes the first
/// member's top folder as the archive's (members outside it are ignored, not refused) and
/// compiles <folder>/code/**/*.py once <folder>/data.pkl or constants.pkl is there.
void review_torchscript(Source& source, const ParseContext& context, const Directory& dir) {
    if (dir.entries.empty()) return;
    const std::string& first = dir.entries.front().name;
    const auto slash = first.find('/');
    if (slash == std::string::npos || slash == 0) return;
    const std::string folder = util::ascii_lower(first.substr(0, slash + 1));
    bool pickles = false;
    std::vector<const Entry*> code_files;
    for (const auto& e : dir.entries) {
        const std::string name = util::ascii_lower(e.name);
        if (name == folder + "data.pkl" || name == folder + "constants.pkl") pickles = true;
        if (name.starts_with(folder + "code/") && !e.is_directory()) code_files.push_back(&e);
    }
    if (!pickles || code_files.empty()) return;
    std::string list;
    for (std::size_t i = 0; i < code_files.size() && i < 8; ++i)
        list += (i ? ", " : "") + code_files[i]->name;
    if (code_files.size() > 8) list += ", ...";
    context.anomaly(kTorchScript,
                    "TorchScript archive: torch.jit.load compiles and runs the code in " +
                        std::to_string(code_files.size()) + " file(s): " + list);
    review_code_files(source, context, code_files);
}

/// libzip's reading of the archive against ours (which follows torch.load's).
void compare_with_libzip(Source& source, const ParseContext& context, const Directory& dir) {
    const LibzipView other = libzip_view(source);
    if (!other.available) {
        // This installation cannot make the check (the code of a decoder this build lacks):
        // the members are scanned, but a reader disagreement would go unseen.
        context.anomaly(archive::kUnsupportedMethod,
                        other.error +
                            ", so the archive was NOT compared with libzip's reading of it "
                            "(its members were scanned)");
        return;
    }
    if (!other.opened) {
        context.anomaly(kLibzipRefuses,
                        "libzip (the zip library behind many tools) refuses the archive (" +
                            other.error + "), while the reader that follows torch.load reads it");
        return;
    }
    std::vector<std::string> ours;
    for (const auto& e : dir.entries)
        ours.push_back(e.name);
    std::vector<std::string> theirs = other.names;
    std::sort(ours.begin(), ours.end());
    std::sort(theirs.begin(), theirs.end());
    if (ours != theirs) {
        context.anomaly(kLibzipDiffers,
                        "libzip lists " + std::to_string(theirs.size()) +
                            " members where the reader that follows torch.load lists " +
                            std::to_string(ours.size()) +
                            "; tools built on the two see "
                            "different archives");
    }
}

/// Scans the members of `dir`; `alternate`: a directory of an earlier end record, holding
/// only members the loaders' directory does not list (compared with libzip only once).
void parse_directory(Source& source, const ParseContext& context, const Directory& dir,
                     bool alternate = false) {
    for (const auto& issue : dir.issues)
        context.report(issue);
    if (!alternate) compare_with_libzip(source, context, dir);

    const std::string prefix = record_prefix(dir);
    bool torch = false;
    if (!prefix.empty()) {
        const std::string pickle_name = util::ascii_lower(prefix + "data.pkl");
        const std::string constants = util::ascii_lower(prefix + "constants.pkl");
        for (const auto& e : dir.entries) {
            const std::string name = util::ascii_lower(e.name);
            if (name == pickle_name || name == constants) torch = true;
        }
    }
    review_torchscript(source, context, dir);

    for (const auto& e : dir.entries) {
        // A name ending in '/' holds no data when it is a real folder; when it has data, a
        // loader may still read it (Python's zipfile cuts names at a NUL: "data.pkl\0/" is
        // data.pkl to numpy.load), so it is scanned like any member.
        if (e.is_directory() && e.compressed == 0 && e.uncompressed == 0) {
            context.note_member(e.name, "folder");
            continue;
        }
        const Location where = context.member_location(e.name);
        auto report = [&](AnomalyCode code, std::string evidence) {
            context.anomaly_at(where, code, std::move(evidence));
        };
        if (const char* why = unsafe_path(e.name)) {
            report(archive::kUnsafePath, std::string("the member name ") + why +
                                             ": extracting the archive writes "
                                             "outside its folder");
        }
        if (e.is_symlink()) {
            // Extracting it makes a link; a loader reading the archive reads its data (the
            // link text) as the member: both matter, so it is reported and scanned.
            report(archive::kUnsafePath,
                   "the member is a symbolic link: extracting it can redirect later writes");
        }
        if (!e.local_ok) {  // reported with the directory
            context.note_member(e.name, "no local header");
            continue;
        }
        if (torch && is_tensor_record(e.name, prefix)) {
            // Tensor bytes are not read, but torch.load decompresses the record into a storage.
            if (e.method != 0)
                compress::report_declared_expansion(
                    context, where, e.uncompressed, e.compressed,
                    "a tensor record, which mscan does not read and torch.load decompresses whole");
            context.note_member(e.name, "tensor record");
            continue;
        }
        if (!scan_member(source, e, context)) {
            for (const auto* rest = &e + 1; rest != dir.entries.data() + dir.entries.size(); ++rest)
                context.note_member(rest->name, "over the member cap (reported)");
            return;
        }
    }
    for (const auto& other : dir.alternates)
        parse_directory(source, context, other, true);
}

}  // namespace

bool detect(Source& source, std::string_view) {
    const auto head = source.view(0, 4);
    return head.size() == 4 && head[0] == 'P' && head[1] == 'K' &&
           ((head[2] == 3 && head[3] == 4) || (head[2] == 5 && head[3] == 6));
}

bool detect_embedded(Source& source, std::string_view) {
    if (!find_end_record(source)) return false;
    std::string error;
    const auto dir = read_directory(source, error);
    return dir && !dir->entries.empty();
}

void parse(Source& source, const ParseContext& context) {
    std::string error;
    const auto dir = read_directory(source, error);
    if (!dir) {
        context.anomaly(archive::kMalformed,
                        "not a readable zip archive (" + error + "), so it was NOT scanned");
        return;
    }
    parse_directory(source, context, *dir);
}

bool scan_payload(Source& source, const ParseContext& context) {
    if (!find_end_record(source)) return false;
    std::string error;
    auto dir = read_directory(source, error);
    if (!dir || dir->entries.empty()) return false;
    std::erase_if(dir->issues, [](const Anomaly& issue) { return issue.code == kLeadingData; });
    parse_directory(source, context, *dir);
    return true;
}

void scan_appended(Source& source, const ParseContext& context, std::string_view format) {
    if (!find_end_record(source)) return;
    std::string error;
    const auto dir = read_directory(source, error);
    if (!dir || dir->entries.empty()) return;
    for (const auto& [begin, end] : context.budget().nested_regions) {
        // A zip carried as a value inside the file's own format, already scanned there.
        if (dir->end_record >= begin && dir->end_record < end) return;
    }
    context.anomaly(kPolyglot,
                    "the file is a " + std::string(format) +
                        " and also a zip archive (its end record is at offset " +
                        std::to_string(dir->end_record) + "): torch.load reads the " +
                        std::string(format) +
                        " because the file does not start with a zip header, zip-based tools "
                        "read the archive; both were scanned",
                    static_cast<std::int64_t>(dir->end_record));
    parse_directory(source, context, *dir);
}

}  // namespace mscan::zip
