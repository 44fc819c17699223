// layer: native boundary
// job: the typed Socket every kernel client uses: open (in a netns), options as kernel structs, events, queued sends.
import { EventEmitter, on } from 'node:events';
import { constants as osConstants } from 'node:os';
import { ErrnoError } from '../errors.js';
import { Fifo } from '../fifo.js';
import { binding, type NativeBinding, type NativeDatagram, type NativeSocket, type SockAddr } from './binding.js';
import { netnsPath } from './netns-path.js';
import { encodeIpMreqn, encodeIpv6Mreq, encodePacketMreq, encodeSockFilter, type BpfInstruction } from './structs.js';

export type { SockAddr } from './binding.js';
export * from './structs.js';

/** Address family of a socket: AF_NETLINK, AF_INET, AF_INET6, AF_PACKET. */
export type SocketFamily = 'netlink' | 'inet' | 'inet6' | 'packet';
/** SOCK_RAW, SOCK_DGRAM, SOCK_STREAM. */
export type SocketType = 'raw' | 'dgram' | 'stream';

export interface OpenSocketOptions {
  family: SocketFamily;
  /** Default `'raw'`. */
  type?: SocketType;
  /** Netlink protocol (NETLINK_ROUTE…), IP protocol (112 = VRRP), or ethertype in host order (ETH_P_ALL). */
  protocol: number;
  /** A namespace name (→ `/var/run/netns/NAME`) or an absolute path such as `/proc/PID/ns/net`. */
  netns?: string;
  /** Cap on datagrams read per event-loop wakeup, so the loop is never starved. Default 64. */
  maxPerWakeup?: number;
  /** Receive space per datagram; longer ones arrive with `truncated: true`. Default 65536. */
  maxDatagramBytes?: number;
  /** The addon; tests may hand in a fake. Default: the built addon. */
  binding?: NativeBinding;
}

/** What the kernel said about a received datagram. */
export interface MessageInfo {
  from?: SockAddr;
  /** Receiving interface (IP_PKTINFO / IPV6_PKTINFO, or sockaddr_ll on packet sockets). */
  ifindex?: number;
  /** Destination address of the datagram (IP_PKTINFO / IPV6_PKTINFO). */
  dst?: string;
  /** TTL (IP_RECVTTL) or hop limit (IPV6_RECVHOPLIMIT). */
  ttl?: number;
  /** When the kernel received it, CLOCK_MONOTONIC in ns (SO_TIMESTAMPNS; see setReceiveTimestamps). */
  receivedMonoNs?: number;
  /** The datagram was longer than `maxDatagramBytes` (MSG_TRUNC). */
  truncated: boolean;
}

export interface Message { data: Buffer; info: MessageInfo }

export interface SocketEvents {
  /** `data` is a zero-copy view into a shared 1 MiB receive chunk: copy it to keep it long. */
  message: [data: Buffer, info: MessageInfo];
  error: [error: Error];
  close: [];
}


const NAMES = [
  'AF_NETLINK', 'AF_INET', 'AF_INET6', 'AF_PACKET', 'SOCK_RAW', 'SOCK_DGRAM', 'SOCK_STREAM',
  'SOL_SOCKET', 'SOL_NETLINK', 'SOL_IP', 'SOL_IPV6', 'SOL_PACKET', 'SO_RCVBUF', 'SO_RCVBUFFORCE', 'SO_TIMESTAMPNS',
  'SO_SNDBUF', 'SO_SNDBUFFORCE', 'SO_BINDTODEVICE', 'SO_DETACH_FILTER', 'NETLINK_ADD_MEMBERSHIP',
  'NETLINK_DROP_MEMBERSHIP', 'NETLINK_EXT_ACK', 'NETLINK_GET_STRICT_CHK', 'NETLINK_NO_ENOBUFS',
  'NETLINK_CAP_ACK', 'IP_ADD_MEMBERSHIP', 'IP_DROP_MEMBERSHIP', 'IP_MULTICAST_IF', 'IP_MULTICAST_TTL',
  'IP_MULTICAST_LOOP', 'IP_TTL', 'IP_HDRINCL', 'IP_PKTINFO', 'IP_RECVTTL', 'IPV6_ADD_MEMBERSHIP',
  'IPV6_DROP_MEMBERSHIP', 'IPV6_MULTICAST_IF', 'IPV6_MULTICAST_HOPS', 'IPV6_MULTICAST_LOOP',
  'IPV6_UNICAST_HOPS', 'IPV6_RECVPKTINFO', 'IPV6_RECVHOPLIMIT', 'PACKET_ADD_MEMBERSHIP',
  'PACKET_DROP_MEMBERSHIP', 'IFNAMSIZ',
] as const;
type KernelConstants = Record<(typeof NAMES)[number], number>;
const checked = new WeakMap<object, KernelConstants>();

