// layer: tests (unit)
// job: the real-server planner: the ARP sysctls (the kernel's max of all and the interface), each VIP on lo as a /32 labelled lo:N, a second run with nothing to do, removal, conflicts, refusals.
import test from 'ava';
import {
  describeChange, describeMissing, parseVip, planRealServer, planRealServerRemoval, sysctlsToRead, trafficInterfaces,
  type RealServerAddress, type RealServerCurrent,
} from '../../src/realserver/plan.js';

const LINKS = [{ name: 'lo', adminUp: true }, { name: 'eth0', adminUp: true }, { name: 'eth1', adminUp: false }];
const LOOPBACK: RealServerAddress[] = [{ link: 'lo', family: 4, address: '127.0.0.1', prefixLength: 8, label: 'lo' }, { link: 'lo', family: 6, address: '::1', prefixLength: 128 }];

/** Every ARP sysctl of all and eth0 at `value` (as a fresh host has them: 0). */
function sysctls(value: number | undefined, interfaces = ['eth0']): Record<string, number | undefined> {
  return Object.fromEntries(sysctlsToRead(interfaces).map((n) => [n, value]));
}

function host(o: Partial<RealServerCurrent> = {}): RealServerCurrent {
  return { links: LINKS, addresses: LOOPBACK, sysctls: sysctls(0), ...o };
}

/** What `current` is after `changes` (the applier's effect, for a second plan). */
function after(current: RealServerCurrent, plan: ReturnType<typeof planRealServer>): RealServerCurrent {
  let addresses = [...current.addresses];
  const s = { ...current.sysctls };
  for (const c of plan.changes) {
    if (c.kind === 'set-sysctl') s[c.name] = c.to;
    else if (c.kind === 'add-address') addresses.push({ link: 'lo', family: c.family, address: c.address, prefixLength: c.prefixLength, ...(c.label ? { label: c.label } : {}) });
    else addresses = addresses.filter((a) => !(a.link === 'lo' && a.address === c.address && a.prefixLength === c.prefixLength));
  }
  return { ...current, addresses, sysctls: s };
}

test('a fresh host: the sysctls of all and of each up interface first, then the VIPs on lo as /32 lo:1, lo:2 and /128; a second plan is empty', (t) => {
  const current = host();
  const plan = planRealServer(current, { vips: ['123.30.175.34', '123.30.175.35/32', '2001:db8:0::34'] });
  t.deepEqual(plan.interfaces, ['eth0'], 'lo and the down eth1 are not traffic interfaces');
  t.deepEqual(plan.changes.map(describeChange), [
    '~ net.ipv4.conf.all.arp_ignore 0 → 1',
    '~ net.ipv4.conf.all.arp_announce 0 → 2',
    '~ net.ipv4.conf.eth0.arp_ignore 0 → 1',
    '~ net.ipv4.conf.eth0.arp_announce 0 → 2',
    '+ 123.30.175.34/32 dev lo label lo:1',
    '+ 123.30.175.35/32 dev lo label lo:2',
    '+ 2001:db8::34/128 dev lo',
  ]);
  t.deepEqual(plan.conflicts, []);
  t.deepEqual(planRealServer(after(current, plan), { vips: ['123.30.175.34', '123.30.175.35', '2001:db8::34'] }).changes, [], 'applied twice: nothing to do');
});

test('the kernel takes the larger of all and the interface: each value is judged on its own; arp_ignore 2 is kept, 3 and 8 are not', (t) => {
  const values = { ...sysctls(0), 'net.ipv4.conf.all.arp_ignore': 2, 'net.ipv4.conf.all.arp_announce': 2, 'net.ipv4.conf.eth0.arp_ignore': 3, 'net.ipv4.conf.eth0.arp_announce': 1 };
  const plan = planRealServer(host({ sysctls: values }), { vips: ['10.0.0.5'] });
  t.deepEqual(plan.changes.filter((c) => c.kind === 'set-sysctl').map(describeChange), [
    '~ net.ipv4.conf.eth0.arp_ignore 3 → 1', // max(2, 3) = 3 answers ARP for a global VIP on lo
    '~ net.ipv4.conf.eth0.arp_announce 1 → 2',
  ]);
  const eight = planRealServer(host({ sysctls: { ...sysctls(2), 'net.ipv4.conf.all.arp_ignore': 8 } }), { vips: ['10.0.0.5'] });
  t.deepEqual(eight.changes.filter((c) => c.kind === 'set-sysctl').map(describeChange), ['~ net.ipv4.conf.all.arp_ignore 8 → 1']);
});

test('IPv6 VIPs only: no ARP, so no sysctl is planned or needed', (t) => {
  const plan = planRealServer(host(), { vips: ['2001:db8::34'] });
  t.deepEqual(plan.interfaces, []);
  t.deepEqual(plan.changes.map(describeChange), ['+ 2001:db8::34/128 dev lo']);
});

