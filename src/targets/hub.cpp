// Hub targets, configuration and listing. Every response body is bounded and its JSON depth
// checked before parsing; a listing that cannot be trusted is an error, never a shorter list.
#include "targets/hub.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>

#include "mscan/limits.h"
#include "net/text.h"
#include "util/json_depth.h"
#include "util/text_safety.h"

namespace mscan::hub {
namespace {

using nlohmann::json;

bool truthy(const char* v) {
    if (!v) return false;
    const std::string s = util::ascii_lower(v);
    return s == "1" || s == "on" || s == "yes" || s == "true";
}

std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (true) {
        const auto at = s.find(sep, start);
        out.emplace_back(s.substr(start, at == std::string_view::npos ? s.npos : at - start));
        if (at == std::string_view::npos) break;
        start = at + 1;
    }
    return out;
}

std::optional<std::string> percent_decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out += s[i];
            continue;
        }
        if (i + 2 >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i + 1])) ||
            !std::isxdigit(static_cast<unsigned char>(s[i + 2])))
            return std::nullopt;
        out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
        i += 2;
    }
    return out;
}

bool valid_name_part(std::string_view s) {
    if (s.empty() || s.size() > 96 || s == "." || s == "..") return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    });
}

}  // namespace

bool valid_revision(std::string_view s) {
    if (s.empty() || s.size() > 256 || s.front() == '/' || s.back() == '/') return false;
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x21 || u == 0x7f || c == '\\' || c == '?' || c == '#') return false;
    }
    return s.find("..") == std::string_view::npos && s.find("//") == std::string_view::npos;
}

