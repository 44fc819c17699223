// layer: test helpers (site scenario)
// job: the client's side of the site: steady requests to the VIP with every result timed, per-window counts (requests, failures, which server answered, outage), and held connections.
import type { SiteLab } from './site-lab.js';
import { SITE_HTTP } from './site-lab.js';
import type { NodeName } from './site-model.js';
import { monoMs, poll, startProc, type Proc } from './site-procs.js';

/** One request of the steady traffic; times are CLOCK_MONOTONIC ms. */
export interface RequestResult {
  seq: number;
  sentMs: number;
  doneMs: number;
  ok: boolean;
  /** The real server that answered, or why it failed (`timeout`, `ECONNREFUSED`, `ECONNRESET`, ...). */
  what: string;
}

export interface TrafficStats {
  requests: number;
  failures: number;
  /** Successful requests per real server. */
  byServer: Record<string, number>;
  /** Failed requests per reason. */
  errors: Record<string, number>;
  /** The longest time new requests kept failing: a failure's send time to the next success's (or the window's end). */
  outageMs: number;
}

export interface TrafficOptions {
  intervalMs: number;
  timeoutMs: number;
}

export class Traffic {
  readonly #sent = new Map<number, number>();
  readonly #results = new Map<number, RequestResult>();
  #lastSentMs = -Infinity;

  private constructor(readonly proc: Proc, readonly options: TrafficOptions) {}

  /**
   * Starts the client's requests to VIP:80; resolves once the first went out. The sockets are not
   * bound (the source is the client's primary address): connect() then takes ports in sequence
   * for a destination, while bind() to an address takes them at random, and a random port soon
   * lands on one whose last connection IPVS still holds in FIN_WAIT (2 minutes: a DR balancer
   * sees only the client's side). With conn_reuse_mode 1 such a SYN reuses that entry, going to
   * the old real server without being scheduled: rr is no longer exact (a spread of 2 in 80
   * requests was seen), and a request can go to a real server whose weight is already 0.
   */
  static async start(lab: SiteLab, options: TrafficOptions): Promise<Traffic> {
    const { site } = lab;
    let traffic: Traffic | undefined;
    const proc = startProc(lab.cleanup, 'traffic@client', ['ip', 'netns', 'exec', lab.ns.client, process.execPath, SITE_HTTP, 'traffic',
      site.vip, '80', String(options.intervalMs), String(options.timeoutMs), '-'], { onLine: (l) => traffic?.take(l.text) });
    traffic = new Traffic(proc, options);
    await proc.waitFor((l) => l.text === 'ready', 30_000);
    return traffic;
  }

  private take(text: string): void {
    const [kind, seq, sent, done, ok, what] = text.split(' ');
    if (kind === 's') {
      this.#sent.set(Number(seq), Number(sent));
      this.#lastSentMs = Math.max(this.#lastSentMs, Number(sent));
    } else if (kind === 'r') {
      this.#results.set(Number(seq), { seq: Number(seq), sentMs: Number(sent), doneMs: Number(done), ok: ok === '1', what: what ?? '' });
    }
  }

