// layer: tests (IPVS tier)
// job: every IPVS command round-trips through our client: what we add, `ipvsadm -Ln` shows identically and our dump decodes identically.
import test from 'ava';
import { commands, type CommandSource, type IpvsCommand } from '../../src/ipvs/client.js';
import { IpvsError } from '../../src/ipvs/errors.js';
import { formatTimeouts } from '../../src/ipvs/format.js';
import type { Destination, ServiceKey, VirtualService } from '../../src/ipvs/model.js';
import { IpvsValidationError } from '../../src/ipvs/validate.js';
import { bothListings, ipvsNetns } from '../helpers/ipvs.js';

/** The schedulers the 6.1 test kernel ships as modules (no twos before 5.5). */
const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh'] as const;

test('every scheduler the kernel ships: added by us, listed identically by ipvsadm and by our dump', async (t) => {
  const x = await ipvsNetns(t);
  const services: VirtualService[] = SCHEDULERS.map((scheduler, i) => ({ protocol: 'tcp', address: '10.0.0.1', port: 8000 + i, scheduler }));
  for (const s of services) await x.ipvs.addService(s);
  const { ipvsadm, ours } = await bothListings(x);
  t.is(ours, ipvsadm);
  for (const scheduler of SCHEDULERS) t.regex(ipvsadm, new RegExp(`^TCP  10\\.0\\.0\\.1:80\\d\\d ${scheduler}$`, 'm'));
  const dumped = await x.ipvs.listServices();
  t.deepEqual(dumped.map((s) => ('port' in s ? [s.port, s.scheduler] : [])).sort(), services.map((s) => ['port' in s ? s.port : 0, s.scheduler]).sort());
});

test('every forwarding method, thresholds, tunnels, IPv6, mixed families, fwmark and persistence: identical in ipvsadm and in our dump', async (t) => {
  const x = await ipvsNetns(t);
  const table: VirtualService[] = [
    { protocol: 'tcp', address: '123.30.175.40', port: 80, scheduler: 'rr', destinations: [
      { address: '172.16.16.37', port: 80, forward: 'dr', weight: 10 },
      { address: '172.16.16.38', port: 8080, forward: 'nat', weight: 5, upperThreshold: 100, lowerThreshold: 10 },
      { address: '172.16.16.39', port: 80, forward: 'tun', weight: 1, tunnel: { type: 'gue', port: 6080, checksum: 'remcsum' } },
      { address: '172.16.16.40', port: 80, forward: 'tun', weight: 2, tunnel: { type: 'gre', checksum: 'csum' } },
      { address: '2001:db8::10', port: 80, forward: 'tun', weight: 3 },
    ] },
    { protocol: 'udp', address: '2001:db8::1', port: 5060, scheduler: 'sh', schedulerFlags: ['sh-fallback', 'sh-port'],
      persistence: { timeoutSec: 60, prefixLength: 64, engine: 'sip' }, onePacket: true,
      destinations: [{ address: '2001:db8::2', port: 5060, forward: 'nat', weight: 0 }] },
    { protocol: 'sctp', address: '10.0.0.5', port: 3868, scheduler: 'mh', schedulerFlags: ['mh-port'], persistence: { timeoutSec: 300, netmask: '255.255.255.0' } },
    { fwmark: 5, scheduler: 'wlc', persistence: { timeoutSec: 120 }, destinations: [{ address: '10.0.2.1', port: 0, forward: 'dr', weight: 7 }] },
    { fwmark: 7, family: 6, scheduler: 'lc', persistence: { timeoutSec: 30, prefixLength: 48 } },
  ];
  for (const s of table) await x.ipvs.addService(s);
  const { ipvsadm, ours } = await bothListings(x);
  t.is(ours, ipvsadm);
  t.regex(ipvsadm, /^UDP  \[2001:db8::1\]:5060 sh \(sh-fallback,sh-port\) persistent 60 mask 64 pe sip ops$/m);
  t.regex(ipvsadm, /^  -> \[2001:db8::10\]:80 +Tunnel  3 /m);
  t.regex(await x.ipvsadm('-Ln', '--tun-info'), /^  -> 172\.16\.16\.39:80 +Tunnel  gue:6080:r\+c /m);
  t.regex(await x.ipvsadm('-Ln', '--thresholds'), /^  -> 172\.16\.16\.38:8080 +100 +10 /m);
  const dumped = await x.ipvs.dumpTable();
  const web = dumped.find((s) => 'address' in s && s.address === '123.30.175.40');
  t.like(web?.destinations.find((d) => d.port === 8080), { forward: 'nat', weight: 5, upperThreshold: 100, lowerThreshold: 10, family: 4 });
  t.like(web?.destinations.find((d) => d.address === '2001:db8::10'), { forward: 'tun', family: 6, tunnel: { type: 'ipip', port: 0, checksum: 'none' } });
  t.like(dumped.find((s) => 'address' in s && s.address === '2001:db8::1'),
    { family: 6, scheduler: 'sh', schedulerFlags: ['sh-fallback', 'sh-port'], onePacket: true, persistence: { timeoutSec: 60, prefixLength: 64, engine: 'sip' } });
  t.like(dumped.find((s) => 'fwmark' in s && s.fwmark === 7), { family: 6, persistence: { timeoutSec: 30, prefixLength: 48 } });
  t.like(dumped.find((s) => 'address' in s && s.address === '10.0.0.5'), { protocol: 'sctp', persistence: { prefixLength: 24 } });
});

