// The scan's progress as the caller's callback sees it (ScanOptions::progress): files done,
// bytes fetched, and what the scan is waiting for (listing a repo, a slow request).
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>

#include "mscan/scan.h"
#include "net/http.h"

namespace mscan {

/// The scan's progress, reported from the main thread (listing repos) and from workers
/// (files done, slow or retried requests), one report at a time.
class ProgressReporter {
  public:
    explicit ProgressReporter(const ScanOptions& options) : callback_(options.progress) {}
    bool enabled() const { return static_cast<bool>(callback_); }
    void set_total(std::uint64_t total) {
        std::lock_guard guard(mutex_);
        progress_.files_total = total;
    }
    /// A file is done; `fetched` is every byte downloaded so far.
    void file_done(std::uint64_t fetched) {
        if (!callback_) return;
        std::lock_guard guard(mutex_);
        ++progress_.files_done;
        progress_.fetched = fetched;
        progress_.activity.clear();
        callback_(progress_);
    }
    /// What the scan is waiting for now (empty: nothing in particular).
    void activity(std::string text) {
        if (!callback_) return;
        std::lock_guard guard(mutex_);
        progress_.activity = std::move(text);
        callback_(progress_);
    }
    /// A slow or failed HTTP request, in words.
    void http_event(const hub::HttpEvent& e) {
        char seconds[32];
        std::snprintf(seconds, sizeof seconds, "%.0f s", e.seconds);
        // The part that changes comes first: a narrow terminal cuts the end of the line.
        if (e.kind == hub::HttpEvent::Kind::Waiting) {
            activity(std::string("no answer for ") + seconds + " from " + e.host + " (attempt " +
                     std::to_string(e.attempt) + " of " + std::to_string(e.max_attempts) + ")");
        } else {
            std::snprintf(seconds, sizeof seconds, "%.1f s", e.seconds);
            activity("attempt " + std::to_string(e.attempt + 1) + " of " +
                     std::to_string(e.max_attempts) + " in " + seconds + ": " + e.reason);
        }
    }

  private:
    std::function<void(const ScanProgress&)> callback_;
    std::mutex mutex_;
    ScanProgress progress_;
};

}  // namespace mscan
