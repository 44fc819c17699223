// layer: kernel client (IPVS)
// job: text views: the table as `ipvsadm -Ln` prints it (same order, same columns), daemons, timeouts, plans.
import { formatIPv4 } from '../bytes.js';
import { encodeInetAddr, prefixToMask } from './codec.js';
import {
  destinationName, isFwmarkKey, serviceFamily, serviceKeyOf, serviceName, type DestinationState, type IpvsInfo, type ServiceSettings,
  type ServiceState, type SyncDaemon, type Timeouts,
} from './model.js';
import type { Op, PlannedDestination } from './plan.js';

const FORWARD_NAMES: Record<DestinationState['forward'], string> = { nat: 'Masq', local: 'Local', tun: 'Tunnel', dr: 'Route', bypass: 'Bypass' };
const PROTOCOL_NUMBERS = { tcp: 6, udp: 17, sctp: 132 } as const;

/** a − b as C's `int` result of subtracting two unsigned 32-bit values (ipvsadm's comparators do this). */
function cDiff(a: number, b: number): number {
  return (a - b) | 0;
}

function words(address: string): number[] {
  const b = encodeInetAddr(address);
  return [0, 4, 8, 12].map((o) => b.readUInt32BE(o));
}

function compareAddresses(a: string, b: string, family: 4 | 6): number {
  const x = words(a);
  const y = words(b);
  const n = family === 6 ? 4 : 1;
  for (let i = 0; i < n; i++) {
    const r = cDiff(x[i] ?? 0, y[i] ?? 0);
    if (r !== 0) return r;
  }
  return 0;
}

/** ipvsadm's service order (ipvs_cmp_services): fwmark, family, protocol, address, port. */
export function compareServices(a: ServiceState, b: ServiceState): number {
  const fa = isFwmarkKey(a) ? a.fwmark : 0;
  const fb = isFwmarkKey(b) ? b.fwmark : 0;
  const af = (s: ServiceState): number => (s.family === 6 ? 10 : 2);
  const proto = (s: ServiceState): number => (isFwmarkKey(s) ? 6 : PROTOCOL_NUMBERS[s.protocol]);
  return cDiff(fa, fb) || af(a) - af(b) || proto(a) - proto(b)
    || (isFwmarkKey(a) || isFwmarkKey(b) ? 0 : compareAddresses(a.address, b.address, a.family) || a.port - b.port);
}

/** ipvsadm's real-server order (ipvs_cmp_dests): address, then port. */
export function compareDestinations(a: DestinationState, b: DestinationState): number {
  return compareAddresses(a.address, b.address, a.family) || a.port - b.port;
}

/** ` rr (sh-port) persistent 300 mask 255.255.255.0 pe sip ops`, as ipvsadm prints after the address. */
export function formatSettings(svc: ServiceSettings & { family?: 4 | 6 }): string {
  let text = svc.scheduler;
  if (svc.schedulerFlags && svc.schedulerFlags.length > 0) text += ` (${svc.schedulerFlags.join(',')})`;
  const p = svc.persistence;
  if (p) {
    text += ` persistent ${p.timeoutSec}`;
    if (svc.family === 6) {
      if ((p.prefixLength ?? 128) !== 128) text += ` mask ${p.prefixLength}`;
    } else {
      const dotted = p.netmask ?? dottedMask(p.prefixLength ?? 32);
      if (dotted !== '255.255.255.255') text += ` mask ${dotted}`;
    }
    if (p.engine) text += ` pe ${p.engine}`;
  }
  if (svc.onePacket) text += ' ops';
  return text;
}

function dottedMask(prefixLength: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(prefixToMask(prefixLength), 0);
  return formatIPv4(b);
}

function serviceLine(svc: ServiceState): string {
  return `${serviceHead(svc)} ${formatSettings(svc)}`;
}

function destinationLine(d: DestinationState): string {
  return `  -> ${destinationName(d).padEnd(28)} ${FORWARD_NAMES[d.forward].padEnd(7)} ${String(d.weight).padEnd(6)} `
    + `${String(d.activeConns).padEnd(10)} ${String(d.inactiveConns).padEnd(10)}`;
}

/** What `formatTable` shows per line: ipvsadm's default columns, `--stats` (counters) or `--rate` (the kernel's estimates). */
export interface TableFormat {
  columns?: 'default' | 'stats' | 'rate';
  /** ipvsadm's `--exact`: counters in full, not shortened to K, M, G, T. */
  exact?: boolean;
  /** The `IP Virtual Server version` line (ipvsadm leaves it out when listing one service). */
  version?: boolean;
}

/** A counter as ipvsadm's print_largenum() writes it: 9 columns, or shortened to K/M/G/T past 100 million (`exact`: in full). */
export function largeNumber(n: bigint, exact = false): string {
  const text = n.toString();
  if (exact) return text.padStart(text.length <= 8 ? 9 : text.length + 1);
  if (n < 100_000_000n) return text.padStart(9);
  const [div, unit] = n < 1_000_000_000n ? [1_000n, 'K'] : n < 1_000_000_000_000n ? [1_000_000n, 'M']
    : n < 1_000_000_000_000_000n ? [1_000_000_000n, 'G'] : [1_000_000_000_000n, 'T'];
  return `${(n / div).toString().padStart(8)}${unit}`;
}

