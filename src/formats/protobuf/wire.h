// A bounded reader for the protobuf wire format (the binary encoding, not the text format),
// used by the TensorFlow SavedModel parser and meant for any other protobuf-based model format
// (ONNX). It knows no schema: a caller iterates the fields of one message with a cursor and
// descends into the length-delimited fields it knows to be sub-messages.
//
// What it trusts: nothing. Every varint is at most 10 bytes (a tag at most 5 and below 2^32),
// every length is checked against the bytes that remain in the enclosing message before it is
// used, field number 0 and wire types 6 and 7 are errors, groups (wire types 3/4, proto2 only)
// are skipped to their matching end tag the way protobuf skips unknown groups, and nesting
// (sub-messages and groups together) is limited to limits::kProtobufMaxDepth. Nothing is
// allocated and nothing is copied: fields are views into the caller's span, which must outlive
// them. The first error stops the cursor; what was read before it stays valid.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "formats/anomaly.h"

namespace mscan::protobuf {

/// The six wire types a tag can name (6 and 7 are invalid and reported as BadWireType).
enum class WireType : std::uint8_t {
    Varint = 0,      ///< int32/64, uint32/64, sint32/64, bool, enum
    Fixed64 = 1,     ///< fixed64, sfixed64, double
    Len = 2,         ///< string, bytes, sub-message, packed repeated scalars
    StartGroup = 3,  ///< proto2 group (deprecated); the field holds the group's body
    EndGroup = 4,    ///< end of a group; never returned as a field
    Fixed32 = 5,     ///< fixed32, sfixed32, float
};

/// Why a message could not be read to its end.
enum class Error : std::uint8_t {
    None = 0,
    Truncated,          ///< the bytes end inside a tag, a varint or a fixed-size value
    VarintTooLong,      ///< a varint longer than 10 bytes (or a tag longer than 5 / over 2^32)
    FieldZero,          ///< a tag with field number 0
    BadWireType,        ///< wire type 6 or 7
    LengthPastEnd,      ///< a length-delimited field longer than the bytes that remain
    UnmatchedEndGroup,  ///< an end-group tag with no open group, or closing a different field
    UnterminatedGroup,  ///< a group whose end-group tag never comes
    TooDeep,            ///< nesting beyond limits::kProtobufMaxDepth
};

/// A short English description of an error ("a length runs past the end of the message").
std::string_view describe(Error error);

/// The name of a wire type as protobuf documents it ("LEN", "VARINT", ...).
std::string_view wire_type_name(WireType type);

/// One field of a message.
struct Field {
    std::uint32_t number = 0;
    WireType type = WireType::Varint;
    /// Varint, Fixed64 and Fixed32: the value (raw bits; see as_sint64 / as_double helpers).
    std::uint64_t value = 0;
    /// Len: the payload; StartGroup: the group's body (between its tags). Empty otherwise.
    std::span<const std::uint8_t> bytes;
    /// Absolute offset of the field's tag (the message's base offset plus its position).
    std::uint64_t offset = 0;
    /// Absolute offset of `bytes` (Len and StartGroup).
    std::uint64_t bytes_offset = 0;
    /// A Len field whose declared length runs past the end of its message, returned with the
    /// bytes that are there because the cursor keeps truncated fields (see keep_truncated).
    bool truncated = false;

    /// The payload as text (Len fields; empty for other types). Not checked for UTF-8.
    std::string_view text() const {
        return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
    }
};

/// Decodes a varint at the start of `bytes`. Returns the number of bytes used (1-10), or 0 when
/// `bytes` ends first (Truncated) or the varint is longer than 10 bytes (VarintTooLong); `error`
/// says which. Bits beyond 64 in a 10th byte are dropped, as protobuf's parsers do.
std::size_t read_varint(std::span<const std::uint8_t> bytes, std::uint64_t& value, Error& error);

/// A cursor over the fields of one message.
///
///     protobuf::Message m(bytes);
///     protobuf::Field f;
///     while (m.next(f)) {
///         if (f.number == 2 && f.type == protobuf::WireType::Len) walk(m.sub(f));
///     }
///     if (m.error() != protobuf::Error::None) report(m.error_offset(), describe(m.error()));
class Message {
  public:
    /// `bytes` is the message; `base_offset` its absolute offset (for Field::offset and
    /// error_offset); `depth` how deep it is nested (0 for a top-level message).
    explicit Message(std::span<const std::uint8_t> bytes, std::uint64_t base_offset = 0,
                     int depth = 0);

    /// Reads the next field. False at the end of the message or at the first error (then
    /// error() is set and every later call returns false too).
    bool next(Field& out);
    /// When on, a last Len field whose length runs past the end is still returned (with
    /// Field::truncated set and the bytes that exist) before the LengthPastEnd error, so a
    /// caller can look into a file that was cut short. Sub-messages inherit the setting.
    void keep_truncated(bool on) { keep_truncated_ = on; }
    /// The sub-message held by a Len or StartGroup field of this message, one level deeper.
    /// Beyond limits::kProtobufMaxDepth the result reads no field and reports TooDeep.
    Message sub(const Field& field) const;

    Error error() const { return error_; }
    /// Absolute offset where the error was found (the start of the bad tag or value).
    std::uint64_t error_offset() const { return error_offset_; }
    /// True once every byte was read without error.
    bool at_end() const { return error_ == Error::None && pos_ >= bytes_.size(); }
    /// Absolute offset of the message's first byte.
    std::uint64_t base_offset() const { return base_; }
    std::size_t size() const { return bytes_.size(); }
    int depth() const { return depth_; }

  private:
    bool fail(Error error, std::size_t at);
    /// Reads a tag at `pos` (advancing it); false with error set on a bad tag.
    bool read_tag(std::size_t& pos, std::uint32_t& number, WireType& type);
    /// Skips the body of a group opened by field `number`; `pos` is just after its start tag
    /// and ends just after the matching end tag; `body_end` is where the end tag starts.
    bool skip_group(std::size_t& pos, std::uint32_t number, std::size_t& body_end);

    std::span<const std::uint8_t> bytes_;
    std::uint64_t base_;
    int depth_;
    std::size_t pos_ = 0;
    Error error_ = Error::None;
    std::uint64_t error_offset_ = 0;
    bool keep_truncated_ = false;
};

/// Signed helpers for Varint fields.
inline std::int64_t as_int64(const Field& f) {
    return static_cast<std::int64_t>(f.value);
}
/// ZigZag-decoded sint32/sint64.
inline std::int64_t as_sint64(const Field& f) {
    return static_cast<std::int64_t>(f.value >> 1) ^ -static_cast<std::int64_t>(f.value & 1);
}

/// Whether `m` stopped because its bytes ran out where the file ends (`file_end`, absolute):
/// the file is cut short, and every message enclosing `m` stops with the same error.
bool cut_short(const Message& m, std::uint64_t file_end);

/// Why `m` could not be read to its end, as an anomaly of `code` (the reading format's
/// "malformed" code) at the error's offset, its evidence naming the message as `what`
/// ("the SavedModel message"); nullopt when `m` was read without error. The boundary where a
/// format turns the cursor's Error into a report: a message cut short by the end of the file
/// says so, and that the rest was not checked.
std::optional<Anomaly> error_anomaly(const Message& m, AnomalyCode code, std::string_view what,
                                     std::uint64_t file_end);

}  // namespace mscan::protobuf
