// layer: tests (kernel tier)
// job: SMTP_CHECK, UDP_CHECK, DNS_CHECK and PING_CHECK in HealthChecks against real servers in network namespaces: each one UP, then DOWN with its reason (5xx, closed, filtered ICMP v4/v6, ICMP port unreachable, silence, RCODE), then UP again; no route fails at once.
import dgram from 'node:dgram';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { decodeDnsMessage, encodeDnsMessage } from '../../src/check/dns-message.js';
import { checkOnce } from '../../src/check/probe.js';
import { MemorySink } from '../../src/check/sink.js';
import { validateCheck } from '../../src/check/validate.js';
import type { CheckSpec } from '../../src/check/types.js';
import { enterNetns } from '../../src/native/socket.js';
import { systemTool } from '../../src/system-tools.js';
import { recordedHealthChecks, type Recorded } from '../helpers/check-runner.js';
import { createNetns, createVethPair, kernelTierUnavailable, type Netns } from '../helpers/netns.js';

const skip = kernelTierUnavailable();
const serial = skip ? test.skip : test.serial;

/** This process (its main thread) works in `lb`; `peer` is the far end of a veth: A = 10.77.1.1, B = 10.77.1.2. */
const A4 = '10.77.1.1';
const B4 = '10.77.1.2';
const A6 = 'fd77:1::1';
const B6 = 'fd77:1::2';
let peer: Netns;

/** Hooks may not register teardowns: the namespaces' removal is collected here and run after every test, failed or not. */
const cleanups: (() => unknown)[] = [];
const hookContext = { teardown: (f: () => unknown) => cleanups.push(f), log: (...args: unknown[]) => console.error(...args) } as unknown as ExecutionContext;

test.after.always(async () => {
  for (const f of cleanups.reverse()) await f();
});

test.before(async () => {
  if (skip) return;
  const lb = await createNetns(hookContext, 'che');
  peer = await createNetns(hookContext, 'che');
  await createVethPair(lb, peer, { deviceA: 'che0', deviceB: 'che1', addressesA: [`${A4}/24`, `${A6}/64`], addressesB: [`${B4}/24`, `${B6}/64`] });
  enterNetns(lb.path);
});

interface Watch {
  r: Recorded<string>;
  sink: MemorySink<string>;
  /** The next UP or DOWN of the real server after `after` (performance.now). */
  next(type: 'up' | 'down', after?: number, withinMs?: number): Promise<{ at: number; failure?: import('../../src/check/types.js').CheckFailure }>;
}

/** One real server at address:port with `checker`, fast timing, inhibit_on_failure (weight 0 when DOWN). */
async function watch(t: ExecutionContext, address: string, port: number, checker: CheckSpec): Promise<Watch> {
  const sink = new MemorySink<string>((s) => s);
  const r = recordedHealthChecks(t, { sink, jitterRatio: 0 });
  await r.hc.add({
    id: 'vs', service: 'vs', port, realServers: [{
      address, weight: 10, inhibitOnFailure: true,
      checkers: [{ delayLoopMs: 300, retry: 0, delayBeforeRetryMs: 100, warmupMs: 0, connectTimeoutMs: 600, ...checker } as CheckSpec],
    }],
  });
  const next: Watch['next'] = async (type, after = 0, withinMs = 8000) => {
    const e = await r.waitFor((x) => x.type === 'real-server' && x.event.type === type && x.at > after, withinMs, type.toUpperCase());
    const ev = e.type === 'real-server' ? e.event : undefined;
    return { at: e.at, ...(ev?.type === 'down' && ev.failure ? { failure: ev.failure } : {}) };
  };
  return { r, sink, next };
}

/** Resolves once an attempt succeeded (the checker starts UP, so a success is its proof). */
async function firstSuccess(w: Watch): Promise<number> {
  const e = await w.r.waitFor((x) => x.type === 'attempt' && x.report.result.ok, 8000, 'a successful attempt');
  return e.at;
}

function weight(w: Watch): number | undefined {
  return Object.values(w.sink.weights('vs'))[0];
}

/** A tiny SMTP server: `mode` decides the greeting; it logs the commands it receives. */
function smtpServer(t: ExecutionContext, host: string): Promise<{ port: number; mode: { greeting: 'ok' | '5xx' }; commands: string[]; close(): Promise<void> }> {
  const commands: string[] = [];
  const mode = { greeting: 'ok' as 'ok' | '5xx' };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    if (mode.greeting === '5xx') {
      s.end('554-mx.test no service\r\n554 go away\r\n');
      return;
    }
    s.write('220-mx.test ESMTP\r\n220 ready\r\n');
    let text = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      text += d;
      for (let nl = text.indexOf('\r\n'); nl >= 0; nl = text.indexOf('\r\n')) {
        const line = text.slice(0, nl);
        text = text.slice(nl + 2);
        commands.push(line);
        if (line.startsWith('HELO ')) s.write(`250 mx.test hello ${line.slice(5)}\r\n`);
        else if (line === 'QUIT') s.end('221 bye\r\n');
        else s.write('500 what\r\n');
      }
    });
  });
  const close = async (): Promise<void> => {
    for (const s of sockets) s.destroy();
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  t.teardown(close);
  return new Promise((resolve) => server.listen(0, host, () => resolve({ port: (server.address() as net.AddressInfo).port, mode, commands, close })));
}

