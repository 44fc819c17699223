/* layer: native (user-mode Linux helper, used by the IPVS test tier and lvskit demo)
 * job: an LD_PRELOAD shim for Debian's linux.uml (6.1) on hosts whose XSAVE area is larger than the
 *      832 bytes that kernel knows (AVX-512, AMX): its floating-point ptrace calls get a buffer of the host's size.
 *
 * UML 6.1 saves and restores each guest thread's FP state with PTRACE_GETREGSET/SETREGSET
 * (NT_X86_XSTATE) on a buffer of sizeof(struct _xstate) = 832 bytes. The host kernel refuses a
 * SETREGSET that is not exactly its own XSAVE size (xstateregs_set: `count != max_size` ->
 * EFAULT), so on such a host UML panics as it starts init ("userspace - ptrace set fp regs failed,
 * errno = 14"). Later UML kernels size the buffer from the host (host_fp_size); this does the same
 * from outside: every UML buffer gets a full-size shadow, keyed by its address (one per guest
 * thread's registers), that a GET fills from the host and a SET sends back with UML's bytes laid
 * over its head. So the state beyond UML's 832 bytes (ZMM registers, AMX) is kept per guest
 * thread, as the host would keep it, rather than leaking from one guest thread to the next.
 *
 * Built and preloaded by test/uml/boot.mjs and src/demo/uml.ts; a host whose XSAVE area fits UML's buffer passes through.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>

typedef long (*ptrace_fn)(int, pid_t, void *, void *);

static ptrace_fn real_ptrace;
/* The host's XSAVE size for ptrace (what a GETREGSET with a large buffer returns); 0 = not known yet. */
static size_t host_size;

/* Shadows: an open-addressing table from UML's buffer address to a host-size buffer. */
struct shadow { void *key; unsigned char *full; int filled; };
static struct shadow *table;
static size_t capacity, used;

static size_t slot_of(void *key) {
  uint64_t x = (uintptr_t)key;
  x ^= x >> 17;
  x *= 0x9e3779b97f4a7c15ull;
  return (size_t)(x >> 24) & (capacity - 1);
}

static struct shadow *lookup(void *key);

static void grow(void) {
  struct shadow *old = table;
  size_t old_capacity = capacity;
  capacity = capacity ? capacity * 2 : 256;
  table = calloc(capacity, sizeof *table);
  if (!table) abort();
  used = 0;
  for (size_t i = 0; i < old_capacity; i++) {
    if (old[i].key) {
      *lookup(old[i].key) = old[i];
      used++;
    }
  }
  free(old);
}

static struct shadow *lookup(void *key) {
  size_t i = slot_of(key);
  while (table[i].key && table[i].key != key) i = (i + 1) & (capacity - 1);
  return &table[i];
}

/* The shadow of `key`, made (zeroed, not yet filled) on first use. Never freed: keys are UML's
 * per-thread register areas, whose addresses are reused as threads come and go. */
static struct shadow *shadow_of(void *key) {
  if ((used + 1) * 2 > capacity) grow();
  struct shadow *s = lookup(key);
  if (!s->key) {
    s->key = key;
    s->full = calloc(1, host_size);
    if (!s->full) abort();
    used++;
  }
  return s;
}

static long xstate(enum __ptrace_request request, pid_t pid, void *addr, struct iovec *iov) {
  if (!host_size) {
    static unsigned char probe[1 << 16];
    struct iovec big = { probe, sizeof probe };
    if (real_ptrace(PTRACE_GETREGSET, pid, addr, &big) < 0) return -1;
    host_size = big.iov_len;
  }
  if (iov->iov_len >= host_size) return real_ptrace(request, pid, addr, iov);
  struct shadow *s = shadow_of(iov->iov_base);
  struct iovec big = { s->full, host_size };
  if (request == PTRACE_GETREGSET || !s->filled) {
    /* A SET for a buffer never fetched (a copied thread) starts from the tracee's current state. */
    long r = real_ptrace(PTRACE_GETREGSET, pid, addr, &big);
    if (r < 0) return r;
    s->filled = 1;
    if (request == PTRACE_GETREGSET) {
      memcpy(iov->iov_base, s->full, iov->iov_len);
      return r;
    }
  }
  memcpy(s->full, iov->iov_base, iov->iov_len);
  return real_ptrace(PTRACE_SETREGSET, pid, addr, &big);
}

long ptrace(enum __ptrace_request request, ...) {
  va_list ap;
  va_start(ap, request);
  pid_t pid = va_arg(ap, pid_t);
  void *addr = va_arg(ap, void *);
  void *data = va_arg(ap, void *);
  va_end(ap);
  if (!real_ptrace) real_ptrace = (ptrace_fn)dlsym(RTLD_NEXT, "ptrace");
  if ((request == PTRACE_GETREGSET || request == PTRACE_SETREGSET) && (uintptr_t)addr == NT_X86_XSTATE && data)
    return xstate(request, pid, addr, data);
  return real_ptrace(request, pid, addr, data);
}
