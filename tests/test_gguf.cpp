// GGUF: files built here byte by byte (v1-v3, big-endian), each loader check as its own
// anomaly, counts and lengths the file cannot back rejected by arithmetic (fast, no memory),
// truncation at every byte, templates in metadata, the anomaly cap, and a sparse 4 GiB file
// read from its header alone.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "formats/context.h"
#include "formats/gguf/gguf_format.h"
#include "formats/registry.h"
#include "mscan/rules.h"
#include "mscan/scan.h"

namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

enum Type : std::uint32_t {
    U8 = 0,
    U32 = 4,
    I32 = 5,
    F32 = 6,
    BOOL = 7,
    STR = 8,
    ARR = 9,
    U64 = 10,
};

/// Writes GGUF bytes in a given version and byte order.
struct Writer {
    std::uint32_t version = 3;
    bool big = false;
    Bytes out;

    void raw(std::uint64_t v, int n) {
        for (int i = 0; i < n; ++i) {
            const int shift = big ? 8 * (n - 1 - i) : 8 * i;
            out.push_back(static_cast<std::uint8_t>(v >> shift));
        }
    }
    void u32(std::uint64_t v) { raw(v, 4); }
    void u64(std::uint64_t v) { raw(v, 8); }
    void len(std::uint64_t v) { version == 1 ? u32(v) : u64(v); }
    void str(const std::string& s) {
        len(s.size());
        out.insert(out.end(), s.begin(), s.end());
    }
    void header(std::uint64_t tensors, std::uint64_t kvs) {
        out.insert(out.end(), {'G', 'G', 'U', 'F'});
        u32(version);
        len(tensors);
        len(kvs);
    }
    void kv_str(const std::string& k, const std::string& v) {
        str(k);
        u32(STR);
        str(v);
    }
    void kv_u32(const std::string& k, std::uint32_t v) {
        str(k);
        u32(U32);
        u32(v);
    }
    void kv_strs(const std::string& k, const std::vector<std::string>& v) {
        str(k);
        u32(ARR);
        u32(STR);
        len(v.size());
        for (const auto& s : v)
            str(s);
    }
    void kv_i32s(const std::string& k, std::size_t n) {
        str(k);
        u32(ARR);
        u32(I32);
        len(n);
        for (std::size_t i = 0; i < n; ++i)
            u32(i);
    }
    void tensor(const std::string& name, const std::vector<std::uint64_t>& dims, std::uint32_t type,
                std::uint64_t offset) {
        str(name);
        u32(dims.size());
        for (auto d : dims)
            len(d);
        u32(type);
        u64(offset);
    }
    void pad(std::size_t a = 32) {
        while (out.size() % a)
            out.push_back(0);
    }
    void data(std::size_t n) { out.resize(out.size() + n, 0x11); }
};

/// A small valid model: 2 tensors (F32 [8,4] = 128 bytes, Q4_0 [64] = 36 bytes).
Bytes model(std::uint32_t version = 3, bool big = false, const std::string& tmpl = "") {
    Writer w;
    w.version = version;
    w.big = big;
    w.header(2, tmpl.empty() ? 3 : 4);
    w.kv_str("general.architecture", "llama");
    w.kv_u32("general.alignment", 32);
    w.kv_strs("tokenizer.ggml.tokens", {"<s>", "</s>", "hello", "{{ x.__class__ }}"});
    if (!tmpl.empty()) w.kv_str("tokenizer.chat_template", tmpl);
    w.tensor("token_embd.weight", {8, 4}, 0, 0);
    w.tensor("blk.0.attn_q.weight", {64}, 2, 128);
    w.pad();
    w.data(128 + 36);
    return w.out;
}

struct Anomaly {
    std::string code;
    std::string evidence;
    std::int64_t offset;
};

std::vector<Anomaly> parse(mscan::Source& source, mscan::gguf::Header* header = nullptr) {
    std::vector<Anomaly> out;
    const mscan::OperationSink sink = [&out](mscan::Operation&& op) {
        out.push_back({op.name, op.evidence, op.location.offset});
    };
    mscan::ScanBudget budget;
    mscan::Location base;
    base.chain.push_back("test.gguf");
    const mscan::ParseContext context(sink, base, budget);
    if (header) {
        *header = mscan::gguf::read(source, context);
    } else {
        mscan::gguf::parse(source, context);
    }
    return out;
}

std::vector<Anomaly> parse(const Bytes& bytes, mscan::gguf::Header* header = nullptr) {
    mscan::MemorySource source(bytes);
    return parse(source, header);
}

std::vector<Anomaly> problems(const std::vector<Anomaly>& all) {
    std::vector<Anomaly> out;
    for (const auto& a : all)
        if (a.code != "gguf.summary") out.push_back(a);
    return out;
}

