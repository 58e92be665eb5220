// Opcode semantics of the symbolic pickle machine: what it reports for hand-built streams.
#include <catch2/catch.hpp>
#include <functional>
#include <string>
#include <vector>

#include "formats/pickle/pickle_format.h"
#include "formats/pickle/pickle_machine.h"
#include "mscan/limits.h"
#include "pickle_builder.h"

using mscan::Operation;
using mscan::OpKind;
using mscan::test::PickleBuilder;
namespace op = mscan::pickle::op;

namespace {

struct Run {
    std::vector<Operation> ops;
    mscan::pickle::RunSummary summary;

    std::vector<const Operation*> of(OpKind kind, const std::string& name = "") const {
        std::vector<const Operation*> out;
        for (const auto& o : ops) {
            if (o.kind == kind && (name.empty() || o.name == name)) out.push_back(&o);
        }
        return out;
    }
    bool has(OpKind kind, const std::string& name) const { return !of(kind, name).empty(); }
    bool has_anomaly(const std::string& code) const { return has(OpKind::Anomaly, code); }
};

Run run(const std::vector<std::uint8_t>& bytes) {
    mscan::MemorySource source(bytes);
    mscan::ByteReader reader(source);
    Run r;
    mscan::Location base;
    base.chain.push_back("t.pkl");
    r.summary = mscan::pickle::scan_pickle(reader, base,
                                           [&r](Operation&& o) { r.ops.push_back(std::move(o)); });
    return r;
}

}  // namespace

TEST_CASE("GLOBAL + REDUCE is a call with constant arguments as evidence") {
    PickleBuilder b;
    b.proto(2).system_call("posix", "curl x | sh").stop();
    const Run r = run(b.bytes);
    const auto calls = r.of(OpKind::Call, "posix.system");
    REQUIRE(calls.size() == 1);
    CHECK(calls[0]->evidence == "posix.system('curl x | sh')");
    CHECK(calls[0]->location.offset == 33);  // the REDUCE opcode
    CHECK(calls[0]->location.chain == std::vector<std::string>{"t.pkl"});
    // A called global is reported by its call, not again as an import.
    CHECK_FALSE(r.has(OpKind::Import, "posix.system"));
    CHECK(r.summary.clean);
}

TEST_CASE("a global that is only imported is an import") {
    PickleBuilder b;
    b.proto(2).global("shutil", "rmtree").op(op::POP).op(op::NONE).stop();
    const Run r = run(b.bytes);
    CHECK(r.has(OpKind::Import, "shutil.rmtree"));
    CHECK_FALSE(r.has(OpKind::Call, "shutil.rmtree"));
}

TEST_CASE("STACK_GLOBAL operands come through the memo, latest value wins") {
    PickleBuilder b;
    b.proto(4).str("collections").binput(0).str("OrderedDict").binput(1);
    b.op(op::POP).op(op::POP);
    b.str("os").binput(0);  // overwrite key 0
    b.op(op::POP);
    b.binget(0).str("system").op(op::STACK_GLOBAL).str("echo hi").tuple1().reduce().stop();
    const Run r = run(b.bytes);
    CHECK(r.has(OpKind::Call, "os.system"));
    CHECK_FALSE(r.has(OpKind::Call, "collections.system"));
}

TEST_CASE("MEMOIZE keys follow memo size") {
    PickleBuilder b;
    b.proto(4).str("subprocess").memoize().str("Popen").memoize().op(op::POP).op(op::POP);
    b.op(op::BINGET)
        .u8(0)
        .op(op::BINGET)
        .u8(1)
        .op(op::STACK_GLOBAL)
        .op(op::EMPTY_TUPLE)
        .reduce()
        .stop();
    const Run r = run(b.bytes);
    CHECK(r.has(OpKind::Call, "subprocess.Popen"));
}

