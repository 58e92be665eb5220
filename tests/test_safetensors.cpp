// safetensors: every sample's exact anomalies, the summary, header edge cases the samples do not
// cover (JSON the loader's serde_json reads differently from a lenient parser), detection, the
// anomaly cap, truncation at every byte, a compressed zip member, and a sparse 2 GiB file whose
// data is never touched.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "formats/context.h"
#include "formats/registry.h"
#include "formats/safetensors/safetensors_format.h"
#include "mscan/rules.h"
#include "mscan/scan.h"

namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

const fs::path kSamples = fs::path(MSCAN_SOURCE_DIR) / "samples" / "safetensors";

/// A file: the 8-byte length of `header` (or `declared`), the header, `data` zero bytes.
Bytes file(const std::string& header, std::uint64_t data = 0, std::uint64_t declared = UINT64_MAX) {
    const std::uint64_t n = declared == UINT64_MAX ? header.size() : declared;
    Bytes out;
    for (int i = 0; i < 8; ++i)
        out.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
    out.insert(out.end(), header.begin(), header.end());
    out.resize(out.size() + data);
    return out;
}

struct Anomaly {
    std::string code;
    std::string evidence;
    std::int64_t offset;
};

/// What safetensors::parse reports for `source`, in order.
std::vector<Anomaly> parse(mscan::Source& source) {
    std::vector<Anomaly> out;
    const mscan::OperationSink sink = [&out](mscan::Operation&& op) {
        out.push_back({op.name, op.evidence, op.location.offset});
    };
    mscan::ScanBudget budget;
    mscan::Location base;
    base.chain.push_back("test.safetensors");
    const mscan::ParseContext context(sink, base, budget);
    mscan::safetensors::parse(source, context);
    return out;
}

std::vector<Anomaly> parse(const Bytes& bytes) {
    mscan::MemorySource source(bytes);
    return parse(source);
}

/// The anomalies other than the summary.
std::vector<Anomaly> problems(const std::vector<Anomaly>& all) {
    std::vector<Anomaly> out;
    for (const auto& a : all)
        if (a.code != "safetensors.summary") out.push_back(a);
    return out;
}

std::string summary_of(const std::vector<Anomaly>& all) {
    std::string s;
    for (const auto& a : all)
        if (a.code == "safetensors.summary") s += a.evidence;
    return s;
}

/// `expected` lists (code, evidence substring) pairs; each must match a distinct anomaly and
/// nothing else may be reported (the summary aside).
void require_exactly(const std::vector<Anomaly>& all,
                     const std::vector<std::pair<std::string, std::string>>& expected) {
    const auto got = problems(all);
    std::string listing;
    for (const auto& a : got)
        listing += "\n  " + a.code + ": " + a.evidence;
    INFO("reported:" << listing);
    REQUIRE(got.size() == expected.size());
    std::vector<bool> used(got.size(), false);
    for (const auto& [code, text] : expected) {
        bool found = false;
        for (std::size_t i = 0; i < got.size() && !found; ++i) {
            if (!used[i] && got[i].code == code &&
                got[i].evidence.find(text) != std::string::npos) {
                used[i] = found = true;
            }
        }
        INFO("expected " << code << " with '" << text << "'");
        CHECK(found);
    }
}

Bytes read_sample(const std::string& rel) {
    const fs::path p = kSamples / rel;
    REQUIRE(fs::exists(p));
    std::string error;
    auto source = mscan::MmapSource::open(p.string(), error);
    REQUIRE(source);
    const auto view = source->view(0, static_cast<std::size_t>(source->size()));
    return Bytes(view.begin(), view.end());
}

constexpr const char* M = "safetensors.malformed";
constexpr const char* N = "safetensors.nonstandard";

}  // namespace

TEST_CASE("safetensors samples: benign files give only the summary") {
    const std::map<std::string, std::string> summaries = {
        {"benign/several_dtypes.safetensors",
         "7 tensors (BOOL x 1, F4 x 1, U8 x 1, F16 x 1, BF16 x 1, F32 x 1, I64 x 1), 91 bytes "
         "of tensor data, 472-byte header; __metadata__ keys: 'format'"},
        {"benign/empty.safetensors",
         "0 tensors, 0 bytes of tensor data, 56-byte header; __metadata__ keys: 'format', "
         "'note'"},
        {"benign/padded_header.safetensors",
         "1 tensor (F32 x 1), 16 bytes of tensor data, 128-byte header; __metadata__ keys: "
         "'format'"},
        {"benign/zero_sized.safetensors",
         "3 tensors (I32 x 1, F32 x 1, F64 x 1), 20 bytes of tensor data, 176-byte header; no "
         "__metadata__"},
    };
    for (const auto& [rel, summary] : summaries) {
        INFO(rel);
        const Bytes bytes = read_sample(rel);
        mscan::MemorySource source(bytes);
        CHECK(mscan::safetensors::detect(source, ".safetensors"));
        CHECK(mscan::safetensors::detect(source, ""));
        const auto all = parse(source);
        require_exactly(all, {});
        REQUIRE(all.size() == 1);
        CHECK(all[0].evidence == summary);
        CHECK(all[0].offset == 0);
    }
}

