// layer: tests (unit)
// job: our IPVS requests byte for byte against what ipvsadm 1.31 sends; the kernel's captured answers decode and print as ipvsadm printed them.
import test from 'ava';
import { decodeGenl } from '../../src/genl/codec.js';
import { attrsBytes, commands, type IpvsCommand } from '../../src/ipvs/client.js';
import { decodeDaemon, decodeInfo, decodeTimeouts, encodeDaemon, encodeDaemonState, encodeTimeouts } from '../../src/ipvs/codec-config.js';
import { decodeServiceReply, encodeServiceKey, findAttr } from '../../src/ipvs/codec.js';
import { decodeDestinationReply } from '../../src/ipvs/codec-dest.js';
import * as K from '../../src/ipvs/constants.js';
import { formatDaemons, formatTable, formatTimeouts } from '../../src/ipvs/format.js';
import type { Destination, ServiceKey, ServiceState, VirtualService } from '../../src/ipvs/model.js';
import { validateDestination, validateService, validateServiceKey } from '../../src/ipvs/validate.js';
import { AttrWriter, decodeAttrs, decodeError, decodeHeader, encodeMessage, NLMSG_DONE, NLMSG_ERROR } from '../../src/netlink/index.js';
import { exchange, fromHex, keepOnly, loadCapture, messagesOf } from '../helpers/ipvs-fixtures.js';

const capture = loadCapture();

/** Our message for `command`, with the header fields ipvsadm's had (type, flags, seq, pid). */
function ours(command: IpvsCommand, like: Buffer): Buffer {
  const h = decodeHeader(like);
  const genl = Buffer.from([command.cmd, K.IPVS_GENL_VERSION, 0, 0]);
  return encodeMessage({ type: h.type, flags: h.flags, seq: h.seq, pid: h.pid }, [genl, attrsBytes(command.attrs)]);
}

function sentBy(args: string, nth = 0): Buffer {
  const [hex] = exchange(capture.requests, args, nth).sent;
  if (!hex) throw new Error(`ipvsadm ${args} sent nothing`);
  return fromHex(hex);
}

const svc = (s: unknown): VirtualService => validateService(s);
const dest = (key: ServiceKey, d: unknown): Destination => validateDestination(d, key);
const tcp1: ServiceKey = { protocol: 'tcp', address: '10.0.0.1', port: 80 };

const serviceCases: [string, IpvsCommand][] = [
  ['-A -t 10.0.0.1:80 -s rr', commands.addService(svc({ ...tcp1, scheduler: 'rr' }))],
  ['-A -t 10.0.0.2:80 -s wrr -p 300 -M 255.255.255.0',
    commands.addService(svc({ protocol: 'tcp', address: '10.0.0.2', port: 80, scheduler: 'wrr', persistence: { timeoutSec: 300, netmask: '255.255.255.0' } }))],
  ['-A -f 5 -s sh -b sh-fallback,sh-port', commands.addService(svc({ fwmark: 5, scheduler: 'sh', schedulerFlags: ['sh-port', 'sh-fallback'] }))],
  ['-A -u [2001:db8::1]:5060 -s mh -b mh-port -p 60 --pe sip',
    commands.addService(svc({ protocol: 'udp', address: '2001:DB8::1', port: 5060, scheduler: 'mh', schedulerFlags: ['mh-port'], persistence: { timeoutSec: 60, engine: 'sip' } }))],
  ['-A -f 7 -6 -s lc -p 120 -M 64', commands.addService(svc({ fwmark: 7, family: 6, scheduler: 'lc', persistence: { timeoutSec: 120, prefixLength: 64 } }))],
  ['-E -t 10.0.0.1:80 -s wlc', commands.editService(svc({ ...tcp1, scheduler: 'wlc' }))],
];

for (const [args, command] of serviceCases) {
  test(`IPVS_CMD_${args.startsWith('-E') ? 'SET' : 'NEW'}_SERVICE is byte for byte what \`ipvsadm ${args}\` sends`, (t) => {
    const theirs = sentBy(args);
    t.is(ours(command, theirs).toString('hex'), theirs.toString('hex'));
  });
}

// ipvsadm pads the service of destination commands (and of delete/zero) with an empty scheduler,
// flags, timeout and netmask, which the kernel does not read there (ip_vs_genl_parse_service
// with full_entry false); we send the identity only. Everything else must match byte for byte.
const SERVICE_IDENTITY = [K.IPVS_SVC_ATTR_AF, K.IPVS_SVC_ATTR_PROTOCOL, K.IPVS_SVC_ATTR_ADDR, K.IPVS_SVC_ATTR_PORT, K.IPVS_SVC_ATTR_FWMARK];
const DEST_IDENTITY = [K.IPVS_DEST_ATTR_ADDR_FAMILY, K.IPVS_DEST_ATTR_ADDR, K.IPVS_DEST_ATTR_PORT];

