// The protobuf wire-format cursor. All index arithmetic on the caller's bytes happens here, and
// every step compares against the bytes that remain before it moves.
#include "formats/protobuf/wire.h"

#include <array>
#include <string>

#include "mscan/limits.h"

namespace mscan::protobuf {

std::string_view describe(Error error) {
    switch (error) {
        case Error::None:
            return "no error";
        case Error::Truncated:
            return "the message ends inside a field";
        case Error::VarintTooLong:
            return "a varint longer than 10 bytes (or a tag longer than 5)";
        case Error::FieldZero:
            return "a field number 0";
        case Error::BadWireType:
            return "an invalid wire type (6 or 7)";
        case Error::LengthPastEnd:
            return "a length runs past the end of the enclosing message";
        case Error::UnmatchedEndGroup:
            return "an end-group tag that closes no open group";
        case Error::UnterminatedGroup:
            return "a group that is never closed";
        case Error::TooDeep:
            return "messages nested deeper than mscan follows";
    }
    return "unknown error";
}

std::string_view wire_type_name(WireType type) {
    switch (type) {
        case WireType::Varint:
            return "VARINT";
        case WireType::Fixed64:
            return "I64";
        case WireType::Len:
            return "LEN";
        case WireType::StartGroup:
            return "SGROUP";
        case WireType::EndGroup:
            return "EGROUP";
        case WireType::Fixed32:
            return "I32";
    }
    return "?";
}

std::size_t read_varint(std::span<const std::uint8_t> bytes, std::uint64_t& value, Error& error) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 10; ++i) {
        if (i >= bytes.size()) {
            error = Error::Truncated;
            return 0;
        }
        const std::uint8_t b = bytes[i];
        if (i < 9) {
            v |= static_cast<std::uint64_t>(b & 0x7f) << (7 * i);
        } else {
            v |= static_cast<std::uint64_t>(b & 0x01) << 63;  // bits past 64 are dropped
        }
        if ((b & 0x80) == 0) {
            value = v;
            return i + 1;
        }
    }
    error = Error::VarintTooLong;
    return 0;
}

Message::Message(std::span<const std::uint8_t> bytes, std::uint64_t base_offset, int depth)
    : bytes_(bytes), base_(base_offset), depth_(depth) {
    if (depth_ > limits::kProtobufMaxDepth) fail(Error::TooDeep, 0);
}

bool Message::fail(Error error, std::size_t at) {
    if (error_ == Error::None) {
        error_ = error;
        error_offset_ = base_ + at;
    }
    pos_ = bytes_.size();
    return false;
}

bool Message::read_tag(std::size_t& pos, std::uint32_t& number, WireType& type) {
    std::uint64_t tag = 0;
    Error err = Error::None;
    const std::size_t n = read_varint(bytes_.subspan(pos), tag, err);
    if (n == 0) return fail(err, pos);
    if (n > 5 || tag > 0xffffffffu) return fail(Error::VarintTooLong, pos);
    const auto wire = static_cast<std::uint8_t>(tag & 7);
    if (wire > 5) return fail(Error::BadWireType, pos);
    if ((tag >> 3) == 0) return fail(Error::FieldZero, pos);
    number = static_cast<std::uint32_t>(tag >> 3);
    type = static_cast<WireType>(wire);
    pos += n;
    return true;
}

bool Message::skip_group(std::size_t& pos, std::uint32_t number, std::size_t& body_end) {
    // Open groups, innermost last; bounded by the depth still allowed below this message.
    std::array<std::uint32_t, limits::kProtobufMaxDepth + 1> open{};
    std::size_t depth = 0;
    open[depth++] = number;
    while (pos < bytes_.size()) {
        const std::size_t tag_at = pos;
        std::uint32_t n = 0;
        WireType t{};
        if (!read_tag(pos, n, t)) return false;
        switch (t) {
            case WireType::Varint: {
                std::uint64_t v = 0;
                Error err = Error::None;
                const std::size_t used = read_varint(bytes_.subspan(pos), v, err);
                if (used == 0) return fail(err, pos);
                pos += used;
                break;
            }
            case WireType::Fixed64:
                if (bytes_.size() - pos < 8) return fail(Error::Truncated, pos);
                pos += 8;
                break;
            case WireType::Fixed32:
                if (bytes_.size() - pos < 4) return fail(Error::Truncated, pos);
                pos += 4;
                break;
            case WireType::Len: {
                std::uint64_t len = 0;
                Error err = Error::None;
                const std::size_t used = read_varint(bytes_.subspan(pos), len, err);
                if (used == 0) return fail(err, pos);
                if (len > bytes_.size() - pos - used) return fail(Error::LengthPastEnd, pos);
                pos += used + static_cast<std::size_t>(len);
                break;
            }
            case WireType::StartGroup:
                if (depth >= open.size() ||
                    depth_ + static_cast<int>(depth) >= limits::kProtobufMaxDepth)
                    return fail(Error::TooDeep, tag_at);
                open[depth++] = n;
                break;
            case WireType::EndGroup:
                if (open[depth - 1] != n) return fail(Error::UnmatchedEndGroup, tag_at);
                if (--depth == 0) {
                    body_end = tag_at;
                    return true;
                }
                break;
        }
    }
    return fail(Error::UnterminatedGroup, pos);
}

