// tar, 7z and compressed streams: archives are written in memory with libarchive's writer and
// scanned end to end. Covers what the golden samples do not: members read in place, zips as
// tar members versus zips appended to a tar, tar/pickle polyglots, damaged headers skipped,
// gzip trailers and padding, the ratio limit on streams, 7z members and sparse holes, and
// member names of decompressed streams.
#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "formats/archive/archive_format.h"
#include "formats/archive/decoders.h"
#include "formats/archive/libarchive_api.h"
#include "formats/compress/expansion.h"
#include "formats/context.h"
#include "formats/registry.h"
#include "formats/zip/zip_format.h"
#include "mscan/limits.h"
#include "mscan/rules.h"
#include "mscan/scan.h"
#include "util/text_safety.h"

namespace {

using Bytes = std::vector<std::uint8_t>;

struct Member {
    std::string name;
    Bytes data;
    std::uint64_t hole = 0;  ///< a sparse hole of this many bytes before the data (pax only)
};

/// A protocol 2 pickle that calls os.system(command).
Bytes os_system(const std::string& command) {
    using namespace std::string_literals;
    const std::string head =
        "\x80\x02"
        "cos\nsystem\nq\x00X"s;
    Bytes out(head.begin(), head.end());
    for (int i = 0; i < 4; ++i)
        out.push_back(static_cast<std::uint8_t>(command.size() >> (8 * i)));
    out.insert(out.end(), command.begin(), command.end());
    for (char c : std::string("\x85R."))
        out.push_back(static_cast<std::uint8_t>(c));
    return out;
}

la_ssize_t append(struct archive*, void* data, const void* buffer, std::size_t n) {
    auto* out = static_cast<Bytes*>(data);
    const auto* p = static_cast<const std::uint8_t*>(buffer);
    out->insert(out->end(), p, p + n);
    return static_cast<la_ssize_t>(n);
}

/// Writes `members` with libarchive: `format` is an archive_write_set_format_* function,
/// `filter` an archive_write_add_filter_* one (or nullptr).
Bytes write_archive(int (*format)(struct archive*), int (*filter)(struct archive*),
                    const std::vector<Member>& members) {
    Bytes out;
    struct archive* a = archive_write_new();
    REQUIRE(format(a) == ARCHIVE_OK);
    if (filter) REQUIRE(filter(a) == ARCHIVE_OK);
    archive_write_set_bytes_in_last_block(a, 1);
    REQUIRE(archive_write_open(a, &out, nullptr, append, nullptr) == ARCHIVE_OK);
    for (const auto& m : members) {
        struct archive_entry* e = archive_entry_new();
        archive_entry_set_pathname(e, m.name.c_str());
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, static_cast<la_int64_t>(m.hole + m.data.size()));
        if (m.hole) {
            archive_entry_sparse_add_entry(e, static_cast<la_int64_t>(m.hole),
                                           static_cast<la_int64_t>(m.data.size()));
        }
        REQUIRE(archive_write_header(a, e) == ARCHIVE_OK);
        const Bytes zeros(1 << 20);
        for (std::uint64_t left = m.hole; left > 0;) {
            const std::size_t n = left < zeros.size() ? left : zeros.size();
            archive_write_data(a, zeros.data(), n);
            left -= n;
        }
        if (!m.data.empty()) archive_write_data(a, m.data.data(), m.data.size());
        archive_entry_free(e);
    }
    REQUIRE(archive_write_close(a) == ARCHIVE_OK);
    archive_write_free(a);
    return out;
}

Bytes tar(const std::vector<Member>& members) {
    return write_archive(archive_write_set_format_ustar, nullptr, members);
}

/// One compressed stream (libarchive's raw writer takes exactly one entry).
Bytes compressed(int (*filter)(struct archive*), const Bytes& data) {
    return write_archive(archive_write_set_format_raw, filter, {{"data", data}});
}

mscan::FileResult scan(Bytes bytes, const std::string& name) {
    static const mscan::RuleSet rules = mscan::RuleSet::builtin();
    mscan::MemorySource source(std::move(bytes));
    return mscan::scan_source(source, name, rules);
}

