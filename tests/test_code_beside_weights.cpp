// Code shipped beside weights: transformers auto_map / custom_pipelines, sentence-transformers
// modules.json, TorchServe manifests, chat_template in tokenizer configs, native executables;
// and the Neighbours lookups they rely on (local folders and Hub listings).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "formats/code_config/hf_config.h"
#include "formats/context.h"
#include "formats/executable/executable_format.h"
#include "formats/hydra_yaml/hydra_config.h"
#include "formats/registry.h"
#include "mscan/limits.h"
#include "mscan/neighbours.h"
#include "mscan/rules.h"
#include "mscan/scan.h"

namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

struct Anomaly {
    std::string code;
    std::string evidence;
};

/// A fixed folder listing: what the config's neighbours are in these tests.
class FakeNeighbours final : public mscan::Neighbours {
  public:
    explicit FakeNeighbours(mscan::Listing files) : files_(std::move(files)) {}
    std::optional<std::uint64_t> file_size(std::string_view relative) const override {
        if (!mscan::stays_inside(relative)) return std::nullopt;
        const auto it = files_.find(relative);
        if (it == files_.end()) return std::nullopt;
        return it->second;
    }
    std::string describe() const override { return "repo/"; }

  private:
    mscan::Listing files_;
};

std::vector<Anomaly> check(const std::string& text, const mscan::Neighbours* near = nullptr,
                           const std::string& name = "config.json") {
    std::vector<Anomaly> out;
    const mscan::OperationSink sink = [&out](mscan::Operation&& op) {
        out.push_back({op.name, op.evidence});
    };
    mscan::ScanBudget budget;
    mscan::Location base;
    base.chain.push_back(name);
    mscan::ParseContext context(sink, base, budget);
    context.set_neighbours(near);
    mscan::hfconfig::check_config(text, context);
    return out;
}

std::size_t count(const std::vector<Anomaly>& found, const std::string& code) {
    std::size_t n = 0;
    for (const auto& a : found)
        n += a.code == code;
    return n;
}

bool any_evidence(const std::vector<Anomaly>& found, const std::string& code,
                  const std::string& part) {
    for (const auto& a : found)
        if (a.code == code && a.evidence.find(part) != std::string::npos) return true;
    return false;
}

mscan::MemorySource source_of(const std::string& s) {
    return mscan::MemorySource(Bytes(s.begin(), s.end()));
}

}  // namespace

TEST_CASE("stays_inside refuses absolute and climbing paths", "[code]") {
    CHECK(mscan::stays_inside("modeling.py"));
    CHECK(mscan::stays_inside("sub/dir/model.onnx.data"));
    CHECK(mscan::stays_inside("a..b/c"));
    CHECK_FALSE(mscan::stays_inside(""));
    CHECK_FALSE(mscan::stays_inside("/etc/passwd"));
    CHECK_FALSE(mscan::stays_inside("\\\\server\\share"));
    CHECK_FALSE(mscan::stays_inside("C:\\Windows\\win.ini"));
    CHECK_FALSE(mscan::stays_inside("../x"));
    CHECK_FALSE(mscan::stays_inside("a/../../x"));
    CHECK_FALSE(mscan::stays_inside("a\\..\\x"));
    CHECK_FALSE(mscan::stays_inside(".."));
}

