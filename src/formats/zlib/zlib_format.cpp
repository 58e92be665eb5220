// zlib streams. The two-byte header is weak evidence on its own (RFC 1950: CM 8, a window of
// at most 32 KiB, a check value that makes the pair a multiple of 31), so detection also
// requires the start of the decompressed data to be a format mscan reads.
#include "formats/zlib/zlib_format.h"

#include <algorithm>

#include "formats/compress/coded_member.h"
#include "formats/compress/inflate.h"
#include "formats/registry.h"
#include "mscan/limits.h"

namespace mscan::zlib {
namespace {

bool zlib_header(Source& source) {
    const auto h = source.view(0, 2);
    if (h.size() < 2) return false;
    const unsigned cmf = h[0], flg = h[1];
    return (cmf & 0x0f) == 8 && (cmf >> 4) <= 7 && (cmf * 256 + flg) % 31 == 0 && !(flg & 0x20);
}

/// The member's name: the file's name without its compression extension.
std::string member_name(const ParseContext& context) {
    const auto& chain = context.base().chain;
    std::string name = chain.empty() ? std::string() : chain.back();
    const auto slash = name.find_last_of('/');
    if (slash != std::string::npos) name = name.substr(slash + 1);
    for (const char* ext : {".z", ".zlib", ".Z"}) {
        const std::string_view e(ext);
        if (name.size() > e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0) {
            return name.substr(0, name.size() - e.size());
        }
    }
    return name.empty() ? "<zlib stream>" : name + " (decompressed)";
}

}  // namespace

bool detect(Source& source, std::string_view) {
    if (!zlib_header(source)) return false;
    auto head = compress::inflate(source, 0, source.size(), compress::Wrapper::Zlib,
                                  limits::kDetectProbeBytes);
    if (head.bytes.empty()) return false;
    MemorySource probe(std::move(head.bytes));
    return detect_format(probe, "") != nullptr;
}

void parse(Source& source, const ParseContext& context) {
    // Decompressed as a stream: counted first, then read through a window, never held whole.
    compress::CodedMember member(source, 0, source.size(), compress::Codec::Zlib,
                                 member_name(context), 0);
    member.counted = false;
    member.kind = "stream";
    admit_member(context, member);
}

}  // namespace mscan::zlib
