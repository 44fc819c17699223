// layer: tests (IPVS tier)
// job: reconcile through plan() + apply() against the real kernel: one weight among 1,000 services, stop at the first refusal, rollback.
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { apply, rollback } from '../../src/ipvs/apply.js';
import type { VirtualService } from '../../src/ipvs/model.js';
import { plan } from '../../src/ipvs/plan.js';
import { bothListings, ipvsNetns } from '../helpers/ipvs.js';
import { createNetns, createVethPair, type Netns } from '../helpers/netns.js';

/** 1,000 services: the first is the VIP with the one real server that answers (NAT), the others have 10 each (DR). */
function table(weightOfServer0: number): VirtualService[] {
  return Array.from({ length: 1000 }, (_, i) => (i === 0
    ? { protocol: 'tcp', address: '10.77.0.100', port: 80, scheduler: 'rr',
      destinations: [{ address: '10.78.0.2', port: 8080, forward: 'nat', weight: weightOfServer0 }] }
    : { protocol: 'tcp', address: `10.${100 + (i >> 8)}.${i & 255}.1`, port: 80, scheduler: 'rr',
      destinations: Array.from({ length: 10 }, (_, j) => ({ address: `172.16.${i & 255}.${10 + j + 20 * (i >> 8)}`, port: 80, forward: 'dr', weight: 10 })) }
  ) as VirtualService);
}

interface Py { child: ChildProcess; lines: AsyncIterator<string> }

