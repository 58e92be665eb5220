// The .npy header reader (Python literal semantics, numpy's dtype decisions), the pickle
// content probe and joblib's ZF container: each expected answer was checked against the real
// loader (numpy.lib.format._read_array_header on the header bytes, pickle.loads on benign
// pickles) or its source.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "formats/joblib/joblib_zfile.h"
#include "formats/npy/npy_format.h"
#include "formats/npy/py_literal.h"
#include "formats/pickle/pickle_detect.h"
#include "mscan/rules.h"
#include "mscan/scan.h"

namespace {

using mscan::numpy::PyValue;

PyValue literal(const std::string& text, bool ok = true) {
    PyValue v;
    std::string error;
    const bool parsed = mscan::numpy::parse_py_literal(text, {}, v, error);
    INFO(text << " -> " << error);
    CHECK(parsed == ok);
    return v;
}

mscan::MemorySource bytes_of(const std::string& s) {
    return mscan::MemorySource(std::vector<std::uint8_t>(s.begin(), s.end()));
}

/// A format 1.0 .npy file with `header` and `data` after it.
std::string npy(const std::string& header, const std::string& data = "") {
    std::string h = header + "\n";
    std::string out("\x93NUMPY\x01\x00", 8);
    out.push_back(static_cast<char>(h.size() & 0xff));
    out.push_back(static_cast<char>(h.size() >> 8));
    return out + h + data;
}

std::optional<mscan::numpy::Header> header_of(const std::string& header, std::string& error) {
    auto src = bytes_of(npy(header));
    return mscan::numpy::parse_header(src, error);
}

bool probe(const std::string& data) {
    auto src = bytes_of(data);
    return mscan::pickle::plausible_pickle(src).pickle;
}

mscan::FileResult scan(const std::string& data, const std::string& name) {
    static const auto rules = mscan::RuleSet::builtin();
    auto src = bytes_of(data);
    return mscan::scan_source(src, name, rules);
}

bool has_rule(const mscan::FileResult& r, const std::string& id) {
    for (const auto& f : r.findings)
        if (f.rule_id == id) return true;
    return false;
}

const std::string kPayloadP0 = "cposix\nsystem\n(S'echo mscan-sample'\ntR.";

}  // namespace

TEST_CASE("Python literals: strings with every escape, prefixes and concatenation") {
    CHECK(literal(R"('\x4f')").text == "O");
    CHECK(literal(R"('\u004f')").text == "O");
    CHECK(literal(R"('\U0000004F')").text == "O");
    CHECK(literal(R"('\117')").text == "O");
    CHECK(literal(R"('\N{LATIN CAPITAL LETTER O}')").text == "O");
    CHECK(literal(R"('\N{latin capital letter o}')").text == "O");
    CHECK_FALSE(literal(R"('\N{NO SUCH NAME}')").ascii);
    CHECK(literal(R"('a\qb')").text == "a\\qb");  // unknown escape keeps its backslash
    CHECK(literal(R"(r'\x4f')").text == "\\x4f");
    CHECK(literal(R"('|' "O")").text == "|O");
    CHECK(literal("'|'\n'O'").text == "|O");
    CHECK(literal("'''O'''").text == "O");
    CHECK(literal("u'O'").type == PyValue::Type::Str);
    CHECK(literal("b'O'").type == PyValue::Type::Bytes);
    literal("'a' b'b'", false);  // str and bytes do not concatenate
    literal("f'O'", false);
    literal(R"('\x4')", false);
    literal("'a\nb'", false);
    literal("'abc", false);
}

TEST_CASE("Python literals: numbers, containers and what literal_eval refuses") {
    CHECK(literal("0x10").number == 16);
    CHECK(literal("0o7").number == 7);
    CHECK(literal("0b101").number == 5);
    CHECK(literal("1_000").number == 1000);
    CHECK(literal("-(1)").number == -1);
    CHECK(literal("- 1").number == -1);
    CHECK(literal("00").number == 0);
    CHECK(literal("2L").number == 2);  // Python 2 long, dropped as numpy's header filter does
    CHECK(literal("99999999999999999999").big);
    CHECK(literal("1.5").type == PyValue::Type::Float);
    CHECK(literal("1+2j").type == PyValue::Type::Float);
    CHECK(literal("(1)").type == PyValue::Type::Int);
    CHECK(literal("(1,)").type == PyValue::Type::Tuple);
    CHECK(literal("()").type == PyValue::Type::Tuple);
    CHECK(literal("{1, 2}").type == PyValue::Type::Set);
    CHECK(literal("set()").type == PyValue::Type::Set);
    CHECK(literal("...").type == PyValue::Type::Ellipsis);
    CHECK(literal("{'a': 1, # comment\n 'b': 2,}").items.size() == 4);
    literal("01", false);
    literal("--1", false);
    literal("1__0", false);
    literal("(1,,)", false);
    literal("dict(a=1)", false);
    literal("__import__('os')", false);
    literal("[1] extra", false);
    literal(std::string("{'a': 1}\0", 9), false);
    // Deep nesting is refused, not recursed into without bound.
    literal(std::string(100000, '[') + std::string(100000, ']'), false);
}

