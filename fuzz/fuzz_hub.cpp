// Fuzz target for the Hugging Face client's text parsers: everything that reads user- or
// server-controlled text without a network. The first byte chooses the parser; the rest is
// its input: a target (hf://, a Hub web URL, a URL under a loopback HF_ENDPOINT), a repo-info
// or tree-page JSON body, a Link or Content-Range header, Retry-After/RateLimit and error
// headers, include/exclude globs, or URLs to quote, resolve and take the origin of.
// Must never crash, hang or grow memory without bound; the checks below are invariants the
// scanner relies on (a parsed target is displayable, a Content-Range is ordered, ...).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "net/http.h"
#include "net/remote_source.h"
#include "targets/hub.h"
#include "targets/work.h"
#include "util/glob.h"

namespace {

/// Splits `text` at '\n' into at most `max` lines.
std::vector<std::string> lines(std::string_view text, std::size_t max) {
    std::vector<std::string> out;
    while (out.size() < max) {
        const auto nl = text.find('\n');
        out.emplace_back(text.substr(0, nl));
        if (nl == std::string_view::npos) break;
        text.remove_prefix(nl + 1);
    }
    return out;
}

bool is_commit(const std::string& s) {
    if (s.size() != 40) return false;
    for (const char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

void check(bool ok) {
    if (!ok) std::abort();
}

void target(const std::string& text, const mscan::hub::HubConfig& config) {
    std::string error;
    const auto t = mscan::hub::parse_target(text, config, error);
    if (t) {
        check(!t->repo_id.empty());
        check(!t->revision.empty());
        check(t->display().starts_with("hf://"));
    } else {
        check(!error.empty());
    }
    (void)mscan::hub::is_hub_target(text, config);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
    static const mscan::hub::HubConfig hub_config;
    static const mscan::hub::HubConfig mirror_config = [] {
        mscan::hub::HubConfig c;
        c.endpoint = "http://127.0.0.1:8080";
        return c;
    }();
    std::string error;
    switch (data[0] % 10) {
        case 0:
            target("hf://" + text, hub_config);
            break;
        case 1:
            target("https://huggingface.co/" + text, hub_config);
            break;
        case 2:
            target(text, mirror_config);
            break;
        case 3: {
            mscan::hub::RepoListing listing;
            if (mscan::hub::parse_repo_info(text, listing, error)) {
                check(is_commit(listing.commit));
                check(listing.hub_status.files_with_issues.size() <= 1000);
            }
            break;
        }
        case 4: {
            std::vector<mscan::hub::RepoEntry> entries;
            if (mscan::hub::parse_tree_page(text, entries, error)) {
                for (const auto& e : entries)
                    check(!e.path.empty() && e.path.size() <= 4096);
            }
            break;
        }
        case 5:
            if (const auto next = mscan::hub::next_link(text)) check(next->size() <= text.size());
            break;
        case 6:
            if (const auto r = mscan::hub::parse_content_range(text))
                check(r->first <= r->last && r->last < r->total);
            break;
        case 7: {
            // relative path, then include patterns until an empty line, then exclude patterns.
            const auto parts = lines(text, 16);
            std::vector<std::string> include, exclude;
            bool excluding = false;
            for (std::size_t i = 1; i < parts.size(); ++i) {
                if (parts[i].empty()) {
                    excluding = true;
                    continue;
                }
                (excluding ? exclude : include).push_back(parts[i]);
            }
            const auto why = mscan::glob_rejects(parts[0], include, exclude);
            if (include.empty() && exclude.empty()) check(!why.has_value());
            break;
        }
        case 8: {
            // Header lines "name: value" of a failed response; the status from the second byte.
            mscan::hub::HttpResponse r;
            const auto parts = lines(text, 34);
            r.status = parts[0].empty() ? 0 : 400 + static_cast<unsigned char>(parts[0][0]) % 200;
            r.attempts = 1 + static_cast<int>(parts[0].size() % 5);
            r.error = parts[0];
            for (std::size_t i = 1; i < parts.size(); ++i) {
                const auto colon = parts[i].find(':');
                if (colon == std::string::npos) continue;
                r.headers.emplace_back(parts[i].substr(0, colon), parts[i].substr(colon + 1));
            }
            if (const auto wait = mscan::hub::retry_after_seconds(r))
                check(*wait >= 0 && *wait < 1e10);
            const std::string d = mscan::hub::describe_failure(r);
            check(!d.empty() && d.size() < 2000);
            for (const char c : d)
                check(static_cast<unsigned char>(c) >= 0x20 &&
                      static_cast<unsigned char>(c) < 0x7f);
            break;
        }
        case 9: {
            const auto parts = lines(text, 2);
            const std::string& base = parts[0];
            const std::string location = parts.size() > 1 ? parts[1] : std::string();
            (void)mscan::hub::url_origin(base);
            (void)mscan::hub::resolve_url(base, location);
            const std::string q = mscan::hub::url_quote(text, data[0] >= 128);
            check(q.size() >= text.size() && q.size() <= 3 * text.size());
            break;
        }
    }
    return 0;
}
