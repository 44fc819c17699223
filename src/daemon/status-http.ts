// layer: daemon (composition)
// job: the daemon's HTTP listener (node:http): /metrics (Prometheus text), /status.json (the status and recent events), /events (the same, pushed as server-sent events), / (the live status page); GET and HEAD only.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeEvent } from './describe.js';
import type { BalancerEvent, BalancerStatus } from './events.js';
import type { BalancerMetrics, MetricsSource } from './metrics.js';
import type { ListenAddress } from './listen-address.js';
import { StatusEventFeed } from './status-events.js';
import { STATUS_PAGE_HTML } from './status-page.js';

/** One event as the status page lists it. */
export interface RecentEvent {
  atMs: number;
  level: string;
  source: string;
  type: string;
  message: string;
}

/** What /status.json answers, and each `status` message of /events. */
export interface StatusDocument {
  nowMs: number;
  status: BalancerStatus;
  events: RecentEvent[];
}

/** How many recent events /status.json keeps. */
export const RECENT_EVENTS = 50;

/**
 * The listener. It is opened before the balancer (a port already taken refuses the start before
 * anything is touched); until `attach()` it answers 503.
 */
export class StatusHttpServer {
  readonly #server: http.Server;
  #source?: MetricsSource;
  #metrics?: BalancerMetrics;
  readonly #recent: RecentEvent[] = [];
  readonly #feed = new StatusEventFeed(() => this.#document());

  private constructor(server: http.Server) {
    this.#server = server;
    server.on('request', (req, res) => { void this.#handle(req, res); });
  }

  static async open(address: ListenAddress): Promise<StatusHttpServer> {
    const server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(address.port, address.host, () => { server.off('error', reject); resolve(); });
    });
    return new StatusHttpServer(server);
  }

  /** Where it listens (the port the kernel chose for port 0). */
  get address(): ListenAddress {
    const a = this.#server.address() as AddressInfo;
    return { host: a.address, port: a.port };
  }

  /** Serve this balancer's status and metrics; its events from now on are kept for the page, and each pushes the status to /events. */
  attach(source: MetricsSource, metrics: BalancerMetrics): void {
    this.#source = source;
    this.#metrics = metrics;
    source.on('event', (e) => {
      this.#remember(e);
      this.#feed.push();
    });
  }

  async #document(): Promise<StatusDocument> {
    if (!this.#source) throw new Error('the balancer is not open yet');
    const status = await this.#source.status();
    return { nowMs: Date.now(), status, events: this.#recent };
  }

  #remember(e: BalancerEvent): void {
    const line = describeEvent(e);
    if (line.level === 'debug') return;
    this.#recent.push({ atMs: Date.now(), level: line.level, source: e.source, type: e.type, message: line.message });
    if (this.#recent.length > RECENT_EVENTS) this.#recent.shift();
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'only GET and HEAD\n', { allow: 'GET, HEAD' });
    if (path === '/' || path === '/status') return send(res, 200, 'text/html; charset=utf-8', STATUS_PAGE_HTML);
    if (path !== '/metrics' && path !== '/status.json' && path !== '/events') return send(res, 404, 'text/plain', 'not found: try /, /status.json, /events or /metrics\n');
    if (!this.#source || !this.#metrics) return send(res, 503, 'text/plain', 'the balancer is not open yet\n');
    if (path === '/events') return this.#feed.open(req, res);
    try {
      if (path === '/metrics') return send(res, 200, this.#metrics.contentType, await this.#metrics.metrics());
      return send(res, 200, 'application/json', JSON.stringify(await this.#document()), { 'cache-control': 'no-store' });
    } catch (error) {
      return send(res, 500, 'text/plain', `${(error as Error).message}\n`);
    }
  }

  /** Stop listening and end open connections. */
  async close(): Promise<void> {
    this.#feed.close();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
  }
}

function send(res: http.ServerResponse, code: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(code, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
