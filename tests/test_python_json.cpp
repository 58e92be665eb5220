// JSON as Python's json.loads(bytes) reads it: encodings, NaN and Infinity, escapes decoded
// before keys are compared, last duplicate wins, and the same errors where Python stops.
// Expected values were checked against CPython 3.11's json.loads.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "formats/python_json.h"

namespace {

using nlohmann::json;

std::vector<std::uint8_t> bytes(std::string_view s) {
    return {s.begin(), s.end()};
}

/// json.loads(bytes): the document, or nullopt (with the error in `error`).
std::optional<json> loads(const std::vector<std::uint8_t>& b, std::string* error = nullptr) {
    std::string why;
    const auto text = mscan::pyjson::decode(b, why);
    if (!text) {
        if (error) *error = why;
        return std::nullopt;
    }
    mscan::pyjson::Result r;
    auto doc = mscan::pyjson::parse_value(*text, r);
    if (error) *error = r.error;
    return doc;
}

std::optional<json> loads(std::string_view s, std::string* error = nullptr) {
    return loads(bytes(s), error);
}

/// `s` encoded as UTF-16 or UTF-32 (ASCII only), with a BOM if asked.
std::vector<std::uint8_t> wide(std::string_view s, int unit, bool big, bool bom) {
    std::vector<std::uint8_t> out;
    auto put = [&](std::uint32_t cp) {
        for (int k = 0; k < unit; ++k) {
            const int shift = 8 * (big ? unit - 1 - k : k);
            out.push_back(static_cast<std::uint8_t>(cp >> shift));
        }
    };
    if (bom) put(0xfeff);
    for (char c : s)
        put(static_cast<unsigned char>(c));
    return out;
}

}  // namespace

TEST_CASE("python json: escapes are decoded before keys are compared") {
    const auto doc = loads(R"({"class\u005fname": "Lambda", "\u0063onfig": {}})");
    REQUIRE(doc);
    CHECK(doc->contains("class_name"));
    CHECK(doc->contains("config"));
    CHECK((*doc)["class_name"] == "Lambda");
    CHECK(*loads(R"("\ud83d\ude00")") == "\xf0\x9f\x98\x80");
    CHECK(*loads(R"("\u00e9\/\n")") == "\xc3\xa9/\n");
    // A lone surrogate is kept (three bytes), and the escape after it stands on its own.
    CHECK(*loads(R"("\uD83D\u0041")") ==
          "\xed\xa0\xbd"
          "A");
}

TEST_CASE("python json: every encoding json.loads(bytes) detects") {
    const std::string text = R"({"auto_map": {"AutoModel": "m.M"}})";
    const std::vector<std::vector<std::uint8_t>> forms = {
        bytes("\xef\xbb\xbf" + text), wide(text, 2, false, false), wide(text, 2, true, false),
        wide(text, 2, false, true),   wide(text, 2, true, true),   wide(text, 4, false, false),
        wide(text, 4, true, false),   wide(text, 4, false, true),  wide(text, 4, true, true),
    };
    for (std::size_t i = 0; i < forms.size(); ++i) {
        INFO("form " << i);
        std::string error;
        const auto doc = loads(forms[i], &error);
        INFO(error);
        REQUIRE(doc);
        CHECK((*doc)["auto_map"]["AutoModel"] == "m.M");
    }
    CHECK(mscan::pyjson::detect_encoding(bytes("{}")) == mscan::pyjson::Encoding::Utf8);
    // Odd bytes in UTF-16 text: Python cannot decode it either.
    auto cut = wide(text, 2, false, false);
    cut.pop_back();
    CHECK_FALSE(loads(cut));
}

TEST_CASE("python json: NaN, Infinity, big integers, duplicate keys") {
    const auto doc = loads(R"({"a": NaN, "b": -Infinity, "c": Infinity, "d": 1e5, "e": -0,
                              "f": 123456789012345678901234567890, "k": 1, "k": 2})");
    REQUIRE(doc);
    CHECK(std::isnan((*doc)["a"].get<double>()));
    CHECK((*doc)["b"].get<double>() < 0);
    CHECK(std::isinf((*doc)["c"].get<double>()));
    CHECK((*doc)["d"].is_number_float());
    CHECK((*doc)["e"] == 0);
    CHECK((*doc)["f"].get<double>() > 1e29);
    CHECK((*doc)["k"] == 2);
    CHECK(loads(" [1, 2 ] ") == json::array({1, 2}));
}

TEST_CASE("python json: errors where Python stops") {
    const std::pair<const char*, const char*> bad[] = {
        {R"({"a": 1} x)", "Extra data"},
        {"01", "Extra data"},
        {"1.", "Extra data"},
        {"1e", "Extra data"},
        {"\"a\tb\"", "Invalid control character"},
        {"[1,]", "Expecting value"},
        {R"({"a":1,})", "Expecting property name"},
        {R"("\x")", "Invalid \\escape"},
        {R"("\u12")", "Invalid \\uXXXX"},
        {"-", "Expecting value"},
        {"nul", "Expecting value"},
        {R"({"a" 1})", "Expecting ':'"},
        {R"({"a": "b)", "Unterminated string"},
        {"[1 2]", "Expecting ',' delimiter"},
        {"", "Expecting value"},
    };
    for (const auto& [text, why] : bad) {
        INFO(text);
        std::string error;
        CHECK_FALSE(loads(text, &error));
        CHECK(error.find(why) != std::string::npos);
    }
}

TEST_CASE("python json: nesting is capped without recursion") {
    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    mscan::pyjson::Result r;
    CHECK_FALSE(mscan::pyjson::parse_value(deep, r, 1024));
    CHECK(r.too_deep);
    const std::string ok = std::string(1000, '[') + std::string(1000, ']');
    CHECK(mscan::pyjson::parse_value(ok, r, 1024));
}
