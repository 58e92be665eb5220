// Hydra / NeMo target keys in YAML configs (see hydra_config.h).
#include "formats/hydra/hydra_config.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "formats/member_names.h"
#include "mscan/limits.h"

namespace mscan::hydra {
namespace {

std::string_view as_text(std::span<const std::uint8_t> bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

/// Keys whose value Hydra (`_target_`) or NeMo (`target`, `cls`) imports and instantiates.
constexpr std::array<std::string_view, 3> kKeys = {"_target_", "target", "cls"};

/// Roots of the frameworks such configs normally build from: their names are reported only
/// when a deny rule names them (torch.hub.load is; torch.nn.Linear is not).
constexpr std::array<std::string_view, 14> kFrameworkRoots = {"nemo",
                                                              "nemo_text_processing",
                                                              "torch",
                                                              "torchaudio",
                                                              "torchvision",
                                                              "lightning",
                                                              "pytorch_lightning",
                                                              "lightning_fabric",
                                                              "omegaconf",
                                                              "transformers",
                                                              "megatron",
                                                              "apex",
                                                              "numpy",
                                                              "sentencepiece"};

bool ident_start(char c) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool ident_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

/// "a.b.C": at least two identifiers joined by dots.
bool dotted_name(std::string_view s) {
    if (s.empty() || s.size() > limits::kPickleMaxNameLength) return false;
    bool dot = false;
    bool start = true;
    for (char c : s) {
        if (c == '.') {
            if (start) return false;
            dot = true;
            start = true;
        } else if (start ? ident_start(c) : ident_char(c)) {
            start = false;
        } else {
            return false;
        }
    }
    return dot && !start;
}

bool framework_name(std::string_view name) {
    const std::string_view root = name.substr(0, name.find('.'));
    return std::find(kFrameworkRoots.begin(), kFrameworkRoots.end(), root) != kFrameworkRoots.end();
}

struct Target {
    std::string_view key;
    std::string_view value;
    std::size_t column;
};

/// The target keys on one line (comment already removed). A key starts the line (after
/// indentation and list dashes) or follows '{' or ',' (flow style); it may be quoted.
template <typename F>
void targets_on_line(std::string_view line, F&& found) {
    // Keys may start where everything before is indentation and list dashes, or after '{' or
    // ',' and blanks (flow style): both known in one pass, so a long line costs its length.
    const std::size_t indent_end = std::min(line.find_first_not_of(" \t-"), line.size());
    char last_nonblank = 0;  // before position i
    for (std::size_t i = 0; i < line.size(); ++i) {
        if (i > 0 && line[i - 1] != ' ' && line[i - 1] != '\t') last_nonblank = line[i - 1];
        const bool line_start = i <= indent_end;
        const bool flow = last_nonblank == '{' || last_nonblank == ',';
        if (!line_start && !flow) continue;
        std::size_t k = i;
        const char quote = (line[k] == '"' || line[k] == '\'') ? line[k] : 0;
        if (quote) ++k;
        for (const auto key : kKeys) {
            if (line.substr(k, key.size()) != key) continue;
            std::size_t after = k + key.size();
            if (quote) {
                if (after >= line.size() || line[after] != quote) continue;
                ++after;
            }
            while (after < line.size() && (line[after] == ' ' || line[after] == '\t'))
                ++after;
            if (after >= line.size() || line[after] != ':') continue;
            ++after;
            if (after < line.size() && line[after] != ' ' && line[after] != '\t') continue;
            while (after < line.size() && (line[after] == ' ' || line[after] == '\t'))
                ++after;
            std::string_view value;
            if (after < line.size() && (line[after] == '"' || line[after] == '\'')) {
                const char q = line[after];
                const auto end = line.find(q, after + 1);
                if (end == std::string_view::npos) break;
                value = line.substr(after + 1, end - after - 1);
            } else {
                auto end = line.find_first_of(flow ? ",}" : "", after);
                if (end == std::string_view::npos) end = line.size();
                value = line.substr(after, end - after);
                while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
                    value.remove_suffix(1);
            }
            found(Target{key, value, i});
            break;
        }
    }
}

/// `line` without a trailing comment: a '#' at the start or after a blank, outside quotes.
std::string_view strip_comment(std::string_view line) {
    char quote = 0;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quote) {
            if (c == quote) quote = 0;
        } else if (c == '"' || c == '\'') {
            if (i == 0 || line[i - 1] == ' ' || line[i - 1] == ':' || line[i - 1] == '{' ||
                line[i - 1] == ',' || line[i - 1] == '-' || line[i - 1] == '[')
                quote = c;
        } else if (c == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
            return line.substr(0, i);
        }
    }
    return line;
}

template <typename F>
void each_target(std::string_view text, F&& found) {
    std::size_t start = 0;
    std::size_t number = 1;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(start, end - start);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        targets_on_line(strip_comment(line), [&](const Target& t) { found(t, number, start); });
        start = end + 1;
        ++number;
    }
}

}  // namespace

bool has_targets(std::string_view text) {
    bool any = false;
    // Cheap pre-check before the line walk.
    if (text.find("target") == std::string_view::npos && text.find("cls") == std::string_view::npos)
        return false;
    each_target(text, [&](const Target& t, std::size_t, std::size_t) {
        any = any || dotted_name(t.value);
    });
    return any;
}

bool detect(Source& source, std::string_view extension) {
    if (extension != ".yaml" && extension != ".yml") return false;
    if (source.size() == 0 || source.size() > limits::kHydraMaxBytes) return false;
    const auto bytes = source.view(0, static_cast<std::size_t>(source.size()));
    return bytes.size() == source.size() && has_targets(as_text(bytes));
}

void check_yaml(std::string_view text, const ParseContext& context) {
    std::size_t reported = 0;
    bool capped = false;
    each_target(text, [&](const Target& t, std::size_t line, std::size_t offset) {
        if (!dotted_name(t.value) || capped) return;
        if (reported == limits::kHydraMaxTargets) {
            capped = true;
            context.anomaly("limit.exceeded", "more than " +
                                                  std::to_string(limits::kHydraMaxTargets) +
                                                  " target keys; the rest were not reported");
            return;
        }
        ++reported;
        Operation op;
        op.kind = OpKind::Call;
        op.name = std::string(t.value);
        op.only_if_denied = framework_name(t.value);
        op.evidence = "line " + std::to_string(line) + ": " + std::string(t.key) + ": " +
                      printable(t.value) + " (instantiated when the config is loaded)";
        op.location = context.base();
        op.location.offset = static_cast<std::int64_t>(offset + t.column);
        context.emit(std::move(op));
    });
}

void parse(Source& source, const ParseContext& context) {
    const auto bytes = source.view(0, static_cast<std::size_t>(source.size()));
    if (bytes.size() != source.size()) return;  // read_error() says why
    check_yaml(as_text(bytes), context);
}

}  // namespace mscan::hydra