TEST_CASE("local and listed neighbours", "[code]") {
    const fs::path dir = fs::temp_directory_path() / "mscan-neighbours-test";
    fs::remove_all(dir);
    fs::create_directories(dir / "sub");
    std::ofstream(dir / "model.json") << "{}";
    std::ofstream(dir / "sub" / "data.bin") << "12345";
    std::ofstream(dir.parent_path() / "mscan-neighbours-outside.txt") << "x";
    const auto local = mscan::local_neighbours((dir / "model.json").string());
    CHECK(local->file_size("sub/data.bin") == std::optional<std::uint64_t>(5));
    CHECK_FALSE(local->file_size("missing.bin"));
    CHECK_FALSE(local->file_size("sub"));                              // a folder is not a file
    CHECK_FALSE(local->file_size("../mscan-neighbours-outside.txt"));  // never looked up
    CHECK(local->outside_target("sub/data.bin").empty());
    fs::create_symlink(dir.parent_path() / "mscan-neighbours-outside.txt", dir / "link.txt");
    fs::create_symlink("sub/data.bin", dir / "inner.txt");
    CHECK(local->outside_target("link.txt") ==
          fs::canonical(dir.parent_path() / "mscan-neighbours-outside.txt").generic_string());
    CHECK(local->outside_target("inner.txt").empty());
    CHECK(local->outside_target("missing.txt").empty());
    // With a wider root (a cache repo folder), links anywhere under it are inside.
    const auto wide = mscan::local_neighbours((dir / "model.json").string(), dir.parent_path());
    CHECK(wide->outside_target("link.txt").empty());
    fs::remove_all(dir);
    fs::remove(dir.parent_path() / "mscan-neighbours-outside.txt");

    auto listing = std::make_shared<mscan::Listing>();
    listing->emplace("models/a/model.onnx", 10);
    listing->emplace("models/a/weights.bin", 99);
    listing->emplace("models/b/other.bin", 7);
    const auto listed = mscan::listed_neighbours(listing, "models/a", "hf://o/r/models/a/");
    CHECK(listed->file_size("weights.bin") == std::optional<std::uint64_t>(99));
    CHECK(listed->file_size("./weights.bin") == std::optional<std::uint64_t>(99));
    CHECK_FALSE(listed->file_size("../b/other.bin"));
    CHECK_FALSE(listed->file_size("other.bin"));
    const auto root = mscan::listed_neighbours(listing, "", "hf://o/r/");
    CHECK(root->file_size("models/b/other.bin") == std::optional<std::uint64_t>(7));
}

TEST_CASE("auto_map entries name the module they run and whether it is there", "[code]") {
    const FakeNeighbours near({{"modeling_x.py", 1234}});
    const auto found = check(R"({"auto_map": {
        "AutoConfig": "configuration_x.XConfig",
        "AutoModelForCausalLM": "modeling_x.XForCausalLM",
        "AutoTokenizer": ["tokenization_x.XTokenizer", null],
        "AutoModel": "org/other--modeling_y.Y",
        "AutoProcessor": "/tmp/evil.Cls"}})",
                             &near);
    CHECK(count(found, "hf.remote-code") == 3);
    CHECK(count(found, "hf.remote-code-external") == 2);
    CHECK(any_evidence(found, "hf.remote-code", "modeling_x.py (present, 1,234 bytes)"));
    CHECK(any_evidence(found, "hf.remote-code", "configuration_x.py (NOT in repo/"));
    CHECK(any_evidence(found, "hf.remote-code", "auto_map.AutoTokenizer[0]"));
    CHECK(any_evidence(found, "hf.remote-code-external", "ANOTHER repo, org/other"));
    CHECK(any_evidence(found, "hf.remote-code-external", "/tmp/evil.py"));
    // Without neighbours, presence is not claimed either way.
    const auto unknown = check(R"({"auto_map": {"AutoModel": "modeling_x.X"}})");
    REQUIRE(unknown.size() == 1);
    CHECK(unknown[0].evidence.find("could not check whether it is there") != std::string::npos);
}

TEST_CASE("custom pipelines, modules.json and TorchServe manifests", "[code]") {
    auto found = check(R"({"custom_pipelines": {"t": {"impl": "pipe.P", "pt": []},
                                                "u": {"pt": []}}})");
    CHECK(count(found, "hf.remote-code") == 1);
    found = check(
        R"([{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                     {"idx": 1, "name": "1", "path": "x", "type": "my_mod.Layer"}])");
    REQUIRE(count(found, "hf.remote-code") == 1);
    CHECK(any_evidence(found, "hf.remote-code", "modules[1].type"));
    found = check(R"({"runtime": "python", "archiverVersion": "0.12.0",
                      "model": {"handler": "image_classifier", "serializedFile": "m.pt"}})");
    CHECK(found.empty());
    found = check(R"({"runtime": "python", "archiverVersion": "0.12.0",
                      "model": {"handler": "my_handler:handle", "modelFile": "model.py",
                                "requirementsFile": "requirements.txt"}})");
    CHECK(count(found, "torchserve.code") == 2);
    CHECK(count(found, "torchserve.requirements") == 1);
    CHECK(any_evidence(found, "torchserve.code", "imports my_handler.py"));
}

TEST_CASE("chat_template in a tokenizer config goes through the template check", "[code]") {
    auto found = check(
        R"({"chat_template": "{% for m in messages %}{{ m['role'] + ': ' + m['content'] }}{% endfor %}"})");
    CHECK(found.empty());
    found = check(R"({"chat_template": [
        {"name": "default", "template": "{{ bos_token }}"},
        {"name": "tool_use", "template": "{{ self.__init__.__globals__.os.popen('id').read() }}"}]})");
    REQUIRE_FALSE(found.empty());
    bool labelled = false;
    for (const auto& a : found) {
        CHECK(a.code.rfind("template.", 0) == 0);
        labelled = labelled || a.evidence.find("chat_template.tool_use") != std::string::npos;
    }
    CHECK(labelled);
}

