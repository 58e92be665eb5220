// The HDF5 reader against files h5py wrote (tests/data/hdf5, made by make_hdf5_refs.py, with
// what h5py itself reads from them in expected.json), against corrupted copies of them, and
// against small files built here to hit the caps: every benign file decodes to exactly h5py's
// attributes with no problem; every corrupted one gives a problem and keeps the attributes
// before the damage, with their true values; nothing crashes or runs long.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "formats/hdf5/hdf5_reader.h"
#include "mscan/limits.h"
#include "mscan/source.h"

namespace {

namespace fs = std::filesystem;
using mscan::hdf5::Attribute;
using mscan::hdf5::RootAttributes;
using Bytes = std::vector<std::uint8_t>;
using json = nlohmann::json;

const fs::path kData = fs::path(MSCAN_SOURCE_DIR) / "tests" / "data" / "hdf5";

Bytes load(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    REQUIRE(in);
    return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

const json& expected() {
    static const json j = [] {
        std::ifstream in(kData / "expected.json");
        return json::parse(in);
    }();
    return j;
}

RootAttributes read_bytes(Bytes bytes) {
    mscan::MemorySource source(std::move(bytes));
    const auto sb = mscan::hdf5::find_superblock(source);
    if (!sb) return RootAttributes{};
    return mscan::hdf5::read_root_attributes(source, *sb);
}

const char* kind_name(Attribute::Kind k) {
    switch (k) {
        case Attribute::Kind::String:
            return "string";
        case Attribute::Kind::Integer:
            return "integer";
        case Attribute::Kind::Float:
            return "float";
        case Attribute::Kind::Other:
            return "other";
    }
    return "?";
}

/// Compares one decoded attribute with what h5py read; returns a description of the first
/// difference, empty if none.
std::string differs(const Attribute& a, const json& want) {
    if (want["kind"] != kind_name(a.kind))
        return "kind " + std::string(kind_name(a.kind)) + ", h5py " + want["kind"].dump();
    const json& values = want["values"];
    std::size_t n = 0;
    switch (a.kind) {
        case Attribute::Kind::String:
            n = a.strings.size();
            for (std::size_t i = 0; i < n && i < values.size(); ++i)
                if (a.strings[i] != values[i].get<std::string>())
                    return "string " + std::to_string(i) + " '" + a.strings[i].substr(0, 80) +
                           "', h5py " + values[i].dump().substr(0, 80);
            break;
        case Attribute::Kind::Integer:
            n = a.integers.size();
            for (std::size_t i = 0; i < n && i < values.size(); ++i)
                if (a.integers[i] != values[i].get<std::int64_t>())
                    return "integer " + std::to_string(i) + " " + std::to_string(a.integers[i]) +
                           ", h5py " + values[i].dump();
            break;
        case Attribute::Kind::Float:
            n = a.floats.size();
            for (std::size_t i = 0; i < n && i < values.size(); ++i)
                if (a.floats[i] != values[i].get<double>())
                    return "float " + std::to_string(i) + " " + std::to_string(a.floats[i]) +
                           ", h5py " + values[i].dump();
            break;
        case Attribute::Kind::Other:
            break;
    }
    if (n != values.size())
        return std::to_string(n) + " values, h5py " + std::to_string(values.size());
    if (a.strings.size() + a.integers.size() + a.floats.size() != n)
        return "values of more than one kind";
    return "";
}

std::string problems_of(const RootAttributes& r) {
    std::string s;
    for (const auto& p : r.problems)
        s += p.evidence + " @" + std::to_string(p.offset) + "\n";
    return s;
}

const Attribute* find(const RootAttributes& r, const std::string& name) {
    for (const auto& a : r.attributes)
        if (a.name == name) return &a;
    return nullptr;
}

// --- a minimal HDF5 file builder: superblock 0, 8-byte offsets, version 1 root header ---

void le(Bytes& b, std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i)
        b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

void put_le(Bytes& b, std::size_t at, std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i)
        b[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (8 * i));
}

Bytes cat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const auto& p : parts)
        out.insert(out.end(), p.begin(), p.end());
    return out;
}

