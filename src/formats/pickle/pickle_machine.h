// A symbolic pickle virtual machine: it executes every opcode of protocols 0-5 against a real
// stack, mark stack and memo, but with symbolic values: globals are names, calls produce
// objects that remember what made them. Nothing is imported or called. What loading would do
// comes out as Operations (imports, calls, anomalies) with byte offsets and opcode indexes.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "mscan/operation.h"
#include "mscan/reader.h"

namespace mscan::pickle {

/// How a run over one region ended.
struct RunSummary {
    std::uint64_t streams = 0;     ///< pickle streams that reached or started parsing
    std::uint64_t end_offset = 0;  ///< where parsing stopped
    bool clean = false;            ///< every stream ended with STOP and nothing trailed
};

/// Options for one scan of a pickle region.
struct MachineOptions {
    /// Keep reading back-to-back pickles after the first STOP (raw pickle files: yes; a pickle
    /// embedded in another format followed by that format's data: no).
    bool multiple_streams = true;
    /// Report bytes left after the last stream as an anomaly.
    bool report_trailing = true;
    /// Try the data-only fast path (data_skim.h) on each stream before the machine. Only
    /// tests turn it off, to check that both ways report the same.
    bool fast_path = true;
    /// Label for the first stream's locations (later streams are "pickle N").
    std::string label;
    /// Called for each persistent id (PERSID, BINPERSID) with the parts of the id: a tuple's
    /// items (strings as text, globals as their name, integers in decimal, anything else
    /// empty), or the id itself as one part. Lets a loader-specific reader (legacy torch)
    /// learn which storages the pickle refers to.
    std::function<void(const std::vector<std::string>& parts)> on_persistent_id;
    /// The loader's persistent_load returns the object inside a ('module', obj, file, source)
    /// id (legacy torch.load's model pickle): model it, so a call of it is a call of obj.
    bool persistent_modules = false;
    /// Called for a bytes or str operand that starts like a file a loader reads from bytes
    /// (a zip archive or a legacy torch file: torch.storage._load_from_bytes, a skorch net's
    /// __setstate__). The operand is [offset, offset + length) of `source`; `text` says it is
    /// a str whose code points are the bytes (protocol 2 pickles bytes as
    /// _codecs.encode(str, 'latin1')) and must be decoded first. `at` is where the operand's
    /// opcode is. Returns whether the nested file was read as a model format and scanned.
    std::function<bool(Source& source, std::uint64_t offset, std::uint64_t length, bool text,
                       std::uint64_t at)>
        on_blob;
};

/// Scans the pickle stream(s) in [reader.pos(), reader.end()) and reports operations to `sink`,
/// each located under `base` (its chain is copied into every operation's location).
RunSummary scan_pickle(ByteReader& reader, const Location& base, const OperationSink& sink,
                       const MachineOptions& options = {});

}  // namespace mscan::pickle
