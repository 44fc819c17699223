// layer: kernel client (IPVS connections), pure (clock injected)
// job: ConnTracker: a live copy of the connection table fed by sync messages; per-client counts kept current at O(1) per event.
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { IP_VS_CONN_F_INACTIVE, IP_VS_CONN_F_TEMPLATE, defaultTimeoutSec, protocolName, stateName } from './constants.js';
import { ExpiryWheel } from './expiry-wheel.js';
import type { ClientCount, ServiceKey } from './procfs.js';
import type { SyncConn, SyncMessage } from './sync-message.js';

/** Options of a `ConnTracker`: the state counted, the threshold, per-service counting, how many entries it holds. */
export interface TrackerOptions {
  /** The state counted per client, by the kernel's name. Default `ESTABLISHED` (TCP and SCTP). */
  countState?: string;
  /** Emit `over` when a client's count rises above this, `under` when it falls back to it. */
  threshold?: number;
  /** Count per client and virtual service instead of per client. */
  perService?: boolean;
  /** Most entries held; past it the least recently updated entry is evicted. Default 1,000,000. */
  maxEntries?: number;
  /** Milliseconds on a monotonic clock; default performance.now(). */
  clock?: () => number;
}

/** A client whose count crossed the threshold. */
export interface ThresholdCrossing {
  address: string;
  family: 4 | 6;
  count: number;
  total: number;
  service?: ServiceKey;
  atMs: number;
}

/** Events of a `ConnTracker`: a client crossed the threshold, up or down. */
export interface TrackerEvents {
  over: [crossing: ThresholdCrossing];
  under: [crossing: ThresholdCrossing];
}

/** What the tracker has done since it was made. */
export interface TrackerCounters {
  messages: number;
  conns: number;
  created: number;
  updated: number;
  /** Entries removed because their timeout passed with no refresh. */
  expired: number;
  /** Entries dropped to stay within maxEntries. */
  evicted: number;
  /** Expiry notices for entries already replaced by another real server (ignored, as the kernel does). */
  staleIgnored: number;
}

interface ClientState {
  key: string;
  address: string;
  family: 4 | 6;
  service?: ServiceKey;
  count: number;
  total: number;
}

interface Entry {
  key: string;
  client: ClientState;
  state: string;
  counted: boolean;
  destAddress: string;
  destPort: number;
  wheelSecond: number;
}

/**
 * The connection table as the sync stream describes it: one entry per connection (and
 * persistence template), keyed as the kernel keys them (protocol, client address and port,
 * virtual address and port), with the state and an expiry of receipt time + the message's
 * timeout — what a backup's kernel does. Per-client counts change with each event, so
 * `overThreshold()` costs only the clients over it.
 */
export class ConnTracker extends EventEmitter<TrackerEvents> {
  readonly countState: string;
  readonly threshold: number | undefined;
  readonly perService: boolean;
  readonly maxEntries: number;
  readonly counters: TrackerCounters = { messages: 0, conns: 0, created: 0, updated: 0, expired: 0, evicted: 0, staleIgnored: 0 };
  readonly #clock: () => number;
  readonly #entries = new Map<string, Entry>();
  readonly #clients = new Map<string, ClientState>();
  readonly #over = new Set<ClientState>();
  readonly #byState = new Map<string, number>();
  readonly #wheel: ExpiryWheel<Entry>;

  constructor(options: TrackerOptions = {}) {
    super();
    this.countState = options.countState ?? 'ESTABLISHED';
    this.threshold = options.threshold;
    this.perService = options.perService ?? false;
    this.maxEntries = options.maxEntries ?? 1_000_000;
    this.#clock = options.clock ?? (() => performance.now());
    this.#wheel = new ExpiryWheel(this.#clock());
  }