TEST_CASE("a STACK_GLOBAL operand that is not a constant string is unresolved") {
    PickleBuilder b;
    b.proto(4)
        .global("builtins", "str")
        .op(op::EMPTY_TUPLE)
        .reduce()
        .str("system")
        .op(op::STACK_GLOBAL)
        .stop();
    const Run r = run(b.bytes);
    CHECK(r.has_anomaly("pickle.unresolved-global"));
}

TEST_CASE("dotted names resolve like find_class: pathlib + os.system is os.system") {
    PickleBuilder b;
    b.proto(4).stack_global("pathlib", "os.system").str("echo hi").tuple1().reduce().stop();
    const Run r = run(b.bytes);
    const auto calls = r.of(OpKind::Call, "pathlib.os.system");
    REQUIRE(calls.size() == 1);
    CHECK(std::find(calls[0]->aliases.begin(), calls[0]->aliases.end(), "os.system") !=
          calls[0]->aliases.end());
}

TEST_CASE("a dotted name through a dunder attribute is an anomaly") {
    PickleBuilder b;
    b.proto(4).stack_global("collections", "OrderedDict.__init__.__globals__").stop();
    const Run r = run(b.bytes);
    CHECK(r.has_anomaly("pickle.dunder-attribute"));
}

TEST_CASE("getattr(<global>, 'const') folds into the global it yields") {
    // getattr(posixpath.os, 'system'): the os module reached as an attribute of posixpath.
    PickleBuilder d;
    d.proto(2)
        .global("builtins", "getattr")
        .global("posixpath", "os")
        .binunicode("system")
        .op(op::TUPLE2)
        .reduce()
        .binunicode("echo hi")
        .tuple1()
        .reduce()
        .stop();
    const Run r = run(d.bytes);
    CHECK_FALSE(r.has(OpKind::Call, "builtins.getattr"));
    const auto calls = r.of(OpKind::Call, "posixpath.os.system");
    REQUIRE(calls.size() == 1);
    CHECK(std::find(calls[0]->aliases.begin(), calls[0]->aliases.end(), "os.system") !=
          calls[0]->aliases.end());
}

TEST_CASE("getattr on an instance of a known class") {
    // getattr(collections.OrderedDict(), <name>), stored.
    auto build = [](const std::string& name) {
        PickleBuilder b;
        b.proto(2)
            .global("builtins", "getattr")
            .global("collections", "OrderedDict")
            .op(op::EMPTY_TUPLE)
            .reduce()
            .binunicode(name)
            .op(op::TUPLE2)
            .reduce();
        return b.stop().bytes;
    };
    SECTION("a constant name, stored: the class attribute, judged as stored") {
        const Run r = run(build("keys"));
        CHECK_FALSE(r.has(OpKind::Call, "builtins.getattr"));
        CHECK(r.has(OpKind::Import, "collections.OrderedDict.keys"));
    }
    SECTION("a dunder name stays reflection") {
        const Run r = run(build("__class__"));
        CHECK(r.has(OpKind::Call, "builtins.getattr"));
    }
    SECTION("calling the bound method is reflection") {
        PickleBuilder b;
        b.proto(2)
            .global("builtins", "getattr")
            .global("collections", "OrderedDict")
            .op(op::EMPTY_TUPLE)
            .reduce()
            .binunicode("keys")
            .op(op::TUPLE2)
            .reduce()
            .op(op::EMPTY_TUPLE)
            .reduce()
            .stop();
        const Run r = run(b.bytes);
        CHECK(r.has(OpKind::Call, "builtins.getattr"));
    }
    SECTION("a name that is not a constant stays reflection") {
        PickleBuilder b;
        b.proto(2)
            .global("builtins", "getattr")
            .global("builtins", "object")
            .op(op::EMPTY_TUPLE)
            .reduce()
            .global("builtins", "str")
            .op(op::EMPTY_TUPLE)
            .reduce()
            .op(op::TUPLE2)
            .reduce()
            .stop();
        const Run r = run(b.bytes);
        CHECK(r.has(OpKind::Call, "builtins.getattr"));
    }
}