  /** Results of requests sent in [from, to), in the order they were sent. */
  results(fromMs: number, toMs = Infinity): RequestResult[] {
    return [...this.#results.values()].filter((r) => r.sentMs >= fromMs && r.sentMs < toMs).sort((a, b) => a.sentMs - b.sentMs);
  }

  /**
   * Resolves once every request sent before `untilMs` has its result (each ends within the
   * request timeout); throws if the script stopped answering.
   */
  async settled(untilMs: number): Promise<void> {
    const complete = async (): Promise<true | undefined> => {
      if (this.#lastSentMs < untilMs && this.proc.running()) return undefined; // a send line may still be on its way
      for (const [seq, sent] of this.#sent) if (sent < untilMs && !this.#results.has(seq)) return undefined;
      return true;
    };
    const waitMs = Math.max(0, untilMs - monoMs()) + this.options.timeoutMs + 10_000;
    if (!await poll(complete, waitMs, 50)) throw new Error(`traffic: requests sent before ${untilMs.toFixed(0)} still without a result after ${waitMs} ms`);
  }

  /** The first successful request sent at or after `sinceMs`, once its answer came. */
  async firstSuccess(sinceMs: number, timeoutMs: number): Promise<RequestResult | undefined> {
    return poll(async () => this.results(sinceMs).find((r) => r.ok), timeoutMs, 50);
  }

  stats(fromMs: number, toMs: number): TrafficStats {
    return trafficStats(this.results(fromMs, toMs), toMs);
  }

  /** Stops sending; resolves when the last request has ended. */
  async stop(): Promise<void> {
    this.proc.write('exit\n');
    await Promise.race([this.proc.exited, new Promise((resolve) => setTimeout(resolve, this.options.timeoutMs + 10_000))]);
  }
}

/** Counts for a window's results (sorted by send time) ending at `endMs`. */
export function trafficStats(results: readonly RequestResult[], endMs: number): TrafficStats {
  const stats: TrafficStats = { requests: results.length, failures: 0, byServer: {}, errors: {}, outageMs: 0 };
  let failingSince: number | undefined;
  for (const r of results) {
    if (r.ok) {
      stats.byServer[r.what] = (stats.byServer[r.what] ?? 0) + 1;
      if (failingSince !== undefined) stats.outageMs = Math.max(stats.outageMs, r.sentMs - failingSince);
      failingSince = undefined;
    } else {
      stats.failures++;
      stats.errors[r.what] = (stats.errors[r.what] ?? 0) + 1;
      failingSince ??= r.sentMs;
    }
  }
  if (failingSince !== undefined) stats.outageMs = Math.max(stats.outageMs, endMs - failingSince);
  return stats;
}

/** `count` requests one after another from `localAddress` to VIP:port (new connections): how many succeeded, per server. */
export async function requests(lab: SiteLab, node: NodeName, localAddress: string, count: number, port = 80, timeoutMs = 1500): Promise<{ ok: number; failed: number; byServer: Record<string, number> }> {
  const text = await lab.exec(node, [process.execPath, SITE_HTTP, 'get', lab.site.vip, String(port), localAddress, String(count), String(timeoutMs)]);
  const [, ok, failed, names] = (text.split('\n').find((l) => l.startsWith('got ')) ?? 'got 0 0 {}').split(' ');
  return { ok: Number(ok), failed: Number(failed), byServer: JSON.parse(names ?? '{}') as Record<string, number> };
}

/** Long-lived connections through VIP:port from one client address (the server holds them open and echoes). */
export class HeldConnections {
  private constructor(readonly proc: Proc, readonly opened: number, readonly failed: number, readonly byServer: Record<string, number>,
    /** The held connections' client ports (on `localAddress`). */
    readonly ports: number[], readonly localAddress: string) {}

  static async open(lab: SiteLab, node: NodeName, localAddress: string, count: number, port = 80): Promise<HeldConnections> {
    const proc = startProc(lab.cleanup, `hold@${node}/${localAddress}`, ['ip', 'netns', 'exec', lab.ns[node], process.execPath, SITE_HTTP, 'hold',
      lab.site.vip, String(port), localAddress, String(count)]);
    const ready = await proc.waitFor((l) => l.text.startsWith('ready '), 60_000 + count * 200);
    const [, opened, failed, names, ports] = ready.text.split(' ');
    return new HeldConnections(proc, Number(opened), Number(failed), JSON.parse(names ?? '{}') as Record<string, number>,
      JSON.parse(ports ?? '[]') as number[], localAddress);
  }

  /** How many of the connections still carry data (echo a byte within 3 s). */
  async alive(): Promise<number> {
    const since = monoMs();
    this.proc.write('ping\n');
    const line = await this.proc.waitFor((l) => l.text.startsWith('alive '), 15_000, since);
    return Number(line.text.split(' ')[1]);
  }

  async close(): Promise<void> {
    this.proc.write('exit\n');
    await Promise.race([this.proc.exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
  }
}
