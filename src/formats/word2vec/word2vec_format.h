// word2vec vectors (Mikolov's C tool, gensim's KeyedVectors.save_word2vec_format, fastText's
// .vec): a text header "<vocabulary size> <vector size>\n", then one record per word, either a
// text line "word v1 v2 ..." or, in the binary variant, "word " followed by the vector as
// little-endian float32. gensim's load_word2vec_format reads numbers and words from it and runs
// no code, and no unpickler accepts a file that starts with a digit, so a file in this format
// has nothing to report. It is recognised (and not skipped) so that a word2vec file named
// vectors.bin beside a model is known to be what it is, not "named like a model, NOT scanned".
#pragma once

#include <string_view>

#include "formats/context.h"
#include "mscan/source.h"

namespace mscan::word2vec {

/// The header, and the first record as gensim would start reading it, in a file named as
/// word2vec files are (.bin, .txt, .vec, .w2v, .wv, or no extension).
bool detect(Source& source, std::string_view extension);
/// Nothing runs when this format is loaded: no operations.
void parse(Source& source, const ParseContext& context);

}  // namespace mscan::word2vec
