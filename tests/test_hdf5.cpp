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
        case Attribute::Kind::String: return "string";
        case Attribute::Kind::Integer: return "integer";
        case Attribute::Kind::Float: return "float";
        case Attribute::Kind::Other: return "other";
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
        s += p.what + " @" + std::to_string(p.offset) + "\n";
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
    CHECK(*mscan::hdf5::find_superblock(*std::make_unique<mscan::MemorySource>(
              load(kData / "userblock512.h5"))) == 512);
    CHECK(*mscan::hdf5::find_superblock(*std::make_unique<mscan::MemorySource>(
              load(kData / "userblock4096.h5"))) == 4096);
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
    CHECK(!at(256, 4096).has_value());   // not a place the library looks
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
    const Bytes f = v1_file(cat({int_attribute("before", 1), int_attribute("shared", 2, 0x01),
                                 int_attribute("after", 3)}));
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
