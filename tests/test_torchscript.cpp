// The TorchScript code review: code torch.jit.save wrote for real models
// (tests/data/torchscript/benign: torchvision's resnet and its functional helpers, torchvision's
// nms wrapper with ops.torchvision, torchvision detection code, quantized modules with
// ops.quantized and torch.classes.quantized) gives no issue, a scripted __setstate__
// (tests/data/torchscript/setstate) only its own; every spelling torch's importer resolves to a
// file, process, native-library, network or custom op is found; words in strings and comments are
// not code; what the lexer refuses and the caps are reported as not checked.
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "formats/torchscript/lexer.h"
#include "formats/torchscript/torchscript_code.h"
#include "mscan/limits.h"

namespace {

namespace fs = std::filesystem;
using mscan::torchscript::CodeIssue;
using mscan::torchscript::IssueKind;
using mscan::torchscript::review_code;
using mscan::torchscript::tokenize;
using mscan::torchscript::TokenKind;

const fs::path kData = fs::path(MSCAN_SOURCE_DIR) / "tests" / "data" / "torchscript";

std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string describe(const std::vector<CodeIssue>& issues) {
    std::string s;
    for (const auto& i : issues)
        s += std::string(mscan::torchscript::anomaly_code(i.kind)) + " line " +
             std::to_string(i.line) + ": " + i.expression + " (" + i.why + ")\n";
    return s;
}

std::size_t count(const std::vector<CodeIssue>& issues, IssueKind kind) {
    std::size_t n = 0;
    for (const auto& i : issues)
        n += i.kind == kind;
    return n;
}

bool has(const std::vector<CodeIssue>& issues, IssueKind kind, const std::string& expr) {
    for (const auto& i : issues)
        if (i.kind == kind && i.expression.find(expr) != std::string::npos) return true;
    return false;
}

/// A method body in the shape torch.jit.save writes.
std::string method(const std::string& body) {
    return "class M(Module):\n  __parameters__ = []\n  training : bool\n"
           "  def forward(self: __torch__.M,\n    x: Tensor) -> Tensor:\n" +
           body + "    return x\n";
}

}  // namespace

TEST_CASE("torchscript: code torch.jit.save wrote for real models is not flagged") {
    int files = 0;
    for (const auto& entry : fs::directory_iterator(kData / "benign")) {
        const std::string text = read(entry.path());
        REQUIRE(!text.empty());
        const auto issues = review_code(text);
        INFO(entry.path().filename().string() << "\n" << describe(issues));
        CHECK(issues.empty());
        ++files;
    }
    CHECK(files >= 5);
}

TEST_CASE("torchscript: a scripted __setstate__ is reported with its class, and nothing else") {
    // A module's own __getstate__/__setstate__ pair, and torch's statically quantized
    // ConvReLU2d, which restores its packed weights in a scripted __setstate__.
    int files = 0;
    for (const auto& entry : fs::directory_iterator(kData / "setstate")) {
        const auto issues = review_code(read(entry.path()));
        INFO(entry.path().filename().string() << "\n" << describe(issues));
        CHECK(count(issues, IssueKind::SetState) == 1);
        CHECK(issues.size() == 1);
        CHECK(has(issues, IssueKind::SetState, "def __setstate__"));
        CHECK(has(issues, IssueKind::SetState, "class "));
        ++files;
    }
    CHECK(files >= 2);
}

TEST_CASE("torchscript: file access in every spelling the importer resolves") {
    const struct {
        const char* body;
        const char* expr;
    } cases[] = {
        {"    t = torch.from_file(\"/etc/passwd\", False, 4, dtype=0)\n", "/etc/passwd"},
        {"    t = ops.aten.from_file(\"/etc/shadow\", True, 4)\n", "ops.aten.from_file"},
        {"    t = torch.ops.aten.from_file(\"/x\", True, 4)\n", "torch.ops.aten.from_file"},
        {"    t = getattr(torch, \"from\" \"_file\")(\"/x\", True, 4)\n", "torch.from_file"},
        {"    t = (torch).from_file(\"/x\", True, 4)\n", "torch.from_file"},
        {"    t = ((getattr(ops, \"aten\"))).from_file(\"/x\")\n", "ops.aten.from_file"},
        {"    _0 = torch\n    t = _0.from_file(\"/x\")\n", "where _0 = torch"},
        {"    _0 = ops\n    _1 = _0.aten\n    t = _1.from_file(\"/x\")\n", "where _1 = ops.aten"},
        {"    _0 = torch.from_file\n    t = _0(\"/x\")\n", "torch.from_file"},
        {"    torch.save(x, \"/tmp/out.pt\")\n", "torch.save(..., \"/tmp/out.pt\""},
        {"    ops.aten.save(x, \"/tmp/out.pt\")\n", "ops.aten.save"},
        {"    t = torch.UntypedStorage.from_file(\"/x\", True, 4)\n", "UntypedStorage.from_file"},
        {"    t = (x).from_file(\"/x\")\n", "from_file"},
        {"    t = torch.load(\"/tmp/m.pt\")\n", "torch.load"},
        {"    t = ops.image.read_file(\"/etc/passwd\")\n", "ops.image.read_file"},
        {"    ops.image.write_file(\"/x\", x)\n", "ops.image.write_file"},
        {"    f = open(\"/etc/passwd\")\n", "open(\"/etc/passwd\""},
        {"    t = __torch__.torch.classes.torchvision.Video(\"/x.mp4\", \"video\")\n", "Video"},
    };
    for (const auto& c : cases) {
        const auto issues = review_code(method(c.body));
        INFO(c.body << describe(issues));
        CHECK(has(issues, IssueKind::FileAccess, c.expr));
    }
}