TEST_CASE("safetensors samples: each anomaly sample gives exactly its anomalies") {
    const std::map<std::string, std::vector<std::pair<std::string, std::string>>> expected = {
        {"header_past_eof", {{M, "header length 5000 runs past the end of the file (96 bytes)"}}},
        {"header_too_large",
         {{M,
           "header length 200000000 is more than the 100000000 bytes the safetensors loader "
           "accepts"}}},
        {"not_json", {{M, "the header is not valid JSON: parse error at line 1, column 3"}}},
        {"not_object", {{M, "the header is not a JSON object (it starts with '[{\"dtype\""}}},
        {"invalid_utf8", {{M, "not valid UTF-8 (byte 0xff at header offset 3)"}}},
        {"nul_padding", {{M, "NUL byte at header offset 55"}}},
        {"duplicate_tensor",
         {{M, "tensor name 'w' appears 2 times (the safetensors loader keeps only the last"}}},
        {"duplicate_field", {{M, "tensor 'w': field 'dtype' appears twice"}}},
        {"duplicate_metadata", {{M, "__metadata__ appears twice"}}},
        {"unknown_dtype",
         {{M, "tensor 'w': dtype 'F128' is not one the safetensors loader knows"}}},
        {"negative_shape", {{M, "tensor 'w': shape item negative number -2 is not"}}},
        {"float_shape", {{M, "tensor 'w': shape item non-integer number 2.0 is not"}}},
        {"offsets_out_of_bounds",
         {{M, "tensor 'b' data_offsets [16, 400] run past the end of the 32 bytes of data"}}},
        {"size_mismatch",
         {{M, "tensor 'lm_head.weight': data_offsets [0, 100] but F16[10,10] needs 200 bytes"}}},
        {"overlap", {{M, "tensor 'b' data_offsets [8, 24] overlaps tensor 'a' [0, 16]"}}},
        {"hole", {{M, "bytes [8, 16) of the data belong to no tensor (a hole before tensor 'b'"}}},
        {"trailing_bytes", {{M, "the last 64 bytes of the file belong to no tensor"}}},
        {"metadata_not_string",
         {{M, "__metadata__ value for 'epochs' is a number 3, not a string"}}},
        {"metadata_not_object", {{M, "__metadata__ is a list, not an object of strings"}}},
        {"missing_data_offsets", {{M, "tensor 'w': no data_offsets field"}}},
        {"offsets_three_items", {{M, "tensor 'w': data_offsets has 3 items, not [begin, end]"}}},
        {"begin_after_end", {{M, "tensor 'w': data_offsets [16, 0] begins after it ends"}}},
        {"shape_overflow",
         {{M, "tensor 'w': F32[4294967296,4294967296,16] is more bytes than a 64-bit size"}}},
        {"f4_odd", {{M, "tensor 'w': F4[3] is 12 bits, not a whole number of bytes"}}},
        {"tensor_not_object", {{M, "tensor 'w' is a number 5, not an object"}}},
        {"deep_nesting",
         {{M, "tensor 'w': shape item list is not a non-negative integer"},
          {M, "the header nests JSON deeper than 512 levels"}}},
        {"extra_field", {{N, "tensor 'w': extra field 'note' (the safetensors loader ignores it"}}},
        {"leading_whitespace", {{N, "the header starts with 3 whitespace bytes before '{'"}}},
        {"metadata_null", {{N, "__metadata__ is null"}}},
    };
    std::size_t files = 0;
    for (const auto& entry : fs::directory_iterator(kSamples / "anomaly")) {
        const std::string stem = entry.path().stem().string();
        if (stem == "many_bad_tensors") continue;  // its own test below
        INFO(entry.path().filename().string());
        REQUIRE(expected.count(stem) == 1);
        const Bytes bytes = read_sample("anomaly/" + entry.path().filename().string());
        mscan::MemorySource source(bytes);
        CHECK(mscan::safetensors::detect(source, ".safetensors"));
        require_exactly(parse(source), expected.at(stem));
        ++files;
    }
    CHECK(files == expected.size());
}