  /** Entries held (as of the last event or query; `expire()` brings it up to now). */
  get size(): number { return this.#entries.size; }
  /** Distinct clients (or client+service keys) with at least one entry. */
  get clients(): number { return this.#clients.size; }

  /** Apply every connection of a decoded sync message, received at `nowMs`. */
  apply(message: SyncMessage, nowMs: number = this.#clock()): void {
    this.counters.messages++;
    this.expire(nowMs);
    for (const conn of message.conns) this.#update(conn, nowMs);
  }

  /** Apply one synced connection received at `nowMs`. */
  update(conn: SyncConn, nowMs: number = this.#clock()): void {
    this.expire(nowMs);
    this.#update(conn, nowMs);
  }

  /** Remove the entries whose timeout has passed; returns how many. */
  expire(nowMs: number = this.#clock()): number {
    const before = this.counters.expired;
    this.#wheel.advance(nowMs, (entry) => {
      this.counters.expired++;
      this.#remove(entry, nowMs);
    });
    return this.counters.expired - before;
  }

  /** Clients whose count is above the threshold (none without one), highest first. */
  overThreshold(nowMs: number = this.#clock()): ClientCount[] {
    this.expire(nowMs);
    return rank([...this.#over].map((c) => this.#count(c)));
  }

  /** The `limit` clients with the highest counts. */
  top(limit: number, nowMs: number = this.#clock()): ClientCount[] {
    this.expire(nowMs);
    if (limit <= 0) return [];
    if (limit * 4 >= this.#clients.size) return this.all(nowMs).slice(0, limit);
    // One pass keeping the best `limit` in a sorted array (limits are small next to the client count).
    const best: ClientState[] = [];
    const worse = (a: ClientState, b: ClientState): boolean => a.count < b.count
      || (a.count === b.count && (a.total < b.total || (a.total === b.total && a.address > b.address)));
    for (const client of this.#clients.values()) {
      if (best.length === limit && !worse(best[limit - 1] as ClientState, client)) continue;
      let i = best.length;
      while (i > 0 && worse(best[i - 1] as ClientState, client)) i--;
      best.splice(i, 0, client);
      if (best.length > limit) best.pop();
    }
    return rank(best.map((c) => this.#count(c)));
  }

  /** Every client, highest first. */
  all(nowMs: number = this.#clock()): ClientCount[] {
    this.expire(nowMs);
    return rank([...this.#clients.values()].map((c) => this.#count(c)));
  }

  /** The counts of one client (summed over services when counting per service); undefined when it has no entry. */
  client(address: string, nowMs: number = this.#clock()): { count: number; total: number } | undefined {
    this.expire(nowMs);
    let found: { count: number; total: number } | undefined;
    for (const c of this.perService ? this.#clients.values() : [this.#clients.get(address)]) {
      if (!c || c.address !== address) continue;
      found = { count: (found?.count ?? 0) + c.count, total: (found?.total ?? 0) + c.total };
    }
    return found;
  }

  /** Entries per state name. */
  byState(nowMs: number = this.#clock()): Record<string, number> {
    this.expire(nowMs);
    return Object.fromEntries([...this.#byState].filter(([, n]) => n > 0));
  }

  #update(conn: SyncConn, nowMs: number): void {
    this.counters.conns++;
    const template = (conn.flags & IP_VS_CONN_F_TEMPLATE) !== 0;
    const key = `${template ? 'T' : 'C'}${conn.protocol}|${conn.clientAddress}|${conn.clientPort}|${conn.virtualAddress}|${conn.virtualPort}`;
    const state = stateName(conn.protocol, conn.state, template);
    const counted = !template && state === this.countState;
    let entry = this.#entries.get(key);
    if (entry && !template && (entry.destAddress !== conn.destAddress || entry.destPort !== conn.destPort)) {
      // ip_vs_proc_conn: an inactive entry for another real server is the old connection's expiry notice.
      if (conn.flags & IP_VS_CONN_F_INACTIVE) {
        this.counters.staleIgnored++;
        return;
      }
      entry.destAddress = conn.destAddress;
      entry.destPort = conn.destPort;
    }
    if (entry) {
      this.counters.updated++;
      this.#entries.delete(key); // re-inserted below: the Map's order is least recently updated first
      this.#setState(entry, state, counted, nowMs);
    } else {
      if (this.#entries.size >= this.maxEntries) this.#evictOldest(nowMs);
      const client = this.#clientFor(conn);
      entry = { key, client, state, counted: false, destAddress: conn.destAddress, destPort: conn.destPort, wheelSecond: -1 };
      this.counters.created++;
      client.total++;
      this.#byState.set(state, (this.#byState.get(state) ?? 0) + 1);
      if (counted) this.#adjust(client, +1, nowMs);
      entry.counted = counted;
    }
    this.#entries.set(key, entry);
    const timeoutSec = conn.timeoutSec || defaultTimeoutSec(conn.protocol, conn.state, template);
    this.#wheel.schedule(entry, nowMs + timeoutSec * 1000);
  }

  #setState(entry: Entry, state: string, counted: boolean, nowMs: number): void {
    if (entry.state !== state) {
      this.#byState.set(entry.state, (this.#byState.get(entry.state) ?? 1) - 1);
      this.#byState.set(state, (this.#byState.get(state) ?? 0) + 1);
      entry.state = state;
    }
    if (entry.counted !== counted) {
      this.#adjust(entry.client, counted ? +1 : -1, nowMs);
      entry.counted = counted;
    }
  }

  #clientFor(conn: SyncConn): ClientState {
    const family = conn.family === 'inet6' ? 6 : 4;
    const key = this.perService ? `${conn.clientAddress}|${conn.protocol}|${conn.virtualAddress}|${conn.virtualPort}` : conn.clientAddress;
    let client = this.#clients.get(key);
    if (!client) {
      client = { key, address: conn.clientAddress, family, count: 0, total: 0 };
      if (this.perService) client.service = { protocol: protocolName(conn.protocol), address: conn.virtualAddress, port: conn.virtualPort };
      this.#clients.set(key, client);
    }
    return client;
  }

  /** Change a client's count by ±1 and report a threshold crossing. */
  #adjust(client: ClientState, delta: 1 | -1, nowMs: number): void {
    client.count += delta;
    if (this.threshold === undefined) return;
    if (delta > 0 && client.count === this.threshold + 1) {
      this.#over.add(client);
      this.emit('over', this.#crossing(client, nowMs));
    } else if (delta < 0 && client.count === this.threshold) {
      this.#over.delete(client);
      this.emit('under', this.#crossing(client, nowMs));
    }
  }

  #remove(entry: Entry, nowMs: number): void {
    this.#entries.delete(entry.key);
    this.#wheel.remove(entry);
    this.#byState.set(entry.state, (this.#byState.get(entry.state) ?? 1) - 1);
    if (entry.counted) this.#adjust(entry.client, -1, nowMs);
    const client = entry.client;
    client.total--;
    if (client.total === 0) this.#clients.delete(client.key);
  }

  #evictOldest(nowMs: number): void {
    const oldest = this.#entries.values().next();
    if (oldest.done) return;
    this.counters.evicted++;
    this.#remove(oldest.value, nowMs);
  }

  #crossing(client: ClientState, atMs: number): ThresholdCrossing {
    return { address: client.address, family: client.family, count: client.count, total: client.total, ...(client.service ? { service: client.service } : {}), atMs };
  }

  #count(client: ClientState): ClientCount {
    const c: ClientCount = { address: client.address, family: client.family, count: client.count, states: { [this.countState]: client.count }, total: client.total };
    if (client.service) c.service = client.service;
    return c;
  }
}

/** Highest count first, then highest total, then address. */
function rank(clients: ClientCount[]): ClientCount[] {
  return clients.sort((a, b) => b.count - a.count || b.total - a.total || (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}
