// layer: tests (kernel tier, root)
// job: `lvskit run` with static_ipaddress/static_routes/static_rules and virtual_routes/virtual_rules on two balancers: what
//      `ip route show table …`, `ip rule` and `ip addr` see at start, on MASTER, on leaving MASTER, after a reload (and a dry run
//      of one: printed, nothing changed) and after a stop.
import test from 'ava';
import { daemonFiles, logged, startDaemon, type Daemon } from '../helpers/daemon-procs.js';
import { kernelTierUnavailable, type Netns } from '../helpers/netns.js';
import { createVrrpLab } from '../helpers/vrrp-lab.js';

const unavailable = kernelTierUnavailable();
if (unavailable) console.warn(`SKIPPING kernel tier (routes): ${unavailable}`);
const ktest = unavailable && process.env.CI !== 'true' ? test.serial.skip : test.serial;

function conf(o: { net4: string; priority: number; staticMetric?: number; virtualMetric?: number; unreachable?: boolean }): string {
  return `global_defs {
  router_id lb
}
static_ipaddress {
  192.168.77.1/24 dev eth1 label eth1:7
}
static_routes {
  10.200.0.0/16 via ${o.net4}.254 dev eth0 table 100 metric ${o.staticMetric ?? 5}
  blackhole 10.201.0.0/16 table 100
${o.unreachable ? '  10.202.0.0/16 via 192.0.2.1 table 100\n' : ''}}
static_rules {
  from 192.168.77.0/24 table 100 preference 1000
}
vrrp_instance VI_1 {
  state ${o.priority > 100 ? 'MASTER' : 'BACKUP'}
  interface eth0
  virtual_router_id 61
  priority ${o.priority}
  advert_int 1
  virtual_ipaddress {
    ${o.net4}.100/32 dev eth0
  }
  virtual_routes {
    src ${o.net4}.100 10.210.0.0/16 via ${o.net4}.254 dev eth0 table 200${o.virtualMetric !== undefined ? ` metric ${o.virtualMetric}` : ''}
    10.211.0.0/16 table 200 nexthop via ${o.net4}.253 dev eth0 weight 1 nexthop via ${o.net4}.254 dev eth0 weight 3
  }
  virtual_rules {
    to 10.210.0.0/16 table 200 preference 2000
    fwmark 7 table 200 preference 2001
  }
}
`;
}

const text = async (ns: Netns, ...args: string[]): Promise<string> => (await ns.ip(...args)).trim();
/** `ip route show table N`; '' for a table the kernel has not made yet (no route was ever added to it). */
const routes = async (ns: Netns, table: number): Promise<string> =>
  text(ns, 'route', 'show', 'table', String(table)).catch((error: Error) => (/table does not exist/.test(error.message) ? '' : Promise.reject(error)));
const rules = async (ns: Netns): Promise<string> => text(ns, 'rule', 'show');

/** Poll `read` until `ok` (the driver's queue applies routes just after the transition is logged). */
async function eventually(t: { log(...v: unknown[]): void }, read: () => Promise<string>, ok: (s: string) => boolean, timeoutMs = 5000): Promise<string> {
  const until = performance.now() + timeoutMs;
  let last = await read();
  while (!ok(last) && performance.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    last = await read();
  }
  if (!ok(last)) t.log(last);
  return last;
}

const STATIC_ROUTES = (net4: string, metric = 5) =>
  `10.200.0.0/16 via ${net4}.254 dev eth0 proto keepalived metric ${metric} \nblackhole 10.201.0.0/16 proto keepalived`;
const VIRTUAL_ROUTES = (net4: string) =>
  `10.210.0.0/16 via ${net4}.254 dev eth0 proto keepalived src ${net4}.100 \n10.211.0.0/16 proto keepalived \n` +
  `\tnexthop via ${net4}.253 dev eth0 weight 1 \n\tnexthop via ${net4}.254 dev eth0 weight 3`;
const STATIC_RULE = '1000:\tfrom 192.168.77.0/24 lookup 100 proto keepalived';
const VIRTUAL_RULES = '2000:\tfrom all to 10.210.0.0/16 lookup 200 proto keepalived\n2001:\tfrom all fwmark 0x7 lookup 200 proto keepalived';