TEST_CASE("npy headers numpy accepts: object dtypes however written") {
    const std::string tail = ", 'fortran_order': False, 'shape': (2,)}";
    for (const std::string descr : {R"('\x4f')",
                                    R"('|\u004f')",
                                    R"('\N{LATIN CAPITAL LETTER O}')",
                                    "'object'",
                                    "'object_'",
                                    "'O8'",
                                    "'=O'",
                                    "'i4,O'",
                                    "'i4, O'",
                                    "'O,'",
                                    "'(2,)O'",
                                    "'2O'",
                                    "('O', (2,))",
                                    "('O', 2)",
                                    "[('a', '<i4'), ('b', 'O')]",
                                    "[['a', 'O']]",
                                    "[('a', [('b', 'O', (2,))])]",
                                    "[(('t', 'a'), 'O')]",
                                    "['aO']",
                                    "{'aO': 1}",
                                    "[('', '|V4'), ('a', 'O')]",
                                    "'|' 'O'"}) {
        std::string error;
        const auto h = header_of("{'descr': " + descr + tail, error);
        INFO(descr << " -> " << error);
        REQUIRE(h);
        CHECK(h->has_object);
        CHECK(h->dtype_doubt.empty());
    }
}

TEST_CASE("npy headers: keys, shapes and fortran_order as numpy checks them") {
    std::string error;
    auto h =
        header_of("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'descr': 'O'}", error);
    REQUIRE(h);
    CHECK(h->has_object);
    CHECK(h->duplicate_keys);
    h = header_of("{\"shape\": (2L, -1, True,), 'fortran_order': (False), 'descr': '<f8',}", error);
    REQUIRE(h);
    CHECK(h->shape == std::vector<std::int64_t>{2, -1, 1});
    CHECK_FALSE(h->has_object);
    CHECK(h->itemsize == 8u);
    for (const std::string bad :
         {"{'descr': 'O', 'fortran_order': False, 'shape': [2]}",
          "{'descr': 'O', 'fortran_order': False, 'shape': 2}",
          "{'descr': 'O', 'fortran_order': False, 'shape': (1.0,)}",
          "{'descr': 'O', 'fortran_order': False, 'shape': (99999999999999999999,)}",
          "{'descr': 'O', 'fortran_order': 0, 'shape': (2,)}",
          "{'descr': 'O', 'fortran_order': False}",
          "{'descr': 'O', 'fortran_order': False, 'shape': (2,), 'x': 1}",
          "{'descr': 'O', 'fortran_order': False, 'shape': (2,), 1: 2}",
          "{'descr': b'O', 'fortran_order': False, 'shape': (2,)}",
          "{'descr': 'O ', 'fortran_order': False, 'shape': (2,)}",
          "{'descr': '!O', 'fortran_order': False, 'shape': (2,)}",
          "{'descr': 'O16', 'fortran_order': False, 'shape': (2,)}",
          "{'descr': [('a', 'O'), ('a', 'i4')], 'fortran_order': False, 'shape': (2,)}",
          "{'descr': [(b'a', 'O')], 'fortran_order': False, 'shape': (2,)}",
          "{'descr': 5, 'fortran_order': False, 'shape': (2,)}",
          "[{'descr': 'O', 'fortran_order': False, 'shape': (2,)}]"}) {
        INFO(bad);
        CHECK_FALSE(header_of(bad, error));
    }
}

TEST_CASE("npy: a dtype mscan does not know is scanned as a pickle when it reads as one") {
    const auto r = scan(
        npy("{'descr': 'Object', 'fortran_order': False, 'shape': (1,)}", kPayloadP0), "x.npy");
    CHECK(has_rule(r, "numpy-malformed"));
    CHECK(has_rule(r, "process-execution"));
    // A refused header: numpy.load raises before it unpickles, so the payload is not a finding.
    const auto refused =
        scan(npy("{'descr': 'O', 'fortran_order': False, 'shape': [1]}", kPayloadP0), "x.npy");
    CHECK(has_rule(refused, "numpy-malformed"));
    CHECK_FALSE(has_rule(refused, "process-execution"));
}

