// joblib ZF files, read as joblib/numpy_pickle_compat.py read_zfile() reads them.
#include "formats/joblib/joblib_zfile.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>

#include "formats/archive/archive_codes.h"
#include "formats/compress/coded_member.h"
#include "formats/member.h"
#include "formats/pickle/pickle_machine.h"
#include "mscan/limits.h"

namespace mscan::joblib {
namespace {

constexpr std::string_view kPrefix = "ZF";
/// len('{:#x}'.format(2 ** 64)): the width of the length field after the prefix.
constexpr std::size_t kLengthField = 19;

/// int(text, 16): blanks around, an optional sign, an optional 0x, hex digits with single
/// underscores between them.
std::optional<std::uint64_t> python_hex(std::string_view s) {
    auto blank = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
    while (!s.empty() && blank(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && blank(s.back()))
        s.remove_suffix(1);
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    if (s.size() > 1 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s.remove_prefix(2);
        if (!s.empty() && s.front() == '_') s.remove_prefix(1);
    }
    if (s.empty() || s.back() == '_') return std::nullopt;
    std::uint64_t v = 0;
    char prev = 0;
    for (const char c : s) {
        if (c == '_') {
            if (prev == '_' || prev == 0) return std::nullopt;
        } else if (std::isxdigit(static_cast<unsigned char>(c))) {
            if (v >> 60) return std::nullopt;
            v = v * 16 + static_cast<std::uint64_t>(
                             std::isdigit(static_cast<unsigned char>(c))
                                 ? c - '0'
                                 : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10);
        } else {
            return std::nullopt;
        }
        prev = c;
    }
    return v;
}

struct ZHeader {
    std::uint64_t length = 0;       ///< the declared uncompressed length
    std::uint64_t data_offset = 0;  ///< where the zlib stream starts
};

std::optional<ZHeader> read_header(Source& source) {
    const auto head = source.view(0, kPrefix.size() + kLengthField + 3);
    if (head.size() < kPrefix.size() + kLengthField + 2) return std::nullopt;
    const std::string_view text(reinterpret_cast<const char*>(head.data()), head.size());
    if (text.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
    const auto length = python_hex(text.substr(kPrefix.size(), kLengthField));
    if (!length) return std::nullopt;
    ZHeader h;
    h.length = *length;
    h.data_offset = kPrefix.size() + kLengthField;
    if (text[h.data_offset] == ' ') ++h.data_offset;  // joblib <= 0.8.4 wrote one more blank
    if (text.size() < h.data_offset + 2) return std::nullopt;
    const unsigned cmf = static_cast<unsigned char>(text[h.data_offset]);
    const unsigned flg = static_cast<unsigned char>(text[h.data_offset + 1]);
    if ((cmf & 0x0f) != 8 || (cmf >> 4) > 7 || (cmf * 256 + flg) % 31 != 0) return std::nullopt;
    return h;
}

}  // namespace

bool detect(Source& source, std::string_view) {
    return read_header(source).has_value();
}

void parse(Source& source, const ParseContext& context) {
    const auto h = read_header(source);
    if (!h) return;
    // joblib unpickles whatever the stream holds: it is decoded as a member, then read as a
    // pickle, not detected.
    compress::CodedMember stream(source, h->data_offset, source.size() - h->data_offset,
                                 compress::Codec::Zlib, "pickle (zlib, joblib ZF)", h->length);
    stream.kind = "stream";
    compress::Inflated first;
    const auto member = decode_member(context, context.base(), stream, first);
    if (first.complete && first.size != h->length) {
        context.anomaly(archive::kMalformed,
                        "the ZF header declares " + std::to_string(h->length) +
                            " bytes but the stream holds " + std::to_string(first.size) +
                            " (joblib asserts they match unless Python runs with -O); scanned");
    }
    if (!member) return;
    const Location where = context.member_location(stream.name());
    ByteReader reader(*member);
    pickle::scan_pickle(reader, where, context.sink());
}

}  // namespace mscan::joblib
