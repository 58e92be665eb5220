// Raw pickle files: detection by content, then every back-to-back stream through the machine.
#include "formats/pickle/pickle_format.h"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "formats/pickle/pickle_codes.h"
#include "formats/pickle/pickle_detect.h"
#include "formats/pickle/pickle_machine.h"
#include "formats/pickle/torch_legacy.h"
#include "formats/registry.h"

namespace mscan::pickle {

bool extension_suggests_pickle(std::string_view extension) {
    // .npy and .npz too: numpy.load(allow_pickle=True) unpickles a file that has neither the
    // .npy nor the zip magic (numpy/lib/npyio.py).
    static constexpr std::array<std::string_view, 15> kPickleExtensions = {
        ".pkl",  ".pickle", ".pt",   ".pth", ".bin", ".ckpt", ".joblib", ".dat",
        ".data", ".p",      ".dill", ".sav", ".pck", ".npy",  ".npz"};
    return std::find(kPickleExtensions.begin(), kPickleExtensions.end(), extension) !=
           kPickleExtensions.end();
}

bool detect(Source& source, std::string_view extension) {
    // The content decides: a name never makes a PNG or a text file a pickle. A name only
    // lets a well-formed protocol 0/1 prefix cut off before its first global count.
    const PickleProbe probe = plausible_pickle(source);
    return probe.pickle || (probe.truncated && extension_suggests_pickle(extension));
}

namespace {

/// Scans a nested file and says whether it was read cleanly: detected as a model format,
/// with no anomaly on the way (a persistent id is how torch files refer to their storages,
/// not a problem). Its operations go to the file's sink either way.
bool scan_blob(Source& blob, const std::string& name, const ParseContext& context) {
    bool clean = true;
    const OperationSink& outer = context.sink();
    const OperationSink watch = [&clean, &outer](Operation&& op) {
        if (op.kind == OpKind::Anomaly && op.name != kPersistentId) clean = false;
        outer(std::move(op));
    };
    const ParseContext here(watch, context.base(), context.budget(), context.depth());
    return here.scan_member(blob, name) != nullptr && clean;
}

}  // namespace

void scan_nested_blobs(MachineOptions& options, const ParseContext& context) {
    options.on_blob = [&context](Source& source, std::uint64_t offset, std::uint64_t length,
                                 bool text, std::uint64_t at) {
        const std::string name = "bytes value at offset " + std::to_string(at);
        bool read = false;
        if (!text) {
            SliceSource blob(source, offset, length);
            read = scan_blob(blob, name, context);
        } else {
            // A str whose code points are the bytes (protocol 2's _codecs.encode(s,
            // 'latin1')): decode the UTF-8 the pickle holds; a code point above 0xff is not
            // latin-1, and the loader's encode would fail.
            if (!context.take_decompressed(length)) return false;
            std::vector<std::uint8_t> bytes;
            bytes.reserve(static_cast<std::size_t>(length));
            ByteReader in(source, offset, offset + length);
            while (!in.at_end()) {
                const auto b = in.u8();
                if (!b) return false;
                std::uint32_t cp = *b;
                if (cp >= 0x80) {
                    const auto c = in.u8();
                    if ((cp & 0xe0) != 0xc0 || !c || (*c & 0xc0) != 0x80) return false;
                    cp = ((cp & 0x1f) << 6) | (*c & 0x3f);
                    if (cp < 0x80 || cp > 0xff) return false;
                }
                bytes.push_back(static_cast<std::uint8_t>(cp));
            }
            MemorySource blob(std::move(bytes));
            read = scan_blob(blob, name, context);
        }
        // Scanned there, whatever it held: the appended-archive check leaves it alone.
        if (context.depth() == 0)
            context.budget().nested_regions.emplace_back(offset, offset + length);
        return read;
    };
}

namespace {

/// Scans a file read as a pickle only because of its name (its content alone does not pass
/// for one: text, or bytes that break on the first opcodes). What the unpickler would run
/// before it fails is reported as usual; when nothing ran, the stream's opcode-level
/// complaints become one format-mismatch finding that says what the file is instead.
void parse_named_only(Source& source, const ParseContext& context) {
    std::vector<Operation> held;
    bool acted = false;
    const OperationSink& sink = context.sink();
    const OperationSink hold = [&](Operation&& op) {
        if (!acted && op.kind != OpKind::Anomaly) {
            acted = true;
            for (auto& h : held)
                sink(std::move(h));
            held.clear();
        }
        if (acted) {
            sink(std::move(op));
        } else {
            held.push_back(std::move(op));
        }
    };
    ByteReader reader(source);
    MachineOptions options;
    scan_nested_blobs(options, context);
    scan_pickle(reader, context.base(), hold, options);
    // Something ran (reported as usual), or nothing was wrong: a whole protocol 0/1 pickle
    // longer than the detection probe, with no global in the probed part, reads cleanly.
    if (acted || held.empty()) return;
    const std::string& name = context.base().chain.back();
    std::string evidence = describe_mismatch(source, name, format_named_by(name));
    if (!held.empty()) {
        const Operation& first = held.front();
        evidence += "; read as a pickle it breaks";
        if (first.location.offset >= 0)
            evidence += " at byte " + std::to_string(first.location.offset);
        evidence += " (" + first.name + (first.evidence.empty() ? "" : ": " + first.evidence) +
                    "), before anything ran";
    }
    context.anomaly(kFormatMismatch, std::move(evidence));
}

}  // namespace

void parse(Source& source, const ParseContext& context) {
    if (is_torch_legacy(source)) {
        scan_torch_legacy(source, context);
        return;
    }
    if (!context.base().chain.empty() && format_named_by(context.base().chain.back()) &&
        !plausible_pickle(source).pickle) {
        parse_named_only(source, context);
        return;
    }
    ByteReader reader(source);
    MachineOptions options;
    scan_nested_blobs(options, context);
    scan_pickle(reader, context.base(), context.sink(), options);
}

}  // namespace mscan::pickle
