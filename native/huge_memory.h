// layer: native (C++ addon)
// job: zeroed anonymous memory in whole 2 MiB units, aligned, with transparent huge pages asked for: the scanner's tables and read buffers.
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
 */
class HugeMemory {
 public:
  HugeMemory() = default;
  /** At least `bytes` (at least one unit). Throws std::bad_alloc when the mapping fails. */
  explicit HugeMemory(size_t bytes);
  ~HugeMemory();
  HugeMemory(HugeMemory&& other) noexcept { *this = std::move(other); }
  HugeMemory& operator=(HugeMemory&& other) noexcept;
  HugeMemory(const HugeMemory&) = delete;
  HugeMemory& operator=(const HugeMemory&) = delete;
  /** The memory, viewed as T (all of it zero until written). */
  template <typename T>
  T* As() const { return static_cast<T*>(data_); }
  /** The bytes usable (what they may hold in memory): the request rounded up to 2 MiB. */
  size_t Bytes() const { return bytes_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
  void* mapping_ = nullptr;
  size_t mappingBytes_ = 0;
};

}  // namespace lvskit
