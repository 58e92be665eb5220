// A small HTTP client over libcurl for the Hugging Face client: explicit redirects (the
// bearer token goes only to the origin it belongs to), bounded bodies, retries with backoff on
// 408/429/5xx and transport failures (honouring Retry-After and the Hub's RateLimit header),
// shared connections across threads, transport failures said in words, and events a caller may
// show while a request is slow.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mscan::hub {

/// Something a caller may show while a request is slow: it has waited for an answer, or it
/// will retry after a failure.
struct HttpEvent {
    enum class Kind {
        Waiting,   ///< no answer yet: `seconds` since the attempt started
        Retrying,  ///< the attempt failed (`reason`); the next one starts in `seconds`
    };
    Kind kind = Kind::Waiting;
    /// host[:port] the request goes to (already safe to print: control bytes escaped).
    std::string host;
    double seconds = 0;
    /// 1-based attempt number, and the most attempts this request may make (1 + max_retries).
    /// Retrying: the number of the attempt that failed. Both count per redirect hop.
    int attempt = 1;
    int max_attempts = 1;
    /// Retrying: why the attempt failed, readable and escaped (as describe_failure() says it).
    std::string reason;
};

struct HttpOptions {
    std::string user_agent;
    long connect_timeout_ms = 15000;
    /// A transfer slower than 1 byte/s for this long is abandoned (and retried).
    long stall_timeout_s = 30;
    /// Retries after the first attempt, for 408/429/5xx and transport failures that may pass
    /// (not a host name that does not resolve: see retryable_transport in http.cpp).
    int max_retries = 4;
    /// The longest a single wait between attempts may be; a Retry-After asking for more ends
    /// the request with the 429 instead.
    double max_wait_s = 30;
    /// First backoff step (doubles each retry).
    double backoff_s = 0.5;
    /// Called from the thread that sends the request (several threads may call it at once;
    /// the callee serialises). Waiting: about once a second while an attempt has received no
    /// response byte; Retrying: once before each wait between attempts. May be empty.
    std::function<void(const HttpEvent&)> on_event;
};

struct HttpRequest {
    std::string url;
    bool head = false;
    /// Inclusive byte range [first, last].
    std::optional<std::pair<std::uint64_t, std::uint64_t>> range;
    /// Body bytes kept; a longer body is cut (body_cut) and the transfer abandoned.
    std::size_t max_body = 8u << 20;
    /// Sent as "Authorization: Bearer ..." only to URLs whose origin is `token_origin`.
    std::string token;
    std::string token_origin;
    bool follow_redirects = true;
    /// Extra request headers ("Name: value").
    std::vector<std::string> headers;
};

struct HttpResponse {
    /// HTTP status of the last response; 0 when no response came (see error).
    long status = 0;
    /// Transport failure, readable and escaped ("could not resolve host example.org",
    /// "connection refused by 127.0.0.1:9", "no answer from ...: timed out after 30 s waiting
    /// for an answer"); also set beside a 3xx status when a redirect cannot be followed.
    std::string error;
    /// Headers of the last response, names lower-cased, in order.
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    bool body_cut = false;
    /// The URL that gave this response (after redirects).
    std::string url;
    /// Every body byte received over the network for this request, retries included.
    std::uint64_t received = 0;
    /// Attempts made (1 + retries).
    int attempts = 0;
    /// The failure may pass (408/429/5xx, a timeout, a dropped connection): worth a retry.
    bool transient = false;

    std::optional<std::string> header(std::string_view lower_name) const;
};

/// scheme://host[:port] of a URL, lower-cased, with default ports made explicit; empty if the
/// URL cannot be parsed.
std::string url_origin(const std::string& url);

/// Resolves `location` (absolute or relative) against `base`; empty on failure.
std::string resolve_url(const std::string& base, const std::string& location);

/// Percent-encodes for a URL path segment; '/' is kept when `keep_slash`.
std::string url_quote(std::string_view text, bool keep_slash);

/// Seconds to wait before retrying, from Retry-After (seconds) or the Hub's
/// `RateLimit: "bucket";r=0;t=N` header (N + 1 when nothing remains); nullopt if neither says.
std::optional<double> retry_after_seconds(const HttpResponse& response);

/// A readable reason for a failed response (a transport failure, a redirect that cannot be
/// followed, or an HTTP error status), using the Hub's X-Error-Code/X-Error-Message where they
/// say more: what failed, why, what to do. Safe to print (control bytes escaped).
std::string describe_failure(const HttpResponse& response);

/// One client per scan, shared by every worker thread.
class HttpClient {
  public:
    explicit HttpClient(HttpOptions options);
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    /// Sends the request, follows redirects (at most 10, never from https to http) and retries.
    HttpResponse fetch(const HttpRequest& request);

    /// Requests sent so far (every attempt and redirect hop).
    std::uint64_t requests() const { return requests_.load(); }
    /// Body bytes received so far.
    std::uint64_t received() const { return received_.load(); }

  private:
    struct Impl;
    /// One attempt at one URL; `number` counts from 1 (for the Waiting events).
    HttpResponse attempt(const std::string& url, const HttpRequest& request, int number);
    std::unique_ptr<Impl> impl_;
    HttpOptions options_;
    std::atomic<std::uint64_t> requests_{0};
    std::atomic<std::uint64_t> received_{0};
};

}  // namespace mscan::hub