TEST_CASE("broken and hostile config JSON", "[code]") {
    // Cut short: what came before is reported, then the break: high in a file the loader
    // opens by name, low in one recognised by its content only.
    const std::string cut = R"({"auto_map": {"AutoModel": "m.M"}, "x": )";
    auto found = check(cut);
    CHECK(count(found, "hf.remote-code") == 1);
    CHECK(count(found, "hf.config-unreadable") == 1);
    found = check(cut, nullptr, "settings.json");
    CHECK(count(found, "hf.remote-code") == 1);
    CHECK(count(found, "hf.config-malformed") == 1);
    CHECK(count(found, "hf.config-unreadable") == 0);
    found = check(R"({"auto_map": ["m.M"]})");
    CHECK(count(found, "hf.config-malformed") == 1);
    found = check("{\"auto_map\": " + std::string(5000, '[') + std::string(5000, ']') + "}");
    CHECK(count(found, "hf.config-unreadable") == 1);
    // Not JSON at all, under a name its loader opens.
    CHECK(count(check("\x89PNG\r\n"), "hf.config-unreadable") == 1);
    // A huge auto_map stops at the value cap instead of growing without bound.
    std::string big = R"({"auto_map": {"AutoModel": [)";
    for (int i = 0; i < 150000; ++i)
        big += "0,";
    big += "0]}}";
    found = check(big);
    CHECK(count(found, "hf.config-malformed") == 1);
    // Keys only deep inside other values are not auto_map.
    found = check(R"({"text_config": {"auto_map": {"AutoModel": "m.M"}}})");
    CHECK(found.empty());
}

TEST_CASE("config detection", "[code]") {
    using mscan::hfconfig::looks_like_config;
    CHECK(looks_like_config(R"({"auto_map": {}})"));
    CHECK(looks_like_config("  \n{\"chat_template\": \"x\"}"));
    CHECK(looks_like_config(R"([{"idx": 0, "path": "", "type": "t"}])"));
    CHECK_FALSE(looks_like_config(R"({"model_type": "bert"})"));
    CHECK_FALSE(looks_like_config(R"([1, 2, 3])"));
    CHECK_FALSE(looks_like_config("auto_map"));
    // A Keras config that also has one of the keys is read by both readers.
    auto keras = source_of(R"({"class_name": "Sequential", "config": {"layers": []},
                               "auto_map": {"AutoModel": "m.M"}})");
    const mscan::Format* format = mscan::detect_format(keras, "model.json");
    REQUIRE(format);
    CHECK(std::string(format->name) == "code-config");
}

TEST_CASE("a config padded past the size cap is reported, not skipped", "[code]") {
    std::string text = R"({"auto_map": {"AutoModel": "m.M"}, "pad": ")";
    text.append(static_cast<std::size_t>(mscan::limits::kHfConfigMaxBytes), ' ');
    text += "\"}";
    auto source = source_of(text);
    const auto rules = mscan::RuleSet::builtin();
    const auto result = mscan::scan_source(source, "config.json", rules);
    CHECK(result.format == "code-config");
    REQUIRE(result.findings.size() == 1);
    CHECK(result.findings[0].rule_id == "scan-limit-exceeded");
    CHECK(result.findings[0].evidence.find("NOT checked") != std::string::npos);
    // A large JSON file without any of the keys is still not a config.
    std::string plain = "{\"data\": \"";
    plain.append(static_cast<std::size_t>(mscan::limits::kHfConfigMaxBytes), 'x');
    plain += "\"}";
    auto other = source_of(plain);
    CHECK(mscan::scan_source(other, "data.json", rules).status == mscan::FileStatus::Skipped);
}

