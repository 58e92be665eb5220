// What a parser works with: where its operations go, where it sits in the chain of containers,
// the budget shared by everything nested in one scanned file, and the way back to detection
// for container members (a zip member, a tar entry, a decompressed stream).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "formats/anomaly.h"
#include "mscan/neighbours.h"
#include "mscan/operation.h"
#include "mscan/source.h"

namespace mscan {

struct Format;

/// What became of each container member: scanned, reported, or skipped for a stated reason
/// (a tensor record, a folder, a link, not a model format). Kept only when a caller asks for it
/// (ScanBudget::ledger: tests and fuzz targets), to check that no member a container lists is
/// dropped without a word.
struct MemberLedger {
    struct Record {
        std::vector<std::string> chain;  ///< the member's location (file, member, ...)
        std::string decision;            ///< "scanned", "reported <code>", "tensor-record", ...
    };
    std::vector<Record> records;
    /// A sequential reader (libarchive) stopped before the end (a cap, a bomb, damage it
    /// reported): members after that point were never listed to it.
    bool stopped_early = false;
};

/// Resources used by one top-level file and everything nested in it. Each cap in
/// mscan/limits.h is checked against these; hitting one is a `limit.exceeded` finding.
struct ScanBudget {
    std::uint64_t members = 0;       ///< container members looked at
    std::uint64_t decompressed = 0;  ///< bytes produced by decompression
    bool members_reported = false;   ///< the member cap has been reported once
    bool decompressed_reported = false;
    /// Regions [first, second) of the top-level file that a parser already scanned as nested
    /// files (a zip carried as a bytes value inside a pickle): the appended-archive check does
    /// not report those as a polyglot.
    std::vector<std::pair<std::uint64_t, std::uint64_t>> nested_regions;
    /// Where member decisions are recorded, if anywhere (see MemberLedger).
    MemberLedger* ledger = nullptr;
};

class ParseContext {
  public:
    ParseContext(const OperationSink& sink, Location base, ScanBudget& budget, int depth = 0)
        : sink_(sink), base_(std::move(base)), budget_(budget), depth_(depth) {}

    /// The location of the object being parsed: its chain names it (file, then members).
    const Location& base() const { return base_; }
    const OperationSink& sink() const { return sink_; }
    ScanBudget& budget() const { return budget_; }
    /// 0 for the file itself, 1 for a member of it, ...
    int depth() const { return depth_; }
    /// The files beside the scanned file, or nullptr when they cannot be known (a member of
    /// an archive, standard input, a test or fuzz input).
    const Neighbours* neighbours() const { return neighbours_; }
    void set_neighbours(const Neighbours* neighbours) { neighbours_ = neighbours; }

    void emit(Operation&& op) const { sink_(std::move(op)); }
    /// Reports an anomaly located in this object (at `offset`, -1 for the object as a whole).
    void anomaly(AnomalyCode code, std::string evidence, std::int64_t offset = -1) const;
    /// Reports an anomaly at `where` (usually a member's location).
    void anomaly_at(const Location& where, AnomalyCode code, std::string evidence) const;
    /// Reports an anomaly a sub-reader returned, located in this object at its offset.
    void report(Anomaly anomaly) const {
        this->anomaly(anomaly.code, std::move(anomaly.evidence), anomaly.offset);
    }

    /// The location of a member of this object.
    Location member_location(std::string_view name) const;

    /// Counts one member against the budget; false (reported once) when the cap is reached
    /// and the member must not be read.
    bool take_member() const;
    /// Counts `n` decompressed bytes against the file's budget; false (reported once) when
    /// that would exceed the cap.
    bool take_decompressed(std::uint64_t n) const;
    /// Decompressed bytes the file's budget has left.
    std::uint64_t decompress_room() const;

    /// Records in the ledger (if there is one) what became of member `name` of this object
    /// when it is neither scanned nor reported: why it was skipped.
    void note_member(std::string_view name, std::string decision) const;

    /// Hands bytes held in this object (a file embedded in a pickle, an HDF5 user block) back
    /// to detection and scans them one level deeper, through admit_member() (formats/member.h)
    /// without counting them as an archive member: `name` is their name inside this object
    /// (its extension only breaks detection ties). Returns
    /// the format it was read as, or nullptr when it is not a model format (nothing to
    /// report) or could not be read (reported).
    const Format* scan_member(Source& member, std::string_view name) const;

  private:
    const OperationSink& sink_;
    Location base_;
    ScanBudget& budget_;
    int depth_;
    const Neighbours* neighbours_ = nullptr;
};

}  // namespace mscan