std::string listing(const std::vector<Anomaly>& all) {
    std::string s;
    for (const auto& a : all)
        s += "\n  " + a.code + " @" + std::to_string(a.offset) + ": " + a.evidence;
    return s;
}

bool has(const std::vector<Anomaly>& all, const std::string& code, const std::string& text) {
    for (const auto& a : all)
        if (a.code == code && a.evidence.find(text) != std::string::npos) return true;
    return false;
}

constexpr const char* M = "gguf.malformed";
constexpr const char* O = "gguf.oversized";
constexpr const char* N = "gguf.nonstandard";

}  // namespace

TEST_CASE("gguf: valid files of each version read completely") {
    for (std::uint32_t v : {1u, 2u, 3u}) {
        for (bool big : {false, true}) {
            if (big && v == 1) continue;
            INFO("version " << v << (big ? " big-endian" : ""));
            const Bytes bytes = model(v, big);
            mscan::MemorySource source(bytes);
            CHECK(mscan::gguf::detect(source, ""));
            mscan::gguf::Header h;
            const auto all = parse(bytes, &h);
            INFO(listing(all));
            CHECK(h.complete);
            CHECK(h.version == v);
            CHECK(h.big_endian == big);
            CHECK(h.architecture == "llama");
            REQUIRE(h.tensors.size() == 2);
            CHECK(h.tensors[0].nbytes == 128);
            CHECK(h.tensors[1].nbytes == 36);
            CHECK(h.tensors[1].offset == 128);
            CHECK(h.keys.size() == 3);
            // token strings are array elements, never checked as templates
            CHECK(h.templates.empty());
            const auto got = problems(all);
            if (v == 1 || big) {
                REQUIRE(got.size() == 1);
                CHECK(got[0].code == N);
            } else {
                CHECK(got.empty());
            }
        }
    }
    const auto all = parse(model());
    REQUIRE(all.size() == 1);
    CHECK(all[0].code == "gguf.summary");
    CHECK(all[0].evidence ==
          "GGUF v3, architecture 'llama', 2 tensors (F32 x 1, Q4_0 x 1), 164 bytes of tensor "
          "data in a " +
              std::to_string(model().size()) + "-byte file, 3 metadata keys, no template");
}

TEST_CASE("gguf: declared counts and lengths the file cannot back are rejected by arithmetic") {
    const auto start = std::chrono::steady_clock::now();
    {
        Writer w;
        w.header(0, 1);
        w.str("general.name");
        w.u32(STR);
        w.u64(std::uint64_t{1} << 40);  // string longer than the file
        w.str("x");
        const auto got = problems(parse(w.out));
        INFO(listing(got));
        CHECK(has(got, O, "declares a length of 1099511627776 bytes"));
    }
    {
        Writer w;
        w.header(0, 1);
        w.str("tokenizer.ggml.scores");
        w.u32(ARR);
        w.u32(U8);
        w.u64(std::uint64_t{1} << 62);  // 2^62 uint8: never iterated, never allocated
        w.data(64);
        const auto got = problems(parse(w.out));
        INFO(listing(got));
        REQUIRE(got.size() == 1);
        CHECK(has(got, O, "array of 4611686018427387904 uint8 values"));
    }
    {
        Writer w;
        w.header(0, 1);
        w.str("tokenizer.ggml.tokens");
        w.u32(ARR);
        w.u32(STR);
        w.u64(std::uint64_t{1} << 61);  // 2^61 strings: cannot be backed
        w.str("a");
        CHECK(has(problems(parse(w.out)), O, "array of 2305843009213693952 string values"));
    }
    {
        Writer w;
        w.header(std::uint64_t{1} << 60, std::uint64_t{1} << 59);
        w.kv_str("general.architecture", "llama");
        const auto got = problems(parse(w.out));
        INFO(listing(got));
        CHECK(has(got, O, "declares 576460752303423488 metadata key/value pairs"));
        CHECK(has(got, O, "declares 1152921504606846976 tensors"));
    }
    {
        Writer w;  // v1: 32-bit counts
        w.version = 1;
        w.header(0xFFFFFFFF, 1);
        w.kv_str("general.architecture", "llama");
        CHECK(has(problems(parse(w.out)), O, "declares 4294967295 tensors"));
    }
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
}

