// The zip reader over a windowed source: a zip inside a deflated zip member is read through
// InflateSource, whose views are only valid until the next view. The central directory must
// survive the local-header reads in between (it is copied out first). And the compression
// methods Python's zipfile reads besides deflate: bzip2 and LZMA.
#include <bzlib.h>
#include <lzma.h>
#include <zlib.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "formats/zip/libzip_api.h"
#include "mscan/rules.h"
#include "mscan/scan.h"

namespace {

void le(std::vector<std::uint8_t>& b, std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i)
        b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

struct Member {
    std::string name;
    std::vector<std::uint8_t> data;
    bool deflate = false;
    int method = -1;  ///< 12 (bzip2) or 14 (LZMA) instead of stored/deflate
    /// Bytes written as the member's compressed data instead of compressing `data`.
    std::vector<std::uint8_t> raw = {};
};

std::vector<std::uint8_t> bzip2(const std::vector<std::uint8_t>& in) {
    std::vector<std::uint8_t> out(in.size() + in.size() / 100 + 1024);
    auto size = static_cast<unsigned>(out.size());
    char none = 0;  // libbz2 refuses a null input pointer, even for no bytes
    char* source = in.empty() ? &none : const_cast<char*>(reinterpret_cast<const char*>(in.data()));
    REQUIRE(BZ2_bzBuffToBuffCompress(reinterpret_cast<char*>(out.data()), &size, source,
                                     static_cast<unsigned>(in.size()), 9, 0, 0) == BZ_OK);
    out.resize(size);
    return out;
}

/// LZMA as Python's zipfile writes it: version 9.20, 5 property bytes, raw LZMA1 with an end
/// marker. `dict` overrides the dictionary size written in the properties.
std::vector<std::uint8_t> lzma_zip(const std::vector<std::uint8_t>& in, std::uint32_t dict = 0) {
    lzma_options_lzma options;
    REQUIRE(lzma_lzma_preset(&options, 6) == false);
    lzma_filter filters[2] = {{LZMA_FILTER_LZMA1, &options}, {LZMA_VLI_UNKNOWN, nullptr}};
    lzma_stream z = LZMA_STREAM_INIT;
    REQUIRE(lzma_raw_encoder(&z, filters) == LZMA_OK);
    std::vector<std::uint8_t> body(in.size() + in.size() / 2 + 4096);
    z.next_in = in.data();
    z.avail_in = in.size();
    z.next_out = body.data();
    z.avail_out = body.size();
    REQUIRE(lzma_code(&z, LZMA_FINISH) == LZMA_STREAM_END);
    body.resize(z.total_out);
    lzma_end(&z);
    if (dict) options.dict_size = dict;
    std::uint32_t props_size = 0;
    REQUIRE(lzma_properties_size(&props_size, &filters[0]) == LZMA_OK);
    std::vector<std::uint8_t> out = {9, 20, static_cast<std::uint8_t>(props_size), 0};
    out.resize(4 + props_size);
    REQUIRE(lzma_properties_encode(&filters[0], out.data() + 4) == LZMA_OK);
    out.insert(out.end(), body.begin(), body.end());
    return out;
}

/// DEFLATE with zlib: `window_bits` -15 for raw (zip members), 15 + 16 for a gzip file.
std::vector<std::uint8_t> deflate_with(const std::vector<std::uint8_t>& in, int window_bits) {
    z_stream z{};
    REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    std::vector<std::uint8_t> out(deflateBound(&z, static_cast<uLong>(in.size())) + 32);
    z.next_in = const_cast<Bytef*>(in.data());
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

std::vector<std::uint8_t> deflate_raw(const std::vector<std::uint8_t>& in) {
    return deflate_with(in, -15);
}

/// posix.system(cmd), protocol 2: GLOBAL, SHORT_BINUNICODE, TUPLE1, REDUCE, STOP.
std::vector<std::uint8_t> os_system_pickle(const std::string& cmd) {
    std::vector<std::uint8_t> payload = {0x80, 0x02, 'c'};
    for (char c : std::string("posix\nsystem\n"))
        payload.push_back(static_cast<std::uint8_t>(c));
    payload.push_back(0x8c);
    payload.push_back(static_cast<std::uint8_t>(cmd.size()));
    payload.insert(payload.end(), cmd.begin(), cmd.end());
    payload.insert(payload.end(), {0x85, 'R', '.'});
    return payload;
}

/// A plain zip (no zip64) as zipfile would write it, members stored or deflated.
std::vector<std::uint8_t> make_zip(const std::vector<Member>& members) {
    std::vector<std::uint8_t> out, central;
    for (const auto& m : members) {
        const auto offset = out.size();
        const auto crc = crc32(0L, m.data.data(), static_cast<uInt>(m.data.size()));
        const int method = m.method >= 0 ? m.method : m.deflate ? 8 : 0;
        const auto body = !m.raw.empty() ? m.raw
                          : method == 8  ? deflate_raw(m.data)
                          : method == 12 ? bzip2(m.data)
                          : method == 14 ? lzma_zip(m.data)
                                         : m.data;
        le(out, 0x04034b50, 4);
        le(out, 20, 2), le(out, 0, 2), le(out, method, 2), le(out, 0, 2), le(out, 0x21, 2);
        le(out, crc, 4), le(out, body.size(), 4), le(out, m.data.size(), 4);
        le(out, m.name.size(), 2), le(out, 0, 2);
        out.insert(out.end(), m.name.begin(), m.name.end());
        out.insert(out.end(), body.begin(), body.end());
        le(central, 0x02014b50, 4);
        le(central, 20, 2), le(central, 20, 2), le(central, 0, 2), le(central, method, 2);
        le(central, 0, 2), le(central, 0x21, 2), le(central, crc, 4), le(central, body.size(), 4);
        le(central, m.data.size(), 4), le(central, m.name.size(), 2), le(central, 0, 2);
        le(central, 0, 2), le(central, 0, 2), le(central, 0, 2), le(central, 0, 4);
        le(central, offset, 4);
        central.insert(central.end(), m.name.begin(), m.name.end());
    }
    const auto cd_offset = out.size();
    out.insert(out.end(), central.begin(), central.end());
    le(out, 0x06054b50, 4), le(out, 0, 2), le(out, 0, 2);
    le(out, members.size(), 2), le(out, members.size(), 2);
    le(out, central.size(), 4), le(out, cd_offset, 4), le(out, 0, 2);
    return out;
}

}  // namespace

TEST_CASE("a zip inside a deflated zip member is read whole through the decompression window") {
    const auto payload = os_system_pickle("echo mscan-sample");
    // 17 MiB of tensor bytes first: the inner central directory lies beyond the first
    // 16 MiB window, and each local header read moves the window.
    // Tensor bytes that do not compress (zeros would trip the compression-ratio limit).
    std::vector<std::uint8_t> tensor(17u << 20);
    std::uint32_t x = 12345;
    for (auto& byte : tensor) {
        x = x * 1664525u + 1013904223u;
        byte = static_cast<std::uint8_t>(x >> 24);
    }
    const auto inner = make_zip({{"archive/data/0", tensor, false},
                                 {"archive/data.pkl", payload, false},
                                 {"archive/version", {'3', '\n'}, false}});
    const auto outer = make_zip({{"inner.zip", inner, true}});
    mscan::MemorySource source(outer);
    const auto rules = mscan::RuleSet::builtin();
    const auto result = mscan::scan_source(source, "outer.zip", rules);
    REQUIRE(result.status == mscan::FileStatus::Scanned);
    bool payload_found = false;
    for (const auto& f : result.findings) {
        INFO(f.rule_id << ": " << f.evidence);
        CHECK(f.rule_id != "zip-reader-disagreement");
        CHECK(f.rule_id != "archive-malformed");
        if (f.rule_id == "process-execution") {
            payload_found = true;
            CHECK(f.location.chain ==
                  std::vector<std::string>{"outer.zip", "inner.zip", "archive/data.pkl"});
        }
    }
    CHECK(payload_found);
}

namespace {

mscan::FileResult scan_zip(const std::vector<std::uint8_t>& zip) {
    mscan::MemorySource source(zip);
    static const auto rules = mscan::RuleSet::builtin();
    return mscan::scan_source(source, "m.npz", rules);
}

bool has(const mscan::FileResult& r, const std::string& rule) {
    for (const auto& f : r.findings)
        if (f.rule_id == rule) return true;
    return false;
}

}  // namespace

TEST_CASE("bzip2 and LZMA members are decoded as Python's zipfile decodes them") {
    const auto payload = os_system_pickle("echo x");
    for (const int method : {12, 14}) {
        INFO("method " << method);
        const auto r = scan_zip(make_zip({{"a.pkl", payload, false, method}}));
        REQUIRE(r.status == mscan::FileStatus::Scanned);
        for (const auto& f : r.findings)
            INFO(f.rule_id << ": " << f.evidence);
        CHECK(has(r, "process-execution"));
        CHECK_FALSE(has(r, "archive-malformed"));
        CHECK_FALSE(has(r, "zip-bad-crc"));

        // Behind 40 MiB of zeros (a ratio far beyond the limit) the payload is still read.
        std::vector<std::uint8_t> zeros = {0x80, 0x04, 0x8e};
        const std::uint64_t n = 40u << 20;
        for (int i = 0; i < 8; ++i)
            zeros.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
        zeros.resize(zeros.size() + n);
        zeros.push_back('0');
        zeros.insert(zeros.end(), payload.begin() + 2, payload.end());
        const auto z = scan_zip(make_zip({{"z.pkl", zeros, false, method}}));
        CHECK(has(z, "process-execution"));
        CHECK(has(z, "archive-compression-ratio"));
        CHECK_FALSE(has(z, "archive-compression-bomb"));
    }
}

TEST_CASE("LZMA members: a dictionary larger than the output, bad properties, damaged data") {
    const auto payload = os_system_pickle("echo y");
    // Properties asking for a 4 GiB dictionary: decoded with a dictionary as large as the
    // output can be, which gives the same bytes.
    auto big = make_zip({{"a.pkl", payload, false, 14, lzma_zip(payload, 0xFFFFFFFFu)}});
    CHECK(has(scan_zip(big), "process-execution"));

    auto odd = lzma_zip(payload);
    odd[2] = 4;  // 4 property bytes: zipfile refuses it
    const auto r = scan_zip(make_zip({{"a.pkl", payload, false, 14, odd}}));
    CHECK(has(r, "archive-malformed"));
    CHECK_FALSE(has(r, "process-execution"));

    auto cut = lzma_zip(payload);
    cut.resize(12);  // the header and three bytes of data
    CHECK(scan_zip(make_zip({{"a.pkl", payload, false, 14, cut}})).status ==
          mscan::FileStatus::Scanned);

    auto flipped = bzip2(payload);
    flipped[flipped.size() / 2] ^= 0x55;
    CHECK(has(scan_zip(make_zip({{"a.pkl", payload, false, 12, flipped}})), "archive-malformed"));
}

TEST_CASE("a deflated member whose output ends just past a 1 MiB boundary is read to its end") {
    // 32 Mi NONE/POP pairs then NONE, STOP: 64 MiB + 4 bytes that zlib (level 6) has wholly
    // consumed before its output is out. The last 4 bytes come from a call made with no input
    // left, after an earlier call filled its output buffer exactly; stopping there cut the
    // pickle short before its STOP (a false "truncated" on what pickle.load reads whole).
    std::vector<std::uint8_t> pickle = {0x80, 0x02};
    pickle.reserve((64u << 20) + 4);
    for (std::size_t i = 0; i < (32u << 20); ++i) {
        pickle.push_back('N');
        pickle.push_back('0');
    }
    pickle.push_back('N');
    pickle.push_back('.');
    const auto r = scan_zip(make_zip({{"a.pkl", pickle, true}}));
    for (const auto& f : r.findings)
        INFO(f.rule_id << ": " << f.evidence);
    CHECK_FALSE(has(r, "archive-malformed"));
    CHECK_FALSE(has(r, "pickle-truncated"));
    CHECK_FALSE(has(r, "zip-bad-crc"));
}

namespace {

/// A gzip file of `in` (zlib with the gzip wrapper).
std::vector<std::uint8_t> gzip(const std::vector<std::uint8_t>& in) {
    return deflate_with(in, 15 + 16);
}

/// A ustar archive of one regular file, as tarfile writes it (then two zero blocks).
std::vector<std::uint8_t> tar_of(const std::string& name, const std::vector<std::uint8_t>& data) {
    std::vector<std::uint8_t> h(512, 0);
    auto put = [&h](std::size_t at, const std::string& s) {
        std::copy(s.begin(), s.end(), h.begin() + static_cast<std::ptrdiff_t>(at));
    };
    auto octal = [](std::uint64_t v, int width) {
        std::string s(static_cast<std::size_t>(width - 1), '0');
        for (int i = width - 2; i >= 0 && v; --i, v >>= 3)
            s[static_cast<std::size_t>(i)] = static_cast<char>('0' + (v & 7));
        return s;
    };
    put(0, name);
    put(100, octal(0644, 8));
    put(108, octal(0, 8));
    put(116, octal(0, 8));
    put(124, octal(data.size(), 12));
    put(136, octal(0, 12));
    put(156, "0");
    put(257, std::string("ustar\0"
                         "00",
                         8));
    put(148, "        ");
    unsigned sum = 0;
    for (auto b : h)
        sum += b;
    put(148, octal(sum, 7) + std::string(1, '\0'));
    h[155] = ' ';
    std::vector<std::uint8_t> out = h;
    out.insert(out.end(), data.begin(), data.end());
    out.resize((out.size() + 511) / 512 * 512 + 1024, 0);
    return out;
}

/// The rule ids reported at the member named `member` (the last link of a finding's chain).
std::vector<std::string> member_rules(const std::vector<std::uint8_t>& file,
                                      const std::string& file_name, const std::string& member) {
    mscan::MemorySource source(file);
    static const auto rules = mscan::RuleSet::builtin();
    const auto result = mscan::scan_source(source, file_name, rules);
    std::vector<std::string> out;
    for (const auto& f : result.findings)
        if (!f.location.chain.empty() && f.location.chain.back() == member)
            out.push_back(f.rule_id);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

}  // namespace

TEST_CASE("a member gets one verdict whatever container holds it and however it is compressed") {
    // One admission pipeline (formats/member.h): a stored or deflated, bzip2 or LZMA zip
    // member, a tar member read in place, a member of a gzip-compressed tar (read once, front
    // to back) and a gzip file's single stream are judged alike.
    std::vector<std::uint8_t> noise(3000);
    std::uint32_t x = 99;
    for (auto& b : noise) {
        x = x * 1664525u + 1013904223u;
        b = static_cast<std::uint8_t>(x >> 24);
    }
    const std::string text = "this is a readme, not a pickle\n";
    struct Case {
        const char* name;
        std::vector<std::uint8_t> data;
        std::vector<std::string> expected;
    };
    const std::vector<Case> cases = {
        {"data.pkl", os_system_pickle("echo mscan-sample"), {"process-execution"}},
        {"notes.pkl", {text.begin(), text.end()}, {"format-mismatch"}},
        {"empty.pkl", {}, {"format-mismatch"}},
        {"weights.bin", noise, {}},
    };
    for (const auto& c : cases) {
        const std::string name = c.name;
        INFO("member " << name);
        for (int method : {0, 8, 12, 14}) {
            INFO("zip method " << method);
            CHECK(member_rules(make_zip({{name, c.data, false, method}}), "m.zip", name) ==
                  c.expected);
        }
        INFO("tar, tar.gz, gz");
        CHECK(member_rules(tar_of(name, c.data), "m.tar", name) == c.expected);
        CHECK(member_rules(gzip(tar_of(name, c.data)), "m.tar.gz", name) == c.expected);
        CHECK(member_rules(gzip(c.data), name + ".gz", name) == c.expected);
    }
}

// libzip is dlopen'ed on first use (libzip_api.h); when it cannot be, compare_with_libzip
// reports archive.unsupported-method with the loader's error, checked here through the loader.
TEST_CASE("libzip is loaded on first use") {
    const auto& api = mscan::zip::libzip();
    INFO(api.error);
    CHECK(api.loaded);
    CHECK(api.error.empty());
    CHECK(api.open_from_source != nullptr);
}

TEST_CASE("a libzip that cannot be loaded leaves the table empty and says why") {
    const auto missing = mscan::zip::load_libzip("libmscan-test-missing.so.4");
    CHECK_FALSE(missing.loaded);
    CHECK(missing.open_from_source == nullptr);
    INFO(missing.error);
    CHECK(missing.error.rfind("libzip could not be loaded (libmscan-test-missing.so.4: ", 0) == 0);

    const auto wrong = mscan::zip::load_libzip("libz.so.1");
    CHECK_FALSE(wrong.loaded);
    INFO(wrong.error);
    CHECK(wrong.error.rfind("libzip could not be loaded (libz.so.1 lacks zip_error_init, ", 0) ==
          0);
}
