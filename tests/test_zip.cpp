// The zip reader over a windowed source: a zip inside a deflated zip member is read through
// InflateSource, whose views are only valid until the next view. The central directory must
// survive the local-header reads in between (it is copied out first).
#include <zlib.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

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
};

std::vector<std::uint8_t> deflate_raw(const std::vector<std::uint8_t>& in) {
    z_stream z{};
    REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    std::vector<std::uint8_t> out(deflateBound(&z, static_cast<uLong>(in.size())));
    z.next_in = const_cast<Bytef*>(in.data());
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

/// A plain zip (no zip64) as zipfile would write it, members stored or deflated.
std::vector<std::uint8_t> make_zip(const std::vector<Member>& members) {
    std::vector<std::uint8_t> out, central;
    for (const auto& m : members) {
        const auto offset = out.size();
        const auto crc = crc32(0L, m.data.data(), static_cast<uInt>(m.data.size()));
        const auto body = m.deflate ? deflate_raw(m.data) : m.data;
        const int method = m.deflate ? 8 : 0;
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
    // posix.system('echo mscan-sample'), protocol 2
    const std::string cmd = "echo mscan-sample";
    std::vector<std::uint8_t> payload = {0x80, 0x02, 'c'};
    for (char c : std::string("posix\nsystem\n"))
        payload.push_back(static_cast<std::uint8_t>(c));
    payload.push_back(0x8c);
    payload.push_back(static_cast<std::uint8_t>(cmd.size()));
    payload.insert(payload.end(), cmd.begin(), cmd.end());
    payload.insert(payload.end(), {0x85, 'R', '.'});
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
