// The Hugging Face Hub client's pure parts, without a network: targets (hf:// and pasted web
// URLs), the official clients' environment variables, the Hub's JSON answers and headers,
// readable failures, include/exclude globs, the local cache layout on disk, RemoteSource's
// failure paths (nothing listening; the per-file download limit refusing before any request),
// and HttpClient against loopback servers that misbehave (silent, stalled, cut, not TLS): the
// events a slow request sends and the words its failure is said in.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "mscan/limits.h"
#include "net/http.h"
#include "net/remote_source.h"
#include "targets/cache.h"
#include "targets/hub.h"
#include "targets/work.h"
#include "util/glob.h"

namespace {

namespace fs = std::filesystem;
using mscan::hub::HubConfig;
using mscan::hub::HubTarget;
using mscan::hub::RepoType;

const std::string kSha1 = "0123456789abcdef0123456789abcdef01234567";
const std::string kSha2 = "fedcba9876543210fedcba9876543210fedcba98";

/// parse_target with the default configuration (or `config`); fails the test if it fails.
HubTarget parse_ok(const std::string& text, const HubConfig& config = {}) {
    std::string error;
    const auto t = mscan::hub::parse_target(text, config, error);
    INFO(text << " -> " << error);
    REQUIRE(t.has_value());
    CHECK(error.empty());
    return *t;
}

/// The error parse_target gives for `text`; fails the test if it parses.
std::string parse_error(const std::string& text, const HubConfig& config = {}) {
    std::string error;
    const auto t = mscan::hub::parse_target(text, config, error);
    INFO(text << (t ? " parsed as " + t->display() + " path '" + t->path + "'" : std::string()));
    CHECK_FALSE(t.has_value());
    CHECK_FALSE(error.empty());
    return error;
}

bool printable(const std::string& s) {
    return std::all_of(s.begin(), s.end(), [](char ch) {
        const auto c = static_cast<unsigned char>(ch);
        return c >= 0x20 && c < 0x7f;
    });
}

/// A getter over a map, as config_from_environment wants it.
struct Env {
    std::map<std::string, std::string> vars;
    std::function<const char*(const char*)> getter() const {
        return [this](const char* name) -> const char* {
            const auto it = vars.find(name);
            return it == vars.end() ? nullptr : it->second.c_str();
        };
    }
    HubConfig config() const { return mscan::hub::config_from_environment(getter()); }
};

/// A fresh directory under the system temp folder, removed at the end of the test.
struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "mscan-hub-test.XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
};

void write_file(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary);
    out << text;
    REQUIRE(out.good());
}

mscan::hub::HttpResponse response(long status,
                                  std::vector<std::pair<std::string, std::string>> headers = {}) {
    mscan::hub::HttpResponse r;
    r.status = status;
    r.attempts = 1;
    r.headers = std::move(headers);
    return r;
}

}  // namespace

// ----------------------------------------------------------------------------------------------
// Targets

TEST_CASE("hf:// targets name the repo, revision and path", "[hub]") {
    SECTION("org/name") {
        const auto t = parse_ok("hf://org/name");
        CHECK(t.type == RepoType::Model);
        CHECK(t.repo_id == "org/name");
        CHECK(t.revision == "main");
        CHECK_FALSE(t.revision_given);
        CHECK(t.path.empty());
        CHECK(t.display() == "hf://org/name");
    }
    SECTION("a tag") {
        const auto t = parse_ok("hf://org/name@v1.0");
        CHECK(t.repo_id == "org/name");
        CHECK(t.revision == "v1.0");
        CHECK(t.revision_given);
        CHECK(t.path.empty());
        CHECK(t.display() == "hf://org/name@v1.0");
    }
    SECTION("a pull-request ref keeps its slashes, the rest is the path") {
        const auto t = parse_ok("hf://org/name@refs/pr/3/sub/file.bin");
        CHECK(t.repo_id == "org/name");
        CHECK(t.revision == "refs/pr/3");
        CHECK(t.path == "sub/file.bin");
        CHECK(t.display() == "hf://org/name@refs/pr/3");
    }
    SECTION("a percent-encoded ref") {
        const auto t = parse_ok("hf://org/name@refs%2Fpr%2F3");
        CHECK(t.revision == "refs/pr/3");
        CHECK(t.path.empty());
    }
    SECTION("a refs/convert ref") {
        const auto t = parse_ok("hf://org/name@refs/convert/parquet/data.parquet");
        CHECK(t.revision == "refs/convert/parquet");
        CHECK(t.path == "data.parquet");
    }
    SECTION("a commit and a file") {
        const auto t = parse_ok("hf://org/name@" + kSha1 + "/a.pt");
        CHECK(t.revision == kSha1);
        CHECK(t.path == "a.pt");
        CHECK(t.display() == "hf://org/name@" + kSha1);
    }
    SECTION("a file on main without a revision") {
        const auto t = parse_ok("hf://org/name/sub/dir/model.bin");
        CHECK(t.repo_id == "org/name");
        CHECK(t.revision == "main");
        CHECK_FALSE(t.revision_given);
        CHECK(t.path == "sub/dir/model.bin");
    }
    SECTION("doubled and trailing slashes in the path are dropped") {
        const auto t = parse_ok("hf://org/name@main/sub//file.bin/");
        CHECK(t.path == "sub/file.bin");
    }
    SECTION("datasets and spaces") {
        const auto d = parse_ok("hf://datasets/org/name");
        CHECK(d.type == RepoType::Dataset);
        CHECK(d.repo_id == "org/name");
        CHECK(d.display() == "hf://datasets/org/name");
        const auto s = parse_ok("hf://spaces/org/name@main/app.py");
        CHECK(s.type == RepoType::Space);
        CHECK(s.repo_id == "org/name");
        CHECK(s.path == "app.py");
        CHECK(s.display() == "hf://spaces/org/name@main");
        const auto m = parse_ok("hf://models/org/name");
        CHECK(m.type == RepoType::Model);
        CHECK(m.display() == "hf://org/name");
    }
    SECTION("a one-part legacy id") {
        const auto t = parse_ok("hf://gpt2");
        CHECK(t.repo_id == "gpt2");
        CHECK(t.revision == "main");
        CHECK(t.path.empty());
        CHECK(t.display() == "hf://gpt2");
        const auto f = parse_ok("hf://gpt2@main/config.json");
        CHECK(f.repo_id == "gpt2");
        CHECK(f.revision == "main");
        CHECK(f.revision_given);
        CHECK(f.path == "config.json");
        CHECK(f.display() == "hf://gpt2@main");
    }
    SECTION("names with dots, dashes and underscores") {
        const auto t = parse_ok("hf://Org-1/my_model.v2");
        CHECK(t.repo_id == "Org-1/my_model.v2");
    }
}

TEST_CASE("hf:// targets that cannot name a repo are refused with a reason", "[hub]") {
    parse_error("hf://");
    parse_error("hf://datasets");
    parse_error("hf://datasets/");
    parse_error("hf:///name");
    parse_error("hf://org/na me");
    parse_error("hf://org/name!");
    parse_error("hf://org/../x");
    parse_error("hf://../name");
    parse_error("hf://./name");
    parse_error("hf://org/name/../../etc");
    parse_error("hf://org/name@main/a/./b");
    parse_error("hf://org/name@");
    parse_error("hf://org/name@main..x");
    parse_error("hf://org/name@%zz");
    parse_error("hf://org/name@%4");
    parse_error("hf://org/name@a%0Ab");               // a control character in the revision
    parse_error("hf://org/name@a%3Fb");               // '?' cannot be part of a revision
    parse_error("hf://org/" + std::string(97, 'a'));  // a name part longer than the Hub allows
    const std::string e = parse_error("hf://org/" + std::string(5000, 'a'));
    CHECK(e.find("too long") != std::string::npos);
    // The error names the bad id, clipped and readable.
    const std::string bad = parse_error("hf://org/na me");
    CHECK(bad.find("na me") != std::string::npos);
}

TEST_CASE("pasted Hub web URLs", "[hub]") {
    SECTION("the repo page") {
        const auto t = parse_ok("https://huggingface.co/org/name");
        CHECK(t.type == RepoType::Model);
        CHECK(t.repo_id == "org/name");
        CHECK(t.revision == "main");
        CHECK_FALSE(t.revision_given);
        CHECK(t.path.empty());
        CHECK(t.display() == "hf://org/name");
    }
    SECTION("the tree of a branch, a tag with a folder") {
        const auto t = parse_ok("https://huggingface.co/org/name/tree/main");
        CHECK(t.revision == "main");
        CHECK(t.revision_given);
        CHECK(t.path.empty());
        const auto v = parse_ok("https://huggingface.co/org/name/tree/v1.0/sub");
        CHECK(v.revision == "v1.0");
        CHECK(v.path == "sub");
    }
    SECTION("a file page and a resolve URL") {
        const auto b = parse_ok("https://huggingface.co/org/name/blob/main/x/y.bin");
        CHECK(b.revision == "main");
        CHECK(b.path == "x/y.bin");
        const auto r = parse_ok("https://huggingface.co/org/name/resolve/refs%2Fpr%2F1/a.bin");
        CHECK(r.revision == "refs/pr/1");
        CHECK(r.path == "a.bin");
        const auto p = parse_ok("https://huggingface.co/org/name/tree/refs/pr/7/sub");
        CHECK(p.revision == "refs/pr/7");
        CHECK(p.path == "sub");
    }
    SECTION("a path with escapes is decoded") {
        const auto t = parse_ok("https://huggingface.co/org/name/blob/main/my%20file.bin");
        CHECK(t.path == "my file.bin");
    }
    SECTION("datasets and spaces") {
        const auto d = parse_ok("https://huggingface.co/datasets/org/name/tree/main");
        CHECK(d.type == RepoType::Dataset);
        CHECK(d.repo_id == "org/name");
        CHECK(d.display() == "hf://datasets/org/name@main");
        const auto s = parse_ok("https://huggingface.co/spaces/org/app");
        CHECK(s.type == RepoType::Space);
        CHECK(s.repo_id == "org/app");
    }
    SECTION("a query and a fragment are ignored") {
        const auto t = parse_ok("https://huggingface.co/org/name/blob/main/a.bin?download=true#L3");
        CHECK(t.repo_id == "org/name");
        CHECK(t.path == "a.bin");
        const auto q = parse_ok("https://huggingface.co/org/name?library=transformers");
        CHECK(q.repo_id == "org/name");
        CHECK(q.path.empty());
        const auto f = parse_ok("https://huggingface.co/org/name#model-card");
        CHECK(f.repo_id == "org/name");
    }
    SECTION("a one-part id, a trailing slash, other Hub host names") {
        CHECK(parse_ok("https://huggingface.co/gpt2").repo_id == "gpt2");
        CHECK(parse_ok("https://huggingface.co/org/name/").repo_id == "org/name");
        CHECK(parse_ok("https://hf.co/org/name").repo_id == "org/name");
        CHECK(parse_ok("http://huggingface.co/org/name").repo_id == "org/name");
        CHECK(parse_ok("https://HuggingFace.co/org/name").repo_id == "org/name");
    }
    SECTION("refused web URLs") {
        parse_error("https://huggingface.co/");
        parse_error("https://huggingface.co");
        parse_error("https://huggingface.co/org/name/discussions");
        parse_error("https://huggingface.co/org/name/tree");
        parse_error("https://huggingface.co/org/name/blob/main/%2E%2E/x");
        parse_error("https://huggingface.co/org/name/blob/main/%zz");
        parse_error("https://huggingface.co/org/name/tree/%zz");
        parse_error("https://huggingface.co/org/name/tree/a..b");
    }
}

