// layer: tests (kernel tier)
// job: HTTP_GET and SSL_GET against real node servers: status, digest (equal to keepalived's genhash), Host/SNI/verification, and each broken-server mode as a clean DOWN with its reason and nothing leaked.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import test from 'ava';
import { checkOnce } from '../../src/check/probe.js';
import type { HttpCheckSpec } from '../../src/check/types.js';
import { validateCheck } from '../../src/check/validate.js';
import { assertNoLeaks, snapshot } from '../helpers/check-leaks.js';
import { httpServer, tcpServer, TLS_CERT } from '../helpers/check-servers.js';
import { kernelTierUnavailable } from '../helpers/netns.js';

const skip = kernelTierUnavailable();
const serial = skip ? test.skip : test.serial;

const PAGE = 'lvskit health page\n'.repeat(200);
const md5 = (text: string): string => createHash('md5').update(text).digest('hex');

const http = (port: number, extra: Partial<HttpCheckSpec> = {}) =>
  validateCheck({ kind: 'HTTP_GET', connectIp: '127.0.0.1', connectPort: port, connectTimeoutMs: 600, urls: [{ path: '/' }], ...extra } as HttpCheckSpec).config;

/** keepalived's own digest tool, as the oracle for "keepalived-compatible" (async: the server is in this process). */
async function genhash(port: number, path: string, ssl = false): Promise<string> {
  const { stdout } = await promisify(execFile)('genhash', [...(ssl ? ['-S'] : []), '-s', '127.0.0.1', '-p', String(port), '-u', path], { encoding: 'utf8' });
  return stdout.trim();
}

/** A site: `/` the page, `/stream` the page in chunks, `/down` 503, and the broken modes. */
function site(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): void {
  switch (req.url) {
    case '/': res.end(PAGE); break;
    case '/stream': for (const line of PAGE.match(/.{1,300}/gs)!) res.write(line); res.end(); break;
    case '/down': res.statusCode = 503; res.end('maintenance'); break;
    case '/changed': res.end(`${PAGE}changed`); break;
    case '/silent': break; // never sends headers
    case '/cut': res.setHeader('Content-Length', String(PAGE.length)); res.write(PAGE.slice(0, 100)); setTimeout(() => req.socket.destroy(), 30); break;
    case '/big': res.end('x'.repeat(300_000)); break;
    case '/trickle': {
      res.write('.');
      const timer = setInterval(() => res.write('.'), 150);
      res.on('close', () => clearInterval(timer));
      break;
    }
    default: res.statusCode = 404; res.end();
  }
}

serial('HTTP_GET success: status 200 and the body digest genhash computes; Host and User-Agent as keepalived sends them', async (t) => {
  const server = await httpServer(t, site);
  const digest = await genhash(server.port, '/');
  t.is(digest, md5(PAGE));
  const before = await snapshot();
  t.deepEqual(await checkOnce(http(server.port, { urls: [{ path: '/', digest }] })), { ok: true, status: 200 });
  t.deepEqual(await checkOnce(http(server.port, { urls: [{ path: '/stream', digest: await genhash(server.port, '/stream') }] })), { ok: true, status: 200 },
    'a chunked reply hashes like the HTTP/1.0 reply genhash reads');
  const seen = server.requests.at(-1)!;
  t.is(seen.host, `127.0.0.1:${server.port}`);
  t.is(seen.userAgent, 'KeepAliveClient');
  await assertNoLeaks(t, before);
});

serial('virtualhost: the Host header the server sees (the url’s overrides the checker’s)', async (t) => {
  const server = await httpServer(t, site);
  await checkOnce(http(server.port, { virtualhost: 'www.example.test', urls: [{ path: '/' }, { path: '/stream', virtualhost: 'api.example.test' }] }));
  t.deepEqual(server.requests.map((r) => [r.path, r.host]), [['/', 'www.example.test'], ['/stream', 'api.example.test']]);
});

serial('every url must pass: the failing one is named', async (t) => {
  const server = await httpServer(t, site);
  const result = await checkOnce(http(server.port, { urls: [{ path: '/' }, { path: '/down' }, { path: '/stream' }] }));
  t.like(result, { ok: false, reason: 'status', path: '/down', status: 503 });
  t.deepEqual(server.requests.map((r) => r.path), ['/', '/down'], 'stops at the first failure');
});

serial('status_code ranges: 503 fails the default 200-299 and passes an explicit 500-599', async (t) => {
  const server = await httpServer(t, site);
  const result = await checkOnce(http(server.port, { urls: [{ path: '/down' }] }));
  t.like(result, { ok: false, reason: 'status', status: 503 });
  t.is(result.ok ? '' : result.message, `GET /down from 127.0.0.1:${server.port}: status 503, expected 200-299`);
  t.like(await checkOnce(http(server.port, { urls: [{ path: '/down', statusCodes: [{ from: 500, to: 599 }] }] })), { ok: true, status: 503 });
});

