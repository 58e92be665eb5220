// Fuzz target for the HDF5 reader: any bytes, searched for a superblock and read as an HDF5
// file's root attributes (superblock, object headers and continuation blocks, attribute
// messages and their datatypes, dense storage through the fractal heap and v2 B-trees, the
// global heap). Also read from offset 0 whatever the search found, and through a source whose
// declared size is larger than its bytes. Must never crash, hang or grow memory without bound.
#include <cstdint>
#include <vector>

#include "formats/hdf5/hdf5_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::vector<std::uint8_t> bytes(data, data + size);
    mscan::MemorySource source(bytes);
    const auto sb = mscan::hdf5::find_superblock(source);
    (void)mscan::hdf5::read_root_attributes(source, sb ? *sb : 0);
    if (size > 0 && (data[size - 1] & 1)) {
        // The same bytes as the head of a larger object whose rest is not at hand.
        mscan::PrefixSource prefix(std::move(bytes), std::uint64_t{size} * 2);
        (void)mscan::hdf5::read_root_attributes(prefix, sb ? *sb : 0);
    }
    return 0;
}
