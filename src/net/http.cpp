// libcurl behind HttpClient. Redirects are followed here, not by libcurl, so that the token
// is attached per hop (only to its own origin) and a https-to-http hop can be refused.
// Transport failures are put in words here, from curl's code and what the attempt saw (was a
// connection made, did any response byte come); curl's own text is kept where it says more.
#include "net/http.h"

#include "net/curl_api.h"

#include "net/text.h"
#include "util/text_safety.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <thread>

namespace mscan::hub {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

/// Whole seconds for a message ("30 s"); never "0 s" for a wait that happened.
std::string seconds_text(double s) {
    return std::to_string(std::max(1L, std::lround(s))) + " s";
}

/// Where a request goes, for messages and events: the host name, and host[:port] as the URL
/// gives it (the port only when the URL names one). Both escaped.
struct Destination {
    std::string host;
    std::string label;
};

struct Transfer {
    HttpResponse* response = nullptr;
    std::size_t max_body = 0;
    /// A response header or body byte came in this attempt, and when the last one came.
    bool answered = false;
    Clock::time_point last_byte;
    // For the Waiting events (only when the options have an on_event).
    const std::function<void(const HttpEvent&)>* on_event = nullptr;
    const Destination* destination = nullptr;
    Clock::time_point started;
    double next_report_s = 1;
    int attempt = 1;
    int max_attempts = 1;
};

/// The caller's callback, never letting an exception through libcurl's C frames.
void notify(const std::function<void(const HttpEvent&)>& on_event, const HttpEvent& event) {
    try {
        on_event(event);
    } catch (...) {  // an event is advice: a callee that fails must not break the request
    }
}

/// CURLOPT_XFERINFOFUNCTION: libcurl calls it often while data flows and about once a second
/// while nothing does (connecting, waiting for the answer). A Waiting event goes out when a
/// whole second has passed since the last one, from the first second on, until the answer
/// starts.
int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* t = static_cast<Transfer*>(user);
    if (t->answered) return 0;
    const double waited = seconds_since(t->started);
    if (waited < t->next_report_s) return 0;
    t->next_report_s = std::floor(waited) + 1;
    HttpEvent event;
    event.kind = HttpEvent::Kind::Waiting;
    event.host = t->destination->label;
    event.seconds = waited;
    event.attempt = t->attempt;
    event.max_attempts = t->max_attempts;
    notify(*t->on_event, event);
    return 0;  // go on
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const std::size_t n = size * count;
    t->answered = true;
    t->last_byte = Clock::now();
    const std::string_view line(data, n);
    if (line.starts_with("HTTP/")) {
        t->response->headers.clear();  // a new response (an interim 1xx came before)
        return n;
    }
    const auto colon = line.find(':');
    if (colon != std::string_view::npos && t->response->headers.size() < 256) {
        t->response->headers.emplace_back(util::ascii_lower(trim(line.substr(0, colon))),
                                          std::string(trim(line.substr(colon + 1))));
    }
    return n;
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const std::size_t n = size * count;
    t->answered = true;
    t->last_byte = Clock::now();
    HttpResponse& r = *t->response;
    r.received += n;
    const std::size_t room = t->max_body - std::min(t->max_body, r.body.size());
    if (n > room) {
        r.body.append(data, room);
        r.body_cut = true;
        return 0;  // abandons the transfer (CURLE_WRITE_ERROR, recognised by body_cut)
    }
    r.body.append(data, n);
    return n;
}

bool retryable_status(long status) {
    return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
           status == 504;
}

/// Transport failures that may pass. A host name that does not resolve
/// (CURLE_COULDNT_RESOLVE_HOST/PROXY) is not among them: it is a mistyped address (HF_ENDPOINT,
/// a proxy variable) or a machine without network or DNS, which seconds of backoff do not
/// change, and the system resolver has already retried a lost query itself (resolv.conf
/// `attempts`). Retrying would only hold the answer back (4 retries: 7.5 s of silence). A name
/// server that does not answer at all ends in CURLE_OPERATION_TIMEDOUT, which is retried.
/// TLS failures are not retried either: a certificate that is not trusted stays so.
bool retryable_transport(CURLcode rc) {
    switch (rc) {
        case CURLE_COULDNT_CONNECT:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_PARTIAL_FILE:
        case CURLE_GOT_NOTHING:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
            return true;
        default:
            return false;
    }
}