async function udpSocket(t: ExecutionContext, host: string, onMessage?: (msg: Buffer, reply: (b: Buffer) => void) => void): Promise<{ port: number; received: Buffer[]; close(): void }> {
  const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const received: Buffer[] = [];
  socket.on('message', (msg, rinfo) => {
    received.push(Buffer.from(msg));
    onMessage?.(msg, (b) => socket.send(b, rinfo.port, rinfo.address));
  });
  let open = true;
  const close = (): void => { if (open) { open = false; socket.close(); } };
  t.teardown(close);
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  return { port: socket.address().port, received, close };
}

function nft(ns: Netns, rules: string): void {
  execFileSync('ip', ['netns', 'exec', ns.name, systemTool('nft'), '-f', '-'], { input: rules });
}

serial('SMTP_CHECK: a server answering 220/250 is UP (HELO helo_name, QUIT), a 5xx greeting DOWN (smtp-reply), closed DOWN (refused), back UP', async (t) => {
  t.timeout(60_000);
  const smtp = await smtpServer(t, A4);
  const w = await watch(t, A4, smtp.port, { kind: 'SMTP_CHECK', heloName: 'lvskit.test' });
  await firstSuccess(w);
  t.is(weight(w), 10);
  t.deepEqual(smtp.commands.slice(0, 2), ['HELO lvskit.test', 'QUIT']);
  smtp.mode.greeting = '5xx';
  const down = await w.next('down');
  t.like(down.failure, { reason: 'smtp-reply', replyCode: 554 });
  t.is(down.failure?.message, `SMTP ${A4}:${smtp.port}: greeting answered 554 mx.test no service …, expected 220`);
  await w.r.hc.settled();
  t.is(weight(w), 0);
  smtp.mode.greeting = 'ok';
  const up = await w.next('up', down.at);
  await smtp.close();
  const closed = await w.next('down', up.at);
  t.like(closed.failure, { reason: 'refused', code: 'ECONNREFUSED' });
});

for (const [family, target, proto] of [['IPv4', B4, 'icmp type echo-request'], ['IPv6', B6, 'icmpv6 type echo-request']] as const) {
  serial(`PING_CHECK ${family}: echo answered is UP; echo requests dropped by nft in the target's namespace is DOWN (no-reply); the rule removed, UP`, async (t) => {
    t.timeout(60_000);
    const w = await watch(t, target, 0, { kind: 'PING_CHECK' });
    const ok = await w.r.waitFor((x) => x.type === 'attempt' && x.report.result.ok, 8000, 'an echo reply');
    t.true(ok.type === 'attempt' && ok.report.result.ok && typeof ok.report.result.rttMs === 'number');
    nft(peer, `table inet che_ping {\n chain input {\n  type filter hook input priority 0; policy accept;\n  ${proto} drop\n }\n}\n`);
    t.teardown(() => { try { execFileSync('ip', ['netns', 'exec', peer.name, systemTool('nft'), 'delete', 'table', 'inet', 'che_ping'], { stdio: 'ignore' }); } catch { /* gone */ } });
    const down = await w.next('down');
    t.like(down.failure, { reason: 'no-reply', message: `ping ${target}: no echo reply within 600 ms` });
    await w.r.hc.settled();
    t.is(weight(w), 0);
    execFileSync('ip', ['netns', 'exec', peer.name, systemTool('nft'), 'delete', 'table', 'inet', 'che_ping']);
    await w.next('up', down.at);
    await w.r.hc.settled();
    t.is(weight(w), 10);
  });
}

serial('UDP_CHECK: an echo with require_reply is UP, a mismatching reply DOWN (reply-mismatch); a silent port is UP without require_reply, DOWN with it (no-reply)', async (t) => {
  t.timeout(60_000);
  let answer: ((m: Buffer) => Buffer) | undefined = (m) => m;
  const echo = await udpSocket(t, A4, (m, reply) => { if (answer) reply(answer(m)); });
  const w = await watch(t, A4, echo.port, { kind: 'UDP_CHECK', payloadHex: '68656c6c6f', requireReply: true, replyHex: '68656c6cxx' });
  await firstSuccess(w);
  t.is(echo.received[0]?.toString(), 'hello', 'the payload as configured');
  answer = () => Buffer.from('nope!');
  const bad = await w.next('down');
  t.like(bad.failure, { reason: 'reply-mismatch' });
  answer = undefined;
  const silentRequired = await watch(t, A4, echo.port, { kind: 'UDP_CHECK', requireReply: true });
  t.like((await silentRequired.next('down')).failure, { reason: 'no-reply', message: `UDP ${A4}:${echo.port}: no reply within 600 ms` });
  const silent = await watch(t, A4, echo.port, { kind: 'UDP_CHECK' });
  const firstOk = await firstSuccess(silent);
  t.true(silent.r.events.every((e) => !(e.type === 'real-server' && e.event.type === 'down')), 'silence is success without require_reply');
  t.true(echo.received.some((b) => b.length === 16 && b.toString() !== 'hello'), 'a random 16-byte payload without payload');
  t.true(firstOk > 0);
});

