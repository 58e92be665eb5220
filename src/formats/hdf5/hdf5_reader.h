// A small, bounds-checked HDF5 reader: exactly what a Keras scan needs, no libhdf5. It finds
// the superblock (offset 0, or 512, 1024, 2048, ... after a user block), follows the root
// group's object header (v1 or v2, with continuation blocks) and reads the root group's
// attributes, compact or dense (fractal heap + v2 B-tree on names), with the datatypes
// Keras and h5py write for them. It reads nothing else: datasets are never touched.
//
// Whatever it cannot read is an Anomaly (hdf5.unreadable) with the offset where reading
// stopped; the caller reports it as "could not verify", never as a pass. Inside, a structure
// that cannot be read throws, and the level that can carry on catches it and records the
// Anomaly: no exception leaves the reader.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "formats/anomaly.h"
#include "mscan/source.h"

namespace mscan::hdf5 {

/// The HDF5 format signature, 8 bytes.
inline constexpr char kSignature[] = "\x89HDF\r\n\x1a\n";

/// Offset of the superblock signature: 0, 512, 1024, 2048, ... (powers of two from 512) up to
/// the source's size; nullopt when there is none.
std::optional<std::uint64_t> find_superblock(Source& source);

struct Attribute {
    enum class Kind {
        String,   ///< fixed- or variable-length string (scalar or array): `strings`
        Integer,  ///< fixed-point (any size, signed or not), scalar or array: `integers`
        Float,    ///< IEEE float 32/64, scalar or array: `floats`
        Other,    ///< any other datatype (compound, reference, enum, ...): nothing decoded
    };
    std::string name;
    Kind kind = Kind::Other;
    std::vector<std::string> strings;
    std::vector<std::int64_t> integers;
    std::vector<double> floats;
    /// Short description of the datatype, e.g. "fixed string[14]", "vlen string", "int64[3]".
    std::string type;
    /// File offset of the attribute message (or of its record in the fractal heap).
    std::uint64_t offset = 0;
};

struct RootAttributes {
    /// Superblock version 0..3 (-1 when the superblock could not be read).
    int superblock_version = -1;
    /// Offset of the superblock (the user block size).
    std::uint64_t superblock_offset = 0;
    std::vector<Attribute> attributes;
    /// Everything the reader could not read, each an hdf5.unreadable anomaly whose evidence
    /// is one line ("object header continuation beyond end of file") and whose offset is the
    /// file offset where reading stopped (or -1). Non-empty means the attribute list may be
    /// incomplete.
    std::vector<Anomaly> problems;
};

/// Reads the root group's attributes. Bounded: every offset and length is checked against
/// the source before use; no allocation follows a declared size that the bytes do not back;
/// the caps in mscan/limits.h (kHdf5*) bound messages, continuation blocks, heap objects,
/// attribute counts and decoded bytes. Never throws on bad input.
RootAttributes read_root_attributes(Source& source, std::uint64_t superblock_offset);

}  // namespace mscan::hdf5
