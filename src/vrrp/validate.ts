// layer: behaviour (vrrp)
// job: check instance and sync-group settings before anything is sent; every refusal names its field.
import { SCOPES } from '../rtnl/constants.js';
import { validateRouteSpec } from '../rtnl/route.js';
import { validateRuleSpec } from '../rtnl/rule.js';
import type { RouteEntry } from './net-plan.js';
import { addressFamily, parseAddressWithPrefix } from './address.js';
import { GARP_DEFAULTS, PRIORITY_OWNER, V2_MAX_ADVERT_INTERVAL_S, V3_MAX_ADVERT_INTERVAL_CS } from './constants.js';
import type {
  NotifyScripts, ResolvedInstance, ResolvedVip, TrackInterfaceConfig, VirtualAddressConfig, VrrpInstanceConfig,
  VrrpSyncGroupConfig,
} from './instance.js';
import { encodePassword, type IpFamily } from './packet.js';
import { defaultVmacName, resolveVmac, VmacFieldError } from './vmac.js';

/** A setting lvskit refuses. `field` is its path, e.g. `instances[0].vrid` or `VI_1.virtualAddresses[2]`. */
export class VrrpConfigError extends Error {
  override name = 'VrrpConfigError';
  constructor(readonly field: string, detail: string) {
    super(`${field}: ${detail}`);
  }
}

/** Linux IFNAMSIZ − 1. */
const IFNAME_MAX = 15;

function integer(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new VrrpConfigError(field, `${JSON.stringify(value)} is not an integer in ${min}..${max}`);
  }
  return value;
}

function ifname(field: string, value: unknown): string {
  if (typeof value !== 'string' || value === '' || Buffer.byteLength(value) > IFNAME_MAX || /[\s/]/.test(value)) {
    throw new VrrpConfigError(field, `${JSON.stringify(value)} is not an interface name (1..${IFNAME_MAX} bytes, no spaces or slashes)`);
  }
  return value;
}

function address(field: string, value: unknown, family: IpFamily): string {
  if (typeof value !== 'string' || addressFamily(value) === undefined) {
    throw new VrrpConfigError(field, `${JSON.stringify(value)} is not an IPv4 or IPv6 address`);
  }
  if (addressFamily(value) !== family) {
    throw new VrrpConfigError(field, `${value} is IPv${addressFamily(value)} but the instance is IPv${family} (the family of its virtual addresses)`);
  }
  return value;
}

/** The interval in centiseconds, within the range of the version's field (RFC 3768 §5.3.7, RFC 5798 §5.2.7). */
function advertInterval(field: string, ms: unknown, version: 2 | 3): number {
  if (version === 2) {
    if (typeof ms !== 'number' || !Number.isInteger(ms) || ms % 1000 !== 0 || ms < 1000 || ms > V2_MAX_ADVERT_INTERVAL_S * 1000) {
      throw new VrrpConfigError(field, `${JSON.stringify(ms)} ms: VRRPv2 carries whole seconds, 1..${V2_MAX_ADVERT_INTERVAL_S} s (RFC 3768 §5.3.7)`);
    }
  } else if (typeof ms !== 'number' || !Number.isInteger(ms) || ms % 10 !== 0 || ms < 10 || ms > V3_MAX_ADVERT_INTERVAL_CS * 10) {
    throw new VrrpConfigError(field, `${JSON.stringify(ms)} ms: VRRPv3 carries centiseconds, 10..${V3_MAX_ADVERT_INTERVAL_CS * 10} ms (RFC 5798 §5.2.7)`);
  }
  return ms / 10;
}

function argv(field: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((a) => typeof a === 'string') || value[0] === '') {
    throw new VrrpConfigError(field, 'a script is an argv: a non-empty array of strings, program first (no shell)');
  }
  return value as string[];
}

function notifyScripts(field: string, value: NotifyScripts | undefined): NotifyScripts {
  const out: NotifyScripts = {};
  for (const key of ['master', 'backup', 'fault', 'stop', 'notify'] as const) {
    const script = value?.[key];
    if (script !== undefined) out[key] = argv(`${field}.${key}`, script);
  }
  return out;
}

