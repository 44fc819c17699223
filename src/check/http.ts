// layer: behaviour (check)
// job: HTTP_GET and SSL_GET: per url, connect (TLS without verification unless asked, SNI on request), GET, check status and the body's MD5, all bounded in time and bytes.
import { createHash, type Hash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { connectFailure, connectOptions, connectTimeoutFailure, hostPort } from './tcp.js';
import { abortedFailure, type CheckFailure, type CheckResult, type HttpCheckConfig, type HttpUrlCheck } from './types.js';
import type { AttemptSignal } from './signal.js';

/** keepalived's User-Agent, which some sites allow-list for health checks. */
export const USER_AGENT = 'KeepAliveClient';

/**
 * One HTTP_GET / SSL_GET attempt: every url in turn, each over its own connection (as keepalived
 * does); the first failure ends the attempt. Never rejects.
 */
export async function probeHttp(config: HttpCheckConfig, signal: AttemptSignal): Promise<CheckResult> {
  let last: CheckResult = { ok: true };
  for (const url of config.urls) {
    last = await new HttpAttempt(config, url, signal).run();
    if (!last.ok) return last;
  }
  return last;
}

/** True when `status` is in one of the ranges. */
export function statusMatches(status: number, ranges: readonly { from: number; to: number }[]): boolean {
  return ranges.some((r) => status >= r.from && status <= r.to);
}

function rangesText(ranges: readonly { from: number; to: number }[]): string {
  return ranges.map((r) => (r.from === r.to ? String(r.from) : `${r.from}-${r.to}`)).join(' ');
}

/** One url over one connection. */
class HttpAttempt {
  #phase: 'connect' | 'tls' | 'response' = 'connect';
  #done = false;
  #resolve!: (r: CheckResult) => void;
  #socket!: net.Socket;
  #request?: http.ClientRequest;
  #connectTimer?: ReturnType<typeof setTimeout>;
  #hash?: Hash;
  #bytes = 0;
  readonly #onAbort = (): void => this.#onSignal();

  constructor(readonly config: HttpCheckConfig, readonly url: HttpUrlCheck, readonly signal: AttemptSignal) {}

  run(): Promise<CheckResult> {
    return new Promise((resolve) => {
      this.#resolve = resolve;
      if (this.signal.aborted) return this.#onSignal();
      this.signal.addEventListener('abort', this.#onAbort, { once: true });
      this.#socket = this.#connect();
      this.#connectTimer = setTimeout(() => this.#finish(connectTimeoutFailure(this.config)), this.config.connectTimeoutMs);
      this.#socket.on('error', (error) => this.#onSocketError(error));
      this.#request = this.#get();
    });
  }

  #connect(): net.Socket {
    const host = this.url.virtualhost ?? this.config.virtualhost;
    if (this.config.kind !== 'SSL_GET') {
      const socket = net.connect(connectOptions(this.config));
      socket.once('connect', () => this.#connected());
      return socket;
    }
    const options: tls.ConnectionOptions = {
      ...connectOptions(this.config),
      // An empty servername sends no SNI (the target is an address, never a name).
      servername: this.config.enableSni && host !== undefined ? host.replace(/:\d+$/, '') : '',
      rejectUnauthorized: this.config.verifyCertificate === true,
    };
    if (this.config.ca !== undefined) options.ca = this.config.ca;
    if (this.config.certificate !== undefined) options.cert = this.config.certificate;
    if (this.config.key !== undefined) options.key = this.config.key;
    const socket = tls.connect(options);
    socket.once('connect', () => { this.#phase = 'tls'; });
    socket.once('secureConnect', () => this.#connected());
    return socket;
  }

  #connected(): void {
    clearTimeout(this.#connectTimer);
    this.#phase = 'response';
    // keepalived's connect_timeout also bounds every wait for data once connected.
    this.#socket.setTimeout(this.config.connectTimeoutMs, () => this.#finish(this.#failure('response-timeout',
      `no data for ${this.config.connectTimeoutMs} ms`)));
  }

  #get(): http.ClientRequest {
    const host = this.url.virtualhost ?? this.config.virtualhost;
    const headers: http.OutgoingHttpHeaders = { 'User-Agent': USER_AGENT, Connection: 'close' };
    if (host !== undefined) headers.Host = host;
    else headers.Host = hostPort(this.config.connectIp, this.config.connectPort);
    const request = http.request({ method: 'GET', path: this.url.path, headers, createConnection: () => this.#socket });
    request.on('error', (error) => this.#onRequestError(error));
    request.on('response', (response) => this.#onResponse(response));
    request.end();
    return request;
  }

  #onResponse(response: http.IncomingMessage): void {
    const status = response.statusCode ?? 0;
    if (!statusMatches(status, this.url.statusCodes)) {
      const f = this.#failure('status', `status ${status}, expected ${rangesText(this.url.statusCodes)}`);
      f.status = status;
      return this.#finish(f);
    }
    if (this.url.digest !== undefined) this.#hash = createHash('md5');
    response.on('data', (chunk: Buffer) => this.#onBody(chunk, status));
    response.on('end', () => this.#onEnd(status));
    response.on('error', () => undefined); // 'close' below reports an incomplete body
    response.on('close', () => {
      if (!response.complete) this.#finish(this.#failure('closed', `connection closed after ${this.#bytes} bytes of body`));
    });
  }

  #onBody(chunk: Buffer, status: number): void {
    this.#bytes += chunk.length;
    if (this.#bytes > this.config.maxBodyBytes) {
      if (!this.#hash) return this.#finish({ ok: true, status });
      const f = this.#failure('body-too-large', `body longer than ${this.config.maxBodyBytes} bytes`);
      f.status = status;
      return this.#finish(f);
    }
    this.#hash?.update(chunk);
  }

  #onEnd(status: number): void {
    if (!this.#hash) return this.#finish({ ok: true, status });
    const digest = this.#hash.digest('hex');
    if (digest === this.url.digest) return this.#finish({ ok: true, status });
    const f = this.#failure('digest', `body MD5 ${digest}, expected ${this.url.digest}`);
    f.status = status;
    f.digest = digest;
    this.#finish(f);
  }

  #onSocketError(error: Error): void {
    if (this.#phase === 'connect') return this.#finish(connectFailure(error, this.config));
    if (this.#phase === 'tls') return this.#finish(this.#failure('tls-error', `TLS handshake: ${error.message}`, error));
    this.#finish(this.#failure('closed', error.message, error));
  }

  #onRequestError(error: Error): void {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (code.startsWith('HPE_')) return this.#finish(this.#failure('protocol-error', `not an HTTP response: ${error.message}`, error));
    this.#onSocketError(error);
  }

  #onSignal(): void {
    if (this.signal.reason !== 'deadline') return this.#finish(abortedFailure(this.signal));
    if (this.#phase === 'connect') return this.#finish(connectTimeoutFailure(this.config));
    this.#finish(this.#failure('deadline', 'attempt ran past its deadline'));
  }

  #failure(reason: CheckFailure['reason'], detail: string, error?: Error): CheckFailure {
    const f: CheckFailure = { ok: false, reason, message: `GET ${this.url.path} from ${hostPort(this.config.connectIp, this.config.connectPort)}: ${detail}`, path: this.url.path };
    const e = error as NodeJS.ErrnoException | undefined;
    if (typeof e?.code === 'string') f.code = e.code;
    if (typeof e?.errno === 'number') f.errno = Math.abs(e.errno);
    return f;
  }

  #finish(result: CheckResult): void {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#connectTimer);
    this.signal.removeEventListener('abort', this.#onAbort);
    this.#request?.destroy();
    this.#socket?.destroy();
    this.#resolve(result);
  }
}