TEST_CASE("safetensors: anomaly locations point at the header or the data they name") {
    const auto hole = problems(parse(read_sample("anomaly/hole.safetensors")));
    REQUIRE(hole.size() == 1);
    CHECK(hole[0].offset == 8 + 112 + 8);  // length, header, then data offset 8
    const auto length = problems(parse(read_sample("anomaly/header_past_eof.safetensors")));
    REQUIRE(length.size() == 1);
    CHECK(length[0].offset == 0);
    const auto utf8 = problems(parse(read_sample("anomaly/invalid_utf8.safetensors")));
    REQUIRE(utf8.size() == 1);
    CHECK(utf8[0].offset == 8 + 3);
}

TEST_CASE("safetensors: a header of many bad tensors gives bounded output") {
    const auto all = parse(read_sample("anomaly/many_bad_tensors.safetensors"));
    const auto got = problems(all);
    REQUIRE(got.size() == 9);  // 8 listed, then one count
    for (int i = 0; i < 8; ++i)
        CHECK(got[static_cast<std::size_t>(i)].evidence ==
              "tensor 't" + std::to_string(i) + "': no data_offsets field");
    CHECK(got[8].evidence == "and 992 more problems of this kind in the header (not listed)");
    CHECK(summary_of(all).rfind("1000 tensors (F32 x 1000)", 0) == 0);

    // A hundred thousand tensors that each break two rules: still 8 + 1 per code.
    std::string header = "{";
    for (int i = 0; i < 100000; ++i)
        header += (i ? ",\"" : "\"") + std::to_string(i) +
                  "\":{\"dtype\":\"X\",\"shape\":[1],\"data_offsets\":[0,1],\"z\":0}";
    header += "}";
    const auto many = problems(parse(file(header, 1)));
    std::map<std::string, int> per_code;
    for (const auto& a : many)
        ++per_code[a.code];
    CHECK(per_code[M] == 9);
    CHECK(per_code[N] == 9);
}

TEST_CASE("safetensors: JSON the loader's serde_json refuses is malformed") {
    const std::string w = R"("w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]})";
    // Accepted: trailing whitespace of every JSON kind, escapes in names.
    require_exactly(parse(file("{" + w + "} \t\r\n", 1)), {});
    require_exactly(
        parse(file(R"({"a\u0000b\"":{"dtype":"U8","shape":[],"data_offsets":[0,1]}})", 1)), {});
    // Refused by serde_json, although a lenient reader may take them.
    require_exactly(parse(file("\xEF\xBB\xBF{" + w + "}", 1)), {{M, "not a JSON object"}});
    require_exactly(parse(file("{" + w + "}x", 1)), {{M, "not valid JSON"}});
    require_exactly(parse(file("{" + w + std::string("}\0{}", 4), 1)),
                    {{M, "NUL byte at header offset"}});
    require_exactly(parse(file("{" + w + ",}", 1)), {{M, "not valid JSON"}});
    require_exactly(parse(file("{/* c */" + w + "}", 1)), {{M, "not valid JSON"}});
    require_exactly(
        parse(file(R"({"w\ud800":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", 1)),
        {{M, "not valid JSON"}});
    require_exactly(parse(file("\xED\xA0\x80{}", 0)), {{M, "not valid UTF-8 (byte 0xed"}});
    require_exactly(parse(file("{\"w\xC0\xAF\":1}", 0)), {{M, "not valid UTF-8 (byte 0xc0"}});
    // Numbers: "-0" is a float to serde_json; 1e2 and 2^64 are floats too.
    require_exactly(parse(file(R"({"w":{"dtype":"U8","shape":[-0],"data_offsets":[0,0]}})")),
                    {{M, "shape item negative number 0"}});
    require_exactly(parse(file(R"({"w":{"dtype":"U8","shape":[1e0],"data_offsets":[0,1]}})", 1)),
                    {{M, "shape item non-integer number 1e0"}});
    require_exactly(
        parse(
            file(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,18446744073709551616]}})", 1)),
        {{M, "data_offsets item non-integer number 18446744073709551616"}});
    // Types: a dtype that is not a string, a shape that is not a list, a name case mismatch.
    require_exactly(parse(file(R"({"w":{"dtype":8,"shape":[1],"data_offsets":[0,1]}})", 1)),
                    {{M, "dtype is a number 8, not a dtype name"}});
    require_exactly(parse(file(R"({"w":{"dtype":"f32","shape":4,"data_offsets":[0,16]}})", 16)),
                    {{M, "dtype 'f32' is not one"}, {M, "shape is a number 4, not a list"}});
    require_exactly(parse(file(R"({"w":{"dtype":"U8","shape":[[1]],"data_offsets":[0,1]}})", 1)),
                    {{M, "shape item list is not"}});
    require_exactly(parse(file(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":{"a":0}}})", 1)),
                    {{M, "data_offsets is an object"}});
    require_exactly(parse(file(R"({"__metadata__":{"k":"v","k":"w"}})")),
                    {{M, "__metadata__ key 'k' appears 2 times"}});
    require_exactly(parse(file(R"({"__metadata__":"pt"})")),
                    {{M, "__metadata__ is a string 'pt', not an object of strings"}});
    require_exactly(parse(file(R"({"w":{}})")),
                    {{M, "tensor 'w': no dtype, shape, data_offsets field"}});
}

