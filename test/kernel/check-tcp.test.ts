// layer: tests (kernel tier)
// job: TCP_CHECK against real sockets: success, RST, full accept queue, half-open, bindto/bind_port; SYN dropped by nft and unreachable routes inside namespaces; nothing leaked.
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { checkOnce } from '../../src/check/probe.js';
import type { TcpCheckSpec } from '../../src/check/types.js';
import { validateCheck } from '../../src/check/validate.js';
import { assertNoLeaks, snapshot } from '../helpers/check-leaks.js';
import type { ProbeAnswer, ProbeRequest } from '../helpers/check-probe-cli.js';
import { fullBacklogListener, tcpServer } from '../helpers/check-servers.js';
import { createNetns, kernelTierUnavailable, type Netns } from '../helpers/netns.js';
import { systemTool } from '../../src/system-tools.js';
import { until } from '../helpers/until.js';

const skip = kernelTierUnavailable();
const serial = skip ? test.skip : test.serial;
const PROBE_CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'helpers', 'check-probe-cli.js');

const tcp = (port: number, extra: Partial<TcpCheckSpec> = {}) => validateCheck({ kind: 'TCP_CHECK', connectIp: '127.0.0.1', connectPort: port, connectTimeoutMs: 700, ...extra }).config;

serial('success: the connection is established, then closed; the server sees exactly one connection', async (t) => {
  const server = await tcpServer(t);
  const before = await snapshot();
  t.deepEqual(await checkOnce(tcp(server.port)), { ok: true });
  await until('the server accepted the connection', () => server.accepted.length > 0, 2000);
  t.is(server.accepted.length, 1);
  await assertNoLeaks(t, before);
});

serial('RST (nothing listens): refused at once, with errno', async (t) => {
  // A port just released by a closed listener answers SYN with RST.
  const free = net.createServer();
  await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
  const freePort = (free.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => free.close(() => resolve()));
  const before = await snapshot();
  const started = performance.now();
  const result = await checkOnce(tcp(freePort));
  t.true(performance.now() - started < 500, 'an RST is an answer: no waiting for the timeout');
  t.like(result, { ok: false, reason: 'refused', code: 'ECONNREFUSED', errno: 111 });
  t.is(result.ok ? '' : result.message, `connect to 127.0.0.1:${freePort}: ECONNREFUSED`);
  await assertNoLeaks(t, before);
});

serial('slow to accept (accept queue full, SYN dropped by the listener): connect-timeout after connect_timeout', async (t) => {
  const port = await fullBacklogListener(t);
  const before = await snapshot();
  const started = performance.now();
  const result = await checkOnce(tcp(port, { connectTimeoutMs: 600 }));
  const elapsed = performance.now() - started;
  t.like(result, { ok: false, reason: 'connect-timeout' });
  t.regex(result.ok ? '' : result.message, /no answer within 600 ms$/);
  t.true(elapsed >= 595 && elapsed < 3000, `elapsed ${elapsed}`);
  await assertNoLeaks(t, before);
});

serial('half-open (accepts, never speaks): TCP_CHECK is UP by definition — the handshake is what it tests', async (t) => {
  const server = await tcpServer(t, '127.0.0.1', () => undefined);
  t.deepEqual(await checkOnce(tcp(server.port)), { ok: true });
});

serial('bindto and bind_port: the server sees the configured source address and port', async (t) => {
  const server = await tcpServer(t, '127.0.0.1');
  const bindPort = 20_000 + Math.floor(Math.random() * 20_000);
  t.deepEqual(await checkOnce(tcp(server.port, { bindTo: '127.0.0.2', bindPort })), { ok: true });
  await until('the server accepted the connection', () => server.accepted.length > 0, 2000);
  t.deepEqual(server.accepted.map((a) => [a.address, a.port]), [['127.0.0.2', bindPort]]);
});

serial('a source address that is not local: unreachable (EADDRNOTAVAIL), named in the failure', async (t) => {
  const server = await tcpServer(t);
  const result = await checkOnce(tcp(server.port, { bindTo: '192.0.2.77' }));
  t.like(result, { ok: false, reason: 'unreachable', code: 'EADDRNOTAVAIL' });
});

/** One attempt inside `ns` (a child process there), the check's own leak counts included. */
function probeIn(ns: Netns, request: ProbeRequest): ProbeAnswer {
  const out = execFileSync('ip', ['netns', 'exec', ns.name, process.execPath, PROBE_CLI, JSON.stringify(request)], { encoding: 'utf8' });
  return JSON.parse(out) as ProbeAnswer;
}

function dropRule(ns: Netns, port: number): void {
  execFileSync('ip', ['netns', 'exec', ns.name, systemTool('nft'), '-f', '-'], {
    input: `table inet lvskit_test {\n chain input {\n  type filter hook input priority 0; policy accept;\n  tcp dport ${port} drop\n }\n}\n`,
  });
}

serial('filtered (SYN dropped by an nft rule in a namespace): connect-timeout; the same listener answers once the rule is gone', async (t) => {
  const ns = await createNetns(t);
  const port = 8080;
  const request: ProbeRequest = { check: { kind: 'TCP_CHECK', connectIp: '127.0.0.1', connectPort: port, connectTimeoutMs: 800 }, listen: { host: '127.0.0.1', port } };
  dropRule(ns, port);
  const dropped = probeIn(ns, request);
  // Seen once under heavy load: the SYN got through. Say what the namespace's firewall held then.
  const ruleset = dropped.result.ok ? execFileSync('ip', ['netns', 'exec', ns.name, systemTool('nft'), 'list', 'ruleset'], { encoding: 'utf8' }) : '';
  t.like(dropped.result, { ok: false, reason: 'connect-timeout' }, `in ${ns.name}, nft ruleset:\n${ruleset}`);
  t.true(dropped.elapsedMs >= 795 && dropped.elapsedMs < 3000, `elapsed ${dropped.elapsedMs}`);
  t.is(dropped.fdsAfter, dropped.fdsBefore, 'the socket was closed');
  t.false(dropped.handlesAfter.includes('TCPSocketWrap'));
  t.false(dropped.handlesAfter.includes('Timeout'));
  execFileSync('ip', ['netns', 'exec', ns.name, systemTool('nft'), 'delete', 'table', 'inet', 'lvskit_test']);
  t.like(probeIn(ns, request).result, { ok: true });
});

serial('unreachable: no route (ENETUNREACH) and an unreachable route (EHOSTUNREACH) fail at once as unreachable', async (t) => {
  const ns = await createNetns(t);
  const noRoute = probeIn(ns, { check: { kind: 'TCP_CHECK', connectIp: '10.66.0.1', connectPort: 80, connectTimeoutMs: 2000 } });
  t.like(noRoute.result, { ok: false, reason: 'unreachable', code: 'ENETUNREACH' });
  t.true(noRoute.elapsedMs < 1000);
  await ns.ip('route', 'add', 'unreachable', '10.66.0.0/16');
  const unreachable = probeIn(ns, { check: { kind: 'TCP_CHECK', connectIp: '10.66.0.1', connectPort: 80, connectTimeoutMs: 2000 } });
  t.like(unreachable.result, { ok: false, reason: 'unreachable', code: 'EHOSTUNREACH', errno: 113 });
  t.is(unreachable.fdsAfter, unreachable.fdsBefore);
});
