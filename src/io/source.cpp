// Memory and mmap sources.
#include "mscan/source.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mscan {

std::span<const std::uint8_t> MemorySource::view(std::uint64_t offset, std::size_t n) {
    if (offset >= bytes_.size()) return {};
    const std::size_t avail = bytes_.size() - static_cast<std::size_t>(offset);
    return {bytes_.data() + offset, n < avail ? n : avail};
}

std::unique_ptr<MmapSource> MmapSource::open(const std::string& path, std::string& error) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        error = std::strerror(errno);
        return nullptr;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        error = std::strerror(errno);
        ::close(fd);
        return nullptr;
    }
    if (!S_ISREG(st.st_mode)) {
        error = "not a regular file";
        ::close(fd);
        return nullptr;
    }
    const auto size = static_cast<std::uint64_t>(st.st_size);
    const std::uint8_t* data = nullptr;
    if (size > 0) {
        void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            error = std::string("cannot map file: ") + std::strerror(errno);
            ::close(fd);
            return nullptr;
        }
        ::madvise(p, size, MADV_SEQUENTIAL);
        data = static_cast<const std::uint8_t*>(p);
    }
    ::close(fd);
    return std::unique_ptr<MmapSource>(new MmapSource(data, size));
}

MmapSource::~MmapSource() {
    if (data_) ::munmap(const_cast<std::uint8_t*>(data_), size_);
}

std::span<const std::uint8_t> MmapSource::view(std::uint64_t offset, std::size_t n) {
    if (offset >= size_) return {};
    const std::uint64_t avail = size_ - offset;
    return {data_ + offset, static_cast<std::size_t>(n < avail ? n : avail)};
}

void MmapSource::release(std::uint64_t offset, std::uint64_t n) {
    // Only whole pages strictly inside the range; the kernel re-reads them if touched again.
    const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    if (offset >= size_) return;
    if (n > size_ - offset) n = size_ - offset;
    const std::uint64_t start = (offset + page - 1) / page * page;
    const std::uint64_t end = (offset + n) / page * page;
    if (end > start) {
        ::madvise(const_cast<std::uint8_t*>(data_) + start, end - start, MADV_DONTNEED);
    }
}

std::span<const std::uint8_t> PrefixSource::view(std::uint64_t offset, std::size_t n) {
    if (offset >= head_.size()) return {};
    const std::uint64_t avail = head_.size() - offset;
    return {head_.data() + offset, static_cast<std::size_t>(n < avail ? n : avail)};
}

SliceSource::SliceSource(Source& parent, std::uint64_t offset, std::uint64_t size)
    : parent_(parent) {
    offset_ = offset < parent.size() ? offset : parent.size();
    const std::uint64_t avail = parent.size() - offset_;
    size_ = size < avail ? size : avail;
}

std::span<const std::uint8_t> SliceSource::view(std::uint64_t offset, std::size_t n) {
    if (offset >= size_) return {};
    const std::uint64_t avail = size_ - offset;
    return parent_.view(offset_ + offset, static_cast<std::size_t>(n < avail ? n : avail));
}

void SliceSource::release(std::uint64_t offset, std::uint64_t n) {
    if (offset >= size_) return;
    if (n > size_ - offset) n = size_ - offset;
    parent_.release(offset_ + offset, n);
}

}  // namespace mscan