TEST_CASE("torchscript: native libraries, processes, network, custom ops") {
    const struct {
        const char* body;
        IssueKind kind;
        const char* expr;
    } cases[] = {
        {"    torch.ops.load_library(\"/tmp/libx.so\")\n", IssueKind::NativeLibrary,
         "load_library"},
        {"    torch.classes.load_library(\"/tmp/libx.so\")\n", IssueKind::NativeLibrary,
         "classes.load_library"},
        {"    h = ctypes.CDLL(\"/tmp/libx.so\")\n", IssueKind::NativeLibrary, "ctypes.CDLL"},
        {"    os.system(\"id\")\n", IssueKind::Process, "os.system(\"id\""},
        {"    subprocess.Popen([\"sh\"])\n", IssueKind::Process, "subprocess.Popen"},
        {"    eval(\"1\")\n", IssueKind::Process, "eval(\"1\""},
        {"    _0 = os\n    _0.system(\"id\")\n", IssueKind::Process, "where _0 = os"},
        {"    y = ops.prim.rpc_sync(\"worker1\", x)\n", IssueKind::Network, "rpc_sync"},
        {"    y = ops.c10d.allreduce_(x)\n", IssueKind::Network, "ops.c10d"},
        {"    y = ops.mscan_evil.run(x)\n", IssueKind::CustomOp, "ops.mscan_evil.run"},
        {"    y = getattr(ops, \"mscan\" \"_evil\").run(x)\n", IssueKind::CustomOp, "mscan_evil"},
        {"    y = torch.ops.evil.run(x)\n", IssueKind::CustomOp, "torch.ops.evil"},
        {"    _0 = ops.evil\n    y = _0.run(x)\n", IssueKind::CustomOp, "ops.evil"},
        {"    y = __torch__.torch.classes.evil.Thing()\n", IssueKind::CustomOp, "classes.evil"},
        // A type comment is code: torch lexes what follows "# type:".
        {"    y = x  # type: __torch__.torch.classes.evil.Thing\n", IssueKind::CustomOp,
         "classes.evil"},
    };
    for (const auto& c : cases) {
        const auto issues = review_code(method(c.body));
        INFO(c.body << describe(issues));
        CHECK(has(issues, c.kind, c.expr));
    }
}

TEST_CASE("torchscript: known op and class namespaces, strings and comments are not code") {
    const char* benign[] = {
        "    y = ops.quantized.linear_dynamic(x, self._packed_params, True)\n",
        "    y = ops.torchvision.nms(x, x, 0.5)\n",
        "    ops.prim.RaiseException(\"torch.from_file(os.system)\", \"builtins.ValueError\")\n",
        "    y = ops.profiler._record_function_enter(\"x\", None)\n",
        "    p : __torch__.torch.classes.quantized.LinearPackedParamsBase = self.p\n",
        "    # torch.from_file(\"/etc/passwd\") ops.evil.x os.system\n",
        "    s = \"ops.evil.run(x) \\\" torch.save(x, 'p')\"\n",
        "    s = '''ops.evil.run(x)\n  torch.from_file(\"/x\")'''\n",
        "    y = self.os.system\n",        // an attribute named os is not the module
        "    y = torch.add(x, os0)\n",     // names are whole words
        "    open0 = x\n    y = open0\n",  // builtins count only when called
        "    _0 = __torch__.torch.nn.functional.relu\n    y = _0(x)\n",
        "    y = getattr(self.layers, \"0\")\n",  // Sequential children, as torch writes them
        // A local named like a Python module is the local.
        "    io = self.io\n    y = io.weight\n",
        "    for glob in self.globs:\n      y = glob.weight\n",
    };
    for (const char* body : benign) {
        const auto issues = review_code(method(body));
        INFO(body << describe(issues));
        CHECK(issues.empty());
    }
}

