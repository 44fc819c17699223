// layer: config (pure)
// job: the IPVS services a configuration declares: virtual_server by address+port or fwmark, virtual_server_group entries expanded (ranges, prefixes), duplicates found.
import { encodeIPv6, formatIPv6 } from '../../bytes.js';
import { serviceName, type Protocol, type ServiceKey } from '../../ipvs/model.js';
import type { SourceLocation } from '../../config/diagnostics.js';
import type { KeepalivedConfig, VirtualServer, VirtualServerGroupEntry } from '../../config/model.js';
import { virtualServerName } from '../../config/model.js';
import { ipv4ToNumber } from '../../config/values.js';
import type { ConversionLog } from './common.js';

/** Most services one virtual_server_group entry may expand to (a wider range is an error). */
export const MAX_GROUP_ENTRY_SERVICES = 65_536;

/** One IPVS service of a virtual_server (a virtual_server_group gives one per address and fwmark). */
export interface DeclaredService {
  key: ServiceKey;
  /** `TCP 10.0.0.1:80`, `FWM 5`: the service's name in the IPVS client and in messages. */
  name: string;
  /** The default port of its real servers and sorry server: the service's port (0 for a firewall mark). */
  port: number;
  vs: VirtualServer;
  /** The virtual_server keyword, or the virtual_server_group entry. */
  location: SourceLocation;
}

function protocolOf(vs: VirtualServer): Protocol {
  // keepalived: an address service without `protocol` is UDP (config validation warns).
  return (vs.protocol ?? 'UDP').toLowerCase() as Protocol;
}

/** A firewall-mark service's family: ip_family, else that of its first real (or sorry) server, else IPv4. */
function fwmarkFamily(vs: VirtualServer, entryFamily?: 4 | 6): 4 | 6 {
  return entryFamily ?? vs.ipFamily ?? vs.realServers[0]?.family ?? vs.sorryServer?.family ?? 4;
}

function ipv6ToBigInt(address: string): bigint {
  return BigInt(`0x${encodeIPv6(address).toString('hex')}`);
}

function bigIntToIPv6(n: bigint): string {
  return formatIPv6(Buffer.from(n.toString(16).padStart(32, '0'), 'hex'));
}

function numberToIPv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/** The addresses of `A-B`, `A/LEN` or `A`, in order; undefined when there are more than the cap. */
function entryAddresses(e: Extract<VirtualServerGroupEntry, { kind: 'address' }>): string[] | undefined {
  const bits = e.family === 4 ? 32 : 128;
  const toBig = (a: string): bigint => (e.family === 4 ? BigInt(ipv4ToNumber(a)) : ipv6ToBigInt(a));
  const fromBig = (n: bigint): string => (e.family === 4 ? numberToIPv4(Number(n)) : bigIntToIPv6(n));
  let first = toBig(e.address);
  let last = first;
  if (e.rangeEnd !== undefined) last = toBig(e.rangeEnd);
  else if (e.prefixLength !== undefined) {
    const size = 1n << BigInt(bits - e.prefixLength);
    first -= first % size;
    last = first + size - 1n;
  }
  if (last < first) return [];
  if (last - first + 1n > BigInt(MAX_GROUP_ENTRY_SERVICES)) return undefined;
  const out: string[] = [];
  for (let n = first; n <= last; n++) out.push(fromBig(n));
  return out;
}

function groupServices(log: ConversionLog, config: KeepalivedConfig, vs: VirtualServer, group: string): DeclaredService[] {
  const g = config.virtualServerGroups.find((x) => x.name === group);
  if (!g) return []; // config validation reports the undefined group
  const out: DeclaredService[] = [];
  for (const e of g.entries) {
    if (e.kind === 'fwmark') {
      const key: ServiceKey = { fwmark: e.fwmark, family: fwmarkFamily(vs, e.family) };
      out.push({ key, name: serviceName(key), port: 0, vs, location: e.location });
      continue;
    }
    const addresses = entryAddresses(e);
    if (addresses === undefined) {
      log.error(e.location, `virtual_server_group ${group}: this entry names more than ${MAX_GROUP_ENTRY_SERVICES} addresses; not converted`, 'out-of-range');
      continue;
    }
    if (addresses.length === 0) log.error(e.location, `virtual_server_group ${group}: the range ends before it starts`, 'invalid-value');
    for (const address of addresses) {
      const key: ServiceKey = { protocol: protocolOf(vs), address, port: e.port ?? 0 };
      out.push({ key, name: serviceName(key), port: e.port ?? 0, vs, location: e.location });
    }
  }
  return out;
}

/**
 * Every IPVS service the virtual servers declare, in file order. A virtual server without real
 * servers declares none (keepalived ignores it; config validation warns). A service declared twice
 * (two virtual servers, or a group overlapping another) is an error at the second and is kept once.
 */
export function declaredServices(log: ConversionLog, config: KeepalivedConfig): DeclaredService[] {
  const out: DeclaredService[] = [];
  const seen = new Map<string, DeclaredService>();
  for (const vs of config.virtualServers) {
    if (vs.realServers.length === 0) continue;
    let services: DeclaredService[];
    if (vs.key.kind === 'address') {
      const key: ServiceKey = { protocol: protocolOf(vs), address: vs.key.address, port: vs.key.port ?? 0 };
      services = [{ key, name: serviceName(key), port: vs.key.port ?? 0, vs, location: vs.location }];
    } else if (vs.key.kind === 'fwmark') {
      const key: ServiceKey = { fwmark: vs.key.fwmark, family: fwmarkFamily(vs) };
      services = [{ key, name: serviceName(key), port: 0, vs, location: vs.location }];
    } else {
      services = groupServices(log, config, vs, vs.key.group);
    }
    for (const s of services) {
      const prev = seen.get(s.name);
      if (prev) {
        log.diagnostics.push({
          severity: 'error', code: 'duplicate', location: s.location,
          message: `virtual_server ${virtualServerName(vs.key)}: IPVS service ${s.name} is already declared`,
          related: [{ message: `virtual_server ${virtualServerName(prev.vs.key)} declares it`, location: prev.location }],
        });
        continue;
      }
      seen.set(s.name, s);
      out.push(s);
    }
  }
  return out;
}
