// layer: kernel client (IPVS)
// job: check services, real servers, sync daemons and timeouts before any request, naming the bad field; canonical forms.
import { isIPv4, isIPv6 } from 'node:net';
import { encodeIPv4, encodeIPv6, formatIPv6 } from '../bytes.js';
import { maskToPrefix } from './codec.js';
import {
  SCHEDULERS, addressFamily, destinationName, isFwmarkKey, serviceFamily, serviceName, type Destination, type Family,
  type Persistence, type Protocol, type SchedulerFlag, type ServiceKey, type ServiceSettings, type SyncDaemon, type Timeouts,
  type Tunnel, type VirtualService,
} from './model.js';

/** Bad input, found before anything was sent. `field` is the path of the offending value. */
export class IpvsValidationError extends Error {
  override name = 'IpvsValidationError';
  readonly code = 'ERR_IPVS_INVALID';

  constructor(readonly field: string, readonly reason: string, readonly value?: unknown) {
    super(`${field}: ${reason}`);
  }
}

/** The longest persistence timeout ipvsadm accepts (31 days), also used for connection timeouts. */
export const MAX_TIMEOUT_SEC = 86400 * 31;
const SCHEDULER_FLAGS: readonly SchedulerFlag[] = ['sh-fallback', 'sh-port', 'mh-fallback', 'mh-port', 'flag-1', 'flag-2', 'flag-3'];
const FLAG_ORDER: Record<SchedulerFlag, number> = { 'sh-fallback': 1, 'mh-fallback': 1, 'flag-1': 1, 'sh-port': 2, 'mh-port': 2, 'flag-2': 2, 'flag-3': 3 };
const PERSISTENCE_ENGINES = ['sip'];
const PROTOCOLS: readonly Protocol[] = ['tcp', 'udp', 'sctp'];

function fail(field: string, reason: string, value?: unknown): never {
  throw new IpvsValidationError(field, reason, value);
}

/** `base.prop`, built only when an error needs it (validation runs on every entry of large tables). */
function at(base: string, prop: string): string {
  return prop === '' ? base : `${base}.${prop}`;
}

function integer(base: string, prop: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(at(base, prop), `must be an integer in ${min}…${max}, got ${JSON.stringify(value)}`, value);
  }
  return value;
}

function oneOf<T extends string>(base: string, prop: string, value: unknown, allowed: readonly T[], what: string): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    fail(at(base, prop), `unknown ${what} ${JSON.stringify(value)} (one of ${allowed.join(', ')})`, value);
  }
  return value as T;
}

/**
 * An IP address in canonical text (dotted IPv4 as node:net accepts it, which is already
 * canonical; IPv6 as RFC 5952), or a validation error naming `base.prop`.
 */
export function canonicalAddress(base: string, prop: string, value: unknown, only?: Family): string {
  const v4 = typeof value === 'string' && isIPv4(value);
  if (typeof value !== 'string' || !(v4 || (isIPv6(value) && !value.includes('%')))) {
    fail(at(base, prop), `not an IPv4 or IPv6 address: ${JSON.stringify(value)}`, value);
  }
  const family = v4 ? 4 : 6;
  if (only !== undefined && family !== only) fail(at(base, prop), `IPv${family} address where IPv${only} is required: ${value}`, value);
  return v4 ? value : formatIPv6(encodeIPv6(value));
}

function object(field: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(field, 'must be an object', value);
  return value as Record<string, unknown>;
}

/** A service identity, checked and canonical (fwmark services get their family). */
export function validateServiceKey(input: unknown, field = 'service'): ServiceKey {
  const s = object(field, input);
  if (s['fwmark'] !== undefined) {
    if (s['address'] !== undefined || s['protocol'] !== undefined || s['port'] !== undefined) {
      fail(field, 'a service is either fwmark or protocol+address+port, not both');
    }
    const fwmark = integer(field, 'fwmark', s['fwmark'], 1, 0xffffffff);
    const family = s['family'] === undefined ? 4 : s['family'];
    if (family !== 4 && family !== 6) fail(`${field}.family`, `must be 4 or 6, got ${JSON.stringify(family)}`, family);
    return { fwmark, family };
  }
  if (s['family'] !== undefined && s['address'] !== undefined && s['family'] !== addressFamily(String(s['address']))) {
    fail(`${field}.family`, `IPv${String(s['family'])} does not match the address ${String(s['address'])}`, s['family']);
  }
  const protocol = oneOf(field, 'protocol', s['protocol'], PROTOCOLS, 'protocol');
  const address = canonicalAddress(field, 'address', s['address']);
  const port = integer(field, 'port', s['port'], 0, 65535);
  return { protocol, address, port };
}