struct UrlHandle {
    CURLU* u = curl_api().loaded ? curl_api().url() : nullptr;
    ~UrlHandle() {
        if (u) curl_api().url_cleanup(u);
    }
    std::string get(CURLUPart part, unsigned flags = 0) const {
        char* out = nullptr;
        if (curl_api().url_get(u, part, &out, flags) != CURLUE_OK || !out) return {};
        std::string s(out);
        curl_api().free(out);
        return s;
    }
};

Destination destination_of(const std::string& url) {
    Destination d;
    UrlHandle h;
    if (h.u && curl_api().url_set(h.u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK) {
        d.host = h.get(CURLUPART_HOST);
        const std::string port = h.get(CURLUPART_PORT);  // empty when the URL names none
        d.label = port.empty() ? d.host : d.host + ":" + port;
    }
    if (d.host.empty()) return {"the server", "the server"};
    d.host = printable(d.host);
    d.label = printable(d.label);
    return d;
}

/// A proxy variable libcurl reads is set: connection failures may then be the proxy's.
bool proxy_in_environment() {
    for (const char* name :
         {"http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"}) {
        const char* value = std::getenv(name);
        if (value && *value) return true;
    }
    return false;
}

/// What the attempt saw, for putting its failure in words.
struct FailedAttempt {
    CURLcode rc = CURLE_OK;
    /// curl's own message (its error buffer, or the code's generic text), escaped.
    std::string detail;
    const Destination* to = nullptr;
    bool answered = false;
    double elapsed_s = 0;
    double since_last_byte_s = 0;
    long os_errno = 0;
    long stall_timeout_s = 0;
};

std::string connect_failure(const FailedAttempt& f) {
    const std::string& to = f.to->label;
    const char* why = nullptr;
    switch (f.os_errno) {
        case ECONNREFUSED:
            why = "connection refused";
            break;
        case ETIMEDOUT:
            why = "no reply to the connection request";
            break;
        case ENETUNREACH:
            why = "network unreachable";
            break;
        case EHOSTUNREACH:
            why = "no route to the host";
            break;
        default:
            break;
    }
    // With a proxy variable set, the connection that failed may be the proxy's (or not, by
    // no_proxy): say both, and keep curl's text, which names the address it tried.
    if (proxy_in_environment()) {
        return "could not connect to " + to + " or its proxy: " + (why ? why : "failed") + " (" +
               f.detail + ")";
    }
    if (!why) return "could not connect to " + to + " (" + f.detail + ")";
    if (f.os_errno == ECONNREFUSED) return "connection refused by " + to;
    return "could not connect to " + to + ": " + why;
}

std::string timeout_failure(const FailedAttempt& f) {
    const std::string& to = f.to->label;
    const std::string waited = seconds_text(f.elapsed_s);
    // curl says which phase ran out of time only in its message (lib/multi.c, lib/connect.c).
    if (f.detail.starts_with("Resolving timed out")) {
        return "could not resolve host " + f.to->host + ": the name server did not answer within " +
               waited;
    }
    if (f.detail.starts_with("Connection timed out") || f.detail.starts_with("Failed to connect")) {
        return "could not connect to " + to + ": no reply to the connection request within " +
               waited;
    }
    if (f.detail.starts_with("SSL connection timeout")) {
        return "the TLS handshake with " + to + " did not finish within " + waited;
    }
    if (f.answered) {
        // libcurl's speed is an average over the last seconds, so the silence may be longer
        // than the stall timeout; a trickle below a byte a second ends the transfer too.
        if (f.since_last_byte_s + 0.5 >= static_cast<double>(f.stall_timeout_s)) {
            return "the answer from " + to + " stalled: nothing came for " +
                   seconds_text(f.since_last_byte_s);
        }
        return "the answer from " + to + " slowed to less than a byte a second for " +
               seconds_text(static_cast<double>(f.stall_timeout_s));
    }
    return "no answer from " + to + ": timed out after " + waited + " waiting for an answer";
}

/// A transport failure in words a user understands, escaped.
std::string describe_transport(const FailedAttempt& f) {
    const std::string& to = f.to->label;
    switch (f.rc) {
        case CURLE_COULDNT_RESOLVE_HOST:
            return "could not resolve host " + f.to->host + " (no such name, or no network)";
        case CURLE_COULDNT_RESOLVE_PROXY: {
            // curl: "Could not resolve proxy: NAME"; the variable's value may hold a password.
            const auto colon = f.detail.find(": ");
            const std::string name =
                colon == std::string::npos ? std::string("(unnamed)") : f.detail.substr(colon + 2);
            return "could not resolve proxy " + name +
                   " (the proxy named by http_proxy, https_proxy or all_proxy)";
        }
        case CURLE_COULDNT_CONNECT:
            return connect_failure(f);
        case CURLE_OPERATION_TIMEDOUT:
            return timeout_failure(f);
        case CURLE_GOT_NOTHING:
            return to + " closed the connection without answering";
        case CURLE_SEND_ERROR:
            return "could not send the request to " + to + ": the connection broke (" + f.detail +
                   ")";
        case CURLE_RECV_ERROR:
            return "the connection to " + to + " broke " +
                   (f.answered ? "in the middle of the answer" : "before any answer came") + " (" +
                   f.detail + ")";
        case CURLE_PARTIAL_FILE:
            return to + " closed the connection before the whole answer came (" + f.detail + ")";
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
            return "HTTP/2 error from " + to + " (" + f.detail + ")";
        case CURLE_PEER_FAILED_VERIFICATION:
            return "the TLS certificate of " + to + " is not trusted (" + f.detail +
                   "); behind a proxy that intercepts TLS, its CA certificate must be in the "
                   "system's trust store";
        case CURLE_SSL_CACERT_BADFILE:
            return "cannot read the CA certificates that check " + to + " (" + f.detail + ")";
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_ENGINE_NOTFOUND:
        case CURLE_SSL_ENGINE_SETFAILED:
        case CURLE_SSL_ENGINE_INITFAILED:
        case CURLE_SSL_SHUTDOWN_FAILED:
        case CURLE_SSL_CRL_BADFILE:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_INVALIDCERTSTATUS:
        case CURLE_SSL_CLIENTCERT:
        case CURLE_USE_SSL_FAILED:
            return "the TLS handshake with " + to + " failed (" + f.detail + ")";
        default:
            return "the request to " + to + " failed (" + f.detail + ")";
    }
}

/// `text` unchanged when it is printable ASCII of a sane length already (the client's own
/// messages, whose parts were escaped as they were put together), else through printable()
/// (escaped, cut to 200 characters).
std::string escaped(const std::string& text) {
    const bool clean = text.size() <= 1000 && std::all_of(text.begin(), text.end(), [](char c) {
                           return c >= 0x20 && c < 0x7f;
                       });
    return clean ? text : printable(text);
}

}  // namespace

