// layer: test helpers (all tiers)
// job: synthetic connections (clients × states) as SyncConn, and their /proc/net/ip_vs_conn rows printed as the kernel prints them.
import { encodeAddress } from '../../src/bytes.js';
import { IP_VS_CONN_F_TEMPLATE, IPPROTO_TCP, TCP_STATES, protocolName, stateName } from '../../src/conns/constants.js';
import type { SyncConn } from '../../src/conns/sync-message.js';

/** One client and how many connections it holds per TCP state name. */
export interface ClientSpec {
  address: string;
  states: Partial<Record<(typeof TCP_STATES)[number], number>>;
}

export interface ConnSetOptions {
  virtualAddress?: string;
  virtualPort?: number;
  /** Real servers the connections are spread over (round robin). */
  destAddresses?: string[];
  destPort?: number;
  timeoutSec?: number;
  /** First client port; each client's connections take consecutive ports from here. */
  firstPort?: number;
}

/** TCP connections for the clients, ports consecutive per client, real servers round robin. */
export function connsFor(clients: readonly ClientSpec[], options: ConnSetOptions = {}): SyncConn[] {
  const v6 = (a: string): boolean => a.includes(':');
  const out: SyncConn[] = [];
  let rr = 0;
  for (const client of clients) {
    let port = options.firstPort ?? 1024;
    const family = v6(client.address) ? 'inet6' : 'inet';
    const virtualAddress = options.virtualAddress ?? (family === 'inet6' ? '2001:db8:ffff::80' : '198.51.100.80');
    const dests = options.destAddresses ?? (family === 'inet6' ? ['fd00::10', 'fd00::11', 'fd00::12'] : ['10.0.0.10', '10.0.0.11', '10.0.0.12']);
    for (const [name, count] of Object.entries(client.states)) {
      const state = TCP_STATES.indexOf(name as (typeof TCP_STATES)[number]);
      if (state < 0) throw new RangeError(`unknown TCP state ${name}`);
      for (let i = 0; i < (count ?? 0); i++) {
        if (port > 65535) throw new RangeError(`client ${client.address} has more connections than ports`);
        out.push({
          family, protocol: IPPROTO_TCP, flags: 0, state,
          clientAddress: client.address, clientPort: port++,
          virtualAddress, virtualPort: options.virtualPort ?? 80,
          destAddress: dests[rr++ % dests.length] as string, destPort: options.destPort ?? 8080,
          fwmark: 0, timeoutSec: options.timeoutSec ?? 900,
        });
      }
    }
  }
  return out;
}

/** `n` distinct IPv4 client addresses from 100.64.0.1 on (RFC 6598 space). */
export function clientAddresses(n: number, base = 0x64400001): string[] {
  return Array.from({ length: n }, (_, i) => {
    const v = base + i;
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  });
}

/** The full %pI6 form: 8 groups of 4 lower-case hex digits. */
function fullIPv6(address: string): string {
  const b = encodeAddress(address);
  return Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2).toString(16).padStart(4, '0')).join(':');
}

/** %08X of the address read as a host-order number of its network-order bytes (IPv4), or %pI6. */
function procAddress(address: string): string {
  const b = encodeAddress(address);
  return b.length === 4 ? b.readUInt32BE(0).toString(16).toUpperCase().padStart(8, '0') : fullIPv6(address);
}

const hex4 = (n: number): string => n.toString(16).toUpperCase().padStart(4, '0');

/**
 * One row as ip_vs_conn_seq_show prints it: "%-3s %08X %04X %08X %04X %s %04X %-11s %7u%s\n"
 * (%pI6 for IPv6 client/virtual, and for a destination of the other family), PE columns when
 * the entry has persistence-engine data.
 */
export function procRow(conn: SyncConn, expiresSec: number, destAddress: string = conn.destAddress): string {
  const template = (conn.flags & IP_VS_CONN_F_TEMPLATE) !== 0;
  const pe = conn.peData && conn.peName !== undefined ? ` ${conn.peName} ${conn.peData.toString('latin1')}` : '';
  return `${protocolName(conn.protocol).padEnd(3)} ${procAddress(conn.clientAddress)} ${hex4(conn.clientPort)} ` +
    `${procAddress(conn.virtualAddress)} ${hex4(conn.virtualPort)} ${procAddress(destAddress)} ${hex4(conn.destPort)} ` +
    `${stateName(conn.protocol, conn.state, template).padEnd(11)} ${String(expiresSec).padStart(7)}${pe}\n`;
}

/** The header line of /proc/net/ip_vs_conn. */
export const PROC_HEADER = 'Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n';

/** A reference count from rows: per client, rows in `state` and all rows (what `awk $8==STATE {print $2}` counts). */
export function referenceCounts(rows: Iterable<{ clientAddress: string; state: string }>, state = 'ESTABLISHED'): Map<string, { count: number; total: number }> {
  const counts = new Map<string, { count: number; total: number }>();
  for (const r of rows) {
    const c = counts.get(r.clientAddress) ?? { count: 0, total: 0 };
    c.total++;
    if (r.state === state) c.count++;
    counts.set(r.clientAddress, c);
  }
  return counts;
}

/** Rows of `ipvsadm -lnc` output as {clientAddress, state} (`[v6]:port` or `v4:port` sources). */
export function parseIpvsadmList(text: string): { protocol: string; state: string; clientAddress: string; virtual: string; dest: string }[] {
  const out: { protocol: string; state: string; clientAddress: string; virtual: string; dest: string }[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6 || f[0] === 'pro' || line.startsWith('IPVS')) continue;
    const source = f[3] as string;
    const host = source.startsWith('[') ? source.slice(1, source.lastIndexOf(']')) : source.slice(0, source.lastIndexOf(':'));
    out.push({ protocol: f[0] as string, state: f[2] as string, clientAddress: host, virtual: f[4] as string, dest: f[5] as string });
  }
  return out;
}
