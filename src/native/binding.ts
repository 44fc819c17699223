// layer: native boundary
// job: the typed shape of the C++ addon (native/), loaded in exactly this one place.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { ErrnoError } from '../errors.js';

/** A socket address as the addon reads and writes it (struct sockaddr_* in the kernel). */
export type SockAddr =
  | { family: 'inet'; address: string; port?: number }
  | { family: 'inet6'; address: string; port?: number; scopeId?: number; flowInfo?: number }
  /** struct sockaddr_nl: `pid` 0 is the kernel; `groups` is the legacy 32-bit group mask. */
  | { family: 'netlink'; pid?: number; groups?: number }
  /** struct sockaddr_ll. `protocol` is in host order here; the addon converts it. */
  | { family: 'packet'; ifindex: number; protocol?: number; hatype?: number; pkttype?: number; addr?: Buffer };

/** One received datagram, as a window into the batch's chunk (no copy). */
export interface NativeDatagram {
  offset: number;
  length: number;
  /** The kernel had more bytes than fitted (MSG_TRUNC). */
  truncated: boolean;
  from?: SockAddr;
  /** Receiving interface, from IP_PKTINFO / IPV6_PKTINFO (or sockaddr_ll for packet sockets). */
  ifindex?: number;
  /** Destination address, from IP_PKTINFO / IPV6_PKTINFO. */
  dst?: string;
  /** Received TTL (IP_RECVTTL) or hop limit (IPV6_RECVHOPLIMIT). */
  ttl?: number;
  /** Kernel receive time (SO_TIMESTAMPNS) on CLOCK_MONOTONIC, in ns. */
  receivedMonoNs?: number;
}

export interface NativeSocketOptions {
  domain: number;
  type: number;
  protocol: number;
  /** Path of a network namespace file (`/var/run/netns/NAME`, `/proc/PID/ns/net`). */
  netns?: string;
}

/** The C++ socket: non-blocking, close-on-exec, driven by a uv_poll. Errors are ErrnoError-shaped. */
export interface NativeSocket {
  readonly fd: number;
  readonly closed: boolean;
  bind(addr: SockAddr): void;
  getsockname(): SockAddr;
  setsockopt(level: number, name: number, value: number | Buffer): void;
  getsockoptInt(level: number, name: number): number;
  getsockopt(level: number, name: number, length: number): Buffer;
  /** SO_ATTACH_FILTER with an array of struct sock_filter (8 bytes each, host order). */
  attachFilter(program: Buffer): void;
  /** sendmsg of the buffers (scatter list) to `dest`; returns bytes sent, or -1 on EAGAIN/EWOULDBLOCK. */
  send(buffers: Buffer[], dest?: SockAddr): number;
  /** A copy of (buffers, dest) armed to be sent by the signal handler (`signalSends`); a token for it, or -1 when no slot is free. */
  armSignalSend(buffers: Buffer[], dest: SockAddr): number;
  /**
   * Start (or resume) reading. On each wakeup up to `maxPerWakeup` datagrams are read into one
   * chunk and handed to `onBatch`; receive errors (e.g. ENOBUFS) go to `onError` and reading goes on.
   */
  startReading(onBatch: (chunk: Buffer, datagrams: NativeDatagram[]) => void,
    onError: (err: Error) => void, maxPerWakeup: number, maxDatagramBytes: number): void;
  stopReading(): void;
  /** Call `onWritable` once, when the socket next becomes writable (after send returned -1). */
  awaitWritable(onWritable: () => void): void;
  ref(): void;
  unref(): void;
  /** Idempotent. */
  close(): void;
}

/**
 * Datagrams sent from a signal handler (native/signal_send.cc), before the event loop hears of
 * the signal. Process-wide: 32 slots.
 */
export interface NativeSignalSends {
  /** Put the sending handler in front of the signal's current one (install the JS listener first: it still runs, after). */
  install(signum: number): void;
  /** Free the slot of an arming (unless re-armed since); true if the handler had sent it. */
  disarm(token: number): boolean;
  /** Whether the handler has sent that arming's datagram. */
  sent(token: number): boolean;
}

/** glibc's mallinfo2(3) in bytes (native/malloc_stats.cc). */
export interface MallocInfo {
  /** Memory the arenas hold from the kernel (brk and the thread arenas), not counting mmap'd blocks. */
  arenaBytes: number;
  /** Free chunks in the arenas. */
  freeChunks: number;
  /** Blocks above the mmap threshold, each its own mapping. */
  mmappedBlocks: number;
  /** Their bytes. */
  mmappedBytes: number;
  /** Allocated inside the arenas. */
  inUseBytes: number;
  /** Free inside the arenas (fragments a thread freed, and each arena's top). */
  freeBytes: number;
  /** Free at the top of the main heap: what a trim of it could return. */
  trimmableBytes: number;
}

export interface NativeBinding {
  Socket: new (options: NativeSocketOptions) => NativeSocket;
  signalSends: NativeSignalSends;
  /** setns(CLONE_NEWNET) of the calling thread into the namespace file at `path` (ErrnoError on failure). */
  enterNetns(path: string): void;
  /** The calling thread's nice (setpriority) with SCHED_RESET_ON_FORK: what it starts begins at nice 0 (ErrnoError on failure). */
  raiseThreadPriority(nice: number): void;
  /** glibc's mallinfo2(3), summed over every arena, in bytes (an empty object where the C library has none, or under AddressSanitizer). */
  mallocInfo(): Partial<MallocInfo>;
  /** glibc's malloc_trim(3) over every arena, keeping `padBytes` at the main heap's top: true when memory went back to the kernel. */
  mallocTrim(padBytes: number): boolean;
  /** mallopt(M_ARENA_MAX, arenas): true when glibc took it (false elsewhere). */
  mallocArenaMax(arenas: number): boolean;
  /** The class the addon's errno errors are made with, as `new ctor(errno, syscall, description)` (binding() registers ErrnoError). */
  setErrnoErrorClass(ctor: new (errno: number, syscall: string, detail?: string) => Error): void;
  /** True in a test build with fault injection compiled in (binding.gyp `fault_hooks=1`); false in every release build. */
  faultHooks: boolean;
  /** True when the addon is built with AddressSanitizer (the CI's sanitizer pass): malloc is ASan's, and mallocInfo() is empty. */
  sanitizerAllocator: boolean;
  /** Kernel constants read from the C headers the addon was built against. */
  constants: Readonly<Record<string, number>>;
}

const here = path.dirname(fileURLToPath(import.meta.url));
// dist/src/native → package root
const root = path.resolve(here, '..', '..', '..');
let loaded: NativeBinding | undefined;

/**
 * The addon, loaded once (per thread). Throws with the path tried if it was not built. Its
 * syscall errors are {@link ErrnoError} instances.
 */
export function binding(): NativeBinding {
  if (!loaded) {
    const require = createRequire(import.meta.url);
    const addon = require(path.join(root, 'build', 'Release', 'lvskit.node')) as NativeBinding;
    addon.setErrnoErrorClass(ErrnoError);
    loaded = addon;
  }
  return loaded;
}