TEST_CASE("only the Hub's hosts (and HF_ENDPOINT's) are Hub targets", "[hub]") {
    const HubConfig def;
    CHECK(mscan::hub::is_hub_target("hf://org/name", def));
    CHECK(mscan::hub::is_hub_target("https://huggingface.co/org/name", def));
    CHECK(mscan::hub::is_hub_target("https://hf.co/org/name", def));
    CHECK_FALSE(mscan::hub::is_hub_target("https://example.com/org/name", def));
    CHECK_FALSE(mscan::hub::is_hub_target("https://huggingface.co.evil.example/org/name", def));
    CHECK_FALSE(mscan::hub::is_hub_target("org/name", def));
    CHECK_FALSE(mscan::hub::is_hub_target("/tmp/models--org--name", def));
    CHECK_FALSE(mscan::hub::is_hub_target("ftp://huggingface.co/org/name", def));
    const std::string e = parse_error("https://example.com/org/name");
    CHECK(e.find("Hugging Face") != std::string::npos);

    HubConfig mirror;
    mirror.endpoint = "http://127.0.0.1:8080";
    CHECK(mscan::hub::is_hub_target("http://127.0.0.1:8080/org/name", mirror));
    const auto t = parse_ok("http://127.0.0.1:8080/org/name/blob/v2/w.bin", mirror);
    CHECK(t.repo_id == "org/name");
    CHECK(t.revision == "v2");
    CHECK(t.path == "w.bin");
    CHECK_FALSE(mscan::hub::is_hub_target("http://127.0.0.2:8080/org/name", mirror));
    CHECK_FALSE(mscan::hub::is_hub_target("http://127.0.0.1:9090/org/name", mirror));
    parse_error("http://127.0.0.2:8080/org/name", mirror);
    parse_error("http://127.0.0.1:9090/org/name", mirror);
    // The endpoint's host does not become a Hub host without HF_ENDPOINT.
    CHECK_FALSE(mscan::hub::is_hub_target("http://127.0.0.1:8080/org/name", def));
    // huggingface.co stays a Hub host beside a mirror.
    CHECK(mscan::hub::is_hub_target("https://huggingface.co/org/name", mirror));
}

// ----------------------------------------------------------------------------------------------
// Configuration

TEST_CASE("config_from_environment: endpoint and offline switches", "[hub]") {
    Env env;
    SECTION("defaults") {
        const auto c = env.config();
        CHECK(c.endpoint == "https://huggingface.co");
        CHECK(c.token.empty());
        CHECK(c.token_source.empty());
        CHECK_FALSE(c.offline);
        CHECK(c.cache_dir.empty());
    }
    SECTION("HF_ENDPOINT loses its trailing slashes") {
        env.vars["HF_ENDPOINT"] = "https://hf-mirror.example//";
        CHECK(env.config().endpoint == "https://hf-mirror.example");
        env.vars["HF_ENDPOINT"] = "http://127.0.0.1:8080";
        CHECK(env.config().endpoint == "http://127.0.0.1:8080");
        env.vars["HF_ENDPOINT"] = "";
        CHECK(env.config().endpoint == "https://huggingface.co");
    }
    SECTION("HF_HUB_OFFLINE takes the official clients' truthy values") {
        for (const char* yes : {"1", "ON", "on", "yes", "YES", "true", "True"}) {
            env.vars["HF_HUB_OFFLINE"] = yes;
            const auto c = env.config();
            INFO(yes);
            CHECK(c.offline);
            CHECK(c.offline_variable == "HF_HUB_OFFLINE");
        }
        for (const char* no : {"0", "", "false", "off", "no", "2", " 1"}) {
            env.vars["HF_HUB_OFFLINE"] = no;
            INFO("'" << no << "'");
            CHECK_FALSE(env.config().offline);
        }
    }
    SECTION("TRANSFORMERS_OFFLINE counts too; HF_HUB_OFFLINE is named first") {
        env.vars["TRANSFORMERS_OFFLINE"] = "1";
        auto c = env.config();
        CHECK(c.offline);
        CHECK(c.offline_variable == "TRANSFORMERS_OFFLINE");
        env.vars["HF_HUB_OFFLINE"] = "1";
        c = env.config();
        CHECK(c.offline_variable == "HF_HUB_OFFLINE");
        env.vars["HF_HUB_OFFLINE"] = "0";
        c = env.config();
        CHECK(c.offline);
        CHECK(c.offline_variable == "TRANSFORMERS_OFFLINE");
    }
}

TEST_CASE("config_from_environment: where the token comes from", "[hub]") {
    TempDir tmp;
    const fs::path home = tmp.path / "hfhome";
    write_file(home / "token", "  hf_fileTOKEN123 \n\n");
    Env env;
    env.vars["HF_HOME"] = home.string();

    SECTION("the token file under HF_HOME, stripped") {
        const auto c = env.config();
        CHECK(c.token == "hf_fileTOKEN123");
        CHECK(c.token_source == (home / "token").string());
        CHECK(c.token_source.find("hf_fileTOKEN123") == std::string::npos);
    }
    SECTION("HUGGING_FACE_HUB_TOKEN beats the file") {
        env.vars["HUGGING_FACE_HUB_TOKEN"] = "hf_legacyVAR";
        const auto c = env.config();
        CHECK(c.token == "hf_legacyVAR");
        CHECK(c.token_source == "HUGGING_FACE_HUB_TOKEN");
    }
    SECTION("HF_TOKEN beats both") {
        env.vars["HUGGING_FACE_HUB_TOKEN"] = "hf_legacyVAR";
        env.vars["HF_TOKEN"] = " hf_mainVAR\n";
        const auto c = env.config();
        CHECK(c.token == "hf_mainVAR");
        CHECK(c.token_source == "HF_TOKEN");
        CHECK(c.token_source.find("hf_mainVAR") == std::string::npos);
    }
    SECTION("an empty or blank HF_TOKEN does not hide the next source") {
        env.vars["HF_TOKEN"] = "  ";
        CHECK(env.config().token == "hf_fileTOKEN123");
        env.vars["HF_TOKEN"] = "";
        env.vars["HUGGING_FACE_HUB_TOKEN"] = "hf_legacyVAR";
        CHECK(env.config().token == "hf_legacyVAR");
    }
    SECTION("HF_TOKEN_PATH names another file") {
        const fs::path other = tmp.path / "elsewhere" / "tok";
        write_file(other, "hf_pathTOKEN\r\n");
        env.vars["HF_TOKEN_PATH"] = other.string();
        const auto c = env.config();
        CHECK(c.token == "hf_pathTOKEN");
        CHECK(c.token_source == other.string());
    }
    SECTION("a missing or empty token file gives no token and no source") {
        env.vars["HF_TOKEN_PATH"] = (tmp.path / "nope").string();
        auto c = env.config();
        CHECK(c.token.empty());
        CHECK(c.token_source.empty());
        write_file(tmp.path / "empty", " \n");
        env.vars["HF_TOKEN_PATH"] = (tmp.path / "empty").string();
        c = env.config();
        CHECK(c.token.empty());
        CHECK(c.token_source.empty());
    }
    SECTION("without HF_HOME: XDG_CACHE_HOME, then HOME") {
        env.vars.erase("HF_HOME");
        write_file(tmp.path / "xdg" / "huggingface" / "token", "hf_xdgTOKEN");
        write_file(tmp.path / "user" / ".cache" / "huggingface" / "token", "hf_homeTOKEN");
        env.vars["HOME"] = (tmp.path / "user").string();
        CHECK(env.config().token == "hf_homeTOKEN");
        env.vars["XDG_CACHE_HOME"] = (tmp.path / "xdg").string();
        CHECK(env.config().token == "hf_xdgTOKEN");
    }
}