/// Same attributes, in the same order, with the same values and types.
bool same(const RootAttributes& a, const RootAttributes& b) {
    if (a.attributes.size() != b.attributes.size()) return false;
    for (std::size_t i = 0; i < a.attributes.size(); ++i) {
        const Attribute& x = a.attributes[i];
        const Attribute& y = b.attributes[i];
        if (x.name != y.name || x.kind != y.kind || x.type != y.type || x.offset != y.offset ||
            x.strings != y.strings || x.integers != y.integers || x.floats != y.floats)
            return false;
    }
    return true;
}

/// A version 1 header message: type, size (padded to 8), flags, data.
Bytes v1_message(int type, Bytes data, int flags = 0) {
    while (data.size() % 8)
        data.push_back(0);
    Bytes m;
    le(m, static_cast<std::uint64_t>(type), 2);
    le(m, data.size(), 2);
    m.push_back(static_cast<std::uint8_t>(flags));
    m.insert(m.end(), 3, 0);
    m.insert(m.end(), data.begin(), data.end());
    return m;
}

Bytes continuation(std::uint64_t addr, std::uint64_t len) {
    Bytes d;
    le(d, addr, 8);
    le(d, len, 8);
    return v1_message(0x10, d);
}

/// An int64 scalar attribute, message version 2 (no padding) or with a shared datatype.
Bytes int_attribute(const std::string& name, std::int64_t value, int flags = 0) {
    Bytes dt = {0x10, 0x08, 0x00, 0x00};  // fixed-point v1, little-endian, signed
    le(dt, 8, 4);
    le(dt, 0, 2), le(dt, 64, 2);
    const Bytes ds = {2, 0, 0, 0};  // dataspace v2, scalar
    Bytes a = {2, static_cast<std::uint8_t>(flags)};
    le(a, name.size() + 1, 2), le(a, dt.size(), 2), le(a, ds.size(), 2);
    a.insert(a.end(), name.begin(), name.end());
    a.push_back(0);
    a.insert(a.end(), dt.begin(), dt.end());
    a.insert(a.end(), ds.begin(), ds.end());
    le(a, static_cast<std::uint64_t>(value), 8);
    return v1_message(0x0C, a);
}

/// A scalar-or-array vlen string attribute whose elements name (collection, index) pairs.
Bytes vlen_attribute(const std::string& name,
                     const std::vector<std::pair<std::uint64_t, std::uint32_t>>& refs,
                     std::uint32_t len) {
    Bytes dt = {0x19, 0x01, 0x00, 0x00};  // vlen v1, string
    le(dt, 16, 4);
    dt.insert(dt.end(), {0x13, 0x00, 0x00, 0x00});  // base: 1-byte string
    le(dt, 1, 4);
    Bytes ds = {2, 1, 0, 1};  // dataspace v2, rank 1, simple
    le(ds, refs.size(), 8);
    Bytes a = {2, 0};
    le(a, name.size() + 1, 2), le(a, dt.size(), 2), le(a, ds.size(), 2);
    a.insert(a.end(), name.begin(), name.end());
    a.push_back(0);
    a.insert(a.end(), dt.begin(), dt.end());
    a.insert(a.end(), ds.begin(), ds.end());
    for (const auto& [collection, index] : refs) {
        le(a, len, 4);
        le(a, collection, 8);
        le(a, index, 4);
    }
    return v1_message(0x0C, a);
}

/// A global heap collection holding `objects` (indices 1, 2, ...).
Bytes collection(const std::vector<std::string>& objects) {
    Bytes body;
    for (std::size_t i = 0; i < objects.size(); ++i) {
        le(body, i + 1, 2), le(body, 1, 2), le(body, 0, 4), le(body, objects[i].size(), 8);
        body.insert(body.end(), objects[i].begin(), objects[i].end());
        while (body.size() % 8)
            body.push_back(0);
    }
    Bytes c = {'G', 'C', 'O', 'L', 1, 0, 0, 0};
    le(c, 16 + body.size(), 8);
    c.insert(c.end(), body.begin(), body.end());
    return c;
}