bool Message::next(Field& out) {
    if (error_ != Error::None || pos_ >= bytes_.size()) return false;
    std::size_t pos = pos_;
    const std::size_t tag_at = pos;
    Field f;
    if (!read_tag(pos, f.number, f.type)) return false;
    f.offset = base_ + tag_at;
    switch (f.type) {
        case WireType::Varint: {
            Error err = Error::None;
            const std::size_t used = read_varint(bytes_.subspan(pos), f.value, err);
            if (used == 0) return fail(err, pos);
            pos += used;
            break;
        }
        case WireType::Fixed64:
            if (bytes_.size() - pos < 8) return fail(Error::Truncated, pos);
            for (int i = 7; i >= 0; --i)
                f.value = (f.value << 8) | bytes_[pos + static_cast<std::size_t>(i)];
            pos += 8;
            break;
        case WireType::Fixed32:
            if (bytes_.size() - pos < 4) return fail(Error::Truncated, pos);
            for (int i = 3; i >= 0; --i)
                f.value = (f.value << 8) | bytes_[pos + static_cast<std::size_t>(i)];
            pos += 4;
            break;
        case WireType::Len: {
            std::uint64_t len = 0;
            Error err = Error::None;
            const std::size_t used = read_varint(bytes_.subspan(pos), len, err);
            if (used == 0) return fail(err, pos);
            if (len > bytes_.size() - pos - used) {
                if (!keep_truncated_) return fail(Error::LengthPastEnd, pos);
                f.bytes = bytes_.subspan(pos + used);
                f.bytes_offset = base_ + pos + used;
                f.truncated = true;
                fail(Error::LengthPastEnd, pos);
                out = f;
                return true;
            }
            pos += used;
            f.bytes = bytes_.subspan(pos, static_cast<std::size_t>(len));
            f.bytes_offset = base_ + pos;
            pos += static_cast<std::size_t>(len);
            break;
        }
        case WireType::StartGroup: {
            const std::size_t body = pos;
            std::size_t body_end = pos;
            if (!skip_group(pos, f.number, body_end)) return false;
            f.bytes = bytes_.subspan(body, body_end - body);
            f.bytes_offset = base_ + body;
            break;
        }
        case WireType::EndGroup:
            return fail(Error::UnmatchedEndGroup, tag_at);
    }
    pos_ = pos;
    out = f;
    return true;
}

Message Message::sub(const Field& field) const {
    Message m(field.bytes, field.bytes_offset, depth_ + 1);
    m.keep_truncated_ = keep_truncated_;
    return m;
}

bool cut_short(const Message& m, std::uint64_t file_end) {
    return (m.error() == Error::LengthPastEnd || m.error() == Error::Truncated) &&
           m.base_offset() + m.size() == file_end;
}

std::optional<Anomaly> error_anomaly(const Message& m, AnomalyCode code, std::string_view what,
                                     std::uint64_t file_end) {
    if (m.error() == Error::None) return std::nullopt;
    const std::string where =
        std::string(describe(m.error())) + " at byte " + std::to_string(m.error_offset());
    std::string evidence = cut_short(m, file_end)
                               ? "the file ends inside " + std::string(what) + " (" + where +
                                     "): it is cut short, and the rest was NOT checked"
                               : std::string(what) + " is not valid protobuf: " + where;
    return Anomaly{code, std::move(evidence), static_cast<std::int64_t>(m.error_offset())};
}

}  // namespace mscan::protobuf