/// The finding for `subject` whose location chain is `chain`, if any.
const mscan::Finding* find(const mscan::FileResult& r, const std::string& subject,
                           const std::vector<std::string>& chain) {
    for (const auto& f : r.findings)
        if (f.subject == subject && f.location.chain == chain) return &f;
    return nullptr;
}

bool has(const mscan::FileResult& r, const std::string& subject) {
    for (const auto& f : r.findings)
        if (f.subject == subject) return true;
    return false;
}

}  // namespace

TEST_CASE("tar: every member is scanned under its name") {
    const auto r = scan(tar({{"a.pkl", os_system("one")},
                             {"dir/notes.txt", Bytes(3000, 'x')},
                             {"dir/b.pkl", os_system("two")}}),
                        "m.tar");
    CHECK(r.format == "tar");
    REQUIRE(find(r, "os.system", {"m.tar", "a.pkl"}));
    REQUIRE(find(r, "os.system", {"m.tar", "dir/b.pkl"}));
    CHECK(r.findings.size() == 2);
}

TEST_CASE("tar: a zip as a member is no polyglot, a zip after the archive is") {
    const Bytes zip =
        write_archive(archive_write_set_format_zip, nullptr, {{"inner/model.pkl", os_system("z")}});
    const Bytes archive = tar({{"bundle/model.zip", zip}});
    const auto r = scan(archive, "t.tar");
    CHECK(find(r, "os.system", {"t.tar", "bundle/model.zip", "inner/model.pkl"}));
    CHECK_FALSE(has(r, "container.polyglot"));
    CHECK_FALSE(has(r, "zip.leading-data"));

    Bytes appended = tar({{"a.txt", Bytes(10, 'a')}});
    appended.insert(appended.end(), zip.begin(), zip.end());
    const auto p = scan(appended, "p.tar");
    CHECK(has(p, "container.polyglot"));
    CHECK(find(p, "os.system", {"p.tar", "inner/model.pkl"}));
}

TEST_CASE("tar: a header name that is also a pickle is scanned as one") {
    const auto r = scan(tar({{"cos\nsystem\n(S'echo poly'\ntR.", Bytes(5, 'x')}}), "poly.tar");
    CHECK(r.format == "tar");
    CHECK(has(r, "container.polyglot"));
    CHECK(find(r, "os.system", {"poly.tar"}));
    // A name that merely parses as opcodes (APPEND, STOP) is not a pickle reading. (The
    // member itself, named .pkl but holding text, is a format mismatch, and only that.)
    const auto benign = scan(tar({{"a.pkl", Bytes(5, 'x')}}), "benign.tar");
    REQUIRE(benign.findings.size() == 1);
    CHECK(benign.findings[0].rule_id == "format-mismatch");
    CHECK(benign.findings[0].location.chain.back() == "a.pkl");
}

TEST_CASE("tar: damaged headers are skipped, reported, and what follows is scanned") {
    Bytes archive = tar(
        {{"a.pkl", os_system("one")}, {"b.txt", Bytes(10, 'b')}, {"c.pkl", os_system("three")}});
    // Headers at 0, 1024 and 2048 (each member fits one block): break the second checksum.
    REQUIRE(archive.size() > 2048);
    std::memcpy(archive.data() + 1024 + 148, "0000000", 8);
    const auto r = scan(archive, "d.tar");
    CHECK(find(r, "os.system", {"d.tar", "a.pkl"}));
    CHECK(find(r, "os.system", {"d.tar", "c.pkl"}));
    CHECK(find(r, "archive.malformed", {"d.tar"}));
}

TEST_CASE("tar: unsafe names and links are reported, links are not followed") {
    Bytes out;
    struct archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    REQUIRE(archive_write_open(a, &out, nullptr, append, nullptr) == ARCHIVE_OK);
    auto entry = [&](const char* name, unsigned type, const char* link, bool hard) {
        struct archive_entry* e = archive_entry_new();
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, type);
        archive_entry_set_perm(e, 0644);
        if (hard) archive_entry_set_hardlink(e, link);
        if (!hard && link) archive_entry_set_symlink(e, link);
        archive_entry_set_size(e, 0);
        archive_write_header(a, e);
        archive_entry_free(e);
    };
    entry("../../evil.pkl", AE_IFREG, nullptr, false);
    entry("/abs.pkl", AE_IFREG, nullptr, false);
    entry("C:/drive.pkl", AE_IFREG, nullptr, false);
    entry("link.pkl", AE_IFLNK, "/etc/passwd", false);
    entry("hard.pkl", AE_IFREG, "../../etc/shadow", true);
    archive_write_close(a);
    archive_write_free(a);
    const auto r = scan(out, "l.tar");
    for (const char* name :
         {"../../evil.pkl", "/abs.pkl", "C:/drive.pkl", "link.pkl", "hard.pkl"}) {
        INFO(name);
        CHECK(find(r, "archive.unsafe-path", {"l.tar", name}));
    }
}