/// lookup3's hashlittle() with initval 0, as HDF5 checksums metadata (a second, plain
/// implementation for building files here).
std::uint32_t lookup3(const Bytes& k, std::size_t n) {
    auto rot = [](std::uint32_t x, int r) { return x << r | x >> (32 - r); };
    std::uint32_t a = 0xdeadbeef + static_cast<std::uint32_t>(n), b = a, c = a;
    auto word = [&](std::size_t i) {
        std::uint32_t w = 0;
        for (std::size_t j = 0; j < 4; ++j)
            w |= static_cast<std::uint32_t>(i + j < n ? k[i + j] : 0) << (8 * j);
        return w;
    };
    std::size_t i = 0;
    for (; n - i > 12; i += 12) {
        a += word(i), b += word(i + 4), c += word(i + 8);
        a -= c, a ^= rot(c, 4), c += b, b -= a, b ^= rot(a, 6), a += c;
        c -= b, c ^= rot(b, 8), b += a, a -= c, a ^= rot(c, 16), c += b;
        b -= a, b ^= rot(a, 19), a += c, c -= b, c ^= rot(b, 4), b += a;
    }
    if (n == i) return c;
    a += word(i), b += word(i + 4), c += word(i + 8);
    c ^= b, c -= rot(b, 14), a ^= c, a -= rot(c, 11), b ^= a, b -= rot(a, 25);
    c ^= b, c -= rot(b, 16), a ^= c, a -= rot(c, 4), b ^= a, b -= rot(a, 14);
    c ^= b, c -= rot(b, 24);
    return c;
}

/// Appends lookup3 of everything from `from` on.
void checksum_from(Bytes& b, std::size_t from) {
    const Bytes part(b.begin() + static_cast<std::ptrdiff_t>(from), b.end());
    le(b, lookup3(part, part.size()), 4);
}

/// Superblock 0 and a root object header whose first chunk holds `chunk0` (messages).
Bytes v1_file(const Bytes& chunk0) {
    Bytes f(96, 0);
    const char sig[] = "\x89HDF\r\n\x1a\n";
    std::copy(sig, sig + 8, f.begin());
    f[13] = 8, f[14] = 8;
    put_le(f, 16, 4, 2), put_le(f, 18, 16, 2);
    put_le(f, 32, ~0ull, 8), put_le(f, 48, ~0ull, 8);
    put_le(f, 64, 96, 8);  // root object header address
    le(f, 1, 1), le(f, 0, 1), le(f, 1, 2), le(f, 1, 4), le(f, chunk0.size(), 4), le(f, 0, 4);
    f.insert(f.end(), chunk0.begin(), chunk0.end());
    put_le(f, 40, f.size(), 8);
    return f;
}

}  // namespace

TEST_CASE("every benign h5py file decodes to exactly the attributes h5py reads") {
    for (const auto& [name, want] : expected()["benign"].items()) {
        INFO(name);
        const Bytes bytes = load(kData / name);
        mscan::MemorySource source(bytes);
        const auto sb = mscan::hdf5::find_superblock(source);
        REQUIRE(sb.has_value());
        CHECK(*sb == want["superblock_offset"].get<std::uint64_t>());
        const RootAttributes r = mscan::hdf5::read_root_attributes(source, *sb);
        INFO(problems_of(r));
        CHECK(r.problems.empty());
        CHECK(r.superblock_version == want["superblock_version"].get<int>());
        CHECK(r.superblock_offset == *sb);
        std::map<std::string, const Attribute*> got;
        for (const auto& a : r.attributes) {
            CHECK(got.emplace(a.name, &a).second);  // no name twice
            CHECK(!a.type.empty());
            CHECK(a.offset > *sb);
            CHECK(a.offset < bytes.size());
        }
        CHECK(got.size() == want["attributes"].size());
        for (const auto& [attr, value] : want["attributes"].items()) {
            INFO("attribute " << attr);
            const auto it = got.find(attr);
            REQUIRE(it != got.end());
            CHECK(differs(*it->second, value).empty());
            INFO(differs(*it->second, value));
        }
    }
}