TEST_CASE("protocol 2 names map to Python 3 (fix_imports)") {
    PickleBuilder b;
    b.proto(2).global("__builtin__", "eval").binunicode("1").tuple1().reduce().stop();
    const Run r = run(b.bytes);
    const auto calls = r.of(OpKind::Call, "builtins.eval");
    REQUIRE(calls.size() == 1);
    CHECK(calls[0]->aliases == std::vector<std::string>{"__builtin__.eval"});
}

TEST_CASE("INST, OBJ, NEWOBJ and NEWOBJ_EX are calls") {
    SECTION("INST") {
        PickleBuilder b;
        b.op(op::MARK).raw("S'id'\n").op(op::INST).raw("subprocess\ncall\n").op(op::STOP);
        const Run r = run(b.bytes);
        const auto calls = r.of(OpKind::Call, "subprocess.call");
        REQUIRE(calls.size() == 1);
        CHECK(calls[0]->evidence == "subprocess.call('id')");
    }
    SECTION("OBJ") {
        PickleBuilder b;
        b.proto(1).op(op::MARK).global("os", "system").binunicode("id").op(op::OBJ).stop();
        CHECK(run(b.bytes).has(OpKind::Call, "os.system"));
    }
    SECTION("NEWOBJ") {
        PickleBuilder b;
        b.proto(2).global("subprocess", "Popen").binunicode("id").tuple1().op(op::NEWOBJ).stop();
        CHECK(run(b.bytes).has(OpKind::Call, "subprocess.Popen"));
    }
    SECTION("NEWOBJ_EX") {
        PickleBuilder b;
        b.proto(4)
            .stack_global("subprocess", "check_output")
            .binunicode("id")
            .tuple1()
            .op(op::EMPTY_DICT)
            .op(op::NEWOBJ_EX)
            .stop();
        CHECK(run(b.bytes).has(OpKind::Call, "subprocess.check_output"));
    }
}

TEST_CASE("BUILD on an object calls its class's __setstate__") {
    PickleBuilder b;
    b.proto(2)
        .global("mypkg", "Net")
        .op(op::EMPTY_TUPLE)
        .op(op::NEWOBJ)
        .op(op::EMPTY_DICT)
        .op(op::BUILD)
        .stop();
    const Run r = run(b.bytes);
    const auto calls = r.of(OpKind::Call, "mypkg.Net");
    REQUIRE(calls.size() == 2);
    CHECK(calls[1]->evidence == "mypkg.Net.__setstate__({})");
}

TEST_CASE("a BUILD state that holds its own object makes no reference cycle") {
    // numpy.dtype keeps its BUILD state (joblib reads elsize from it). A state that holds the
    // dtype, directly or through a list filled afterwards, must not become a shared_ptr cycle:
    // the sanitizer build's leak check fails this test if one is kept.
    PickleBuilder direct;
    direct.proto(2)
        .global("numpy", "dtype")
        .binunicode("f8")
        .op(op::NEWFALSE)
        .op(op::NEWTRUE)
        .op(op::TUPLE3)
        .reduce()
        .binput(0)
        .op(op::MARK)
        .binget(0)
        .op(op::TUPLE)
        .op(op::BUILD)
        .stop();
    const Run a = run(direct.bytes);
    CHECK(a.has(OpKind::Call, "numpy.dtype"));
    CHECK(a.summary.clean);

    PickleBuilder later;
    later.proto(2)
        .global("numpy", "dtype")
        .binunicode("f8")
        .op(op::NEWFALSE)
        .op(op::NEWTRUE)
        .op(op::TUPLE3)
        .reduce()
        .binput(0)
        .op(op::EMPTY_LIST)
        .binput(1)
        .tuple1()
        .op(op::BUILD)
        .binget(1)
        .binget(0)
        .op(op::APPEND)
        .op(op::POP)
        .stop();
    const Run b = run(later.bytes);
    CHECK(b.has(OpKind::Call, "numpy.dtype"));
}