/** The constants this module uses, checked once per binding to exist. */
function kernelConstants(native: NativeBinding): KernelConstants {
  let k = checked.get(native.constants);
  if (!k) {
    const missing = NAMES.filter((name) => typeof native.constants[name] !== 'number');
    if (missing.length > 0) throw new Error(`lvskit addon lacks constants: ${missing.join(', ')}`);
    k = native.constants as KernelConstants;
    checked.set(native.constants, k);
  }
  return k;
}

export { netnsPath } from './netns-path.js';

/**
 * Move this thread (the process's main thread, for a daemon that runs wholly in one namespace)
 * into `netns`: sockets node opens afterwards (health checks' TCP connections included), and
 * threads started afterwards, are there. Call before opening anything. ErrnoError on failure.
 */
export function enterNetns(netns: string): void {
  binding().enterNetns(netnsPath(netns));
}

/** Opens a non-blocking, close-on-exec socket, inside `netns` when given (the caller's namespace is untouched). */
export function openSocket(options: OpenSocketOptions): Socket {
  const native = options.binding ?? binding();
  const k = kernelConstants(native);
  const domain = { netlink: k.AF_NETLINK, inet: k.AF_INET, inet6: k.AF_INET6, packet: k.AF_PACKET }[options.family];
  const type = { raw: k.SOCK_RAW, dgram: k.SOCK_DGRAM, stream: k.SOCK_STREAM }[options.type ?? 'raw'];
  if (domain === undefined) throw new TypeError(`unknown socket family '${String(options.family)}'`);
  if (type === undefined) throw new TypeError(`unknown socket type '${String(options.type)}'`);
  const netns = options.netns === undefined ? undefined : netnsPath(options.netns);
  let socket: NativeSocket;
  try {
    socket = new native.Socket({ domain, type, protocol: options.protocol, ...(netns === undefined ? {} : { netns }) });
  } catch (error) {
    // Name the namespace, as Node's fs errors name their path.
    const syscall = (error as { syscall?: unknown }).syscall;
    if (netns !== undefined && error instanceof Error && (syscall === 'open' || syscall === 'setns')) {
      Object.assign(error, { path: netns });
      error.message = `${error.message} (network namespace ${netns})`;
    }
    throw error;
  }
  return new Socket(socket, options.family, k, options);
}

interface QueuedSend {
  buffers: Buffer[];
  dest: SockAddr | undefined;
  resolve: (bytes: number) => void;
  reject: (error: unknown) => void;
}

/**
 * A socket over the addon's NativeSocket. Reading starts when the first 'message' listener is
 * added (or on `resume()`) and stops when the last is removed (or on `pause()`). Receive errors
 * (e.g. ENOBUFS after a netlink overrun) are 'error' events and reading goes on.
 */
export class Socket extends EventEmitter<SocketEvents> {
  readonly family: SocketFamily;
  readonly #native: NativeSocket;
  readonly #k: KernelConstants;
  readonly #maxPerWakeup: number;
  readonly #maxDatagramBytes: number;
  readonly #queue = new Fifo<QueuedSend>();
  #reading = false;
  #paused = false;
  #awaitingWritable = false;

