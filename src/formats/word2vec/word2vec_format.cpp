// Recognising word2vec files the way gensim's reader starts on them.
#include "formats/word2vec/word2vec_format.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>

namespace mscan::word2vec {
namespace {

/// The header line gensim reads with readline() and splits into two integers.
struct Header {
    std::uint64_t words = 0, size = 0;
    std::size_t length = 0;  ///< bytes of the header line, its newline included
};

bool blank(std::uint8_t c) {
    return c == ' ' || c == '\t' || c == '\r';
}

std::optional<Header> read_header(std::span<const std::uint8_t> head) {
    Header h;
    std::size_t i = 0;
    std::uint64_t* fields[] = {&h.words, &h.size};
    for (std::uint64_t* field : fields) {
        while (i < head.size() && blank(head[i]))
            ++i;
        const std::size_t first = i;
        while (i < head.size() && head[i] >= '0' && head[i] <= '9' && i - first < 12) {
            *field = *field * 10 + (head[i] - '0');
            ++i;
        }
        if (i == first || (i < head.size() && head[i] >= '0' && head[i] <= '9'))
            return std::nullopt;
    }
    while (i < head.size() && blank(head[i]))
        ++i;
    if (i >= head.size() || head[i] != '\n') return std::nullopt;
    h.length = i + 1;
    // Real vector sizes run from a handful to a few thousand.
    if (h.words == 0 || h.size == 0 || h.size > 100000) return std::nullopt;
    return h;
}

}  // namespace

bool detect(Source& source, std::string_view extension) {
    // The names word2vec files go by (and none: archive members may have no extension). A
    // file named as another model format (.pkl, .pt) that holds this is not what its name
    // says, and is reported as such.
    static constexpr std::string_view kNames[] = {"", ".bin", ".txt", ".vec", ".w2v", ".wv"};
    if (std::find(std::begin(kNames), std::end(kNames), extension) == std::end(kNames))
        return false;
    const auto head = source.view(0, 4096);
    const auto h = read_header(head);
    if (!h) return false;
    // The first record: a word (gensim reads up to a space; the binary variant may put a
    // newline before it), a space, then the vector as text or as size * 4 bytes.
    std::size_t i = h->length;
    while (i < head.size() && head[i] == '\n')
        ++i;
    const std::size_t word = i;
    while (i < head.size() && head[i] != ' ' && head[i] != '\n' && i - word < 1024)
        ++i;
    if (i == word || i >= head.size() || head[i] != ' ') return false;
    // The file holds at least one vector's worth after the first word.
    return source.size() - (i + 1) >= std::min<std::uint64_t>(h->size * 2, h->size * 4);
}

void parse(Source&, const ParseContext&) {}

}  // namespace mscan::word2vec