TEST_CASE("config_from_environment: the cache folder", "[hub]") {
    Env env;
    env.vars["HOME"] = "/home/u";
    CHECK(env.config().cache_dir == "/home/u/.cache/huggingface/hub");
    env.vars["XDG_CACHE_HOME"] = "/xdg";
    CHECK(env.config().cache_dir == "/xdg/huggingface/hub");
    env.vars["HF_HOME"] = "/hfhome";
    CHECK(env.config().cache_dir == "/hfhome/hub");
    env.vars["HUGGINGFACE_HUB_CACHE"] = "/legacy-cache";
    CHECK(env.config().cache_dir == "/legacy-cache");
    env.vars["HF_HUB_CACHE"] = "/hub-cache";
    CHECK(env.config().cache_dir == "/hub-cache");
    env.vars["HF_HUB_CACHE"] = "";
    CHECK(env.config().cache_dir == "/legacy-cache");
}

// ----------------------------------------------------------------------------------------------
// The Hub's answers

TEST_CASE("parse_repo_info reads the commit, gating and the Hub's scan status", "[hub]") {
    using mscan::hub::parse_repo_info;
    using mscan::hub::RepoListing;
    std::string error;
    SECTION("a realistic answer") {
        const std::string body = R"({"_id":"65a","id":"org/name","private":true,"gated":"manual",
            "sha":")" + kSha1 + R"(","siblings":[{"rfilename":"a.bin"}],
            "securityRepoStatus":{"scansDone":true,"filesWithIssues":[
              {"path":"bad.pkl","level":"unsafe","pickleImports":[]},
              {"path":"odd.bin"},
              {"level":"caution"},
              7,
              {"path":"x\u0001y","level":"suspicious\n"}]}})";
        RepoListing out;
        REQUIRE(parse_repo_info(body, out, error));
        CHECK(out.commit == kSha1);
        CHECK(out.gated == "manual");
        CHECK(out.is_private);
        CHECK(out.hub_status.present);
        CHECK(out.hub_status.scans_done);
        REQUIRE(out.hub_status.files_with_issues.size() == 3);
        CHECK(out.hub_status.files_with_issues[0] ==
              std::make_pair(std::string("bad.pkl"), std::string("unsafe")));
        CHECK(out.hub_status.files_with_issues[1].second == "unknown");
        // Server text is made printable before it reaches a report.
        CHECK(printable(out.hub_status.files_with_issues[2].first));
        CHECK(printable(out.hub_status.files_with_issues[2].second));
    }
    SECTION("the least a Hub sends") {
        RepoListing out;
        REQUIRE(parse_repo_info(R"({"sha":")" + kSha2 + R"("})", out, error));
        CHECK(out.commit == kSha2);
        CHECK(out.gated.empty());
        CHECK_FALSE(out.is_private);
        CHECK_FALSE(out.hub_status.present);
    }
    SECTION("wrong types are ignored, not trusted") {
        RepoListing out;
        REQUIRE(parse_repo_info(
            R"({"sha":")" + kSha1 + R"(","gated":false,"private":"yes","securityRepoStatus":[1]})",
            out, error));
        CHECK(out.gated.empty());
        CHECK_FALSE(out.is_private);
        CHECK_FALSE(out.hub_status.present);
        RepoListing out2;
        REQUIRE(parse_repo_info(
            R"({"sha":")" + kSha1 +
                R"(","securityRepoStatus":{"scansDone":"yes","filesWithIssues":{}}})",
            out2, error));
        CHECK(out2.hub_status.present);
        CHECK_FALSE(out2.hub_status.scans_done);
        CHECK(out2.hub_status.files_with_issues.empty());
    }
    SECTION("a long issue list is capped") {
        std::string body = R"({"sha":")" + kSha1 + R"(","securityRepoStatus":{"filesWithIssues":[)";
        for (int i = 0; i < 1500; ++i)
            body += std::string(i ? "," : "") + R"({"path":"f)" + std::to_string(i) +
                    R"(","level":"unsafe"})";
        body += "]}}";
        RepoListing out;
        REQUIRE(parse_repo_info(body, out, error));
        CHECK(out.hub_status.files_with_issues.size() == 1000);
    }
    SECTION("no usable commit id is an error") {
        for (const std::string& body : std::vector<std::string>{
                 R"({"id":"org/name"})", std::string(R"({"sha":null})"),
                 std::string(R"({"sha":12345})"), std::string(R"({"sha":"main"})"),
                 R"({"sha":")" + kSha1.substr(1) + R"("})", R"({"sha":")" + kSha1 + R"(0"})",
                 R"({"sha":"0123456789ABCDEF0123456789ABCDEF01234567"})",
                 R"({"sha":"0123456789abcdef0123456789abcdef0123456g"})"}) {
            RepoListing out;
            error.clear();
            INFO(body);
            CHECK_FALSE(parse_repo_info(body, out, error));
            CHECK(error.find("sha") != std::string::npos);
            CHECK(out.commit.empty());
        }
    }
    SECTION("not an object, not JSON, too deep") {
        RepoListing out;
        CHECK_FALSE(parse_repo_info("[]", out, error));
        CHECK(error.find("object") != std::string::npos);
        CHECK_FALSE(parse_repo_info("", out, error));
        CHECK_FALSE(parse_repo_info("{\"sha\":", out, error));
        CHECK(error.find("JSON") != std::string::npos);
        CHECK_FALSE(parse_repo_info("<html>Bad gateway</html>", out, error));
        const int deep = mscan::limits::kJsonMaxDepth + 1;
        const std::string body = R"({"sha":")" + kSha1 + R"(","x":)" +
                                 std::string(static_cast<std::size_t>(deep), '[') +
                                 std::string(static_cast<std::size_t>(deep), ']') + "}";
        error.clear();
        CHECK_FALSE(parse_repo_info(body, out, error));
        CHECK(error.find("deep") != std::string::npos);
        // Brackets inside strings do not count as nesting.
        const std::string quoted =
            R"({"sha":")" + kSha1 + R"(","x":")" + std::string(2000, '[') + R"("})";
        RepoListing ok;
        CHECK(parse_repo_info(quoted, ok, error));
        // Unbalanced, very deep: refused before the parser sees it.
        CHECK_FALSE(parse_repo_info(std::string(100000, '['), out, error));
        CHECK(error.find("deep") != std::string::npos);
    }
}

TEST_CASE("parse_tree_page keeps files, skips folders and refuses what it cannot trust", "[hub]") {
    using mscan::hub::parse_tree_page;
    using mscan::hub::RepoEntry;
    std::string error;
    SECTION("a realistic page") {
        const std::string body = R"([
          {"type":"directory","oid":"aa","size":0,"path":"sub"},
          {"type":"file","oid":"bb","size":1519,"path":"config.json"},
          {"type":"file","oid":"cc","size":5000000000,"path":"sub/pytorch_model.bin",
           "lfs":{"oid":"dd","size":5000000000,"pointerSize":135},"xetHash":"ee"}])";
        std::vector<RepoEntry> out;
        out.push_back({"earlier.bin", 1, false});  // a previous page's entries stay
        REQUIRE(parse_tree_page(body, out, error));
        REQUIRE(out.size() == 3);
        CHECK(out[0].path == "earlier.bin");
        CHECK(out[1].path == "config.json");
        CHECK(out[1].size == 1519);
        CHECK_FALSE(out[1].lfs);
        CHECK(out[2].path == "sub/pytorch_model.bin");
        CHECK(out[2].size == 5000000000ull);
        CHECK(out[2].lfs);
    }
    SECTION("an empty page, a folder-only page") {
        std::vector<RepoEntry> out;
        CHECK(parse_tree_page("[]", out, error));
        CHECK(parse_tree_page(R"([{"type":"directory","path":"a"}])", out, error));
        CHECK(out.empty());
    }
    SECTION("sizes must be non-negative integers") {
        for (const char* size :
             {"-1", "1.5", "1e3", "\"12\"", "null", "true", "18446744073709551616", "[]"}) {
            std::vector<RepoEntry> out;
            error.clear();
            const std::string body =
                std::string(R"([{"type":"file","path":"a.bin","size":)") + size + "}]";
            INFO(body);
            CHECK_FALSE(parse_tree_page(body, out, error));
            CHECK(error.find("a.bin") != std::string::npos);
        }
        std::vector<RepoEntry> out;
        CHECK_FALSE(parse_tree_page(R"([{"type":"file","path":"a.bin"}])", out, error));
        CHECK(parse_tree_page(R"([{"type":"file","path":"a.bin","size":18446744073709551615}])",
                              out, error));
        REQUIRE(out.size() == 1);
        CHECK(out[0].size == UINT64_MAX);
    }
    SECTION("entries without type or path, of the wrong shape") {
        for (const char* body :
             {R"([{"path":"a","size":1}])", R"([{"type":"file","size":1}])",
              R"([{"type":1,"path":"a","size":1}])", R"([{"type":"file","path":["a"],"size":1}])",
              R"([1])", R"(["a.bin"])", R"({"path":"a"})", "null", ""}) {
            std::vector<RepoEntry> out;
            error.clear();
            INFO(body);
            CHECK_FALSE(parse_tree_page(body, out, error));
            CHECK_FALSE(error.empty());
        }
    }
    SECTION("unprintable, empty and overlong paths are refused") {
        for (const std::string& path : std::vector<std::string>{
                 std::string(R"(a\nb)"), std::string(R"(a\u0000b)"), std::string(R"(\u007f)"),
                 std::string(R"(tab\there)"), std::string(""), std::string(5000, 'p')}) {
            std::vector<RepoEntry> out;
            error.clear();
            const std::string body = R"([{"type":"file","path":")" + path + R"(","size":1}])";
            INFO(body.substr(0, 100));
            CHECK_FALSE(parse_tree_page(body, out, error));
            CHECK(error.find("path") != std::string::npos);
        }
        // Non-ASCII UTF-8 is a legitimate repo path.
        std::vector<RepoEntry> out;
        CHECK(
            parse_tree_page(R"([{"type":"file","path":"mod\u00e8le.bin","size":2}])", out, error));
        REQUIRE(out.size() == 1);
        CHECK(out[0].path == "mod\xc3\xa8le.bin");
    }
    SECTION("one bad entry fails the whole page (no silently shorter list)") {
        std::vector<RepoEntry> out;
        CHECK_FALSE(parse_tree_page(
            R"([{"type":"file","path":"a","size":1},{"type":"file","path":"b","size":-1}])", out,
            error));
    }
    SECTION("too deep") {
        const int deep = mscan::limits::kJsonMaxDepth + 1;
        std::vector<RepoEntry> out;
        const std::string body = "[" + std::string(static_cast<std::size_t>(deep), '[') +
                                 std::string(static_cast<std::size_t>(deep), ']') + "]";
        CHECK_FALSE(parse_tree_page(body, out, error));
        CHECK(error.find("deep") != std::string::npos);
        // Just within the limit: parsed (and refused for its shape, not its depth).
        const int ok_depth = mscan::limits::kJsonMaxDepth - 1;
        const std::string fine = "[" + std::string(static_cast<std::size_t>(ok_depth), '[') +
                                 std::string(static_cast<std::size_t>(ok_depth), ']') + "]";
        error.clear();
        CHECK_FALSE(parse_tree_page(fine, out, error));
        CHECK(error.find("deep") == std::string::npos);
    }
}

