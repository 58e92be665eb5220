// Raw pickle files: detection by content, then every back-to-back stream through the machine.
#include "formats/pickle/pickle_format.h"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

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
    scan_pickle(reader, context.base(), hold);
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
    scan_pickle(reader, context.base(), context.sink());
}

}  // namespace mscan::pickle
