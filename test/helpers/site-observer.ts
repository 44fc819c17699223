// layer: test helpers (site scenario)
// job: the observer: every VRRP advert and gratuitous ARP that enters the bridge (kernel-timestamped, by port), and the VIP's address events on each balancer.
import { binding } from '../../src/native/binding.js';
import { openSocket } from '../../src/native/socket.js';
import type { BalancerName, NodeName } from './site-model.js';
import { startProc, type Cleanup } from './site-procs.js';
import { decodeFrame } from './vrrp-lab.js';

const K = binding().constants as Record<string, number>;

/** A frame seen entering the bridge from `node`'s port; times are CLOCK_MONOTONIC ms. */
export interface Frame {
  atMs: number;
  node: NodeName;
  kind: 'vrrp' | 'garp' | 'na';
  vrid?: number;
  priority?: number;
  /** GARP: the address announced. */
  address?: string;
}

/** A line of `ip monitor address` on a balancer about one address. */
export interface AddressEvent {
  atMs: number;
  lb: BalancerName;
  deleted: boolean;
  address: string;
  text: string;
}

export interface ObserverPorts {
  /** The namespace holding the bridge. */
  netns: string;
  /** Bridge port ifindex → the node behind it. */
  ports: Map<number, NodeName>;
  /** Balancer → its namespace, for the address monitors. */
  balancers: Array<{ name: BalancerName; netns: string }>;
}

export class SiteObserver {
  readonly frames: Frame[] = [];
  readonly addressEvents: AddressEvent[] = [];
  readonly #waiters = new Set<{ accept: (f: Frame) => boolean; resolve: (f: Frame) => void }>();

  private constructor(readonly vrid: number) {}

  /** Starts capturing now; the socket and the monitors go with `cleanup`. */
  static start(cleanup: Cleanup, where: ObserverPorts, vrid: number): SiteObserver {
    const observer = new SiteObserver(vrid);
    const capture = openSocket({ family: 'packet', type: 'raw', protocol: 0, netns: where.netns });
    capture.bind({ family: 'packet', ifindex: 0, protocol: K.ETH_P_ALL! });
    // Each frame is timed when the kernel took it off the bridge, not when this process got to it.
    capture.setReceiveTimestamps(true);
    cleanup.defer('close the observer socket', () => capture.close());
    capture.on('message', (data, info) => {
      const from = info.from?.family === 'packet' ? info.from : undefined;
      const node = from ? where.ports.get(from.ifindex) : undefined;
      if (!from || !node || from.pkttype === K.PACKET_OUTGOING) return;
      const atMs = info.receivedMonoNs !== undefined ? info.receivedMonoNs / 1e6 : Number(process.hrtime.bigint()) / 1e6;
      const seen = decodeFrame(data, atMs);
      if (!seen) return;
      const frame: Frame = { atMs, node, kind: seen.kind, ...(seen.vrid !== undefined ? { vrid: seen.vrid, priority: seen.priority } : {}), ...(seen.address ? { address: seen.address } : {}) };
      observer.frames.push(frame);
      for (const w of observer.#waiters) if (w.accept(frame)) { observer.#waiters.delete(w); w.resolve(frame); }
    });
    for (const lb of where.balancers) {
      startProc(cleanup, `ip monitor address @${lb.name}`, ['ip', '-n', lb.netns, 'monitor', 'address'], {
        onLine: (l) => {
          const m = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(l.text);
          if (m) observer.addressEvents.push({ atMs: l.atMs, lb: lb.name, deleted: l.text.startsWith('Deleted'), address: m[1]!, text: l.text });
        },
      });
    }
    return observer;
  }

  /** Adverts of the site's instance with priority > 0 in [since, until). */
  adverts(sinceMs: number, untilMs = Infinity): Frame[] {
    return this.frames.filter((f) => f.kind === 'vrrp' && f.vrid === this.vrid && (f.priority ?? 0) > 0 && f.atMs >= sinceMs && f.atMs < untilMs);
  }

  /** Priority-0 adverts (a master resigning) in [since, until). */
  resignations(sinceMs: number, untilMs = Infinity): Frame[] {
    return this.frames.filter((f) => f.kind === 'vrrp' && f.vrid === this.vrid && f.priority === 0 && f.atMs >= sinceMs && f.atMs < untilMs);
  }

  /** The node whose advert came last before `atMs`. */
  advertiserAt(atMs: number): NodeName | undefined {
    return this.adverts(0, atMs).at(-1)?.node;
  }

  /**
   * How many times the advertising node changed in [since, until), counting from the one that
   * advertised before `since`: each takeover is one; two masters at once count every alternation.
   */
  transitions(sinceMs: number, untilMs = Infinity): number {
    let current = this.advertiserAt(sinceMs);
    let changes = 0;
    for (const f of this.adverts(sinceMs, untilMs)) {
      if (current !== undefined && f.node !== current) changes++;
      current = f.node;
    }
    return changes;
  }

  /** The longest time in [since, until) without an advert of priority > 0 (the window's edges count as ends). */
  longestAdvertGapMs(sinceMs: number, untilMs: number): number {
    let last = sinceMs;
    let longest = 0;
    for (const f of this.adverts(sinceMs, untilMs)) {
      longest = Math.max(longest, f.atMs - last);
      last = f.atMs;
    }
    return Math.max(longest, untilMs - last);
  }

  /** Gratuitous ARPs for `address` from `node` (any node when omitted) in [since, until). */
  garps(address: string, sinceMs: number, untilMs = Infinity, node?: NodeName): Frame[] {
    return this.frames.filter((f) => f.kind === 'garp' && f.address === address && f.atMs >= sinceMs && f.atMs < untilMs && (node === undefined || f.node === node));
  }

  /** Address events about `address` in [since, until). */
  vipEvents(address: string, sinceMs: number, untilMs = Infinity): AddressEvent[] {
    return this.addressEvents.filter((e) => e.address === address && e.atMs >= sinceMs && e.atMs < untilMs);
  }

  /** The first advert with priority > 0 from `node` at or after `sinceMs`. */
  waitForAdvert(node: NodeName, sinceMs: number, timeoutMs: number): Promise<Frame> {
    const accept = (f: Frame): boolean => f.kind === 'vrrp' && f.vrid === this.vrid && (f.priority ?? 0) > 0 && f.node === node && f.atMs >= sinceMs;
    const earlier = this.frames.find(accept);
    if (earlier) return Promise.resolve(earlier);
    return new Promise((resolve, reject) => {
      const w = { accept, resolve: (f: Frame) => { clearTimeout(timer); resolve(f); } };
      const timer = setTimeout(() => { this.#waiters.delete(w); reject(new Error(`the observer saw no advert from ${node} in ${timeoutMs} ms`)); }, timeoutMs);
      this.#waiters.add(w);
    });
  }
}