TEST_CASE("datatype descriptions say what was stored") {
    const RootAttributes r = read_bytes(load(kData / "default.h5"));
    auto type = [&](const std::string& name) {
        const Attribute* a = find(r, name);
        REQUIRE(a != nullptr);
        return a->type;
    };
    CHECK(type("model_config").rfind("fixed string[", 0) == 0);
    CHECK(type("keras_version") == "vlen string");
    CHECK(type("backend") == "vlen utf-8 string");
    CHECK(type("int_scalar") == "int64");
    CHECK(type("uint8_array") == "uint8[3]");
    CHECK(type("int16_be") == "int16 (big-endian)[3]");
    CHECK(type("int_matrix") == "int64[2,3]");
    CHECK(type("float16") == "float16[2]");
    CHECK(type("string_array") == "fixed string[5][3]");
    CHECK(type("empty_float") == "float64 (null dataspace)");
    CHECK(type("flag").rfind("enum", 0) == 0);
    CHECK(type("pair").rfind("compound", 0) == 0);
    CHECK(type("vlen_bytes") == "vlen sequence of uint8[1]");

    const RootAttributes huge = read_bytes(load(kData / "dense_huge.h5"));
    const Attribute* config = find(huge, "model_config");
    REQUIRE(config != nullptr);
    REQUIRE(config->strings.size() == 1);
    CHECK(config->strings[0].size() > 65536);
    CHECK(config->strings[0].substr(config->strings[0].size() - 5) == "[end]");
}

TEST_CASE("corrupted files give a problem and keep the attributes before the damage") {
    const json& benign = expected()["benign"];
    for (const auto& [name, want] : expected()["corrupt"].items()) {
        INFO(name);
        const RootAttributes r = read_bytes(load(kData / name));
        INFO(problems_of(r));
        REQUIRE(!r.problems.empty());
        const std::string problem = want["problem"];
        CHECK(problems_of(r).find(problem) != std::string::npos);
        const json& source = benign[want["source"].get<std::string>()]["attributes"];
        // Every attribute read is one of the source's, with its true value.
        for (const auto& a : r.attributes) {
            INFO("attribute " << a.name);
            REQUIRE(source.contains(a.name));
            CHECK(differs(a, source[a.name]).empty());
        }
        // And those before the damage are all there.
        for (const auto& kept : want["kept"]) {
            INFO("kept attribute " << kept);
            CHECK(find(r, kept.get<std::string>()) != nullptr);
        }
    }
}

TEST_CASE("find_superblock looks at 0, 512, 1024, ... only") {
    CHECK(*mscan::hdf5::find_superblock(
              *std::make_unique<mscan::MemorySource>(load(kData / "userblock512.h5"))) == 512);
    CHECK(*mscan::hdf5::find_superblock(
              *std::make_unique<mscan::MemorySource>(load(kData / "userblock4096.h5"))) == 4096);
    CHECK(*mscan::hdf5::find_superblock(
              *std::make_unique<mscan::MemorySource>(load(kData / "default.h5"))) == 0);

    const std::string sig(mscan::hdf5::kSignature, 8);
    auto at = [&](std::size_t off, std::size_t size) {
        Bytes b(size, 0);
        std::copy(sig.begin(), sig.end(), b.begin() + static_cast<std::ptrdiff_t>(off));
        mscan::MemorySource s(std::move(b));
        return mscan::hdf5::find_superblock(s);
    };
    CHECK(at(2048, 4096) == 2048u);
    CHECK(at(8192, 8200) == 8192u);
    CHECK(!at(256, 4096).has_value());  // not a place the library looks
    CHECK(!at(1000, 4096).has_value());
    mscan::MemorySource empty(Bytes{});
    CHECK(!mscan::hdf5::find_superblock(empty).has_value());
    mscan::MemorySource short_sig(Bytes(sig.begin(), sig.begin() + 7));
    CHECK(!mscan::hdf5::find_superblock(short_sig).has_value());
    mscan::MemorySource zeros(Bytes(1 << 16, 0));
    CHECK(!mscan::hdf5::find_superblock(zeros).has_value());
}

TEST_CASE("a superblock offset without the signature is a problem, not a guess") {
    mscan::MemorySource s(load(kData / "userblock512.h5"));
    const RootAttributes r = mscan::hdf5::read_root_attributes(s, 0);
    CHECK(r.superblock_version == -1);
    CHECK(r.attributes.empty());
    REQUIRE(!r.problems.empty());
    CHECK(r.problems[0].offset == 0);

    mscan::MemorySource past(Bytes(100, 0));
    CHECK(!mscan::hdf5::read_root_attributes(past, 4096).problems.empty());
}

