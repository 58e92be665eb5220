// Symbolic values the pickle machine keeps on its stack and in its memo. They hold just enough
// to resolve globals and to show evidence: strings are kept up to a cap, containers keep their
// first few items and a count, calls remember the callable and rendered arguments.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <vector>

namespace mscan::pickle {

/// A per-thread free list of equal-sized blocks. The machine creates and drops millions of
/// small nodes in dense pickles; recycling them costs a few instructions where malloc and
/// free (with their consolidation of freed chunks) cost most of the scan.
template <std::size_t BlockSize>
class BlockPool {
  public:
    static BlockPool& local() {
        thread_local BlockPool pool;
        return pool;
    }
    void* get() {
        if (!head_) return ::operator new(BlockSize);
        Free* block = head_;
        head_ = block->next;
        --cached_;
        return block;
    }
    void put(void* p) {
        if (cached_ >= kMaxCached) {
            ::operator delete(p);
            return;
        }
        head_ = new (p) Free{head_};
        ++cached_;
    }
    ~BlockPool() {
        while (head_) {
            Free* next = head_->next;
            ::operator delete(head_);
            head_ = next;
        }
    }

  private:
    struct Free {
        Free* next;
    };
    static_assert(BlockSize >= sizeof(Free));
    /// Blocks kept for reuse (bounds the pool's idle memory).
    static constexpr std::size_t kMaxCached = 1 << 16;
    Free* head_ = nullptr;
    std::size_t cached_ = 0;
};

/// Allocator that serves small requests (up to `Slots` objects) from per-thread BlockPools in
/// size classes of 1, 2, 4, 8 and 16 objects (so a vector's small buffers and shared nodes
/// recycle without wasting space), and larger ones from the heap.
template <typename T, std::size_t Slots = 1>
struct PoolAllocator {
    using value_type = T;
    template <typename U>
    struct rebind {
        using other = PoolAllocator<U, Slots>;
    };
    PoolAllocator() = default;
    template <typename U>
    PoolAllocator(const PoolAllocator<U, Slots>&) {}
    T* allocate(std::size_t n) {
        return static_cast<T*>(with_pool(n, [](auto&& pool) { return pool.get(); }));
    }
    void deallocate(T* p, std::size_t n) {
        with_pool(n, [p](auto&& pool) {
            pool.put(p);
            return static_cast<void*>(nullptr);
        });
    }
    template <typename U>
    bool operator==(const PoolAllocator<U, Slots>&) const {
        return true;
    }

  private:
    template <typename F>
    static void* with_pool(std::size_t n, F&& f) {
        if (n <= 1) return f(BlockPool<sizeof(T)>::local());
        if (n <= 2 && Slots >= 2) return f(BlockPool<sizeof(T) * 2>::local());
        if (n <= 4 && Slots >= 4) return f(BlockPool<sizeof(T) * 4>::local());
        if (n <= 8 && Slots >= 8) return f(BlockPool<sizeof(T) * 8>::local());
        if (n <= 16 && Slots >= 16) return f(BlockPool<sizeof(T) * 16>::local());
        return f(HeapPool{n * sizeof(T)});
    }
    /// Larger requests: plain heap, behind the same get/put interface.
    struct HeapPool {
        std::size_t bytes;
        void* get() { return ::operator new(bytes); }
        void put(void* p) { ::operator delete(p); }
    };
};

enum class Kind : std::uint8_t {
    None,
    Bool,
    Int,
    BigInt,
    Float,
    Str,
    Bytes,
    Tuple,
    List,
    Dict,
    Set,
    FrozenSet,
    Global,   ///< a resolved global: text is its canonical name
    Object,   ///< the result of a call: text is the callable's name ("" if unknown)
    PersRef,  ///< what persistent_load(pid) returns
    Ext,      ///< an object from copyreg's extension registry: num is the code
    Buffer,   ///< an out-of-band buffer (NEXT_BUFFER)
    Unknown,  ///< anything the machine could not model
};

struct Node;

/// One symbolic value. Cheap to copy: containers and objects share their node.
struct Value {
    Kind kind = Kind::None;
    /// The full value was not kept (memo budget, nesting cap); only its kind is known.
    bool lost = false;
    /// Str/Bytes: text holds only a prefix of the real value.
    bool truncated = false;
    /// Bool/Int value; Str/Bytes real length; Ext code; Global: length of the module part;
    /// Float: the double's bits; containers: real item count (dicts: pairs).
    std::int64_t num = 0;
    /// Str content (UTF-8), BigInt digits, Global/Object name.
    std::string text;
    std::shared_ptr<Node> node;
};

/// Shared part of containers, globals and objects.
struct Node {
    /// Containers: the first items (dicts: key, value, key, value ...); objects: the call's
    /// arguments. Globals: none.
    std::vector<Value, PoolAllocator<Value, 16>> items;
    /// Objects: the real number of call arguments.
    std::uint64_t count = 0;
    /// Globals: other names the same object is reachable as.
    std::vector<std::string> aliases;
    /// Objects: rendered evidence of the call that made it; PersRef: rendered pid.
    std::string origin;
    /// Objects: the state a BUILD gave the object, kept only for the classes whose restore
    /// path the machine models (numpy.dtype, functools.partial, scipy distributions).
    std::shared_ptr<Node> state;
    /// Nesting depth of kept items below this node.
    std::uint8_t depth = 0;
    /// Str/Bytes that start like a file a loader can read from bytes (a zip archive, a legacy
    /// torch file): 1 when that nested file was scanned, 2 when it could not be read.
    std::uint8_t blob = 0;
    /// Globals: reached by getattr on an instance (a bound method): calling it is reflection.
    bool bound = false;
    /// Containers and call arguments: what sympy's sympify() would parse among all the
    /// items (kept or not), kSympify* bits (see Machine::sympify_bits).
    std::uint8_t sympify = 0;
};

inline constexpr std::uint8_t kSympifyText = 1;     ///< text, bytes, or a value not kept
inline constexpr std::uint8_t kSympifyForeign = 2;  ///< an object of another library

/// A new shared node from the pool.
inline std::shared_ptr<Node> new_node() {
    return std::allocate_shared<Node>(PoolAllocator<Node>{});
}

/// Renders a value as Python-like source text, cut to `max_chars`.
std::string render(const Value& v, std::size_t max_chars);

}  // namespace mscan::pickle