std::optional<std::string> HttpResponse::header(std::string_view lower_name) const {
    for (const auto& [name, value] : headers) {
        if (name == lower_name) return value;
    }
    return std::nullopt;
}

std::string url_origin(const std::string& url) {
    UrlHandle h;
    if (!h.u || curl_api().url_set(h.u, CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return {};
    const std::string scheme = util::ascii_lower(h.get(CURLUPART_SCHEME));
    const std::string host = util::ascii_lower(h.get(CURLUPART_HOST));
    const std::string port = h.get(CURLUPART_PORT, CURLU_DEFAULT_PORT);
    if (scheme.empty() || host.empty()) return {};
    return scheme + "://" + host + ":" + port;
}

std::string resolve_url(const std::string& base, const std::string& location) {
    UrlHandle h;
    if (!h.u || curl_api().url_set(h.u, CURLUPART_URL, base.c_str(), 0) != CURLUE_OK) return {};
    if (curl_api().url_set(h.u, CURLUPART_URL, location.c_str(), 0) != CURLUE_OK) return {};
    return h.get(CURLUPART_URL);
}

std::string url_quote(std::string_view text, bool keep_slash) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
            (keep_slash && c == '/')) {
            out += ch;
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

std::optional<double> retry_after_seconds(const HttpResponse& response) {
    auto number_after = [](std::string_view s, std::string_view key) -> std::optional<double> {
        // key=digits, at the start or after ';' or ' '
        for (std::size_t at = s.find(key); at != std::string_view::npos; at = s.find(key, at + 1)) {
            if (at > 0 && s[at - 1] != ';' && s[at - 1] != ' ' && s[at - 1] != ',') continue;
            std::size_t i = at + key.size();
            double v = 0;
            std::size_t digits = 0;
            while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) && digits < 9) {
                v = v * 10 + (s[i] - '0');
                ++i;
                ++digits;
            }
            if (digits) return v;
        }
        return std::nullopt;
    };
    if (const auto rl = response.header("ratelimit")) {
        const auto r = number_after(*rl, "r=");
        const auto t = number_after(*rl, "t=");
        if (r && t && *r == 0) return *t + 1;
    }
    if (const auto ra = response.header("retry-after")) {
        const std::string_view v = trim(*ra);
        if (!v.empty() && v.size() < 10 && std::all_of(v.begin(), v.end(), [](char c) {
                return std::isdigit(static_cast<unsigned char>(c));
            })) {
            return static_cast<double>(std::stoul(std::string(v)));
        }
    }
    return std::nullopt;
}

