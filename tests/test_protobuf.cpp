// The protobuf wire-format cursor: every wire type, a cut at every byte of a message, overlong
// varints, lengths past the end, bad tags, groups and the nesting limit.
#include <catch2/catch.hpp>
#include <cstdint>
#include <set>
#include <vector>

#include "formats/protobuf/wire.h"
#include "mscan/limits.h"

using mscan::protobuf::Error;
using mscan::protobuf::Field;
using mscan::protobuf::Message;
using mscan::protobuf::WireType;

namespace {

using Bytes = std::vector<std::uint8_t>;

/// All fields of a message, and the error it ends with.
struct Read {
    std::vector<Field> fields;
    Error error = Error::None;
    std::uint64_t error_offset = 0;
};

Read read_all(const Bytes& b, bool keep_truncated = false) {
    Read r;
    Message m(b);
    m.keep_truncated(keep_truncated);
    Field f;
    while (m.next(f))
        r.fields.push_back(f);
    r.error = m.error();
    r.error_offset = m.error_offset();
    return r;
}

/// One field of every wire type: 1 varint 150, 2 fixed64, 3 "abc", 4 a group holding 5 = 1,
/// 6 fixed32. The second value lists where each field ends.
const Bytes kSample = {
    0x08, 0x96, 0x01,                          // 1: varint 150
    0x11, 1,    2,    3,    4,    5, 6, 7, 8,  // 2: fixed64
    0x1a, 0x03, 'a',  'b',  'c',               // 3: "abc"
    0x23, 0x28, 0x01, 0x24,                    // 4: group { 5: 1 }
    0x35, 0x00, 0x00, 0x80, 0x3f,              // 6: fixed32 (1.0f)
};
const std::set<std::size_t> kBoundaries = {0, 3, 12, 17, 21, 26};

}  // namespace

TEST_CASE("protobuf: every wire type") {
    const Read r = read_all(kSample);
    REQUIRE(r.error == Error::None);
    REQUIRE(r.fields.size() == 5);
    CHECK(r.fields[0].number == 1);
    CHECK(r.fields[0].type == WireType::Varint);
    CHECK(r.fields[0].value == 150);
    CHECK(r.fields[0].offset == 0);
    CHECK(r.fields[1].type == WireType::Fixed64);
    CHECK(r.fields[1].value == 0x0807060504030201ull);
    CHECK(r.fields[2].type == WireType::Len);
    CHECK(r.fields[2].text() == "abc");
    CHECK(r.fields[2].bytes_offset == 14);
    CHECK(r.fields[3].type == WireType::StartGroup);
    CHECK(r.fields[3].number == 4);
    REQUIRE(r.fields[3].bytes.size() == 2);  // the group's body, without its tags
    CHECK(r.fields[3].bytes[0] == 0x28);
    CHECK(r.fields[4].type == WireType::Fixed32);
    CHECK(r.fields[4].value == 0x3f800000u);
    CHECK(r.fields[4].offset == 21);

    // A group's body reads as a message of its own.
    Message top(kSample);
    Field f;
    while (top.next(f) && f.number != 4) {
    }
    Message group = top.sub(f);
    Field g;
    REQUIRE(group.next(g));
    CHECK(g.number == 5);
    CHECK(g.value == 1);
    CHECK(g.offset == 18);
    CHECK_FALSE(group.next(g));
    CHECK(group.at_end());
}

TEST_CASE("protobuf: a message cut at every byte") {
    for (std::size_t cut = 0; cut <= kSample.size(); ++cut) {
        INFO("cut at " << cut);
        const Bytes prefix(kSample.begin(), kSample.begin() + static_cast<std::ptrdiff_t>(cut));
        const Read r = read_all(prefix);
        if (kBoundaries.count(cut)) {
            CHECK(r.error == Error::None);
        } else {
            CHECK((r.error == Error::Truncated || r.error == Error::LengthPastEnd ||
                   r.error == Error::UnterminatedGroup));
            CHECK(r.error_offset <= cut);
        }
        // Fields before the cut are all there.
        std::size_t complete = 0;
        for (const auto b : kBoundaries)
            if (b != 0 && b <= cut) ++complete;
        CHECK(r.fields.size() == complete);
    }
}

