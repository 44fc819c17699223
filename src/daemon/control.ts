// layer: daemon (composition)
// job: the daemon's control socket: a root-only unix socket (mode 0600, directory 0700) taking one JSON request per connection — status, memory, events, reload, stop — and the client side of it.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Diagnostic } from '../config/diagnostics.js';
import type { StopMode } from './events.js';

/** A request on the daemon's control socket (`lvskit status`, `reload`, `stop`, `events`). */
export type ControlRequest =
  | { command: 'status' }
  /** Where the daemon's memory is (MemoryReport); `gc`: after a full collection in each thread, where node runs with --expose-gc. */
  | { command: 'memory'; gc?: boolean }
  /** The daemon's last events (RecentEvent[], oldest first), at most `last` of them. */
  | { command: 'events'; last?: number }
  | { command: 'reload'; dryRun?: boolean }
  | { command: 'stop'; mode?: StopMode };

/** The daemon's answer to a `ControlRequest`. */
export type ControlResponse =
  | { ok: true; result: unknown }
  | { ok: false; error: { name: string; message: string; diagnostics?: Diagnostic[] } };

/** A request the daemon refused or could not carry out; `diagnostics` when it was a configuration's fault. */
export class ControlError extends Error {
  override name = 'ControlError';
  constructor(message: string, readonly diagnostics?: Diagnostic[], readonly remoteName?: string) { super(message); }
}

/** The default socket: one per network namespace name, so that several balancers on one host do not meet. */
export function defaultControlPath(netns?: string): string {
  return netns === undefined ? '/run/lvskit/lvskit.sock' : `/run/lvskit/lvskit-${netns.replaceAll('/', '_')}.sock`;
}

const MAX_REQUEST_BYTES = 64 * 1024;

function json(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()) : v));
}

/** Whether something answers at `file` (a live daemon), without sending it a request. */
function answers(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(file);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/**
 * The socket's directory must be one only its owner can write, and owned by root or by us: anyone
 * else who could write there could replace the socket (or plant one) between our checks and a
 * client's connect. An existing directory is checked, not changed.
 */
function checkDirectory(dir: string): void {
  const st = fs.statSync(dir);
  const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
  const euid = process.geteuid?.() ?? 0;
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory; the control socket cannot be made there`);
  if ((st.mode & 0o022) !== 0) {
    throw new Error(`${dir}: the control socket's directory is writable by group or others (mode ${mode}); `
      + `lvskit needs one only its owner can write (chmod 0700 ${dir}, or --control elsewhere)`);
  }
  if (st.uid !== 0 && st.uid !== euid) throw new Error(`${dir}: the control socket's directory belongs to uid ${st.uid}, not to root or to this process (uid ${euid})`);
}

/** Make room for the socket: its directory (created 0700, checked), no live daemon on it, a stale socket removed, anything else refused. */
async function prepare(file: string): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  checkDirectory(path.dirname(file));
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new Error(`${file} exists and is not a socket; not replacing it`);
  if (await answers(file)) throw new Error(`another lvskit daemon answers on ${file}`);
  fs.unlinkSync(file);
}

/** The daemon side: every connection is one request and one answer. */
export class ControlServer {
  private constructor(private readonly server: net.Server, readonly path: string) {}

  readonly #open = new Set<net.Socket>();

  /** Listen on the socket file (refused when another daemon answers there, or the file is no socket); close() ends it. */
  static async open(file: string, handle: (request: ControlRequest) => Promise<unknown>): Promise<ControlServer> {
    await prepare(file);
    const server = net.createServer((socket) => serve(socket, handle));
    const umask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(file, () => { server.off('error', reject); resolve(); });
      });
    } finally {
      process.umask(umask);
    }
    fs.chmodSync(file, 0o600);
    const control = new ControlServer(server, file);
    server.on('connection', (socket) => { control.#open.add(socket); socket.once('close', () => control.#open.delete(socket)); });
    return control;
  }

  /** Resolves when every request being answered has been answered (or after `timeoutMs`): call before the process exits. */
  async drain(timeoutMs = 2000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#open.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  }

  #closed = false;

  /**
   * Stop taking requests (one being answered is still answered) and remove the socket: at once,
   * so that a successor can take the path while this daemon finishes. Idempotent: the path is
   * removed only the first time (a second close must not remove a successor's socket).
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try { fs.unlinkSync(this.path); } catch { /* gone already */ }
    this.server.close();
  }
}

function serve(socket: net.Socket, handle: (request: ControlRequest) => Promise<unknown>): void {
  let text = '';
  const answer = (r: ControlResponse): void => { socket.end(`${json(r)}\n`); };
  socket.setEncoding('utf8');
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: string) => {
    text += chunk;
    if (text.length > MAX_REQUEST_BYTES) return answer({ ok: false, error: { name: 'ControlError', message: 'request too large' } });
    const end = text.indexOf('\n');
    if (end < 0) return;
    socket.removeAllListeners('data');
    let request: ControlRequest;
    try {
      request = JSON.parse(text.slice(0, end)) as ControlRequest;
    } catch {
      return answer({ ok: false, error: { name: 'ControlError', message: 'the request is not JSON' } });
    }
    handle(request).then(
      (result) => answer({ ok: true, result }),
      (error: Error & { diagnostics?: Diagnostic[] }) => answer({ ok: false, error: {
        name: error.name, message: error.message, ...(error.diagnostics ? { diagnostics: [...error.diagnostics] } : {}),
      } }),
    );
  });
}

/** Send one request to a daemon's control socket; its answer, or ControlError (with the daemon's diagnostics). */
export function controlRequest(file: string, request: ControlRequest, timeoutMs = 120_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(file);
    let text = '';
    const timer = setTimeout(() => { socket.destroy(); reject(new ControlError(`no answer on ${file} in ${timeoutMs} ms`)); }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (d: string) => { text += d; });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why = error.code === 'ENOENT' || error.code === 'ECONNREFUSED' ? 'no lvskit daemon is running there' : error.message;
      reject(new ControlError(`${file}: ${why}`));
    });
    socket.on('end', () => {
      clearTimeout(timer);
      let r: ControlResponse;
      try {
        r = JSON.parse(text) as ControlResponse;
      } catch {
        reject(new ControlError(`${file}: the daemon's answer is not JSON`));
        return;
      }
      if (r.ok) resolve(r.result);
      else reject(new ControlError(r.error.message, r.error.diagnostics, r.error.name));
    });
  });
}