namespace {
// sympy.<module>.<cls>(args...) as GLOBAL + MARK + args + TUPLE + REDUCE; `args` is raw opcodes.
PickleBuilder& sympy_call(PickleBuilder& b, const std::string& module, const std::string& cls,
                          const std::function<void(PickleBuilder&)>& args) {
    b.global("sympy." + module, cls).op(op::MARK);
    args(b);
    return b.op(op::TUPLE).reduce();
}
PickleBuilder& symbol(PickleBuilder& b, const std::string& name) {
    return sympy_call(b, "core.symbol", "Symbol", [&](PickleBuilder& a) { a.binunicode(name); });
}
}  // namespace

TEST_CASE("sympy: arguments that sympify would parse as code") {
    const std::string code = "__import__('os').system('echo hi')";
    SECTION("expressions of sympy objects and numbers pass") {
        PickleBuilder b;
        b.proto(2);
        sympy_call(b, "functions.elementary.exponential", "exp", [&](PickleBuilder& a) {
            sympy_call(a, "core.mul", "Mul", [&](PickleBuilder& m) {
                sympy_call(m, "core.numbers", "NegativeOne", [](PickleBuilder&) {});
                symbol(m, "x");  // Symbol's name is text, but Symbol reads it as a name
            });
        });
        b.stop();
        const Run r = run(b.bytes);
        CHECK(r.has(OpKind::Call, "sympy.functions.elementary.exponential.exp"));
        CHECK_FALSE(r.has_anomaly("pickle.sympify-text"));
    }
    SECTION("text in a converting constructor is reported") {
        PickleBuilder b;
        b.proto(2);
        sympy_call(b, "functions.elementary.exponential", "exp",
                   [&](PickleBuilder& a) { a.binunicode(code); });
        b.stop();
        CHECK(run(b.bytes).has_anomaly("pickle.sympify-text"));
    }
    SECTION("text inside a tuple argument, past the items the machine keeps") {
        PickleBuilder b;
        b.proto(2);
        sympy_call(b, "core.containers", "Tuple", [&](PickleBuilder& a) {
            a.op(op::MARK);
            for (std::size_t i = 0; i < mscan::limits::kPickleMaxKeptItems + 2; ++i)
                a.op(op::BININT1).u8(static_cast<std::uint8_t>(i));
            a.binunicode(code).op(op::TUPLE);
        });
        b.stop();
        CHECK(run(b.bytes).has_anomaly("pickle.sympify-text"));
    }
    SECTION("an object of another library: sympify parses its str()") {
        PickleBuilder b;
        b.proto(2);
        sympy_call(b, "core.containers", "Tuple", [&](PickleBuilder& a) {
            a.global("pathlib", "PurePosixPath").binunicode(code).tuple1().reduce();
        });
        b.stop();
        CHECK(run(b.bytes).has_anomaly("pickle.sympify-text"));
    }
    SECTION("a mutable matrix's __setitem__ converts the value") {
        PickleBuilder b;
        b.proto(2)
            .global("sympy.matrices.dense", "MutableDenseMatrix")
            .op(op::EMPTY_TUPLE)
            .reduce()
            .op(op::BININT1)
            .u8(0)
            .binunicode(code)
            .op(op::SETITEM)
            .stop();
        CHECK(run(b.bytes).has_anomaly("pickle.sympify-text"));
    }
    SECTION("an attribute taken from a Symbol is its text, not an expression") {
        PickleBuilder b;
        b.proto(2);
        sympy_call(b, "functions.elementary.exponential", "exp", [&](PickleBuilder& a) {
            a.global("builtins", "getattr");
            symbol(a, code);
            a.binunicode("name").op(op::TUPLE2).reduce();
        });
        b.stop();
        CHECK(run(b.bytes).has_anomaly("pickle.sympify-text"));
    }
    SECTION("Dict converts through Tuple; the polys matrix storage converts nothing") {
        PickleBuilder dict;
        dict.proto(2);
        sympy_call(dict, "core.containers", "Dict", [&](PickleBuilder& a) {
            a.op(op::EMPTY_DICT).binunicode(code).op(op::BININT1).u8(1).op(op::SETITEM);
        });
        dict.stop();
        CHECK(run(dict.bytes).has_anomaly("pickle.sympify-text"));

        PickleBuilder domain;
        domain.proto(2);
        sympy_call(domain, "polys.matrices.domainmatrix", "DomainMatrix", [&](PickleBuilder& a) {
            a.op(op::EMPTY_DICT);
            a.op(op::BININT1).u8(2).op(op::BININT1).u8(2).op(op::TUPLE2);
            sympy_call(a, "polys.domains.expressionrawdomain", "ExpressionRawDomain",
                       [](PickleBuilder&) {});
        });
        domain.stop();
        CHECK_FALSE(run(domain.bytes).has_anomaly("pickle.sympify-text"));
    }
    SECTION("a dict subclass without its own __setitem__ does not") {
        PickleBuilder b;
        b.proto(2)
            .global("sympy.polys.matrices.sdm", "SDM")
            .op(op::EMPTY_TUPLE)
            .reduce()
            .op(op::BININT1)
            .u8(0)
            .binunicode("x")
            .op(op::SETITEM)
            .stop();
        CHECK_FALSE(run(b.bytes).has_anomaly("pickle.sympify-text"));
    }
}