TEST_CASE("the built files read as expected before being made hostile") {
    const Bytes f = v1_file(cat({int_attribute("one", 1), int_attribute("two", -2)}));
    const RootAttributes r = read_bytes(f);
    INFO(problems_of(r));
    CHECK(r.problems.empty());
    REQUIRE(r.attributes.size() == 2);
    CHECK(r.attributes[1].name == "two");
    CHECK(r.attributes[1].integers == std::vector<std::int64_t>{-2});
}

TEST_CASE("a shared datatype is a problem for that attribute only") {
    const Bytes f = v1_file(cat(
        {int_attribute("before", 1), int_attribute("shared", 2, 0x01), int_attribute("after", 3)}));
    const RootAttributes r = read_bytes(f);
    CHECK(problems_of(r).find("'shared': shared datatype not read") != std::string::npos);
    REQUIRE(r.attributes.size() == 2);
    CHECK(r.attributes[0].name == "before");
    CHECK(r.attributes[1].name == "after");
}

TEST_CASE("caps on continuation blocks and messages") {
    SECTION("a chain of continuation blocks longer than the limit") {
        // chunk 0: one continuation to block 1; block i: one continuation to block i + 1.
        const std::size_t blocks = mscan::limits::kHdf5MaxContinuations + 50;
        const std::uint64_t first = 96 + 16 + 24;
        Bytes f = v1_file(continuation(first, 24));
        for (std::size_t i = 0; i < blocks; ++i) {
            const Bytes m = continuation(first + 24 * (i + 1), 24);
            f.insert(f.end(), m.begin(), m.end());
        }
        const Bytes last = int_attribute("unreached", 1);
        f.insert(f.end(), last.begin(), last.end());
        const auto t0 = std::chrono::steady_clock::now();
        const RootAttributes r = read_bytes(f);
        CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(1));
        CHECK(problems_of(r).find("continuation blocks (limit)") != std::string::npos);
        CHECK(r.attributes.empty());
    }
    SECTION("more messages than the limit") {
        Bytes chunk;
        const Bytes attr = int_attribute("early", 7);
        chunk.insert(chunk.end(), attr.begin(), attr.end());
        const Bytes null_message = v1_message(0, {});
        for (std::uint64_t i = 0; i < mscan::limits::kHdf5MaxMessages + 10; ++i)
            chunk.insert(chunk.end(), null_message.begin(), null_message.end());
        const RootAttributes r = read_bytes(v1_file(chunk));
        CHECK(problems_of(r).find("object header messages (limit)") != std::string::npos);
        REQUIRE(r.attributes.size() == 1);
        CHECK(r.attributes[0].integers == std::vector<std::int64_t>{7});
    }
}

TEST_CASE("truncated and bit-flipped copies of the reference files never crash") {
    for (const char* name : {"default.h5", "latest.h5", "dense.h5", "track_order_dense.h5"}) {
        INFO(name);
        const Bytes full = load(kData / name);
        const auto t0 = std::chrono::steady_clock::now();
        const RootAttributes whole = read_bytes(full);
        REQUIRE(whole.problems.empty());
        // Every cut, in steps of 97 bytes, through memory and through a source whose declared
        // size is the full file but whose bytes stop (a member cut short): either the cut
        // missed everything the reader needs, or it says what it could not read.
        for (std::size_t cut = 0; cut < full.size(); cut += 97) {
            const Bytes head(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(cut));
            mscan::MemorySource memory(head);
            const RootAttributes r = mscan::hdf5::read_root_attributes(memory, 0);
            CHECK((same(r, whole) || !r.problems.empty()));
            mscan::PrefixSource prefix(head, full.size());
            const RootAttributes p = mscan::hdf5::read_root_attributes(prefix, 0);
            CHECK((same(p, whole) || !p.problems.empty()));
        }
        // Every byte flipped in turn, in steps of 7.
        for (std::size_t i = 0; i < full.size(); i += 7) {
            Bytes b = full;
            b[i] ^= 0xff;
            (void)read_bytes(std::move(b));
        }
        CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20));
    }
}