function vips(c: VrrpInstanceConfig, f: string, defaultDev: string): { family: IpFamily; vips: ResolvedVip[] } {
  if (!Array.isArray(c.virtualAddresses) || c.virtualAddresses.length === 0) {
    throw new VrrpConfigError(`${f}.virtualAddresses`, 'at least one virtual address is needed');
  }
  if (c.virtualAddresses.length > 255) throw new VrrpConfigError(`${f}.virtualAddresses`, `${c.virtualAddresses.length} addresses; an advert carries at most 255`);
  let family: IpFamily | undefined;
  const seen = new Set<string>();
  const out = c.virtualAddresses.map((entry, i): ResolvedVip => {
    const field = `${f}.virtualAddresses[${i}]`;
    const v: VirtualAddressConfig = typeof entry === 'string' ? { address: entry } : entry;
    let parsed: ReturnType<typeof parseAddressWithPrefix>;
    try {
      parsed = parseAddressWithPrefix(v.address, field);
    } catch (error) {
      throw new VrrpConfigError(field, (error as Error).message.replace(`${field}: `, ''));
    }
    family ??= parsed.family;
    if (parsed.family !== family) {
      throw new VrrpConfigError(field, `${parsed.address} is IPv${parsed.family} but the instance is IPv${family} (from virtualAddresses[0]); use one instance per family`);
    }
    if (seen.has(parsed.address)) throw new VrrpConfigError(field, `${parsed.address} is listed twice`);
    seen.add(parsed.address);
    const dev = v.dev === undefined ? defaultDev : ifname(`${field}.dev`, v.dev);
    const vip: ResolvedVip = { address: parsed.address, prefixLength: parsed.prefixLength, dev };
    if (v.label !== undefined) {
      if (family === 6) throw new VrrpConfigError(`${field}.label`, 'IPv6 addresses have no label');
      if (typeof v.label !== 'string' || !v.label.startsWith(dev) || Buffer.byteLength(v.label) > IFNAME_MAX) {
        throw new VrrpConfigError(`${field}.label`, `${JSON.stringify(v.label)} must begin with the device name ${JSON.stringify(dev)} and be at most ${IFNAME_MAX} bytes`);
      }
      vip.label = v.label;
    }
    if (v.scope !== undefined) {
      if (!Object.hasOwn(SCOPES, v.scope)) throw new VrrpConfigError(`${field}.scope`, `${JSON.stringify(v.scope)} is not one of ${Object.keys(SCOPES).join(', ')}`);
      vip.scope = v.scope;
    }
    if (v.broadcast !== undefined) {
      if (family === 6) throw new VrrpConfigError(`${field}.broadcast`, 'IPv6 addresses have no broadcast address');
      if (typeof v.broadcast !== 'string' || addressFamily(v.broadcast) !== 4) throw new VrrpConfigError(`${field}.broadcast`, `${JSON.stringify(v.broadcast)} is not an IPv4 address`);
      vip.broadcast = v.broadcast;
    }
    return vip;
  });
  return { family: family!, vips: out };
}

function tracking(c: VrrpInstanceConfig, f: string, priority: number): Array<{ dev: string; weight: number }> {
  const out = new Map<string, number>([[c.interface, 0]]);
  (c.trackInterfaces ?? []).forEach((entry, i) => {
    const field = `${f}.trackInterfaces[${i}]`;
    const t: TrackInterfaceConfig = typeof entry === 'string' ? { dev: entry } : entry;
    // `eth1:2` is an address label, not a link: track its link, as the operator means.
    const dev = ifname(`${field}.dev`, t.dev).split(':')[0]!;
    const weight = t.weight === undefined ? 0 : integer(`${field}.weight`, t.weight, -254, 254);
    if (weight !== 0 && priority === PRIORITY_OWNER) {
      throw new VrrpConfigError(`${field}.weight`, 'an address owner (priority 255) cannot have weighted tracking');
    }
    const before = out.get(dev);
    if (before === undefined) out.set(dev, weight);
    else if (weight === 0) out.set(dev, 0); // listed twice: unweighted (FAULT on down) wins, like the interface itself
  });
  return [...out].map(([dev, weight]) => ({ dev, weight }));
}

/**
 * Validate one instance and fill in keepalived's defaults. Throws VrrpConfigError naming the field:
 * VRID outside 1..255, priority outside 1..255, an interval outside the version's range, VIPs of
 * mixed families or of another family than the unicast addresses, VRRPv2 over IPv6, a password on
 * v3, labels that do not begin with their device, weights on an owner.
 */