TEST_CASE("copyreg._reconstructor with a base other than object calls the base") {
    PickleBuilder b;
    b.proto(2)
        .global("copyreg", "_reconstructor")
        .global("mypkg", "Thing")
        .global("os", "system")
        .binunicode("echo hi")
        .op(op::TUPLE3)
        .reduce()
        .stop();
    const Run r = run(b.bytes);
    CHECK(r.has(OpKind::Call, "os.system"));
    CHECK(r.has(OpKind::Call, "mypkg.Thing"));

    PickleBuilder plain;
    plain.proto(2)
        .global("copyreg", "_reconstructor")
        .global("mypkg", "Thing")
        .global("builtins", "object")
        .op(op::NONE)
        .op(op::TUPLE3)
        .reduce()
        .stop();
    const Run p = run(plain.bytes);
    CHECK(p.has(OpKind::Call, "mypkg.Thing"));
    CHECK_FALSE(p.has(OpKind::Call, "builtins.object"));
}

TEST_CASE("BUILD on a global itself writes attributes of a module or class") {
    PickleBuilder b;
    b.proto(2).global("torch", "nn").op(op::EMPTY_DICT).op(op::BUILD).stop();
    CHECK(run(b.bytes).has_anomaly("pickle.attribute-write"));
}

TEST_CASE("APPEND and SETITEMS on an object call its methods") {
    PickleBuilder b;
    b.proto(2)
        .global("mypkg", "Bag")
        .op(op::EMPTY_TUPLE)
        .reduce()
        .op(op::MARK)
        .binunicode("k")
        .binunicode("v")
        .op(op::SETITEMS)
        .stop();
    const Run r = run(b.bytes);
    const auto calls = r.of(OpKind::Call, "mypkg.Bag");
    REQUIRE(calls.size() == 2);
    CHECK(calls[1]->evidence == "mypkg.Bag.__setitem__('k': 'v')");
}

TEST_CASE("calling the result of a call is unresolved") {
    PickleBuilder b;
    b.proto(2)
        .global("builtins", "dict")
        .op(op::EMPTY_TUPLE)
        .reduce()
        .op(op::EMPTY_TUPLE)
        .reduce()
        .stop();
    CHECK(run(b.bytes).has_anomaly("pickle.unresolved-callable"));
}

