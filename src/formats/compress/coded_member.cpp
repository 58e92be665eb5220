// The codec dispatch of coded_member.h: zlib for DEFLATE, libbz2 and liblzma for the rest.
#include "formats/compress/coded_member.h"

#include "formats/compress/codec_source.h"
#include "formats/compress/inflate_source.h"

namespace mscan::compress {

CodedMember::CodedMember(Source& source, std::uint64_t offset, std::uint64_t length, Codec codec,
                         std::string name, std::uint64_t declared_size)
    : Member(std::move(name)), source_(source), offset_(offset), length_(length), codec_(codec) {
    declared = declared_size;
    compressed = length;
}

Inflated CodedMember::read(std::uint64_t max_out, bool want_crc) {
    switch (codec_) {
        case Codec::Deflate:
            return inflate(source_, offset_, length_, Wrapper::Raw, max_out, want_crc);
        case Codec::Zlib:
            return inflate(source_, offset_, length_, Wrapper::Zlib, max_out, want_crc);
        case Codec::Bzip2:
            return decode_zip_codec(source_, offset_, length_, ZipCodec::Bzip2, max_out, want_crc);
        case Codec::Lzma:
            return decode_zip_codec(source_, offset_, length_, ZipCodec::Lzma, max_out, want_crc);
    }
    return {};
}

Inflated CodedMember::head(std::size_t n) {
    return read(n, /*want_crc=*/false);
}

std::unique_ptr<Source> CodedMember::open(std::uint64_t cap, bool, Inflated& first) {
    // Views of a windowed source stay valid within its 16 MiB window and are re-decoded past
    // it; the zip reader, the one format that needs stable views, copies what it keeps.
    if (codec_ == Codec::Deflate || codec_ == Codec::Zlib) {
        auto inflated = std::make_unique<InflateSource>(
            source_, offset_, length_, codec_ == Codec::Zlib ? Wrapper::Zlib : Wrapper::Raw, cap);
        first = inflated->first_pass();
        return inflated;
    }
    auto decoded = std::make_unique<CodecSource>(
        source_, offset_, length_, codec_ == Codec::Bzip2 ? ZipCodec::Bzip2 : ZipCodec::Lzma, cap);
    first = decoded->first_pass();
    return decoded;
}

}  // namespace mscan::compress