export function validateInstance(c: VrrpInstanceConfig, path = c?.name ?? 'instance'): ResolvedInstance {
  const f = path;
  if (typeof c !== 'object' || c === null) throw new VrrpConfigError(f, 'an instance must be an object');
  if (typeof c.name !== 'string' || c.name === '' || /\s/.test(c.name)) throw new VrrpConfigError(`${f}.name`, `${JSON.stringify(c.name)} is not an instance name`);
  ifname(`${f}.interface`, c.interface);
  const vrid = integer(`${f}.vrid`, c.vrid, 1, 255);
  const priority = integer(`${f}.priority`, c.priority ?? 100, 1, 255);
  const version = c.version ?? 2;
  if (version !== 2 && version !== 3) throw new VrrpConfigError(`${f}.version`, `${JSON.stringify(version)} is not 2 or 3`);
  const advertIntervalCs = advertInterval(`${f}.advertIntervalMs`, c.advertIntervalMs ?? 1000, version);
  // use_vmac: the VIPs without a dev go on the VMAC (its name is checked below). use_ipvlan: they stay
  // on the instance's interface, as keepalived 2.2.7 puts them (vrrp.c only moves them for a VMAC).
  const onVmac = c.vmac !== undefined && c.vmac !== null && (c.vmac.kind ?? 'macvlan') === 'macvlan';
  const vmacName = !onVmac ? undefined : typeof c.vmac?.name === 'string' ? c.vmac.name : defaultVmacName(vrid);
  const { family, vips: resolvedVips } = vips(c, f, vmacName ?? c.interface);
  if (version === 2 && family === 6) throw new VrrpConfigError(`${f}.version`, 'VRRPv2 (RFC 3768) is IPv4 only; IPv6 needs version 3');
  const out: ResolvedInstance = {
    name: c.name, interface: c.interface, vrid, priority, version, family, advertIntervalCs, vips: resolvedVips,
    preempt: c.preempt ?? true,
    preemptDelayMs: integer(`${f}.preemptDelayMs`, c.preemptDelayMs ?? 0, 0, 1_000_000),
    acceptMode: c.acceptMode ?? true,
    unicastPeers: (c.unicastPeers ?? []).map((p, i) => address(`${f}.unicastPeers[${i}]`, p, family)),
    track: tracking(c, f, priority),
    garp: {
      masterDelayMs: integer(`${f}.garpMasterDelayMs`, c.garpMasterDelayMs ?? GARP_DEFAULTS.masterDelayMs, 0, 3_600_000),
      masterRepeat: integer(`${f}.garpMasterRepeat`, c.garpMasterRepeat ?? GARP_DEFAULTS.masterRepeat, 0, 1000),
      masterRefreshMs: integer(`${f}.garpMasterRefreshMs`, c.garpMasterRefreshMs ?? GARP_DEFAULTS.masterRefreshMs, 0, 86_400_000),
      masterRefreshRepeat: integer(`${f}.garpMasterRefreshRepeat`, c.garpMasterRefreshRepeat ?? GARP_DEFAULTS.masterRefreshRepeat, 1, 1000),
    },
    notify: notifyScripts(`${f}.notify`, c.notify),
  };
  if (typeof out.preempt !== 'boolean') throw new VrrpConfigError(`${f}.preempt`, 'must be true or false');
  if (typeof out.acceptMode !== 'boolean') throw new VrrpConfigError(`${f}.acceptMode`, 'must be true or false');
  if (c.authPass !== undefined) {
    if (version === 3) throw new VrrpConfigError(`${f}.authPass`, 'VRRPv3 has no authentication (RFC 5798 §9); remove it or use version 2');
    if (typeof c.authPass !== 'string' || c.authPass === '') throw new VrrpConfigError(`${f}.authPass`, 'must be a non-empty string');
    out.authData = encodePassword(c.authPass);
  }
  if (c.unicastSourceAddress !== undefined) out.unicastSourceAddress = address(`${f}.unicastSourceAddress`, c.unicastSourceAddress, family);
  if (c.lvsSyncDaemonInterface !== undefined) out.lvsSyncDaemonInterface = ifname(`${f}.lvsSyncDaemonInterface`, c.lvsSyncDaemonInterface);
  if (c.virtualRoutes && c.virtualRoutes.length > 0) out.routes = c.virtualRoutes.map((r, i) => checked(`${f}.virtualRoutes[${i}]`, r, validateRoute));
  if (c.virtualRules && c.virtualRules.length > 0) out.rules = c.virtualRules.map((r, i) => checked(`${f}.virtualRules[${i}]`, r, validateRuleSpec));
  if (c.vmac !== undefined) {
    try {
      out.vmac = resolveVmac(c.vmac, c.interface, vrid, family, (field, name) => ifname(`${f}.vmac.${field}`, name));
    } catch (error) {
      if (!(error instanceof VmacFieldError)) throw error;
      throw new VrrpConfigError(error.field === '' ? `${f}.vmac` : `${f}.vmac.${error.field}`, error.message);
    }
  }
  return out;
}