/** Refuses the 0.1 spelling of a field renamed for its unit (`timeoutS` → `timeoutSec`), naming the new one. */
function refuseOldNames(field: string, value: Record<string, unknown>, renames: Readonly<Record<string, string>>): void {
  for (const [old, now] of Object.entries(renames)) {
    if (value[old] !== undefined) fail(at(field, old), `renamed ${now} in 0.2 (seconds are spelled Sec)`, value[old]);
  }
}

function validatePersistence(field: string, input: unknown, family: Family): Persistence {
  const p = object(field, input);
  refuseOldNames(field, p, { timeoutS: 'timeoutSec' });
  const out: Persistence = { timeoutSec: integer(field, 'timeoutSec', p['timeoutSec'], 1, MAX_TIMEOUT_SEC) };
  if (p['netmask'] !== undefined && p['prefixLength'] !== undefined) fail(field, 'give netmask or prefixLength, not both');
  if (p['netmask'] !== undefined) {
    if (family === 6) fail(`${field}.netmask`, 'IPv6 services take prefixLength, not a dotted netmask', p['netmask']);
    const mask = canonicalAddress(field, 'netmask', p['netmask'], 4);
    const prefix = maskToPrefix(encodeIPv4(mask).readUInt32BE(0));
    if (prefix === undefined) out.netmask = mask; else out.prefixLength = prefix;
  } else {
    out.prefixLength = p['prefixLength'] === undefined ? (family === 6 ? 128 : 32)
      : integer(field, 'prefixLength', p['prefixLength'], family === 6 ? 1 : 0, family === 6 ? 128 : 32);
  }
  if (p['engine'] !== undefined) out.engine = oneOf(field, 'engine', p['engine'], PERSISTENCE_ENGINES, 'persistence engine');
  return out;
}

/**
 * The name the kernel's reply decodes to: under sh and mh, the raw bits `flag-1` and `flag-2` are that
 * scheduler's `-fallback` and `-port` (so a desired service compares equal to the one read back).
 */
function schedulersName(flag: SchedulerFlag, scheduler: string): SchedulerFlag {
  if (scheduler !== 'sh' && scheduler !== 'mh') return flag;
  if (flag === 'flag-1') return `${scheduler}-fallback`;
  if (flag === 'flag-2') return `${scheduler}-port`;
  return flag;
}

/** Service settings, checked and canonical (flags in kernel bit order, defaults filled in). */
export function validateServiceSettings(input: unknown, key: ServiceKey, field = 'service'): ServiceSettings {
  const s = object(field, input);
  const out: ServiceSettings = { scheduler: oneOf(field, 'scheduler', s['scheduler'], SCHEDULERS, 'scheduler') };
  if (s['schedulerFlags'] !== undefined) {
    if (!Array.isArray(s['schedulerFlags'])) fail(`${field}.schedulerFlags`, 'must be an array', s['schedulerFlags']);
    const flags = s['schedulerFlags'].map((f, i) => {
      const flag = oneOf(field, `schedulerFlags[${i}]`, f, SCHEDULER_FLAGS, 'scheduler flag');
      const owner = flag.startsWith('sh-') ? 'sh' : flag.startsWith('mh-') ? 'mh' : undefined;
      if (owner && owner !== out.scheduler) fail(`${field}.schedulerFlags[${i}]`, `${flag} is a flag of the ${owner} scheduler, not ${out.scheduler}`, f);
      return schedulersName(flag, out.scheduler);
    });
    const unique = [...new Set(flags)].sort((a, b) => FLAG_ORDER[a] - FLAG_ORDER[b]);
    if (unique.length !== new Set(unique.map((f) => FLAG_ORDER[f])).size) fail(`${field}.schedulerFlags`, 'the same flag bit is named twice', flags);
    if (unique.length > 0) out.schedulerFlags = unique;
  }
  if (s['persistence'] !== undefined) out.persistence = validatePersistence(`${field}.persistence`, s['persistence'], serviceFamily(key));
  if (s['onePacket'] !== undefined && s['onePacket'] !== false) {
    if (s['onePacket'] !== true) fail(`${field}.onePacket`, 'must be true or false', s['onePacket']);
    if (isFwmarkKey(key) || key.protocol !== 'udp') fail(`${field}.onePacket`, 'one-packet scheduling is only for UDP services');
    out.onePacket = true;
  }
  return out;
}

