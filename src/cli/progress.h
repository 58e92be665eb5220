// The progress line on standard error while a scan downloads: files done, bytes fetched, and
// what a slow request waits for, redrawn in place on a terminal.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "mscan/scan.h"

namespace mscan::cli {

/// One line redrawn in place. The scan calls update() from worker threads, one at a time.
class ProgressLine {
  public:
    /// The line is cut to fit `columns`.
    explicit ProgressLine(std::size_t columns) : columns_(columns) {}

    /// Redraws the line for `progress`, at most ten times a second (but always the last update
    /// and every new activity). Nothing is drawn while only local files were read.
    void update(const ScanProgress& progress);
    /// Erases the line, if one was drawn, before the report is written.
    void clear() const;

  private:
    std::size_t columns_;
    bool shown_ = false;
    std::chrono::steady_clock::time_point last_drawn_{};
    std::string last_activity_;
};

/// The width of the terminal on standard error (at least 21 columns; 80 when unknown).
std::size_t stderr_columns();

}  // namespace mscan::cli
