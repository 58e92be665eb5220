// Zip structure, read through the checked ByteReader only: fixed-layout records through
// RecordView (core/record_view.h), whose field layouts below are those of PKWARE's APPNOTE
// (version 6.3.10; sections cited beside each record). The archive is untrusted: every record
// is taken whole or not at all, and every disagreement between its records is an issue.
#include "formats/zip/zip_directory.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "formats/archive/archive_codes.h"
#include "formats/common_codes.h"
#include "formats/zip/zip_codes.h"
#include "io/record_view.h"
#include "mscan/limits.h"
#include "mscan/reader.h"
#include "util/text.h"
#include "util/text_safety.h"

namespace mscan::zip {
namespace {

using u16 = std::uint16_t;
using u32 = std::uint32_t;
using u64 = std::uint64_t;

/// Local file header (APPNOTE 4.3.7), followed by the file name and the extra field.
struct LocalHeader {
    static constexpr std::size_t kSize = 30;
    static constexpr Field<u32, LocalHeader> kSignature{0};
    static constexpr Field<u16, LocalHeader> kGeneralPurposeBitFlag{6};
    static constexpr Field<u16, LocalHeader> kCompressionMethod{8};
    static constexpr Field<u32, LocalHeader> kCrc32{14};
    static constexpr Field<u32, LocalHeader> kCompressedSize{18};
    static constexpr Field<u32, LocalHeader> kUncompressedSize{22};
    static constexpr Field<u16, LocalHeader> kFileNameLength{26};
    static constexpr Field<u16, LocalHeader> kExtraFieldLength{28};
};

/// Central directory file header (APPNOTE 4.3.12), followed by the file name, the extra field
/// and the file comment.
struct CentralHeader {
    static constexpr std::size_t kSize = 46;
    static constexpr Field<u32, CentralHeader> kSignature{0};
    static constexpr Field<u16, CentralHeader> kVersionMadeBy{4};
    static constexpr Field<u16, CentralHeader> kGeneralPurposeBitFlag{8};
    static constexpr Field<u16, CentralHeader> kCompressionMethod{10};
    static constexpr Field<u32, CentralHeader> kCrc32{16};
    static constexpr Field<u32, CentralHeader> kCompressedSize{20};
    static constexpr Field<u32, CentralHeader> kUncompressedSize{24};
    static constexpr Field<u16, CentralHeader> kFileNameLength{28};
    static constexpr Field<u16, CentralHeader> kExtraFieldLength{30};
    static constexpr Field<u16, CentralHeader> kFileCommentLength{32};
    static constexpr Field<u32, CentralHeader> kExternalFileAttributes{38};
    static constexpr Field<u32, CentralHeader> kRelativeOffsetOfLocalHeader{42};
};

/// End of central directory record (APPNOTE 4.3.16), followed by the .ZIP file comment.
struct EndRecord {
    static constexpr std::size_t kSize = 22;
    static constexpr Field<u32, EndRecord> kSignature{0};
    static constexpr Field<u16, EndRecord> kNumberOfThisDisk{4};
    static constexpr Field<u16, EndRecord> kDiskWithCentralDirectory{6};
    static constexpr Field<u16, EndRecord> kEntriesOnThisDisk{8};
    static constexpr Field<u16, EndRecord> kTotalEntries{10};
    static constexpr Field<u32, EndRecord> kSizeOfCentralDirectory{12};
    static constexpr Field<u32, EndRecord> kOffsetOfCentralDirectory{16};
    static constexpr Field<u16, EndRecord> kCommentLength{20};
};

/// Zip64 end of central directory record (APPNOTE 4.3.14), its fixed part (version 1). Its
/// signature (offset 0) is checked on its own first: a signature without a whole record after
/// it is not the same finding as no signature.
struct Zip64EndRecord {
    static constexpr std::size_t kSize = 56;
    static constexpr Field<u64, Zip64EndRecord> kTotalEntries{32};
    static constexpr Field<u64, Zip64EndRecord> kSizeOfCentralDirectory{40};
    static constexpr Field<u64, Zip64EndRecord> kOffsetOfCentralDirectory{48};
};

/// Zip64 end of central directory locator (APPNOTE 4.3.15), right before the end record.
struct Zip64Locator {
    static constexpr std::size_t kSize = 20;
    static constexpr Field<u32, Zip64Locator> kSignature{0};
    static constexpr Field<u64, Zip64Locator> kOffsetOfZip64EndRecord{8};
};

/// The header of one extra field block (APPNOTE 4.5.1), followed by `kDataSize` bytes.
struct ExtraFieldHeader {
    static constexpr std::size_t kSize = 4;
    static constexpr Field<u16, ExtraFieldHeader> kHeaderId{0};
    static constexpr Field<u16, ExtraFieldHeader> kDataSize{2};
};

using LocalView = RecordView<LocalHeader>;
using CentralView = RecordView<CentralHeader>;
using EndView = RecordView<EndRecord>;
using Zip64EndView = RecordView<Zip64EndRecord>;
using LocatorView = RecordView<Zip64Locator>;
using ExtraHeaderView = RecordView<ExtraFieldHeader>;

// Signatures (APPNOTE 4.3.7, 4.3.12, 4.3.14-4.3.16), the zip64 extra field's header id
// (4.5.2) and the values that mark a field as stored in zip64 records instead (4.4.1.4).
constexpr u32 kLocalSig = 0x04034b50;
constexpr u32 kCentralSig = 0x02014b50;
constexpr u32 kEndSig = 0x06054b50;
constexpr u32 kEnd64Sig = 0x06064b50;
constexpr u32 kLocator64Sig = 0x07064b50;
constexpr u16 kZip64ExtraId = 0x0001;
constexpr u16 kSaturated16 = 0xffff;
constexpr u32 kSaturated32 = 0xffffffff;
constexpr std::size_t kMaxComment = 0xffff;
/// Bit 3 of the general purpose flags: CRC and sizes follow the data (4.4.4).
constexpr u16 kDataDescriptorFlag = 8;

/// A member's sizes and local header offset: the values a zip64 extra field may hold instead.
struct Sizes {
    u64 uncompressed, compressed, offset;
};

/// Reads the zip64 extended information fields (APPNOTE 4.5.3) from `body`, in the APPNOTE's
/// order, into the fields of `s` that are wanted; false at the first one that is missing.
bool read_zip64_values(ByteReader body, Sizes& s, bool want_u, bool want_c, bool want_o) {
    const auto take = [&body](bool wanted, u64& v) {
        if (!wanted) return true;
        const auto value = body.u64le();
        if (!value) return false;
        v = *value;
        return true;
    };
    return take(want_u, s.uncompressed) && take(want_c, s.compressed) && take(want_o, s.offset);
}

/// Applies a zip64 extended information extra field (id 1) found in `extra` (a reader bounded
/// to an extra field) to the fields saturated at 0xffffffff. Returns false if the field is
/// missing or short (a short field may have set the values before it).
bool apply_zip64(ByteReader extra, Sizes& s, bool want_u, bool want_c, bool want_o) {
    while (const auto header = ExtraHeaderView::read(extra)) {
        const u64 len = header->get<ExtraFieldHeader::kDataSize>();
        if (len > extra.remaining()) return false;
        if (header->get<ExtraFieldHeader::kHeaderId>() == kZip64ExtraId) {
            return read_zip64_values(ByteReader(extra.source(), extra.pos(), extra.pos() + len), s,
                                     want_u, want_c, want_o);
        }
        extra.skip(len);
    }
    return false;
}

/// Whether a 32-bit signature `sig` is at `at` of `source`.
bool signature_at(Source& source, u64 at, u32 sig) {
    ByteReader r(source, at);
    return r.u32le() == sig;
}

}  // namespace

std::vector<std::uint64_t> end_record_candidates(Source& source) {
    std::vector<std::uint64_t> out;
    const std::uint64_t size = source.size();
    if (size < EndRecord::kSize) return out;
    const std::uint64_t span = std::min<std::uint64_t>(size, EndRecord::kSize + kMaxComment);
    const std::uint64_t start = size - span;
    const auto tail = source.view(start, static_cast<std::size_t>(span));
    if (tail.size() != span) return out;
    for (std::size_t i = tail.size() - EndRecord::kSize + 1; i-- > 0;) {
        const auto record = EndView::in(tail, i);
        if (record && record->get<EndRecord::kSignature>() == kEndSig) out.push_back(start + i);
    }
    return out;
}

std::optional<std::uint64_t> find_end_record(Source& source) {
    // miniz (torch.load) and Python's zipfile (numpy.load, Keras) both take the last
    // signature with a whole record after it, whatever its comment length says.
    const auto all = end_record_candidates(source);
    if (all.empty()) return std::nullopt;
    return all.front();
}

namespace {

/// Where an end record (or the zip64 end record that replaces it) puts the central directory.
struct Location {
    u64 count = 0;        ///< total number of entries
    u64 size = 0;         ///< bytes
    u64 offset = 0;       ///< relative to the archive's start
    u64 archive_end = 0;  ///< where it should end: at the (zip64) end record
};

/// A zip64 end record found right before the locator instead of where the locator says.
struct MovedZip64End {
    u64 declared, actual;
};

/// The end record at `dir.end_record`, reporting data after it and multi-disk fields; nullopt
/// (with `error` set) if it is cut short.
std::optional<EndView> read_end_record(Source& source, Directory& dir, std::string& error) {
    const u64 at = dir.end_record;
    const auto end = EndView::at(source, at);
    if (!end) {
        error = "truncated end of central directory record";
        return std::nullopt;
    }
    const u64 record_end = at + EndRecord::kSize + end->get<EndRecord::kCommentLength>();
    if (record_end < source.size()) {
        dir.issues.push_back({kTrailingData,
                              std::to_string(source.size() - record_end) +
                                  " bytes follow the end of central directory record",
                              static_cast<std::int64_t>(record_end)});
    }
    const u16 disk = end->get<EndRecord::kNumberOfThisDisk>();
    const u16 cd_disk = end->get<EndRecord::kDiskWithCentralDirectory>();
    if (disk != 0 || cd_disk != 0 ||
        end->get<EndRecord::kEntriesOnThisDisk>() != end->get<EndRecord::kTotalEntries>()) {
        dir.issues.push_back({archive::kMalformed,
                              "multi-disk (spanned) archive fields are set: disk " +
                                  std::to_string(disk) + ", central directory disk " +
                                  std::to_string(cd_disk),
                              static_cast<std::int64_t>(at)});
    }
    return end;
}

/// The central directory as the end record alone places it.
Location declared_location(const EndView& end, u64 end_at) {
    return {end.get<EndRecord::kTotalEntries>(), end.get<EndRecord::kSizeOfCentralDirectory>(),
            end.get<EndRecord::kOffsetOfCentralDirectory>(), end_at};
}

/// Whether an end record field holds the zip64 marker (its value is in the zip64 end record).
bool saturated(const EndView& end) {
    return end.get<EndRecord::kTotalEntries>() == kSaturated16 ||
           end.get<EndRecord::kSizeOfCentralDirectory>() == kSaturated32 ||
           end.get<EndRecord::kOffsetOfCentralDirectory>() == kSaturated32;
}

/// Takes the zip64 end record's values (at `at`) over the end record's, reporting the fields
/// where a non-marker end record value differs.
void take_zip64_end(const Zip64EndView& end64, u64 at, const EndView& end, Directory& dir,
                    Location& where) {
    const u64 total64 = end64.get<Zip64EndRecord::kTotalEntries>();
    const u64 size64 = end64.get<Zip64EndRecord::kSizeOfCentralDirectory>();
    const u64 offset64 = end64.get<Zip64EndRecord::kOffsetOfCentralDirectory>();
    const u16 total = end.get<EndRecord::kTotalEntries>();
    const u32 size = end.get<EndRecord::kSizeOfCentralDirectory>();
    const u32 offset = end.get<EndRecord::kOffsetOfCentralDirectory>();
    dir.zip64 = true;
    if ((total != kSaturated16 && total != total64) || (size != kSaturated32 && size != size64) ||
        (offset != kSaturated32 && offset != offset64)) {
        dir.issues.push_back({kZip64Mismatch,
                              "the zip64 end record and the end record disagree: entries " +
                                  std::to_string(total64) + " vs " + std::to_string(total) +
                                  ", directory at " + util::hex(offset64) + " vs " +
                                  util::hex(offset),
                              static_cast<std::int64_t>(at)});
    }
    where = {total64, size64, offset64, at};
}

/// Follows a zip64 locator right before the end record to the zip64 end record, whose values
/// then replace the end record's in `where`. The zip64 end record normally sits right before
/// the locator; data prepended to the archive shifts it away from where the locator says, and
/// `moved` then says both places. Reports a locator that leads nowhere and marker values
/// without a locator.
void read_zip64_end(Source& source, const EndView& end, Directory& dir, Location& where,
                    std::optional<MovedZip64End>& moved) {
    if (dir.end_record < Zip64Locator::kSize) return;
    const u64 locator_at = dir.end_record - Zip64Locator::kSize;
    const auto locator = LocatorView::at(source, locator_at);
    if (!locator || locator->get<Zip64Locator::kSignature>() != kLocator64Sig) {
        if (saturated(end)) {
            dir.issues.push_back({kZip64Mismatch,
                                  "end record fields are saturated (zip64 markers) but there is "
                                  "no zip64 locator",
                                  static_cast<std::int64_t>(dir.end_record)});
        }
        return;
    }
    u64 end64_at = locator->get<Zip64Locator::kOffsetOfZip64EndRecord>();
    bool found = signature_at(source, end64_at, kEnd64Sig);
    if (!found && locator_at >= Zip64EndRecord::kSize &&
        signature_at(source, locator_at - Zip64EndRecord::kSize, kEnd64Sig)) {
        moved = MovedZip64End{end64_at, locator_at - Zip64EndRecord::kSize};
        end64_at = moved->actual;
        found = true;
    }
    if (!found) {
        dir.issues.push_back({kZip64Mismatch,
                              "a zip64 locator points at " + util::hex(end64_at) +
                                  ", where there is no zip64 end record",
                              static_cast<std::int64_t>(locator_at)});
        return;
    }
    // A signature without a whole record after it leaves the end record's values in place.
    if (const auto end64 = Zip64EndView::at(source, end64_at)) {
        take_zip64_end(*end64, end64_at, end, dir, where);
    }
}

/// How far data prepended to the archive shifts every offset (0 for an ordinary zip), found
/// from where the central directory really is; nullopt (with `error` set) if there is none.
std::optional<u64> find_shift(Source& source, const Location& where, Directory& dir,
                              std::string& error) {
    // Offsets are relative to the archive's start; data prepended to an archive shifts
    // everything by its length (Python's zipfile corrects for that; miniz, and so torch.load,
    // does not).
    if (where.size > where.archive_end || where.offset > where.archive_end) {
        error = "the central directory lies outside the file (offset " + util::hex(where.offset) +
                ", size " + std::to_string(where.size) + ")";
        return std::nullopt;
    }
    if (where.count == 0 || signature_at(source, where.offset, kCentralSig)) return 0;
    const u64 actual = where.archive_end - where.size;
    if (actual <= where.offset || !signature_at(source, actual, kCentralSig)) {
        error = "no central directory at offset " + util::hex(where.offset);
        return std::nullopt;
    }
    const u64 shift = actual - where.offset;
    dir.issues.push_back({kLeadingData,
                          std::to_string(shift) +
                              " bytes precede the archive (every offset is shifted by "
                              "them); zip readers disagree on whether to accept this",
                          0});
    return shift;
}

/// Reports a zip64 end record moved by other than the shift, and a central directory that
/// does not end where the (zip64) end record starts.
void report_misplaced_records(const std::optional<MovedZip64End>& moved, const Location& where,
                              u64 shift, Directory& dir) {
    if (moved && moved->actual - moved->declared != shift) {
        dir.issues.push_back({kZip64Mismatch,
                              "the zip64 locator points at " + util::hex(moved->declared) +
                                  ", but the zip64 end record is at " + util::hex(moved->actual),
                              static_cast<std::int64_t>(dir.end_record - Zip64Locator::kSize)});
    }
    if (where.offset + shift + where.size != where.archive_end) {
        dir.issues.push_back(
            {archive::kMalformed,
             "the central directory ends at " + util::hex(where.offset + shift + where.size) +
                 ", not where the end record starts (" + util::hex(where.archive_end) + ")",
             static_cast<std::int64_t>(where.offset + shift)});
    }
}

/// Caps the entries read at limits::kMaxZipEntries, reporting the ones left unread.
void cap_entries(Location& where, Directory& dir) {
    if (where.count <= limits::kMaxZipEntries) return;
    dir.issues.push_back({kContainerNotScanned,
                          "the archive declares " + std::to_string(where.count) +
                              " entries; only the first " + std::to_string(limits::kMaxZipEntries) +
                              " were read (Python's zipfile reads them all): the rest were "
                              "NOT scanned",
                          static_cast<std::int64_t>(dir.end_record)});
    where.count = limits::kMaxZipEntries;
}

/// The `size` bytes of the central directory at `at`, copied out: reading local headers views
/// the source again, which invalidates earlier views of a windowed source (a decompressed
/// member). Fewer bytes if the source cannot give them.
std::vector<std::uint8_t> copy_central_directory(Source& source, u64 at, u64 size) {
    std::vector<std::uint8_t> bytes;
    ByteReader whole(source, at, at + size);
    while (!whole.at_end()) {
        const std::size_t n = static_cast<std::size_t>(std::min<u64>(whole.remaining(), 1 << 20));
        const auto chunk = whole.bytes(n);
        if (!chunk) break;
        bytes.insert(bytes.end(), chunk->begin(), chunk->end());
    }
    return bytes;
}

/// The sizes and local header offset of the entry whose central header is `head`: the
/// header's own, or where those hold the zip64 marker, the values of the zip64 field in
/// `extra` (a missing or short field is reported).
Sizes entry_sizes(const CentralView& head, ByteReader extra, const Entry& e, u64 at,
                  Directory& dir) {
    const u32 compressed = head.get<CentralHeader::kCompressedSize>();
    const u32 uncompressed = head.get<CentralHeader::kUncompressedSize>();
    const u32 offset = head.get<CentralHeader::kRelativeOffsetOfLocalHeader>();
    Sizes sizes{uncompressed, compressed, offset};
    const bool want_u = uncompressed == kSaturated32, want_c = compressed == kSaturated32,
               want_o = offset == kSaturated32;
    if ((want_u || want_c || want_o) && !apply_zip64(extra, sizes, want_u, want_c, want_o)) {
        dir.issues.push_back(
            {kZip64Mismatch,
             "entry " + printable(e.name) + " has saturated sizes but no usable zip64 extra field",
             static_cast<std::int64_t>(at)});
    }
    return sizes;
}

/// Reports a central directory entry (at `at`) that is missing, damaged or cut short.
void report_bad_entry(const std::string& what, u64 at, Directory& dir) {
    dir.issues.push_back(
        {archive::kMalformed, "central directory entry " + what, static_cast<std::int64_t>(at)});
}

/// The central directory entry at the cursor of `cd` (the `i`th of `count`, at `at` in the
/// file), its local header offset shifted by `shift`. nullopt, reported, if it is missing,
/// damaged or cut short: the entries after it are not read.
std::optional<Entry> read_central_entry(ByteReader& cd, u64 at, u64 i, u64 count, u64 shift,
                                        Directory& dir) {
    const auto head = CentralView::read(cd);
    if (!head || head->get<CentralHeader::kSignature>() != kCentralSig) {
        report_bad_entry(
            std::to_string(i) + " of " + std::to_string(count) + " is missing or damaged", at, dir);
        return std::nullopt;
    }
    Entry e;
    e.made_by = head->get<CentralHeader::kVersionMadeBy>();
    e.flags = head->get<CentralHeader::kGeneralPurposeBitFlag>();
    e.method = head->get<CentralHeader::kCompressionMethod>();
    e.crc = head->get<CentralHeader::kCrc32>();
    e.external_attributes = head->get<CentralHeader::kExternalFileAttributes>();
    const auto name = cd.bytes(head->get<CentralHeader::kFileNameLength>());
    if (!name) {
        report_bad_entry(std::to_string(i) + " is truncated", at, dir);
        return std::nullopt;
    }
    e.name.assign(reinterpret_cast<const char*>(name->data()), name->size());
    const u64 extra_at = cd.pos(), extra_len = head->get<CentralHeader::kExtraFieldLength>();
    if (!cd.skip(extra_len)) {
        report_bad_entry(printable(e.name) + " is truncated", at, dir);
        return std::nullopt;
    }
    const Sizes sizes =
        entry_sizes(*head, ByteReader(cd.source(), extra_at, extra_at + extra_len), e, at, dir);
    if (!cd.skip(head->get<CentralHeader::kFileCommentLength>())) {
        report_bad_entry(printable(e.name) + " is truncated", at, dir);
        return std::nullopt;
    }
    e.compressed = sizes.compressed;
    e.uncompressed = sizes.uncompressed;
    e.local_offset = sizes.offset + shift;
    return e;
}

/// How the local header `head` of `e` (its extra field at `extra_at`) differs from the central
/// header, one phrase per field. CRC and sizes are not compared when a data descriptor
/// (general purpose bit 3) carries them instead.
std::vector<std::string> header_differences(Source& source, const LocalView& head, u64 extra_at,
                                            const Entry& e) {
    const bool descriptor = (e.flags & kDataDescriptorFlag) != 0;
    u64 lc = head.get<LocalHeader::kCompressedSize>();
    u64 lu = head.get<LocalHeader::kUncompressedSize>();
    if (lc == kSaturated32 || lu == kSaturated32) {
        // Zip64 local header: both sizes are in its zip64 extra field.
        Sizes local_sizes{lu, lc, 0};
        if (apply_zip64(ByteReader(source, extra_at, e.data_offset), local_sizes, true, true,
                        false)) {
            lu = local_sizes.uncompressed;
            lc = local_sizes.compressed;
        }
    }
    constexpr unsigned kIgnoredFlags = ~unsigned{kDataDescriptorFlag};
    std::vector<std::string> diffs;
    if (head.get<LocalHeader::kCompressionMethod>() != e.method)
        diffs.push_back("compression method");
    if ((head.get<LocalHeader::kGeneralPurposeBitFlag>() & kIgnoredFlags) !=
        (e.flags & kIgnoredFlags))
        diffs.push_back("flags");
    if (!descriptor && head.get<LocalHeader::kCrc32>() != e.crc) diffs.push_back("CRC");
    if (!descriptor && lc != kSaturated32 && lc != e.compressed)
        diffs.push_back("compressed size (" + std::to_string(lc) + " vs " +
                        std::to_string(e.compressed) + ")");
    if (!descriptor && lu != kSaturated32 && lu != e.uncompressed)
        diffs.push_back("uncompressed size (" + std::to_string(lu) + " vs " +
                        std::to_string(e.uncompressed) + ")");
    return diffs;
}

/// Reports the fields on which the local and central headers of `e` disagree, if any.
void report_header_differences(const std::vector<std::string>& diffs, const Entry& e,
                               Directory& dir) {
    if (diffs.empty()) return;
    std::string what;
    for (const auto& d : diffs)
        what += (what.empty() ? "" : ", ") + d;
    dir.issues.push_back(
        {kHeaderMismatch,
         "local and central headers of " + printable(e.name) + " disagree on: " + what,
         static_cast<std::int64_t>(e.local_offset)});
}

/// Reads the local header of `e`: its own name and extra lengths decide where the data starts
/// (CRCs, flag bits and the local name do not stop it). Reports a missing header and how it
/// disagrees with the central one.
void read_local_header(Source& source, Entry& e, Directory& dir) {
    ByteReader lh(source, e.local_offset);
    const auto head = LocalView::read(lh);
    if (head && head->get<LocalHeader::kSignature>() == kLocalSig) {
        const auto name = lh.bytes(head->get<LocalHeader::kFileNameLength>());
        const u64 extra_at = lh.pos();
        if (name && lh.skip(head->get<LocalHeader::kExtraFieldLength>())) {
            e.local_name.assign(reinterpret_cast<const char*>(name->data()), name->size());
            e.data_offset = lh.pos();
            e.local_ok = true;
            report_header_differences(header_differences(source, *head, extra_at, e), e, dir);
        }
    }
    if (!e.local_ok) {
        dir.issues.push_back({archive::kMalformed,
                              "no readable local header for " + printable(e.name) + " at " +
                                  util::hex(e.local_offset),
                              static_cast<std::int64_t>(e.local_offset)});
    } else if (e.local_name != e.name) {
        dir.issues.push_back({kNameMismatch,
                              "central directory names " + printable(e.name) +
                                  " but its local header names " + printable(e.local_name),
                              static_cast<std::int64_t>(e.local_offset)});
    }
}

/// Reads `count` entries from the central directory `cd_bytes` (at `cd_base` in the file),
/// each with its local header, until the first one that cannot be read.
void read_entries(Source& source, std::vector<std::uint8_t> cd_bytes, u64 cd_base, u64 count,
                  u64 shift, Directory& dir) {
    MemorySource cd_source(std::move(cd_bytes));
    ByteReader cd(cd_source);
    for (u64 i = 0; i < count; ++i) {
        auto e = read_central_entry(cd, cd_base + cd.pos(), i, count, shift, dir);
        if (!e) break;
        read_local_header(source, *e, dir);
        dir.entries.push_back(std::move(*e));
    }
}

/// Reports names that several entries share (exactly, or ignoring case as miniz's lookup
/// does).
void report_duplicate_names(Directory& dir) {
    std::map<std::string, std::vector<const Entry*>> by_name;
    for (const auto& e : dir.entries)
        by_name[util::ascii_lower(e.name)].push_back(&e);
    for (const auto& [key, list] : by_name) {
        if (list.size() < 2) continue;
        std::string names;
        for (const Entry* e : list)
            names += (names.empty() ? "" : ", ") + printable(e->name);
        dir.issues.push_back({kDuplicateName,
                              std::to_string(list.size()) + " entries share the name " +
                                  printable(list.front()->name) + " (" + names +
                                  "); readers pick different ones",
                              static_cast<std::int64_t>(list.back()->local_offset)});
    }
}

/// Reports member data that overlaps another member's local header or data (the first
/// eight), and bytes before the first member (then counted in `dir.leading_bytes`).
void report_member_layout(Source& source, u64 shift, Directory& dir) {
    std::vector<const Entry*> ordered;
    for (const auto& e : dir.entries)
        if (e.local_ok) ordered.push_back(&e);
    std::sort(ordered.begin(), ordered.end(),
              [](const Entry* a, const Entry* b) { return a->local_offset < b->local_offset; });
    int overlaps = 0;
    for (std::size_t i = 1; i < ordered.size() && overlaps < 8; ++i) {
        const Entry* prev = ordered[i - 1];
        const u64 prev_end =
            prev->data_offset + std::min(prev->compressed, source.size() - prev->data_offset);
        if (ordered[i]->local_offset < prev_end) {
            ++overlaps;
            dir.issues.push_back({kOverlappingMembers,
                                  "the data of " + printable(prev->name) + " (up to " +
                                      util::hex(prev_end) + ") overlaps " +
                                      printable(ordered[i]->name) + " at " +
                                      util::hex(ordered[i]->local_offset),
                                  static_cast<std::int64_t>(ordered[i]->local_offset)});
        }
    }
    if (!ordered.empty() && ordered.front()->local_offset > shift) {
        dir.issues.push_back({kLeadingData,
                              std::to_string(ordered.front()->local_offset - shift) +
                                  " bytes precede the first member",
                              0});
        dir.leading_bytes = ordered.front()->local_offset;
    }
}

/// The directory of the end record at `end_at`: the end record, the zip64 records it leads
/// to, the central directory and each member's local header, with the issues found on the
/// way. nullopt (with `error` set) if there is no readable central directory.
std::optional<Directory> read_directory_at(Source& source, u64 end_at, std::string& error) {
    Directory dir;
    dir.end_record = end_at;
    const auto end = read_end_record(source, dir, error);
    if (!end) return std::nullopt;
    Location where = declared_location(*end, end_at);
    std::optional<MovedZip64End> moved;
    read_zip64_end(source, *end, dir, where, moved);
    const auto shift = find_shift(source, where, dir, error);
    if (!shift) return std::nullopt;
    dir.leading_bytes = *shift;
    report_misplaced_records(moved, where, *shift, dir);
    cap_entries(where, dir);
    if (where.size > limits::kMaxZipDirectoryBytes) {
        error = "the central directory is " + std::to_string(where.size) +
                " bytes, more than the " + std::to_string(limits::kMaxZipDirectoryBytes) +
                " mscan reads";
        return std::nullopt;
    }
    const u64 cd_at = where.offset + *shift;
    read_entries(source, copy_central_directory(source, cd_at, where.size), cd_at, where.count,
                 *shift, dir);
    report_duplicate_names(dir);
    report_member_layout(source, *shift, dir);
    return dir;
}

/// Whether `at` lies in the data of one of `dir`'s members (the end record of a zip stored
/// inside it, not a record of this archive).
bool inside_member(const Directory& dir, u64 at) {
    return std::any_of(dir.entries.begin(), dir.entries.end(), [at](const Entry& e) {
        return e.local_ok && at >= e.data_offset && at - e.data_offset < e.compressed;
    });
}

/// Adds to `dir` the members that only `others` (the directories of earlier end records at
/// `other_at`) list, as alternates, each reported.
void add_alternates(Directory& dir, std::vector<Directory>& others,
                    const std::vector<u64>& other_at) {
    for (std::size_t k = 0; k < others.size(); ++k) {
        Directory& other = others[k];
        // Only what this directory adds: members the loaders' directory does not list.
        std::erase_if(other.entries, [&](const Entry& e) {
            return std::any_of(dir.entries.begin(), dir.entries.end(), [&](const Entry& p) {
                return p.local_offset == e.local_offset && p.name == e.name;
            });
        });
        if (other.entries.empty()) continue;
        dir.issues.push_back(
            {kEndRecordDisagreement,
             "a second end record at " + util::hex(other_at[k]) +
                 " gives another directory, with " + std::to_string(other.entries.size()) +
                 " member(s) the last end record's directory does not list (first: " +
                 printable(other.entries.front().name) +
                 "); zip readers that take that record see them: they were scanned too",
             static_cast<std::int64_t>(other_at[k])});
        other.issues.clear();
        dir.alternates.push_back(std::move(other));
    }
}

}  // namespace

std::optional<Directory> read_directory(Source& source, std::string& error) {
    const auto candidates = end_record_candidates(source);
    if (candidates.empty()) {
        error = "no end of central directory record";
        return std::nullopt;
    }
    // The loaders' record is the last one. Earlier records that give a directory of their own
    // are what other zip readers (libzip, unzip, a record-by-comment-length search) may take:
    // their members are scanned too, and the disagreement is reported.
    std::optional<Directory> dir;
    std::string first_error;
    std::size_t tried = 0;
    std::vector<Directory> others;
    std::vector<std::uint64_t> other_at;
    for (const std::uint64_t at : candidates) {
        if (++tried > limits::kMaxZipEndRecords) break;
        std::string why;
        auto d = read_directory_at(source, at, why);
        if (!dir) {
            if (at == candidates.front()) first_error = why;
            if (!d) continue;
            if (at != candidates.front()) {
                d->issues.push_back(
                    {kEndRecordDisagreement,
                     "the last end record (at " + util::hex(candidates.front()) +
                         "), which torch.load's miniz and Python's zipfile read, gives no "
                         "directory (" +
                         first_error + "); the earlier one at " + util::hex(at) +
                         " does, and other zip readers use it: its members were scanned",
                     static_cast<std::int64_t>(at)});
            }
            dir = std::move(d);
            continue;
        }
        if (!d || d->entries.empty() || inside_member(*dir, at)) continue;
        others.push_back(std::move(*d));
        other_at.push_back(at);
    }
    if (!dir) {
        error = first_error.empty() ? "no end of central directory record" : first_error;
        return std::nullopt;
    }
    if (tried > limits::kMaxZipEndRecords) {
        dir->issues.push_back({kLimitExceeded,
                               "the last 64 KiB hold more than " +
                                   std::to_string(limits::kMaxZipEndRecords) +
                                   " end record signatures; the earlier ones were NOT tried",
                               static_cast<std::int64_t>(dir->end_record)});
    }
    add_alternates(*dir, others, other_at);
    return dir;
}

}  // namespace mscan::zip