function validateTunnel(field: string, input: unknown): Tunnel {
  const t = input === undefined ? {} : object(field, input);
  const type = t['type'] === undefined ? 'ipip' : oneOf(field, 'type', t['type'], ['ipip', 'gue', 'gre'] as const, 'tunnel type');
  const checksum = t['checksum'] === undefined ? 'none' : oneOf(field, 'checksum', t['checksum'], ['none', 'csum', 'remcsum'] as const, 'tunnel checksum');
  let port = 0;
  if (type === 'gue') port = integer(field, 'port', t['port'], 1, 65535);
  else if (t['port'] !== undefined && t['port'] !== 0) fail(`${field}.port`, `only GUE tunnels have a port (type is ${type})`, t['port']);
  if (checksum === 'remcsum' && type !== 'gue') fail(`${field}.checksum`, 'remcsum is only for GUE tunnels', checksum);
  return { type, port, checksum };
}

/** A real server, checked against its service and canonical (thresholds and tunnel filled in). */
export function validateDestination(input: unknown, key: ServiceKey, field = 'destination'): Destination {
  const d = object(field, input);
  const address = canonicalAddress(field, 'address', d['address']);
  const forward = oneOf(field, 'forward', d['forward'], ['dr', 'nat', 'tun'] as const, 'forwarding method');
  const family = addressFamily(address);
  if (family !== serviceFamily(key) && forward !== 'tun') {
    fail(`${field}.address`, `IPv${family} real server in an IPv${serviceFamily(key)} service needs forward "tun" (the kernel forwards mixed families only by tunnel)`, address);
  }
  const out: Destination = {
    address,
    port: integer(field, 'port', d['port'], 0, 65535),
    forward,
    weight: integer(field, 'weight', d['weight'], 0, 0x7fffffff),
    upperThreshold: d['upperThreshold'] === undefined ? 0 : integer(field, 'upperThreshold', d['upperThreshold'], 0, 0xffffffff),
    lowerThreshold: d['lowerThreshold'] === undefined ? 0 : integer(field, 'lowerThreshold', d['lowerThreshold'], 0, 0xffffffff),
  };
  if ((out.lowerThreshold ?? 0) > (out.upperThreshold ?? 0)) {
    fail(`${field}.lowerThreshold`, `${out.lowerThreshold} is above upperThreshold ${out.upperThreshold}`, out.lowerThreshold);
  }
  if (forward === 'tun') out.tunnel = validateTunnel(`${field}.tunnel`, d['tunnel']);
  else if (d['tunnel'] !== undefined) fail(`${field}.tunnel`, `tunnel settings need forward "tun" (forward is ${forward})`);
  return out;
}

/** A real server's identity (address and port) within its service, for delete. */
export function validateDestinationKey(input: unknown, field = 'destination'): { address: string; port: number } {
  const d = object(field, input);
  const address = canonicalAddress(field, 'address', d['address']);
  return { address, port: integer(field, 'port', d['port'], 0, 65535) };
}

/** A whole virtual service with its real servers; duplicated real servers are refused. */
export function validateService(input: unknown, field = 'service'): VirtualService {
  const key = validateServiceKey(input, field);
  const settings = validateServiceSettings(input, key, field);
  const raw = (input as { destinations?: unknown }).destinations;
  const svc: VirtualService = { ...key, ...settings };
  if (raw === undefined) return svc;
  if (!Array.isArray(raw)) fail(`${field}.destinations`, 'must be an array', raw);
  // Large tables pass through here: a real server's field path is built only for an error, and
  // duplicates are found without a name per real server where the list is short.
  const dests: Destination[] = new Array<Destination>(raw.length);
  const seen = raw.length > LINEAR_DUPLICATE_SCAN ? new Map<string, number>() : undefined;
  for (let i = 0; i < raw.length; i++) {
    let dest: Destination;
    try {
      dest = validateDestination(raw[i], key, '');
    } catch (err) {
      throw err instanceof IpvsValidationError ? new IpvsValidationError(`${field}.destinations[${i}]${err.field}`, err.reason, err.value) : err;
    }
    let first: number | undefined;
    if (seen) {
      const name = destinationName(dest);
      first = seen.get(name);
      seen.set(name, first ?? i);
    } else {
      for (let j = 0; j < i && first === undefined; j++) {
        const other = dests[j] as Destination;
        if (other.port === dest.port && other.address === dest.address) first = j;
      }
    }
    if (first !== undefined) fail(`${field}.destinations[${i}]`, `real server ${destinationName(dest)} duplicates ${field}.destinations[${first}]`, raw[i]);
    dests[i] = dest;
  }
  svc.destinations = dests;
  return svc;
}