const destCases: [string, IpvsCommand][] = [
  ['-a -t 10.0.0.1:80 -r 10.0.1.1:8080 -m -w 5 -x 100 -y 10',
    commands.addDestination(tcp1, dest(tcp1, { address: '10.0.1.1', port: 8080, forward: 'nat', weight: 5, upperThreshold: 100, lowerThreshold: 10 }))],
  ['-a -t 10.0.0.1:80 -r 10.0.1.2:80 -g -w 10', commands.addDestination(tcp1, dest(tcp1, { address: '10.0.1.2', port: 80, forward: 'dr', weight: 10 }))],
  ['-a -t 10.0.0.1:80 -r 10.0.1.3:80 -i --tun-type gue --tun-port 6080 --tun-nocsum',
    commands.addDestination(tcp1, dest(tcp1, { address: '10.0.1.3', port: 80, forward: 'tun', weight: 1, tunnel: { type: 'gue', port: 6080, checksum: 'none' } }))],
  ['-a -t 10.0.0.1:80 -r 10.0.1.4:80 -i --tun-type gre --tun-csum',
    commands.addDestination(tcp1, dest(tcp1, { address: '10.0.1.4', port: 80, forward: 'tun', weight: 1, tunnel: { type: 'gre', checksum: 'csum' } }))],
  ['-a -t 10.0.0.1:80 -r [2001:db8::10]:80 -i -w 3', commands.addDestination(tcp1, dest(tcp1, { address: '2001:db8::10', port: 80, forward: 'tun', weight: 3 }))],
  ['-a -f 5 -r 10.0.2.1 -g -w 0', commands.addDestination({ fwmark: 5 }, dest({ fwmark: 5 }, { address: '10.0.2.1', port: 0, forward: 'dr', weight: 0 }))],
  ['-e -t 10.0.0.1:80 -r 10.0.1.2:80 -g -w 20', commands.editDestination(tcp1, dest(tcp1, { address: '10.0.1.2', port: 80, forward: 'dr', weight: 20 }))],
  ['-a -t 10.1.0.1:80 -r 10.0.0.9:80 -x 1 -y 5', commands.addDestination({ protocol: 'tcp', address: '10.1.0.1', port: 80 },
    { address: '10.0.0.9', port: 80, forward: 'dr', weight: 1, upperThreshold: 1, lowerThreshold: 5 })],
];

for (const [args, command] of destCases) {
  test(`destination command is byte for byte what \`ipvsadm ${args}\` sends (service reduced to its identity)`, (t) => {
    const theirs = keepOnly(sentBy(args), { [K.IPVS_CMD_ATTR_SERVICE]: SERVICE_IDENTITY });
    t.is(ours(command, theirs).toString('hex'), theirs.toString('hex'));
  });
}

test('IPVS_CMD_DEL_DEST, DEL_SERVICE and ZERO carry what ipvsadm sends, reduced to the identities the kernel reads', (t) => {
  const del = keepOnly(sentBy('-d -t 10.0.0.1:80 -r 10.0.1.2:80'), { [K.IPVS_CMD_ATTR_SERVICE]: SERVICE_IDENTITY, [K.IPVS_CMD_ATTR_DEST]: DEST_IDENTITY });
  t.is(ours(commands.deleteDestination(tcp1, { address: '10.0.1.2', port: 80 }), del).toString('hex'), del.toString('hex'));
  const delSvc = keepOnly(sentBy('-D -t 10.0.0.2:80'), { [K.IPVS_CMD_ATTR_SERVICE]: SERVICE_IDENTITY });
  t.is(ours(commands.deleteService(validateServiceKey({ protocol: 'tcp', address: '10.0.0.2', port: 80 })), delSvc).toString('hex'), delSvc.toString('hex'));
  const zeroOne = keepOnly(sentBy('-Z -t 10.0.0.1:80'), { [K.IPVS_CMD_ATTR_SERVICE]: SERVICE_IDENTITY });
  const zeroCommand = { cmd: K.IPVS_CMD_ZERO, attrs: commands.deleteService(tcp1).attrs, target: '' } as IpvsCommand;
  t.is(ours(zeroCommand, zeroOne).toString('hex'), zeroOne.toString('hex'));
  t.is(ours({ cmd: K.IPVS_CMD_ZERO, target: '' }, sentBy('-Z')).toString('hex'), sentBy('-Z').toString('hex'));
  t.is(ours({ cmd: K.IPVS_CMD_FLUSH, target: '' }, sentBy('-C')).toString('hex'), sentBy('-C').toString('hex'));
});