std::string describe_failure(const HttpResponse& r) {
    const std::string after_attempts =
        r.attempts > 1 ? " after " + std::to_string(r.attempts) + " attempts" : "";
    if (r.status == 0) {
        return escaped(r.error.empty() ? "the request failed (no reason given)" : r.error) +
               (r.attempts > 1 ? " (" + std::to_string(r.attempts) + " attempts)" : "");
    }
    if (r.status >= 300 && r.status < 400 && !r.error.empty()) {  // a redirect not followed
        return "HTTP " + std::to_string(r.status) + ": " + escaped(r.error);
    }
    const std::string code = r.header("x-error-code").value_or("");
    const std::string message = printable(r.header("x-error-message").value_or(""));
    std::string why;
    switch (r.status) {
        case 401:
            if (message.find("Invalid credentials") != std::string::npos) {
                why =
                    "the token was refused (invalid credentials); check HF_TOKEN or the token "
                    "file";
            } else if (code == "GatedRepo") {
                why =
                    "the repository is gated: a logged-in token that was granted access is "
                    "needed (set HF_TOKEN, and ask for access on the repository's page)";
            } else {
                why =
                    "the repository does not exist, or it is private and no valid token was "
                    "sent (the Hub answers 401 for both); set HF_TOKEN if it is private";
            }
            break;
        case 403:
            if (code == "GatedRepo") {
                why =
                    "the repository is gated and this token has not been granted access; ask "
                    "for access on the repository's page";
            } else if (message.find("disabled") != std::string::npos) {
                why = "the repository is disabled on the Hub";
            } else {
                why = "access forbidden";
            }
            break;
        case 404:
            if (code == "RevisionNotFound") {
                why = "revision not found";
            } else if (code == "EntryNotFound") {
                why = "no such file or folder at this revision";
            } else if (code == "RepoNotFound") {
                why = "the repository does not exist, or this token cannot see it";
            } else {
                why = "not found";
            }
            break;
        case 416:
            why = "the server says the requested bytes are beyond the end of the file";
            break;
        case 429:
            why = "rate-limited by the server" + after_attempts +
                  "; try again later (a token raises the Hub's limits)";
            break;
        default:
            why = r.status >= 500 ? "server error" + after_attempts : "unexpected answer";
    }
    std::string out = "HTTP " + std::to_string(r.status) + ": " + why;
    if (!message.empty() && message.find("Invalid credentials") == std::string::npos) {
        out += " (server: \"" + message + "\")";
    }
    return out;
}

