// Rendering of symbolic pickle values as Python-like evidence text.
#include "formats/pickle/values.h"

#include <bit>
#include <cstdio>

namespace mscan::pickle {
namespace {

void append_quoted(std::string& out, const std::string& s, bool truncated, char prefix) {
    if (prefix) out.push_back(prefix);
    out.push_back('\'');
    for (unsigned char c : s) {
        switch (c) {
            case '\\':
                out += "\\\\";
                break;
            case '\'':
                out += "\\'";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20 || c == 0x7f || (prefix == 'b' && c >= 0x80)) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\x%02x", c);
                    out += buf;
                } else {
                    out.push_back(static_cast<char>(c));
                }
        }
    }
    if (truncated) out += "...";
    out.push_back('\'');
}

class Renderer {
  public:
    explicit Renderer(std::size_t max_chars) : max_(max_chars) {}

    void value(const Value& v, int depth) {
        if (out_.size() > max_) return;
        if (v.lost) {
            out_ += "<";
            out_ += kind_word(v.kind);
            out_ += ">";
            return;
        }
        switch (v.kind) {
            case Kind::None:
                out_ += "None";
                break;
            case Kind::Bool:
                out_ += v.num ? "True" : "False";
                break;
            case Kind::Int:
                out_ += std::to_string(v.num);
                break;
            case Kind::BigInt:
                out_ += v.text;
                break;
            case Kind::Float: {
                char buf[32];
                std::snprintf(buf, sizeof buf, "%.17g", std::bit_cast<double>(v.num));
                out_ += buf;
                break;
            }
            case Kind::Str:
                append_quoted(out_, v.text, v.truncated, 0);
                break;
            case Kind::Bytes:
                if (v.truncated && v.text.empty()) {
                    out_ += "<" + std::to_string(v.num) + " bytes>";
                } else {
                    append_quoted(out_, v.text, v.truncated, 'b');
                }
                break;
            case Kind::Tuple:
                sequence(v, "(", ")", depth, true);
                break;
            case Kind::List:
                sequence(v, "[", "]", depth, false);
                break;
            case Kind::Set:
                sequence(v, "{", "}", depth, false);
                break;
            case Kind::FrozenSet:
                out_ += "frozenset(";
                sequence(v, "{", "}", depth, false);
                out_ += ")";
                break;
            case Kind::Dict:
                mapping(v, depth);
                break;
            case Kind::Global:
                out_ += v.text.empty() ? "<unresolved global>" : v.text;
                break;
            case Kind::Object:
                if (v.node && !v.node->origin.empty()) {
                    out_ += v.node->origin;
                } else {
                    out_ += "<" + (v.text.empty() ? std::string("object") : v.text) + " object>";
                }
                break;
            case Kind::PersRef:
                out_ += "persistent_load(";
                if (v.node) out_ += v.node->origin;
                out_ += ")";
                break;
            case Kind::Ext:
                out_ += "<extension " + std::to_string(v.num) + ">";
                break;
            case Kind::Buffer:
                out_ += "<out-of-band buffer>";
                break;
            case Kind::Unknown:
                out_ += "<unknown>";
                break;
        }
    }

    std::string take() {
        if (out_.size() > max_) {
            out_.resize(max_);
            out_ += "...";
        }
        return std::move(out_);
    }

    static const char* kind_word(Kind k) {
        switch (k) {
            case Kind::None:
                return "None";
            case Kind::Bool:
                return "bool";
            case Kind::Int:
            case Kind::BigInt:
                return "int";
            case Kind::Float:
                return "float";
            case Kind::Str:
                return "str";
            case Kind::Bytes:
                return "bytes";
            case Kind::Tuple:
                return "tuple";
            case Kind::List:
                return "list";
            case Kind::Dict:
                return "dict";
            case Kind::Set:
                return "set";
            case Kind::FrozenSet:
                return "frozenset";
            case Kind::Global:
                return "global";
            case Kind::Object:
                return "object";
            case Kind::PersRef:
                return "persistent object";
            case Kind::Ext:
                return "extension object";
            case Kind::Buffer:
                return "buffer";
            case Kind::Unknown:
                return "unknown";
        }
        return "unknown";
    }

  private:
    void sequence(const Value& v, const char* open, const char* close, int depth, bool tuple) {
        out_ += open;
        if (!v.node || depth > 6) {
            if (v.num) out_ += "... (" + std::to_string(v.num) + " items)";
            out_ += close;
            return;
        }
        const auto& items = v.node->items;
        for (std::size_t i = 0; i < items.size(); ++i) {
            if (i) out_ += ", ";
            value(items[i], depth + 1);
            if (out_.size() > max_) return;
        }
        if (static_cast<std::uint64_t>(v.num) > items.size()) {
            out_ += ", ... (" + std::to_string(v.num) + " items)";
        }
        if (tuple && v.num == 1) out_ += ",";
        out_ += close;
    }

    void mapping(const Value& v, int depth) {
        out_ += "{";
        if (!v.node || depth > 6) {
            if (v.num) out_ += "... (" + std::to_string(v.num) + " items)";
            out_ += "}";
            return;
        }
        const auto& items = v.node->items;
        for (std::size_t i = 0; i + 1 < items.size(); i += 2) {
            if (i) out_ += ", ";
            value(items[i], depth + 1);
            out_ += ": ";
            value(items[i + 1], depth + 1);
            if (out_.size() > max_) return;
        }
        if (static_cast<std::uint64_t>(v.num) * 2 > items.size()) {
            out_ += ", ... (" + std::to_string(v.num) + " items)";
        }
        out_ += "}";
    }

    std::size_t max_;
    std::string out_;
};

}  // namespace

std::string render(const Value& v, std::size_t max_chars) {
    Renderer r(max_chars);
    r.value(v, 0);
    return r.take();
}

}  // namespace mscan::pickle