TEST_CASE("compressed tars are one archive, other streams are one member") {
    const Bytes inner = tar({{"model/data.pkl", os_system("x")}});
    const auto gz = scan(compressed(archive_write_add_filter_gzip, inner), "model.tar.gz");
    CHECK(gz.format == "gzip");
    CHECK(find(gz, "os.system", {"model.tar.gz", "model/data.pkl"}));
    const auto xz = scan(compressed(archive_write_add_filter_xz, inner), "model.tar.xz");
    CHECK(find(xz, "os.system", {"model.tar.xz", "model/data.pkl"}));

    const Bytes pickle = os_system("y");
    CHECK(find(scan(compressed(archive_write_add_filter_bzip2, pickle), "dir/model.pkl.bz2"),
               "os.system", {"dir/model.pkl.bz2", "model.pkl"}));
    CHECK(find(scan(compressed(archive_write_add_filter_zstd, pickle), "weights.bin"), "os.system",
               {"weights.bin", "<decompressed>"}));
    CHECK(find(scan(compressed(archive_write_add_filter_gzip, pickle), "x.tgz"), "os.system",
               {"x.tgz", "x.tar"}));

    // A zip holding a tar.gz holding a pickle.
    const Bytes zip =
        write_archive(archive_write_set_format_zip, nullptr,
                      {{"x/model.tar.gz", compressed(archive_write_add_filter_gzip, inner)}});
    CHECK(find(scan(zip, "z.zip"), "os.system", {"z.zip", "x/model.tar.gz", "model/data.pkl"}));
}

TEST_CASE("gzip: bad trailers and trailing bytes are reported, zero padding is not") {
    const Bytes gz = compressed(archive_write_add_filter_gzip, os_system("g"));
    Bytes padded = gz;
    padded.resize(padded.size() + 100, 0);
    const auto p = scan(padded, "m.pkl.gz");
    CHECK(find(p, "os.system", {"m.pkl.gz", "m.pkl"}));
    CHECK_FALSE(has(p, "archive.malformed"));

    Bytes junk = gz;
    for (char c : std::string("hidden"))
        junk.push_back(static_cast<std::uint8_t>(c));
    CHECK(find(scan(junk, "m.pkl.gz"), "archive.malformed", {"m.pkl.gz"}));

    Bytes bad_crc = gz;
    bad_crc[bad_crc.size() - 8] ^= 0xff;
    const auto c = scan(bad_crc, "m.pkl.gz");
    CHECK(find(c, "archive.malformed", {"m.pkl.gz"}));
    CHECK(find(c, "os.system", {"m.pkl.gz", "m.pkl"}));

    Bytes two = gz;  // two members: both are read
    const Bytes second = compressed(archive_write_add_filter_gzip, os_system("second"));
    two.insert(two.end(), second.begin(), second.end());
    const auto t = scan(two, "m.pkl.gz");
    CHECK_FALSE(has(t, "archive.malformed"));
    int calls = 0;
    for (const auto& f : t.findings)
        calls += f.subject == "os.system" ? static_cast<int>(f.occurrences) : 0;
    CHECK(calls == 2);
}

/// A protocol 4 pickle: BINBYTES8 of `zeros` zero bytes, POP, then posix.system(command).
Bytes zeros_then_payload(std::size_t zeros, const std::string& command) {
    Bytes pickle = {0x80, 0x04, 0x8e};
    for (int i = 0; i < 8; ++i)
        pickle.push_back(static_cast<std::uint8_t>(static_cast<std::uint64_t>(zeros) >> (8 * i)));
    pickle.resize(pickle.size() + zeros);
    pickle.push_back('0');
    const Bytes call = os_system(command);
    pickle.insert(pickle.end(), call.begin() + 2, call.end());  // without its PROTO
    return pickle;
}

