// layer: test helpers (kernel tier)
// job: a VRRP lab: N balancer namespaces on one bridge inside an observer namespace that captures every advert, ARP and NA with its time.
import type { ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { formatIPv6 } from '../../src/bytes.js';
import { binding } from '../../src/native/binding.js';
import { openSocket } from '../../src/native/socket.js';
import { systemClock } from '../../src/vrrp/clock.js';
import { decodeAnnouncement, formatMac } from '../../src/vrrp/arp.js';
import { decodeAdvertisement, decodeIpv4Header } from '../../src/vrrp/packet.js';
import { createNetns, type Netns } from './netns.js';

const K = binding().constants as Record<string, number>;

export interface Balancer {
  ns: Netns;
  /** 10.x.y.(10+i) on eth0. */
  ipv4: string;
  /** fd00:x:y::(10+i) on eth0. */
  ipv6: string;
  /** eth0's link-local (the IPv6 advert source). */
  linkLocal: string;
  mac: string;
}

/** One frame the observer saw on a bridge port. */
export interface Seen {
  atMs: number;
  mac: string;
  kind: 'vrrp' | 'garp' | 'na';
  /** VRRP: source and destination address. */
  src?: string;
  dst?: string;
  ttl?: number;
  vrid?: number;
  priority?: number;
  version?: number;
  authData?: string;
  /** GARP / NA: the announced address. */
  address?: string;
}

export interface VrrpLab {
  observer: Netns;
  balancers: Balancer[];
  /** `10.x.y` (no trailing dot) and `fd00:x:y` (no trailing colons). */
  net4: string;
  net6: string;
  /** Everything seen so far, in order. */
  seen: Seen[];
  /** Resolves with the first frame (from now, or from `sinceMs`) that passes `accept`. */
  waitFor(accept: (s: Seen) => boolean, timeoutMs: number, sinceMs?: number): Promise<Seen>;
  /** VRRP adverts of `vrid` with priority > 0, after `sinceMs`. */
  adverts(vrid: number, sinceMs?: number): Seen[];
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const byte = (): number => 1 + (randomBytes(1)[0]! % 250);

/** One frame off a bridge port: a VRRP advert (v2/v3, IPv4/IPv6), a gratuitous ARP or an unsolicited NA; undefined for anything else. */
export function decodeFrame(frame: Buffer, atMs: number): Seen | undefined {
  const mac = formatMac(frame.subarray(6, 12));
  const type = frame.readUInt16BE(12);
  try {
    if (type === 0x0800 && frame[23] === 112) {
      const ip = decodeIpv4Header(frame.subarray(14, 14 + frame.readUInt16BE(16)));
      const a = decodeAdvertisement(frame.subarray(14 + ip.headerBytes, 14 + ip.totalLength), 4);
      return { atMs, mac, kind: 'vrrp', src: ip.src, dst: ip.dst, ttl: ip.ttl, vrid: a.vrid, priority: a.priority, version: a.version, ...(a.authData ? { authData: a.authData.toString('latin1') } : {}) };
    }
    if (type === 0x86dd && frame[20] === 112) {
      const a = decodeAdvertisement(frame.subarray(54, 54 + frame.readUInt16BE(18)), 6);
      return { atMs, mac, kind: 'vrrp', src: formatIPv6(frame.subarray(22, 38)), dst: formatIPv6(frame.subarray(38, 54)), ttl: frame[21]!, vrid: a.vrid, priority: a.priority, version: a.version };
    }
  } catch {
    return undefined;
  }
  const announcement = decodeAnnouncement(frame);
  return announcement ? { atMs, mac, kind: announcement.kind, address: announcement.address } : undefined;
}

/**
 * `count` balancers (namespaces with `eth0` on a bridge, and a link `eth1` to track), the bridge
 * in the observer namespace, DAD off so link-locals are usable at once. A packet socket in the
 * observer records every frame entering the bridge from a port, once.
 */
export async function createVrrpLab(t: ExecutionContext, count: number): Promise<VrrpLab> {
  const observer = await createNetns(t);
  const net4 = `10.${byte()}.${byte()}`;
  const net6 = `fd00:${byte().toString(16)}:${byte().toString(16)}`;
  await observer.exec(['sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
  await observer.ip('link', 'add', 'name', 'br0', 'type', 'bridge', 'mcast_snooping', '0');
  await observer.ip('addr', 'add', `${net4}.254/24`, 'dev', 'br0');
  await observer.ip('link', 'set', 'br0', 'up');
  const balancers: Balancer[] = [];
  const ports: number[] = [];
  for (let i = 0; i < count; i++) {
    const ns = await createNetns(t);
    await ns.exec(['sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
    await observer.ip('link', 'add', 'name', `p${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.name);
    await observer.ip('link', 'set', `p${i}`, 'master', 'br0', 'up');
    ports.push(await observer.ifindex(`p${i}`));
    const ipv4 = `${net4}.${10 + i}`;
    const ipv6 = `${net6}::${(10 + i).toString(16)}`;
    await ns.ip('addr', 'add', `${ipv4}/24`, 'dev', 'eth0');
    await ns.ip('addr', 'add', `${ipv6}/64`, 'dev', 'eth0', 'nodad');
    await ns.ip('link', 'set', 'eth0', 'up');
    // A link to track (this kernel has no dummy driver: a veth pair inside the namespace).
    await ns.ip('link', 'add', 'name', 'eth1', 'type', 'veth', 'peer', 'name', 'eth1p');
    await ns.ip('link', 'set', 'eth1p', 'up');
    await ns.ip('link', 'set', 'eth1', 'up');
    let linkLocal: string | undefined;
    for (let tries = 0; tries < 60 && !linkLocal; tries++) { // the kernel adds it once the link has carrier
      if (tries > 0) await sleep(50);
      const addrs = JSON.parse(await ns.ip('-j', '-6', 'addr', 'show', 'dev', 'eth0', 'scope', 'link')) as Array<{ addr_info: Array<{ local?: string }> }>;
      linkLocal = addrs[0]?.addr_info.find((a) => a.local?.startsWith('fe80'))?.local; // filtered-out addresses show as {}
    }
    if (!linkLocal) throw new Error(`no link-local on ${ns.name} eth0`);
    balancers.push({ ns, ipv4, ipv6, linkLocal, mac: formatMac(await ns.mac('eth0')) });
  }
  const capture = openSocket({ family: 'packet', type: 'raw', protocol: 0, netns: observer.name });
  capture.bind({ family: 'packet', ifindex: 0, protocol: K.ETH_P_ALL! });
  // Each frame is timed when the kernel took it off the bridge, not when this process got to it:
  // a takeover's time is then the wire's, whatever the speakers' work delays the observer by.
  capture.setReceiveTimestamps(true);
  t.teardown(() => capture.close());
  const seen: Seen[] = [];
  const waiters = new Set<{ accept: (s: Seen) => boolean; resolve: (s: Seen) => void }>();
  capture.on('message', (data, info) => {
    const from = info.from?.family === 'packet' ? info.from : undefined;
    if (!from || !ports.includes(from.ifindex) || from.pkttype === K.PACKET_OUTGOING) return;
    const s = decodeFrame(data, info.receivedMonoNs !== undefined ? systemClock.fromMonotonicNs!(info.receivedMonoNs) : performance.now());
    if (!s) return;
    seen.push(s);
    for (const w of waiters) if (w.accept(s)) { waiters.delete(w); w.resolve(s); }
  });
  await sleep(50);
  return {
    observer, balancers, net4, net6, seen,
    waitFor(accept, timeoutMs, sinceMs) {
      const earlier = sinceMs === undefined ? undefined : seen.find((s) => s.atMs >= sinceMs && accept(s));
      if (earlier) return Promise.resolve(earlier);
      return new Promise((resolve, reject) => {
        const w = { accept, resolve: (s: Seen) => { clearTimeout(timer); resolve(s); } };
        const timer = setTimeout(() => { waiters.delete(w); reject(new Error(`observer saw no matching frame in ${timeoutMs} ms`)); }, timeoutMs);
        waiters.add(w);
      });
    },
    adverts: (vrid, sinceMs = 0) => seen.filter((s) => s.kind === 'vrrp' && s.vrid === vrid && (s.priority ?? 0) > 0 && s.atMs >= sinceMs),
  };
}

/**
 * The longest time two different sources were both advertising `vrid` (priority > 0): each
 * source's adverts form runs (gaps under 2.5 intervals), and overlapping runs of two sources count.
 */
export function longestOverlapMs(lab: VrrpLab, vrid: number, intervalMs: number, sinceMs = 0): number {
  const runs: Array<{ src: string; from: number; to: number }> = [];
  const open = new Map<string, { src: string; from: number; to: number }>();
  for (const s of lab.adverts(vrid, sinceMs)) {
    const run = open.get(s.src!);
    if (run && s.atMs - run.to <= 2.5 * intervalMs) {
      run.to = s.atMs;
    } else {
      const fresh = { src: s.src!, from: s.atMs, to: s.atMs };
      open.set(s.src!, fresh);
      runs.push(fresh);
    }
  }
  let longest = 0;
  for (const a of runs) {
    for (const b of runs) {
      if (a.src < b.src) longest = Math.max(longest, Math.min(a.to, b.to) - Math.max(a.from, b.from));
    }
  }
  return longest;
}

/** Addresses on `dev` in `ns` (`ip -j addr`), for VIP checks. */
export async function addressesOn(ns: Netns, dev = 'eth0'): Promise<string[]> {
  const out = JSON.parse(await ns.ip('-j', 'addr', 'show', 'dev', dev)) as Array<{ addr_info: Array<{ local?: string }> }>;
  return out.flatMap((l) => l.addr_info.flatMap((a) => (a.local ? [a.local] : [])));
}

/** The kernel's address notifications in one namespace (`ip -o monitor address`), from when it resolves until teardown. */
export interface AddressMonitor {
  /** Every line, with the time it arrived here. */
  lines: Array<{ atMs: number; text: string }>;
  /** Whether the kernel reported `address` deleted (or, with `added`, added) since the monitor started. */
  deleted(address: string): boolean;
  added(address: string): boolean;
}

/**
 * Start `ip -o monitor address` in `ns` and resolve once it is listening: an address added to `lo`
 * and removed again has been reported (so no later change can be missed). Killed in teardown.
 */
export async function monitorAddresses(t: ExecutionContext, ns: Netns): Promise<AddressMonitor> {
  const child = spawn('ip', ['-n', ns.name, '-o', 'monitor', 'address'], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => { child.kill('SIGKILL'); });
  const lines: AddressMonitor['lines'] = [];
  let rest = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    for (const text of parts) lines.push({ atMs: performance.now(), text });
  });
  const has = (deleted: boolean, address: string): boolean =>
    lines.some((l) => l.text.startsWith('Deleted ') === deleted && new RegExp(`\\binet6? ${address.replaceAll('.', '\\.')}/`).test(l.text));
  const probe = '127.77.0.1';
  for (let tries = 0; tries < 100 && !has(true, probe); tries++) {
    await ns.ip('addr', 'add', `${probe}/32`, 'dev', 'lo').catch(() => undefined);
    await sleep(20);
    await ns.ip('addr', 'del', `${probe}/32`, 'dev', 'lo').catch(() => undefined);
    await sleep(30);
  }
  if (!has(true, probe)) throw new Error(`ip monitor address in ${ns.name} reported nothing`);
  return { lines, deleted: (a) => has(true, a), added: (a) => has(false, a) };
}