/** A process in `ns` (python3, from the host's root) and its output lines; killed in teardown. */
function python(t: Parameters<typeof createNetns>[0], ns: Netns, code: string): Py {
  const child = spawn('ip', ['netns', 'exec', ns.name, 'python3', '-u', '-c', code], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.teardown(() => { child.kill('SIGKILL'); });
  if (!child.stdout) throw new Error('no stdout');
  return { child, lines: createInterface({ input: child.stdout })[Symbol.asyncIterator]() };
}

/** The next line `py` prints (rejects when it ends first). */
async function line(py: Py): Promise<string> {
  const next = await py.lines.next();
  if (next.done) throw new Error('python ended without printing');
  return next.value.trim();
}

/** Connection entries as `ipvsadm -Lnc` lists them, without the expiry column. */
async function connections(ipvsadm: (...a: string[]) => Promise<string>): Promise<string[]> {
  return (await ipvsadm('-Lnc')).split('\n').filter((l) => l.startsWith('TCP')).map((l) => l.split(/\s+/).filter((_, i) => i !== 1).join(' ')).sort();
}

test('a reconcile that changes one weight among 1,000 services is exactly one edit, and live connections keep their entries', async (t) => {
  const lb = await ipvsNetns(t);
  const client = await createNetns(t);
  const server = await createNetns(t);
  await createVethPair(lb.ns, client, { deviceA: 'front', addressesA: ['10.77.0.1/24', '10.77.0.100/32'], addressesB: ['10.77.0.2/24'] });
  await createVethPair(lb.ns, server, { deviceA: 'back', addressesA: ['10.78.0.1/24'], addressesB: ['10.78.0.2/24'] });
  await lb.ns.exec(['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  await server.ip('route', 'add', 'default', 'via', '10.78.0.1');

  const progress: [number, number][] = [];
  const first = await apply(lb.ipvs, plan(await lb.ipvs.dumpTable({ stats: false }), table(10)), { onProgress: (sent, total) => progress.push([sent, total]) });
  t.true(first.ok);
  t.is(first.applied.length, 1000 + 999 * 10 + 1);
  // Progress (for `lvskit ipvs apply`'s bar): every 256 operations written, then all of them.
  t.deepEqual(progress.at(-1), [first.applied.length, first.applied.length]);
  t.true(progress.length >= Math.floor(first.applied.length / 256));
  t.deepEqual(progress.map(([sent]) => sent), [...progress.map(([sent]) => sent)].sort((a, b) => a - b));

  // A real server that echoes, and a client holding three connections through the NAT service.
  const echo = python(t, server, `
import socket, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', 8080)); s.listen(16); print('listening')
def serve(c):
    while True:
        d = c.recv(100)
        if not d: break
        c.sendall(d)
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()`);
  t.is(await line(echo), 'listening');
  const user = python(t, client, `
import socket, sys
conns = [socket.create_connection(('10.77.0.100', 80), timeout=20) for _ in range(3)]
print('connected')
for l in sys.stdin:
    for c in conns: c.sendall(l.strip().encode())
    print(' '.join(c.recv(100).decode() for c in conns))`);
  t.is(await line(user), 'connected');
  user.child.stdin?.write('ping\n');
  t.is(await line(user), 'ping ping ping');
  const before = await connections(lb.ipvsadm);
  t.is(before.length, 3);
  t.true(before.every((c) => c.includes('ESTABLISHED') && c.includes('10.77.0.100:80') && c.includes('10.78.0.2:8080')), before.join('\n'));

  const ops = plan(await lb.ipvs.dumpTable({ stats: false }), table(5));
  t.deepEqual(ops.map((o) => o.kind), ['edit-destination']);
  t.like(ops[0], { destination: { address: '10.78.0.2', port: 8080, weight: 5 }, previous: { weight: 10 } });
  const result = await apply(lb.ipvs, ops);
  t.true(result.ok);

  t.regex(await lb.ipvsadm('-Ln', '-t', '10.77.0.100:80'), /^  -> 10\.78\.0\.2:8080 +Masq +5 +3 /m);
  t.deepEqual(await connections(lb.ipvsadm), before, 'the same entries, same client ports, same state');
  user.child.stdin?.write('pong\n');
  t.is(await line(user), 'pong pong pong', 'the connections still carry data');
  t.deepEqual(plan(await lb.ipvs.dumpTable({ stats: false }), table(5)), [], 'nothing left to do');
  user.child.stdin?.end();
});

test('apply stops at the first refusal: what follows is not applied (undone if it rode along); rollback undoes the rest', async (t) => {
  const x = await ipvsNetns(t);
  // Someone else added 10.0.0.3:80 behind our back: our add of it will be refused with EEXIST.
  await x.ipvsadm('-A', '-t', '10.0.0.3:80', '-s', 'rr');
  const initial = await x.ipvsadm('-Ln');
  const desired: VirtualService[] = [1, 2, 3, 4].map((n) => ({
    protocol: 'tcp', address: `10.0.0.${n}`, port: 80, scheduler: 'wlc',
    destinations: [{ address: `10.0.1.${n}`, port: 80, forward: 'dr', weight: n }],
  }));
  const ops = plan([], desired); // planned from a stale view: it thinks the table is empty
  const result = await apply(x.ipvs, ops);
  t.false(result.ok);
  t.is(result.failed?.index, 4);
  t.like(result.failed?.error, { code: 'EEXIST', syscall: 'IPVS_CMD_NEW_SERVICE', target: 'TCP 10.0.0.3:80' });
  // The three operations after the failure rode in its datagram and were carried out (the real
  // server went onto the other party's service); apply undid them.
  t.deepEqual(result.results.map((r) => r.status), ['applied', 'applied', 'applied', 'applied', 'failed', 'reverted', 'reverted', 'reverted']);
  t.deepEqual(result.revertFailures, []);
  const { ipvsadm, ours } = await bothListings(x);
  t.is(ours, ipvsadm);
  t.regex(ipvsadm, /^TCP  10\.0\.0\.1:80 wlc$/m);
  t.regex(ipvsadm, /^TCP  10\.0\.0\.3:80 rr$/m, 'the other party\'s service is as it was');
  t.notRegex(ipvsadm, /10\.0\.0\.4:80/, 'nothing after the failure stays applied');
  t.notRegex(ipvsadm, /10\.0\.1\.3:80/, 'not even the real server that went onto their service');
  t.is(result.applied.length, 4);

  const undo = await rollback(x.ipvs, result);
  t.true(undo.ok);
  t.deepEqual(undo.results.map((r) => r.op.kind), ['delete-destination', 'delete-service', 'delete-destination', 'delete-service']);
  t.is(await x.ipvsadm('-Ln'), initial, 'back to the table before apply');
});
