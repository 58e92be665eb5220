// The legacy layout as torch.serialization's _legacy_load reads it: five pickle.load calls,
// then for each key of the storage-keys list, in order, an 8-byte little-endian element
// count and count * element-size bytes (the element size follows from the storage type in
// the model pickle's persistent id ('storage', <type>, <key>, <location>, <numel>, ...)).
#include "formats/pickle/torch_legacy.h"

#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "formats/pickle/opcodes.h"
#include "formats/pickle/pickle_codes.h"
#include "formats/pickle/pickle_format.h"
#include "formats/pickle/pickle_machine.h"
#include "mscan/reader.h"

namespace mscan::pickle {
namespace {

// PROTO 2, LONG1 of 10 bytes: 0x1950a86a20f9469cfc6c (torch.serialization.MAGIC_NUMBER), STOP.
constexpr std::array<std::uint8_t, 15> kMagicPickle = {
    0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e};
constexpr std::size_t kMaxKeys = 1 << 20;

/// Bytes per element of a torch storage type ("torch.FloatStorage", "torch.cuda.HalfStorage").
std::optional<std::uint64_t> element_size(std::string_view type) {
    const auto dot = type.rfind('.');
    const std::string_view name = dot == std::string_view::npos ? type : type.substr(dot + 1);
    static const std::map<std::string_view, std::uint64_t> sizes = {
        {"DoubleStorage", 8},   {"FloatStorage", 4},        {"HalfStorage", 2},
        {"BFloat16Storage", 2}, {"LongStorage", 8},         {"IntStorage", 4},
        {"ShortStorage", 2},    {"CharStorage", 1},         {"ByteStorage", 1},
        {"BoolStorage", 1},     {"ComplexFloatStorage", 8}, {"ComplexDoubleStorage", 16},
        {"QInt8Storage", 1},    {"QUInt8Storage", 1},       {"QInt32Storage", 4},
        {"QUInt4x2Storage", 1}, {"QUInt2x4Storage", 1},     {"UntypedStorage", 1},
    };
    const auto it = sizes.find(name);
    if (it == sizes.end()) return std::nullopt;
    return it->second;
}

/// The storage-keys pickle: a list of strings, as pickle writes it (EMPTY_LIST, MARK,
/// strings, APPENDS, memo puts and gets). nullopt if it is anything else.
std::optional<std::vector<std::string>> string_list(Source& source, std::uint64_t start,
                                                    std::uint64_t end) {
    ByteReader r(source, start, end);
    std::vector<std::string> items;
    std::map<std::uint64_t, std::string> memo;
    std::optional<std::string> top;  // the last string pushed (for memo puts)
    bool have_list = false;
    // A 1-byte (short) or 4-byte little-endian operand: memo keys and string lengths.
    auto operand = [&r](bool one_byte, std::uint64_t& out) {
        if (one_byte) {
            const auto v = r.u8();
            if (v) out = *v;
            return v.has_value();
        }
        const auto v = r.u32le();
        if (v) out = *v;
        return v.has_value();
    };
    while (auto code = r.u8()) {
        std::uint64_t n = 0, key = 0;
        switch (*code) {
            case op::PROTO:
                if (!r.skip(1)) return std::nullopt;
                break;
            case op::FRAME:
                if (!r.skip(8)) return std::nullopt;
                break;
            case op::EMPTY_LIST:
                if (have_list) return std::nullopt;
                have_list = true;
                top.reset();
                break;
            case op::MARK:
            case op::APPEND:
            case op::APPENDS:
                top.reset();
                break;
            case op::BINPUT:
            case op::LONG_BINPUT:
            case op::MEMOIZE: {
                if (*code == op::MEMOIZE) {
                    key = memo.size();
                } else if (!operand(*code == op::BINPUT, key)) {
                    return std::nullopt;
                }
                memo[key] = top.value_or(std::string());
                break;
            }
            case op::BINGET:
            case op::LONG_BINGET: {
                if (!operand(*code == op::BINGET, key)) return std::nullopt;
                const auto it = memo.find(key);
                if (it == memo.end()) return std::nullopt;
                top = it->second;
                items.push_back(it->second);
                break;
            }
            case op::SHORT_BINUNICODE:
            case op::SHORT_BINSTRING:
            case op::BINUNICODE:
            case op::BINSTRING: {
                const bool short_form =
                    *code == op::SHORT_BINUNICODE || *code == op::SHORT_BINSTRING;
                if (!operand(short_form, n) || n > 4096) return std::nullopt;
                const auto b = r.bytes(static_cast<std::size_t>(n));
                if (!b) return std::nullopt;
                top = std::string(reinterpret_cast<const char*>(b->data()), b->size());
                items.push_back(*top);
                break;
            }
            case op::STOP:
                if (!have_list) return std::nullopt;
                return items;
            default:
                return std::nullopt;
        }
        if (items.size() > kMaxKeys) return std::nullopt;
    }
    return std::nullopt;
}

}  // namespace

bool is_torch_legacy(Source& source) {
    const auto head = source.view(0, kMagicPickle.size());
    return head.size() == kMagicPickle.size() &&
           std::equal(kMagicPickle.begin(), kMagicPickle.end(), head.begin());
}

void scan_torch_legacy(Source& source, const ParseContext& context) {
    static constexpr std::array<const char*, 5> kLabels = {
        "legacy torch: magic number", "legacy torch: protocol version", "legacy torch: sys info",
        "legacy torch: model", "legacy torch: storage keys"};
    ByteReader reader(source);
    std::map<std::string, std::string> storage_types;  // key -> storage type
    std::uint64_t keys_start = 0;
    for (std::size_t i = 0; i < kLabels.size(); ++i) {
        if (reader.at_end()) {
            context.anomaly(kTorchLegacyMalformed,
                            "the file ends after " + std::to_string(i) +
                                " of the 5 pickles a legacy torch.save file holds",
                            static_cast<std::int64_t>(reader.pos()));
            return;
        }
        MachineOptions options;
        options.multiple_streams = false;
        options.report_trailing = false;
        options.label = kLabels[i];
        scan_nested_blobs(options, context);
        if (i == 3) {
            options.persistent_modules = true;
            options.on_persistent_id = [&storage_types](const std::vector<std::string>& p) {
                if (p.size() >= 5 && p[0] == "storage" && storage_types.size() < kMaxKeys)
                    storage_types.emplace(p[2], p[1]);
            };
        }
        keys_start = reader.pos();
        const RunSummary run = scan_pickle(reader, context.base(), context.sink(), options);
        if (!run.clean) return;  // the break is reported; nothing after it can be placed
    }
    const std::uint64_t keys_end = reader.pos();
    const auto keys = string_list(source, keys_start, keys_end);
    if (!keys) {
        context.anomaly(kTorchLegacyMalformed,
                        "the storage-keys pickle is not a plain list of strings, so the storage "
                        "area after it was not verified",
                        static_cast<std::int64_t>(keys_start));
        return;
    }
    std::uint64_t at = keys_end;
    for (const auto& key : *keys) {
        const auto type = storage_types.find(key);
        if (type == storage_types.end()) {
            context.anomaly(kTorchLegacyMalformed,
                            "storage key '" + key.substr(0, 80) +
                                "' is not a storage the model pickle refers to (torch.load fails "
                                "here); the rest of the storage area was not verified",
                            static_cast<std::int64_t>(at));
            return;
        }
        const auto size = element_size(type->second);
        if (!size) {
            context.anomaly(kTorchLegacyMalformed,
                            "storage '" + key.substr(0, 80) + "' has an unknown type " +
                                type->second.substr(0, 80) +
                                "; the rest of the storage area was not verified",
                            static_cast<std::int64_t>(at));
            return;
        }
        ByteReader r(source, at);
        const auto count = r.u64le();
        const std::uint64_t room = r.remaining();
        if (!count || *count > room / *size) {
            context.anomaly(
                kTorchLegacyMalformed,
                "storage '" + key.substr(0, 80) + "' declares " +
                    (count ? std::to_string(*count) : std::string("an unreadable number of")) +
                    " elements of " + std::to_string(*size) + " bytes, but only " +
                    std::to_string(room) + " bytes remain",
                static_cast<std::int64_t>(at));
            return;
        }
        at = r.pos() + *count * *size;
    }
    if (at < source.size()) {
        context.anomaly(kTorchLegacyMalformed,
                        std::to_string(source.size() - at) +
                            " bytes follow the last storage; torch.load never reads them",
                        static_cast<std::int64_t>(at));
    }
}

}  // namespace mscan::pickle