TEST_CASE("next_link finds rel=next among the Link header's links", "[hub]") {
    using mscan::hub::next_link;
    const std::string url =
        "https://huggingface.co/api/models/org/name/tree/main?recursive=true&cursor=ZXlKbGEx";
    CHECK(next_link("<" + url + ">; rel=\"next\"") == url);
    CHECK(next_link("<https://a/prev>; rel=\"prev\", <" + url + ">; rel=\"next\"") == url);
    CHECK(next_link("<" + url + ">; rel=\"next\", <https://a/last>; rel=\"last\"") == url);
    CHECK(next_link("</api/models/x/tree/main?cursor=2>; rel=next") ==
          "/api/models/x/tree/main?cursor=2");
    CHECK(next_link("<https://a/n>;REL=\"NEXT\"") == "https://a/n");
    CHECK_FALSE(next_link("<https://a/prev>; rel=\"prev\", <https://a/last>; rel=\"last\""));
    CHECK_FALSE(next_link(""));
    CHECK_FALSE(next_link("rel=\"next\""));
    CHECK_FALSE(next_link("<https://a/n; rel=\"next\""));
    CHECK_FALSE(next_link("https://a/n>; rel=\"next\""));
    CHECK(next_link("<>; rel=\"next\"") == "");
}

TEST_CASE("parse_content_range", "[hub]") {
    using mscan::hub::parse_content_range;
    auto ok = [](std::string_view v, std::uint64_t a, std::uint64_t b, std::uint64_t t) {
        const auto r = parse_content_range(v);
        INFO(v);
        REQUIRE(r.has_value());
        CHECK(r->first == a);
        CHECK(r->last == b);
        CHECK(r->total == t);
    };
    ok("bytes 0-99/100", 0, 99, 100);
    ok("bytes 65536-131071/5000000000", 65536, 131071, 5000000000ull);
    ok("bytes 7-7/8", 7, 7, 8);
    ok("bytes 0-1/9999999999999999999", 0, 1, 9999999999999999999ull);
    for (const char* bad : {"",
                            "bytes",
                            "bytes ",
                            "bytes 0-100/100",
                            "bytes 0-99/99",
                            "bytes 5-4/100",
                            "bytes */100",
                            "bytes 0-1/*",
                            "bytes -1-5/10",
                            "bytes 0--5/10",
                            "bytes +0-5/10",
                            "bytes 0-5/+10",
                            "bytes 0-5/10 ",
                            " bytes 0-5/10",
                            "bytes  0-5/10",
                            "items 0-5/10",
                            "bytes 0-5",
                            "bytes 0/5-10",
                            "bytes 0-5/10/20",
                            "bytes 0x0-5/10",
                            "bytes a-b/c",
                            "bytes 0-1/18446744073709551616",
                            "bytes 0-1/99999999999999999999",
                            "bytes 18446744073709551615-18446744073709551615/18446744073709551615",
                            "bytes 0-1/00000000000000000000005"}) {
        INFO("'" << bad << "'");
        CHECK_FALSE(parse_content_range(bad));
    }
}

TEST_CASE("retry_after_seconds: Retry-After and the Hub's RateLimit header", "[hub]") {
    using mscan::hub::retry_after_seconds;
    CHECK(retry_after_seconds(response(429, {{"retry-after", "7"}})) == 7.0);
    CHECK(retry_after_seconds(response(429, {{"retry-after", "0"}})) == 0.0);
    CHECK(retry_after_seconds(response(503, {{"retry-after", " 12 "}})) == 12.0);
    CHECK_FALSE(
        retry_after_seconds(response(429, {{"retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"}})));
    CHECK_FALSE(retry_after_seconds(response(429, {{"retry-after", "-1"}})));
    CHECK_FALSE(retry_after_seconds(response(429, {{"retry-after", "1.5"}})));
    CHECK_FALSE(retry_after_seconds(response(429, {{"retry-after", ""}})));
    CHECK_FALSE(retry_after_seconds(response(429, {{"retry-after", "99999999999999999999"}})));
    CHECK_FALSE(retry_after_seconds(response(429)));
    // The Hub's RateLimit: nothing remains (r=0), the window resets in t seconds.
    CHECK(retry_after_seconds(response(429, {{"ratelimit", "\"api\";r=0;t=55"}})) == 56.0);
    CHECK(retry_after_seconds(
              response(429, {{"ratelimit", "\"api\";r=0;t=55"}, {"retry-after", "3"}})) == 56.0);
    // Requests remain: RateLimit says nothing, Retry-After still counts.
    CHECK_FALSE(retry_after_seconds(response(429, {{"ratelimit", "\"api\";r=5;t=55"}})));
    CHECK(retry_after_seconds(
              response(429, {{"ratelimit", "\"api\";r=5;t=55"}, {"retry-after", "3"}})) == 3.0);
    // "r=" must be its own parameter, not the tail of another name.
    CHECK_FALSE(retry_after_seconds(response(429, {{"ratelimit", "\"api\";xr=0;t=9"}})));
    CHECK_FALSE(retry_after_seconds(response(429, {{"ratelimit", "\"api\";r=0"}})));
    // A huge t is bounded by the digit cap (the caller compares with max_wait_s).
    const auto big = retry_after_seconds(response(429, {{"ratelimit", "r=0;t=99999999999999999"}}));
    REQUIRE(big);
    CHECK(*big < 1e10);
}

TEST_CASE("url_origin, resolve_url, url_quote", "[hub]") {
    using mscan::hub::resolve_url;
    using mscan::hub::url_origin;
    using mscan::hub::url_quote;
    CHECK(url_origin("https://huggingface.co/api/models/x") == "https://huggingface.co:443");
    CHECK(url_origin("http://127.0.0.1:8080/x?y=1") == "http://127.0.0.1:8080");
    CHECK(url_origin("HTTPS://HuggingFace.CO/") == "https://huggingface.co:443");
    CHECK(url_origin("http://a.example:80/") == url_origin("http://a.example/"));
    CHECK(url_origin("https://huggingface.co/") != url_origin("http://huggingface.co/"));
    CHECK(url_origin("https://cdn-lfs.hf.co/x") != url_origin("https://huggingface.co/x"));
    CHECK(url_origin("https://huggingface.co:8443/") != url_origin("https://huggingface.co/"));
    CHECK(url_origin("").empty());
    CHECK(url_origin("not a url").empty());

    const std::string base = "https://huggingface.co/org/name/resolve/main/a.bin";
    CHECK(resolve_url(base, "/api/resolve-cache/models/org/name/abc/a.bin?etag=1") ==
          "https://huggingface.co/api/resolve-cache/models/org/name/abc/a.bin?etag=1");
    CHECK(resolve_url(base, "b.bin") == "https://huggingface.co/org/name/resolve/main/b.bin");
    CHECK(resolve_url(base, "https://cdn-lfs.hf.co/repos/x?X-Amz-Signature=abc") ==
          "https://cdn-lfs.hf.co/repos/x?X-Amz-Signature=abc");
    CHECK(resolve_url("http://127.0.0.1:8080/org/name/resolve/" + kSha1 + "/a.bin",
                      "http://127.0.0.1:8081/cdn/a.bin?sig=1") ==
          "http://127.0.0.1:8081/cdn/a.bin?sig=1");
    CHECK(resolve_url("http://h/api/tree?cursor=1", "/api/tree?cursor=2") ==
          "http://h/api/tree?cursor=2");
    CHECK(resolve_url("not a url", "/x").empty());

    CHECK(url_quote("a b/c", false) == "a%20b%2Fc");
    CHECK(url_quote("a b/c", true) == "a%20b/c");
    CHECK(url_quote("refs/pr/1", false) == "refs%2Fpr%2F1");
    CHECK(url_quote("Az09-._~", false) == "Az09-._~");
    CHECK(url_quote("100%?#&=+", true) == "100%25%3F%23%26%3D%2B");
    CHECK(url_quote("\xc3\xbc", false) == "%C3%BC");
    CHECK(url_quote(std::string_view("\0\xff", 2), false) == "%00%FF");
    CHECK(url_quote("", true).empty());
}