/** A route's fields checked as the codec checks them (links by name are resolved when it is added). */
function validateRoute(r: RouteEntry): void {
  const { dev: _dev, nexthops, addMode: _mode, ...rest } = r;
  validateRouteSpec({ ...rest, ...(nexthops ? { nexthops: nexthops.map(({ dev: _d, ...nh }) => nh) } : {}) });
}

/** A codec's TypeError/RangeError as a VrrpConfigError naming the field; the value copied (the caller's object is not kept). */
function checked<T>(field: string, value: T, validate: (v: T) => void): T {
  try {
    validate(value);
  } catch (error) {
    const m = /^([\w.[\]]+): (.*)$/s.exec((error as Error).message);
    throw new VrrpConfigError(m ? `${field}.${m[1]}` : field, m ? (m[2] as string) : (error as Error).message);
  }
  return structuredClone(value);
}

/**
 * Validate a whole set: each instance, then what spans them — unique names, one VRID per interface
 * and family, sync groups of at least two existing instances, each instance in at most one group.
 */
export function validateVrrpConfig(instances: readonly VrrpInstanceConfig[], syncGroups: readonly VrrpSyncGroupConfig[] = []): {
  instances: ResolvedInstance[];
  syncGroups: Array<{ name: string; members: string[]; notify: NotifyScripts }>;
} {
  if (!Array.isArray(instances) || instances.length === 0) throw new VrrpConfigError('instances', 'at least one instance is needed');
  const resolved = instances.map((c, i) => validateInstance(c, `instances[${i}]`));
  const names = new Map<string, number>();
  const vrids = new Map<string, string>();
  const vmacs = new Map<string, string>();
  const interfaces = new Set(resolved.map((r) => r.interface));
  resolved.forEach((r, i) => {
    if (r.vmac) {
      const other = vmacs.get(r.vmac.name);
      if (other !== undefined) throw new VrrpConfigError(`instances[${i}].vmac.name`, `${r.vmac.name} is already the ${r.vmac.kind} of ${other}; give each instance's its own name`);
      if (interfaces.has(r.vmac.name)) throw new VrrpConfigError(`instances[${i}].vmac.name`, `${r.vmac.name} is an instance's interface; a ${r.vmac.kind} needs a name of its own`);
      vmacs.set(r.vmac.name, r.name);
    }
    if (names.has(r.name)) throw new VrrpConfigError(`instances[${i}].name`, `${r.name} is also instances[${names.get(r.name)}]`);
    names.set(r.name, i);
    const key = `${r.interface}/IPv${r.family}/${r.vrid}`;
    const other = vrids.get(key);
    if (other) throw new VrrpConfigError(`instances[${i}].vrid`, `VRID ${r.vrid} on ${r.interface} (IPv${r.family}) is already used by ${other}`);
    vrids.set(key, r.name);
  });
  const grouped = new Map<string, string>();
  const groups = syncGroups.map((g, i) => {
    const f = `syncGroups[${i}]`;
    if (typeof g.name !== 'string' || g.name === '') throw new VrrpConfigError(`${f}.name`, 'a sync group needs a name');
    if (!Array.isArray(g.members) || g.members.length < 2) throw new VrrpConfigError(`${f}.members`, 'a sync group needs at least two instances');
    g.members.forEach((member, j) => {
      if (!names.has(member)) throw new VrrpConfigError(`${f}.members[${j}]`, `no instance named ${JSON.stringify(member)}`);
      const before = grouped.get(member);
      if (before) throw new VrrpConfigError(`${f}.members[${j}]`, `${member} is already in sync group ${before}`);
      grouped.set(member, g.name);
    });
    return { name: g.name, members: [...g.members], notify: notifyScripts(`${f}.notify`, g.notify) };
  });
  return { instances: resolved, syncGroups: groups };
}
