// Random-access byte sources: what every parser reads from. A source owns or maps the bytes;
// parsers ask for [offset, offset + n) and never assume the whole input is in memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace mscan {

/// Read-only random access to the bytes of one scanned object (a file, a member, a download).
class Source {
  public:
    virtual ~Source() = default;
    /// Total size in bytes.
    virtual std::uint64_t size() const = 0;
    /// A view of [offset, offset + n). Returns fewer bytes only at end of input, and an empty
    /// span when offset is past the end or the bytes cannot be read. The view stays valid
    /// until the next call to view() on this source.
    virtual std::span<const std::uint8_t> view(std::uint64_t offset, std::size_t n) = 0;
    /// How many bytes a reader should ask for at once: cheap sources (memory, mmap) say
    /// "everything", remote ones a block size.
    virtual std::size_t preferred_window() const { return SIZE_MAX; }
    /// Hint that [offset, offset + n) will not be read again (lets mmap drop pages).
    virtual void release(std::uint64_t /*offset*/, std::uint64_t /*n*/) {}
    /// Why bytes could not be read (a network failure, a fetch limit), empty if none did. A
    /// parser sees such bytes as missing; the scanner turns a read error into an error result,
    /// so a failed download is never mistaken for a truncated (or clean) file.
    virtual std::string read_error() const { return {}; }
};

/// Bytes held in memory (a decompressed member, standard input, a test vector).
class MemorySource final : public Source {
  public:
    explicit MemorySource(std::vector<std::uint8_t> bytes) : bytes_(std::move(bytes)) {}
    std::uint64_t size() const override { return bytes_.size(); }
    std::span<const std::uint8_t> view(std::uint64_t offset, std::size_t n) override;

  private:
    std::vector<std::uint8_t> bytes_;
};

/// A local file, memory-mapped read-only (a view costs nothing until it is touched).
class MmapSource final : public Source {
  public:
    /// Opens and maps `path`. On failure returns nullptr and sets `error` to a readable reason.
    static std::unique_ptr<MmapSource> open(const std::string& path, std::string& error);
    ~MmapSource() override;
    MmapSource(const MmapSource&) = delete;
    MmapSource& operator=(const MmapSource&) = delete;
    std::uint64_t size() const override { return size_; }
    std::span<const std::uint8_t> view(std::uint64_t offset, std::size_t n) override;
    void release(std::uint64_t offset, std::uint64_t n) override;

  private:
    MmapSource(const std::uint8_t* data, std::uint64_t size) : data_(data), size_(size) {}
    const std::uint8_t* data_;
    std::uint64_t size_;
};

/// The first bytes of a larger object whose rest is not at hand (the start of a compressed
/// member that is not worth decompressing whole): size() is the object's real size, views
/// beyond the held bytes are empty, so a parser that needs them sees the input as cut short.
class PrefixSource final : public Source {
  public:
    PrefixSource(std::vector<std::uint8_t> head, std::uint64_t full_size)
        : head_(std::move(head)), size_(full_size < head_.size() ? head_.size() : full_size) {}
    std::uint64_t size() const override { return size_; }
    std::span<const std::uint8_t> view(std::uint64_t offset, std::size_t n) override;

  private:
    std::vector<std::uint8_t> head_;
    std::uint64_t size_;
};

/// A window [offset, offset + size) of another source, read in place (a stored zip member,
/// a tar entry). The parent must outlive it.
class SliceSource final : public Source {
  public:
    SliceSource(Source& parent, std::uint64_t offset, std::uint64_t size);
    std::uint64_t size() const override { return size_; }
    std::span<const std::uint8_t> view(std::uint64_t offset, std::size_t n) override;
    std::size_t preferred_window() const override { return parent_.preferred_window(); }
    void release(std::uint64_t offset, std::uint64_t n) override;

  private:
    Source& parent_;
    std::uint64_t offset_;
    std::uint64_t size_;
};

}  // namespace mscan