test('edit, delete, get, zero and flush, each seen by ipvsadm', async (t) => {
  const x = await ipvsNetns(t);
  const key: ServiceKey = { protocol: 'tcp', address: '10.0.0.1', port: 80 };
  await x.ipvs.addService({ ...key, scheduler: 'rr', destinations: [{ address: '10.0.1.1', port: 80, forward: 'dr', weight: 10 }, { address: '10.0.1.2', port: 80, forward: 'dr', weight: 10 }] });
  await x.ipvs.editService({ ...key, scheduler: 'wlc', persistence: { timeoutSec: 50 } });
  await x.ipvs.editDestination(key, { address: '10.0.1.1', port: 80, forward: 'nat', weight: 20, upperThreshold: 9 });
  await x.ipvs.deleteDestination(key, { address: '10.0.1.2', port: 80 });
  t.is(await x.ipvsadm('-Ln', '-t', '10.0.0.1:80'), [
    'Prot LocalAddress:Port Scheduler Flags',
    '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
    'TCP  10.0.0.1:80 wlc persistent 50',
    '  -> 10.0.1.1:80                  Masq    20     0          0         ', ''].join('\n'));
  t.like(await x.ipvs.getService(key), { scheduler: 'wlc', persistence: { timeoutSec: 50, prefixLength: 32 } });
  t.is(await x.ipvs.getService({ ...key, port: 81 }), undefined);
  t.deepEqual((await x.ipvs.listDestinations(key)).map((d) => [d.address, d.forward, d.weight, d.upperThreshold]), [['10.0.1.1', 'nat', 20, 9]]);
  await x.ipvs.zero(key);
  await x.ipvs.zero();
  await x.ipvs.deleteService(key);
  t.is((await bothListings(x)).ipvsadm.split('\n').length, 3, 'only the header is left');
  await x.ipvs.addService({ fwmark: 1, scheduler: 'rr' });
  await x.ipvs.addService({ fwmark: 2, family: 6, scheduler: 'rr' });
  await x.ipvs.flush();
  t.deepEqual(await x.ipvs.listServices(), []);
  t.notRegex(await x.ipvsadm('-Ln'), /FWM/);
});

test('info and timeouts agree with /proc/net/ip_vs and `ipvsadm -L --timeout`', async (t) => {
  const x = await ipvsNetns(t);
  const info = await x.ipvs.getInfo();
  t.regex(await x.ns.exec(['cat', '/proc/net/ip_vs']), new RegExp(`^IP Virtual Server version ${info.version.replaceAll('.', '\\.')} \\(size=${info.connTableSize}\\)`));
  await x.ipvs.setTimeouts({ tcpSec: 900, tcpFinSec: 120, udpSec: 300 });
  t.is(await x.ipvsadm('-L', '--timeout'), 'Timeout (tcp tcpfin udp): 900 120 300\n');
  await x.ipvs.setTimeouts({ udpSec: 60 });
  t.deepEqual(await x.ipvs.getTimeouts(), { tcpSec: 900, tcpFinSec: 120, udpSec: 60 });
  t.is(formatTimeouts(await x.ipvs.getTimeouts()), (await x.ipvsadm('-L', '--timeout')).trim());
});