  constructor(native: NativeSocket, family: SocketFamily, k: KernelConstants,
    options: { maxPerWakeup?: number; maxDatagramBytes?: number } = {}) {
    super();
    this.#native = native;
    this.family = family;
    this.#k = k;
    this.#maxPerWakeup = options.maxPerWakeup ?? 64;
    this.#maxDatagramBytes = options.maxDatagramBytes ?? 65536;
    const events = this as unknown as EventEmitter;
    events.on('newListener', (event: string | symbol) => {
      if (event === 'message' && !this.#paused && !this.#reading && !this.closed) this.#startReading();
    });
    events.on('removeListener', (event: string | symbol) => {
      if (event === 'message' && this.listenerCount('message') === 0 && this.#reading) this.#stopReading();
    });
  }

  get fd(): number { return this.#native.fd; }
  get closed(): boolean { return this.#native.closed; }
  /** Sends waiting for the socket to become writable. */
  get queuedSends(): number { return this.#queue.length; }

  bind(addr: SockAddr): this {
    this.#native.bind(addr);
    return this;
  }
  /** getsockname(). */
  address(): SockAddr { return this.#native.getsockname(); }
  /** Raw setsockopt with an int or a ready-made struct. */
  setOption(level: number, name: number, value: number | Buffer): this {
    this.#native.setsockopt(level, name, value);
    return this;
  }
  getOptionInt(level: number, name: number): number { return this.#native.getsockoptInt(level, name); }
  getOption(level: number, name: number, length: number): Buffer { return this.#native.getsockopt(level, name, length); }

  /** SO_RCVBUF, or SO_RCVBUFFORCE (needs CAP_NET_ADMIN) to pass net.core.rmem_max. */
  setReceiveBuffer(bytes: number, force = false): this {
    return this.setOption(this.#k.SOL_SOCKET, force ? this.#k.SO_RCVBUFFORCE : this.#k.SO_RCVBUF, bytes);
  }
  /** SO_SNDBUF, or SO_SNDBUFFORCE. */
  setSendBuffer(bytes: number, force = false): this {
    return this.setOption(this.#k.SOL_SOCKET, force ? this.#k.SO_SNDBUFFORCE : this.#k.SO_SNDBUF, bytes);
  }
  /** SO_BINDTODEVICE; '' unbinds. */
  bindToDevice(name: string): this {
    const bytes = Buffer.from(name);
    if (bytes.length >= this.#k.IFNAMSIZ) throw new TypeError(`device name too long: '${name}'`);
    return this.setOption(this.#k.SOL_SOCKET, this.#k.SO_BINDTODEVICE, bytes);
  }

  /** NETLINK_ADD_MEMBERSHIP: join a multicast group (RTNLGRP_*, a genl group id, …). */
  addNetlinkMembership(group: number): this { return this.#netlink(this.#k.NETLINK_ADD_MEMBERSHIP, group); }
  /** NETLINK_DROP_MEMBERSHIP. */
  dropNetlinkMembership(group: number): this { return this.#netlink(this.#k.NETLINK_DROP_MEMBERSHIP, group); }
  /** NETLINK_EXT_ACK: the kernel adds its error message and offending attribute to errors. */
  setNetlinkExtAck(on: boolean): this { return this.#netlink(this.#k.NETLINK_EXT_ACK, on ? 1 : 0); }
  /** NETLINK_GET_STRICT_CHK: strict header checking and dump filtering. */
  setNetlinkStrictCheck(on: boolean): this { return this.#netlink(this.#k.NETLINK_GET_STRICT_CHK, on ? 1 : 0); }
  /** NETLINK_NO_ENOBUFS: no ENOBUFS on overrun (messages are silently lost instead). */
  setNetlinkNoEnobufs(on: boolean): this { return this.#netlink(this.#k.NETLINK_NO_ENOBUFS, on ? 1 : 0); }
  /** NETLINK_CAP_ACK: error ACKs do not echo the whole request. */
  setNetlinkCapAck(on: boolean): this { return this.#netlink(this.#k.NETLINK_CAP_ACK, on ? 1 : 0); }

  /** IP_ADD_MEMBERSHIP with struct ip_mreqn. */
  joinMulticastIPv4(group: string, ifindex: number): this {
    return this.#ipv4(this.#k.IP_ADD_MEMBERSHIP, encodeIpMreqn(group, ifindex));
  }
  /** IP_DROP_MEMBERSHIP with struct ip_mreqn. */
  leaveMulticastIPv4(group: string, ifindex: number): this {
    return this.#ipv4(this.#k.IP_DROP_MEMBERSHIP, encodeIpMreqn(group, ifindex));
  }
  /** IPV6_ADD_MEMBERSHIP (IPV6_JOIN_GROUP) with struct ipv6_mreq. */
  joinMulticastIPv6(group: string, ifindex: number): this {
    return this.#ipv6(this.#k.IPV6_ADD_MEMBERSHIP, encodeIpv6Mreq(group, ifindex));
  }
  /** IPV6_DROP_MEMBERSHIP with struct ipv6_mreq. */
  leaveMulticastIPv6(group: string, ifindex: number): this {
    return this.#ipv6(this.#k.IPV6_DROP_MEMBERSHIP, encodeIpv6Mreq(group, ifindex));
  }
  /** IP_MULTICAST_IF with struct ip_mreqn (by interface index). */
  setMulticastInterfaceIPv4(ifindex: number): this {
    return this.#ipv4(this.#k.IP_MULTICAST_IF, encodeIpMreqn('0.0.0.0', ifindex));
  }
  /** IPV6_MULTICAST_IF. */
  setMulticastInterfaceIPv6(ifindex: number): this { return this.#ipv6(this.#k.IPV6_MULTICAST_IF, ifindex); }
  /** IP_MULTICAST_TTL. */
  setMulticastTtl(ttl: number): this { return this.#ipv4(this.#k.IP_MULTICAST_TTL, ttl); }
  /** IPV6_MULTICAST_HOPS. */
  setMulticastHops(hops: number): this { return this.#ipv6(this.#k.IPV6_MULTICAST_HOPS, hops); }
  /** IP_MULTICAST_LOOP or IPV6_MULTICAST_LOOP, by family. */
  setMulticastLoop(on: boolean): this {
    return this.#byFamily('setMulticastLoop', this.#k.IP_MULTICAST_LOOP, this.#k.IPV6_MULTICAST_LOOP, on ? 1 : 0);
  }
  /** IP_TTL (inet) or IPV6_UNICAST_HOPS (inet6). */
  setTtl(ttl: number): this { return this.#byFamily('setTtl', this.#k.IP_TTL, this.#k.IPV6_UNICAST_HOPS, ttl); }
  /** IP_HDRINCL: the application writes the IPv4 header. */
  setHeaderIncluded(on: boolean): this { return this.#ipv4(this.#k.IP_HDRINCL, on ? 1 : 0); }
  /** IP_PKTINFO or IPV6_RECVPKTINFO: report `ifindex` and `dst` with each message. */
  setReceivePacketInfo(on: boolean): this {
    return this.#byFamily('setReceivePacketInfo', this.#k.IP_PKTINFO, this.#k.IPV6_RECVPKTINFO, on ? 1 : 0);
  }
  /** IP_RECVTTL or IPV6_RECVHOPLIMIT: report `ttl` with each message. */
  setReceiveTtl(on: boolean): this {
    return this.#byFamily('setReceiveTtl', this.#k.IP_RECVTTL, this.#k.IPV6_RECVHOPLIMIT, on ? 1 : 0);
  }

  /** SO_TIMESTAMPNS: report `receivedMonoNs`, the kernel's receive time, with each message. */
  setReceiveTimestamps(on: boolean): this {
    return this.setOption(this.#k.SOL_SOCKET, this.#k.SO_TIMESTAMPNS, on ? 1 : 0);
  }

  /** PACKET_ADD_MEMBERSHIP with struct packet_mreq (`type`: PACKET_MR_MULTICAST, _PROMISC, _ALLMULTI). */
  addPacketMembership(ifindex: number, type: number, addr?: Buffer): this {
    this.#require('addPacketMembership', 'packet');
    return this.setOption(this.#k.SOL_PACKET, this.#k.PACKET_ADD_MEMBERSHIP, encodePacketMreq(ifindex, type, addr));
  }
  /** PACKET_DROP_MEMBERSHIP. */
  dropPacketMembership(ifindex: number, type: number, addr?: Buffer): this {
    this.#require('dropPacketMembership', 'packet');
    return this.setOption(this.#k.SOL_PACKET, this.#k.PACKET_DROP_MEMBERSHIP, encodePacketMreq(ifindex, type, addr));
  }
  /** SO_ATTACH_FILTER with a classic BPF program. */
  attachFilter(instructions: readonly BpfInstruction[]): this {
    this.#native.attachFilter(encodeSockFilter(instructions));
    return this;
  }
  /** SO_DETACH_FILTER. */
  detachFilter(): this { return this.setOption(this.#k.SOL_SOCKET, this.#k.SO_DETACH_FILTER, 0); }

  /**
   * sendmsg of `data` (a scatter list when an array). Resolves with the bytes sent once the kernel
   * took the datagram; sends are kept in order and wait out EAGAIN. Rejects with an ErrnoError.
   */
  send(data: Buffer | readonly Buffer[], dest?: SockAddr): Promise<number> {
    const buffers = Buffer.isBuffer(data) ? [data] : [...data];
    if (this.#queue.length === 0) {
      try {
        const sent = this.#native.send(buffers, dest);
        if (sent >= 0) return Promise.resolve(sent);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return new Promise<number>((resolve, reject) => {
      this.#queue.push({ buffers, dest, resolve, reject });
      this.#awaitWritable();
    });
  }

  /** A copy of `data` for `dest`, armed to be sent from a signal handler: a token, or -1 (see signal-send.ts). */
  armSignalSend(data: readonly Buffer[], dest: SockAddr): number { return this.#native.armSignalSend([...data], dest); }

  /** Start (or restart after `pause()`) reading. */
  resume(): this {
    this.#paused = false;
    if (!this.#reading) this.#startReading();
    return this;
  }
  /** Stop reading until `resume()`; datagrams queue in the kernel meanwhile. */
  pause(): this {
    this.#paused = true;
    if (this.#reading) this.#stopReading();
    return this;
  }

  /** Messages as an async iterator; ends on close, throws on an 'error' event. */
  async *messages(options: { signal?: AbortSignal } = {}): AsyncGenerator<Message> {
    const events = on(this as unknown as EventEmitter, 'message', { ...options, close: ['close'] });
    for await (const [data, info] of events as AsyncIterableIterator<[Buffer, MessageInfo]>) yield { data, info };
  }

  /** Let the event loop exit while this socket is open (`ref()` undoes it). */
  unref(): this {
    this.#native.unref();
    return this;
  }
  ref(): this {
    this.#native.ref();
    return this;
  }

  /** Idempotent. Queued sends are rejected with EBADF. */
  close(): void {
    if (this.closed) return;
    this.#native.close();
    this.#reading = false;
    const queued = this.#queue.drain();
    for (const item of queued) {
      item.reject(new ErrnoError(osConstants.errno.EBADF, 'sendmsg', 'socket closed before the datagram was sent'));
    }
    this.emit('close');
  }

  #startReading(): void {
    this.#native.startReading((chunk, datagrams) => this.#deliver(chunk, datagrams),
      (error) => this.emit('error', error), this.#maxPerWakeup, this.#maxDatagramBytes);
    this.#reading = true;
  }

  #stopReading(): void {
    this.#native.stopReading();
    this.#reading = false;
  }

  #deliver(chunk: Buffer, datagrams: NativeDatagram[]): void {
    for (const datagram of datagrams) {
      if (this.closed) return;
      this.emit('message', chunk.subarray(datagram.offset, datagram.offset + datagram.length), datagram);
    }
  }

  #awaitWritable(): void {
    if (this.#awaitingWritable) return;
    this.#awaitingWritable = true;
    this.#native.awaitWritable(() => {
      this.#awaitingWritable = false;
      this.#flush();
    });
  }

  #flush(): void {
    while (this.#queue.length > 0 && !this.closed) {
      const item = this.#queue.peek()!;
      let sent: number;
      try {
        sent = this.#native.send(item.buffers, item.dest);
      } catch (error) {
        this.#queue.shift();
        item.reject(error);
        continue;
      }
      if (sent < 0) return this.#awaitWritable();
      this.#queue.shift();
      item.resolve(sent);
    }
  }

  #require(op: string, family: SocketFamily): void {
    if (this.family !== family) throw new TypeError(`${op} needs a socket of family ${family}, this one is ${this.family}`);
  }
  #netlink(name: number, value: number): this {
    this.#require('a netlink option', 'netlink');
    return this.setOption(this.#k.SOL_NETLINK, name, value);
  }
  #ipv4(name: number, value: number | Buffer): this {
    this.#require('an IPv4 option', 'inet');
    return this.setOption(this.#k.SOL_IP, name, value);
  }
  #ipv6(name: number, value: number | Buffer): this {
    this.#require('an IPv6 option', 'inet6');
    return this.setOption(this.#k.SOL_IPV6, name, value);
  }
  #byFamily(op: string, ipv4Name: number, ipv6Name: number, value: number): this {
    if (this.family === 'inet') return this.setOption(this.#k.SOL_IP, ipv4Name, value);
    if (this.family === 'inet6') return this.setOption(this.#k.SOL_IPV6, ipv6Name, value);
    throw new TypeError(`${op} needs an inet or inet6 socket, this one is ${this.family}`);
  }
}
