// Checked views of fixed-layout binary records (a zip header, an HDF5 message, ...): a record of
// a layout's size is taken from the input only whole, through the checked ByteReader or an
// overflow-safe check on a span, and its fields are read by the offset and width declared once
// beside the layout. Knows no format; trusts nothing but the layout declarations.
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <type_traits>

#include "mscan/reader.h"
#include "mscan/source.h"

namespace mscan {

/// A record layout: a type with the record's size in bytes as `kSize` (its fields are usually
/// declared beside it as `Field` constants).
template <class Layout>
concept RecordLayout = requires {
    { Layout::kSize } -> std::convertible_to<std::size_t>;
};

/// One field of the fixed-layout record `Layout`: an unsigned little-endian integer of type `T`
/// at byte `offset` of the record. Declared once per field, e.g.
/// `static constexpr Field<std::uint32_t, EndRecord> kSignature{0};`, and used as a template
/// argument of RecordView::get, which checks at compile time that it lies inside the record.
template <class T, class Layout>
struct Field {
    static_assert(std::is_unsigned_v<T>, "record fields are unsigned little-endian integers");
    using type = T;
    using layout = Layout;
    std::size_t offset;  ///< byte offset of the field in the record
};

/// A copy of one whole `Layout` record from the input, whose fields are read by name.
///
/// Why a view instead of hand-written `le32(p + 42)`: a hand-written read repeats the field's
/// offset and width at every use, and nothing checks that they match the layout or stay inside
/// the bytes that were bounds-checked. Here the bounds check happens once, when the record is
/// taken (the whole record or nothing), and every field read is checked against the record's
/// size by the compiler (a field of another layout does not compile either), so reading fields
/// needs no run-time check and cannot leave the record. The bytes are copied (records are
/// small), so the view stays valid when the source is viewed again (a windowed source reuses
/// its buffer).
template <RecordLayout Layout>
class RecordView {
  public:
    /// The record's size in bytes.
    static constexpr std::size_t kSize = Layout::kSize;

    /// The record at the cursor of `in`, which moves past it; nullopt (cursor unchanged) unless
    /// the whole record lies before the reader's end.
    static std::optional<RecordView> read(ByteReader& in) {
        const auto bytes = in.bytes(kSize);
        if (!bytes) return std::nullopt;
        return RecordView(*bytes);
    }

    /// The record at `offset` of `source`; nullopt unless the whole record lies inside it.
    static std::optional<RecordView> at(Source& source, std::uint64_t offset) {
        ByteReader in(source, offset);
        return read(in);
    }

    /// The record at `offset` of `bytes`; nullopt unless the whole record lies inside them.
    static std::optional<RecordView> in(std::span<const std::uint8_t> bytes, std::size_t offset) {
        if (offset > bytes.size() || kSize > bytes.size() - offset) return std::nullopt;
        return RecordView(bytes.subspan(offset, kSize));
    }

    /// The value of field `F` (a `Field<T, Layout>` constant), read little-endian.
    template <auto F>
    typename decltype(F)::type get() const {
        using T = typename decltype(F)::type;
        static_assert(std::is_same_v<typename decltype(F)::layout, Layout>,
                      "the field belongs to another record layout");
        static_assert(F.offset <= kSize && sizeof(T) <= kSize - F.offset,
                      "the field lies outside its record");
        std::uint64_t value = 0;
        for (std::size_t i = 0; i < sizeof(T); ++i)
            value |= static_cast<std::uint64_t>(bytes_[F.offset + i]) << (8 * i);
        return static_cast<T>(value);
    }

  private:
    explicit RecordView(std::span<const std::uint8_t> whole) {
        std::copy(whole.begin(), whole.end(), bytes_.begin());
    }
    std::array<std::uint8_t, kSize> bytes_{};
};

}  // namespace mscan
