// The tokens of TorchScript source text, as torch.jit.load's lexer reads them
// (torch/csrc/jit/frontend/lexer.h and parse_string_literal.h, torch 1.13): names are ASCII
// letters, digits and '_'; comments run from '#' to the next '\n' except that "# type:" starts a
// type comment whose text is code; strings are '...' or "..." (no raw '\n' inside) or triple
// quoted (may span lines), a backslash always takes the next byte with it, and escapes are
// decoded as torch decodes them (no \x, \u or \U; \ooo octal); a backslash before a newline
// joins lines. There are no string prefixes (r"", b"", f""). The lexer trusts nothing: any
// byte torch's lexer would refuse outside a string or comment ends the token stream with an
// error, and everything before it is still returned.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mscan::torchscript {

/// What a token is.
enum class TokenKind {
    Name,     ///< identifier or keyword (`torch`, `def`, `__setstate__`)
    String,   ///< one string literal; `text` is its decoded value
    Number,   ///< a numeric literal
    Op,       ///< punctuation: one or more of + - * / % @ ( ) [ ] : , = { } > < . ? ! & ^ | ~
    Newline,  ///< the end of a logical line (not emitted inside brackets)
};

/// One token of the source text.
struct Token {
    TokenKind kind = TokenKind::Name;
    /// Names, numbers and operators: the text as written. Strings: the decoded value.
    std::string text;
    /// Byte offset of the token's first byte in the source text.
    std::size_t offset = 0;
    /// 1-based line of the token's first byte.
    std::size_t line = 1;
};

/// The tokens of a text, and why tokenising stopped early, if it did.
struct Lexed {
    std::vector<Token> tokens;
    /// Empty when the whole text was tokenised; otherwise what torch's lexer would refuse
    /// ("unterminated string", "byte 0xc3 outside a string or comment", ...).
    std::string error;
    /// Byte offset and line of the refused text, when `error` is set.
    std::size_t error_offset = 0;
    std::size_t error_line = 0;
};

/// Tokenises `text`. Linear in its size; never throws on any input.
Lexed tokenize(std::string_view text);

}  // namespace mscan::torchscript
