// terminal_safe(): untrusted text (file, member and repo names, server messages) as the text
// report, stderr and the progress line show it.
#include <catch2/catch.hpp>
#include <string>

#include "util/text_safety.h"

using mscan::terminal_safe;

TEST_CASE("terminal_safe: printable ASCII and valid UTF-8 pass unchanged") {
    CHECK(terminal_safe("model.safetensors") == "model.safetensors");
    CHECK(terminal_safe("caf\xc3\xa9 \xe6\xa8\xa1\xe5\x9e\x8b.bin") ==
          "caf\xc3\xa9 \xe6\xa8\xa1\xe5\x9e\x8b.bin");
    CHECK(terminal_safe("\xf0\x9f\x98\x80") == "\xf0\x9f\x98\x80");  // U+1F600, four bytes
    CHECK(terminal_safe("a\\x1b") == "a\\x1b");                      // a backslash stays
    CHECK(terminal_safe("") == "");
}

TEST_CASE("terminal_safe: control bytes, C1 controls and invisible marks are escaped") {
    CHECK(terminal_safe("\r\x1b[2K\x1b[1A") == "\\x0d\\x1b[2K\\x1b[1A");
    CHECK(terminal_safe(std::string("a\0b", 3)) == "a\\x00b");
    CHECK(terminal_safe("tab\there\nnl\x7f") == "tab\\x09here\\x0anl\\x7f");
    CHECK(terminal_safe("\xc2\x9b"
                        "31m") == "\\u{009B}31m");  // CSI as a C1 code point
    CHECK(terminal_safe("\xe2\x80\xae"
                        "gnp.pkl") == "\\u{202E}gnp.pkl");  // right-to-left override
    CHECK(terminal_safe("\xe2\x81\xa6x") == "\\u{2066}x");  // left-to-right isolate
    CHECK(terminal_safe("\xef\xbb\xbfname") == "\\u{FEFF}name");
    CHECK(terminal_safe("a\xe2\x80\x8b"
                        "b") == "a\\u{200B}b");  // zero-width space
}

TEST_CASE("terminal_safe: bytes that are not UTF-8 are escaped one by one") {
    CHECK(terminal_safe("\xff\xfe") == "\\xff\\xfe");
    CHECK(terminal_safe("\xc0\xaf") == "\\xc0\\xaf");                    // overlong '/'
    CHECK(terminal_safe("\xed\xa0\x80") == "\\xed\\xa0\\x80");           // a surrogate
    CHECK(terminal_safe("\xf4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80");  // past U+10FFFF
    CHECK(terminal_safe("\xe6\xa8") == "\\xe6\\xa8");                    // cut short at the end
    CHECK(terminal_safe("\xe6x\xa8") == "\\xe6x\\xa8");
}

TEST_CASE("terminal_safe: idempotent, never shorter than needed, no length cut") {
    const std::string nasty = "\r\x1b]0;t\x07\xc2\x85\xe2\x80\xae\xff" + std::string(5000, 'a');
    const std::string once = terminal_safe(nasty);
    CHECK(terminal_safe(once) == once);
    CHECK(once.size() > 5000);
    for (unsigned char c : once)
        CHECK((c >= 0x20 && c < 0x7f));
}
