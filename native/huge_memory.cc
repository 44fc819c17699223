// layer: native (C++ addon)
// job: zeroed memory for the scanner's tables and read buffers: whole 2 MiB units with transparent huge pages asked for, small requests from the heap.
#include "huge_memory.h"

#include <sys/mman.h>

#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <new>

namespace lvskit {
namespace {

constexpr size_t kHugePageBytes = 2 << 20;

}  // namespace

HugeMemory::HugeMemory(size_t bytes) {
  if (bytes < kHeapBytes) {
    bytes_ = std::max<size_t>(bytes, 1);
    data_ = calloc(bytes_, 1);
    if (data_ == nullptr) throw std::bad_alloc();
    heap_ = true;
    return;
  }
  bytes_ = (std::max<size_t>(bytes, 1) + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
  // One unit more, to start at a 2 MiB boundary: a huge page needs its aligned 2 MiB in the mapping.
  mappingBytes_ = bytes_ + kHugePageBytes;
  mapping_ = mmap(nullptr, mappingBytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapping_ == MAP_FAILED) {
    mapping_ = nullptr;
    throw std::bad_alloc();
  }
  const uintptr_t at = (reinterpret_cast<uintptr_t>(mapping_) + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
  data_ = reinterpret_cast<void*>(at);
  madvise(data_, bytes_, MADV_HUGEPAGE);  // advice: refused where huge pages are off, and then ordinary pages do
}

HugeMemory::~HugeMemory() { Release(); }

void HugeMemory::Release() {
  if (heap_) free(data_);
  if (mapping_ != nullptr) munmap(mapping_, mappingBytes_);
}

HugeMemory& HugeMemory::operator=(HugeMemory&& other) noexcept {
  if (this != &other) {
    Release();
    data_ = std::exchange(other.data_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
    mapping_ = std::exchange(other.mapping_, nullptr);
    mappingBytes_ = std::exchange(other.mappingBytes_, 0);
    heap_ = std::exchange(other.heap_, false);
  }
  return *this;
}

}  // namespace lvskit