test('IPVS_CMD_SET_CONFIG is byte for byte what `ipvsadm --set 900 120 300` sends, and the timeouts decode back', (t) => {
  const theirs = sentBy('--set 900 120 300');
  const command = { cmd: K.IPVS_CMD_SET_CONFIG, attrs: encodeTimeouts(new AttrWriter(), { tcpSec: 900, tcpFinSec: 120, udpSec: 300 }).toBuffer(), target: '' };
  t.is(ours(command, theirs).toString('hex'), theirs.toString('hex'));
  const listing = exchange(capture.listings, '-L --timeout');
  const [reply] = messagesOf(listing.received[0] ?? '');
  const timeouts = decodeTimeouts(decodeAttrs(decodeGenl(reply?.payload ?? Buffer.alloc(4)).attrs));
  t.deepEqual(timeouts, { tcpSec: 900, tcpFinSec: 120, udpSec: 300 });
  t.is(formatTimeouts(timeouts), listing.output);
});

test('IPVS_CMD_NEW_DAEMON is byte for byte what `ipvsadm --start-daemon` sends (IPv4 group with every option, IPv6 group, defaults)', (t) => {
  const cases: [string, Parameters<typeof encodeDaemon>[1]][] = [
    ['--start-daemon master --mcast-interface lvs0 --syncid 5 --sync-maxlen 1400 --mcast-group 239.1.2.3 --mcast-port 8850 --mcast-ttl 2',
      { state: 'master', interface: 'lvs0', syncId: 5, maxLength: 1400, group: '239.1.2.3', port: 8850, ttl: 2 }],
    ['--start-daemon backup --mcast-interface lvs0 --syncid 6', { state: 'backup', interface: 'lvs0', syncId: 6 }],
    ['--start-daemon backup --mcast-interface lvs0 --syncid 7 --mcast-group ff02::1:3 --mcast-port 9000',
      { state: 'backup', interface: 'lvs0', syncId: 7, group: 'ff02::1:3', port: 9000 }],
  ];
  for (const [args, daemon] of cases) {
    const theirs = sentBy(args);
    t.is(ours({ cmd: K.IPVS_CMD_NEW_DAEMON, attrs: encodeDaemon(new AttrWriter(), daemon).toBuffer(), target: '' }, theirs).toString('hex'),
      theirs.toString('hex'), args);
  }
  // Stopping: ipvsadm adds an empty interface and sync id 0, which ip_vs_genl_del_daemon does not read.
  const stop = keepOnly(sentBy('--stop-daemon backup'), { [K.IPVS_CMD_ATTR_DAEMON]: [K.IPVS_DAEMON_ATTR_STATE] });
  t.is(ours({ cmd: K.IPVS_CMD_DEL_DAEMON, attrs: encodeDaemonState(new AttrWriter(), 'backup').toBuffer(), target: '' }, stop).toString('hex'), stop.toString('hex'));
});

test('the kernel\'s IPVS_CMD_GET_DAEMON answers decode to what `ipvsadm -L --daemon` printed', (t) => {
  for (const nth of [0, 1]) {
    const listing = exchange(capture.listings, '-L --daemon', nth);
    const daemons = listing.received.flatMap(messagesOf).filter((m) => m.header.type === capture.familyId).map((m) => {
      const nest = findAttr(decodeAttrs(decodeGenl(m.payload).attrs), K.IPVS_CMD_ATTR_DAEMON);
      if (!nest) throw new Error('no daemon attribute');
      return decodeDaemon(nest);
    });
    t.is(formatDaemons(daemons), listing.output);
  }
  const first = exchange(capture.listings, '-L --daemon', 0).received.flatMap(messagesOf)[0];
  const nest = findAttr(decodeAttrs(decodeGenl(first?.payload ?? Buffer.alloc(4)).attrs), K.IPVS_CMD_ATTR_DAEMON);
  t.deepEqual(nest && decodeDaemon(nest), { state: 'master', interface: 'lvs0', syncId: 5, maxLength: 1400, group: '239.1.2.3', port: 8850, ttl: 2 });
});

/**
 * Rebuild the table from a captured `ipvsadm -Ln`: ipvsadm works one request at a time, so the
 * answers come in the order of its requests (service dump, then one real-server dump per service),
 * each ended by NLMSG_DONE.
 */