TEST_CASE("safetensors: the data region is tiled exactly as the loader checks it") {
    auto t = [](const std::string& name, const std::string& dtype, const std::string& shape,
                std::uint64_t b, std::uint64_t e) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape +
               ",\"data_offsets\":[" + std::to_string(b) + "," + std::to_string(e) + "]}";
    };
    // Any order in the header; zero-length tensors anywhere, even sharing an offset.
    require_exactly(
        parse(file("{" + t("b", "F32", "[2]", 8, 16) + "," + t("a", "I64", "[]", 0, 8) + "," +
                       t("z", "F16", "[0]", 8, 8) + "," + t("y", "U8", "[0,5]", 8, 8) + "}",
                   16)),
        {});
    // C64 is 8 bytes, F6 packs 6 bits: 4 of them are 3 bytes.
    require_exactly(
        parse(file("{" + t("c", "C64", "[2]", 0, 16) + "," + t("f", "F6_E2M3", "[4]", 16, 19) + "}",
                   19)),
        {});
    // A tensor whose range lies inside another's.
    require_exactly(
        parse(file("{" + t("a", "U8", "[16]", 0, 16) + "," + t("b", "U8", "[4]", 4, 8) + "}", 16)),
        {{M, "tensor 'b' data_offsets [4, 8] overlaps tensor 'a' [0, 16]"}});
    // Data shorter than the header declares: the last tensor runs past the end.
    require_exactly(parse(file("{" + t("a", "U8", "[16]", 0, 16) + "}", 10)),
                    {{M, "tensor 'a' data_offsets [0, 16] run past the end of the 10 bytes"}});
    // A hole at the start.
    require_exactly(parse(file("{" + t("a", "U8", "[8]", 8, 16) + "}", 16)),
                    {{M, "bytes [0, 8) of the data belong to no tensor"}});
    // Offsets near 2^64 do not wrap.
    require_exactly(parse(file("{" + t("a", "U8", "[1]", UINT64_MAX - 1, UINT64_MAX) + "}", 0)),
                    {{M, "bytes [0, 18446744073709551614) of the data belong to no tensor"},
                     {M, "run past the end of the 0 bytes of data"}});
}

TEST_CASE("safetensors: detection") {
    auto detects = [](const Bytes& b, std::string_view ext = "") {
        mscan::MemorySource s(b);
        return mscan::safetensors::detect(s, ext);
    };
    CHECK(detects(file("{}")));
    CHECK(detects(file("  \n{}")));
    CHECK_FALSE(detects(file("[]")));
    CHECK(detects(file("[]"), ".safetensors"));  // the name says so and the length fits
    CHECK_FALSE(detects(file("{")));             // "{}" is the smallest header
    CHECK_FALSE(detects(file("")));
    // Cut short: the length is plausible (below 2^32), or the name says safetensors.
    CHECK(detects(file("{\"a\":1", 0, 5000)));
    CHECK_FALSE(detects(file("{\"a\":1", 0, std::uint64_t{1} << 40)));
    CHECK(detects(file("{\"a\":1", 0, std::uint64_t{1} << 40), ".safetensors"));
    // Text, pickles and other formats are not safetensors.
    const std::string text = "hello, w{orld}";
    CHECK_FALSE(detects(Bytes(text.begin(), text.end())));
    const Bytes pickle = {0x80, 0x02, '}', 'q', 0x00, '(', 'X', 1, 0, 0, 0, 'a', '.'};
    CHECK_FALSE(detects(pickle));
    // Through the registry: a header that is not an object is not taken for safetensors
    // (nor anything else) unless it is named so.
    mscan::MemorySource list(file("[]"));
    CHECK(mscan::detect_format(list, "x.bin") == nullptr);
    mscan::MemorySource named(file("[]"));
    const auto* format = mscan::detect_format(named, "model.safetensors");
    REQUIRE(format != nullptr);
    CHECK(std::string(format->name) == "safetensors");
}

