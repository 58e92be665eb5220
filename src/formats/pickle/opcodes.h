// Pickle opcode values (protocols 0-5, as defined by CPython's pickle module) and the shape
// of each opcode's operand.
#pragma once

#include <array>
#include <cstdint>

namespace mscan::pickle {

namespace op {
inline constexpr std::uint8_t MARK = '(';
inline constexpr std::uint8_t STOP = '.';
inline constexpr std::uint8_t POP = '0';
inline constexpr std::uint8_t POP_MARK = '1';
inline constexpr std::uint8_t DUP = '2';
inline constexpr std::uint8_t FLOAT = 'F';
inline constexpr std::uint8_t INT = 'I';
inline constexpr std::uint8_t BININT = 'J';
inline constexpr std::uint8_t BININT1 = 'K';
inline constexpr std::uint8_t LONG = 'L';
inline constexpr std::uint8_t BININT2 = 'M';
inline constexpr std::uint8_t NONE = 'N';
inline constexpr std::uint8_t PERSID = 'P';
inline constexpr std::uint8_t BINPERSID = 'Q';
inline constexpr std::uint8_t REDUCE = 'R';
inline constexpr std::uint8_t STRING = 'S';
inline constexpr std::uint8_t BINSTRING = 'T';
inline constexpr std::uint8_t SHORT_BINSTRING = 'U';
inline constexpr std::uint8_t UNICODE = 'V';
inline constexpr std::uint8_t BINUNICODE = 'X';
inline constexpr std::uint8_t APPEND = 'a';
inline constexpr std::uint8_t BUILD = 'b';
inline constexpr std::uint8_t GLOBAL = 'c';
inline constexpr std::uint8_t DICT = 'd';
inline constexpr std::uint8_t EMPTY_DICT = '}';
inline constexpr std::uint8_t APPENDS = 'e';
inline constexpr std::uint8_t GET = 'g';
inline constexpr std::uint8_t BINGET = 'h';
inline constexpr std::uint8_t INST = 'i';
inline constexpr std::uint8_t LONG_BINGET = 'j';
inline constexpr std::uint8_t LIST = 'l';
inline constexpr std::uint8_t EMPTY_LIST = ']';
inline constexpr std::uint8_t OBJ = 'o';
inline constexpr std::uint8_t PUT = 'p';
inline constexpr std::uint8_t BINPUT = 'q';
inline constexpr std::uint8_t LONG_BINPUT = 'r';
inline constexpr std::uint8_t SETITEM = 's';
inline constexpr std::uint8_t TUPLE = 't';
inline constexpr std::uint8_t EMPTY_TUPLE = ')';
inline constexpr std::uint8_t SETITEMS = 'u';
inline constexpr std::uint8_t BINFLOAT = 'G';
// protocol 2
inline constexpr std::uint8_t PROTO = 0x80;
inline constexpr std::uint8_t NEWOBJ = 0x81;
inline constexpr std::uint8_t EXT1 = 0x82;
inline constexpr std::uint8_t EXT2 = 0x83;
inline constexpr std::uint8_t EXT4 = 0x84;
inline constexpr std::uint8_t TUPLE1 = 0x85;
inline constexpr std::uint8_t TUPLE2 = 0x86;
inline constexpr std::uint8_t TUPLE3 = 0x87;
inline constexpr std::uint8_t NEWTRUE = 0x88;
inline constexpr std::uint8_t NEWFALSE = 0x89;
inline constexpr std::uint8_t LONG1 = 0x8a;
inline constexpr std::uint8_t LONG4 = 0x8b;
// protocol 3
inline constexpr std::uint8_t BINBYTES = 'B';
inline constexpr std::uint8_t SHORT_BINBYTES = 'C';
// protocol 4
inline constexpr std::uint8_t SHORT_BINUNICODE = 0x8c;
inline constexpr std::uint8_t BINUNICODE8 = 0x8d;
inline constexpr std::uint8_t BINBYTES8 = 0x8e;
inline constexpr std::uint8_t EMPTY_SET = 0x8f;
inline constexpr std::uint8_t ADDITEMS = 0x90;
inline constexpr std::uint8_t FROZENSET = 0x91;
inline constexpr std::uint8_t NEWOBJ_EX = 0x92;
inline constexpr std::uint8_t STACK_GLOBAL = 0x93;
inline constexpr std::uint8_t MEMOIZE = 0x94;
inline constexpr std::uint8_t FRAME = 0x95;
// protocol 5
inline constexpr std::uint8_t BYTEARRAY8 = 0x96;
inline constexpr std::uint8_t NEXT_BUFFER = 0x97;
inline constexpr std::uint8_t READONLY_BUFFER = 0x98;
}  // namespace op

/// Operand shapes.
enum class Operand : std::uint8_t {
    None,
    U1,      ///< one unsigned byte
    U2,      ///< two bytes little-endian
    I4,      ///< four bytes little-endian signed
    U4,      ///< four bytes little-endian unsigned
    U8,      ///< eight bytes little-endian
    F8,      ///< eight-byte big-endian double
    Line,    ///< text up to '\n'
    Lines2,  ///< two text lines (module, name)
    Len1,    ///< 1-byte length then that many bytes
    Len4,    ///< 4-byte length then that many bytes
    Len8,    ///< 8-byte length then that many bytes
};

struct OpInfo {
    const char* name;
    Operand operand;
    std::uint8_t protocol;  ///< protocol that introduced it
};

namespace detail {
constexpr std::array<OpInfo, 256> make_table() {
    std::array<OpInfo, 256> t{};
    auto set = [&t](std::uint8_t code, const char* name, Operand operand, std::uint8_t proto) {
        t[code] = OpInfo{name, operand, proto};
    };
    set(op::MARK, "MARK", Operand::None, 0);
    set(op::STOP, "STOP", Operand::None, 0);
    set(op::POP, "POP", Operand::None, 0);
    set(op::POP_MARK, "POP_MARK", Operand::None, 1);
    set(op::DUP, "DUP", Operand::None, 0);
    set(op::FLOAT, "FLOAT", Operand::Line, 0);
    set(op::INT, "INT", Operand::Line, 0);
    set(op::BININT, "BININT", Operand::I4, 1);
    set(op::BININT1, "BININT1", Operand::U1, 1);
    set(op::LONG, "LONG", Operand::Line, 0);
    set(op::BININT2, "BININT2", Operand::U2, 1);
    set(op::NONE, "NONE", Operand::None, 0);
    set(op::PERSID, "PERSID", Operand::Line, 0);
    set(op::BINPERSID, "BINPERSID", Operand::None, 1);
    set(op::REDUCE, "REDUCE", Operand::None, 0);
    set(op::STRING, "STRING", Operand::Line, 0);
    set(op::BINSTRING, "BINSTRING", Operand::Len4, 1);
    set(op::SHORT_BINSTRING, "SHORT_BINSTRING", Operand::Len1, 1);
    set(op::UNICODE, "UNICODE", Operand::Line, 0);
    set(op::BINUNICODE, "BINUNICODE", Operand::Len4, 1);
    set(op::APPEND, "APPEND", Operand::None, 0);
    set(op::BUILD, "BUILD", Operand::None, 0);
    set(op::GLOBAL, "GLOBAL", Operand::Lines2, 0);
    set(op::DICT, "DICT", Operand::None, 0);
    set(op::EMPTY_DICT, "EMPTY_DICT", Operand::None, 1);
    set(op::APPENDS, "APPENDS", Operand::None, 1);
    set(op::GET, "GET", Operand::Line, 0);
    set(op::BINGET, "BINGET", Operand::U1, 1);
    set(op::INST, "INST", Operand::Lines2, 0);
    set(op::LONG_BINGET, "LONG_BINGET", Operand::U4, 1);
    set(op::LIST, "LIST", Operand::None, 0);
    set(op::EMPTY_LIST, "EMPTY_LIST", Operand::None, 1);
    set(op::OBJ, "OBJ", Operand::None, 1);
    set(op::PUT, "PUT", Operand::Line, 0);
    set(op::BINPUT, "BINPUT", Operand::U1, 1);
    set(op::LONG_BINPUT, "LONG_BINPUT", Operand::U4, 1);
    set(op::SETITEM, "SETITEM", Operand::None, 0);
    set(op::TUPLE, "TUPLE", Operand::None, 0);
    set(op::EMPTY_TUPLE, "EMPTY_TUPLE", Operand::None, 1);
    set(op::SETITEMS, "SETITEMS", Operand::None, 1);
    set(op::BINFLOAT, "BINFLOAT", Operand::F8, 1);
    set(op::PROTO, "PROTO", Operand::U1, 2);
    set(op::NEWOBJ, "NEWOBJ", Operand::None, 2);
    set(op::EXT1, "EXT1", Operand::U1, 2);
    set(op::EXT2, "EXT2", Operand::U2, 2);
    set(op::EXT4, "EXT4", Operand::I4, 2);
    set(op::TUPLE1, "TUPLE1", Operand::None, 2);
    set(op::TUPLE2, "TUPLE2", Operand::None, 2);
    set(op::TUPLE3, "TUPLE3", Operand::None, 2);
    set(op::NEWTRUE, "NEWTRUE", Operand::None, 2);
    set(op::NEWFALSE, "NEWFALSE", Operand::None, 2);
    set(op::LONG1, "LONG1", Operand::Len1, 2);
    set(op::LONG4, "LONG4", Operand::Len4, 2);
    set(op::BINBYTES, "BINBYTES", Operand::Len4, 3);
    set(op::SHORT_BINBYTES, "SHORT_BINBYTES", Operand::Len1, 3);
    set(op::SHORT_BINUNICODE, "SHORT_BINUNICODE", Operand::Len1, 4);
    set(op::BINUNICODE8, "BINUNICODE8", Operand::Len8, 4);
    set(op::BINBYTES8, "BINBYTES8", Operand::Len8, 4);
    set(op::EMPTY_SET, "EMPTY_SET", Operand::None, 4);
    set(op::ADDITEMS, "ADDITEMS", Operand::None, 4);
    set(op::FROZENSET, "FROZENSET", Operand::None, 4);
    set(op::NEWOBJ_EX, "NEWOBJ_EX", Operand::None, 4);
    set(op::STACK_GLOBAL, "STACK_GLOBAL", Operand::None, 4);
    set(op::MEMOIZE, "MEMOIZE", Operand::None, 4);
    set(op::FRAME, "FRAME", Operand::U8, 4);
    set(op::BYTEARRAY8, "BYTEARRAY8", Operand::Len8, 5);
    set(op::NEXT_BUFFER, "NEXT_BUFFER", Operand::None, 5);
    set(op::READONLY_BUFFER, "READONLY_BUFFER", Operand::None, 5);
    return t;
}
inline constexpr std::array<OpInfo, 256> kTable = make_table();
}  // namespace detail

/// The opcode's description, or nullptr if the byte is not a pickle opcode.
constexpr const OpInfo* opcode_info(std::uint8_t code) {
    return detail::kTable[code].name ? &detail::kTable[code] : nullptr;
}

/// The opcode's name, or "?" for a byte that is not an opcode.
constexpr const char* opcode_name(std::uint8_t code) {
    return detail::kTable[code].name ? detail::kTable[code].name : "?";
}

}  // namespace mscan::pickle