struct HttpClient::Impl {
    CURLSH* share = nullptr;
    std::array<std::mutex, CURL_LOCK_DATA_LAST> locks;
    std::mutex pool_mutex;
    std::vector<CURL*> pool;

    static void lock(CURL*, curl_lock_data data, curl_lock_access, void* user) {
        auto* self = static_cast<Impl*>(user);
        if (data >= 0 && data < CURL_LOCK_DATA_LAST) self->locks[data].lock();
    }
    static void unlock(CURL*, curl_lock_data data, void* user) {
        auto* self = static_cast<Impl*>(user);
        if (data >= 0 && data < CURL_LOCK_DATA_LAST) self->locks[data].unlock();
    }

    CURL* acquire() {
        {
            std::lock_guard guard(pool_mutex);
            if (!pool.empty()) {
                CURL* h = pool.back();
                pool.pop_back();
                return h;
            }
        }
        return curl_api().easy_init();
    }
    void release(CURL* h) {
        std::lock_guard guard(pool_mutex);
        pool.push_back(h);
    }
};

HttpClient::HttpClient(HttpOptions options) : impl_(new Impl), options_(std::move(options)) {
    if (!curl_api().loaded) return;  // every request then fails with curl_api().error
    impl_->share = curl_api().share_init();
    if (impl_->share) {
        curl_api().share_setopt(impl_->share, CURLSHOPT_LOCKFUNC, &Impl::lock);
        curl_api().share_setopt(impl_->share, CURLSHOPT_UNLOCKFUNC, &Impl::unlock);
        curl_api().share_setopt(impl_->share, CURLSHOPT_USERDATA, impl_.get());
        curl_api().share_setopt(impl_->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
        curl_api().share_setopt(impl_->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
        curl_api().share_setopt(impl_->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    }
}

HttpClient::~HttpClient() {
    for (CURL* h : impl_->pool)
        curl_api().easy_cleanup(h);
    if (impl_->share) curl_api().share_cleanup(impl_->share);
}

HttpResponse HttpClient::attempt(const std::string& url, const HttpRequest& request, int number) {
    HttpResponse response;
    response.url = url;
    response.attempts = 1;
    const CurlApi& api = curl_api();
    if (!api.loaded) {
        response.error = api.error;
        return response;
    }
    CURL* h = impl_->acquire();
    if (!h) {
        response.error = "cannot create an HTTP handle";
        return response;
    }
    curl_api().easy_reset(h);
    const Destination destination = destination_of(url);
    Transfer transfer;
    transfer.response = &response;
    transfer.max_body = request.max_body;
    transfer.started = Clock::now();
    transfer.attempt = number;
    transfer.max_attempts = 1 + std::max(0, options_.max_retries);
    char errbuf[CURL_ERROR_SIZE] = {0};
    curl_slist* headers = nullptr;
    headers = curl_api().slist_append(headers, "Accept-Encoding: identity");
    std::string auth;
    if (!request.token.empty() && !request.token_origin.empty() &&
        url_origin(url) == request.token_origin) {
        auth = "Authorization: Bearer " + request.token;
        headers = curl_api().slist_append(headers, auth.c_str());
    }
    for (const auto& extra : request.headers)
        headers = curl_api().slist_append(headers, extra.c_str());
    std::string range;
    if (request.range) {
        range = std::to_string(request.range->first) + "-" + std::to_string(request.range->second);
    }
    api.easy_setopt(h, CURLOPT_URL, url.c_str());
    if (impl_->share) api.easy_setopt(h, CURLOPT_SHARE, impl_->share);
    api.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    api.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    api.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    api.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, options_.connect_timeout_ms);
    api.easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    api.easy_setopt(h, CURLOPT_LOW_SPEED_TIME, options_.stall_timeout_s);
    api.easy_setopt(h, CURLOPT_USERAGENT, options_.user_agent.c_str());
    api.easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    api.easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    api.easy_setopt(h, CURLOPT_HEADERFUNCTION, &on_header);
    api.easy_setopt(h, CURLOPT_HEADERDATA, &transfer);
    api.easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_body);
    api.easy_setopt(h, CURLOPT_WRITEDATA, &transfer);
    if (!range.empty()) api.easy_setopt(h, CURLOPT_RANGE, range.c_str());
    if (request.head) api.easy_setopt(h, CURLOPT_NOBODY, 1L);
    if (options_.on_event) {
        transfer.on_event = &options_.on_event;
        transfer.destination = &destination;
        api.easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &on_progress);
        api.easy_setopt(h, CURLOPT_XFERINFODATA, &transfer);
        api.easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    }

    ++requests_;
    const CURLcode rc = curl_api().easy_perform(h);
    long status = 0;
    curl_api().easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    response.status = status;
    received_ += response.received;
    if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && response.body_cut)) {
        FailedAttempt failed;
        failed.rc = rc;
        std::string_view detail = errbuf[0] ? errbuf : curl_api().easy_strerror(rc);
        while (!detail.empty() && (detail.back() == '\n' || detail.back() == '.'))
            detail.remove_suffix(1);
        failed.detail = printable(detail);
        failed.to = &destination;
        failed.answered = transfer.answered;
        failed.elapsed_s = seconds_since(transfer.started);
        if (transfer.answered) failed.since_last_byte_s = seconds_since(transfer.last_byte);
        curl_api().easy_getinfo(h, CURLINFO_OS_ERRNO, &failed.os_errno);
        failed.stall_timeout_s = options_.stall_timeout_s;
        response.error = describe_transport(failed);
        response.transient = retryable_transport(rc);
        response.status = 0;  // no complete response to act on
        response.headers.clear();
    } else {
        response.transient = retryable_status(status);
    }
    curl_api().slist_free_all(headers);
    impl_->release(h);
    return response;
}