serial('UDP_CHECK: a closed port answers ICMP port unreachable: DOWN (port-unreachable) at once, on the peer (IPv4) and locally (IPv6); a listener brings it UP', async (t) => {
  t.timeout(60_000);
  const w = await watch(t, B4, 9999, { kind: 'UDP_CHECK', connectTimeoutMs: 3000 });
  const down = await w.next('down');
  t.like(down.failure, { reason: 'port-unreachable', code: 'ECONNREFUSED', message: `UDP ${B4}:9999: ICMP port unreachable (ECONNREFUSED)` });
  const attempt = w.r.events.find((e) => e.type === 'attempt' && !e.report.result.ok);
  t.true(attempt?.type === 'attempt' && attempt.report.endedAt - attempt.report.startedAt < 2500, 'the ICMP error ends the attempt before connect_timeout');
  const closedPort = await udpSocket(t, A6);
  closedPort.close();
  const w6 = await watch(t, A6, closedPort.port, { kind: 'UDP_CHECK' });
  t.like((await w6.next('down')).failure, { reason: 'port-unreachable' });
  const listener = await udpSocket(t, A6);
  const w6b = await watch(t, A6, listener.port, { kind: 'UDP_CHECK' });
  await firstSuccess(w6b);
  t.true(listener.received.length >= 1);
});

serial('DNS_CHECK: NOERROR is UP; NXDOMAIN DOWN (dns-rcode); a server that stops answering DOWN (no-reply); answers of another id are ignored', async (t) => {
  t.timeout(60_000);
  let rcode: number | 'silent' | 'wrong-id' = 0;
  const queries: string[] = [];
  const server = await udpSocket(t, A4, (m, reply) => {
    const q = decodeDnsMessage(m);
    queries.push(`${q.questions[0]?.name} ${q.questions[0]?.type} rd=${q.recursionDesired}`);
    if (rcode === 'silent') return;
    const id = rcode === 'wrong-id' ? (q.id + 1) & 0xffff : q.id;
    reply(encodeDnsMessage({ id, response: true, opcode: 0, recursionDesired: true, rcode: rcode === 'wrong-id' ? 0 : rcode, questions: q.questions, answers: [] }));
  });
  const w = await watch(t, A4, server.port, { kind: 'DNS_CHECK', type: 'A', name: 'www.example.test' });
  await firstSuccess(w);
  t.is(queries[0], 'www.example.test. 1 rd=true');
  rcode = 3;
  const nx = await w.next('down');
  t.like(nx.failure, { reason: 'dns-rcode', replyCode: 3, message: `DNS ${A4}:${server.port} A www.example.test: NXDOMAIN` });
  rcode = 0;
  const up = await w.next('up', nx.at);
  rcode = 'wrong-id';
  const wrongId = await w.next('down', up.at);
  t.like(wrongId.failure, { reason: 'no-reply' }, 'an answer of another id is not the answer');
  rcode = 0;
  const up2 = await w.next('up', wrongId.at);
  rcode = 'silent';
  t.like((await w.next('down', up2.at)).failure, { reason: 'no-reply', message: `DNS ${A4}:${server.port} A www.example.test: no answer within 600 ms` });
});

serial('no route (ENETUNREACH) and an unreachable route (EHOSTUNREACH): UDP, DNS and PING fail at once as unreachable, no descriptor left', async (t) => {
  const fds = (): number => fs.readdirSync('/proc/self/fd').length;
  const before = fds();
  const specs: CheckSpec[] = [
    { kind: 'UDP_CHECK', connectIp: '10.66.0.1', connectPort: 53, connectTimeoutMs: 2000 },
    { kind: 'DNS_CHECK', connectIp: 'fd66::1', connectPort: 53, connectTimeoutMs: 2000 },
    { kind: 'PING_CHECK', connectIp: '10.66.0.1', connectTimeoutMs: 2000 },
    { kind: 'PING_CHECK', connectIp: 'fd66::1', connectTimeoutMs: 2000 },
  ];
  for (const spec of specs) {
    const started = performance.now();
    t.like(await checkOnce(validateCheck(spec).config), { ok: false, reason: 'unreachable', code: 'ENETUNREACH', errno: 101 }, spec.kind);
    t.true(performance.now() - started < 1500, `${spec.kind}: no waiting for connect_timeout`);
  }
  execFileSync('ip', ['route', 'add', 'unreachable', '10.66.0.0/16']);
  t.teardown(() => { try { execFileSync('ip', ['route', 'del', 'unreachable', '10.66.0.0/16'], { stdio: 'ignore' }); } catch { /* gone with the namespace */ } });
  t.like(await checkOnce(validateCheck(specs[0]!).config), { ok: false, reason: 'unreachable', code: 'EHOSTUNREACH' });
  t.like(await checkOnce(validateCheck(specs[2]!).config), { ok: false, reason: 'unreachable', code: 'EHOSTUNREACH' });
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.is(fds(), before, 'every socket closed');
});