TEST_CASE("a ratio beyond the limit is low and reading goes on: zeros do not hide a payload") {
    // 40 MiB of zeros compress about 1000:1, beyond the 200:1 limit: the loader inflates them
    // all and reaches the call behind them, so mscan must too.
    const Bytes pickle = zeros_then_payload(40u << 20, "behind");
    const auto gz = scan(compressed(archive_write_add_filter_gzip, pickle), "z.pkl.gz");
    CHECK(find(gz, "archive.compression-ratio", {"z.pkl.gz"}));
    CHECK_FALSE(find(gz, "archive.compression-bomb", {"z.pkl.gz"}));
    CHECK(find(gz, "os.system", {"z.pkl.gz", "z.pkl"}));

    const Bytes sevenz =
        write_archive(archive_write_set_format_7zip, nullptr, {{"zeros.pkl", pickle}});
    const auto s = scan(sevenz, "z.7z");
    CHECK(s.format == "7z");
    CHECK(find(s, "archive.compression-ratio", {"z.7z", "zeros.pkl"}));
    CHECK(find(s, "os.system", {"z.7z", "zeros.pkl"}));
    CHECK_FALSE(find(s, "archive.compression-bomb", {"z.7z", "zeros.pkl"}));

    // A 256 MiB sparse hole (before the data) in a ~10 KiB tar is zero-filled, within the
    // budget: a ratio, not a bomb.
    const Bytes sparse = write_archive(archive_write_set_format_pax, nullptr,
                                       {{"sparse.pkl", os_system("s"), 256u << 20}});
    CHECK(sparse.size() < (1u << 20));
    const auto h = scan(sparse, "s.tar");
    CHECK(find(h, "archive.compression-ratio", {"s.tar", "sparse.pkl"}));
    CHECK_FALSE(find(h, "archive.compression-bomb", {"s.tar", "sparse.pkl"}));
}

TEST_CASE("expansion policy: low for the ratio alone, high past the absolute caps") {
    const auto findings = [](auto&& report) {
        std::vector<mscan::Operation> ops;
        const mscan::OperationSink sink = [&](mscan::Operation&& op) { ops.push_back(op); };
        mscan::ScanBudget budget;
        mscan::ParseContext context(sink, mscan::Location{}, budget);
        report(context);
        std::vector<std::string> names;
        for (const auto& op : ops)
            names.push_back(op.name);
        return names;
    };
    using V = std::vector<std::string>;
    const std::uint64_t member = mscan::limits::kMaxDecompressedMember;
    mscan::compress::Inflated first;
    first.size = 64u << 20;
    first.consumed = 64u << 10;
    first.ratio_exceeded = true;
    first.complete = true;
    const auto report = [&](const mscan::ParseContext& c) {
        mscan::compress::report_expansion(c, c.base(), first, member, "member");
    };
    CHECK(findings(report) == V{"archive.compression-ratio"});
    first.capped = true;  // the ratio, and the member cap reached: a bomb
    first.complete = false;
    first.size = member;
    CHECK(findings(report) == V{"archive.compression-bomb"});
    first.ratio_exceeded = false;  // only large
    CHECK(findings(report) == V{"container.not-scanned"});
    first.capped = false;  // neither, but damaged
    first.error = "corrupt";
    CHECK(findings(report) == V{"archive.malformed"});

    // The file's budget: a member capped by what is left of it reports the budget, once.
    CHECK(findings([&](const mscan::ParseContext& c) {
              mscan::compress::Inflated a;
              a.size = mscan::limits::kMaxDecompressedTotal - 10;
              c.take_decompressed(a.size);
              const std::uint64_t cap = mscan::compress::member_cap(c);
              CHECK(cap == 10);
              mscan::compress::Inflated b;
              b.size = cap;
              b.capped = true;
              b.ratio_exceeded = true;
              mscan::compress::report_expansion(c, c.base(), b, cap, "member");
              mscan::compress::report_expansion(c, c.base(), b, 0, "member");
          }) == V{"container.not-scanned"});

    // Declared sizes of members mscan does not decompress: by the ratio and the member cap.
    const auto declared = [&](std::uint64_t size, std::uint64_t compressed) {
        return findings([&](const mscan::ParseContext& c) {
            mscan::compress::report_declared_expansion(c, c.base(), size, compressed, "why");
        });
    };
    CHECK(declared(64u << 20, 64u << 10) == V{"archive.compression-ratio"});
    CHECK(declared(member + 1, 1u << 20) == V{"archive.compression-bomb"});
    CHECK(declared(member + 1, 512u << 20) == V{});  // large, but an ordinary ratio
    CHECK(declared(1u << 20, 1) == V{});             // under the size the ratio is judged at
}

