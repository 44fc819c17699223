// layer: native (C++ addon)
// job: glibc malloc seen and tuned from the daemon: mallinfo2's totals over every arena, malloc_trim, the arena limit.
#include "malloc_stats.h"

#include <malloc.h>

#include "errors.h"

namespace lvskit {

// Built with AddressSanitizer (the CI's sanitizer pass), the process allocates through ASan's allocator, not glibc's:
// mallinfo2 would describe arenas nothing uses (ASan answers it with zeros), so there are no figures to give.
#if defined(__SANITIZE_ADDRESS__)
#define LVSKIT_ASAN_ALLOCATOR 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LVSKIT_ASAN_ALLOCATOR 1
#endif
#endif

bool AllocatorIsAsan() {
#ifdef LVSKIT_ASAN_ALLOCATOR
  return true;
#else
  return false;
#endif
}

Napi::Value MallocInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33)) && !defined(LVSKIT_ASAN_ALLOCATOR)
  const struct mallinfo2 m = mallinfo2();
  // Sizes as doubles: exact up to 2^53 bytes.
  out.Set("arenaBytes", static_cast<double>(m.arena));           // non-mmapped space from the kernel (brk + arenas)
  out.Set("freeChunks", static_cast<double>(m.ordblks));         // free chunks
  out.Set("mmappedBlocks", static_cast<double>(m.hblks));        // blocks allocated with mmap
  out.Set("mmappedBytes", static_cast<double>(m.hblkhd));        // their bytes
  out.Set("inUseBytes", static_cast<double>(m.uordblks));        // allocated (not mmapped)
  out.Set("freeBytes", static_cast<double>(m.fordblks));         // free in the arenas
  out.Set("trimmableBytes", static_cast<double>(m.keepcost));    // releasable at the main heap's top
#endif
  return out;
}

Napi::Value MallocTrim(const Napi::CallbackInfo& info) {
  if (!info[0].IsNumber()) ThrowTypeError(info.Env(), "padBytes must be a number");
  const double pad = info[0].As<Napi::Number>().DoubleValue();
  if (pad < 0) ThrowTypeError(info.Env(), "padBytes must not be negative");
  return Napi::Boolean::New(info.Env(), malloc_trim(static_cast<size_t>(pad)) != 0);
}

Napi::Value MallocArenaMax(const Napi::CallbackInfo& info) {
  if (!info[0].IsNumber()) ThrowTypeError(info.Env(), "arenas must be a number");
  const int arenas = info[0].As<Napi::Number>().Int32Value();
  if (arenas < 1) ThrowTypeError(info.Env(), "arenas must be 1 or more");
  return Napi::Boolean::New(info.Env(), mallopt(M_ARENA_MAX, arenas) == 1);
}

}  // namespace lvskit