TEST_CASE("protobuf: varints") {
    std::uint64_t v = 0;
    Error e = Error::None;
    const Bytes max = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    CHECK(mscan::protobuf::read_varint(max, v, e) == 10);
    CHECK(v == UINT64_MAX);
    const Bytes eleven = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    CHECK(mscan::protobuf::read_varint(eleven, v, e) == 0);
    CHECK(e == Error::VarintTooLong);
    const Bytes cut = {0x80, 0x80};
    CHECK(mscan::protobuf::read_varint(cut, v, e) == 0);
    CHECK(e == Error::Truncated);

    // An overlong varint as a value, and a tag longer than 5 bytes.
    Bytes value = {0x08};
    value.insert(value.end(), eleven.begin(), eleven.end());
    CHECK(read_all(value).error == Error::VarintTooLong);
    const Bytes long_tag = {0x88, 0x80, 0x80, 0x80, 0x80, 0x00, 0x01};
    CHECK(read_all(long_tag).error == Error::VarintTooLong);
    // A 5-byte tag above 2^32.
    const Bytes big_tag = {0xf8, 0xff, 0xff, 0xff, 0x7f, 0x01};
    CHECK(read_all(big_tag).error == Error::VarintTooLong);
    // The largest field number (2^29 - 1) is fine.
    const Bytes top_field = {0xf8, 0xff, 0xff, 0xff, 0x0f, 0x01};
    const Read r = read_all(top_field);
    CHECK(r.error == Error::None);
    REQUIRE(r.fields.size() == 1);
    CHECK(r.fields[0].number == (1u << 29) - 1);
}

TEST_CASE("protobuf: lengths past the end, bad tags") {
    const Bytes past = {0x08, 0x01, 0x12, 0x05, 'a', 'b'};
    Read r = read_all(past);
    CHECK(r.fields.size() == 1);
    CHECK(r.error == Error::LengthPastEnd);
    CHECK(r.error_offset == 3);
    // With keep_truncated the cut field comes back with what is there, then the error.
    r = read_all(past, true);
    REQUIRE(r.fields.size() == 2);
    CHECK(r.fields[1].truncated);
    CHECK(r.fields[1].text() == "ab");
    CHECK(r.error == Error::LengthPastEnd);
    // A huge declared length never allocates or wraps.
    const Bytes huge = {0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 'x'};
    CHECK(read_all(huge).error == Error::LengthPastEnd);

    CHECK(read_all({0x00, 0x01}).error == Error::FieldZero);
    CHECK(read_all({0x0e, 0x01}).error == Error::BadWireType);        // wire type 6
    CHECK(read_all({0x0f, 0x01}).error == Error::BadWireType);        // wire type 7
    CHECK(read_all({0x0c}).error == Error::UnmatchedEndGroup);        // end group, nothing open
    CHECK(read_all({0x0b, 0x14}).error == Error::UnmatchedEndGroup);  // opens 1, closes 2
    CHECK(read_all({0x0b, 0x08, 0x01}).error == Error::UnterminatedGroup);
    CHECK(read_all({0x09, 1, 2, 3}).error == Error::Truncated);  // fixed64 cut
    CHECK(read_all({0x0d, 1, 2}).error == Error::Truncated);     // fixed32 cut
    // After an error the cursor stays stopped.
    const Bytes zero = {0x00};
    Message m(zero);
    Field f;
    CHECK_FALSE(m.next(f));
    CHECK_FALSE(m.next(f));
    CHECK(m.error() == Error::FieldZero);
    CHECK_FALSE(m.at_end());
}

TEST_CASE("protobuf: nesting is limited") {
    const int limit = mscan::limits::kProtobufMaxDepth;
    // Groups nested past the limit.
    Bytes deep;
    for (int i = 0; i < limit + 2; ++i)
        deep.push_back(0x0b);  // start group 1
    for (int i = 0; i < limit + 2; ++i)
        deep.push_back(0x0c);  // end group 1
    CHECK(read_all(deep).error == Error::TooDeep);
    // Nested just below the limit is fine.
    Bytes ok;
    for (int i = 0; i < limit - 1; ++i)
        ok.push_back(0x0b);
    for (int i = 0; i < limit - 1; ++i)
        ok.push_back(0x0c);
    const Read r = read_all(ok);
    CHECK(r.error == Error::None);
    CHECK(r.fields.size() == 1);

    // Sub-messages: each level one length-delimited field 1 around the next.
    Bytes msg;
    for (int i = 0; i < limit + 4; ++i) {
        Bytes outer = {0x0a};
        for (std::size_t n = msg.size();; n >>= 7) {  // the length as a varint
            outer.push_back(static_cast<std::uint8_t>((n & 0x7f) | (n > 0x7f ? 0x80 : 0)));
            if (n <= 0x7f) break;
        }
        outer.insert(outer.end(), msg.begin(), msg.end());
        msg = outer;
    }
    Message m(msg);
    int depth = 0;
    Field f;
    Error last = Error::None;
    while (m.next(f)) {
        m = m.sub(f);
        ++depth;
        last = m.error();
    }
    CHECK(depth == limit + 1);  // the sub-message one past the limit reads nothing
    CHECK((last == Error::TooDeep || m.error() == Error::TooDeep));
}