namespace {

bool is_commit(std::string_view s) {
    return s.size() == 40 && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

/// Takes the revision that starts at parts[i] into `t` (percent-decoded), moving `i` past it:
/// a refs/pr/N (or refs/convert/NAME) revision keeps its slashes; any other revision ends at
/// the first '/' ("%2F" may stand for a slash in it).
bool take_revision(const std::vector<std::string>& parts, std::size_t& i, HubTarget& t,
                   std::string& error) {
    std::string rev;
    if (parts[i] == "refs" && i + 2 < parts.size() &&
        (parts[i + 1] == "pr" || parts[i + 1] == "convert")) {
        rev = parts[i] + "/" + parts[i + 1] + "/" + parts[i + 2];
        i += 3;
    } else {
        rev = parts[i++];
    }
    const auto decoded = percent_decode(rev);
    if (!decoded) {
        error = "bad %-escape in the revision";
        return false;
    }
    t.revision = *decoded;
    t.revision_given = true;
    return true;
}

bool finish(HubTarget& t, const std::vector<std::string>& rest, std::string& error) {
    std::string path;
    for (const auto& part : rest) {
        // A decoded web URL segment may hold '/' ("%2F"): its pieces are checked one by one.
        for (const auto& piece : split(part, '/')) {
            if (piece.empty()) continue;  // a trailing or doubled slash
            if (piece == "." || piece == "..") {
                error = "a path inside a repository cannot contain '.' or '..'";
                return false;
            }
            if (std::any_of(piece.begin(), piece.end(), [](char c) {
                    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
                })) {
                error = "a path inside a repository cannot contain control characters";
                return false;
            }
            path += (path.empty() ? "" : "/") + piece;
        }
    }
    t.path = path;
    const auto slash = t.repo_id.find('/');
    const bool ok = slash == std::string::npos ? valid_name_part(t.repo_id)
                                               : valid_name_part(t.repo_id.substr(0, slash)) &&
                                                     valid_name_part(t.repo_id.substr(slash + 1));
    if (!ok) {
        error = "'" + t.repo_id.substr(0, 200) +
                "' is not a repository id (org/name: letters, digits, '-', '_', '.')";
        return false;
    }
    if (!valid_revision(t.revision)) {
        error = "'" + t.revision.substr(0, 200) + "' is not a revision";
        return false;
    }
    return true;
}

std::optional<HubTarget> parse_hf_scheme(std::string_view rest, std::string& error) {
    HubTarget t;
    auto parts = split(rest, '/');
    std::size_t i = 0;
    if (!parts.empty() &&
        (parts[0] == "datasets" || parts[0] == "spaces" || parts[0] == "models")) {
        t.type = parts[0] == "datasets" ? RepoType::Dataset
                 : parts[0] == "spaces" ? RepoType::Space
                                        : RepoType::Model;
        ++i;
    }
    if (i >= parts.size() || parts[i].empty()) {
        error = "no repository named (hf://org/name)";
        return std::nullopt;
    }
    // org/name[@rev] or a one-part legacy id name[@rev].
    std::string first = parts[i++];
    std::string name_part = first;
    std::optional<std::string> at_rev;
    if (const auto at = first.find('@'); at != std::string::npos) {
        name_part = first.substr(0, at);
        at_rev = first.substr(at + 1);
        t.repo_id = name_part;
    } else if (i < parts.size()) {
        std::string second = parts[i++];
        if (const auto at2 = second.find('@'); at2 != std::string::npos) {
            at_rev = second.substr(at2 + 1);
            second = second.substr(0, at2);
        }
        t.repo_id = first + "/" + second;
    } else {
        t.repo_id = first;
    }
    if (at_rev) {
        // The revision's first part was glued to the name; later parts follow as usual.
        std::vector<std::string> rev_parts{*at_rev};
        rev_parts.insert(rev_parts.end(), parts.begin() + static_cast<std::ptrdiff_t>(i),
                         parts.end());
        std::size_t j = 0;
        if (!take_revision(rev_parts, j, t, error)) return std::nullopt;
        parts.assign(rev_parts.begin() + static_cast<std::ptrdiff_t>(j), rev_parts.end());
        i = 0;
    }
    if (!finish(
            t,
            std::vector<std::string>(parts.begin() + static_cast<std::ptrdiff_t>(i), parts.end()),
            error))
        return std::nullopt;
    return t;
}

std::optional<HubTarget> parse_web_path(std::string_view path, std::string& error) {
    auto parts = split(path, '/');
    parts.erase(std::remove(parts.begin(), parts.end(), std::string()), parts.end());
    HubTarget t;
    std::size_t i = 0;
    if (!parts.empty() && (parts[0] == "datasets" || parts[0] == "spaces")) {
        t.type = parts[0] == "datasets" ? RepoType::Dataset : RepoType::Space;
        ++i;
    }
    if (i >= parts.size()) {
        error = "the URL names no repository";
        return std::nullopt;
    }
    auto is_view = [](const std::string& s) {
        return s == "tree" || s == "blob" || s == "resolve" || s == "raw";
    };
    if (i + 1 < parts.size() && !is_view(parts[i + 1])) {
        t.repo_id = parts[i] + "/" + parts[i + 1];
        i += 2;
    } else {
        t.repo_id = parts[i++];
    }
    if (i < parts.size()) {
        if (!is_view(parts[i])) {
            error = "the URL is not a repository, tree or file page";
            return std::nullopt;
        }
        ++i;
        if (i >= parts.size()) {
            error = "the URL names no revision";
            return std::nullopt;
        }
        if (!take_revision(parts, i, t, error)) return std::nullopt;
    }
    std::vector<std::string> rest;
    for (; i < parts.size(); ++i) {
        const auto decoded = percent_decode(parts[i]);
        if (!decoded) {
            error = "bad %-escape in the path";
            return std::nullopt;
        }
        rest.push_back(*decoded);
    }
    if (!finish(t, rest, error)) return std::nullopt;
    return t;
}

/// The host part of an http(s) URL text, lower-cased, and the path after it.
bool split_web_url(std::string_view text, std::string& host, std::string_view& path) {
    std::string_view rest;
    if (text.starts_with("https://"))
        rest = text.substr(8);
    else if (text.starts_with("http://"))
        rest = text.substr(7);
    else
        return false;
    const auto slash = rest.find('/');
    host = util::ascii_lower(rest.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
    const auto cut = path.find_first_of("?#");
    if (cut != std::string_view::npos) path = path.substr(0, cut);
    return true;
}

std::string endpoint_host(const HubConfig& config) {
    std::string host;
    std::string_view path;
    if (!split_web_url(config.endpoint, host, path)) return {};
    return host;
}

bool web_host_matches(const std::string& host, const HubConfig& config) {
    return host == "huggingface.co" || host == "www.huggingface.co" || host == "hf.co" ||
           (!host.empty() && host == endpoint_host(config));
}

std::string read_token_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    std::string text(4096, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    return std::string(trim(text));
}

bool parse_json_bounded(std::string_view body, json& out, std::string& error) {
    if (json_nesting_depth(body, limits::kJsonMaxDepth) > limits::kJsonMaxDepth) {
        error = "the answer nests JSON too deeply";
        return false;
    }
    // Values are counted before parsing, so a body of a million empty objects cannot make the
    // parser build gigabytes of tree: real listings are far below the cap.
    if (json_value_count(body, limits::kHubMaxJsonValues) > limits::kHubMaxJsonValues) {
        error = "the answer holds more JSON values than a listing can (" +
                std::to_string(limits::kHubMaxJsonValues) + ")";
        return false;
    }
    out = json::parse(body.begin(), body.end(), nullptr, false);
    if (out.is_discarded()) {
        error = "the answer is not valid JSON";
        return false;
    }
    return true;
}

}  // namespace

std::string_view type_plural(RepoType type) {
    switch (type) {
        case RepoType::Dataset:
            return "datasets";
        case RepoType::Space:
            return "spaces";
        case RepoType::Model:
            break;
    }
    return "models";
}

std::string_view type_prefix(RepoType type) {
    switch (type) {
        case RepoType::Dataset:
            return "datasets/";
        case RepoType::Space:
            return "spaces/";
        case RepoType::Model:
            break;
    }
    return "";
}

std::string type_name(RepoType type) {
    std::string plural(type_plural(type));
    plural.pop_back();
    return plural;
}

std::string HubTarget::display() const {
    return "hf://" + std::string(type_prefix(type)) + repo_id +
           (revision_given ? "@" + revision : std::string());
}

HubConfig config_from_environment(const std::function<const char*(const char*)>& env) {
    auto get = [&](const char* name) -> std::string {
        const char* v = env(name);
        return v ? std::string(v) : std::string();
    };
    HubConfig c;
    if (std::string ep = get("HF_ENDPOINT"); !ep.empty()) {
        while (!ep.empty() && ep.back() == '/')
            ep.pop_back();
        c.endpoint = ep;
    }
    for (const char* var : {"HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"}) {
        if (truthy(env(var))) {
            c.offline = true;
            c.offline_variable = var;
            break;
        }
    }
    std::string home = get("HF_HOME");
    if (home.empty()) {
        if (const std::string xdg = get("XDG_CACHE_HOME"); !xdg.empty()) {
            home = xdg + "/huggingface";
        } else if (const std::string user = get("HOME"); !user.empty()) {
            home = user + "/.cache/huggingface";
        }
    }
    if (std::string t = std::string(trim(get("HF_TOKEN"))); !t.empty()) {
        c.token = t;
        c.token_source = "HF_TOKEN";
    } else if (t = std::string(trim(get("HUGGING_FACE_HUB_TOKEN"))); !t.empty()) {
        c.token = t;
        c.token_source = "HUGGING_FACE_HUB_TOKEN";
    } else {
        std::string path = get("HF_TOKEN_PATH");
        if (path.empty() && !home.empty()) path = home + "/token";
        if (!path.empty()) {
            c.token = read_token_file(path);
            if (!c.token.empty()) c.token_source = path;
        }
    }
    if (std::string d = get("HF_HUB_CACHE"); !d.empty()) {
        c.cache_dir = d;
    } else if (d = get("HUGGINGFACE_HUB_CACHE"); !d.empty()) {
        c.cache_dir = d;
    } else if (!home.empty()) {
        c.cache_dir = home + "/hub";
    }
    return c;
}

bool is_hub_target(std::string_view text, const HubConfig& config) {
    if (text.starts_with("hf://")) return true;
    std::string host;
    std::string_view path;
    return split_web_url(text, host, path) && web_host_matches(host, config);
}

std::optional<HubTarget> parse_target(std::string_view text, const HubConfig& config,
                                      std::string& error) {
    if (text.size() > 4096) {
        error = "the target is too long";
        return std::nullopt;
    }
    if (text.starts_with("hf://")) return parse_hf_scheme(text.substr(5), error);
    std::string host;
    std::string_view path;
    if (!split_web_url(text, host, path) || !web_host_matches(host, config)) {
        error = "not a Hugging Face address";
        return std::nullopt;
    }
    return parse_web_path(path, error);
}

bool parse_repo_info(std::string_view body, RepoListing& out, std::string& error) {
    json j;
    if (!parse_json_bounded(body, j, error)) return false;
    if (!j.is_object()) {
        error = "the repo info is not a JSON object";
        return false;
    }
    const auto sha = j.find("sha");
    if (sha == j.end() || !sha->is_string() || !is_commit(sha->get_ref<const std::string&>())) {
        error = "the repo info carries no commit id ('sha'); is the endpoint a Hugging Face Hub?";
        return false;
    }
    out.commit = sha->get<std::string>();
    if (const auto g = j.find("gated"); g != j.end() && g->is_string())
        out.gated = printable(g->get<std::string>());
    if (const auto p = j.find("private"); p != j.end() && p->is_boolean())
        out.is_private = p->get<bool>();
    if (const auto s = j.find("securityRepoStatus"); s != j.end() && s->is_object()) {
        out.hub_status.present = true;
        if (const auto d = s->find("scansDone"); d != s->end() && d->is_boolean())
            out.hub_status.scans_done = d->get<bool>();
        if (const auto f = s->find("filesWithIssues"); f != s->end() && f->is_array()) {
            for (const auto& item : *f) {
                if (out.hub_status.files_with_issues.size() >= 1000) break;
                if (!item.is_object()) continue;
                const auto p = item.find("path");
                const auto l = item.find("level");
                if (p == item.end() || !p->is_string()) continue;
                out.hub_status.files_with_issues.emplace_back(printable(p->get<std::string>()),
                                                              l != item.end() && l->is_string()
                                                                  ? printable(l->get<std::string>())
                                                                  : "unknown");
            }
        }
    }
    return true;
}

/// A path the Hub could list: relative, no empty, '.' or '..' segments, nothing unprintable.
bool safe_repo_path(std::string_view path) {
    if (path.empty() || path.size() > 4096) return false;
    for (const auto& piece : split(path, '/')) {
        if (piece.empty() || piece == "." || piece == "..") return false;
    }
    return std::none_of(path.begin(), path.end(),
                        [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

bool parse_tree_page(std::string_view body, std::vector<RepoEntry>& out, std::string& error,
                     std::vector<std::string>* directories) {
    json j;
    if (!parse_json_bounded(body, j, error)) return false;
    if (!j.is_array()) {
        error = "the tree listing is not a JSON array";
        return false;
    }
    for (const auto& e : j) {
        if (!e.is_object()) {
            error = "a tree entry is not a JSON object";
            return false;
        }
        const auto type = e.find("type");
        const auto path = e.find("path");
        if (type == e.end() || !type->is_string() || path == e.end() || !path->is_string()) {
            error = "a tree entry lacks its type or path";
            return false;
        }
        if (!safe_repo_path(path->get_ref<const std::string&>())) {
            error =
                "a tree entry's path is empty, absolute, overlong, unprintable, or has '.', "
                "'..' or empty parts: '" +
                printable(path->get_ref<const std::string&>()) + "'";
            return false;
        }
        if (*type == "directory") {
            if (directories) directories->push_back(path->get<std::string>());
            continue;
        }
        RepoEntry entry;
        entry.path = path->get<std::string>();
        const auto size = e.find("size");
        if (size == e.end() || !size->is_number_unsigned()) {
            error = "the tree entry '" + printable(entry.path) + "' has no size";
            return false;
        }
        entry.size = size->get<std::uint64_t>();
        if (const auto lfs = e.find("lfs"); lfs != e.end() && lfs->is_object()) entry.lfs = true;
        out.push_back(std::move(entry));
    }
    return true;
}

std::optional<std::string> next_link(std::string_view header) {
    // <url>; rel="next", <url>; rel="prev"
    std::size_t at = 0;
    while (at < header.size()) {
        const auto open = header.find('<', at);
        if (open == std::string_view::npos) break;
        const auto close = header.find('>', open);
        if (close == std::string_view::npos) break;
        const auto next = header.find('<', close);
        const std::string_view params = header.substr(
            close + 1, next == std::string_view::npos ? header.npos : next - close - 1);
        const std::string p = util::ascii_lower(params);
        if (p.find("rel=\"next\"") != std::string::npos || p.find("rel=next") != std::string::npos)
            return std::string(header.substr(open + 1, close - open - 1));
        at = close + 1;
    }
    return std::nullopt;
}

HttpResponse HubClient::get(const std::string& url) {
    HttpRequest request;
    request.url = url;
    request.max_body = limits::kHubMaxApiBody;
    request.token = config_.token;
    request.token_origin = url_origin(config_.endpoint);
    request.headers.push_back("Accept: application/json");
    return http_.fetch(request);
}

std::string HubClient::resolve_url(const HubTarget& target, std::string_view commit,
                                   std::string_view path) const {
    return config_.endpoint + "/" + std::string(type_prefix(target.type)) + target.repo_id +
           "/resolve/" + url_quote(commit, false) + "/" + url_quote(path, true);
}

std::string web_url(const HubConfig& config, const HubTarget& target) {
    return config.endpoint + "/" + std::string(type_prefix(target.type)) + target.repo_id;
}

RepoListing HubClient::list(const HubTarget& target) {
    RepoListing out;
    const std::string api =
        config_.endpoint + "/api/" + std::string(type_plural(target.type)) + "/" + target.repo_id;
    const std::string where = target.display();
    {
        const HttpResponse r =
            get(api + "/revision/" + url_quote(target.revision, false) + "?securityStatus=true");
        if (r.status != 200) {
            out.error = "cannot read the repository info of " + where + ": " + describe_failure(r);
            return out;
        }
        if (r.body_cut) {
            out.error = "the repository info of " + where + " is too large to read";
            return out;
        }
        std::string error;
        if (!parse_repo_info(r.body, out, error)) {
            out.error = where + ": " + error;
            return out;
        }
    }
    // Lists `dir` (empty: the root) at the commit, following every page.
    auto list_dir = [&](const std::string& dir, bool recursive, std::vector<RepoEntry>& entries,
                        std::vector<std::string>* directories) -> bool {
        std::string url = api + "/tree/" + url_quote(out.commit, false) +
                          (dir.empty() ? "" : "/" + url_quote(dir, true)) +
                          (recursive ? "?recursive=true" : "");
        std::size_t path_bytes = 0;
        for (int page = 0; !url.empty(); ++page) {
            if (page >= limits::kHubMaxPages || entries.size() > limits::kHubMaxFiles ||
                path_bytes > limits::kHubMaxPathBytes) {
                out.error = "the listing of " + where + " has too many pages or files";
                return false;
            }
            const HttpResponse r = get(url);
            if (r.status != 200 || r.body_cut) {
                out.error = "cannot list " + where +
                            (dir.empty() ? "" : " '" + printable(dir) + "'") + " at " + out.commit +
                            ": " +
                            (r.body_cut ? std::string("a page is too large") : describe_failure(r));
                return false;
            }
            std::string error;
            const std::size_t before = entries.size();
            if (!parse_tree_page(r.body, entries, error, directories)) {
                out.error = "the listing of " + where + " is unreadable: " + error;
                return false;
            }
            for (std::size_t k = before; k < entries.size(); ++k)
                path_bytes += entries[k].path.size();
            const auto link = r.header("link");
            const auto next = link ? next_link(*link) : std::nullopt;
            url = next ? hub::resolve_url(r.url, *next) : std::string();
        }
        return true;
    };
    std::vector<RepoEntry> entries;
    if (target.path.empty()) {
        if (!list_dir("", true, entries, nullptr)) return out;
    } else {
        const auto slash = target.path.rfind('/');
        const std::string parent = slash == std::string::npos ? "" : target.path.substr(0, slash);
        std::vector<RepoEntry> siblings;
        std::vector<std::string> directories;
        if (!list_dir(parent, false, siblings, &directories)) return out;
        const auto file = std::find_if(siblings.begin(), siblings.end(),
                                       [&](const RepoEntry& e) { return e.path == target.path; });
        if (file != siblings.end()) {
            entries.push_back(*file);
            out.single_file = true;
        } else if (std::find(directories.begin(), directories.end(), target.path) !=
                   directories.end()) {
            if (!list_dir(target.path, true, entries, nullptr)) return out;
        } else {
            out.error = "'" + printable(target.path) + "' is not a file or folder of " + where +
                        " at " + out.commit;
            return out;
        }
    }
    std::sort(entries.begin(), entries.end(),
              [](const RepoEntry& a, const RepoEntry& b) { return a.path < b.path; });
    entries.erase(
        std::unique(entries.begin(), entries.end(),
                    [](const RepoEntry& a, const RepoEntry& b) { return a.path == b.path; }),
        entries.end());
    out.files = std::move(entries);
    return out;
}

}  // namespace mscan::hub