TEST_CASE("native executables are recognised by their headers", "[code]") {
    auto bytes = [](std::initializer_list<int> v, std::size_t pad) {
        Bytes b;
        for (int x : v)
            b.push_back(static_cast<std::uint8_t>(x));
        b.resize(b.size() + pad);
        return b;
    };
    Bytes elf = bytes({0x7f, 'E', 'L', 'F', 2, 1, 1, 0}, 56);
    elf[16] = 3;
    elf[18] = 62;
    CHECK(mscan::executable::describe(elf) ==
          "ELF 64-bit shared object or position-independent executable, x86-64");
    Bytes macho = bytes({0xcf, 0xfa, 0xed, 0xfe, 0x0c, 0, 0, 0x01, 0, 0, 0, 0, 6, 0, 0, 0}, 16);
    CHECK(mscan::executable::describe(macho) == "Mach-O 64-bit dynamic library, ARM64");
    Bytes mz = bytes({'M', 'Z'}, 200);
    CHECK(mscan::executable::describe(mz).empty());  // MZ without a PE header is not claimed
    mz[0x3c] = 0x40;
    mz[0x40] = 'P';
    mz[0x41] = 'E';
    mz[0x44] = 0x64;
    mz[0x45] = 0x86;
    mz[0x56] = 0x02;
    mz[0x57] = 0x20;
    mz[0x58] = 0x0b;
    mz[0x59] = 0x02;
    CHECK(mscan::executable::describe(mz) == "PE32+ DLL, x86-64");
    mz[0x3c] = 0xf0;  // e_lfanew past the end
    CHECK(mscan::executable::describe(mz).empty());
    const std::string ape = "MZqFpD='\n";
    CHECK(mscan::executable::describe(Bytes(ape.begin(), ape.end())).find("Actually Portable") ==
          0);
    CHECK(mscan::executable::describe(bytes({0x7f, 'E', 'L'}, 0)).empty());
    CHECK(mscan::executable::describe(bytes({0x7f, 'E', 'L', 'F'}, 0)) ==
          "ELF file (truncated header)");
}

TEST_CASE("scanning a folder checks auto_map modules on disk", "[code]") {
    const fs::path samples = fs::path(MSCAN_SOURCE_DIR) / "samples" / "code" / "transformers";
    const auto rules = mscan::RuleSet::builtin();
    mscan::ScanOptions options;
    options.targets = {(samples / "remote_code").string()};
    const auto result = mscan::scan(options, rules);
    std::size_t present = 0, missing = 0;
    for (const auto& file : result.files)
        for (const auto& f : file.findings) {
            if (f.rule_id != "hf-remote-code") continue;
            present += f.evidence.find("(present,") != std::string::npos;
            missing += f.evidence.find("(NOT in ") != std::string::npos;
        }
    CHECK(present == 2);  // configuration_demo.py and modeling_demo.py
    CHECK(missing == 1);  // tokenization_demo.py
}

namespace {

struct Call {
    std::string name;
    std::string evidence;
    bool only_if_denied;
};

std::vector<Call> yaml_calls(const std::string& text) {
    std::vector<Call> out;
    const mscan::OperationSink sink = [&out](mscan::Operation&& op) {
        if (op.kind == mscan::OpKind::Call)
            out.push_back({op.name, op.evidence, op.only_if_denied});
    };
    mscan::ScanBudget budget;
    mscan::Location base;
    base.chain.push_back("model_config.yaml");
    const mscan::ParseContext context(sink, base, budget);
    mscan::hydra::check_yaml(text, context);
    return out;
}

}  // namespace

TEST_CASE("Hydra and NeMo target keys become calls", "[code]") {
    const auto calls = yaml_calls(R"(target: nemo.collections.asr.models.EncDecCTCModel
sample_rate: 16000  # _target_: os.system (a comment)
note: "_target_: builtins.eval"
pre:
  _target_: nemo.collections.asr.modules.AudioToMelSpectrogramPreprocessor
list:
  - _target_: 'subprocess.Popen'
  - {name: x, "cls": builtins.exec, y: 1}
flow: {a: 1, _target_: os.system}
not_a_target: {mytarget: os.system, target_sr: os.system}
target: 0.5
cls: labels
_target_: torch.hub.load
)");
    REQUIRE(calls.size() == 6);
    CHECK(calls[0].name == "nemo.collections.asr.models.EncDecCTCModel");
    CHECK(calls[0].only_if_denied);
    CHECK(calls[0].evidence.rfind("line 1: target:", 0) == 0);
    CHECK(calls[1].name == "nemo.collections.asr.modules.AudioToMelSpectrogramPreprocessor");
    CHECK(calls[2].name == "subprocess.Popen");
    CHECK_FALSE(calls[2].only_if_denied);
    CHECK(calls[3].name == "builtins.exec");
    CHECK(calls[4].name == "os.system");
    CHECK(calls[4].evidence.rfind("line 9:", 0) == 0);
    CHECK(calls[5].name == "torch.hub.load");
    CHECK(calls[5].only_if_denied);  // still reported: a deny rule names it

    CHECK(mscan::hydra::has_targets("_target_: a.b\n"));
    CHECK_FALSE(mscan::hydra::has_targets("target: labels\nx: 1\n"));
    CHECK_FALSE(mscan::hydra::has_targets("# _target_: a.b\n"));
    // Unterminated quotes and odd bytes end the line's scan without reading past it.
    CHECK(yaml_calls("_target_: 'os.system\n_target_: \"\n- {_target_:").empty());
}

