// A tiny pickle assembler for tests: raw opcodes and operands, nothing is ever unpickled.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "formats/pickle/opcodes.h"

namespace mscan::test {

class PickleBuilder {
  public:
    PickleBuilder& op(std::uint8_t code) {
        bytes.push_back(code);
        return *this;
    }
    PickleBuilder& raw(const std::string& s) {
        bytes.insert(bytes.end(), s.begin(), s.end());
        return *this;
    }
    PickleBuilder& u8(std::uint8_t v) { return op(v); }
    PickleBuilder& le(std::uint64_t v, int n) {
        for (int i = 0; i < n; ++i)
            bytes.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
        return *this;
    }
    PickleBuilder& proto(int p) { return op(pickle::op::PROTO).u8(static_cast<std::uint8_t>(p)); }
    /// GLOBAL 'module\nname\n'
    PickleBuilder& global(const std::string& module, const std::string& name) {
        return op(pickle::op::GLOBAL).raw(module + "\n" + name + "\n");
    }
    PickleBuilder& str(const std::string& s) {  // SHORT_BINUNICODE or BINUNICODE
        if (s.size() < 256)
            return op(pickle::op::SHORT_BINUNICODE).u8(static_cast<std::uint8_t>(s.size())).raw(s);
        return op(pickle::op::BINUNICODE).le(s.size(), 4).raw(s);
    }
    PickleBuilder& binunicode(const std::string& s) {
        return op(pickle::op::BINUNICODE).le(s.size(), 4).raw(s);
    }
    PickleBuilder& stack_global(const std::string& module, const std::string& name) {
        return str(module).str(name).op(pickle::op::STACK_GLOBAL);
    }
    PickleBuilder& tuple1() { return op(pickle::op::TUPLE1); }
    PickleBuilder& reduce() { return op(pickle::op::REDUCE); }
    PickleBuilder& stop() { return op(pickle::op::STOP); }
    PickleBuilder& binput(std::uint8_t k) { return op(pickle::op::BINPUT).u8(k); }
    PickleBuilder& binget(std::uint8_t k) { return op(pickle::op::BINGET).u8(k); }
    PickleBuilder& memoize() { return op(pickle::op::MEMOIZE); }
    /// os.system('echo hi') via GLOBAL + REDUCE, protocol 2.
    PickleBuilder& system_call(const std::string& module = "os",
                               const std::string& cmd = "echo hi") {
        return global(module, "system").binunicode(cmd).tuple1().reduce();
    }
    std::vector<std::uint8_t> bytes;
};

}  // namespace mscan::test
