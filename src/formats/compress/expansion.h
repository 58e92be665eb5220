// How much a compressed member may expand, and how its expansion is reported: the same for
// zip members, zlib and joblib streams. A ratio beyond the limit alone is reported low and the
// member is read on, as its loader reads it (runs of zeros compress that well in real models,
// and may hide a payload behind them); only expansion past the absolute caps is a bomb.
#pragma once

#include <cstdint>
#include <string_view>

#include "formats/compress/inflate.h"
#include "formats/context.h"

namespace mscan::compress {

/// Bytes one member may decompress to: the member cap, or less when the file's budget has
/// less left.
std::uint64_t member_cap(const ParseContext& context);

/// Charges a first pass made with `cap` (from member_cap) to the file's budget and reports at
/// `where` how it ended: a ratio beyond the limit (low), a bomb (the ratio and the member cap
/// both reached), the member cap or the file's budget reached, damage. `what` names the thing
/// decompressed ("member", "stream"). What was produced is always worth scanning.
void report_expansion(const ParseContext& context, const Location& where, const Inflated& first,
                      std::uint64_t cap, std::string_view what);

/// For a member mscan does not decompress whole (a tensor record, the data after an .npy
/// header, a member that is no model format) but whose loader or extractor does: judges the
/// sizes its headers declare, which is what such a reader allocates and produces. `why` says
/// why mscan did not decompress it.
void report_declared_expansion(const ParseContext& context, const Location& where,
                               std::uint64_t declared, std::uint64_t compressed,
                               std::string_view why);

}  // namespace mscan::compress