TEST_CASE("torchscript: a comment ends only at a newline, as in torch's lexer") {
    // '\r' does not end a comment: all of this is one comment for torch.
    auto issues = review_code(method("    # note\r y = ops.evil.run(x)\n"));
    INFO(describe(issues));
    CHECK(issues.empty());
    // A backslash-newline joins lines outside strings, and an escaped newline continues a
    // one-quote string.
    issues = review_code(method("    y = torch.\\\nfrom_file(\"/x\")\n"));
    CHECK(count(issues, IssueKind::FileAccess) == 1);
    issues = review_code(method("    s = \"abc\\\n ops.evil.x()\"\n"));
    CHECK(issues.empty());
}

TEST_CASE("torchscript: the lexer follows torch's tokens and escapes") {
    auto lexed = tokenize("a.b(\"x\\ty\", '\\101', 0x1fp3, 1.5e-3j) # c\n# type: int\n");
    REQUIRE(lexed.error.empty());
    std::vector<std::string> strings;
    for (const auto& t : lexed.tokens)
        if (t.kind == TokenKind::String) strings.push_back(t.text);
    CHECK(strings == std::vector<std::string>{"x\ty", "A"});
    bool type_comment_lexed = false;  // the type comment's `int` is a token
    for (const auto& t : lexed.tokens)
        type_comment_lexed = type_comment_lexed || (t.kind == TokenKind::Name && t.text == "int");
    CHECK(type_comment_lexed);
    // What torch's lexer refuses.
    for (const char* bad : {"s = \"abc\n\"", "s = 'abc", "s = \"\\x41\"", "s = \"\\u0041\"",
                            "s = \"\\9\"", "x = 1 \xc3\xa9", "x = \x01", "s = \"\\777\""}) {
        INFO(bad);
        CHECK(!tokenize(bad).error.empty());
    }
}

TEST_CASE("torchscript: what the lexer refuses is NOT checked, what came before is") {
    const auto issues =
        review_code(method("    t = torch.from_file(\"/x\")\n    y = x \xff\n"
                           "    os.system(\"id\")\n"));
    INFO(describe(issues));
    CHECK(count(issues, IssueKind::FileAccess) == 1);
    CHECK(count(issues, IssueKind::NotChecked) == 1);
    CHECK(count(issues, IssueKind::Process) == 0);
}

TEST_CASE("torchscript: caps are findings") {
    SECTION("a file over the size cap is checked up to the cap, the rest is NOT checked") {
        std::string text(mscan::limits::kTorchScriptMaxCodeBytes, '\n');
        text += "    t = torch.from_file(\"/x\")\n";
        const auto issues = review_code(text);
        INFO(describe(issues));
        CHECK(count(issues, IssueKind::NotChecked) == 1);
        CHECK(count(issues, IssueKind::FileAccess) == 0);
    }
    SECTION("issues of one kind are capped per file") {
        std::string body;
        for (int i = 0; i < 40; ++i)
            body += "    t" + std::to_string(i) + " = torch.from_file(\"/x\")\n";
        const auto issues = review_code(method(body));
        CHECK(count(issues, IssueKind::FileAccess) == mscan::limits::kTorchScriptMaxIssuesPerKind);
    }
    SECTION("nesting deeper than the cap is NOT checked") {
        std::string deep = "    y = ";
        for (int i = 0; i < 100; ++i)
            deep += "(";
        deep += "ops";
        for (int i = 0; i < 100; ++i)
            deep += ")";
        deep += ".evil.run(x)\n";
        const auto issues = review_code(method(deep));
        INFO(describe(issues));
        CHECK(count(issues, IssueKind::NotChecked) >= 1);
    }
    SECTION("getattr on a namespace with a computed name is NOT checked") {
        const auto issues = review_code(method("    y = getattr(ops, name)(x)\n"));
        INFO(describe(issues));
        CHECK(count(issues, IssueKind::NotChecked) == 1);
    }
    SECTION("a name bound to too many namespaces is NOT followed further") {
        std::string body;
        for (int i = 0; i < 40; ++i)
            body += "    _0 = ops.ns" + std::to_string(i) + "\n";
        const auto issues = review_code(method(body));
        INFO(describe(issues));
        CHECK(count(issues, IssueKind::NotChecked) == 1);
    }
}

TEST_CASE("torchscript: hostile text does not make the review slow") {
    // Long runs of the constructs the review looks through: linear in the text.
    std::string text;
    for (int i = 0; i < 20000; ++i)
        text += "getattr((((ops";
    for (int i = 0; i < 20000; ++i)
        text += "_0 = _1\n_1 = _0\n";
    const auto start = std::chrono::steady_clock::now();
    (void)review_code(text);
    const auto seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    CHECK(seconds < 5.0);
}
