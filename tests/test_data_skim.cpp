// The data-only fast path: which streams it takes, which it hands to the machine, and that
// taking it never changes what a scan reports (every sample and fuzz corpus entry, both ways).
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "formats/pickle/data_skim.h"
#include "formats/pickle/pickle_machine.h"
#include "pickle_builder.h"

using mscan::Operation;
using mscan::test::PickleBuilder;
namespace op = mscan::pickle::op;

namespace {

std::optional<std::uint64_t> skim(const std::vector<std::uint8_t>& bytes) {
    mscan::MemorySource source(bytes);
    return mscan::pickle::skim_data_stream(source, 0, bytes.size());
}

/// A data-only protocol 4 stream with frames, the memo and every container kind.
PickleBuilder data_stream() {
    PickleBuilder b;
    b.proto(4);
    PickleBuilder body;
    body.op(op::EMPTY_LIST).op(op::MEMOIZE).op(op::MARK);
    body.op(op::EMPTY_DICT).op(op::MEMOIZE).op(op::MARK);
    body.str("id").op(op::MEMOIZE).op(op::BININT1).u8(7);
    body.str("tags").op(op::MEMOIZE).op(op::BINGET).u8(2).op(op::BINGET).u8(3).op(op::TUPLE2);
    body.op(op::SETITEMS);
    body.op(op::BINGET).u8(1);  // the dict again
    body.op(op::NONE).op(op::NEWTRUE).op(op::NEWFALSE).op(op::TUPLE3);
    body.op(op::BINFLOAT).le(0, 8).op(op::BININT).le(5, 4).op(op::BININT2).le(9, 2);
    body.op(op::LONG1).u8(2).le(0x1234, 2);
    body.op(op::SHORT_BINBYTES).u8(3).raw("abc");
    body.op(op::BYTEARRAY8).le(2, 8).raw("xy");
    body.op(op::EMPTY_SET).op(op::MARK).op(op::BININT1).u8(1).op(op::ADDITEMS);
    body.op(op::MARK).op(op::BININT1).u8(2).op(op::FROZENSET);
    body.op(op::EMPTY_TUPLE).op(op::DUP).op(op::POP);
    body.op(op::APPENDS);
    body.op(op::BINPUT).u8(9);  // a key past the next MEMOIZE key: dense, a gap below it
    b.op(op::FRAME).le(body.bytes.size(), 8).raw(std::string(body.bytes.begin(), body.bytes.end()));
    b.op(op::FRAME).le(1, 8).op(op::STOP);
    return b;
}

bool same(const Operation& a, const Operation& b) {
    return a.kind == b.kind && a.name == b.name && a.aliases == b.aliases &&
           a.evidence == b.evidence && a.location.chain == b.location.chain &&
           a.location.offset == b.location.offset && a.location.index == b.location.index &&
           a.location.stream == b.location.stream;
}

struct Scan {
    std::vector<Operation> ops;
    mscan::pickle::RunSummary summary;
};

Scan scan(const std::vector<std::uint8_t>& bytes, bool fast_path) {
    mscan::MemorySource source(bytes);
    mscan::ByteReader reader(source);
    Scan s;
    mscan::pickle::MachineOptions options;
    options.fast_path = fast_path;
    s.summary = mscan::pickle::scan_pickle(
        reader, mscan::Location{}, [&s](Operation&& o) { s.ops.push_back(std::move(o)); }, options);
    return s;
}

std::vector<std::uint8_t> read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("the skim reads a data-only stream to its STOP") {
    const auto b = data_stream();
    const auto end = skim(b.bytes);
    REQUIRE(end.has_value());
    CHECK(*end == b.bytes.size());
    // It stops at the STOP: what follows is the caller's business.
    auto two = b.bytes;
    two.insert(two.end(), b.bytes.begin(), b.bytes.end());
    CHECK(skim(two) == b.bytes.size());
    // The machine agrees there is nothing to report.
    CHECK(scan(b.bytes, false).ops.empty());
}

TEST_CASE("the skim hands every stream the machine has something to say about to it") {
    auto with = [](auto&& build) {
        PickleBuilder b;
        build(b);
        return skim(b.bytes);
    };
    SECTION("a global") {
        CHECK_FALSE(with([](PickleBuilder& b) {
            b.proto(2).global("collections", "OrderedDict").op(op::STOP);
        }));
    }
    SECTION("a call of a memoised value, STACK_GLOBAL, BUILD, EXT, persistent ids, buffers") {
        for (const std::uint8_t code :
             {op::REDUCE, op::STACK_GLOBAL, op::BUILD, op::NEWOBJ, op::NEWOBJ_EX, op::OBJ,
              op::BINPERSID, op::NEXT_BUFFER, op::READONLY_BUFFER}) {
            CHECK_FALSE(with([code](PickleBuilder& b) {
                b.proto(5).op(op::EMPTY_TUPLE).op(op::EMPTY_TUPLE).op(code).op(op::STOP);
            }));
        }
        CHECK_FALSE(with([](PickleBuilder& b) { b.proto(2).op(op::EXT1).u8(1).op(op::STOP); }));
    }
    SECTION("protocol 0 text opcodes") {
        CHECK_FALSE(with([](PickleBuilder& b) { b.raw("I1\n."); }));
    }
    SECTION("a truncated stream, or one that never stops") {
        auto cut = data_stream();
        cut.bytes.pop_back();
        CHECK_FALSE(skim(cut.bytes));
        CHECK_FALSE(with([](PickleBuilder& b) { b.proto(4).op(op::SHORT_BINUNICODE).u8(9); }));
    }
    SECTION("an opcode that straddles a frame end") {
        CHECK_FALSE(with([](PickleBuilder& b) {
            b.proto(4).op(op::FRAME).le(2, 8).op(op::BININT).le(1, 4).op(op::STOP);
        }));
    }
    SECTION("a FRAME in a protocol 2 stream, or one longer than the input") {
        CHECK_FALSE(with(
            [](PickleBuilder& b) { b.proto(2).op(op::FRAME).le(2, 8).op(op::NONE).op(op::STOP); }));
        CHECK_FALSE(with([](PickleBuilder& b) {
            b.proto(4).op(op::FRAME).le(99, 8).op(op::NONE).op(op::STOP);
        }));
    }
    SECTION("a memo key never stored, or one far past the others") {
        CHECK_FALSE(with([](PickleBuilder& b) { b.proto(2).op(op::BINGET).u8(3).op(op::STOP); }));
        CHECK_FALSE(with([](PickleBuilder& b) {
            b.proto(2).op(op::NONE).op(op::LONG_BINPUT).le(1u << 20, 4).op(op::STOP);
        }));
    }
    SECTION("container misuse and stack underflow") {
        CHECK_FALSE(with([](PickleBuilder& b) {  // APPEND to a dict
            b.proto(2).op(op::EMPTY_DICT).op(op::NONE).op(op::APPEND).op(op::STOP);
        }));
        CHECK_FALSE(with([](PickleBuilder& b) {  // odd SETITEMS
            b.proto(2).op(op::EMPTY_DICT).op(op::MARK).op(op::NONE).op(op::SETITEMS).op(op::STOP);
        }));
        CHECK_FALSE(with([](PickleBuilder& b) { b.proto(2).op(op::TUPLE2).op(op::STOP); }));
        CHECK_FALSE(with([](PickleBuilder& b) { b.proto(2).op(op::TUPLE).op(op::STOP); }));
        CHECK_FALSE(
            with([](PickleBuilder& b) { b.proto(2).op(op::POP).op(op::NONE).op(op::STOP); }));
        CHECK_FALSE(with([](PickleBuilder& b) { b.proto(2).op(op::STOP); }));
    }
    SECTION("PROTO anywhere but first, or newer than 5") {
        CHECK_FALSE(with([](PickleBuilder& b) { b.op(op::NONE).proto(2).op(op::STOP); }));
        CHECK_FALSE(with([](PickleBuilder& b) { b.proto(6).op(op::NONE).op(op::STOP); }));
    }
    SECTION("negative lengths") {
        CHECK_FALSE(with(
            [](PickleBuilder& b) { b.proto(2).op(op::LONG4).le(0xffffffff, 4).op(op::STOP); }));
        CHECK_FALSE(with(
            [](PickleBuilder& b) { b.proto(2).op(op::BINSTRING).le(0x80000000, 4).op(op::STOP); }));
    }
}

TEST_CASE("the fast path never changes what a scan reports") {
    // Every sample and fuzz corpus entry, whole and cut at a few places, scanned both ways.
    const std::filesystem::path root = MSCAN_SOURCE_DIR;
    std::size_t files = 0, skimmed = 0;
    for (const auto* dir : {"samples/pickle", "fuzz/corpus/fuzz_pickle"}) {
        for (const auto& e : std::filesystem::recursive_directory_iterator(root / dir)) {
            if (!e.is_regular_file()) continue;
            const auto whole = read_file(e.path());
            ++files;
            if (skim(whole)) ++skimmed;
            for (const std::size_t cut : {whole.size(), whole.size() / 2, whole.size() - 1}) {
                if (cut > whole.size()) continue;
                const std::vector<std::uint8_t> bytes(whole.begin(),
                                                      whole.begin() + static_cast<long>(cut));
                const Scan fast = scan(bytes, true);
                const Scan slow = scan(bytes, false);
                INFO(e.path().string() << " cut at " << cut);
                REQUIRE(fast.ops.size() == slow.ops.size());
                for (std::size_t i = 0; i < fast.ops.size(); ++i) {
                    INFO("operation " << i << ": " << slow.ops[i].name << " "
                                      << slow.ops[i].evidence);
                    CHECK(same(fast.ops[i], slow.ops[i]));
                }
                CHECK(fast.summary.streams == slow.summary.streams);
                CHECK(fast.summary.end_offset == slow.summary.end_offset);
                CHECK(fast.summary.clean == slow.summary.clean);
            }
        }
    }
    // The comparison means something only if the fast path was taken for some of them.
    CHECK(files > 100);
    CHECK(skimmed >= 10);
}