test('kernel refusals carry errno, the command and its target; bad input sends nothing', async (t) => {
  const x = await ipvsNetns(t);
  const svc: VirtualService = { protocol: 'tcp', address: '10.0.0.1', port: 80, scheduler: 'rr' };
  await x.ipvs.addService(svc);
  const exists = await t.throwsAsync(x.ipvs.addService(svc), { instanceOf: IpvsError });
  t.like(exists, { code: 'EEXIST', errno: 17, syscall: 'IPVS_CMD_NEW_SERVICE', target: 'TCP 10.0.0.1:80', hint: 'service already exists' });
  const missing = await t.throwsAsync(x.ipvs.deleteService({ protocol: 'tcp', address: '10.0.0.2', port: 80 }), { instanceOf: IpvsError });
  t.like(missing, { code: 'ESRCH', syscall: 'IPVS_CMD_DEL_SERVICE', target: 'TCP 10.0.0.2:80' });
  // twos arrived in 5.5: this kernel has no ip_vs_twos module.
  const scheduler = await t.throwsAsync(x.ipvs.addService({ ...svc, port: 81, scheduler: 'twos' }), { instanceOf: IpvsError });
  t.like(scheduler, { code: 'ENOENT', syscall: 'IPVS_CMD_NEW_SERVICE', hint: 'scheduler or persistence engine not found (no such kernel module)' });
  t.regex(scheduler?.message ?? '', /^IPVS_CMD_NEW_SERVICE failed: ENOENT \(TCP 10\.0\.0\.1:81; scheduler/);
  const noDest = await t.throwsAsync(x.ipvs.deleteDestination(svc, { address: '10.0.1.9', port: 80 }), { instanceOf: IpvsError });
  t.like(noDest, { code: 'ENOENT', target: 'TCP 10.0.0.1:80 -> 10.0.1.9:80', hint: 'no such real server' });
  const before = await x.ipvsadm('-Ln');
  const bad = await t.throwsAsync(x.ipvs.addService({ ...svc, port: 82, destinations: [{ address: '10.0.1.1', port: 80, forward: 'dr', weight: -5 }] }), { instanceOf: IpvsValidationError });
  t.is(bad?.field, 'service.destinations[0].weight');
  await t.throwsAsync(x.ipvs.addService({ fwmark: 0, scheduler: 'rr' }), { instanceOf: IpvsValidationError, message: /^service\.fwmark:/ });
  t.is(await x.ipvsadm('-Ln'), before, 'nothing reached the kernel');
});

test('sendBatch takes commands as an array, an iterable or a CommandSource; a refusal is an IpvsError at its place, the rest is carried out', async (t) => {
  const x = await ipvsNetns(t);
  const svc = (port: number): VirtualService => ({ protocol: 'tcp', address: '10.0.0.1', port, scheduler: 'wrr' });
  const dest = (n: number): Destination => ({ address: `10.0.1.${n}`, port: 80, forward: 'nat', weight: n });
  t.deepEqual(await x.ipvs.sendBatch([commands.addService(svc(80)), commands.addService(svc(81))]), [undefined, undefined]);
  function* more(): Generator<IpvsCommand> {
    yield commands.addService(svc(81)); // already there
    yield commands.addService(svc(82));
  }
  const fromIterable = await x.ipvs.sendBatch(more());
  t.like(fromIterable[0], { code: 'EEXIST', syscall: 'IPVS_CMD_NEW_SERVICE', target: 'TCP 10.0.0.1:81' });
  t.is(fromIterable[1], undefined);
  const made: number[] = [];
  const source: CommandSource = { length: 200, at: (i) => { made.push(i); return commands.addDestination(svc(80), dest(i === 150 ? 1 : i + 1)); } };
  const fromSource = await x.ipvs.sendBatch(source);
  t.deepEqual(fromSource.flatMap((e, i) => (e ? [i] : [])), [150], 'the real server 10.0.1.1 a second time is refused');
  t.like(fromSource[150], { code: 'EEXIST', syscall: 'IPVS_CMD_NEW_DEST', target: 'TCP 10.0.0.1:80 -> 10.0.1.1:80' });
  t.deepEqual(made, [...Array.from({ length: 200 }, (_, i) => i), 150, 150], 'each made once as it was sent; the refused one again to name it (in the netlink error, then in the IpvsError)');
  const listed = await x.ipvsadm('-Ln');
  t.is(listed.match(/^ {2}-> 10\.0\.1\.\d+:80 +Masq/gm)?.length, 199);
  t.regex(listed, /^TCP {2}10\.0\.0\.1:82 wrr$/m);
});