TEST_CASE("EXT1/2/4 fetch from the extension registry") {
    for (std::uint8_t code : {op::EXT1, op::EXT2, op::EXT4}) {
        PickleBuilder b;
        b.proto(2)
            .op(code)
            .le(7, code == op::EXT1   ? 1
                   : code == op::EXT2 ? 2
                                      : 4)
            .binunicode("id")
            .tuple1()
            .reduce()
            .stop();
        const Run r = run(b.bytes);
        CHECK(r.has_anomaly("pickle.extension-code"));
        CHECK(r.has_anomaly("pickle.unresolved-callable"));
    }
}

TEST_CASE("persistent ids are summarised once per stream") {
    PickleBuilder b;
    b.proto(2).op(op::EMPTY_LIST).op(op::MARK);
    for (int i = 0; i < 5; ++i)
        b.binunicode("storage").op(op::BINPERSID);
    b.op(op::APPENDS).raw("Pfoo\n").op(op::POP).stop();
    const Run r = run(b.bytes);
    const auto a = r.of(OpKind::Anomaly, "pickle.persistent-id");
    REQUIRE(a.size() == 1);
    CHECK(a[0]->evidence.find("6 persistent ids") == 0);
}

TEST_CASE("protocol 0 text operands: STRING escapes, UNICODE escapes, INT, LONG, FLOAT") {
    PickleBuilder b;
    b.raw("cos\nsystem\n(S'echo \\x41\\n\\'q\\''\ntR").op(op::POP);
    b.raw("cbuiltins\nexec\n(Vprint(\\u00e9)\ntR").op(op::POP);
    b.raw("I01\nI-12\nL123456789012345678901234567890L\nF1.5\n").op(op::STOP);
    const Run r = run(b.bytes);
    const auto sys = r.of(OpKind::Call, "os.system");
    REQUIRE(sys.size() == 1);
    CHECK(sys[0]->evidence == "os.system('echo A\\n\\'q\\'')");
    const auto ex = r.of(OpKind::Call, "builtins.exec");
    REQUIRE(ex.size() == 1);
    CHECK(ex[0]->evidence == "builtins.exec('print(\xc3\xa9)')");
    CHECK(r.of(OpKind::Anomaly).empty());
}

TEST_CASE("FRAME: correct frames are clean, a straddling opcode is found and reparsed") {
    SECTION("clean") {
        PickleBuilder body;
        body.op(op::EMPTY_DICT).stop();
        PickleBuilder b;
        b.proto(4).op(op::FRAME).le(body.bytes.size(), 8);
        b.bytes.insert(b.bytes.end(), body.bytes.begin(), body.bytes.end());
        const Run r = run(b.bytes);
        CHECK(r.of(OpKind::Anomaly).empty());
        CHECK(r.summary.clean);
    }
    SECTION("straddle") {
        // The frame ends inside a BINBYTES payload; from the frame end, a GLOBAL/REDUCE hides.
        PickleBuilder hidden;
        hidden.global("os", "system").binunicode("id").tuple1().reduce().stop();
        PickleBuilder b;
        b.proto(4).op(op::FRAME).le(6, 8);
        b.op(op::BINBYTES).le(hidden.bytes.size() + 1, 4).op(op::NONE);  // 6 bytes in the frame
        b.bytes.insert(b.bytes.end(), hidden.bytes.begin(), hidden.bytes.end());
        b.op(op::POP).op(op::NONE).stop();
        const Run r = run(b.bytes);
        CHECK(r.has_anomaly("pickle.frame-straddle"));
        CHECK(r.has(OpKind::Call, "os.system"));
        CHECK_FALSE(r.summary.clean);
    }
    SECTION("frame longer than the file") {
        PickleBuilder b;
        b.proto(4).op(op::FRAME).le(1000, 8).op(op::NONE).stop();
        CHECK(run(b.bytes).has_anomaly("pickle.frame-mismatch"));
    }
}