test('--interface: only the named ones get their own sysctls; a missing one or lo is refused by name', (t) => {
  const links = [...LINKS, { name: 'eth2', adminUp: true }];
  t.deepEqual(trafficInterfaces(links, {}), ['eth0', 'eth2']);
  t.deepEqual(trafficInterfaces(links, { interfaces: ['eth1', 'eth1'] }), ['eth1'], 'named: used even when down');
  const plan = planRealServer(host({ links, sysctls: sysctls(0, ['eth1']) }), { vips: ['10.0.0.5'], interfaces: ['eth1'] });
  t.deepEqual(plan.changes.filter((c) => c.kind === 'set-sysctl').map((c) => (c as { name: string }).name),
    ['net.ipv4.conf.all.arp_ignore', 'net.ipv4.conf.all.arp_announce', 'net.ipv4.conf.eth1.arp_ignore', 'net.ipv4.conf.eth1.arp_announce']);
  t.throws(() => trafficInterfaces(links, { interfaces: ['eth9'] }), { instanceOf: RangeError, message: 'interface: no link eth9' });
  t.throws(() => trafficInterfaces(links, { interfaces: ['lo'] }), { instanceOf: RangeError, message: /lo carries the VIPs/ });
});

test('a VIP already on lo is kept whatever its label; one with a shorter prefix is replaced and keeps its label; labels skip those in use', (t) => {
  const addresses: RealServerAddress[] = [...LOOPBACK,
    { link: 'lo', family: 4, address: '10.0.0.5', prefixLength: 32 }, // added by hand without a label
    { link: 'lo', family: 4, address: '10.0.0.6', prefixLength: 24, label: 'lo:3' },
    { link: 'lo', family: 4, address: '10.0.0.9', prefixLength: 32, label: 'lo:1' }];
  const plan = planRealServer(host({ addresses, sysctls: sysctls(1) }), { vips: ['10.0.0.5', '10.0.0.6', '10.0.0.7'] });
  t.deepEqual(plan.changes.filter((c) => c.kind !== 'set-sysctl').map(describeChange), [
    '- 10.0.0.6/24 dev lo label lo:3 (a VIP on lo must be a /32; a /24 there makes the whole network local)',
    '+ 10.0.0.6/32 dev lo label lo:3',
    '+ 10.0.0.7/32 dev lo label lo:2',
  ]);
});

test('a VIP on another interface is a conflict: reported, never touched', (t) => {
  const addresses: RealServerAddress[] = [...LOOPBACK, { link: 'eth0', family: 4, address: '10.0.0.5', prefixLength: 24 }];
  const plan = planRealServer(host({ addresses }), { vips: ['10.0.0.5'] });
  t.deepEqual(plan.conflicts, ['10.0.0.5 is also on eth0: this host answers ARP for it there and takes its traffic from the balancer (remove it from eth0)']);
  t.false(plan.changes.some((c) => c.kind === 'delete-address'));
});

test('removal: each VIP off lo whatever its prefix and label; the sysctls stay; nothing there, nothing to do', (t) => {
  const addresses: RealServerAddress[] = [...LOOPBACK, { link: 'lo', family: 4, address: '10.0.0.5', prefixLength: 32, label: 'lo:1' },
    { link: 'lo', family: 6, address: '2001:db8::5', prefixLength: 128 }, { link: 'lo', family: 4, address: '10.0.0.8', prefixLength: 32, label: 'lo:2' }];
  const plan = planRealServerRemoval(host({ addresses }), { vips: ['10.0.0.5', '2001:DB8::5', '10.0.0.7'] });
  t.deepEqual(plan.changes.map(describeChange), ['- 10.0.0.5/32 dev lo label lo:1', '- 2001:db8::5/128 dev lo']);
  t.deepEqual(planRealServerRemoval(host(), { vips: ['10.0.0.5'] }).changes, []);
});

test('VIPs are host addresses: anything else is refused naming it; --check words what is missing', (t) => {
  t.deepEqual(parseVip('2001:DB8::0:34/128'), { address: '2001:db8::34', family: 6 });
  t.throws(() => parseVip('10.0.0.5/24'), { instanceOf: RangeError, message: /vip: 10\.0\.0\.5\/24: a VIP on lo is a \/32/ });
  t.throws(() => parseVip('lb.example'), { instanceOf: RangeError, message: 'vip: "lb.example" is not an IPv4 or IPv6 address' });
  const plan = planRealServer(host({ sysctls: { ...sysctls(1), 'net.ipv4.conf.eth0.arp_announce': undefined } }), { vips: ['10.0.0.5'] });
  t.deepEqual(plan.changes.map(describeMissing), ['net.ipv4.conf.all.arp_announce is 1, wanted 2', 'net.ipv4.conf.eth0.arp_announce is missing, wanted 2', '10.0.0.5/32 is not on lo']);
});