TEST_CASE("vlen strings come from the global heap, each object once") {
    // The collection goes right after the header chunk; its address is known once the
    // chunk's size is (the references have a fixed size).
    const std::uint64_t chunk_size = vlen_attribute("v", {{0, 1}, {0, 2}}, 5).size();
    const std::uint64_t gcol = 96 + 16 + chunk_size;
    const Bytes heap = collection({"hello", "world"});
    {
        const Bytes f = cat({v1_file(vlen_attribute("v", {{gcol, 1}, {gcol, 2}}, 5)), heap});
        const RootAttributes r = read_bytes(f);
        INFO(problems_of(r));
        CHECK(r.problems.empty());
        REQUIRE(r.attributes.size() == 1);
        CHECK(r.attributes[0].strings == std::vector<std::string>{"hello", "world"});
    }
    {
        // Both elements name object 1: a few bytes that would decode many times.
        const Bytes f = cat({v1_file(vlen_attribute("v", {{gcol, 1}, {gcol, 1}}, 5)), heap});
        const RootAttributes r = read_bytes(f);
        CHECK(problems_of(r).find("referenced twice") != std::string::npos);
        CHECK(r.attributes.empty());
    }
    {
        // An object shorter than the element says, and an index the collection lacks.
        const Bytes f1 = cat({v1_file(vlen_attribute("v", {{gcol, 1}, {gcol, 2}}, 6)), heap});
        CHECK(problems_of(read_bytes(f1)).find("shorter than its vlen length") !=
              std::string::npos);
        const Bytes f2 = cat({v1_file(vlen_attribute("v", {{gcol, 1}, {gcol, 9}}, 5)), heap});
        CHECK(problems_of(read_bytes(f2)).find("not in collection") != std::string::npos);
    }
}

TEST_CASE("continuation blocks may not overlap") {
    // chunk 0 -> block A (two continuation messages) -> block B, which starts inside A.
    const std::uint64_t a = 96 + 16 + 24;
    const Bytes block_a = cat({continuation(a + 24, 24), int_attribute("in_a", 1)});
    const Bytes f = cat({v1_file(continuation(a, block_a.size())), block_a});
    const RootAttributes r = read_bytes(f);
    CHECK(problems_of(r).find("overlaps another chunk") != std::string::npos);
    REQUIRE(r.attributes.size() == 1);
    CHECK(r.attributes[0].name == "in_a");
}