TEST_CASE("describe_failure says what failed and what to do", "[hub]") {
    using mscan::hub::describe_failure;
    auto has = [](const std::string& text, const std::string& part) {
        INFO(text);
        CHECK(text.find(part) != std::string::npos);
    };
    SECTION("no response: the transport failure as the client wrote it, and the attempts") {
        auto r = response(0);
        r.error = "connection refused by 127.0.0.1:9";
        r.attempts = 3;
        CHECK(describe_failure(r) == "connection refused by 127.0.0.1:9 (3 attempts)");
        r.attempts = 1;
        CHECK(describe_failure(r) == "connection refused by 127.0.0.1:9");
        r.error.clear();
        const auto u = describe_failure(r);
        has(u, "no reason given");
        CHECK(u.find("attempts") == std::string::npos);
    }
    SECTION("a redirect that cannot be followed says why, not 'unexpected answer'") {
        auto r = response(302);
        r.error = "more than 10 redirects";
        CHECK(describe_failure(r) == "HTTP 302: more than 10 redirects");
        auto not_found = response(404, {{"x-error-code", "RepoNotFound"}});
        not_found.error = "ignored beside a 4xx";
        CHECK(describe_failure(not_found).find("does not exist") != std::string::npos);
    }
    SECTION("401: missing or private, gated, a refused token") {
        const auto anon = describe_failure(response(401, {{"x-error-code", "RepoNotFound"}}));
        has(anon, "HTTP 401");
        has(anon, "private");
        has(anon, "HF_TOKEN");
        const auto gated = describe_failure(
            response(401, {{"x-error-code", "GatedRepo"},
                           {"x-error-message", "Access to model org/name is restricted."}}));
        has(gated, "gated");
        has(gated, "restricted");
        const auto bad = describe_failure(
            response(401, {{"x-error-message", "Invalid credentials in Authorization header"}}));
        has(bad, "token was refused");
        CHECK(bad.find("Authorization header") == std::string::npos);
        CHECK(bad.find("gated") == std::string::npos);
    }
    SECTION("403: gated and not approved, disabled, other") {
        const auto gated = describe_failure(response(403, {{"x-error-code", "GatedRepo"}}));
        has(gated, "HTTP 403");
        has(gated, "gated");
        has(gated, "not been granted");
        const auto disabled = describe_failure(
            response(403, {{"x-error-message", "Access to this resource is disabled."}}));
        has(disabled, "disabled");
        CHECK(disabled.find("gated") == std::string::npos);
        has(describe_failure(response(403)), "forbidden");
    }
    SECTION("404: revision, entry, repo") {
        has(describe_failure(response(404, {{"x-error-code", "RevisionNotFound"}})),
            "revision not found");
        has(describe_failure(response(404, {{"x-error-code", "EntryNotFound"}})), "no such file");
        has(describe_failure(response(404, {{"x-error-code", "RepoNotFound"}})), "does not exist");
        has(describe_failure(response(404)), "not found");
    }
    SECTION("429, 416, 5xx") {
        auto r = response(429, {{"retry-after", "600"}});
        r.attempts = 5;
        const auto d = describe_failure(r);
        has(d, "HTTP 429");
        has(d, "rate-limited");
        has(d, "5 attempts");
        has(describe_failure(response(416)), "beyond the end");
        auto s = response(503);
        s.attempts = 2;
        has(describe_failure(s), "server error after 2 attempts");
        // One attempt (no retries, or the reason of a Retrying event): no "after 1 attempts".
        CHECK(describe_failure(response(503)) == "HTTP 503: server error");
        CHECK(describe_failure(response(429)).find("attempt") == std::string::npos);
        has(describe_failure(response(418)), "unexpected");
    }
    SECTION("server text is clipped and made printable") {
        const std::string hostile = "bad\x1b[31m\r\nX-Injected: 1" + std::string(5000, 'z');
        const auto d = describe_failure(response(403, {{"x-error-message", hostile}}));
        CHECK(printable(d));
        CHECK(d.size() < 1000);
        auto r = response(0);
        r.error = "weird\x01\x7f";
        CHECK(printable(describe_failure(r)));
        auto redirect = response(307);
        redirect.error = "redirect to an unusable address: \x1b[2K\r";
        CHECK(printable(describe_failure(redirect)));
        r.error = "caf\xc3\xa9 " + std::string(3000, 'x');  // not the client's own words
        const auto long_error = describe_failure(r);
        CHECK(printable(long_error));
        CHECK(long_error.size() < 1000);
    }
}

// ----------------------------------------------------------------------------------------------
// Globs

TEST_CASE("glob_rejects: include and exclude patterns", "[hub]") {
    using mscan::glob_rejects;
    CHECK_FALSE(glob_rejects("sub/model.bin", {}, {}));
    SECTION("a pattern without '/' matches the file name anywhere") {
        CHECK_FALSE(glob_rejects("pytorch_model.bin", {"*.bin"}, {}));
        CHECK_FALSE(glob_rejects("a/b/c/pytorch_model.bin", {"*.bin"}, {}));
        const auto why = glob_rejects("a/model.safetensors", {"*.bin"}, {});
        REQUIRE(why);
        CHECK(why->find("--include") != std::string::npos);
        // The name, not the folder, is matched by an include.
        CHECK(glob_rejects("x.bin/readme.md", {"*.bin"}, {}));
    }
    SECTION("an exclude without '/' also matches the name of any folder the file is in") {
        CHECK(glob_rejects("node_modules/m.pkl", {}, {"node_modules"}));
        CHECK(glob_rejects("a/node_modules/b/m.pkl", {}, {"node_modules"}));
        CHECK(glob_rejects("a/node_modules/b/m.pkl", {}, {"node_modules/"}));
        CHECK(glob_rejects("a/.cache/m.pkl", {}, {".*"}));
        CHECK_FALSE(glob_rejects("a/node_modules_x/m.pkl", {}, {"node_modules"}));
        // With '/', the path of a folder from the top of the target.
        CHECK(glob_rejects("a/b/c/m.pkl", {}, {"a/b"}));
        CHECK_FALSE(glob_rejects("x/a/b/m.pkl", {}, {"a/b"}));
    }
    SECTION("a pattern with '/' matches the whole relative path") {
        CHECK_FALSE(glob_rejects("sub/a.bin", {"sub/*.bin"}, {}));
        CHECK(glob_rejects("a.bin", {"sub/*.bin"}, {}));
        CHECK(glob_rejects("other/sub/a.bin", {"sub/*.bin"}, {}));
        const auto why = glob_rejects("onnx/model.onnx", {}, {"onnx/*"});
        REQUIRE(why);
        CHECK(why->find("onnx/*") != std::string::npos);
        CHECK_FALSE(glob_rejects("model.onnx", {}, {"onnx/*"}));
    }
    SECTION("exclude wins over include; the reason names the pattern") {
        const auto why = glob_rejects("shards/bad-00001.bin", {"*.bin"}, {"*.safetensors", "bad*"});
        REQUIRE(why);
        CHECK(why->find("--exclude") != std::string::npos);
        CHECK(why->find("'bad*'") != std::string::npos);
        CHECK_FALSE(glob_rejects("shards/good-00001.bin", {"*.bin"}, {"bad*"}));
    }
    SECTION("any include pattern suffices; character classes and '?'") {
        CHECK_FALSE(glob_rejects("w.pt", {"*.bin", "*.pt"}, {}));
        CHECK_FALSE(glob_rejects("model-00002-of-00003.bin", {"model-0000[0-9]-*"}, {}));
        CHECK(glob_rejects("model-0000x-of-00003.bin", {"model-0000[0-9]-*"}, {}));
        CHECK_FALSE(glob_rejects("a1.h5", {"a?.h5"}, {}));
        CHECK(glob_rejects("a12.h5", {"a?.h5"}, {}));
    }
}

// ----------------------------------------------------------------------------------------------
// The local cache

namespace {

/// A cache root with a model (links into blobs/, one broken, one unreferenced blob), a
/// dataset stored as copied files, a PR ref, and an unrelated file.
struct Cache {
    TempDir tmp;
    fs::path root;
    fs::path model;
    fs::path dataset;
    Cache() {
        root = tmp.path / "hub";
        model = root / "models--org--name";
        dataset = root / "datasets--org--data";
        write_file(model / "refs" / "main", kSha1);
        write_file(model / "refs" / "refs" / "pr" / "1", kSha2 + "\n");
        const std::string weights_blob(64, 'a');
        const std::string config_blob = "1111111111111111111111111111111111111111";
        write_file(model / "blobs" / weights_blob, "PK weights");
        write_file(model / "blobs" / config_blob, "{}");
        write_file(model / "blobs" / std::string(64, 'c'), "orphan");
        const fs::path snap = model / "snapshots" / kSha1;
        fs::create_directories(snap / "sub");
        fs::create_symlink("../../../blobs/" + weights_blob, snap / "sub" / "file.bin");
        fs::create_symlink("../../blobs/" + config_blob, snap / "config.json");
        fs::create_symlink("../../blobs/" + std::string(64, 'd'), snap / "missing.bin");
        const fs::path pr = model / "snapshots" / kSha2;
        fs::create_directories(pr);
        fs::create_symlink("../../blobs/" + config_blob, pr / "config.json");
        write_file(dataset / "refs" / "main", kSha2);
        write_file(dataset / "snapshots" / kSha2 / "data" / "train.csv", "a,b\n");
        write_file(root / "version.txt", "1");
    }
};

const mscan::hub::CacheSnapshot* find_snapshot(const mscan::hub::CacheListing& l,
                                               const std::string& id, const std::string& commit) {
    for (const auto& s : l.snapshots)
        if (s.repo_id == id && s.commit == commit) return &s;
    return nullptr;
}

std::vector<std::string> repo_paths(const mscan::hub::CacheSnapshot& s) {
    std::vector<std::string> out;
    for (const auto& f : s.files)
        out.push_back(f.first);
    return out;
}

}  // namespace