TEST_CASE("7z: members are scanned, a recognised unread format is reported from its head") {
    Bytes ggjt = {'t', 'j', 'g', 'g', 3, 0, 0, 0};  // llama.cpp's GGJT v3, before GGUF
    ggjt.resize(1u << 20, 7);
    const Bytes sevenz = write_archive(archive_write_set_format_7zip, nullptr,
                                       {{"a/model.pkl", os_system("7")}, {"w.bin", ggjt}});
    const auto r = scan(sevenz, "m.7z");
    CHECK(find(r, "os.system", {"m.7z", "a/model.pkl"}));
    CHECK(find(r, "container.unsupported-member", {"m.7z", "w.bin"}));
}

TEST_CASE("tar header check") {
    const Bytes archive = tar({{"a", Bytes(1, 'a')}});
    CHECK(mscan::archive::looks_like_tar_header({archive.data(), 512}));
    const Bytes zeros(512);
    CHECK_FALSE(mscan::archive::looks_like_tar_header(zeros));
    Bytes v7 = archive;  // no ustar magic: the checksum alone decides
    std::memset(v7.data() + 257, 0, 8);
    std::uint32_t sum = 0;
    std::memset(v7.data() + 148, ' ', 8);
    for (std::size_t i = 0; i < 512; ++i)
        sum += v7[i];
    std::snprintf(reinterpret_cast<char*>(v7.data() + 148), 8, "%06o", sum);
    CHECK(mscan::archive::looks_like_tar_header({v7.data(), 512}));
    v7[0] ^= 1;
    CHECK_FALSE(mscan::archive::looks_like_tar_header({v7.data(), 512}));
}

TEST_CASE("a compressed stream larger than the window is read again as a stream") {
    // 17 MiB of 4-bit noise (compresses about 2:1), then a pickle: the first pass detects and
    // counts, the second serves views from a window.
    Bytes noise(17u << 20);
    std::uint32_t x = 12345;
    for (auto& b : noise) {
        x = x * 1103515245u + 12345u;
        b = static_cast<std::uint8_t>((x >> 16) & 0x0f);
    }
    Bytes pickle = {0x80, 0x04, 0x8e};  // BINBYTES8 <noise>, POP, then the call
    for (int i = 0; i < 8; ++i)
        pickle.push_back(static_cast<std::uint8_t>(noise.size() >> (8 * i)));
    pickle.insert(pickle.end(), noise.begin(), noise.end());
    pickle.push_back('0');
    const Bytes call = os_system("late");
    pickle.insert(pickle.end(), call.begin() + 2, call.end());  // without its PROTO
    const Bytes gz = compressed(archive_write_add_filter_gzip, pickle);
    const auto r = scan(gz, "big.pkl.gz");
    CHECK(find(r, "os.system", {"big.pkl.gz", "big.pkl"}));

    // Views forward, behind (a new decoder) and across the window all give the stream's bytes.
    mscan::MemorySource compressed_source(gz);
    mscan::archive::StreamSource stream(compressed_source, mscan::archive::Compression::Gzip,
                                        pickle.size());
    const std::vector<std::pair<std::uint64_t, std::size_t>> reads = {
        {pickle.size() - 40, 40}, {0, 11},        {5u << 20, 1u << 20},   {1u << 20, 64},
        {(16u << 20) - 10, 100},  {3, 17u << 20}, {pickle.size() - 1, 10}};
    for (const auto& [offset, n] : reads) {
        INFO("view at " << offset << ", " << n << " bytes");
        const auto v = stream.view(offset, n);
        const std::size_t expect = std::min<std::uint64_t>(n, pickle.size() - offset);
        REQUIRE(v.size() == expect);
        CHECK(std::equal(v.begin(), v.end(), pickle.begin() + static_cast<std::ptrdiff_t>(offset)));
    }

    // A zip read from such a stream is kept whole: its reader jumps between the end record,
    // the central directory and the members while holding views.
    Bytes zip;
    struct archive* a = archive_write_new();
    archive_write_set_format_zip(a);
    archive_write_set_options(a, "zip:compression=store");
    REQUIRE(archive_write_open(a, &zip, nullptr, append, nullptr) == ARCHIVE_OK);
    for (const auto& m : std::vector<Member>{{"big.bin", noise}, {"model.pkl", call}}) {
        struct archive_entry* e = archive_entry_new();
        archive_entry_set_pathname(e, m.name.c_str());
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, static_cast<la_int64_t>(m.data.size()));
        archive_write_header(a, e);
        archive_write_data(a, m.data.data(), m.data.size());
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    const auto z = scan(compressed(archive_write_add_filter_gzip, zip), "bundle.zip.gz");
    CHECK(find(z, "os.system", {"bundle.zip.gz", "bundle.zip", "model.pkl"}));
    CHECK_FALSE(has(z, "archive.malformed"));
}

