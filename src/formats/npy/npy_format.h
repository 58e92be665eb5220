// NumPy .npy files (format versions 1.0-3.0): the header is a Python dict literal naming the
// dtype, the memory order and the shape. A dtype that holds Python objects means the data is
// a pickle that numpy.load(allow_pickle=True) unpickles: it is scanned like any pickle. Other
// dtypes are plain array bytes, checked for size and never read. (.npz files are zips of .npy
// members and need nothing more.)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/context.h"
#include "mscan/source.h"

namespace mscan::numpy {

/// What the header says, as far as the scan needs it.
struct Header {
    int major = 0, minor = 0;
    std::uint64_t data_offset = 0;          ///< where the array data (or the pickle) starts
    std::string descr;                      ///< the dtype as written (a string, or a list rendered)
    bool has_object = false;                ///< some field is a Python object: a pickle follows
    std::optional<std::uint64_t> itemsize;  ///< bytes per element, if the dtype is understood
    /// Non-empty when mscan cannot tell what numpy makes of the dtype: what it did not know.
    std::string dtype_doubt;
    std::vector<std::int64_t> shape;  ///< as written (the header check takes negative values)
    bool fortran_order = false;
    bool duplicate_keys = false;  ///< a key was given twice (numpy keeps the last)
};

/// Parses the header as numpy.lib.format.read_array_header_* does; nullopt with `error` set
/// when numpy refuses it.
std::optional<Header> parse_header(Source& source, std::string& error);

bool detect(Source& source, std::string_view extension);
void parse(Source& source, const ParseContext& context);
/// For containers: whether the first bytes of a member suffice to scan it (the dtype holds
/// no objects, so only the header is read), given the member's real size.
bool head_suffices(Source& head);

}  // namespace mscan::numpy