TEST_CASE("read_cache_dir on a cache root", "[hub]") {
    Cache cache;
    const auto listing = mscan::hub::read_cache_dir(cache.root.string());
    REQUIRE(listing);
    REQUIRE(listing->snapshots.size() == 3);

    const auto* main = find_snapshot(*listing, "org/name", kSha1);
    REQUIRE(main);
    CHECK(main->type == RepoType::Model);
    CHECK(main->display() == "hf://org/name@" + kSha1);
    CHECK(repo_paths(*main) == std::vector<std::string>{"config.json", "sub/file.bin"});
    for (const auto& [rel, local] : main->files) {
        CHECK(fs::path(local).is_absolute());
        CHECK(fs::exists(local));
        CHECK(fs::equivalent(fs::path(local).parent_path(),
                             cache.model / "snapshots" / kSha1 / fs::path(rel).parent_path()));
    }
    REQUIRE(main->broken.size() == 1);
    CHECK(main->broken[0].first.find("missing.bin") != std::string::npos);
    CHECK(main->broken[0].second.find("blob") != std::string::npos);

    const auto* pr = find_snapshot(*listing, "org/name", kSha2);
    REQUIRE(pr);
    CHECK(repo_paths(*pr) == std::vector<std::string>{"config.json"});

    const auto* data = find_snapshot(*listing, "org/data", kSha2);
    REQUIRE(data);
    CHECK(data->type == RepoType::Dataset);
    CHECK(data->display() == "hf://datasets/org/data@" + kSha2);
    CHECK(repo_paths(*data) == std::vector<std::string>{"data/train.csv"});
    CHECK(data->broken.empty());

    // The unreferenced blob is scanned under its own path; linked blobs are not listed twice.
    REQUIRE(listing->other_files.size() == 1);
    CHECK(fs::path(listing->other_files[0]).filename() == std::string(64, 'c'));
    // The unrelated file at the root is scanned as an ordinary path.
    CHECK(std::find_if(listing->other_paths.begin(), listing->other_paths.end(),
                       [](const std::string& p) {
                           return fs::path(p).filename() == "version.txt";
                       }) != listing->other_paths.end());
    for (const auto& p : listing->other_paths)
        CHECK(fs::path(p).filename().string().find("--") == std::string::npos);
}

TEST_CASE("read_cache_dir on a repo folder and a snapshot folder", "[hub]") {
    Cache cache;
    SECTION("a repo folder") {
        const auto listing = mscan::hub::read_cache_dir(cache.model.string());
        REQUIRE(listing);
        CHECK(listing->snapshots.size() == 2);
        CHECK(find_snapshot(*listing, "org/name", kSha1));
        CHECK(listing->other_files.size() == 1);
        CHECK(listing->other_paths.empty());
    }
    SECTION("a snapshot folder, with or without a trailing slash") {
        for (const std::string& dir :
             std::vector<std::string>{(cache.model / "snapshots" / kSha1).string(),
                                      (cache.model / "snapshots" / kSha1).string() + "/"}) {
            INFO(dir);
            const auto listing = mscan::hub::read_cache_dir(dir);
            REQUIRE(listing);
            REQUIRE(listing->snapshots.size() == 1);
            const auto& s = listing->snapshots[0];
            CHECK(s.repo_id == "org/name");
            CHECK(s.commit == kSha1);
            CHECK(repo_paths(s) == std::vector<std::string>{"config.json", "sub/file.bin"});
            CHECK(s.broken.size() == 1);
            CHECK(listing->other_files.empty());
        }
    }
    SECTION("a copied-file snapshot (no symlinks, no blobs)") {
        const auto listing = mscan::hub::read_cache_dir(cache.dataset.string());
        REQUIRE(listing);
        REQUIRE(listing->snapshots.size() == 1);
        CHECK(listing->snapshots[0].type == RepoType::Dataset);
        CHECK(repo_paths(listing->snapshots[0]) == std::vector<std::string>{"data/train.csv"});
        CHECK(listing->other_files.empty());
    }
    SECTION("relative paths work like absolute ones") {
        const fs::path before = fs::current_path();
        fs::current_path(cache.root);
        const auto listing = mscan::hub::read_cache_dir("models--org--name/snapshots/" + kSha1);
        fs::current_path(before);
        REQUIRE(listing);
        REQUIRE(listing->snapshots.size() == 1);
        CHECK(listing->snapshots[0].repo_id == "org/name");
    }
}

TEST_CASE("read_cache_dir: what is not a cache", "[hub]") {
    TempDir tmp;
    write_file(tmp.path / "plain" / "model.bin", "x");
    CHECK_FALSE(mscan::hub::read_cache_dir((tmp.path / "plain").string()));
    CHECK_FALSE(mscan::hub::read_cache_dir((tmp.path / "plain" / "model.bin").string()));
    CHECK_FALSE(mscan::hub::read_cache_dir((tmp.path / "does-not-exist").string()));
    CHECK_FALSE(mscan::hub::read_cache_dir(""));
    // A folder named like a repo but without snapshots/ is not one.
    fs::create_directories(tmp.path / "fake" / "models--org--name" / "blobs");
    CHECK_FALSE(mscan::hub::read_cache_dir((tmp.path / "fake").string()));
    CHECK_FALSE(mscan::hub::read_cache_dir((tmp.path / "fake" / "models--org--name").string()));
    // "--" inside the name part cannot come from a repo id.
    fs::create_directories(tmp.path / "bad" / "models--a--b--c" / "snapshots" / kSha1);
    CHECK_FALSE(mscan::hub::read_cache_dir((tmp.path / "bad").string()));
    // A snapshots/<x> folder outside a repo folder.
    fs::create_directories(tmp.path / "loose" / "snapshots" / kSha1);
    CHECK_FALSE(mscan::hub::read_cache_dir((tmp.path / "loose" / "snapshots" / kSha1).string()));
}

TEST_CASE("find_cached by branch, commit and PR ref", "[hub]") {
    Cache cache;
    const std::string dir = cache.root.string();
    std::string error;
    auto target = [](RepoType type, const std::string& id, const std::string& rev) {
        HubTarget t;
        t.type = type;
        t.repo_id = id;
        t.revision = rev;
        t.revision_given = rev != "main";
        return t;
    };
    SECTION("a branch through refs/") {
        const auto s =
            mscan::hub::find_cached(dir, target(RepoType::Model, "org/name", "main"), error);
        REQUIRE(s);
        CHECK(s->commit == kSha1);
        CHECK(s->repo_id == "org/name");
        CHECK(s->type == RepoType::Model);
        CHECK(repo_paths(*s) == std::vector<std::string>{"config.json", "sub/file.bin"});
        CHECK(s->broken.size() == 1);
    }
    SECTION("a commit directly") {
        const auto s =
            mscan::hub::find_cached(dir, target(RepoType::Model, "org/name", kSha2), error);
        REQUIRE(s);
        CHECK(s->commit == kSha2);
        CHECK(repo_paths(*s) == std::vector<std::string>{"config.json"});
    }
    SECTION("refs/pr/1 is stored as refs/refs/pr/1 (with a newline here)") {
        const auto s =
            mscan::hub::find_cached(dir, target(RepoType::Model, "org/name", "refs/pr/1"), error);
        INFO(error);
        REQUIRE(s);
        CHECK(s->commit == kSha2);
    }
    SECTION("a dataset") {
        const auto s =
            mscan::hub::find_cached(dir, target(RepoType::Dataset, "org/data", "main"), error);
        REQUIRE(s);
        CHECK(s->type == RepoType::Dataset);
        CHECK(s->commit == kSha2);
        // The same id as a model is another repo.
        CHECK_FALSE(
            mscan::hub::find_cached(dir, target(RepoType::Model, "org/data", "main"), error));
    }
    SECTION("what is not there") {
        CHECK_FALSE(
            mscan::hub::find_cached(dir, target(RepoType::Model, "org/other", "main"), error));
        CHECK(error.find("not in the local cache") != std::string::npos);
        CHECK(error.find("hf://org/other") != std::string::npos);
        error.clear();
        CHECK_FALSE(mscan::hub::find_cached(dir, target(RepoType::Model, "org/name", "v2"), error));
        CHECK(error.find("'v2'") != std::string::npos);
        error.clear();
        CHECK_FALSE(mscan::hub::find_cached(
            dir, target(RepoType::Model, "org/name", std::string(40, 'e')), error));
        CHECK_FALSE(error.empty());
        error.clear();
        CHECK_FALSE(
            mscan::hub::find_cached("", target(RepoType::Model, "org/name", "main"), error));
        CHECK(error.find("no cache folder") != std::string::npos);
    }
    SECTION("a ref that does not hold a commit") {
        write_file(cache.model / "refs" / "bad", "../../../../etc");
        CHECK_FALSE(
            mscan::hub::find_cached(dir, target(RepoType::Model, "org/name", "bad"), error));
        write_file(cache.model / "refs" / "empty", "");
        CHECK_FALSE(
            mscan::hub::find_cached(dir, target(RepoType::Model, "org/name", "empty"), error));
        write_file(cache.model / "refs" / "long", kSha1 + std::string(100, 'x'));
        CHECK_FALSE(
            mscan::hub::find_cached(dir, target(RepoType::Model, "org/name", "long"), error));
    }
}

// ----------------------------------------------------------------------------------------------
// RemoteSource without a network

namespace {

/// A loopback port nothing listens on (bound, then released).
int closed_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    ::close(fd);
    return ntohs(addr.sin_port);
}

}  // namespace

TEST_CASE("RemoteSource: nothing listening is a readable read error", "[hub]") {
    mscan::hub::HttpOptions options;
    options.max_retries = 0;
    options.connect_timeout_ms = 2000;
    mscan::hub::HttpClient http(options);
    mscan::hub::RemoteFile file;
    file.url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/org/name/resolve/" + kSha1 +
               "/model.bin";
    file.size = 1000;
    file.token = "hf_secretTOKEN";
    file.token_origin = mscan::hub::url_origin(file.url);
    mscan::hub::RemoteSource source(http, file);
    CHECK(source.size() == 1000);
    CHECK(source.view(0, 100).empty());
    const std::string error = source.read_error();
    INFO(error);
    REQUIRE_FALSE(error.empty());
    CHECK(printable(error));
    CHECK(error.find("connection refused by 127.0.0.1:") != std::string::npos);
    CHECK(error.find("hf_secretTOKEN") == std::string::npos);
    CHECK(http.requests() == 1);
    CHECK(source.requests() == 1);
    CHECK(source.fetched() == 0);
    // The error sticks: later views fail without asking again.
    CHECK(source.view(500, 10).empty());
    CHECK(http.requests() == 1);
    CHECK(source.read_error() == error);
}

