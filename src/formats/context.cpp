// Nested scanning: members go back through detection, one level deeper, under the budget.
#include "formats/context.h"

#include <algorithm>

#include "formats/common_codes.h"
#include "formats/member.h"
#include "mscan/limits.h"

namespace mscan {

void ParseContext::anomaly(AnomalyCode code, std::string evidence, std::int64_t offset) const {
    Location where = base_;
    where.offset = offset;
    anomaly_at(where, code, std::move(evidence));
}

void ParseContext::anomaly_at(const Location& where, AnomalyCode code, std::string evidence) const {
    if (budget_.ledger && where.chain.size() > base_.chain.size())
        budget_.ledger->records.push_back({where.chain, "reported " + std::string(code.text())});
    Operation op;
    op.kind = OpKind::Anomaly;
    op.name = code.text();
    op.evidence = std::move(evidence);
    op.location = where;
    sink_(std::move(op));
}

Location ParseContext::member_location(std::string_view name) const {
    Location loc;
    loc.chain = base_.chain;
    loc.chain.emplace_back(name);
    return loc;
}

bool ParseContext::take_member() const {
    if (budget_.members >= limits::kMaxMembers) {
        if (!budget_.members_reported) {
            budget_.members_reported = true;
            anomaly(kContainerNotScanned,
                    "more than " + std::to_string(limits::kMaxMembers) +
                        " archive members in one file; the rest were NOT scanned");
        }
        return false;
    }
    ++budget_.members;
    return true;
}

bool ParseContext::take_decompressed(std::uint64_t n) const {
    if (n > limits::kMaxDecompressedTotal - budget_.decompressed) {
        if (!budget_.decompressed_reported) {
            budget_.decompressed_reported = true;
            anomaly(kContainerNotScanned,
                    "more than " + std::to_string(limits::kMaxDecompressedTotal >> 20) +
                        " MiB decompressed from one file; the rest was NOT scanned");
        }
        return false;
    }
    budget_.decompressed += n;
    return true;
}

void ParseContext::note_member(std::string_view name, std::string decision) const {
    if (budget_.ledger)
        budget_.ledger->records.push_back({member_location(name).chain, std::move(decision)});
}

std::uint64_t ParseContext::decompress_room() const {
    return limits::kMaxDecompressedTotal -
           std::min(budget_.decompressed, limits::kMaxDecompressedTotal);
}

const Format* ParseContext::scan_member(Source& member, std::string_view name) const {
    StoredMember stored(member, std::string(name));
    stored.counted = false;
    return admit_member(*this, stored).format;
}

}  // namespace mscan
