// The checked reader: every read past the end fails and leaves the cursor alone.
#include <catch2/catch.hpp>

#include "mscan/reader.h"

TEST_CASE("ByteReader reads little-endian integers and refuses to read past the end") {
    mscan::MemorySource s({1, 2, 3, 4, 5, 6, 7, 8, 9});
    mscan::ByteReader r(s);
    CHECK(r.u16le() == 0x0201);
    CHECK(r.u32le() == 0x06050403u);
    CHECK(r.pos() == 6);
    CHECK_FALSE(r.u32le().has_value());
    CHECK(r.pos() == 6);
    CHECK(r.u8() == 7);
    CHECK_FALSE(r.skip(3));
    CHECK(r.skip(2));
    CHECK(r.at_end());
    CHECK_FALSE(r.u8().has_value());
}

TEST_CASE("ByteReader limits reads to its sub-range") {
    mscan::MemorySource s({1, 2, 3, 4, 5});
    mscan::ByteReader r(s, 1, 3);
    CHECK(r.remaining() == 2);
    CHECK(r.u8() == 2);
    CHECK(r.u8() == 3);
    CHECK_FALSE(r.u8().has_value());
    CHECK_FALSE(r.seek(4));
}

TEST_CASE("ByteReader lines need a newline within the limit") {
    const std::string text = "abc\ndefgh";
    mscan::MemorySource s(std::vector<std::uint8_t>(text.begin(), text.end()));
    mscan::ByteReader r(s);
    CHECK(r.line(10) == std::string_view("abc"));
    CHECK_FALSE(r.line(10).has_value());  // no newline before the end
    CHECK(r.pos() == 4);
    mscan::ByteReader r2(s);
    CHECK_FALSE(r2.line(2).has_value());  // newline beyond the limit
}

TEST_CASE("ByteReader handles huge lengths without overflow") {
    mscan::MemorySource s({1, 2, 3});
    mscan::ByteReader r(s);
    r.skip(1);
    CHECK_FALSE(r.skip(UINT64_MAX));
    CHECK_FALSE(r.bytes(SIZE_MAX).has_value());
    CHECK(r.pos() == 1);
}

TEST_CASE("ByteReader big-endian doubles") {
    mscan::MemorySource s({0x3f, 0xf8, 0, 0, 0, 0, 0, 0});
    mscan::ByteReader r(s);
    CHECK(r.f64be() == 1.5);
}