/** Up to this many real servers, duplicates are found by comparing pairs (no allocation); beyond, by name. */
const LINEAR_DUPLICATE_SCAN = 32;

/** Marks an array that validateServices returned (canonical and checked), so plan() need not check it again. */
const VALIDATED: unique symbol = Symbol('lvskit.ipvs.validated');

/** A table validateServices returned. */
export type ValidatedServices = readonly VirtualService[] & { readonly [VALIDATED]: true };

/** True when `services` is a table validateServices returned (not copied or changed since: it is frozen). */
export function isValidated(services: readonly VirtualService[]): services is ValidatedServices {
  return (services as Partial<ValidatedServices>)[VALIDATED] === true;
}

/**
 * A desired table: every service valid, no service twice. The result is a canonical copy, a
 * frozen array marked so that plan() trusts it without checking it again: validate a
 * configuration once when it is loaded, then reconcile with it as often as needed (do not change
 * the services in it; build a new table instead).
 */
export function validateServices(input: unknown, field = 'services'): ValidatedServices {
  if (Array.isArray(input) && isValidated(input)) return input;
  if (!Array.isArray(input)) fail(field, 'must be an array of services', input);
  const seen = new Map<string, number>();
  const out = input.map((s, i) => {
    const svc = validateService(s, `${field}[${i}]`);
    const name = serviceName(svc);
    const first = seen.get(name);
    if (first !== undefined) fail(`${field}[${i}]`, `service ${name} duplicates ${field}[${first}]`);
    seen.set(name, i);
    return svc;
  });
  Object.defineProperty(out, VALIDATED, { value: true });
  return Object.freeze(out) as unknown as ValidatedServices;
}


function isMulticast(address: string): boolean {
  return addressFamily(address) === 6 ? address.toLowerCase().startsWith('ff') : ((encodeIPv4(address)[0] ?? 0) & 0xf0) === 0xe0;
}

/** A sync daemon to start. */
export function validateDaemon(input: unknown, field = 'daemon'): SyncDaemon {
  const d = object(field, input);
  const state = oneOf(field, 'state', d['state'], ['master', 'backup'] as const, 'sync daemon state');
  const ifname = d['interface'];
  if (typeof ifname !== 'string' || ifname.length < 1 || ifname.length > 15 || /[\s/]/.test(ifname)) {
    fail(`${field}.interface`, `must be an interface name of 1…15 characters, got ${JSON.stringify(ifname)}`, ifname);
  }
  const out: SyncDaemon = { state, interface: ifname, syncId: integer(field, 'syncId', d['syncId'], 0, 255) };
  if (d['maxLength'] !== undefined) out.maxLength = integer(field, 'maxLength', d['maxLength'], 1, 65535);
  if (d['group'] !== undefined) {
    out.group = canonicalAddress(field, 'group', d['group']);
    if (!isMulticast(out.group)) fail(`${field}.group`, `not a multicast address: ${out.group}`, d['group']);
  }
  if (d['port'] !== undefined) out.port = integer(field, 'port', d['port'], 1, 65535);
  if (d['ttl'] !== undefined) out.ttl = integer(field, 'ttl', d['ttl'], 1, 255);
  return out;
}

/** Timeouts to set: at least one, each 0 (leave as is) … 31 days. */
export function validateTimeouts(input: unknown, field = 'timeouts'): Partial<Timeouts> {
  const t = object(field, input);
  refuseOldNames(field, t, { tcpS: 'tcpSec', tcpFinS: 'tcpFinSec', udpS: 'udpSec' });
  const out: Partial<Timeouts> = {};
  for (const k of ['tcpSec', 'tcpFinSec', 'udpSec'] as const) {
    if (t[k] !== undefined) out[k] = integer(field, k, t[k], 0, MAX_TIMEOUT_SEC);
  }
  if (Object.keys(out).length === 0) fail(field, 'give at least one of tcpSec, tcpFinSec, udpSec');
  return out;
}
