// Anomaly codes of the HDF5 reader (hdf5_reader.cpp), reported by the Keras .h5 parser.
#pragma once

#include "formats/anomaly.h"

namespace mscan::hdf5 {

/// The root group's attributes could not be read: the Keras config was not verified.
inline constexpr AnomalyCode kUnreadable{"hdf5.unreadable"};

/// Every code above: the HDF5 code table (tests/test_codes.cpp checks it against the rules).
inline constexpr AnomalyCode kAnomalyCodes[] = {
    kUnreadable,
};

}  // namespace mscan::hdf5