const STAT_FIELDS = { stats: ['conns', 'inPkts', 'outPkts', 'inBytes', 'outBytes'], rate: ['connsPerSec', 'inPktsPerSec', 'outPktsPerSec', 'inBytesPerSec', 'outBytesPerSec'] } as const;
const STAT_TITLES = { stats: ['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes'], rate: ['CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS'] } as const;

function statColumns(stats: ServiceState['stats'], columns: 'stats' | 'rate', exact: boolean): string {
  return STAT_FIELDS[columns].map((f) => largeNumber(stats?.[f] ?? 0n, exact)).join('');
}

function serviceHead(svc: ServiceState): string {
  return isFwmarkKey(svc) ? `FWM  ${svc.fwmark | 0}${svc.family === 6 ? ' IPv6' : ''}` : `${svc.protocol.toUpperCase().padEnd(4)} ${destinationName(svc)}`;
}

/**
 * The table as `ipvsadm -Ln` prints it (with `--stats` or `--rate`: as `ipvsadm -Ln --stats|--rate`):
 * header, then services and their real servers in ipvsadm's sort order, with the same columns
 * (line for line comparable).
 */
export function formatTable(info: IpvsInfo, services: readonly ServiceState[], format: TableFormat = {}): string {
  const columns = format.columns ?? 'default';
  const exact = format.exact === true;
  const lines = format.version === false ? [] : [`IP Virtual Server version ${info.version} (size=${info.connTableSize})`];
  if (columns === 'default') {
    lines.push('Prot LocalAddress:Port Scheduler Flags', '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn');
  } else {
    lines.push(`${'Prot LocalAddress:Port'.padEnd(33)}${STAT_TITLES[columns].map((t) => ` ${t.padStart(8)}`).join('')}`, '  -> RemoteAddress:Port');
  }
  for (const svc of [...services].sort(compareServices)) {
    lines.push(columns === 'default' ? serviceLine(svc) : `${serviceHead(svc).padEnd(33)}${statColumns(svc.stats, columns, exact)}`);
    for (const d of [...svc.destinations].sort(compareDestinations)) {
      lines.push(columns === 'default' ? destinationLine(d) : `  -> ${destinationName(d).padEnd(28)}${statColumns(d.stats, columns, exact)}`);
    }
  }
  return lines.join('\n');
}

/** One line per daemon, as `ipvsadm -L --daemon` prints them. */
export function formatDaemons(daemons: readonly SyncDaemon[]): string {
  return daemons.map((d) => {
    const parts = [`mcast=${d.interface}`, `syncid=${d.syncId}`];
    if (d.maxLength !== undefined) parts.push(`maxlen=${d.maxLength}`);
    if (d.group !== undefined) parts.push(`group=${d.group}`);
    if (d.port !== undefined) parts.push(`port=${d.port}`);
    if (d.ttl !== undefined) parts.push(`ttl=${d.ttl}`);
    return `${d.state} sync daemon (${parts.join(', ')})`;
  }).join('\n');
}

/** `Timeout (tcp tcpfin udp): 900 120 300`, as `ipvsadm -L --timeout` prints it. */
export function formatTimeouts(t: Timeouts): string {
  return `Timeout (tcp tcpfin udp): ${t.tcpSec} ${t.tcpFinSec} ${t.udpSec}`;
}

function describeDestination(d: PlannedDestination): string {
  let text = `${d.forward} weight ${d.weight}`;
  if (d.upperThreshold) text += ` upper ${d.upperThreshold}`;
  if (d.lowerThreshold) text += ` lower ${d.lowerThreshold}`;
  if (d.forward === 'tun' && d.tunnel) {
    text += ` tunnel ${d.tunnel.type}${d.tunnel.port ? `:${d.tunnel.port}` : ''}`;
    if (d.tunnel.checksum && d.tunnel.checksum !== 'none') text += ` ${d.tunnel.checksum}`;
  }
  return text;
}

/**
 * One line per operation: `+` add, `~` edit (with old → new), `-` delete.
 * e.g. `~ real server TCP 10.0.0.1:80 -> 10.0.1.1:80: dr weight 10 → dr weight 20`.
 */
export function describeOp(op: Op): string {
  const withFamily = (s: ServiceSettings & Parameters<typeof serviceFamily>[0]): string => formatSettings({ ...s, family: serviceFamily(s) });
  switch (op.kind) {
    case 'add-service': return `+ service ${serviceName(op.service)} ${withFamily(op.service)}`;
    case 'edit-service': return `~ service ${serviceName(op.service)}: ${withFamily({ ...serviceKeyOf(op.service), ...op.previous })} → ${withFamily(op.service)}`;
    case 'delete-service': return `- service ${serviceName(op.service)} (with ${op.destinations.length} real servers)`;
    case 'add-destination': return `+ real server ${serviceName(op.service)} -> ${destinationName(op.destination)} ${describeDestination(op.destination)}`;
    case 'edit-destination':
      return `~ real server ${serviceName(op.service)} -> ${destinationName(op.destination)}: ${describeDestination(op.previous)} → ${describeDestination(op.destination)}`;
    case 'delete-destination': return `- real server ${serviceName(op.service)} -> ${destinationName(op.destination)}`;
  }
}