TEST_CASE("framework names in a config pass unless a deny rule names them", "[code]") {
    const auto rules = mscan::RuleSet::builtin();
    const std::string yaml =
        "_target_: nemo.collections.nlp.models.MTEncDecModel\n"
        "x:\n  _target_: torch.hub.load\n"
        "y:\n  _target_: my_plugin.Layer\n";
    mscan::MemorySource source(Bytes(yaml.begin(), yaml.end()));
    const auto result = mscan::scan_source(source, "model_config.yaml", rules);
    REQUIRE(result.format == "hydra-yaml");
    std::vector<std::string> subjects;
    for (const auto& f : result.findings)
        subjects.push_back(f.rule_id + " " + f.subject);
    std::sort(subjects.begin(), subjects.end());
    CHECK(subjects == std::vector<std::string>{"ml-framework-gadget torch.hub.load",
                                               "unknown-global my_plugin.Layer"});
    // The same text under another extension is not read as YAML.
    mscan::MemorySource other(Bytes(yaml.begin(), yaml.end()));
    CHECK(mscan::scan_source(other, "notes.txt", rules).status == mscan::FileStatus::Skipped);
}

TEST_CASE("a folder scan reports files named like models that match no format") {
    char tmpl[] = "/tmp/mscan-named-like-model.XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    const fs::path dir = tmpl;
    const auto write = [&](const std::string& name, const std::string& bytes) {
        std::ofstream(dir / name, std::ios::binary) << bytes;
    };
    write("pytorch_model.bin", std::string(64, '\x07'));  // no format
    write("last.ckpt", "");                               // empty
    write("graph.pb", "not a protobuf, but text");
    write("notes.txt", "hello");                           // not named like a model
    write("openvino_model.bin", std::string(64, '\x07'));  // OpenVINO weights beside their .xml
    write("openvino_model.xml", "<net/>");
    const auto rules = mscan::RuleSet::builtin();
    mscan::ScanOptions options;
    options.targets = {dir.string()};
    const auto has_mismatch = [](const mscan::FileResult& f) {
        return f.status == mscan::FileStatus::Scanned && f.findings.size() == 1 &&
               f.findings[0].rule_id == "format-mismatch" &&
               f.findings[0].severity == mscan::Severity::Medium &&
               f.findings[0].evidence.find("NOT scanned") != std::string::npos;
    };
    const auto by_name = [](const mscan::ScanResult& r, const std::string& name) {
        for (const auto& f : r.files)
            if (fs::path(f.path).filename() == name) return f;
        FAIL("no result for " << name);
        return mscan::FileResult{};
    };
    {
        // Only such files: nothing was found to be a model, so they stay skipped (exit 3).
        const auto r = mscan::scan(options, rules);
        CHECK(by_name(r, "pytorch_model.bin").status == mscan::FileStatus::Skipped);
        CHECK(mscan::count_files(r).scanned == 0);
    }
    // One real model beside them: now each is a finding, not a silent skip.
    write("model.pkl", std::string("\x80\x02]q\x00.", 6));
    const auto r = mscan::scan(options, rules);
    CHECK(by_name(r, "model.pkl").findings.empty());
    CHECK(has_mismatch(by_name(r, "pytorch_model.bin")));
    CHECK(has_mismatch(by_name(r, "last.ckpt")));
    CHECK(has_mismatch(by_name(r, "graph.pb")));
    CHECK(by_name(r, "notes.txt").status == mscan::FileStatus::Skipped);
    CHECK(by_name(r, "openvino_model.bin").status == mscan::FileStatus::Skipped);
    // A name TensorFlow opens by itself is read whatever it holds, and what it holds is
    // reported: here, not a SavedModel.
    write("saved_model.pb", "not a protobuf, but text");
    const auto named = mscan::scan(options, rules);
    const auto saved = by_name(named, "saved_model.pb");
    CHECK(saved.format == "savedmodel");
    bool malformed = false;
    for (const auto& f : saved.findings)
        malformed = malformed || f.rule_id == "savedmodel-malformed";
    CHECK(malformed);
    fs::remove_all(dir);
}
