// Recognising native executables by their headers (see executable_format.h).
#include "formats/executable/executable_format.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "formats/executable/executable_codes.h"
#include "formats/zip/zip_format.h"

namespace mscan::executable {
namespace {

bool starts(std::span<const std::uint8_t> head, std::string_view magic) {
    return head.size() >= magic.size() && std::memcmp(head.data(), magic.data(), magic.size()) == 0;
}

std::uint32_t get(std::span<const std::uint8_t> b, std::size_t at, int bytes, bool big) {
    std::uint32_t v = 0;
    for (int i = 0; i < bytes; ++i) {
        const std::uint8_t byte = b[at + static_cast<std::size_t>(big ? i : bytes - 1 - i)];
        v = (v << 8) | byte;
    }
    return v;
}

const char* elf_machine(std::uint32_t m) {
    switch (m) {
        case 3:
            return "x86";
        case 8:
            return "MIPS";
        case 20:
            return "PowerPC";
        case 21:
            return "PowerPC 64";
        case 22:
            return "S/390";
        case 40:
            return "ARM";
        case 62:
            return "x86-64";
        case 183:
            return "AArch64";
        case 243:
            return "RISC-V";
        case 258:
            return "LoongArch";
        default:
            return nullptr;
    }
}

std::string elf(std::span<const std::uint8_t> head) {
    if (head.size() < 20) return "ELF file (truncated header)";
    const int cls = head[4];
    const bool big = head[5] == 2;
    std::string out = cls == 2 ? "ELF 64-bit " : cls == 1 ? "ELF 32-bit " : "ELF ";
    switch (get(head, 16, 2, big)) {
        case 1:
            out += "relocatable object";
            break;
        case 2:
            out += "executable";
            break;
        case 3:
            out += "shared object or position-independent executable";
            break;
        case 4:
            out += "core dump";
            break;
        default:
            out += "file of unknown type";
            break;
    }
    if (const char* m = elf_machine(get(head, 18, 2, big))) out += std::string(", ") + m;
    return out;
}

/// The PE header of an MZ file, when e_lfanew points at one inside the file.
std::string pe(Source& source, std::span<const std::uint8_t> head) {
    if (head.size() < 0x40) return {};
    const std::uint32_t at = get(head, 0x3c, 4, false);
    if (at < 0x40 || at > source.size() || source.size() - at < 26) return {};
    const auto h = source.view(at, 26);
    if (h.size() < 26 || !starts(h, std::string_view("PE\0\0", 4))) return {};
    const std::uint32_t machine = get(h, 4, 2, false);
    const std::uint32_t flags = get(h, 22, 2, false);
    const std::uint32_t magic = get(h, 24, 2, false);
    std::string out = magic == 0x20b ? "PE32+ " : "PE32 ";
    out += (flags & 0x2000) ? "DLL" : "executable";
    switch (machine) {
        case 0x14c:
            out += ", x86";
            break;
        case 0x8664:
            out += ", x86-64";
            break;
        case 0xaa64:
            out += ", ARM64";
            break;
        case 0x1c4:
            out += ", ARM";
            break;
        default:
            break;
    }
    return out;
}

std::string macho(std::span<const std::uint8_t> head) {
    if (head.size() < 16) return "Mach-O file (truncated header)";
    const bool big = head[0] == 0xfe;  // FE ED FA CE / FE ED FA CF are big-endian
    const bool is64 = head[0] == 0xcf || head[3] == 0xcf;
    std::string out = is64 ? "Mach-O 64-bit " : "Mach-O 32-bit ";
    switch (get(head, 12, 4, big)) {
        case 1:
            out += "object";
            break;
        case 2:
            out += "executable";
            break;
        case 6:
            out += "dynamic library";
            break;
        case 8:
            out += "bundle";
            break;
        default:
            out += "file";
            break;
    }
    switch (get(head, 4, 4, big)) {
        case 7:
            out += ", x86";
            break;
        case 0x01000007:
            out += ", x86-64";
            break;
        case 12:
            out += ", ARM";
            break;
        case 0x0100000c:
            out += ", ARM64";
            break;
        default:
            break;
    }
    return out;
}

std::string describe_source(Source& source) {
    const auto head = source.view(0, std::min<std::uint64_t>(source.size(), 64));
    // Actually Portable Executables (cosmopolitan, llamafile) start with a shell-script
    // friendly DOS header: "MZqFpD='" (or "jartsr='"/"APEDBG='" in newer ones).
    if (starts(head, "MZqFpD='") || starts(head, "jartsr='") || starts(head, "APEDBG='"))
        return "Actually Portable Executable (cosmopolitan; llamafile runs this way): a native "
               "program for Linux, macOS, Windows and BSD in one file";
    if (starts(head,
               "\x7f"
               "ELF"))
        return elf(head);
    if (starts(head, "MZ")) return pe(source, head);
    if (starts(head, "\xfe\xed\xfa\xce") || starts(head, "\xce\xfa\xed\xfe") ||
        starts(head, "\xfe\xed\xfa\xcf") || starts(head, "\xcf\xfa\xed\xfe"))
        return macho(head);
    return {};
}

}  // namespace

std::string describe(std::span<const std::uint8_t> bytes) {
    MemorySource source(std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
    return describe_source(source);
}

bool detect(Source& source, std::string_view /*extension*/) {
    return !describe_source(source).empty();
}

void parse(Source& source, const ParseContext& context) {
    const std::string what = describe_source(source);
    context.anomaly(kExecutable,
                    what + "; running it, or loading it as a library, runs native code", 0);
    // A llamafile (or a self-extracting archive) carries its payload as a zip at its end:
    // that is part of the program, not a polyglot, and is scanned as such.
    zip::scan_payload(source, context);
}

}  // namespace mscan::executable
