// The scanner: targets in, per-file results out. This is the library's front door; the CLI
// only parses arguments, calls scan() and hands the result to a reporter.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "mscan/finding.h"
#include "mscan/rules.h"
#include "mscan/source.h"

namespace mscan {

struct ScanOptions {
    /// Files, directories (walked recursively) or "-" for standard input.
    std::vector<std::string> targets;
    /// Worker threads; 0 means one per hardware thread.
    unsigned jobs = 0;
};

enum class FileStatus {
    Scanned,  ///< read as a model format (findings may be empty)
    Skipped,  ///< not a model format mscan reads; `reason` says why
    Error,    ///< could not be read (I/O); `reason` says why
};

struct FileResult {
    /// The path as given or found under a directory target ("-" for standard input).
    std::string path;
    FileStatus status = FileStatus::Scanned;
    /// Format name for scanned files ("pickle").
    std::string format;
    std::string reason;
    std::uint64_t size = 0;
    /// Sorted by severity (worst first), then location.
    std::vector<Finding> findings;
};

struct ScanResult {
    /// Sorted by path.
    std::vector<FileResult> files;
    double elapsed_seconds = 0;
    /// Target arguments that did not exist or could not be opened (also listed in files).
    std::uint64_t target_errors = 0;
};

/// Scans one source already opened (used for standard input, tests and fuzzing).
FileResult scan_source(Source& source, const std::string& display_path, const RuleSet& rules);

/// Scans every target. Never throws for bad input; unreadable paths become Error results.
ScanResult scan(const ScanOptions& options, const RuleSet& rules);

/// Worst severity among all findings, if any.
std::optional<Severity> worst_severity(const ScanResult& result);

/// Counts of files by status.
struct FileCounts {
    std::uint64_t scanned = 0, skipped = 0, errors = 0;
};
FileCounts count_files(const ScanResult& result);

}  // namespace mscan