TEST_CASE("dense storage through a fractal heap with a child indirect block") {
    // A heap of width 1 with 256-byte blocks and 256-byte direct blocks at most: the root
    // indirect block has rows 0 and 1 direct and row 2 a child indirect block (512 bytes of
    // heap, two direct rows). One attribute in each of the four direct blocks, found through
    // a name-index B-tree leaf. Everything is placed after a version 1 root header whose
    // chunk holds an attribute info message.
    const std::uint64_t heap = 4096, btree = 4608, leaf = 4864, root_ib = 5376, child_ib = 5632;
    const std::uint64_t dblocks[4] = {6144, 6400, 6656, 6912};  // heap offsets 0, 256, 512, 768
    Bytes ainfo = {0, 0};
    le(ainfo, heap, 8), le(ainfo, btree, 8);
    Bytes f = v1_file(v1_message(0x15, ainfo));
    f.resize(7168, 0);
    put_le(f, 40, f.size(), 8);

    Bytes h = {'F', 'R', 'H', 'P', 0};
    le(h, 8, 2), le(h, 0, 2), le(h, 0, 1), le(h, 256, 4);  // ID length, filters, flags, max
    le(h, 0, 8), le(h, ~0ull, 8), le(h, 0, 8), le(h, ~0ull, 8);
    for (int i = 0; i < 8; ++i)
        le(h, 0, 8);
    le(h, 1, 2), le(h, 256, 8), le(h, 256, 8), le(h, 16, 2), le(h, 1, 2);  // doubling table
    le(h, root_ib, 8), le(h, 3, 2);
    checksum_from(h, 0);
    std::copy(h.begin(), h.end(), f.begin() + heap);

    auto iblock = [&](std::uint64_t at, std::uint64_t heap_off, std::vector<std::uint64_t> kids) {
        Bytes b = {'F', 'H', 'I', 'B', 0};
        le(b, heap, 8), le(b, heap_off, 2);
        for (auto k : kids)
            le(b, k, 8);
        checksum_from(b, 0);
        std::copy(b.begin(), b.end(), f.begin() + static_cast<std::ptrdiff_t>(at));
    };
    iblock(root_ib, 0, {dblocks[0], dblocks[1], child_ib});
    iblock(child_ib, 512, {dblocks[2], dblocks[3]});

    Bytes records;
    for (int i = 0; i < 4; ++i) {
        Bytes d = {'F', 'H', 'D', 'B', 0};
        le(d, heap, 8), le(d, 256u * static_cast<unsigned>(i), 2);
        Bytes msg = int_attribute("attr" + std::to_string(i), 100 + i);
        msg.erase(msg.begin(), msg.begin() + 8);  // the attribute itself, no message header
        const std::uint64_t in_block = 15 + 16 * static_cast<unsigned>(i);
        d.resize(static_cast<std::size_t>(in_block), 0);
        d.insert(d.end(), msg.begin(), msg.end());
        std::copy(d.begin(), d.end(), f.begin() + static_cast<std::ptrdiff_t>(dblocks[i]));
        // Heap ID: managed, 2-byte offset, 1-byte length, padded to 8.
        records.push_back(0);
        le(records, 256u * static_cast<unsigned>(i) + in_block, 2);
        le(records, msg.size(), 1);
        le(records, 0, 4);
        le(records, 0, 1), le(records, static_cast<std::uint64_t>(i), 4), le(records, 0, 4);
    }
    Bytes l = {'B', 'T', 'L', 'F', 0, 8};
    l.insert(l.end(), records.begin(), records.end());
    checksum_from(l, 0);
    std::copy(l.begin(), l.end(), f.begin() + leaf);

    Bytes t = {'B', 'T', 'H', 'D', 0, 8};
    le(t, 512, 4), le(t, 17, 2), le(t, 0, 2), le(t, 100, 1), le(t, 40, 1);
    le(t, leaf, 8), le(t, 4, 2), le(t, 4, 8);
    checksum_from(t, 0);
    std::copy(t.begin(), t.end(), f.begin() + btree);

    const RootAttributes r = read_bytes(f);
    INFO(problems_of(r));
    CHECK(r.problems.empty());
    REQUIRE(r.attributes.size() == 4);
    for (int i = 0; i < 4; ++i) {
        CHECK(r.attributes[static_cast<std::size_t>(i)].name == "attr" + std::to_string(i));
        CHECK(r.attributes[static_cast<std::size_t>(i)].integers ==
              std::vector<std::int64_t>{100 + i});
    }

    SECTION("a B-tree record naming an object twice") {
        Bytes twice = f;
        std::copy(twice.begin() + leaf + 6, twice.begin() + leaf + 6 + 8,
                  twice.begin() + leaf + 6 + 17);  // record 1 gets record 0's heap ID
        Bytes part(twice.begin() + leaf, twice.begin() + leaf + 6 + 4 * 17);
        put_le(twice, leaf + 6 + 4 * 17, lookup3(part, part.size()), 4);
        const RootAttributes d = read_bytes(twice);
        CHECK(problems_of(d).find("referenced twice") != std::string::npos);
        CHECK(d.attributes.size() == 3);
    }
    SECTION("a child indirect block that is not one") {
        Bytes broken = f;
        broken[child_ib] = 'X';
        const RootAttributes d = read_bytes(broken);
        CHECK(problems_of(d).find("FHIB signature") != std::string::npos);
        CHECK(d.attributes.size() == 2);  // those in the root's own direct blocks
    }
    SECTION("a checksum mismatch is reported and reading goes on") {
        Bytes broken = f;
        broken[heap + 30] ^= 1;  // the free space field: only the checksum notices
        const RootAttributes d = read_bytes(broken);
        CHECK(problems_of(d).find("fractal heap header checksum mismatch") != std::string::npos);
        CHECK(d.attributes.size() == 4);
    }
}
