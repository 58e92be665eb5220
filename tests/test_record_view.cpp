// The checked record view: a record is taken whole or not at all (overflow-safe, at any
// offset), its fields read little-endian by the offset and width declared once, and the view
// survives the source being viewed again.
#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "io/record_view.h"

namespace {

/// A made-up 8-byte record: a 16-bit tag, a 32-bit length, an 8-bit kind and a spare byte.
struct Sample {
    static constexpr std::size_t kSize = 8;
    static constexpr mscan::Field<std::uint16_t, Sample> kTag{0};
    static constexpr mscan::Field<std::uint32_t, Sample> kLength{2};
    static constexpr mscan::Field<std::uint8_t, Sample> kKind{6};
};
using SampleView = mscan::RecordView<Sample>;

const std::vector<std::uint8_t> kBytes = {0x34, 0x12, 0x78, 0x56, 0x34, 0x12, 0xab, 0x00, 0x99};

}  // namespace

TEST_CASE("RecordView reads fields little-endian at their declared offsets") {
    mscan::MemorySource s(kBytes);
    const auto rec = SampleView::at(s, 0);
    REQUIRE(rec.has_value());
    CHECK(rec->get<Sample::kTag>() == 0x1234);
    CHECK(rec->get<Sample::kLength>() == 0x12345678u);
    CHECK(rec->get<Sample::kKind>() == 0xab);
    const auto shifted = SampleView::at(s, 1);
    REQUIRE(shifted.has_value());
    CHECK(shifted->get<Sample::kTag>() == 0x7812);
}

TEST_CASE("RecordView takes a record only when all of it is in bounds") {
    mscan::MemorySource s(kBytes);
    CHECK_FALSE(SampleView::at(s, 2).has_value());  // 7 bytes left
    CHECK_FALSE(SampleView::at(s, kBytes.size()).has_value());
    CHECK_FALSE(SampleView::at(s, UINT64_MAX).has_value());
    CHECK_FALSE(SampleView::at(s, UINT64_MAX - 3).has_value());
    CHECK(SampleView::in(kBytes, 1).has_value());
    CHECK_FALSE(SampleView::in(kBytes, 2).has_value());
    CHECK_FALSE(SampleView::in(kBytes, SIZE_MAX).has_value());
    CHECK_FALSE(SampleView::in(kBytes, SIZE_MAX - 3).has_value());
    CHECK_FALSE(SampleView::in({}, 0).has_value());
}

TEST_CASE("RecordView::read advances the reader past a whole record and no further") {
    mscan::MemorySource s(kBytes);
    mscan::ByteReader r(s, 0, 7);  // a sub-range one byte short of a record
    CHECK_FALSE(SampleView::read(r).has_value());
    CHECK(r.pos() == 0);
    mscan::ByteReader whole(s);
    REQUIRE(SampleView::read(whole).has_value());
    CHECK(whole.pos() == Sample::kSize);
    CHECK_FALSE(SampleView::read(whole).has_value());
    CHECK(whole.pos() == Sample::kSize);
}

TEST_CASE("RecordView keeps its bytes when the source is viewed again") {
    std::vector<std::uint8_t> bytes = kBytes;
    const auto rec = SampleView::in(bytes, 0);
    bytes.assign(bytes.size(), 0);
    REQUIRE(rec.has_value());
    CHECK(rec->get<Sample::kLength>() == 0x12345678u);
}