TEST_CASE("gguf: tensor info checks") {
    auto one = [](const std::vector<std::uint64_t>& dims, std::uint32_t type, std::uint64_t offset,
                  std::size_t data, std::uint32_t alignment = 32) {
        Writer w;
        w.header(1, 1);
        w.kv_u32("general.alignment", alignment);
        w.tensor("w", dims, type, offset);
        w.pad(alignment ? alignment : 1);
        w.data(data);
        return problems(parse(w.out));
    };
    CHECK(one({8}, 0, 0, 32).empty());
    CHECK(has(one({8}, 0, 8, 64), M, "offset 8 is not a multiple of the alignment 32"));
    CHECK(has(one({8}, 0, 0, 16), M, "data [0, 32) runs past the end of the 16 bytes"));
    CHECK(has(one({8}, 0, 64, 128), M, "has offset 64, but the tensors before it end at 0"));
    CHECK(has(one({8}, 77, 0, 32), M, "unknown ggml type 77"));
    CHECK(has(one({8}, 4, 0, 32), M, "unknown ggml type 4"));  // Q4_2, removed
    CHECK(has(one({8}, 31, 0, 32), M, "not a multiple of its block size 32"));
    CHECK(has(one({32}, 31, 0, 32), N, "Q4_0_4_4"));
    CHECK(has(one({33}, 2, 0, 32), M, "33 elements per row, not a multiple of its block size"));
    CHECK(has(one({std::uint64_t{1} << 62, 4}, 0, 0, 32), M, "overflows int64"));
    CHECK(has(one({std::uint64_t{1} << 63}, 0, 0, 32), M, "is negative as ggml reads it"));
    CHECK(has(one({8}, 0, 0, 32, 0), M, "general.alignment 0 is not a power of two"));
    CHECK(has(one({8}, 0, 0, 32, 48), M, "general.alignment 48 is not a power of two"));
    CHECK(one({8}, 0, 0, 64, 64).empty());
    {
        Writer w;
        w.header(1, 0);
        w.str("w");
        w.u32(200);  // n_dims 200
        for (int i = 0; i < 200; ++i)
            w.u64(1);
        w.u32(0);
        w.u64(0);
        CHECK(has(problems(parse(w.out)), M, "declares 200 dimensions (ggml allows at most 4"));
    }
    {
        Writer w;
        w.header(2, 2);
        w.kv_str("general.architecture", "a");
        w.kv_str("general.architecture", "b");
        w.tensor("w", {8}, 0, 0);
        w.tensor("w", {8}, 0, 32);
        w.pad();
        w.data(64);
        const auto got = problems(parse(w.out));
        INFO(listing(got));
        CHECK(has(got, M, "metadata key 'general.architecture' appears twice"));
        CHECK(has(got, M, "tensor name 'w' appears twice"));
    }
    {
        Writer w;
        w.header(1, 1);
        w.str("general.alignment");
        w.u32(STR);
        w.str("32");
        w.tensor(std::string(70, 'n'), {8}, 0, 0);
        w.pad();
        w.data(32);
        const auto got = problems(parse(w.out));
        INFO(listing(got));
        CHECK(has(got, M, "general.alignment is a string, not a uint32"));
        CHECK(has(got, M, "is 70 bytes long (ggml's limit is 63"));
    }
}

TEST_CASE("gguf: metadata value types, nested arrays and bad types") {
    Writer w;
    w.header(0, 4);
    w.str("a.nested");
    w.u32(ARR);
    w.u32(ARR);
    w.u64(2);
    for (int i = 0; i < 2; ++i) {
        w.u32(STR);
        w.u64(2);
        w.str("x");
        w.str("yz");
    }
    w.str("a.f64");
    w.u32(12);
    w.u64(0);
    w.str("a.bool");
    w.u32(BOOL);
    w.out.push_back(1);
    w.str("a.bad");
    w.u32(13);
    w.u32(0);
    mscan::gguf::Header h;
    const auto got = problems(parse(w.out, &h));
    INFO(listing(got));
    CHECK(has(got, N, "'a.nested' is an array of arrays"));
    CHECK(has(got, M, "'a.bad' has unknown value type 13"));
    CHECK(h.keys.size() == 4);
    CHECK_FALSE(h.complete);
    // arrays nested past the cap: a limit, not a stack overflow
    Writer d;
    d.header(0, 1);
    d.str("deep");
    d.u32(ARR);
    for (int i = 0; i < 10000; ++i) {
        d.u32(ARR);
        d.u64(1);
    }
    d.u32(U8);
    d.u64(0);
    CHECK(has(parse(d.out), "limit.exceeded", "arrays nested more than"));
}

TEST_CASE("gguf: bad magic, versions and truncation at every byte") {
    {
        Bytes b = model();
        b[4] = 4;
        CHECK(has(parse(b), M, "unknown GGUF version 4"));
        b[4] = 0;
        CHECK(has(parse(b), M, "unknown GGUF version 0"));
    }
    const Bytes full = model(3, false, "{{ messages[0]['content'] }}");
    mscan::gguf::Header h;
    parse(full, &h);
    REQUIRE(h.complete);
    REQUIRE(h.data_start > 0);
    for (std::size_t n = 4; n < full.size(); ++n) {
        const Bytes cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
        const auto got = problems(parse(cut));
        INFO("cut at " << n << listing(got));
        bool reported = false;
        for (const auto& a : got)
            reported |= a.code == M || a.code == O;
        CHECK(reported);
    }
}

