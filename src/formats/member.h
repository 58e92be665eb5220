// The one member pipeline. A container (zip, tar, 7z, a compressed stream, a zlib or joblib
// stream, a pickle's embedded file) only lists its members and opens their bytes, as a Member;
// admit_member() decides, the same way at every depth, what becomes of each: the member cap,
// the nesting cap, detection on its head, whether the head is enough, whether it is decoded
// whole and under which budget, what is reported, and what the ledger records. The top-level
// scan uses the same detection verdict (judge()).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "formats/compress/inflate.h"
#include "formats/context.h"
#include "mscan/source.h"

namespace mscan {

struct Format;

/// What detection makes of some content under a name, before any parsing.
struct Judgement {
    /// A model container no parser reads yet (described), recognised by its magic bytes.
    const char* unsupported = nullptr;
    /// The format that accepts the content.
    const Format* format = nullptr;
    /// No format accepts it, but its name claims one (described): the loader would still be
    /// handed it, so it is a finding rather than a skipped file.
    const char* claimed = nullptr;
};

/// Detection for a file or a member held whole.
Judgement judge(Source& content, std::string_view name);

/// One member of a container, as the container opens it. Sizes are what its headers declare.
class Member {
  public:
    explicit Member(std::string name) : name_(std::move(name)) {}
    virtual ~Member() = default;
    Member(const Member&) = delete;
    Member& operator=(const Member&) = delete;

    const std::string& name() const { return name_; }

    /// The member's bytes in place, when the container stores it as is (a stored zip member,
    /// an uncompressed tar member, bytes inside a pickle): nothing is decoded.
    virtual Source* stored() { return nullptr; }

    /// Compressed members: the first `n` decoded bytes (kept), and how the stream went.
    virtual compress::Inflated head(std::size_t n) = 0;

    /// After head(): the member's size without keeping the rest. `decoded` says whether the
    /// rest was read (a one-pass stream must be) or only its declared size taken.
    struct Rest {
        std::uint64_t size = 0;
        bool decoded = false;
    };
    virtual Rest skip_rest() = 0;

    /// After head(): the whole member, decoded up to `cap` bytes, as a Source; `stable`: the
    /// format's reader needs views that stay valid (Format::needs_stable_views). `first` says
    /// how the pass ended; its `ratio_exceeded` only when the member itself judges its ratio
    /// (a tar's members are judged as one stream by the walk).
    virtual std::unique_ptr<Source> open(std::uint64_t cap, bool stable,
                                         compress::Inflated& first) = 0;

    /// Declared decompressed and compressed sizes, for members whose loader decompresses what
    /// mscan does not (declared_expansion_checked: the container judges them itself).
    std::uint64_t declared = 0;
    std::uint64_t compressed = 0;
    /// The member counts against the file's member cap (a container's listed member; not a
    /// file's single decompressed stream).
    bool counted = true;
    /// What the member is called in findings about its expansion ("member", "stream").
    const char* kind = "member";

  private:
    std::string name_;
};

/// A member held as a Source already (in place or decoded by its container).
class StoredMember final : public Member {
  public:
    StoredMember(Source& source, std::string name) : Member(std::move(name)), source_(source) {}
    Source* stored() override { return &source_; }
    compress::Inflated head(std::size_t) override { return {}; }
    Rest skip_rest() override { return {source_.size(), true}; }
    std::unique_ptr<Source> open(std::uint64_t, bool, compress::Inflated&) override {
        return nullptr;
    }

  private:
    Source& source_;
};

/// What became of a member.
struct Admission {
    /// The format it was read as, or nullptr (not a model format, or reported).
    const Format* format = nullptr;
    /// The member was decoded whole (up to the cap): `first` says how.
    bool decoded = false;
    compress::Inflated first;
    /// The file's member cap is reached: the container lists no more (reported once).
    bool stop = false;
};

/// Admits one member of the object `context` describes: counts it, detects it, reads it as
/// far as its format needs under the file's budget, reports what stops it, scans it one level
/// deeper, and records the decision in the ledger.
Admission admit_member(const ParseContext& context, Member& member);

/// The decoding step of admit_member() alone, for a stream its loader reads as one format
/// whatever it holds (joblib's zlib stream is unpickled, never detected): decodes `member`
/// whole under the member cap and the file's budget, reports how that went at `where`, and
/// returns the content (nullptr or empty when nothing could be decoded).
std::unique_ptr<Source> decode_member(const ParseContext& context, const Location& where,
                                      Member& member, compress::Inflated& first);

}  // namespace mscan