TEST_CASE("safetensors: every truncation of a valid file is reported, never a crash") {
    const Bytes full = read_sample("benign/several_dtypes.safetensors");
    for (std::size_t cut = 0; cut < full.size(); ++cut) {
        const Bytes part(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(cut));
        mscan::MemorySource source(part);
        if (!mscan::safetensors::detect(source, ".safetensors")) {
            CHECK(cut < 10);
            continue;
        }
        INFO("cut at " << cut);
        const auto got = problems(parse(source));
        REQUIRE_FALSE(got.empty());
        for (const auto& a : got)
            CHECK(a.code == M);
    }
}

TEST_CASE("safetensors: end to end through the rules, and inside a zip") {
    const auto rules = mscan::RuleSet::builtin();
    mscan::MemorySource benign(read_sample("benign/several_dtypes.safetensors"));
    const auto r = mscan::scan_source(benign, "model.safetensors", rules);
    CHECK(r.status == mscan::FileStatus::Scanned);
    CHECK(r.format == "safetensors");
    REQUIRE(r.findings.size() == 1);
    CHECK(r.findings[0].rule_id == "safetensors-summary");
    CHECK(r.findings[0].severity == mscan::Severity::Info);

    mscan::MemorySource bad(read_sample("anomaly/size_mismatch.safetensors"));
    const auto b = mscan::scan_source(bad, "model.safetensors", rules);
    REQUIRE(b.findings.size() == 2);
    CHECK(b.findings[0].rule_id == "safetensors-malformed");
    CHECK(b.findings[0].severity == mscan::Severity::Medium);
    CHECK(b.findings[1].rule_id == "safetensors-summary");
}

TEST_CASE("safetensors: a sparse 2 GiB file is read from its header alone") {
    const fs::path dir = fs::temp_directory_path() / ("mscan-st-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const fs::path path = dir / "big.safetensors";
    const std::uint64_t data = (std::uint64_t{2} << 30) - 4096;
    const std::string header =
        R"({"__metadata__":{"format":"pt"},"embed.weight":{"dtype":"F16","shape":[)" +
        std::to_string(data / 2 / 1024) + R"(,1024],"data_offsets":[0,)" + std::to_string(data) +
        "]}}";
    const Bytes head = file(header);
    {
        const int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0600);
        REQUIRE(fd >= 0);
        REQUIRE(::write(fd, head.data(), head.size()) == static_cast<ssize_t>(head.size()));
        REQUIRE(::ftruncate(fd, static_cast<off_t>(head.size() + data)) == 0);
        ::close(fd);
    }
    const auto rules = mscan::RuleSet::builtin();
    std::string error;
    auto source = mscan::MmapSource::open(path.string(), error);
    REQUIRE(source);
    CHECK(source->size() == head.size() + data);
    const auto r = mscan::scan_source(*source, path.string(), rules);
    CHECK(r.format == "safetensors");
    REQUIRE(r.findings.size() == 1);
    CHECK(r.findings[0].rule_id == "safetensors-summary");
    CHECK(r.findings[0].evidence == "1 tensor (F16 x 1), " + std::to_string(data) +
                                        " bytes of tensor data, " + std::to_string(header.size()) +
                                        "-byte header; __metadata__ keys: 'format'");
    // One byte more: trailing data is reported at its offset.
    REQUIRE(::truncate(path.c_str(), static_cast<off_t>(head.size() + data + 1)) == 0);
    source = mscan::MmapSource::open(path.string(), error);
    REQUIRE(source);
    const auto got = problems(parse(*source));
    REQUIRE(got.size() == 1);
    CHECK(got[0].evidence.find("the last 1 bytes of the file belong to no tensor") == 0);
    CHECK(got[0].offset == static_cast<std::int64_t>(head.size() + data));
    source.reset();
    fs::remove_all(dir);
}