TEST_CASE("back-to-back pickles are all scanned, junk after STOP is trailing data") {
    SECTION("two streams") {
        PickleBuilder b;
        b.proto(2).op(op::EMPTY_DICT).stop().proto(2).system_call().stop();
        const Run r = run(b.bytes);
        CHECK(r.summary.streams == 2);
        CHECK(r.has_anomaly("pickle.multiple-streams"));
        const auto calls = r.of(OpKind::Call, "os.system");
        REQUIRE(calls.size() == 1);
        CHECK(calls[0]->location.stream == "pickle 2");
    }
    SECTION("trailing junk") {
        PickleBuilder b;
        b.proto(2).op(op::EMPTY_DICT).stop().raw(std::string("\x00\xff\xfe", 3));
        const Run r = run(b.bytes);
        CHECK(r.has_anomaly("pickle.trailing-bytes"));
        CHECK_FALSE(r.has_anomaly("pickle.invalid-opcode"));
    }
}

TEST_CASE("a broken stream still reports what came before the break") {
    SECTION("truncated after the payload") {
        PickleBuilder b;
        b.proto(2).system_call();
        const Run r = run(b.bytes);
        CHECK(r.has(OpKind::Call, "os.system"));
        CHECK(r.has_anomaly("pickle.truncated"));
    }
    SECTION("invalid opcode after the payload") {
        PickleBuilder b;
        b.proto(2).system_call().u8(0xff).stop();
        const Run r = run(b.bytes);
        CHECK(r.has(OpKind::Call, "os.system"));
        CHECK(r.has_anomaly("pickle.invalid-opcode"));
    }
    SECTION("truncated inside an operand") {
        PickleBuilder b;
        b.proto(2).global("os", "system").op(op::BINUNICODE).le(100, 4).raw("abc");
        const Run r = run(b.bytes);
        CHECK(r.has(OpKind::Import, "os.system"));
        CHECK(r.has_anomaly("pickle.truncated"));
    }
}

TEST_CASE("declared lengths are checked before anything is allocated") {
    for (std::uint8_t code : {op::BINBYTES8, op::BINUNICODE8, op::BYTEARRAY8}) {
        PickleBuilder b;
        b.proto(5).op(code).le(std::uint64_t{1} << 62, 8).raw("xy").stop();
        CHECK(run(b.bytes).has_anomaly("pickle.truncated"));
    }
    PickleBuilder l;
    l.proto(2).op(op::LONG4).le(0x7fffffff, 4).stop();
    CHECK(run(l.bytes).has_anomaly("pickle.truncated"));
}

TEST_CASE("large payloads are skipped by length and the stream stays in sync") {
    PickleBuilder b;
    b.proto(5).op(op::BINBYTES8).le(1 << 20, 8);
    b.bytes.resize(b.bytes.size() + (1 << 20), 'A');
    b.op(op::POP).system_call().stop();
    const Run r = run(b.bytes);
    CHECK(r.has(OpKind::Call, "os.system"));
    CHECK(r.of(OpKind::Anomaly).empty());
}

TEST_CASE("stack, mark and memo limits are findings, not crashes") {
    SECTION("marks") {
        PickleBuilder b;
        b.proto(2);
        b.bytes.resize(b.bytes.size() + 200000, op::MARK);
        b.stop();
        CHECK(run(b.bytes).has_anomaly("limit.exceeded"));
    }
    SECTION("stack") {
        PickleBuilder b;
        b.proto(2);
        b.bytes.resize(b.bytes.size() + 2000000, op::NONE);
        b.stop();
        CHECK(run(b.bytes).has_anomaly("limit.exceeded"));
    }
    SECTION("memo key 2^32-1") {
        PickleBuilder b;
        b.proto(2)
            .op(op::NONE)
            .op(op::LONG_BINPUT)
            .le(0xffffffff, 4)
            .op(op::LONG_BINGET)
            .le(0xffffffff, 4)
            .stop();
        const Run r = run(b.bytes);
        CHECK_FALSE(r.has_anomaly("pickle.memo-missing"));
        CHECK_FALSE(r.has_anomaly("limit.exceeded"));
    }
}

