// layer: native (C++ addon)
// job: glibc malloc seen and tuned from the daemon: mallinfo2's totals over every arena, malloc_trim, the arena limit.
#pragma once

#include <napi.h>

namespace lvskit {

/** True when the addon is built with AddressSanitizer: the process's allocator is ASan's, and `mallocInfo()` is empty. */
bool AllocatorIsAsan();

/** `mallocInfo()`: mallinfo2(3) as bytes (arena, ordblks, hblks, hblkhd, uordblks, fordblks, keepcost). */
Napi::Value MallocInfo(const Napi::CallbackInfo& info);

/** `mallocTrim(padBytes)`: malloc_trim(3) over every arena; true when memory went back to the kernel. */
Napi::Value MallocTrim(const Napi::CallbackInfo& info);

/** `mallocArenaMax(n)`: mallopt(M_ARENA_MAX, n): threads that have no arena yet share the existing ones beyond `n`; true when glibc took it. */
Napi::Value MallocArenaMax(const Napi::CallbackInfo& info);

}  // namespace lvskit
