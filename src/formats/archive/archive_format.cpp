// Archive members back to detection. An uncompressed tar's members are windows of the file
// (nothing copied, so a checkpoint inside a tar costs what it costs on its own); members of
// 7z archives and compressed streams are decompressed only far enough to detect their format,
// kept whole only when they are a format mscan reads (a large single compressed stream is read
// a second time as a stream instead), and drained otherwise, so that the ratio check sees every
// byte the stream produces. libarchive's own errors are reported as it words them; whatever
// was read before an error is scanned. libarchive is loaded on first use; when it cannot be,
// what needed it is reported as NOT scanned.
#include "formats/archive/archive_format.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "formats/archive/archive_codes.h"
#include "formats/archive/decoders.h"
#include "formats/archive/libarchive_api.h"
#include "formats/archive/libarchive_io.h"
#include "formats/common_codes.h"
#include "formats/compress/inflate.h"
#include "formats/member.h"
#include "formats/pickle/pickle_format.h"
#include "formats/registry.h"
#include "formats/zip/zip_directory.h"
#include "formats/zip/zip_format.h"
#include "mscan/limits.h"
#include "util/text.h"
#include "util/text_safety.h"

namespace mscan::archive {
namespace {

/// Bytes asked of a decoder or of libarchive at a time.
constexpr std::size_t kChunk = 64 * 1024;
/// Largest compressed-stream member kept in memory; a larger one is read again as a stream.
constexpr std::uint64_t kKeepSmall =
    std::min<std::uint64_t>(StreamSource::kWindow, limits::kMaxDecompressedMember);
constexpr std::size_t kTarBlock = 512;

/// The anomaly code for a libarchive error message: libarchive has no error codes that tell
/// these apart, only its wording.
AnomalyCode classify(const std::string& message) {
    if (message.find("ncrypt") != std::string::npos) return kEncrypted;
    if (message.find("codec") != std::string::npos ||
        message.find("nsupported") != std::string::npos ||
        message.find("not supported") != std::string::npos)
        return kUnsupportedMethod;
    return kMalformed;
}

/// Whether libarchive is loaded; when it is not, reports that `what` was NOT scanned. The code
/// is the one a compression that this build's libarchive cannot decode gets (parse_compressed):
/// the file may well be sound, this installation cannot read it, and that must not pass a gate.
bool libarchive_loaded(const ParseContext& context, const std::string& what) {
    const LibarchiveApi& la = libarchive();
    if (la.loaded) return true;
    context.anomaly(kUnsupportedMethod, la.error + ", so " + what + " was NOT scanned");
    return false;
}

/// Whether decompression that produced `out` bytes from `in` must stop as a bomb: beyond the
/// ratio limit and past `limit` bytes, the most that could still be scanned. (Below that, the
/// stream is read on, as its loader reads it, even when only its size is counted.)
bool past_bomb_limit(std::uint64_t out, std::uint64_t in, std::uint64_t limit) {
    return out > limit && compress::ratio_exceeded(out, in);
}

/// A decoder held to the bomb limit: past it, the stream ends early.
class GuardedStream {
  public:
    explicit GuardedStream(Decoder& decoder) : decoder_(decoder) {}
    std::size_t read(std::uint8_t* out, std::size_t n) {
        if (bomb_) return 0;
        const std::size_t got = decoder_.read(out, n);
        produced_ += got;
        if (!ratio_ && compress::ratio_exceeded(produced_, decoder_.consumed())) ratio_ = true;
        if (past_bomb_limit(produced_, decoder_.consumed(), limit_)) bomb_ = true;
        return got;
    }
    /// A stream of one member is read on to the member cap (nothing past it is scanned), a
    /// tar's stream to the file's whole budget (later members are).
    void set_limit(std::uint64_t limit) { limit_ = limit; }
    std::uint64_t limit() const { return limit_; }
    const Decoder& decoder() const { return decoder_; }
    std::uint64_t produced() const { return produced_; }
    bool bomb() const { return bomb_; }
    /// The output went beyond the ratio limit at some point.
    bool ratio() const { return ratio_; }
    /// The stream ended for a reason of its own (a bomb, damage), so what libarchive says
    /// about the truncated data it got is a consequence, not news.
    bool failed() const { return bomb_ || !decoder_.error().empty(); }

