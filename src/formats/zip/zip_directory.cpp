// Zip structure, read through the checked ByteReader only. Field layouts are those of PKWARE's
// APPNOTE (local header 4.3.7, central header 4.3.12, end records 4.3.14-4.3.16, zip64 extra
// field 4.5.3).
#include "formats/zip/zip_directory.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "util/text_safety.h"
#include "mscan/limits.h"
#include "mscan/reader.h"
#include "util/text.h"

namespace mscan::zip {
namespace {

constexpr std::uint32_t kLocalSig = 0x04034b50;
constexpr std::uint32_t kCentralSig = 0x02014b50;
constexpr std::uint32_t kEndSig = 0x06054b50;
constexpr std::uint32_t kEnd64Sig = 0x06064b50;
constexpr std::uint32_t kLocator64Sig = 0x07064b50;
constexpr std::size_t kEndSize = 22;
constexpr std::size_t kMaxComment = 0xffff;

std::uint32_t le32(const std::uint8_t* p) {
    return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
           static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

struct Sizes {
    std::uint64_t uncompressed, compressed, offset;
};

/// Applies a zip64 extended information extra field (id 1) to the fields saturated at
/// 0xffffffff, in the APPNOTE's order. Returns false if the field is missing or short.
bool apply_zip64(std::span<const std::uint8_t> extra, Sizes& s, bool want_u, bool want_c,
                 bool want_o) {
    std::size_t i = 0;
    while (i + 4 <= extra.size()) {
        const unsigned id = extra[i] | extra[i + 1] << 8;
        const std::size_t len = extra[i + 2] | extra[i + 3] << 8;
        const std::size_t body = i + 4;
        if (body + len > extra.size()) return false;
        if (id == 1) {
            std::size_t at = body;
            auto take = [&](std::uint64_t& v) {
                if (at + 8 > body + len) return false;
                v = 0;
                for (int k = 7; k >= 0; --k)
                    v = v << 8 | extra[at + static_cast<std::size_t>(k)];
                at += 8;
                return true;
            };
            if (want_u && !take(s.uncompressed)) return false;
            if (want_c && !take(s.compressed)) return false;
            if (want_o && !take(s.offset)) return false;
            return true;
        }
        i = body + len;
    }
    return false;
}

}  // namespace

std::vector<std::uint64_t> end_record_candidates(Source& source) {
    std::vector<std::uint64_t> out;
    const std::uint64_t size = source.size();
    if (size < kEndSize) return out;
    const std::uint64_t span = std::min<std::uint64_t>(size, kEndSize + kMaxComment);
    const std::uint64_t start = size - span;
    const auto tail = source.view(start, static_cast<std::size_t>(span));
    if (tail.size() != span) return out;
    for (std::size_t i = tail.size() - kEndSize + 1; i-- > 0;) {
        if (le32(tail.data() + i) == kEndSig) out.push_back(start + i);
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

std::optional<Directory> read_directory_at(Source& source, std::uint64_t end_record,
                                           std::string& error) {
    const std::optional<std::uint64_t> end_at = end_record;
    Directory dir;
    dir.end_record = *end_at;
    ByteReader end(source, *end_at);
    end.skip(4);
    const auto disk = end.u16le(), cd_disk = end.u16le(), n_disk = end.u16le(),
               n_total = end.u16le();
    const auto cd_size32 = end.u32le(), cd_offset32 = end.u32le();
    const auto comment = end.u16le();
    if (!comment) {
        error = "truncated end of central directory record";
        return std::nullopt;
    }
    const std::uint64_t record_end = *end_at + kEndSize + *comment;
    if (record_end < source.size()) {
        dir.issues.push_back({"zip.trailing-data",
                              std::to_string(source.size() - record_end) +
                                  " bytes follow the end of central directory record",
                              static_cast<std::int64_t>(record_end)});
    }
    if (*disk != 0 || *cd_disk != 0 || *n_disk != *n_total) {
        dir.issues.push_back({"archive.malformed",
                              "multi-disk (spanned) archive fields are set: disk " +
                                  std::to_string(*disk) + ", central directory disk " +
                                  std::to_string(*cd_disk),
                              static_cast<std::int64_t>(*end_at)});
    }
    std::uint64_t count = *n_total, cd_size = *cd_size32, cd_offset = *cd_offset32;
    std::uint64_t archive_end = *end_at;  // where the central directory should end
    // Zip64: a locator just before the end record points at the zip64 end record.
    const bool saturated =
        *n_total == 0xffff || *cd_size32 == 0xffffffff || *cd_offset32 == 0xffffffff;
    std::optional<std::pair<std::uint64_t, std::uint64_t>> locator_moved;  // declared, actual
    if (*end_at >= 20) {
        ByteReader loc(source, *end_at - 20);
        if (loc.u32le() == kLocator64Sig) {
            loc.skip(4);
            auto end64_at = loc.u64le();
            // The zip64 end record normally sits right before the locator; data prepended to
            // the archive shifts it away from where the locator says.
            const auto has_end64 = [&source](std::uint64_t at) {
                ByteReader r(source, at);
                return r.u32le() == kEnd64Sig;
            };
            if (end64_at && !has_end64(*end64_at) && *end_at >= 20 + 56 &&
                has_end64(*end_at - 20 - 56)) {
                locator_moved = std::make_pair(*end64_at, *end_at - 20 - 56);
                end64_at = *end_at - 20 - 56;
            }
            ByteReader e64(source, end64_at.value_or(UINT64_MAX));
            if (end64_at && e64.u32le() == kEnd64Sig) {
                e64.skip(8 + 2 + 2 + 4 + 4 + 8);
                const auto total64 = e64.u64le(), size64 = e64.u64le(), offset64 = e64.u64le();
                if (total64 && size64 && offset64) {
                    dir.zip64 = true;
                    if ((*n_total != 0xffff && *n_total != *total64) ||
                        (*cd_size32 != 0xffffffff && *cd_size32 != *size64) ||
                        (*cd_offset32 != 0xffffffff && *cd_offset32 != *offset64)) {
                        dir.issues.push_back(
                            {"zip.zip64-mismatch",
                             "the zip64 end record and the end record disagree: entries " +
                                 std::to_string(*total64) + " vs " + std::to_string(*n_total) +
                                 ", directory at " + util::hex(*offset64) + " vs " +
                                 util::hex(*cd_offset32),
                             static_cast<std::int64_t>(*end64_at)});
                    }
                    count = *total64;
                    cd_size = *size64;
                    cd_offset = *offset64;
                    archive_end = *end64_at;
                }
            } else {
                dir.issues.push_back({"zip.zip64-mismatch",
                                      "a zip64 locator points at " +
                                          util::hex(end64_at.value_or(0)) +
                                          ", where there is no zip64 end record",
                                      static_cast<std::int64_t>(*end_at - 20)});
            }
        } else if (saturated) {
            dir.issues.push_back({"zip.zip64-mismatch",
                                  "end record fields are saturated (zip64 markers) but there is "
                                  "no zip64 locator",
                                  static_cast<std::int64_t>(*end_at)});
        }
    }

    // Where the central directory really is. Offsets are relative to the archive's start;
    // data prepended to an archive shifts everything by its length (Python's zipfile
    // corrects for that; miniz, and so torch.load, does not).
    std::uint64_t shift = 0;
    auto central_at = [&](std::uint64_t at) {
        ByteReader r(source, at);
        return r.u32le() == kCentralSig;
    };
    if (cd_size > archive_end || cd_offset > archive_end) {
        error = "the central directory lies outside the file (offset " + util::hex(cd_offset) +
                ", size " + std::to_string(cd_size) + ")";
        return std::nullopt;
    }
    if (count > 0 && !central_at(cd_offset)) {
        const std::uint64_t actual = archive_end - cd_size;
        if (actual > cd_offset && central_at(actual)) {
            shift = actual - cd_offset;
            dir.issues.push_back({"zip.leading-data",
                                  std::to_string(shift) +
                                      " bytes precede the archive (every offset is shifted by "
                                      "them); zip readers disagree on whether to accept this",
                                  0});
        } else {
            error = "no central directory at offset " + util::hex(cd_offset);
            return std::nullopt;
        }
    }
    dir.leading_bytes = shift;
    if (locator_moved && locator_moved->second - locator_moved->first != shift) {
        dir.issues.push_back({"zip.zip64-mismatch",
                              "the zip64 locator points at " + util::hex(locator_moved->first) +
                                  ", but the zip64 end record is at " +
                                  util::hex(locator_moved->second),
                              static_cast<std::int64_t>(*end_at - 20)});
    }
    if (cd_offset + shift + cd_size != archive_end) {
        dir.issues.push_back(
            {"archive.malformed",
             "the central directory ends at " + util::hex(cd_offset + shift + cd_size) +
                 ", not where the end record starts (" + util::hex(archive_end) + ")",
             static_cast<std::int64_t>(cd_offset + shift)});
    }
    if (count > limits::kMaxZipEntries) {
        dir.issues.push_back({"container.not-scanned",
                              "the archive declares " + std::to_string(count) +
                                  " entries; only the first " +
                                  std::to_string(limits::kMaxZipEntries) +
                                  " were read (Python's zipfile reads them all): the rest were "
                                  "NOT scanned",
                              static_cast<std::int64_t>(*end_at)});
        count = limits::kMaxZipEntries;
    }

    // The central directory is copied out first: reading local headers below views the source
    // again, which invalidates earlier views of a windowed source (a decompressed member).
    if (cd_size > limits::kMaxZipDirectoryBytes) {
        error = "the central directory is " + std::to_string(cd_size) + " bytes, more than the " +
                std::to_string(limits::kMaxZipDirectoryBytes) + " mscan reads";
        return std::nullopt;
    }
    std::vector<std::uint8_t> cd_bytes;
    {
        ByteReader whole(source, cd_offset + shift, cd_offset + shift + cd_size);
        while (!whole.at_end()) {
            const std::size_t n =
                static_cast<std::size_t>(std::min<std::uint64_t>(whole.remaining(), 1 << 20));
            const auto chunk = whole.bytes(n);
            if (!chunk) break;
            cd_bytes.insert(cd_bytes.end(), chunk->begin(), chunk->end());
        }
    }
    MemorySource cd_source(std::move(cd_bytes));
    ByteReader cd(cd_source);
    const std::uint64_t cd_base = cd_offset + shift;  // cd.pos() + cd_base: offset in the file
    for (std::uint64_t i = 0; i < count; ++i) {
        const std::uint64_t at = cd_base + cd.pos();
        const auto head = cd.bytes(46);
        if (!head || le32(head->data()) != kCentralSig) {
            dir.issues.push_back({"archive.malformed",
                                  "central directory entry " + std::to_string(i) + " of " +
                                      std::to_string(count) + " is missing or damaged",
                                  static_cast<std::int64_t>(at)});
            break;
        }
        const std::uint8_t* h = head->data();
        auto u16 = [h](int o) { return static_cast<std::uint16_t>(h[o] | h[o + 1] << 8); };
        Entry e;
        e.made_by = u16(4);
        e.flags = u16(8);
        e.method = u16(10);
        e.crc = le32(h + 16);
        const std::uint32_t c32 = le32(h + 20), u32 = le32(h + 24);
        const std::size_t name_len = u16(28), extra_len = u16(30), comment_len = u16(32);
        e.external_attributes = le32(h + 38);
        const std::uint32_t o32 = le32(h + 42);
        const auto name = cd.bytes(name_len);
        if (!name) {
            dir.issues.push_back({"archive.malformed",
                                  "central directory entry " + std::to_string(i) + " is truncated",
                                  static_cast<std::int64_t>(at)});
            break;
        }
        e.name.assign(reinterpret_cast<const char*>(name->data()), name->size());
        const auto extra = cd.bytes(extra_len);
        Sizes sizes{u32, c32, o32};
        const bool want_u = u32 == 0xffffffff, want_c = c32 == 0xffffffff,
                   want_o = o32 == 0xffffffff;
        if (extra && (want_u || want_c || want_o) &&
            !apply_zip64(*extra, sizes, want_u, want_c, want_o)) {
            dir.issues.push_back({"zip.zip64-mismatch",
                                  "entry " + printable(e.name) +
                                      " has saturated sizes but no usable zip64 extra field",
                                  static_cast<std::int64_t>(at)});
        }
        if (!extra || !cd.skip(comment_len)) {
            dir.issues.push_back({"archive.malformed",
                                  "central directory entry " + printable(e.name) + " is truncated",
                                  static_cast<std::int64_t>(at)});
            break;
        }
        e.compressed = sizes.compressed;
        e.uncompressed = sizes.uncompressed;
        e.local_offset = sizes.offset + shift;

        // The local header: its own name and extra lengths decide where the data starts.
        ByteReader lh(source, e.local_offset);
        const auto lhead = lh.bytes(30);
        if (lhead && le32(lhead->data()) == kLocalSig) {
            const std::uint8_t* l = lhead->data();
            auto l16 = [l](int o) { return static_cast<std::uint16_t>(l[o] | l[o + 1] << 8); };
            const std::size_t lname_len = l16(26), lextra_len = l16(28);
            const auto lname = lh.bytes(lname_len);
            if (lname && lh.skip(lextra_len)) {
                e.local_name.assign(reinterpret_cast<const char*>(lname->data()), lname->size());
                e.data_offset = lh.pos();
                e.local_ok = true;
                const bool descriptor = (e.flags & 8) != 0;
                const std::uint32_t lcrc = le32(l + 14);
                std::uint64_t lc = le32(l + 18), lu = le32(l + 22);
                if (lc == 0xffffffff || lu == 0xffffffff) {
                    // Zip64 local header: both sizes are in its zip64 extra field.
                    ByteReader lx(source, e.data_offset - lextra_len);
                    if (const auto lextra = lx.bytes(lextra_len)) {
                        Sizes local_sizes{lu, lc, 0};
                        if (apply_zip64(*lextra, local_sizes, true, true, false)) {
                            lu = local_sizes.uncompressed;
                            lc = local_sizes.compressed;
                        }
                    }
                }
                std::vector<std::string> diffs;
                if (l16(8) != e.method) diffs.push_back("compression method");
                if ((l16(6) & ~8u) != (e.flags & ~8u)) diffs.push_back("flags");
                if (!descriptor && lcrc != e.crc) diffs.push_back("CRC");
                if (!descriptor && lc != 0xffffffff && lc != e.compressed)
                    diffs.push_back("compressed size (" + std::to_string(lc) + " vs " +
                                    std::to_string(e.compressed) + ")");
                if (!descriptor && lu != 0xffffffff && lu != e.uncompressed)
                    diffs.push_back("uncompressed size (" + std::to_string(lu) + " vs " +
                                    std::to_string(e.uncompressed) + ")");
                if (!diffs.empty()) {
                    std::string what;
                    for (const auto& d : diffs)
                        what += (what.empty() ? "" : ", ") + d;
                    dir.issues.push_back({"zip.header-mismatch",
                                          "local and central headers of " + printable(e.name) +
                                              " disagree on: " + what,
                                          static_cast<std::int64_t>(e.local_offset)});
                }
            }
        }
        if (!e.local_ok) {
            dir.issues.push_back({"archive.malformed",
                                  "no readable local header for " + printable(e.name) + " at " +
                                      util::hex(e.local_offset),
                                  static_cast<std::int64_t>(e.local_offset)});
        } else if (e.local_name != e.name) {
            dir.issues.push_back({"zip.name-mismatch",
                                  "central directory names " + printable(e.name) +
                                      " but its local header names " + printable(e.local_name),
                                  static_cast<std::int64_t>(e.local_offset)});
        }
        dir.entries.push_back(std::move(e));
    }

    // Names: duplicates (exactly, or ignoring case as miniz's lookup does).
    std::map<std::string, std::vector<const Entry*>> by_name;
    for (const auto& e : dir.entries)
        by_name[util::ascii_lower(e.name)].push_back(&e);
    for (const auto& [key, list] : by_name) {
        if (list.size() < 2) continue;
        std::string names;
        for (const Entry* e : list)
            names += (names.empty() ? "" : ", ") + printable(e->name);
        dir.issues.push_back({"zip.duplicate-name",
                              std::to_string(list.size()) + " entries share the name " +
                                  printable(list.front()->name) + " (" + names +
                                  "); readers pick different ones",
                              static_cast<std::int64_t>(list.back()->local_offset)});
    }
    // Member data that overlaps another member's local header or data.
    std::vector<const Entry*> ordered;
    for (const auto& e : dir.entries)
        if (e.local_ok) ordered.push_back(&e);
    std::sort(ordered.begin(), ordered.end(),
              [](const Entry* a, const Entry* b) { return a->local_offset < b->local_offset; });
    int overlaps = 0;
    for (std::size_t i = 1; i < ordered.size() && overlaps < 8; ++i) {
        const Entry* prev = ordered[i - 1];
        const std::uint64_t prev_end =
            prev->data_offset + std::min(prev->compressed, source.size() - prev->data_offset);
        if (ordered[i]->local_offset < prev_end) {
            ++overlaps;
            dir.issues.push_back({"zip.overlapping-members",
                                  "the data of " + printable(prev->name) + " (up to " +
                                      util::hex(prev_end) + ") overlaps " +
                                      printable(ordered[i]->name) + " at " +
                                      util::hex(ordered[i]->local_offset),
                                  static_cast<std::int64_t>(ordered[i]->local_offset)});
        }
    }
    if (!ordered.empty() && ordered.front()->local_offset > shift) {
        dir.issues.push_back({"zip.leading-data",
                              std::to_string(ordered.front()->local_offset - shift) +
                                  " bytes precede the first member",
                              0});
        dir.leading_bytes = ordered.front()->local_offset;
    }
    return dir;
}

/// Whether `at` lies in the data of one of `dir`'s members (the end record of a zip stored
/// inside it, not a record of this archive).
bool inside_member(const Directory& dir, std::uint64_t at) {
    return std::any_of(dir.entries.begin(), dir.entries.end(), [at](const Entry& e) {
        return e.local_ok && at >= e.data_offset && at - e.data_offset < e.compressed;
    });
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
                    {"zip.end-record-disagreement",
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
        dir->issues.push_back({"limit.exceeded",
                               "the last 64 KiB hold more than " +
                                   std::to_string(limits::kMaxZipEndRecords) +
                                   " end record signatures; the earlier ones were NOT tried",
                               static_cast<std::int64_t>(dir->end_record)});
    }
    for (std::size_t k = 0; k < others.size(); ++k) {
        Directory& other = others[k];
        // Only what this directory adds: members the loaders' directory does not list.
        std::erase_if(other.entries, [&](const Entry& e) {
            return std::any_of(dir->entries.begin(), dir->entries.end(), [&](const Entry& p) {
                return p.local_offset == e.local_offset && p.name == e.name;
            });
        });
        if (other.entries.empty()) continue;
        dir->issues.push_back(
            {"zip.end-record-disagreement",
             "a second end record at " + util::hex(other_at[k]) +
                 " gives another directory, with " + std::to_string(other.entries.size()) +
                 " member(s) the last end record's directory does not list (first: " +
                 printable(other.entries.front().name) +
                 "); zip readers that take that record see them: they were scanned too",
             static_cast<std::int64_t>(other_at[k])});
        other.issues.clear();
        dir->alternates.push_back(std::move(other));
    }
    return dir;
}

}  // namespace mscan::zip
