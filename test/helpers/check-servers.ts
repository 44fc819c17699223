// layer: test helpers (kernel tier)
// job: real servers for the checkers (TCP, HTTP, HTTPS, raw byte servers, a listener whose accept queue is full), closed in teardown, counting what they see.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import type tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';

export const CHECK_FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'fixtures', 'check');
export const TLS_KEY = fs.readFileSync(path.join(CHECK_FIXTURES, 'server-key.pem'), 'utf8');
export const TLS_CERT = fs.readFileSync(path.join(CHECK_FIXTURES, 'server-cert.pem'), 'utf8');

function listen(t: ExecutionContext, server: net.Server, host: string): Promise<number> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  server.on('secureConnection', (s: net.Socket) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  t.teardown(() => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  }));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve((server.address() as net.AddressInfo).port));
  });
}

export interface TcpServer {
  port: number;
  /** Every accepted connection's source, in order, with the time it arrived (performance.now). */
  accepted: { address: string; port: number; at: number }[];
}

/** Accepts and closes each connection (what a TCP_CHECK sees from a healthy port). */
export async function tcpServer(t: ExecutionContext, host = '127.0.0.1', onConnection?: (s: net.Socket) => void): Promise<TcpServer> {
  const accepted: TcpServer['accepted'] = [];
  const server = net.createServer((s) => {
    accepted.push({ address: s.remoteAddress ?? '', port: s.remotePort ?? 0, at: performance.now() });
    s.on('error', () => undefined);
    // Read (and drop) whatever comes, so the client's FIN is seen and the socket closes with it.
    s.resume();
    if (onConnection) onConnection(s);
    else s.destroy();
  });
  return { port: await listen(t, server, host), accepted };
}

export interface SeenRequest {
  path: string;
  host?: string;
  userAgent?: string;
  /** TLS server name the client sent (false: none). */
  servername?: string | false;
  at: number;
}

export interface HttpServer {
  port: number;
  requests: SeenRequest[];
}

/** An HTTP (or, with `tls`, HTTPS with the fixture certificate) server answering with `handler`. */
export async function httpServer(t: ExecutionContext, handler: http.RequestListener, options: { tls?: boolean; host?: string } = {}): Promise<HttpServer> {
  const requests: SeenRequest[] = [];
  const record: http.RequestListener = (req, res) => {
    const socket = req.socket as tls.TLSSocket;
    requests.push({
      path: req.url ?? '', host: req.headers.host, userAgent: req.headers['user-agent'], at: performance.now(),
      ...(options.tls ? { servername: socket.servername ?? false } : {}),
    });
    handler(req, res);
  };
  const server = options.tls ? https.createServer({ key: TLS_KEY, cert: TLS_CERT }, record) : http.createServer(record);
  server.keepAliveTimeout = 100;
  return { port: await listen(t, server, options.host ?? '127.0.0.1'), requests };
}

/**
 * A listener that never accepts, with its accept queue full (listen backlog 0 plus one queued
 * connection): Linux drops further SYNs, so a connect never completes. A python3 child owns it.
 */
export async function fullBacklogListener(t: ExecutionContext): Promise<number> {
  const child = spawn('python3', ['-c', [
    'import socket, sys, time',
    's = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)',
    'print(s.getsockname()[1], flush=True)',
    'time.sleep(600)',
  ].join('\n')], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => { child.kill('SIGKILL'); });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`python3 listener exited with ${code}`)));
  });
  // Fill the queue: one connection completes the handshake and waits in the accept queue.
  const filler = net.connect(port, '127.0.0.1');
  filler.on('error', () => undefined);
  t.teardown(() => { filler.destroy(); });
  await new Promise((resolve) => filler.once('connect', resolve));
  return port;
}

/** Resolves after `ms`. */
/** A loopback listener that can be stopped and started again on the same port (the real server's health). */
export class Backend {
  #server?: net.Server;
  port = 0;

  async start(): Promise<void> {
    const s = net.createServer((c) => c.destroy());
    await new Promise<void>((resolve) => s.listen(this.port, '127.0.0.1', resolve));
    this.port = (s.address() as net.AddressInfo).port;
    this.#server = s;
  }

  async stop(): Promise<void> {
    const s = this.#server;
    this.#server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** `n` started Backends, stopped in teardown. */
export async function backends(t: ExecutionContext, n: number): Promise<Backend[]> {
  const list = Array.from({ length: n }, () => new Backend());
  for (const b of list) await b.start();
  t.teardown(async () => { for (const b of list) await b.stop(); });
  return list;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
