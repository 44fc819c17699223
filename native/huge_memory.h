// layer: native (C++ addon)
// job: zeroed memory for the scanner's tables and read buffers: whole 2 MiB units with transparent huge pages asked for, small requests from the heap.
#pragma once

#include <stddef.h>

#include <utility>

namespace lvskit {

/**
 * Zeroed memory in an anonymous mapping of its own, in whole 2 MiB units aligned to 2 MiB, with
 * transparent huge pages asked for (MADV_HUGEPAGE). A scanner's hash table of a few MiB and its
 * read buffer then cost a page fault or two instead of one per 4 KiB page (about 10 µs each in a
 * virtual machine: 2,000 of them were a third of a scan of a million rows), and probes all over
 * a table miss the TLB less. Where huge pages are off these are ordinary pages. The kernel hands
 * out zeroed memory, so a table that grows clears nothing. Move-only.
 *
 * A request under kHeapBytes (a table sized for a small file, a small read buffer) comes from the
 * heap instead (calloc), as many bytes as asked: mapping, faulting in, zeroing and unmapping a
 * 2 MiB unit costs far more than such a table saves, and a pass over a short input (a fuzz
 * harness runs millions) should cost what its input does. The tables a pass over /proc starts
 * with (16,384 slots) are above it, as is the default read buffer.
 */
class HugeMemory {
 public:
  HugeMemory() = default;
  /** Requests smaller than this come from the heap, exactly sized. */
  static constexpr size_t kHeapBytes = 64 << 10;
  /** At least `bytes`: whole units from kHeapBytes on. Throws std::bad_alloc when the memory cannot be had. */
  explicit HugeMemory(size_t bytes);
  ~HugeMemory();
  HugeMemory(HugeMemory&& other) noexcept { *this = std::move(other); }
  HugeMemory& operator=(HugeMemory&& other) noexcept;
  HugeMemory(const HugeMemory&) = delete;
  HugeMemory& operator=(const HugeMemory&) = delete;
  /** The memory, viewed as T (all of it zero until written). */
  template <typename T>
  T* As() const { return static_cast<T*>(data_); }
  /** The bytes usable (what they may hold in memory): the request, rounded up to 2 MiB from kHeapBytes on. */
  size_t Bytes() const { return bytes_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
  void* mapping_ = nullptr;
  size_t mappingBytes_ = 0;
  bool heap_ = false;  // data_ came from calloc
  void Release();
};

}  // namespace lvskit