  private:
    Decoder& decoder_;
    std::uint64_t produced_ = 0;
    std::uint64_t limit_ = limits::kMaxDecompressedMember;
    bool bomb_ = false;
    bool ratio_ = false;
};

/// libarchive input over a guarded stream, starting with `head` (bytes already taken from it).
class StreamInput final : public Input {
  public:
    StreamInput(GuardedStream& stream, std::vector<std::uint8_t> head)
        : stream_(stream), head_(std::move(head)), block_(kChunk) {}
    la_ssize_t read(const void** block) override {
        if (!head_sent_) {
            head_sent_ = true;
            if (!head_.empty()) {
                *block = head_.data();
                return static_cast<la_ssize_t>(head_.size());
            }
        }
        const std::size_t got = stream_.read(block_.data(), block_.size());
        *block = block_.data();
        return static_cast<la_ssize_t>(got);
    }
    std::uint64_t consumed() const override { return stream_.decoder().consumed(); }

  private:
    GuardedStream& stream_;
    std::vector<std::uint8_t> head_;
    bool head_sent_ = false;
    std::vector<std::uint8_t> block_;
};

/// A member read front to back, once (a 7z or compressed tar's entry, a file's single
/// compressed stream): what head() reads is kept for open(), which reads on from there;
/// skip_rest() reads the rest without keeping it, so that the ratio check sees every byte.
class OnePassMember final : public Member {
  public:
    /// la_ssize_t(std::uint8_t*, std::size_t): bytes read, 0 at the end, negative on error.
    using Pull = std::function<la_ssize_t(std::uint8_t*, std::size_t)>;
    /// A stream that can be decoded again from its start, as a Source of `size` bytes.
    using Reopen = std::function<std::unique_ptr<Source>(std::uint64_t size)>;

    OnePassMember(std::string name, Pull pull, std::vector<std::uint8_t> head = {})
        : Member(std::move(name)), pull_(std::move(pull)), kept_(std::move(head)), chunk_(kChunk) {
        size_ = kept_.size();
    }

    /// For a stream that can be read again: a member larger than the stream window is then
    /// counted in this pass and read again as a stream, never held whole (unless its reader
    /// needs stable views).
    void set_reopen(Reopen reopen) { reopen_ = std::move(reopen); }

    compress::Inflated head(std::size_t n) override {
        while (!ended_ && kept_.size() < n)
            keep(next());
        compress::Inflated h;
        h.bytes.assign(kept_.begin(),
                       kept_.begin() + static_cast<std::ptrdiff_t>(std::min(n, kept_.size())));
        h.size = h.bytes.size();
        h.complete = ended_ && !failed_;
        return h;
    }

    Rest skip_rest() override {
        drain();
        return {size_, true};
    }

    std::unique_ptr<Source> open(std::uint64_t cap, bool stable,
                                 compress::Inflated& first) override {
        const std::uint64_t keep_at_most =
            reopen_ && !stable ? std::min<std::uint64_t>(cap, kKeepSmall) : cap;
        while (!ended_ && kept_.size() <= keep_at_most) {
            const std::size_t got = next();
            if (kept_.size() + got > keep_at_most) {
                // More than this pass keeps: the rest is counted, not kept.
                const auto room = static_cast<std::size_t>(keep_at_most - kept_.size());
                kept_.insert(kept_.end(), chunk_.data(), chunk_.data() + room);
                drain();
                break;
            }
            keep(got);
        }
        drain();
        first.size = std::min(size_, cap);
        first.capped = size_ > cap;
        first.complete = ended_ && !failed_;
        if (size_ > keep_at_most && reopen_ && !stable) {
            kept_ = {};
            return reopen_(first.size);
        }
        kept_.resize(static_cast<std::size_t>(std::min<std::uint64_t>(kept_.size(), keep_at_most)));
        return std::make_unique<MemorySource>(std::move(kept_));
    }

    /// The pull failed (the caller knows why).
    bool failed() const { return failed_; }

  private:
    std::size_t next() {
        const la_ssize_t got = pull_(chunk_.data(), chunk_.size());
        if (got > 0) {
            size_ += static_cast<std::uint64_t>(got);
            return static_cast<std::size_t>(got);
        }
        ended_ = true;
        failed_ = got < 0;
        return 0;
    }
    void keep(std::size_t got) { kept_.insert(kept_.end(), chunk_.data(), chunk_.data() + got); }
    void drain() {
        while (!ended_)
            next();
    }