TEST_CASE("loader errors are reported and scanning continues") {
    PickleBuilder b;
    b.proto(2).op(op::BINGET).u8(9).op(op::POP).op(op::POP).system_call().stop();
    const Run r = run(b.bytes);
    CHECK(r.has_anomaly("pickle.memo-missing"));
    CHECK(r.has_anomaly("pickle.stack-underflow"));
    CHECK(r.has(OpKind::Call, "os.system"));
}

TEST_CASE("protocol anomalies") {
    PickleBuilder b;
    b.proto(2).proto(6).op(op::NONE).stop();
    const Run r = run(b.bytes);
    CHECK(r.of(OpKind::Anomaly, "pickle.protocol-anomaly").size() == 2);
}

TEST_CASE("out-of-band buffers are reported") {
    PickleBuilder b;
    b.proto(5).op(op::NEXT_BUFFER).op(op::READONLY_BUFFER).stop();
    CHECK(run(b.bytes).has_anomaly("pickle.out-of-band-buffer"));
}

TEST_CASE("detection: pickles by content, not by name") {
    auto detect = [](const std::string& text, std::string_view ext) {
        mscan::MemorySource s(std::vector<std::uint8_t>(text.begin(), text.end()));
        return mscan::pickle::detect(s, ext);
    };
    CHECK(detect("\x80\x04\x95", ""));
    CHECK_FALSE(detect("\x80\x09", ""));
    CHECK(detect("cos\nsystem\n(S'id'\ntR.", ""));
    CHECK(detect("(lp0\nI1\naI2\na.", ""));
    CHECK_FALSE(detect("{\"a\": 1}", ""));
    CHECK_FALSE(detect("Some text file\n", ""));
    CHECK_FALSE(detect("PK\x03\x04", ""));
    // A pickle name admits a well-formed stream cut short, not bytes that break at once.
    CHECK(detect("(lp0\nI1\na", ".pkl"));
    CHECK_FALSE(detect("(\xff", ".pkl"));
}

TEST_CASE("limits never hide a payload placed after them (degraded pass)") {
    // os.system('x') after each cap: more open MARKs than kPickleMaxMarks, a deeper stack
    // than kPickleMaxStack, a memo holding more call results than kPickleMaxKeptValues with
    // the payload's global fetched from the memo afterwards.
    auto payload = [](PickleBuilder& b) {
        b.global("os", "system").binunicode("x").tuple1().reduce();
    };
    SECTION("open MARKs") {
        PickleBuilder b;
        b.proto(4);
        for (std::size_t i = 0; i <= mscan::limits::kPickleMaxMarks; ++i)
            b.op(op::MARK);
        payload(b);
        const Run r = run(b.stop().bytes);
        CHECK(r.has(OpKind::Call, "os.system"));
    }
    SECTION("stack depth") {
        PickleBuilder b;
        b.proto(4);
        for (std::size_t i = 0; i <= mscan::limits::kPickleMaxStack; ++i)
            b.op(op::NONE);
        payload(b);
        const Run r = run(b.stop().bytes);
        CHECK(r.has(OpKind::Call, "os.system"));
    }
    SECTION("memo filled with call results before the payload's global is memoised") {
        // The global's memo key is past the cap for call results; globals stay kept.
        PickleBuilder b;
        b.proto(4);
        for (std::size_t i = 0; i <= mscan::limits::kPickleMaxKeptValues; ++i)
            b.global("collections", "OrderedDict")
                .op(op::EMPTY_TUPLE)
                .reduce()
                .op(op::MEMOIZE)
                .op(op::POP);
        const auto key = static_cast<std::uint32_t>(mscan::limits::kPickleMaxKeptValues + 1);
        b.global("os", "system").op(op::MEMOIZE).op(op::POP);
        b.op(op::LONG_BINGET)
            .u8(key & 0xff)
            .u8((key >> 8) & 0xff)
            .u8((key >> 16) & 0xff)
            .u8(key >> 24);
        b.binunicode("x").tuple1().reduce();
        const Run r = run(b.stop().bytes);
        CHECK(r.has(OpKind::Call, "os.system"));
    }
}
