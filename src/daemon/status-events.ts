// layer: daemon (composition)
// job: the status page's live feed: /events as server-sent events, the status document pushed to every open stream on each balancer event and at least once a second, one status read shared by all.
import type http from 'node:http';

/** How often the status is pushed when nothing happens (a page also sees the daemon is alive). */
export const STATUS_PUSH_INTERVAL_MS = 1000;

/** What the feed pushes: the status document, or why it could not be read. */
export type StatusRead = () => Promise<object>;

/**
 * Open streams and the pushes to them. A push reads the status once and writes it to every
 * stream as `event: status`; events during a read make one more push after it (never a queue).
 * A read that fails is written as `event: status-error` with its message.
 */
export class StatusEventFeed {
  readonly #read: StatusRead;
  readonly #streams = new Set<http.ServerResponse>();
  #timer?: NodeJS.Timeout;
  #reading = false;
  #again = false;
  #id = 0;

  constructor(read: StatusRead) {
    this.#read = read;
  }

  /** Streams open now. */
  get size(): number { return this.#streams.size; }

  /** Answer `res` as an event stream: the status at once, then every push until the client goes. */
  open(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    if (req.method === 'HEAD') return void res.end();
    res.write(`retry: ${STATUS_PUSH_INTERVAL_MS}\n\n`);
    this.#streams.add(res);
    res.on('close', () => {
      this.#streams.delete(res);
      if (this.#streams.size === 0) this.#stopTimer();
    });
    this.#timer ??= setInterval(() => this.push(), STATUS_PUSH_INTERVAL_MS).unref();
    this.push();
  }

  /** Push the status now to every stream (after the read in progress, if any). */
  push(): void {
    if (this.#streams.size === 0) return;
    if (this.#reading) {
      this.#again = true;
      return;
    }
    this.#reading = true;
    void this.#read().then(
      (doc) => this.#send('status', doc),
      (error: unknown) => this.#send('status-error', { message: (error as Error).message }),
    ).finally(() => {
      this.#reading = false;
      if (this.#again) {
        this.#again = false;
        this.push();
      }
    });
  }

  #send(event: string, data: object): void {
    const text = `id: ${++this.#id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const res of this.#streams) res.write(text);
  }

  #stopTimer(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** End every stream and stop pushing. */
  close(): void {
    this.#stopTimer();
    for (const res of this.#streams) res.end();
    this.#streams.clear();
  }
}
