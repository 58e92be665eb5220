// The progress line's text and its redraw policy. The activity text comes from the scan
// already escaped for a terminal; it is escaped again here, as the line is written raw.
#include "cli/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>

#include "util/text_safety.h"

namespace mscan::cli {
namespace {

/// "mscan: 3/10 files, 1.5 MiB fetched; ACTIVITY", cut to `columns`.
std::string progress_text(const ScanProgress& p, std::size_t columns) {
    char counts[96];
    std::snprintf(counts, sizeof counts, "%llu/%llu files, %.1f MiB fetched",
                  static_cast<unsigned long long>(p.files_done),
                  static_cast<unsigned long long>(p.files_total),
                  static_cast<double>(p.fetched) / (1024.0 * 1024.0));
    std::string line = "mscan: ";
    if (p.files_total > 0 || p.activity.empty()) line += counts;
    if (!p.activity.empty()) line += (p.files_total > 0 ? "; " : "") + terminal_safe(p.activity);
    // One line: a wrapped progress line could not be redrawn in place.
    if (line.size() >= columns) {
        std::size_t cut = columns - 4;
        while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80)
            --cut;
        line = line.substr(0, cut) + "...";
    }
    return line;
}

}  // namespace

void ProgressLine::update(const ScanProgress& p) {
    // Local files are fast: say nothing until something was fetched or is awaited.
    if (p.fetched == 0 && p.activity.empty() && !shown_) return;
    const auto now = std::chrono::steady_clock::now();
    if (shown_ && p.files_done < p.files_total && p.activity == last_activity_ &&
        now - last_drawn_ < std::chrono::milliseconds(100))
        return;
    last_drawn_ = now;
    last_activity_ = p.activity;
    shown_ = true;
    std::fprintf(stderr, "\r\033[K%s", progress_text(p, columns_).c_str());
    std::fflush(stderr);
}

void ProgressLine::clear() const {
    if (shown_) std::fprintf(stderr, "\r\033[K");
}

std::size_t stderr_columns() {
    struct winsize ws {};
    return ::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20
               ? static_cast<std::size_t>(ws.ws_col)
               : std::size_t{80};
}

}  // namespace mscan::cli