TEST_CASE("RemoteSource: the per-file download limit refuses before any request", "[hub]") {
    mscan::hub::HttpOptions options;
    options.max_retries = 0;
    mscan::hub::HttpClient http(options);
    mscan::hub::RemoteFile file;
    file.url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/x.bin";
    file.size = 1000;
    mscan::hub::RemoteLimits limits;
    limits.max_fetch = 10;
    mscan::hub::RemoteSource source(http, file, limits);
    CHECK(source.view(0, 100).empty());
    const std::string error = source.read_error();
    INFO(error);
    CHECK(error.find("limit") != std::string::npos);
    CHECK(error.find("NOT") != std::string::npos);
    CHECK(http.requests() == 0);
    CHECK(source.requests() == 0);
    CHECK(source.fetched() == 0);
}

TEST_CASE("RemoteSource: views outside the file ask for nothing", "[hub]") {
    mscan::hub::HttpOptions options;
    options.max_retries = 0;
    mscan::hub::HttpClient http(options);
    mscan::hub::RemoteFile file;
    file.url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/x.bin";
    file.size = 1000;
    mscan::hub::RemoteSource source(http, file);
    CHECK(source.view(1000, 1).empty());
    CHECK(source.view(UINT64_MAX, 1).empty());
    CHECK(source.view(0, 0).empty());
    CHECK(source.read_error().empty());
    CHECK(http.requests() == 0);
    // A view larger than any remote read allows is refused, not downloaded.
    mscan::hub::RemoteFile huge = file;
    huge.size = std::uint64_t{1} << 40;
    mscan::hub::RemoteSource big(http, huge);
    CHECK(big.view(0, mscan::limits::kRemoteMaxView + 1).empty());
    CHECK_FALSE(big.read_error().empty());
    CHECK(http.requests() == 0);
    CHECK(source.preferred_window() == mscan::limits::kRemoteBlockBytes);
}

TEST_CASE("HubClient addresses: resolve and web URLs, a listing with nothing listening", "[hub]") {
    CHECK(mscan::hub::type_plural(RepoType::Model) == "models");
    CHECK(mscan::hub::type_plural(RepoType::Dataset) == "datasets");
    CHECK(mscan::hub::type_plural(RepoType::Space) == "spaces");
    CHECK(mscan::hub::type_prefix(RepoType::Model).empty());
    CHECK(mscan::hub::type_prefix(RepoType::Dataset) == "datasets/");
    CHECK(mscan::hub::type_prefix(RepoType::Space) == "spaces/");

    mscan::hub::HttpOptions options;
    options.max_retries = 0;
    mscan::hub::HttpClient http(options);
    HubConfig config;
    config.endpoint = "http://127.0.0.1:" + std::to_string(closed_port());
    config.token = "hf_secretTOKEN";
    config.token_source = "HF_TOKEN";
    mscan::hub::HubClient client(config, http);
    HubTarget dataset;
    dataset.type = RepoType::Dataset;
    dataset.repo_id = "org/name";
    CHECK(client.resolve_url(dataset, kSha1, "sub/my file#1.bin") ==
          config.endpoint + "/datasets/org/name/resolve/" + kSha1 + "/sub/my%20file%231.bin");
    CHECK(client.web_url(dataset) == config.endpoint + "/datasets/org/name");
    HubTarget model;
    model.repo_id = "gpt2";
    CHECK(client.resolve_url(model, kSha1, "a.bin") ==
          config.endpoint + "/gpt2/resolve/" + kSha1 + "/a.bin");
    CHECK(client.web_url(model) == config.endpoint + "/gpt2");

    const auto listing = client.list(dataset);
    INFO(listing.error);
    CHECK(listing.files.empty());
    CHECK(listing.commit.empty());
    CHECK(listing.error.find("hf://datasets/org/name") != std::string::npos);
    CHECK(listing.error.find("connection refused") != std::string::npos);
    CHECK(listing.error.find("hf_secretTOKEN") == std::string::npos);
    CHECK(printable(listing.error));
    CHECK(http.requests() == 1);
}

// ----------------------------------------------------------------------------------------------
// HttpClient on loopback: what a slow request tells its caller, transport failures in words

namespace {

using mscan::hub::HttpEvent;

/// A listening socket on 127.0.0.1 that is never accepted from: the kernel completes each
/// connection and keeps the request, and no answer ever comes (the server of issue 14).
struct SilentListener {
    int fd = -1;
    int port = 0;
    SilentListener() {
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        REQUIRE(fd >= 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        REQUIRE(::listen(fd, 16) == 0);
        socklen_t len = sizeof addr;
        REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
        port = ntohs(addr.sin_port);
    }
    ~SilentListener() { ::close(fd); }
    SilentListener(const SilentListener&) = delete;
    SilentListener& operator=(const SilentListener&) = delete;
};

/// A loopback server on its own thread: for each connection it reads what the client sends
/// first (an HTTP request head, or a TLS ClientHello), writes `reply`, then closes the
/// connection or holds it open, silent, until the server is destroyed.
class ScriptedServer {
  public:
    enum class Then { Close, Hold };
    ScriptedServer(std::string reply, Then then) : reply_(std::move(reply)), then_(then) {
        REQUIRE(::pipe(stop_) == 0);
        thread_ = std::thread([this] { serve(); });
    }
    ~ScriptedServer() {
        const char byte = 0;
        CHECK(::write(stop_[1], &byte, 1) == 1);
        thread_.join();
        ::close(stop_[0]);
        ::close(stop_[1]);
    }
    ScriptedServer(const ScriptedServer&) = delete;
    ScriptedServer& operator=(const ScriptedServer&) = delete;
    int port() const { return listener_.port; }

  private:
    /// Waits for `fd` to be readable; false when the server is stopping or after `ms`.
    bool readable(int fd, int ms) const {
        pollfd fds[2] = {{fd, POLLIN, 0}, {stop_[0], POLLIN, 0}};
        return ::poll(fds, 2, ms) > 0 && (fds[1].revents & POLLIN) == 0 &&
               (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0;
    }
    void serve() {
        std::vector<int> held;
        while (readable(listener_.fd, -1)) {
            const int c = ::accept(listener_.fd, nullptr, nullptr);
            if (c < 0) continue;
            std::string got;
            char buf[4096];
            // The request head, or whatever comes before a 200 ms pause (a ClientHello).
            while (got.find("\r\n\r\n") == std::string::npos && readable(c, 200)) {
                const ssize_t n = ::recv(c, buf, sizeof buf, 0);
                if (n <= 0) break;
                got.append(buf, static_cast<std::size_t>(n));
            }
            if (!reply_.empty()) (void)!::send(c, reply_.data(), reply_.size(), MSG_NOSIGNAL);
            if (then_ == Then::Hold) {
                held.push_back(c);
            } else {
                ::close(c);
            }
        }
        for (const int c : held)
            ::close(c);
    }

    SilentListener listener_;
    std::string reply_;
    Then then_;
    int stop_[2] = {-1, -1};
    std::thread thread_;
};

/// The events a request sent, with the time each came (seconds since the recorder was made).
struct EventLog {
    std::mutex mutex;
    std::vector<HttpEvent> events;
    std::vector<double> at;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();