TEST_CASE("gguf: templates in metadata are checked, with the key as evidence") {
    Writer w;
    w.header(0, 4);
    w.kv_str("tokenizer.chat_template", "{% for m in messages %}{{ m['content'] }}{% endfor %}");
    w.kv_str("tokenizer.chat_template.tool_use",
             "{{ cycler.__init__.__globals__.os.popen('echo mscan-sample').read() }}");
    w.kv_str("general.description", "see {{ lipsum.__globals__ }} here");
    w.kv_str("general.name", "a name with {braces}");
    mscan::gguf::Header h;
    const auto all = parse(w.out, &h);
    INFO(listing(all));
    CHECK(h.templates.size() == 3);
    CHECK(has(all, "template.python-internals",
              "tokenizer.chat_template.tool_use: cycler.__init__.__globals__.os.popen('echo "
              "mscan-sample').read()"));
    CHECK(has(all, "template.unusual", "tokenizer.chat_template.tool_use: cycler"));
    CHECK(has(all, "template.python-internals", "general.description: lipsum.__globals__"));
    for (const auto& a : all)
        CHECK(a.evidence.find("tokenizer.chat_template:") == std::string::npos);
    // the offset points into the file at the expression
    for (const auto& a : all) {
        if (a.code != "template.python-internals" || a.evidence.find("general.") == 0) continue;
        REQUIRE(a.offset > 0);
        const std::string at(w.out.begin() + a.offset, w.out.begin() + a.offset + 8);
        CHECK(at == "__init__");
    }
}

TEST_CASE("gguf: anomalies of one kind are capped") {
    Writer w;
    w.header(100, 0);
    for (int i = 0; i < 100; ++i)
        w.tensor("t", {8}, 0, static_cast<std::uint64_t>(i) * 32);
    w.pad();
    w.data(100 * 32);
    const auto got = problems(parse(w.out));
    CHECK(got.size() == 9);
    CHECK(has(got, M, "and 91 more problems of this kind"));
}

TEST_CASE("gguf: through the registry and the scanner") {
    const auto rules = mscan::RuleSet::builtin();
    const Bytes benign =
        model(3, false, "{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}");
    mscan::MemorySource a(benign);
    // the extension does not matter: a GGUF named .pt is read as GGUF
    const auto r = mscan::scan_source(a, "model.pt", rules);
    CHECK(r.format == "gguf");
    CHECK(r.status == mscan::FileStatus::Scanned);
    REQUIRE(r.findings.size() == 1);
    CHECK(r.findings[0].rule_id == "gguf-summary");
    const Bytes hostile = model(3, false, "{{ ''.__class__.__mro__[1].__subclasses__() }}");
    mscan::MemorySource b(hostile);
    const auto h = mscan::scan_source(b, "model.gguf", rules);
    REQUIRE(!h.findings.empty());
    CHECK(h.findings[0].rule_id == "chat-template-injection");
    CHECK(h.findings[0].severity == mscan::Severity::Critical);
}

TEST_CASE("gguf: a sparse 4 GiB file is read from its header alone") {
    const fs::path dir = fs::temp_directory_path() / ("mscan-gguf-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const fs::path path = dir / "big.gguf";
    Writer w;
    const std::uint64_t rows = (std::uint64_t{4} << 30) / 2 / 4096;  // F16 [4096, rows]
    w.header(1, 1);
    w.kv_str("general.architecture", "llama");
    w.tensor("token_embd.weight", {4096, rows}, 1, 0);
    w.pad();
    const std::uint64_t data = 4096 * rows * 2;
    {
        const int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0600);
        REQUIRE(fd >= 0);
        REQUIRE(::write(fd, w.out.data(), w.out.size()) == static_cast<ssize_t>(w.out.size()));
        REQUIRE(::ftruncate(fd, static_cast<off_t>(w.out.size() + data)) == 0);
        ::close(fd);
    }
    const auto start = std::chrono::steady_clock::now();
    const auto rules = mscan::RuleSet::builtin();
    std::string error;
    auto source = mscan::MmapSource::open(path.string(), error);
    REQUIRE(source);
    const auto r = mscan::scan_source(*source, path.string(), rules);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
    CHECK(r.format == "gguf");
    REQUIRE(r.findings.size() == 1);
    CHECK(r.findings[0].evidence.find("4294967296 bytes of tensor data") != std::string::npos);
    fs::remove_all(dir);
}