HttpResponse HttpClient::fetch(const HttpRequest& request) {
    std::string url = request.url;
    int attempts = 0;
    std::uint64_t received = 0;
    for (int hop = 0;; ++hop) {
        HttpResponse response;
        for (int retry = 0;; ++retry) {
            response = attempt(url, request, retry + 1);
            attempts += response.attempts;
            received += response.received;
            if (!response.transient || retry >= options_.max_retries) break;
            double wait = options_.backoff_s * std::pow(2.0, retry);
            if (const auto said = retry_after_seconds(response)) wait = *said;
            if (wait > options_.max_wait_s) break;
            if (options_.on_event) {
                HttpEvent event;
                event.kind = HttpEvent::Kind::Retrying;
                event.host = destination_of(url).label;
                event.seconds = wait;
                event.attempt = retry + 1;
                event.max_attempts = 1 + std::max(0, options_.max_retries);
                event.reason = describe_failure(response);  // response.attempts is 1 here
                notify(options_.on_event, event);
            }
            std::this_thread::sleep_for(std::chrono::duration<double>(wait));
        }
        response.attempts = attempts;
        response.received = received;
        const long s = response.status;
        const bool redirect = s == 301 || s == 302 || s == 303 || s == 307 || s == 308;
        if (!request.follow_redirects || !redirect) return response;
        const auto location = response.header("location");
        if (!location || location->empty()) {
            response.error = "redirect " + std::to_string(s) + " without a Location header";
            return response;
        }
        if (hop >= 10) {
            response.error = "more than 10 redirects";
            return response;
        }
        std::string next = resolve_url(url, *location);
        if (next.empty()) {
            response.error = "redirect to an unusable address: " + printable(*location);
            return response;
        }
        if (url.starts_with("https:") && !next.starts_with("https:")) {
            response.error = "refusing a redirect from https to a plain-http address";
            return response;
        }
        url = std::move(next);
    }
}

}  // namespace mscan::hub