const hasVirtual = (r: string): boolean => r.includes('2000:') && r.includes('2001:');

ktest('static routes, rules and addresses at start, reload and stop; virtual routes and rules with MASTER only', async (t) => {
  const lab = await createVrrpLab(t, 2);
  const [b1, b2] = [lab.balancers[0]!, lab.balancers[1]!];
  const net4 = lab.net4;
  const f1 = daemonFiles(t, { 'keepalived.conf': conf({ net4, priority: 150, unreachable: true }) });
  const f2 = daemonFiles(t, { 'keepalived.conf': conf({ net4, priority: 100 }) });

  // lb1 alone: MASTER, with the static set and the virtual one.
  const lb1: Daemon = startDaemon(t, b1.ns, f1);
  await lb1.waitFor(logged('vrrp', 'transition', (j) => j.to === 'MASTER'), 10_000);
  t.is(await eventually(t, () => routes(b1.ns, 200), (s) => s.includes('nexthop')), VIRTUAL_ROUTES(net4));
  t.is(await routes(b1.ns, 100), STATIC_ROUTES(net4));
  const r1 = await eventually(t, () => rules(b1.ns), hasVirtual);
  t.true(r1.includes(STATIC_RULE), r1);
  t.true(r1.includes(VIRTUAL_RULES), r1);
  t.regex(await text(b1.ns, 'addr', 'show', 'dev', 'eth1'), /inet 192\.168\.77\.1\/24 .*eth1:7/);
  // A route the kernel refuses (its gateway is unreachable) is an error event; the daemon goes on.
  const refused = await lb1.waitFor(logged('vrrp', 'net', (j) => j.op === 'add' && String(j.what).startsWith('10.202.0.0/16') && j.error !== undefined), 5000, true);
  t.regex(refused.text, /static: add route 10\.202\.0\.0\/16 via 192\.0\.2\.1 table 100 failed: /);
  t.is((await lb1.status()).instances[0]?.state, 'MASTER');

  // `reload --dry-run` with a static route, the static address, a static rule and a virtual route changed: each change
  // printed, nothing changed in the kernel.
  const kernel = async (): Promise<string[]> => Promise.all([routes(b1.ns, 100), routes(b1.ns, 200), rules(b1.ns), text(b1.ns, 'addr', 'show')]);
  const beforeDry = await kernel();
  f1.write('keepalived.conf', conf({ net4, priority: 150, unreachable: true, staticMetric: 9, virtualMetric: 7 }).replace('192.168.77.1/24', '192.168.77.2/24')
    .replace('preference 1000', 'preference 1001'));
  const dry = await lb1.cli('reload', '--dry-run');
  t.is(dry.code, 0, dry.stderr);
  t.regex(dry.stdout, /addresses\/routes\/rules 4 removed, 4 added/);
  const planned = dry.stdout.split('\n').filter((l) => /^  (static|VI_1): /.test(l));
  t.deepEqual(planned, [
    '  static: remove rule from 192.168.77.0/24 lookup 100 pref 1000',
    `  static: remove route 10.200.0.0/16 via ${net4}.254 dev eth0 table 100 metric 5`,
    '  static: remove address 192.168.77.1/24 dev eth1 label eth1:7',
    '  static: add address 192.168.77.2/24 dev eth1 label eth1:7',
    `  static: add route 10.200.0.0/16 via ${net4}.254 dev eth0 table 100 metric 9`,
    '  static: add rule from 192.168.77.0/24 lookup 100 pref 1001',
    `  VI_1: remove route 10.210.0.0/16 via ${net4}.254 dev eth0 table 200 src ${net4}.100`,
    `  VI_1: add route 10.210.0.0/16 via ${net4}.254 dev eth0 table 200 metric 7 src ${net4}.100`,
  ]);
  t.notRegex(dry.stdout, /not MASTER/, 'VI_1 is MASTER: its virtual routes change now');
  const dryJson = JSON.parse((await lb1.cli('reload', '--dry-run', '--json')).stdout) as { dryRun: boolean; net: Array<{ owner: string; op: string; kind: string }> };
  t.true(dryJson.dryRun);
  t.deepEqual(dryJson.net.map((c) => `${c.owner} ${c.op} ${c.kind}`), ['static remove rule', 'static remove route', 'static remove address', 'static add address',
    'static add route', 'static add rule', 'VI_1 remove route', 'VI_1 add route']);
  await new Promise((r) => setTimeout(r, 300));
  t.deepEqual(await kernel(), beforeDry, 'a dry run changes no route, rule or address');

  // A MASTER's reload that changes a virtual route: the old one removed, the new one added, the rest kept.
  f1.write('keepalived.conf', conf({ net4, priority: 150, unreachable: true, virtualMetric: 7 }));
  t.is((await lb1.cli('reload')).code, 0);
  t.regex(await eventually(t, () => routes(b1.ns, 200), (s) => s.includes('metric 7')), new RegExp(`^10\\.210\\.0\\.0/16 via ${net4.replace(/\./g, '\\.')}\\.254 dev eth0 proto keepalived src ${net4.replace(/\./g, '\\.')}\\.100 metric 7 \n10\\.211`));
  f1.write('keepalived.conf', conf({ net4, priority: 150 }));
  t.is((await lb1.cli('reload')).code, 0);
  t.is(await eventually(t, () => routes(b1.ns, 200), (s) => !s.includes('metric 7')), VIRTUAL_ROUTES(net4));

  // lb2 as BACKUP: the static set only.
  const lb2 = startDaemon(t, b2.ns, f2);
  await lb2.waitFor(logged('vrrp', 'transition', (j) => j.to === 'BACKUP'), 10_000);
  await eventually(t, () => routes(b2.ns, 100), (s) => s !== '');
  t.is(await routes(b2.ns, 100), STATIC_ROUTES(net4));
  t.is(await routes(b2.ns, 200), '');
  t.false(hasVirtual(await rules(b2.ns)));
  t.true((await rules(b2.ns)).includes(STATIC_RULE));

  // A reload of lb2 that changes one static route: the old one goes, the new one comes, the rest stays.
  f2.write('keepalived.conf', conf({ net4, priority: 100, staticMetric: 9 }));
  const reloaded = await lb2.cli('reload');
  t.is(reloaded.code, 0, reloaded.stderr);
  t.is(await eventually(t, () => routes(b2.ns, 100), (s) => s.includes('metric 9')), STATIC_ROUTES(net4, 9));

  // lb1 stops gracefully: its routes, rules and static address are removed; lb2 takes over with the virtual set.
  lb1.child.kill('SIGTERM');
  await lb1.exited;
  t.is(lb1.child.exitCode, 0);
  t.is(await routes(b1.ns, 100), '');
  t.is(await routes(b1.ns, 200), '');
  t.false((await rules(b1.ns)).includes('proto keepalived'), await rules(b1.ns));
  t.notRegex(await text(b1.ns, 'addr', 'show', 'dev', 'eth1'), /192\.168\.77\.1/);
  await lb2.waitFor(logged('vrrp', 'transition', (j) => j.to === 'MASTER'), 10_000);
  t.is(await eventually(t, () => routes(b2.ns, 200), (s) => s.includes('nexthop')), VIRTUAL_ROUTES(net4));
  t.true((await eventually(t, () => rules(b2.ns), hasVirtual)).includes(VIRTUAL_RULES));

  // lb1 comes back at the higher priority and preempts: lb2 leaves MASTER and its virtual routes and rules go.
  const lb1again = startDaemon(t, b1.ns, f1, [], 'lvskit-run-again');
  await lb2.waitFor(logged('vrrp', 'transition', (j) => j.from === 'MASTER' && j.to === 'BACKUP'), 15_000);
  t.is(await eventually(t, () => routes(b2.ns, 200), (s) => s === ''), '');
  t.false(hasVirtual(await rules(b2.ns)));
  t.is(await routes(b2.ns, 100), STATIC_ROUTES(net4, 9), 'the static set stays through state changes');
  await eventually(t, () => routes(b1.ns, 200), (s) => s.includes('nexthop'));
  t.is(await routes(b1.ns, 200), VIRTUAL_ROUTES(net4));
  lb1again.child.kill('SIGTERM');
  lb2.child.kill('SIGTERM');
  await Promise.all([lb1again.exited, lb2.exited]);
});