    Pull pull_;
    Reopen reopen_;
    std::vector<std::uint8_t> kept_;
    std::vector<std::uint8_t> chunk_;
    std::uint64_t size_ = 0;
    bool ended_ = false;
    bool failed_ = false;
};

/// An archive being walked entry by entry.
struct Walk {
    Walk(struct archive* a, Input& in, Source* in_place_source, const ParseContext& ctx,
         const GuardedStream* from = nullptr)
        : archive(a), input(in), in_place(in_place_source), context(ctx), stream(from) {}
    struct archive* archive;
    Input& input;
    /// The archive's own source when it is an uncompressed tar: members are read in place.
    Source* in_place;
    const ParseContext& context;
    /// The stream the archive is decompressed from, if any.
    const GuardedStream* stream;
    std::uint64_t produced = 0;  ///< member bytes libarchive produced (for the ratio)
    bool bomb = false;           ///< past the bomb limit: reading stopped
    bool ratio = false;          ///< beyond the ratio limit at some point
    bool ratio_reported = false;
    /// Where members read in place in a format that owns its trailing zip (a zip, an executable
    /// with a zip appended) lie in the source: a zip end record in one of them belongs to that
    /// member, not to the tar.
    std::vector<std::pair<std::uint64_t, std::uint64_t>> zip_members;
    /// Damaged headers skipped, the first one's message, and where the last one ended.
    std::uint64_t damaged = 0;
    std::string first_damage;
    la_int64_t damage_position = -1;
};

enum class WalkEnd { Complete, Stopped };

std::string entry_name(struct archive_entry* entry) {
    const LibarchiveApi& la = libarchive();
    const char* name = la.entry_pathname_utf8(entry);
    if (!name) name = la.entry_pathname(entry);
    return name && *name ? name : "<unnamed>";
}

/// The current entry's data as libarchive hands it over, block by block. (archive_read_data
/// would drop the bytes of a block when the next one fails, and a truncated member's payload
/// is exactly what must not be lost.) Holes of sparse entries read as zeros.
class EntryData {
  public:
    explicit EntryData(Walk& walk) : walk_(walk) {}
    /// Bytes read into `out`, 0 at the end of the entry, or a negative libarchive status.
    la_ssize_t read(std::uint8_t* out, std::size_t n) {
        if (walk_.bomb) return 0;
        // Empty blocks carry nothing; libarchive's progress bounds them, and so does this.
        for (int empty = 0; left_ == 0 && hole_ == 0; ++empty) {
            if (empty == kMaxEmptyBlocks) return 0;
            const void* block = nullptr;
            std::size_t size = 0;
            la_int64_t offset = 0;
            const int rc = libarchive().read_data_block(walk_.archive, &block, &size, &offset);
            if (rc == ARCHIVE_EOF) return 0;
            if (rc < ARCHIVE_WARN) {
                error_ = rc;
                return rc;
            }
            if (offset > 0 && static_cast<std::uint64_t>(offset) > position_)
                hole_ = static_cast<std::uint64_t>(offset) - position_;
            block_ = static_cast<const std::uint8_t*>(block);
            left_ = block ? size : 0;
        }
        std::size_t got = 0;
        if (hole_ > 0) {
            got = static_cast<std::size_t>(std::min<std::uint64_t>(n, hole_));
            std::memset(out, 0, got);
            hole_ -= got;
        } else {
            got = std::min(n, left_);
            std::memcpy(out, block_, got);
            block_ += got;
            left_ -= got;
        }
        position_ += got;
        walk_.produced += got;
        const std::uint64_t consumed = walk_.input.consumed();
        if (!walk_.ratio && compress::ratio_exceeded(walk_.produced, consumed)) walk_.ratio = true;
        if (past_bomb_limit(walk_.produced, consumed, limits::kMaxDecompressedTotal))
            walk_.bomb = true;
        return static_cast<la_ssize_t>(got);
    }
    int error() const { return error_; }

