// A bounded reader for the structure of a zip archive: end records (zip64 included), the
// central directory and each member's local header. It reads like PyTorch's reader (miniz):
// members come from the central directory, their data follows the local header as the local
// header's own lengths say, and CRCs, flag bits and local names do not stop it. Every place
// where readers could disagree is collected as an issue for the caller to report.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "formats/anomaly.h"
#include "mscan/source.h"

namespace mscan::zip {

struct Entry {
    std::string name;        ///< central directory name
    std::string local_name;  ///< local header name ("" if the local header is unreadable)
    std::uint16_t made_by = 0;
    std::uint16_t flags = 0;
    std::uint16_t method = 0;
    std::uint32_t crc = 0;
    std::uint64_t compressed = 0;
    std::uint64_t uncompressed = 0;
    std::uint32_t external_attributes = 0;
    std::uint64_t local_offset = 0;  ///< absolute offset of the local header in the source
    std::uint64_t data_offset = 0;   ///< absolute offset of the member's data
    bool local_ok = false;           ///< the local header was found and read

    bool encrypted() const { return (flags & 1) != 0; }
    bool is_directory() const { return !name.empty() && name.back() == '/'; }
    /// Unix symbolic link (created on Unix with S_IFLNK in the external attributes).
    bool is_symlink() const {
        return (made_by >> 8) == 3 && ((external_attributes >> 16) & 0170000) == 0120000;
    }
};

/// Something about the archive's structure worth reporting: an anomaly code and evidence.
struct Directory {
    std::vector<Entry> entries;
    /// What breaks the format, in the order found.
    std::vector<Anomaly> issues;
    std::uint64_t end_record = 0;  ///< offset of the end of central directory record
    bool zip64 = false;
    /// Bytes before the archive proper (the first local header or, for an archive whose
    /// offsets are shifted, the shift): 0 for an ordinary zip.
    std::uint64_t leading_bytes = 0;
    /// Directories of earlier end records, each holding only the members this directory
    /// does not list (other zip readers take those records; a zip.end-record-disagreement
    /// issue names each).
    std::vector<Directory> alternates;
};

/// Every end of central directory signature in the last 64 KiB with a whole record after
/// it, last first.
std::vector<std::uint64_t> end_record_candidates(Source& source);

/// The end record the loaders read, if the source ends like a zip archive: miniz
/// (torch.load) and Python's zipfile take the last signature with a whole record after it.
std::optional<std::uint64_t> find_end_record(Source& source);

/// Reads the archive's directory from the loaders' end record (or, when that gives none, the
/// last earlier record that does). nullopt (with `error` set) if it is not a readable zip at
/// all; otherwise every entry it could read, the issues it found on the way, and the members
/// only earlier end records' directories list (alternates).
std::optional<Directory> read_directory(Source& source, std::string& error);

}  // namespace mscan::zip