/** Each broken server mode: [what, spec change, expected reason, message pattern]. */
const BROKEN: [string, Partial<HttpCheckSpec>, string, RegExp][] = [
  ['wrong body', { urls: [{ path: '/changed', digest: md5(PAGE) }] }, 'digest', new RegExp(`body MD5 ${md5(`${PAGE}changed`)}, expected ${md5(PAGE)}$`)],
  ['headers never sent', { urls: [{ path: '/silent' }] }, 'response-timeout', /no data for 600 ms$/],
  ['closed mid-response', { urls: [{ path: '/cut' }] }, 'closed', /connection closed after 100 bytes of body$/],
  ['body over the bound, with a digest', { maxBodyBytes: 100_000, urls: [{ path: '/big', digest: md5('x') }] }, 'body-too-large', /body longer than 100000 bytes$/],
  ['a body trickled past the attempt bound', { attemptTimeoutMs: 1000, urls: [{ path: '/trickle' }] }, 'deadline', /attempt ran past its deadline$/],
];

for (const [what, spec, reason, message] of BROKEN) {
  serial(`${what}: DOWN with reason ${reason}, nothing leaked`, async (t) => {
    const server = await httpServer(t, site);
    const before = await snapshot();
    const result = await checkOnce(http(server.port, spec));
    t.like(result, { ok: false, reason });
    t.regex(result.ok ? '' : result.message, message);
    await assertNoLeaks(t, before);
  });
}

serial('body over the bound without a digest: UP on the status, the rest is not read', async (t) => {
  const server = await httpServer(t, site);
  t.deepEqual(await checkOnce(http(server.port, { maxBodyBytes: 1000, urls: [{ path: '/big' }] })), { ok: true, status: 200 });
});

serial('raw servers: half-open (accepts, never answers), not HTTP, closed at once — each a clean DOWN', async (t) => {
  const halfOpen = await tcpServer(t, '127.0.0.1', () => undefined);
  const ssh = await tcpServer(t, '127.0.0.1', (s) => { s.end('SSH-2.0-OpenSSH_9.2\r\n'); });
  const slam = await tcpServer(t, '127.0.0.1', (s) => { s.destroy(); });
  const before = await snapshot();
  t.like(await checkOnce(http(halfOpen.port)), { ok: false, reason: 'response-timeout' });
  const notHttp = await checkOnce(http(ssh.port));
  t.like(notHttp, { ok: false, reason: 'protocol-error' });
  t.regex(notHttp.ok ? '' : notHttp.message, /not an HTTP response/);
  t.like(await checkOnce(http(slam.port)), { ok: false, reason: 'closed' });
  await assertNoLeaks(t, before); // it polls until the sockets are closed (or 3 s)
});

const ssl = (port: number, extra: Partial<HttpCheckSpec> = {}) => http(port, { kind: 'SSL_GET', ...extra });

serial('SSL_GET: a self-signed server passes without verification (keepalived’s default); no SNI unless enabled', async (t) => {
  const server = await httpServer(t, site, { tls: true });
  const digest = await genhash(server.port, '/', true);
  t.is(digest, md5(PAGE));
  const before = await snapshot();
  t.deepEqual(await checkOnce(ssl(server.port, { urls: [{ path: '/', digest }] })), { ok: true, status: 200 });
  t.is(server.requests[0]!.servername, false);
  await assertNoLeaks(t, before);
});

serial('SSL_GET enable_sni: the server sees the virtualhost as server name', async (t) => {
  const server = await httpServer(t, site, { tls: true });
  t.like(await checkOnce(ssl(server.port, { enableSni: true, virtualhost: 'rs.example.test' })), { ok: true });
  t.is(server.requests[0]!.servername, 'rs.example.test');
  t.is(server.requests[0]!.host, 'rs.example.test');
});

serial('SSL_GET with verification: an unknown CA is a tls-error; the fixture CA with its name passes', async (t) => {
  const server = await httpServer(t, site, { tls: true });
  const before = await snapshot();
  const rejected = await checkOnce(ssl(server.port, { verifyCertificate: true }));
  t.like(rejected, { ok: false, reason: 'tls-error' });
  t.regex(rejected.ok ? '' : rejected.message, /TLS handshake: self[- ]signed certificate/);
  t.like(await checkOnce(ssl(server.port, { verifyCertificate: true, ca: TLS_CERT, enableSni: true, virtualhost: 'rs.example.test' })), { ok: true });
  await assertNoLeaks(t, before);
});

serial('SSL_GET against a plain HTTP server: tls-error, not a hang', async (t) => {
  const server = await httpServer(t, site);
  const started = performance.now();
  const result = await checkOnce(ssl(server.port));
  t.like(result, { ok: false, reason: 'tls-error' });
  t.true(performance.now() - started < 600, 'failed on the reply, not on the timeout');
});