TEST_CASE("pickle probe: protocol 0/1 pickles past the window, text is not a pickle") {
    CHECK(probe("\x80\x02]q\x00."));
    CHECK(probe("(lp0\nI1\naI2\na."));
    CHECK(probe(kPayloadP0));
    CHECK(probe("S'" + std::string(100 * 1024, 'a') + "'\np0\n0" + kPayloadP0));
    std::string ints = "(lp0\n";
    while (ints.size() < 70 * 1024)
        ints += "I7\na";
    CHECK(probe(ints));
    // A lucky length field is not enough: after an operand past the window, opcodes follow.
    std::string lucky("\x8e\x00\x00\x01\x00\x00\x00\x00\x00", 9);
    lucky += std::string(0x10000, 'x') + "hello world, not opcodes";
    CHECK_FALSE(probe(lucky));
    for (const std::string text :
         {"# README\n\nSome text.\n", "{\"a\": 1}\n", "1,2,3\n4,5,6\n",
          "import os\nos.system('x')\n", "class Foo:\n    pass\n", "def f():\n    return 1\n",
          "hello world\n", "0.5 0.25\n", "19 16\nthe -0.0033 0.0014\n", "Copyright (c) 2020\n",
          "lambda: 1\n", "(a)\n", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
          "cos\xf8\nsystem\n(S'x'\ntR."}) {
        INFO(text);
        CHECK_FALSE(probe(text));
    }
    // STACK_GLOBAL operands that are not UTF-8 fail at their BINUNICODE opcode.
    CHECK_FALSE(probe(std::string("\x8c\x03os\xf8\x8c\x06system\x93.", 15)));
    CHECK(probe(std::string("\x8c\x02os\x8c\x06system\x93.", 13)));
    CHECK(mscan::pickle::valid_utf8("caf\xc3\xa9"));
    CHECK_FALSE(mscan::pickle::valid_utf8("\xed\xa0\x80"));
    CHECK(mscan::pickle::valid_utf8("\xed\xa0\x80", true));
    CHECK_FALSE(mscan::pickle::valid_utf8("\xc0\xaf", true));
    // A well-formed protocol 0 prefix cut off before any global: truncated, not a pickle.
    auto cut = bytes_of("(lp0\nI1\na");
    const auto p = mscan::pickle::plausible_pickle(cut);
    CHECK_FALSE(p.pickle);
    CHECK(p.truncated);
}

TEST_CASE(
    "detection: raw pickles named .npy, .pth.tar, joblib ZF, a PNG named .pt, word2vec text") {
    CHECK(has_rule(scan(kPayloadP0, "arr.npy"), "process-execution"));
    CHECK(has_rule(scan(kPayloadP0, "model_best.pth.tar"), "process-execution"));
    // joblib ZF: "ZF", '{:#x}'.ljust(19), zlib stream of "(lp0\nI1\na." (written by zlib).
    const std::string zf = std::string("ZF0xa") + std::string(16, ' ') +
                           std::string(
                               "\x78\x9c\xd3\xc8\x29\x30\xe0\xf2\x34\xe4\x4a\xd4\x03"
                               "\x00\x0d\xb1\x02\x52",
                               18);
    auto zsrc = bytes_of(zf);
    CHECK(mscan::joblib::detect(zsrc, ".pkl"));
    const auto zr = scan(zf, "old.pkl");
    CHECK(zr.format == "joblib-zfile");
    CHECK(zr.findings.empty());
    const std::string png("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01", 20);
    const auto pr = scan(png, "model.pt");
    REQUIRE(pr.findings.size() == 1);
    CHECK(pr.findings[0].rule_id == "format-mismatch");
    // word2vec text (gensim's save_word2vec_format) is read as word2vec: numbers and words, no
    // finding, even when the header's size disagrees with the rows (gensim refuses it then).
    const auto wr = scan("19 16\nthe -0.0033 0.0014 0.03\nof 0.1 0.2 0.3\n", "word2vec.bin");
    CHECK(wr.status == mscan::FileStatus::Scanned);
    CHECK(wr.format == "word2vec");
    CHECK(wr.findings.empty());
}