TEST_CASE("a JSON member whose Keras keys lie past the detection head is read whole") {
    const std::string text = "{" + std::string(200 * 1024, ' ') +
                             R"("class_name": "Sequential", "config": {"layers": [
        {"module": "builtins", "class_name": "function", "config": "exec"}]}})";
    const Bytes json(text.begin(), text.end());
    const Bytes tgz = compressed(archive_write_add_filter_gzip, tar({{"m/config.json", json}}));
    CHECK(find(scan(tgz, "m.tar.gz"), "builtins.exec", {"m.tar.gz", "m/config.json"}));
    const Bytes sevenz =
        write_archive(archive_write_set_format_7zip, nullptr, {{"m/config.json", json}});
    CHECK(find(scan(sevenz, "m.7z"), "builtins.exec", {"m.7z", "m/config.json"}));
}

TEST_CASE("links are judged by where they lead, not by being links") {
    using mscan::link_escapes;
    // Symbolic links resolve from the link's own folder.
    CHECK(link_escapes("models/current.pkl", "../model.pkl", false) == nullptr);
    CHECK(link_escapes("a/b/c.pkl", "../../d.pkl", false) == nullptr);
    CHECK(link_escapes("a/b/c.pkl", "./x/../../../d.pkl", false) == nullptr);
    CHECK(link_escapes("a/b/c.pkl", "../../../etc/passwd", false) != nullptr);
    CHECK(link_escapes("config.pkl", "../x", false) != nullptr);
    CHECK(link_escapes("config.pkl", "/etc/passwd", false) != nullptr);
    CHECK(link_escapes("config.pkl", "C:/x", false) != nullptr);
    CHECK(link_escapes("a/link", "b/../../..", false) != nullptr);
    // Hard links name another member, from the archive's root.
    CHECK(link_escapes("deep/er/copy.pkl", "model.pkl", true) == nullptr);
    CHECK(link_escapes("copy.pkl", "../../etc/passwd", true) != nullptr);
}