  private:
    static constexpr int kMaxEmptyBlocks = 1024;
    Walk& walk_;
    const std::uint8_t* block_ = nullptr;
    std::size_t left_ = 0;
    std::uint64_t hole_ = 0;
    std::uint64_t position_ = 0;
    int error_ = ARCHIVE_OK;
};

/// Reads one regular member; false when the walk must stop (reported).
bool read_entry(Walk& w, struct archive_entry* entry, const std::string& name,
                const Location& where) {
    const ParseContext& context = w.context;
    const LibarchiveApi& la = libarchive();
    // An uncompressed tar member is a window of the file: the data follows the header(s).
    if (w.in_place && la.entry_sparse_count(entry) == 0 && la.entry_size_is_set(entry)) {
        const la_int64_t at = la.filter_bytes(w.archive, 0);
        const la_int64_t size = la.entry_size(entry);
        if (at >= 0 && size >= 0) {
            Source& source = *w.in_place;
            const auto offset = static_cast<std::uint64_t>(at);
            const std::uint64_t avail = source.size() - std::min(offset, source.size());
            if (static_cast<std::uint64_t>(size) > avail) {
                context.anomaly_at(where, kMalformed,
                                   "the member declares " + std::to_string(size) +
                                       " bytes but only " + std::to_string(avail) +
                                       " are left in the file; what is there was scanned");
            }
            SliceSource data(source, offset, static_cast<std::uint64_t>(size));
            StoredMember member(data, name);
            const Admission admitted = admit_member(context, member);
            if (admitted.format && admitted.format->owns_trailing_zip)
                w.zip_members.emplace_back(offset, offset + data.size());
            return !admitted.stop;
        }
    }
    EntryData data(w);
    OnePassMember member(name,
                         [&data](std::uint8_t* out, std::size_t n) { return data.read(out, n); });
    const Admission admitted = admit_member(context, member);
    if (admitted.stop) return false;
    const std::string message = member.failed() ? error_text(w.archive) : std::string();
    if (w.bomb) {
        context.anomaly_at(where, kCompressionBomb,
                           "the archive's members expand more than " +
                               std::to_string(limits::kMaxCompressionRatio) +
                               " times the bytes read from it and past " +
                               std::to_string(limits::kMaxDecompressedTotal >> 20) +
                               " MiB; reading stopped after " + std::to_string(w.produced) +
                               " bytes: what was kept was scanned, later members were NOT");
        return false;
    }
    // A compressed stream reports its own ratio (parse_compressed); a 7z's is reported here,
    // once, where it was first seen.
    if (w.ratio && !w.ratio_reported && !w.stream) {
        w.ratio_reported = true;
        context.anomaly_at(where, kCompressionRatio,
                           "the archive's members expand more than " +
                               std::to_string(limits::kMaxCompressionRatio) +
                               " times the bytes read from it (" + std::to_string(w.produced) +
                               " bytes so far); reading went on, as an extractor's would, and "
                               "what was kept was scanned");
    }
    // The file's decompression budget is spent (reported once): later members could not be
    // kept either.
    if (context.budget().decompressed_reported) return false;
    if (!message.empty()) {
        if (!(w.stream && w.stream->failed())) {
            context.anomaly_at(
                where, classify(message),
                "libarchive: " + message + "; what was read of the member was scanned");
        }
        return data.error() > ARCHIVE_FATAL;  // a failed entry; the next may still be readable
    }
    return true;
}

WalkEnd walk_headers(Walk& w) {
    const ParseContext& context = w.context;
    const LibarchiveApi& la = libarchive();
    for (;;) {
        struct archive_entry* entry = nullptr;
        const int rc = la.read_next_header(w.archive, &entry);
        if (rc == ARCHIVE_EOF) return WalkEnd::Complete;
        if (rc == ARCHIVE_RETRY) {
            // A damaged header, skipped: libarchive looks for the next valid one.
            const la_int64_t at = la.filter_bytes(w.archive, 0);
            if (w.damaged++ == 0) w.first_damage = error_text(w.archive);
            if (at > w.damage_position) {
                w.damage_position = at;
                continue;
            }
        }
        if (rc < ARCHIVE_WARN || rc == ARCHIVE_RETRY) {
            if (!(w.stream && w.stream->failed())) {
                const std::string message = error_text(w.archive);
                context.anomaly(classify(message), "libarchive: " + message +
                                                       "; the members before this point were "
                                                       "scanned, the rest were NOT");
            }
            return WalkEnd::Stopped;
        }
        const std::string name = entry_name(entry);
        const Location where = context.member_location(name);
        if (rc == ARCHIVE_WARN) {
            const std::string message = error_text(w.archive);
            // Name conversions to the C locale are libarchive's business, not the archive's.
            if (message.find("convert") == std::string::npos)
                context.anomaly_at(where, kMalformed, "libarchive: " + message);
        }
        if (const char* why = unsafe_path(name)) {
            context.anomaly_at(where, kUnsafePath,
                               std::string("the member name ") + why +
                                   ": extracting the archive writes outside its folder");
        }
        // Links carry no data of their own: what they point at inside the archive is a member
        // scanned in its own right. Only a link that leads out of the archive's root matters.
        if (const char* target = la.entry_hardlink(entry)) {
            if (const char* why = link_escapes(name, target, /*hard_link=*/true))
                context.anomaly_at(where, kUnsafePath,
                                   "the member is a hard link to '" + printable(target) +
                                       "', which " + why +
                                       ": extracting it links to a file outside the archive");
            context.note_member(name, "link");
            continue;
        }
        const auto type = la.entry_filetype(entry);
        if (type == AE_IFLNK) {
            const char* target = la.entry_symlink(entry);
            if (const char* why = link_escapes(name, target ? target : "", /*hard_link=*/false))
                context.anomaly_at(where, kUnsafePath,
                                   "the member is a symbolic link to '" +
                                       printable(target ? target : "") + "', which " + why +
                                       ": extracting it can redirect later writes outside the "
                                       "archive's folder; it was not followed");
            context.note_member(name, "link");
            continue;
        }
        // Directories, devices, FIFOs have no content. A 7z entry without a Unix file type
        // (what py7zr writes) is a file: 0 here.
        if (type != AE_IFREG && type != 0) {
            context.note_member(name, "no content (folder, device or FIFO)");
            continue;
        }
        if (la.entry_is_encrypted(entry)) {
            context.anomaly_at(
                where, kEncrypted,
                "the member is encrypted, so it cannot be inspected; it was NOT scanned");
            continue;
        }
        if (!read_entry(w, entry, name, where)) return WalkEnd::Stopped;
    }
}

/// Walks every entry, then reports damaged headers that were skipped on the way.
WalkEnd walk_entries(Walk& w) {
    const WalkEnd end = walk_headers(w);
    // Members after the point where a walk stopped cannot be listed; the stop was reported.
    if (end == WalkEnd::Stopped && w.context.budget().ledger)
        w.context.budget().ledger->stopped_early = true;
    if (w.damaged > 0) {
        w.context.anomaly(kMalformed,
                          "libarchive: " + w.first_damage + " (" + std::to_string(w.damaged) +
                              " damaged header block(s) skipped): GNU tar and bsdtar skip to the "
                              "next valid header, Python's tarfile stops at the first one; the "
                              "members after them were scanned too");
    }
    return end;
}

/// The member name for a decompressed stream: the file's name without its compression
/// extension ("model.pkl.gz" -> "model.pkl", "x.tgz" -> "x.tar"), or "<decompressed>".
std::string decompressed_name(const ParseContext& context) {
    const auto& chain = context.base().chain;
    std::string_view name = chain.empty() ? std::string_view() : std::string_view(chain.back());
    const auto slash = name.find_last_of("/\\");
    if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
    const std::string lower = util::ascii_lower(name);
    struct Suffix {
        std::string_view suffix, replacement;
    };
    static constexpr Suffix kSuffixes[] = {
        {".gz", ""},       {".gzip", ""},    {".bz2", ""},     {".bzip2", ""},    {".xz", ""},
        {".lzma", ""},     {".zst", ""},     {".zstd", ""},    {".lz4", ""},      {".tgz", ".tar"},
        {".tbz2", ".tar"}, {".tbz", ".tar"}, {".txz", ".tar"}, {".tzst", ".tar"},
    };
    for (const auto& s : kSuffixes) {
        if (lower.size() > s.suffix.size() &&
            lower.compare(lower.size() - s.suffix.size(), s.suffix.size(), s.suffix) == 0) {
            return std::string(name.substr(0, name.size() - s.suffix.size())) +
                   std::string(s.replacement);
        }
    }
    return "<decompressed>";
}

/// A tar decompressed from `stream` (whose first bytes are `head`).
void read_compressed_tar(GuardedStream& stream, std::vector<std::uint8_t> head,
                         const ParseContext& context) {
    if (!libarchive_loaded(context, "the tar archive it decompresses to")) return;
    StreamInput input(stream, std::move(head));
    std::string error;
    const auto archive = open_archive(input, Layout::Tar, Compression::None, error);
    if (!archive) {
        if (!stream.failed()) {
            context.anomaly(kMalformed,
                            "the decompressed data starts like a tar archive but libarchive "
                            "cannot read it (" +
                                error + "), so it was NOT scanned");
        }
        return;
    }
    Walk w(archive.get(), input, nullptr, context, &stream);
    if (walk_entries(w) != WalkEnd::Complete) return;
    // Past the tar's end: read the rest of the stream too, so that its trailer is checked
    // and the ratio check sees it.
    std::vector<std::uint8_t> scratch(kChunk);
    while (stream.read(scratch.data(), scratch.size()) > 0) {
    }
}

/// A compressed stream that is not a tar: one member. A first pass detects its format and
/// counts its size under the caps; a member larger than the stream window is then read again
/// as a stream (StreamSource), never held whole (unless its reader needs stable views).
void read_compressed_member(Source& source, Compression compression, GuardedStream& stream,
                            std::vector<std::uint8_t> head, const ParseContext& context) {
    OnePassMember member(
        decompressed_name(context),
        [&stream](std::uint8_t* out, std::size_t n) {
            return static_cast<la_ssize_t>(stream.read(out, n));
        },
        std::move(head));
    member.set_reopen([&source, compression](std::uint64_t size) {
        return std::make_unique<StreamSource>(source, compression, size);
    });
    admit_member(context, member);
}

/// Whether this installation decodes `compression` (reported when not): zlib does gzip (a tar
/// inside it still needs libarchive, which read_compressed_tar checks), libarchive's in-process
/// filters do the rest.
bool can_decode(Compression compression, const std::string& what, const ParseContext& context) {
    if (compression == Compression::Gzip) return true;
    if (!libarchive_loaded(context, "the " + what + "-compressed file")) return false;
    if (libarchive_has_filter(compression)) return true;
    context.anomaly(kUnsupportedMethod, "the file is " + what +
                                            "-compressed and this build of libarchive has no " +
                                            what + " decoder, so it was NOT scanned");
    return false;
}

bool starts_with(Source& source, std::string_view magic) {
    const auto head = source.view(0, magic.size());
    return head.size() == magic.size() && std::memcmp(head.data(), magic.data(), magic.size()) == 0;
}

/// A tar header's first field is a free-form name, so a file can be a tar archive and a pickle
/// at once: pickle.load and joblib.load run the pickle, tar readers extract the archive. When
/// the pickle reading imports or calls anything, it is scanned and reported as well.
void scan_pickle_reading(Source& source, const ParseContext& context) {
    if (!pickle::detect(source, "")) return;
    // First pass: does it import or call anything? (Names that merely parse as opcodes,
    // "a.pkl" being APPEND then STOP, are no pickle reading.) Nothing is kept.
    bool code = false;
    const OperationSink probe_sink = [&code](Operation&& op) {
        code = code || op.kind != OpKind::Anomaly;
    };
    pickle::parse(source,
                  ParseContext(probe_sink, context.base(), context.budget(), context.depth()));
    if (!code) return;
    context.anomaly(kPolyglot,
                    "the file is a tar archive and also a pickle that imports or calls globals: "
                    "pickle.load and joblib.load run the pickle, tar readers extract the "
                    "archive; both were scanned",
                    0);
    pickle::parse(source, context);
}

/// Parses a tar numeric field: octal digits, optionally space-led, ended by space or NUL.
bool tar_octal(std::span<const std::uint8_t> field, std::uint64_t& value) {
    std::size_t i = 0;
    while (i < field.size() && field[i] == ' ')
        ++i;
    const std::size_t first = i;
    value = 0;
    while (i < field.size() && field[i] >= '0' && field[i] <= '7') {
        value = value << 3 | static_cast<std::uint64_t>(field[i] - '0');
        ++i;
    }
    if (i == first || i - first > 12) return false;
    return i == field.size() || field[i] == ' ' || field[i] == 0;
}

}  // namespace

bool looks_like_tar_header(std::span<const std::uint8_t> block) {
    if (block.size() < kTarBlock) return false;
    if (std::memcmp(block.data() + 257, "ustar", 5) == 0) return true;
    std::uint64_t declared = 0;
    if (!tar_octal(block.subspan(148, 8), declared)) return false;
    std::uint64_t sum = 0;
    std::int64_t signed_sum = 0;
    for (std::size_t i = 0; i < kTarBlock; ++i) {
        const bool in_field = i >= 148 && i < 156;
        sum += in_field ? ' ' : block[i];
        signed_sum += in_field ? ' ' : static_cast<signed char>(block[i]);
    }
    return declared == sum || static_cast<std::int64_t>(declared) == signed_sum;
}

bool detect_tar(Source& source, std::string_view) {
    return looks_like_tar_header(source.view(0, kTarBlock));
}

bool detect_7z(Source& source, std::string_view) {
    return starts_with(source, "7z\xbc\xaf\x27\x1c");
}

bool detect_gzip(Source& source, std::string_view) {
    return sniff_compression(source) == Compression::Gzip;
}
bool detect_bzip2(Source& source, std::string_view) {
    return sniff_compression(source) == Compression::Bzip2;
}
bool detect_xz(Source& source, std::string_view) {
    return sniff_compression(source) == Compression::Xz;
}
bool detect_lzma(Source& source, std::string_view) {
    return sniff_compression(source) == Compression::Lzma;
}
bool detect_zstd(Source& source, std::string_view) {
    return sniff_compression(source) == Compression::Zstd;
}
bool detect_lz4(Source& source, std::string_view) {
    return sniff_compression(source) == Compression::Lz4;
}

void parse_tar(Source& source, const ParseContext& context) {
    scan_pickle_reading(source, context);
    if (!libarchive_loaded(context, "the tar archive")) {
        zip::scan_appended(source, context, "tar");
        return;
    }
    SourceInput input(source);
    std::string error;
    const auto archive = open_archive(input, Layout::Tar, Compression::None, error);
    if (!archive) {
        context.anomaly(kMalformed, "not a readable tar archive (libarchive: " + error +
                                        "), so it was NOT scanned");
        zip::scan_appended(source, context, "tar");
        return;
    }
    Walk w(archive.get(), input, &source, context);
    walk_entries(w);
    // A zip end record outside every zip member: the file is also a zip archive (a polyglot).
    const auto end = zip::find_end_record(source);
    if (!end) return;
    for (const auto& [from, to] : w.zip_members)
        if (*end >= from && *end < to) return;
    zip::scan_appended(source, context, "tar");
}

void parse_7z(Source& source, const ParseContext& context) {
    if (!libarchive_loaded(context, "the 7z archive")) return;
    SourceInput input(source);
    std::string error;
    const auto archive = open_archive(input, Layout::SevenZip, Compression::None, error);
    if (!archive) {
        context.anomaly(classify(error), "not a readable 7z archive (libarchive: " + error +
                                             "), so it was NOT scanned");
        return;
    }
    Walk w(archive.get(), input, nullptr, context);
    walk_entries(w);
}

void parse_compressed(Source& source, const ParseContext& context) {
    const Compression compression = sniff_compression(source);
    if (compression == Compression::None) return;
    const std::string what = compression_name(compression);
    if (!can_decode(compression, what, context)) return;
    const auto decoder = open_decoder(source, compression);
    GuardedStream stream(*decoder);
    std::vector<std::uint8_t> head(kTarBlock);
    std::size_t got = 0;
    while (got < head.size()) {
        const std::size_t n = stream.read(head.data() + got, head.size() - got);
        if (n == 0) break;
        got += n;
    }
    head.resize(got);
    if (looks_like_tar_header(head)) {
        stream.set_limit(limits::kMaxDecompressedTotal);
        read_compressed_tar(stream, std::move(head), context);
    } else {
        read_compressed_member(source, compression, stream, std::move(head), context);
    }
    if (stream.bomb()) {
        context.anomaly(
            kCompressionBomb,
            "the " + what + " stream expands more than " +
                std::to_string(limits::kMaxCompressionRatio) +
                " times its compressed size and past " + std::to_string(stream.limit() >> 20) +
                " MiB; decompression stopped after " + std::to_string(stream.produced()) +
                " bytes: what was kept was scanned, the rest was NOT");
    } else if (stream.ratio()) {
        context.anomaly(
            kCompressionRatio,
            "the " + what + " stream expands " +
                std::to_string(stream.produced() /
                               std::max<std::uint64_t>(stream.decoder().consumed(), 1)) +
                " times its compressed size (" + std::to_string(stream.produced()) +
                " bytes), more than the limit of " + std::to_string(limits::kMaxCompressionRatio) +
                "; it was decompressed in full, as its loader would, and scanned");
    }
    if (!stream.bomb() && !decoder->error().empty()) {
        context.anomaly(kMalformed,
                        what + ": " + decoder->error() + "; what decompressed before was scanned");
    }
}

}  // namespace mscan::archive
