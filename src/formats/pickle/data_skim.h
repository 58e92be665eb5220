// The fast path for pickles that hold only data. A stream that never names a global, never
// calls anything and never fetches an object from outside the file (extension registry,
// persistent ids, out-of-band buffers) can only build strings, numbers and containers: loading
// it runs no code. The skim proves that with a tight loop over the bytes that tracks just the
// kind of every stack and memo entry, and hands the stream to the symbolic machine at the
// first opcode or irregularity that the machine would have anything to say about.
#pragma once

#include <cstdint>
#include <optional>

#include "mscan/source.h"

namespace mscan::pickle {

/// Reads the pickle stream that starts at `start` (and must end before `end`). Returns the offset
/// just past its STOP if loading it provably builds plain data, and the symbolic machine would
/// report nothing for it: only data opcodes of protocols 1-5, a consistent stack, mark stack and
/// memo, well-formed frames, nothing truncated, every limit respected. Returns nullopt
/// otherwise, including for sources that are not cheap to view whole; the caller then runs
/// the machine over the stream from `start`. Bad input never makes it fail in any other way.
std::optional<std::uint64_t> skim_data_stream(Source& source, std::uint64_t start,
                                              std::uint64_t end);

}  // namespace mscan::pickle