    std::function<void(const HttpEvent&)> callback() {
        return [this](const HttpEvent& e) {
            std::lock_guard guard(mutex);
            events.push_back(e);
            at.push_back(
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        };
    }
    std::vector<HttpEvent> of(HttpEvent::Kind kind, int attempt) const {
        std::vector<HttpEvent> out;
        for (const auto& e : events) {
            if (e.kind == kind && e.attempt == attempt) out.push_back(e);
        }
        return out;
    }
    std::size_t count(HttpEvent::Kind kind) const {
        return static_cast<std::size_t>(std::count_if(
            events.begin(), events.end(), [&](const HttpEvent& e) { return e.kind == kind; }));
    }
};

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("HttpClient: a server that accepts and never answers", "[hub][http]") {
    SilentListener server;
    const std::string host = "127.0.0.1:" + std::to_string(server.port);
    EventLog log;
    mscan::hub::HttpOptions options;
    options.stall_timeout_s = 2;
    options.max_retries = 1;
    options.backoff_s = 0.1;
    options.on_event = log.callback();
    mscan::hub::HttpClient http(options);
    mscan::hub::HttpRequest request;
    request.url = "http://" + host + "/api/models/org/name";
    const auto started = std::chrono::steady_clock::now();
    const auto r = http.fetch(request);
    const double took = seconds_since(started);
    INFO(r.error << " after " << took << " s");
    CHECK(r.status == 0);
    CHECK(r.attempts == 2);
    CHECK(http.requests() == 2);
    CHECK(took < 8);

    // Waiting: from the first second on, about once a second, the seconds growing, for each
    // attempt; never faster than once a second.
    for (const int attempt : {1, 2}) {
        const auto waiting = log.of(HttpEvent::Kind::Waiting, attempt);
        INFO("attempt " << attempt);
        REQUIRE_FALSE(waiting.empty());
        CHECK(waiting.front().seconds >= 1.0);
        for (std::size_t i = 0; i < waiting.size(); ++i) {
            CHECK(waiting[i].host == host);
            CHECK(waiting[i].max_attempts == 2);
            CHECK(waiting[i].seconds < 4);
            CHECK(waiting[i].reason.empty());
            if (i > 0) CHECK(waiting[i].seconds >= std::floor(waiting[i - 1].seconds) + 1);
        }
    }
    CHECK(log.of(HttpEvent::Kind::Waiting, 1).size() >= 2);  // 2 s of silence, reported at 1 s, 2 s

    // Retrying: once, between the two attempts, with the first attempt's failure.
    const auto retrying = log.of(HttpEvent::Kind::Retrying, 1);
    REQUIRE(retrying.size() == 1);
    CHECK(log.count(HttpEvent::Kind::Retrying) == 1);
    const HttpEvent& retry = retrying.front();
    CHECK(retry.host == host);
    CHECK(retry.attempt == 1);
    CHECK(retry.max_attempts == 2);
    CHECK(retry.seconds == Approx(0.1));
    INFO(retry.reason);
    CHECK(contains(retry.reason, "no answer from " + host));
    CHECK(contains(retry.reason, "waiting for an answer"));
    CHECK_FALSE(contains(retry.reason, "attempts"));
    // In order: attempt 1's waits, the retry, attempt 2's waits.
    std::vector<int> order;
    for (const auto& e : log.events)
        order.push_back(e.kind == HttpEvent::Kind::Retrying ? 0 : e.attempt);
    CHECK(std::is_sorted(order.begin(), order.end(), [](int a, int b) {
        const auto rank = [](int v) { return v == 1 ? 0 : v == 0 ? 1 : 2; };
        return rank(a) < rank(b);
    }));

    // The final error names the wait, the host and the attempts.
    CHECK(contains(r.error, "no answer from " + host + ": timed out after "));
    CHECK(contains(r.error, " s waiting for an answer"));
    const std::string said = mscan::hub::describe_failure(r);
    CHECK(contains(said, "no answer from " + host));
    CHECK(contains(said, "(2 attempts)"));
    CHECK(printable(said));
}

TEST_CASE("HttpClient: a quick answer sends no event", "[hub][http]") {
    ScriptedServer server("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
                          ScriptedServer::Then::Close);
    EventLog log;
    mscan::hub::HttpOptions options;
    options.on_event = log.callback();
    mscan::hub::HttpClient http(options);
    mscan::hub::HttpRequest request;
    request.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/x";
    const auto r = http.fetch(request);
    INFO(r.error);
    CHECK(r.status == 200);
    CHECK(r.body == "ok");
    CHECK(log.events.empty());
}

TEST_CASE("HttpClient: an answer that starts and then stalls is not 'waiting'", "[hub][http]") {
    // Headers only: body bytes would keep libcurl's speed average above 1 byte/s for 5 s.
    ScriptedServer server("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
                          ScriptedServer::Then::Hold);
    const std::string host = "127.0.0.1:" + std::to_string(server.port());
    EventLog log;
    mscan::hub::HttpOptions options;
    options.stall_timeout_s = 1;
    options.max_retries = 0;
    options.on_event = log.callback();
    mscan::hub::HttpClient http(options);
    mscan::hub::HttpRequest request;
    request.url = "http://" + host + "/x";
    const auto r = http.fetch(request);
    INFO(r.error);
    CHECK(r.status == 0);
    CHECK(r.error == "the answer from " + host + " stalled: nothing came for 1 s");
    CHECK(log.events.empty());  // the answer had begun: nothing to wait for
}

TEST_CASE("HttpClient: a host name that does not resolve is said so, and not retried",
          "[hub][http]") {
    // .invalid never resolves (RFC 6761): the resolver says so at once, without the internet.
    // With no name server reachable at all, the connect timeout ends resolving instead, and
    // the words are the same.
    EventLog log;
    mscan::hub::HttpOptions options;
    options.connect_timeout_ms = 3000;
    options.max_retries = 2;
    options.backoff_s = 1;
    options.on_event = log.callback();
    mscan::hub::HttpClient http(options);
    mscan::hub::HttpRequest request;
    request.url = "http://mscan-test.invalid/api/models/org/name";
    const auto started = std::chrono::steady_clock::now();
    const auto r = http.fetch(request);
    INFO(r.error);
    CHECK(r.status == 0);
    CHECK(contains(r.error, "could not resolve host mscan-test.invalid"));
    CHECK_FALSE(contains(r.error, "no answer"));
    CHECK(contains(mscan::hub::describe_failure(r), "could not resolve host mscan-test.invalid"));
    if (r.error.find("did not answer") == std::string::npos) {  // the name is unknown: final
        CHECK(r.attempts == 1);
        CHECK(http.requests() == 1);
        CHECK(log.count(HttpEvent::Kind::Retrying) == 0);
        CHECK(seconds_since(started) < 3.5);
    }
}

TEST_CASE("HttpClient: refused, closed, cut and TLS failures in words", "[hub][http]") {
    mscan::hub::HttpOptions options;
    options.max_retries = 0;
    options.stall_timeout_s = 2;
    SECTION("connection refused, retried with a Retrying event") {
        EventLog log;
        options.max_retries = 1;
        options.backoff_s = 0.05;
        options.on_event = log.callback();
        mscan::hub::HttpClient http(options);
        const std::string host = "127.0.0.1:" + std::to_string(closed_port());
        mscan::hub::HttpRequest request;
        request.url = "http://" + host + "/x";
        const auto r = http.fetch(request);
        CHECK(r.error == "connection refused by " + host);
        CHECK(r.attempts == 2);
        CHECK(mscan::hub::describe_failure(r) == "connection refused by " + host + " (2 attempts)");
        REQUIRE(log.events.size() == 1);
        const HttpEvent& e = log.events.front();
        CHECK(e.kind == HttpEvent::Kind::Retrying);
        CHECK(e.reason == "connection refused by " + host);
        CHECK(e.attempt == 1);
        CHECK(e.max_attempts == 2);
        CHECK(e.seconds == Approx(0.05));
    }
    SECTION("closed without answering") {
        ScriptedServer server("", ScriptedServer::Then::Close);
        mscan::hub::HttpClient http(options);
        mscan::hub::HttpRequest request;
        request.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/x";
        const auto r = http.fetch(request);
        CHECK(r.error == "127.0.0.1:" + std::to_string(server.port()) +
                             " closed the connection without answering");
    }
    SECTION("closed in the middle of the body") {
        ScriptedServer server("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nsome",
                              ScriptedServer::Then::Close);
        mscan::hub::HttpClient http(options);
        mscan::hub::HttpRequest request;
        request.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/x";
        const auto r = http.fetch(request);
        INFO(r.error);
        CHECK(contains(r.error, "closed the connection before the whole answer came"));
        CHECK(contains(r.error, "96 bytes remaining"));  // curl's own words, kept
        CHECK(r.transient);
    }
    SECTION("TLS with a server that speaks plain HTTP") {
        ScriptedServer server("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
                              ScriptedServer::Then::Close);
        mscan::hub::HttpClient http(options);
        const std::string host = "127.0.0.1:" + std::to_string(server.port());
        mscan::hub::HttpRequest request;
        request.url = "https://" + host + "/x";
        const auto r = http.fetch(request);
        INFO(r.error);
        CHECK(r.status == 0);
        CHECK(contains(r.error, "the TLS handshake with " + host + " failed ("));
        CHECK(printable(r.error));
        CHECK_FALSE(r.transient);
    }
}

// ----------------------------------------------------------------------------------------------
// Known bugs in src/hub (reported to the lead; hidden until fixed: run with "[hub-bug]").

namespace {

/// A target path is either refused or clean: no '.'/'..'/empty segment, no leading '/', no
/// control character.
void refused_or_clean(const std::string& text) {
    std::string error;
    const auto t = mscan::hub::parse_target(text, HubConfig{}, error);
    if (!t) return;
    INFO(text << " -> path '" << t->path << "'");
    CHECK(printable(t->path));
    CHECK_FALSE(t->path.starts_with("/"));
    std::size_t start = 0;
    while (start <= t->path.size() && !t->path.empty()) {
        const auto slash = t->path.find('/', start);
        const std::string part = t->path.substr(start, slash - start);
        CHECK(part != "..");
        CHECK(part != ".");
        CHECK_FALSE(part.empty());
        if (slash == std::string::npos) break;
        start = slash + 1;
    }
}

}  // namespace

TEST_CASE("web URL path escapes cannot smuggle '..', '/' or control characters", "[hub]") {
    refused_or_clean("https://huggingface.co/org/name/blob/main/a%2F..%2F..%2Fx");
    refused_or_clean("https://huggingface.co/org/name/tree/main/a%2F..%2F..%2F..%2Fapi");
    refused_or_clean("https://huggingface.co/org/name/blob/main/%2Fetc%2Fpasswd");
    refused_or_clean("https://huggingface.co/org/name/blob/main/a%00b");
    refused_or_clean("https://huggingface.co/org/name/blob/main/a%0Ab");
}

TEST_CASE("find_cached reads refs only inside the repo folder", "[hub]") {
    Cache cache;
    // A file outside the cache that holds a commit id the cache has a snapshot for.
    const fs::path outside = cache.tmp.path / "outside-ref";
    write_file(outside, kSha1);
    HubTarget t;
    t.repo_id = "org/name";
    t.revision = outside.string();  // what hf://org/name@%2F...%2Foutside-ref parses to
    t.revision_given = true;
    std::string error;
    CHECK_FALSE(mscan::hub::find_cached(cache.root.string(), t, error));
    // parse_target lets such a revision through today.
    const auto parsed = mscan::hub::parse_target(
        "hf://org/name@" + mscan::hub::url_quote(outside.string(), false), HubConfig{}, error);
    CHECK_FALSE(parsed);
}

TEST_CASE("tree entries whose paths leave the repo are refused", "[hub]") {
    for (const char* path : {"../../evil.bin", "/abs.bin", "a/../../b.bin", "a//b", "./a"}) {
        std::vector<mscan::hub::RepoEntry> out;
        std::string error;
        INFO(path);
        CHECK_FALSE(mscan::hub::parse_tree_page(
            std::string(R"([{"type":"file","path":")") + path + R"(","size":1}])", out, error));
    }
}