function tableFrom(listing: ReturnType<typeof exchange>): ServiceState[] {
  const table: ServiceState[] = [];
  const requests = listing.sent.map(fromHex).filter((r) => r[16] === K.IPVS_CMD_GET_DEST);
  let dump = -1; // -1: the service dump; i: the real-server dump of requests[i]
  let owner: ServiceState | undefined;
  for (const m of listing.received.flatMap(messagesOf)) {
    if (m.header.type === NLMSG_DONE) {
      dump += 1;
      const request = requests[dump];
      const identity = request?.subarray(20, decodeHeader(request).length).toString('hex');
      owner = table.find((s) => encodeServiceKey(new AttrWriter(), s).toBuffer().toString('hex') === identity);
      continue;
    }
    if (m.header.type !== capture.familyId) continue;
    const { cmd, attrs } = decodeGenl(m.payload);
    if (cmd === K.IPVS_CMD_NEW_SERVICE) table.push(decodeServiceReply(decodeAttrs(attrs)));
    else if (cmd === K.IPVS_CMD_NEW_DEST && owner) owner.destinations.push(decodeDestinationReply(decodeAttrs(attrs), owner.family));
    else throw new Error(`unexpected cmd ${cmd} in dump ${dump}`);
  }
  return table;
}

function keyOf(s: ServiceState): string {
  return 'fwmark' in s ? `f${s.fwmark}/${s.family}` : `${s.protocol}/${s.address}/${s.port}`;
}

const INFO_1_2_1 = decodeInfo(decodeAttrs(fromHex('08000100010201000800020000100000')));

for (const nth of [0, 1]) {
  test(`the kernel's dumps captured under \`ipvsadm -Ln\` (#${nth + 1}) decode and print line for line as ipvsadm printed them`, (t) => {
    const listing = exchange(capture.listings, '-Ln', nth);
    t.is(formatTable(INFO_1_2_1, tableFrom(listing)), listing.output);
  });
}

test('a captured service and real server decode to every field', (t) => {
  const table = tableFrom(exchange(capture.listings, '-Ln', 0));
  const persistent = table.find((s) => keyOf(s) === 'tcp/10.0.0.2/80');
  t.like(persistent, { protocol: 'tcp', address: '10.0.0.2', port: 80, family: 4, scheduler: 'wrr', persistence: { timeoutSec: 300, prefixLength: 24 } });
  t.is(persistent?.stats?.width, 64);
  t.deepEqual(table.find((s) => keyOf(s) === 'udp/2001:db8::1/5060')?.persistence, { timeoutSec: 60, prefixLength: 128, engine: 'sip' });
  t.deepEqual(table.find((s) => keyOf(s) === 'f5/4')?.schedulerFlags, ['sh-fallback', 'sh-port']);
  const web = table.find((s) => keyOf(s) === 'tcp/10.0.0.1/80');
  const nat = web?.destinations.find((d) => d.port === 8080);
  t.like(nat, { address: '10.0.1.1', port: 8080, family: 4, forward: 'nat', weight: 5, upperThreshold: 100, lowerThreshold: 10, activeConns: 0, inactiveConns: 0, persistentConns: 0 });
  t.deepEqual(web?.destinations.find((d) => d.address === '10.0.1.3')?.tunnel, { type: 'gue', port: 6080, checksum: 'none' });
  t.deepEqual(web?.destinations.find((d) => d.address === '10.0.1.4')?.tunnel, { type: 'gre', port: 0, checksum: 'csum' });
  t.like(web?.destinations.find((d) => d.family === 6), { address: '2001:db8::10', forward: 'tun', weight: 3, tunnel: { type: 'ipip', port: 0, checksum: 'none' } });
});

test('kernel refusals captured from ipvsadm decode to the errno it reported', (t) => {
  const nosuch = exchange(capture.requests, '-A -t 10.0.0.9:80 -s nosuch');
  const [err] = messagesOf(nosuch.received[0] ?? '');
  t.is(err?.header.type, NLMSG_ERROR);
  t.is(decodeError(err?.payload ?? Buffer.alloc(0), err?.header.flags ?? 0).error, -2); // ENOENT: no ip_vs_nosuch module
  const thresholds = exchange(capture.requests, '-a -t 10.1.0.1:80 -r 10.0.0.9:80 -x 1 -y 5');
  const [range] = messagesOf(thresholds.received[0] ?? '');
  t.is(decodeError(range?.payload ?? Buffer.alloc(0), range?.header.flags ?? 0).error, -34); // ERANGE
  t.is(NLMSG_DONE, 3);
});
