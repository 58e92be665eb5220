// word2vec recognition: gensim's files are recognised (so a vectors.bin beside a model is not
// "named like a model, NOT scanned"), and nothing else is taken for one.
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "formats/registry.h"
#include "formats/word2vec/word2vec_format.h"
#include "mscan/source.h"

namespace {

bool detected(const std::string& bytes, std::string_view ext = ".bin") {
    mscan::MemorySource source(std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
    return mscan::word2vec::detect(source, ext);
}

std::string binary_vectors(int words, int size) {
    std::string out = std::to_string(words) + " " + std::to_string(size) + "\n";
    for (int w = 0; w < words; ++w) {
        out += "w" + std::to_string(w) + " ";
        out += std::string(static_cast<std::size_t>(size) * 4, '\x3f');
    }
    return out;
}

}  // namespace

TEST_CASE("word2vec: gensim's binary and text layouts are recognised") {
    CHECK(detected(binary_vectors(3, 16)));
    CHECK(detected("2 3\nthe 0.1 0.2 0.3\nmodel 0.4 0.5 0.6\n", ".txt"));
    CHECK(detected("2 3\r\nthe 0.1 0.2 0.3\nmodel 0.4 0.5 0.6\n", ".vec"));
    CHECK(detected("2  3 \n\nthe " + std::string(12, '\0') + "\nmodel " + std::string(12, '\0')));
    // Found by detection as a whole, after every other format.
    const std::string v = binary_vectors(2, 8);
    mscan::MemorySource source(std::vector<std::uint8_t>(v.begin(), v.end()));
    const mscan::Format* format = mscan::detect_format(source, "vectors.bin");
    REQUIRE(format != nullptr);
    CHECK(std::string(format->name) == "word2vec");
}

TEST_CASE("word2vec: other text, short files and other model names are not taken for it") {
    CHECK_FALSE(detected(""));
    CHECK_FALSE(detected("3 4\n"));                         // a header and nothing else
    CHECK_FALSE(detected("3 4\nthe"));                      // no vector after the word
    CHECK_FALSE(detected("3\nthe 0.1 0.2 0.3\n"));          // one number
    CHECK_FALSE(detected("3 4 5\nthe 0.1 0.2 0.3 0.4\n"));  // three
    CHECK_FALSE(detected("0 4\nthe 0.1 0.2 0.3 0.4\n"));    // no words
    CHECK_FALSE(detected("3 -4\nthe 0.1 0.2 0.3 0.4\n"));
    CHECK_FALSE(detected("3 4x\nthe 0.1 0.2 0.3 0.4\n"));
    CHECK_FALSE(detected("hello world\nmore text here\n"));
    CHECK_FALSE(detected("12345678901234567890 4\nthe 0.1 0.2 0.3 0.4\n"));  // no overflow
    CHECK_FALSE(detected("3 200000\nthe " + std::string(800000, '\1')));     // absurd size
    // Named as another model format: reported as not what its name says, not recognised.
    CHECK_FALSE(detected(binary_vectors(3, 16), ".pkl"));
    CHECK_FALSE(detected(binary_vectors(3, 16), ".pt"));
}
