// The member pipeline of member.h.
#include "formats/member.h"

#include <algorithm>

#include "formats/archive/archive_codes.h"
#include "formats/common_codes.h"
#include "formats/compress/expansion.h"
#include "formats/registry.h"
#include "mscan/limits.h"

namespace mscan {

Judgement judge(Source& content, std::string_view name) {
    Judgement j;
    // Containers no parser reads yet are recognised by their magic bytes first, so that such a
    // model is reported as not scanned rather than mistaken for another format or skipped.
    j.unsupported = unsupported_container(content);
    if (j.unsupported) return j;
    j.format = detect_format(content, name);
    // A file its loader opens by name (config.json) is read by that format even when its
    // content is not recognised: the format then says why it cannot be read.
    if (!j.format) j.format = format_claiming_name(name);
    if (!j.format) j.claimed = format_named_by(name);
    return j;
}

namespace {

/// Parses `content` as a member one level deeper, as `judgement` says: a format, or the
/// findings of a member that is none.
const Format* scan_judged(const ParseContext& context, const Location& where, Source& content,
                          const Member& member, const Judgement& judgement) {
    if (judgement.unsupported) {
        context.anomaly_at(where, kUnsupportedMember,
                           std::string(judgement.unsupported) +
                               ": not supported by this version of mscan, so it was NOT scanned");
        return nullptr;
    }
    if (!judgement.format) {
        // Named as a model format it is not (empty, cut short, text): the loader is handed it
        // all the same, so it is a finding, like such a file on disk.
        if (judgement.claimed)
            context.anomaly_at(where, kFormatMismatch,
                               describe_mismatch(content, member.name(), judgement.claimed));
        else
            context.note_member(member.name(), "not a model format");
        return nullptr;
    }
    if (context.budget().ledger)
        context.budget().ledger->records.push_back({where.chain, "scanned"});
    const ParseContext child(context.sink(), where, context.budget(), context.depth() + 1);
    judgement.format->parse(content, child);
    return judgement.format;
}

std::unique_ptr<Source> decode(const ParseContext& context, const Location& where, Member& member,
                               bool stable, compress::Inflated& first) {
    const std::uint64_t cap = compress::member_cap(context);
    std::unique_ptr<Source> content = member.open(cap, stable, first);
    compress::report_expansion(context, where, first, cap, member.kind);
    return content;
}

}  // namespace

std::unique_ptr<Source> decode_member(const ParseContext& context, const Location& where,
                                      Member& member, compress::Inflated& first) {
    return decode(context, where, member, /*stable=*/false, first);
}

Admission admit_member(const ParseContext& context, Member& member) {
    Admission out;
    const Location where = context.member_location(member.name());
    if (member.counted && !context.take_member()) {
        context.note_member(member.name(), "over the member cap (reported)");
        out.stop = true;
        return out;
    }
    if (context.depth() + 1 > limits::kMaxNestingDepth) {
        context.anomaly_at(where, kContainerNotScanned,
                           "containers nested more than " +
                               std::to_string(limits::kMaxNestingDepth) +
                               " deep; this member was NOT scanned");
        return out;
    }
    if (Source* stored = member.stored()) {
        out.format = scan_judged(context, where, *stored, member, judge(*stored, member.name()));
        return out;
    }

    // A compressed member: detected on its head first.
    compress::Inflated head = member.head(limits::kDetectProbeBytes);
    const bool whole = head.complete || head.bytes.size() < limits::kDetectProbeBytes;
    MemorySource probe(head.bytes);
    const Judgement verdict = judge(probe, member.name());
    auto declared_expansion = [&](const Member::Rest& rest, std::string_view why) {
        if (!rest.decoded && member.compressed > 0)
            compress::report_declared_expansion(context, where, member.declared, member.compressed,
                                                why);
    };
    if (verdict.unsupported) {
        // Reported from its magic bytes: nothing past them is needed.
        declared_expansion(member.skip_rest(), "mscan does not read this kind of member");
        scan_judged(context, where, probe, member, verdict);
        return out;
    }
    if (!whole && verdict.format && verdict.format->head_suffices &&
        verdict.format->head_suffices(probe)) {
        // The start is all this format needs (a .npy header): the rest is not kept; the parser
        // sees the member's size.
        const Member::Rest rest = member.skip_rest();
        if (rest.size > head.bytes.size()) {
            PrefixSource prefix(std::move(head.bytes), rest.size);
            out.format = scan_judged(context, where, prefix, member, verdict);
            declared_expansion(rest,
                               "only its start was decompressed here; the loader "
                               "decompresses all of it");
            return out;
        }
        // Declared no longer than its head: the whole member is read after all.
    }
    // A head cut short may not decide (a JSON object may name its Keras class anywhere):
    // then the member is decoded and detected whole.
    const bool undecided = !verdict.format && !whole && head_inconclusive(probe);
    if (!verdict.format && !undecided) {
        Judgement none = verdict;
        if (!head.error.empty()) {
            context.anomaly_at(where, archive::kMalformed,
                               head.error + "; what decompressed was checked");
            // What its name claims cannot be judged on data that did not decode.
            none.claimed = nullptr;
        }
        // Not a model format: the loader does not interpret it. Whatever extracts the archive
        // does decompress it: its size is judged.
        const Member::Rest rest = member.skip_rest();
        declared_expansion(rest, "it is not a model format, so mscan did not decompress it");
        PrefixSource prefix(std::move(head.bytes), rest.size);
        scan_judged(context, where, prefix, member, none);
        return out;
    }
    // Decoded whole, as a stream under the member cap and the file's budget.
    const bool stable = verdict.format && verdict.format->needs_stable_views;
    std::unique_ptr<Source> content = decode(context, where, member, stable, out.first);
    out.decoded = true;
    if (!content || out.first.size == 0) {
        context.note_member(member.name(), "nothing decoded within the budget (reported)");
        return out;
    }
    const Judgement full = undecided ? judge(*content, member.name()) : verdict;
    out.format = scan_judged(context, where, *content, member, full);
    return out;
}

}  // namespace mscan
