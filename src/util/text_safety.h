// Container member names, shared by the zip and archive readers: shown safely in evidence, and
// judged for what extracting them would do.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mscan {

/// The name with control and non-ASCII bytes as \xNN escapes, cut to 200 characters.
std::string printable(std::string_view name);

/// Appends code point `cp` to `out` as UTF-8 (a lone surrogate as its three bytes, as Python
/// keeps it; past U+10FFFF, U+FFFD).
void append_utf8(std::string& out, std::uint32_t cp);

/// The value of a hexadecimal digit, or -1.
int hex_value(unsigned char c);

/// Text from the input (a path, a member or repo name, a server message, a parser's message)
/// made safe to write to a terminal, whole (no length cut): printable ASCII and valid UTF-8
/// pass; control bytes (C0, DEL, C1), bidirectional-override and other invisible formatting
/// code points, and bytes that are not valid UTF-8 become \xNN (\u{NNNN} for code points).
/// A name can then neither move the cursor, erase lines, nor reorder what is shown around it.
/// Idempotent: its output passes through unchanged.
std::string terminal_safe(std::string_view text);

/// Why extracting a member of this name writes outside the extraction folder ("is an
/// absolute path", "starts with a drive letter", "has a '..' component"), or nullptr.
const char* unsafe_path(std::string_view name);

/// Why a link member leads outside the archive's root ("is absolute", "climbs above the
/// archive's root"), or nullptr when it stays inside. A symbolic link's target is resolved
/// from the folder of the link itself, a hard link's from the archive's root (tar stores
/// hard-link targets as member names).
const char* link_escapes(std::string_view link_name, std::string_view target, bool hard_link);

}  // namespace mscan
