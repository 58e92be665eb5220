// The expansion policy of expansion.h.
#include "formats/compress/expansion.h"

#include <algorithm>
#include <string>

#include "formats/archive/archive_codes.h"
#include "formats/common_codes.h"
#include "mscan/limits.h"

namespace mscan::compress {
namespace {

std::string mib(std::uint64_t bytes) {
    return std::to_string(bytes >> 20) + " MiB";
}

std::string times(std::uint64_t out, std::uint64_t in) {
    return std::to_string(out / std::max<std::uint64_t>(in, 1)) + " times";
}

}  // namespace

std::uint64_t member_cap(const ParseContext& context) {
    return std::min(limits::kMaxDecompressedMember, context.decompress_room());
}

void report_expansion(const ParseContext& context, const Location& where, const Inflated& first,
                      std::uint64_t cap, std::string_view what) {
    const std::string thing(what);
    context.take_decompressed(first.size);  // within the room member_cap left
    if (first.capped && cap < limits::kMaxDecompressedMember) {
        // The file's budget ran out inside this member: take_decompressed reports it once.
        context.take_decompressed(1);
    } else if (first.capped && first.ratio_exceeded) {
        context.anomaly_at(
            where, archive::kCompressionBomb,
            "the " + thing + " expands more than " + std::to_string(limits::kMaxCompressionRatio) +
                " times its compressed size and past " + mib(limits::kMaxDecompressedMember) +
                " (" + std::to_string(first.consumed) +
                " compressed bytes gave that much); decompression stopped there, "
                "the part before was scanned, the rest was NOT");
    } else if (first.capped) {
        context.anomaly_at(where, kContainerNotScanned,
                           "the " + thing + " is larger than " +
                               mib(limits::kMaxDecompressedMember) +
                               " decompressed; only its start was scanned, the rest was NOT");
    } else if (first.ratio_exceeded) {
        context.anomaly_at(where, archive::kCompressionRatio,
                           "the " + thing + " expands " + times(first.size, first.consumed) +
                               " its compressed size (" + std::to_string(first.size) +
                               " bytes from " + std::to_string(first.consumed) +
                               "), more than the limit of " +
                               std::to_string(limits::kMaxCompressionRatio) +
                               "; it was decompressed in full, as its loader would, and scanned");
    }
    if (!first.error.empty())
        context.anomaly_at(where, archive::kMalformed,
                           first.error + "; what decompressed was scanned");
}

void report_declared_expansion(const ParseContext& context, const Location& where,
                               std::uint64_t declared, std::uint64_t compressed,
                               std::string_view why) {
    if (!ratio_exceeded(declared, compressed)) return;
    const std::string sizes = "the member declares " + std::to_string(declared) + " bytes from " +
                              std::to_string(compressed) + " compressed (" +
                              times(declared, compressed) + " its size";
    if (declared > limits::kMaxDecompressedMember) {
        context.anomaly_at(where, archive::kCompressionBomb,
                           sizes + ", and more than " + mib(limits::kMaxDecompressedMember) +
                               "): whatever reads it allocates and inflates that much; " +
                               std::string(why));
    } else {
        context.anomaly_at(where, archive::kCompressionRatio,
                           sizes + ", more than the limit of " +
                               std::to_string(limits::kMaxCompressionRatio) + "); " +
                               std::string(why));
    }
}

}  // namespace mscan::compress
