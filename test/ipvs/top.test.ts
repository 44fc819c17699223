// layer: tests (IPVS tier)
// job: `lvskit top` against a real `lvskit run` with real traffic through an IPVS service (one namespace: a NAT service on a VIP, a real server answering and one refusing, a client): the frame shows VRRP, each real server's health and weight as `lvskit status --json` has them, and rates that agree with `ipvsadm -Ln --stats` counters.
import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import type { TopFrame } from '../../src/cli/top-view.js';
import type { BalancerStatus } from '../../src/daemon/events.js';
import { daemonFiles, logged, startDaemon } from '../helpers/daemon-procs.js';
import { ipvsNetns, type IpvsNs } from '../helpers/ipvs.js';
import { createNetns, createVethPair } from '../helpers/netns.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const CONF = `vrrp_instance VI_1 {
  state MASTER
  interface eth0
  virtual_router_id 61
  priority 150
  advert_int 1
  virtual_ipaddress {
    10.0.0.1/32 dev eth0
  }
}

virtual_server 10.0.0.1 80 {
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 10.0.1.1 8080 {
    weight 3
    inhibit_on_failure
    TCP_CHECK {
      connect_timeout 1
    }
  }
  real_server 10.0.1.2 8080 {
    weight 2
    inhibit_on_failure
    TCP_CHECK {
      connect_timeout 1
    }
  }
}
`;

/**
 * In the namespace: an echo server on 10.0.1.1:8080 (10.0.1.2 has none: its check is refused),
 * and a client opening a connection to the VIP every 100 ms that sends 1000 bytes and reads them
 * back (failures, before the VIP is up, are ignored). Prints `ok N` as connections complete.
 */
const SITE = `
const net = require('node:net');
net.createServer((s) => { s.on('data', (d) => s.write(d)); s.on('end', () => s.end()); s.on('error', () => {}); }).listen(8080, '10.0.1.1');
let ok = 0;
setInterval(() => {
  const c = net.connect(80, '10.0.0.1', () => c.end('x'.repeat(1000)));
  c.on('data', () => {}).on('error', () => {}).on('close', (failed) => { if (!failed) console.log('ok ' + ++ok); });
}, 100);`;

function startSite(t: ExecutionContext, x: IpvsNs): { completed(): number } {
  const child = spawn('ip', ['netns', 'exec', x.ns.name, process.execPath, '-e', SITE], { stdio: ['ignore', 'pipe', 'inherit'] });
  let last = 0;
  child.stdout.setEncoding('utf8').on('data', (d: string) => { const m = /ok (\d+)\s*$/.exec(d); if (m) last = Number(m[1]); });
  t.teardown(() => { child.kill('SIGKILL'); });
  return { completed: () => last };
}

interface Counters { conns: number; inPkts: number; outPkts: number; inBytes: number; outBytes: number }

/** `ipvsadm -Ln --stats --exact`: each real server's counters by `address:port`, and the service's. */
async function ipvsadmStats(x: IpvsNs): Promise<Map<string, Counters>> {
  const out = new Map<string, Counters>();
  for (const line of (await x.ipvsadm('-Ln', '--stats', '--exact')).split('\n')) {
    const m = /^(?:TCP|\s+->)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/.exec(line);
    if (m) out.set(m[1]!, { conns: Number(m[2]), inPkts: Number(m[3]), outPkts: Number(m[4]), inBytes: Number(m[5]), outBytes: Number(m[6]) });
  }
  return out;
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(200);
  }
}

/** A frame's real-server line cut into its columns: name, health, weight, active, inactive, the five rates, why. */
function realServerLine(frame: string, name: string): string[] | undefined {
  const line = frame.split('\n').find((l) => l.startsWith(`  -> ${name} `));
  if (!line) return undefined;
  const cells = line.trim().split(/\s+/);
  return [...cells.slice(1, 11), cells.slice(11).join(' ')];
}

test.serial('lvskit top: VRRP, each real server\'s health and weight as lvskit status has them, and connection rates that agree with ipvsadm\'s counters', async (t) => {
  const x = await ipvsNetns(t);
  t.timeout(240_000); // after ipvsNetns's own
  await createVethPair(x.ns, await createNetns(t), { deviceA: 'eth0', addressesA: ['10.99.0.1/24'], addressesB: ['10.99.0.2/24'] });
  for (const a of ['10.0.1.1/32', '10.0.1.2/32']) await x.ns.ip('addr', 'add', a, 'dev', 'lo');
  const site = startSite(t, x);
  const files = daemonFiles(t, { 'keepalived.conf': CONF });
  const daemon = startDaemon(t, x.ns, files);
  await daemon.waitFor(logged('vrrp', 'transition', (j) => j.to === 'MASTER'), 30_000);
  await until('10.0.1.1 UP and 10.0.1.2 DOWN', async () => {
    const rs = (await daemon.status()).services[0]?.realServers ?? [];
    return rs[0]?.up === true && rs[0].kernelWeight === 3 && rs[1]?.up === false;
  });
  await until('traffic through the VIP', async () => site.completed() >= 5);

  // Text frames, as an operator on a pipe sees them.
  const before = await ipvsadmStats(x);
  const startedMs = Date.now();
  const text = await daemon.cli('top', '--count', '2', '--interval', '1s');
  const tookMs = Date.now() - startedMs;
  const after = await ipvsadmStats(x);
  t.is(text.code, 0, text.stderr);
  const frames = text.stdout.trimEnd().split('\n\n');
  t.is(frames.length, 2, text.stdout);
  t.true(frames.every((f) => f.startsWith('lvskit top ') && / rates over (1\.[89]|2\.[01])s/.test(f.split('\n')[0]!)), text.stdout);
  const frame = frames[1]!;
  t.log(frame);
  t.regex(frame, /^ {2}VI_1 +MASTER +150 +61 +eth0 +\(this\) +10\.0\.0\.1/m);
  t.regex(frame, /^TCP 10\.0\.0\.1:80 rr /m);
  t.regex(frame, /^BANS - \(autoban off\)$/m);
  t.regex(frame, /^EVENTS$[\s\S]*VI_1: \S+ → MASTER/m, 'the transition is among the recent events');
  const status = JSON.parse((await daemon.cli('status', '--json')).stdout) as BalancerStatus;
  for (const r of status.services[0]!.realServers) {
    const cells = realServerLine(frame, `${r.address}:${r.port}`);
    t.truthy(cells, `${r.address}:${r.port} is in the frame:\n${frame}`);
    t.is(cells?.[1], r.up ? 'UP' : 'DOWN', `${r.address}: health as lvskit status`);
    t.is(cells?.[2], String(r.kernelWeight), `${r.address}: weight as lvskit status`);
  }
  const [, , , , , cps1] = realServerLine(frame, '10.0.1.1:8080') ?? [];
  const rs2 = realServerLine(frame, '10.0.1.2:8080') ?? [];
  t.true(Number(cps1) > 0, `10.0.1.1 has a connection rate: ${cps1}`);
  t.deepEqual(rs2.slice(5, 10), ['0', '0', '0', '0', '0'], 'no traffic to the DOWN one');
  t.regex(rs2[10] ?? '', /^TCP_CHECK: .*10\.0\.1\.2:8080/, 'why it is DOWN');
  // top's 2 s lie within ipvsadm's two readings: its connections over them cannot exceed theirs, and the client's steady 10/s shows.
  const seen = after.get('10.0.1.1:8080')!.conns - before.get('10.0.1.1:8080')!.conns;
  t.true(Number(cps1) * 2 <= seen + 1, `CPS ${cps1} over ~2 s; ipvsadm counted ${seen} in ${tookMs} ms`);
  t.true(Number(cps1) >= (seen / (tookMs / 1000)) / 3, `CPS ${cps1} against ipvsadm's average ${(seen / (tookMs / 1000)).toFixed(1)}/s`);
  t.is(after.get('10.0.1.2:8080')?.conns, 0, 'ipvsadm: nothing went to 10.0.1.2 either');

  // JSON: the counters themselves, between ipvsadm's readings, and rates that are their difference over the interval.
  const first = await ipvsadmStats(x);
  const json = await daemon.cli('top', '--json', '--interval', '1s');
  const last = await ipvsadmStats(x);
  t.is(json.code, 0, json.stderr);
  const lines = json.stdout.trimEnd().split('\n');
  t.is(lines.length, 1, '--json without --count: one frame');
  const f = JSON.parse(lines[0]!) as TopFrame;
  t.log(`JSON: ${f.ratesOverMs} ms, 10.0.1.1 ${JSON.stringify(f.services[0]?.realServers[0]?.rates)}; ipvsadm ${JSON.stringify(first.get('10.0.1.1:8080'))} → ${JSON.stringify(last.get('10.0.1.1:8080'))}`);
  t.true(f.ratesOverMs! >= 1800 && f.ratesOverMs! <= 2200, `rates over ${f.ratesOverMs} ms: the kernel's 2 s counter period`);
  t.like(f.instances[0], { name: 'VI_1', state: 'MASTER', priority: 150 });
  for (const r of f.services[0]!.realServers) {
    for (const k of ['conns', 'inPkts', 'outPkts', 'inBytes', 'outBytes'] as const) {
      t.true(first.get(r.name)![k] <= r.stats![k] && r.stats![k] <= last.get(r.name)![k], `${r.name} ${k}: ${first.get(r.name)![k]} ≤ ${r.stats![k]} ≤ ${last.get(r.name)![k]}`);
    }
  }
  const rs1 = f.services[0]!.realServers.find((r) => r.name === '10.0.1.1:8080')!;
  t.true(rs1.rates!.connsPerSec > 0 && rs1.rates!.inBytesPerSec > 1000 * rs1.rates!.connsPerSec, JSON.stringify(rs1.rates));
  t.true(rs1.rates!.connsPerSec * (f.ratesOverMs! / 1000) <= last.get('10.0.1.1:8080')!.conns - first.get('10.0.1.1:8080')!.conns + 1e-9);
  t.like(f.services[0]!.realServers.find((r) => r.name === '10.0.1.2:8080'), { health: 'DOWN', weight: 0, rates: { connsPerSec: 0 } });
});