TEST_CASE(
    "container samples: every member an independent reader lists is scanned, reported or "
    "skipped for a stated reason") {
    // libarchive (its seekable zip reader follows the central directory, as loaders do) lists
    // each zip, tar and 7z sample's members; mscan's member ledger must account for each one.
    const std::filesystem::path root = MSCAN_SOURCE_DIR;
    std::ifstream in(root / "samples" / "manifest.json");
    REQUIRE(in);
    const auto manifest = nlohmann::json::parse(in);
    std::size_t containers = 0, members = 0;
    for (const auto& entry : manifest) {
        const std::string path = entry.at("path").get<std::string>();
        std::ifstream file(root / path, std::ios::binary);
        const Bytes bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
        struct archive* a = archive_read_new();
        archive_read_support_format_zip_seekable(a);
        archive_read_support_format_tar(a);
        archive_read_support_format_7zip(a);
        archive_read_support_filter_all(a);
        std::vector<std::string> listed;
        if (archive_read_open_memory(a, bytes.data(), bytes.size()) == ARCHIVE_OK) {
            struct archive_entry* e = nullptr;
            while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
                const char* name = archive_entry_pathname(e);
                if (name) listed.emplace_back(name);
            }
        }
        archive_read_free(a);
        if (listed.empty()) continue;
        ++containers;

        mscan::MemberLedger ledger;
        mscan::ScanBudget budget;
        budget.ledger = &ledger;
        std::vector<mscan::Operation> ops;
        const mscan::OperationSink sink = [&](mscan::Operation&& op) { ops.push_back(op); };
        mscan::Location base;
        base.chain = {path};
        mscan::ParseContext context(sink, base, budget);
        mscan::MemorySource source(bytes);
        const mscan::Format* format = mscan::detect_format(source, path);
        if (!format) continue;  // a pickle or other file that also parses as an archive
        format->parse(source, context);
        // As scan_source does: a file read as another format may also end with a zip.
        if (!format->owns_trailing_zip) mscan::zip::scan_appended(source, context, format->name);
        for (const auto& name : listed) {
            ++members;
            // Python's zipfile (and libarchive) cut a name at a NUL: "arr.npy\0/" is arr.npy.
            const auto same = [&](const std::string& ours) {
                return ours == name || ours.substr(0, ours.find('\0')) == name;
            };
            const bool accounted =
                std::any_of(ledger.records.begin(), ledger.records.end(),
                            [&](const auto& r) {
                                return r.chain.size() == 2 && r.chain[0] == path &&
                                       same(r.chain[1]);
                            }) ||
                // Or named in a finding (a local header that names the member differently).
                std::any_of(ops.begin(), ops.end(), [&](const mscan::Operation& op) {
                    return op.kind == mscan::OpKind::Anomaly &&
                           op.evidence.find(name) != std::string::npos;
                });
            INFO(path << " (" << format->name << "): member '" << name << "'");
            CHECK(accounted);
        }
    }
    CHECK(containers > 100);
    CHECK(members > containers);
}

TEST_CASE("a tar member that owns a trailing zip (a llamafile) keeps its zip end record") {
    // Formats that read their own trailing zip (zip, executables) are a table property: a
    // llamafile inside a tar is scanned as an executable with its zip, and its end record is
    // not taken for the tar's own (which gave HIGH zip-polyglot and reader-disagreement).
    const std::filesystem::path root = MSCAN_SOURCE_DIR;
    std::ifstream file(root / "samples/code/native/demo.llamafile", std::ios::binary);
    const Bytes llamafile((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    REQUIRE(llamafile.size() > 512);
    const auto r = scan(tar({{"demo.llamafile", llamafile}}), "model.tar");
    CHECK(r.format == "tar");
    CHECK(find(r, "native.executable", {"model.tar", "demo.llamafile"}));
    for (const auto& f : r.findings) {
        INFO(f.rule_id << ": " << f.evidence);
        CHECK(f.rule_id != "zip-polyglot");
        CHECK(f.rule_id != "zip-reader-disagreement");
    }
}

// libarchive is dlopen'ed on first use (libarchive_api.h). What a scan says when it cannot be
// loaded is checked through the loader itself, with a SONAME that does not exist and with a
// library that lacks libarchive's functions: the table stays empty and the error, which the
// archive.unsupported-method anomaly carries, names the library and why.
TEST_CASE("libarchive is loaded on first use") {
    const auto& api = mscan::archive::libarchive();
    INFO(api.error);
    CHECK(api.loaded);
    CHECK(api.error.empty());
    CHECK(api.read_new != nullptr);
    CHECK(api.entry_is_encrypted != nullptr);
}

TEST_CASE("a libarchive that cannot be loaded leaves the table empty and says why") {
    const auto missing = mscan::archive::load_libarchive("libmscan-test-missing.so.13");
    CHECK_FALSE(missing.loaded);
    CHECK(missing.read_new == nullptr);
    INFO(missing.error);
    CHECK(missing.error.rfind("libarchive could not be loaded (libmscan-test-missing.so.13: ", 0) ==
          0);

    // zlib opens, but has none of libarchive's functions.
    const auto wrong = mscan::archive::load_libarchive("libz.so.1");
    CHECK_FALSE(wrong.loaded);
    CHECK(wrong.read_free == nullptr);
    INFO(wrong.error);
    CHECK(wrong.error.rfind("libarchive could not be loaded (libz.so.1 lacks archive_read_new, "
                            "archive_read_free, ",
                            0) == 0);
}
