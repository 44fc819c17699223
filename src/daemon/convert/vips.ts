// layer: config (pure)
// job: VIPs (virtual_ipaddress, virtual_ipaddress_excluded) → rtnl AddressSpec, and the scope / brd rules the VRRP conversion shares.
import type { AddressSpec } from '../../rtnl/address.js';
import { IFA_F_NODAD, IFA_F_NOPREFIXROUTE, SCOPES, type Scope } from '../../rtnl/constants.js';
import type { Diagnostic } from '../../config/diagnostics.js';
import type { KeepalivedConfig, VirtualIpAddress, VrrpInstance } from '../../config/model.js';
import { ipv4ToNumber } from '../../config/values.js';

/** IFA_F_HOMEADDRESS (linux/if_addr.h). */
export const IFA_F_HOMEADDRESS = 0x10;
/** IFA_F_MANAGETEMPADDR (linux/if_addr.h). */
export const IFA_F_MANAGETEMPADDR = 0x100;
/** IFA_F_MCAUTOJOIN (linux/if_addr.h). */
export const IFA_F_MCAUTOJOIN = 0x400;

/** keepalived's `default_interface` when global_defs sets none. */
export const DEFAULT_INTERFACE = 'eth0';

/** Looks up an interface index by name (e.g. from RtnlClient.listLinks()); undefined when there is none. */
export type IfindexLookup = (name: string) => number | undefined;

/** One VIP ready for RtnlClient, with the entry it came from. */
export interface VipAddress {
  spec: AddressSpec;
  /** The interface the address goes on. */
  device: string;
  vip: VirtualIpAddress;
  /** From virtual_ipaddress_excluded (not carried in adverts). */
  excluded: boolean;
}

/** A VRRP instance's virtual addresses as rtnetlink address specs. */
export interface VipConversion {
  addresses: VipAddress[];
  /** What could not be converted (unknown interface, options the rtnl client lacks), with the entry's location. */
  diagnostics: Diagnostic[];
}

/**
 * A VIP list without its repeats: the first entry of each address stays (keepalived's sample
 * `keepalived.conf.vrrp` lists 192.168.200.18 twice, the second with a label; `lvskit check` warns).
 */
export function distinctVips(vips: readonly VirtualIpAddress[]): VirtualIpAddress[] {
  const seen = new Set<string>();
  return vips.filter((v) => !seen.has(v.address) && seen.add(v.address));
}

/**
 * The addresses an instance adds when it becomes MASTER (and deletes when it leaves): its
 * virtual_ipaddress and virtual_ipaddress_excluded entries, each on its `dev` (default: the
 * instance's interface, else global_defs default_interface, else eth0).
 */
export function vipAddressSpecs(config: KeepalivedConfig, instance: VrrpInstance, ifindexOf: IfindexLookup): VipConversion {
  const out: VipConversion = { addresses: [], diagnostics: [] };
  const fallback = instance.interface ?? config.globalDefs.defaultInterface ?? DEFAULT_INTERFACE;
  const entries = [
    ...distinctVips(instance.virtualIpAddresses).map((vip) => ({ vip, excluded: false })),
    ...distinctVips(instance.virtualIpAddressesExcluded).map((vip) => ({ vip, excluded: true })),
  ];
  for (const { vip, excluded } of entries) {
    const problem = (message: string, severity: 'error' | 'warning' = 'error'): void => {
      out.diagnostics.push({ severity, code: severity === 'error' ? 'invalid-value' : 'unsupported-keyword', message: `${vip.address}: ${message}`, location: vip.location });
    };
    const device = vip.device ?? fallback;
    const ifindex = ifindexOf(device);
    if (ifindex === undefined) {
      problem(`interface ${device} does not exist`);
      continue;
    }
    const spec: AddressSpec = { ifindex, address: vip.address, prefixLength: vip.prefixLength ?? (vip.family === 4 ? 32 : 128) };
    const scope = scopeOf(vip.scope);
    if (scope === null) problem(`scope ${vip.scope} has no name the rtnl client accepts (global, site, link, host, nowhere)`);
    else if (scope !== undefined) spec.scope = scope;
    if (vip.label !== undefined) {
      if (vip.family === 4) spec.label = vip.label;
      else problem('IPv6 addresses have no labels; label ignored', 'warning');
    }
    if (vip.broadcast !== undefined) {
      if (vip.family === 4) spec.broadcast = broadcastOf(vip.address, spec.prefixLength as number, vip.broadcast);
      else problem('IPv6 has no broadcast address; brd ignored', 'warning');
    }
    const flags = (vip.noDad ? IFA_F_NODAD : 0) | (vip.noPrefixRoute ? IFA_F_NOPREFIXROUTE : 0) | (vip.home ? IFA_F_HOMEADDRESS : 0)
      | (vip.mngTmpAddr ? IFA_F_MANAGETEMPADDR : 0) | (vip.autoJoin ? IFA_F_MCAUTOJOIN : 0);
    if (flags !== 0) spec.flags = flags;
    if (vip.peer !== undefined) problem('peer addresses are not supported by the rtnl client yet; peer ignored', 'warning');
    if (vip.preferredLifetimeSec !== undefined) problem('preferred_lft is not supported by the rtnl client yet; ignored', 'warning');
    out.addresses.push({ spec, device, vip, excluded });
  }
  return out;
}

/** A scope by name; undefined for none, null for a number without a name. */
export function scopeOf(scope: string | undefined): Scope | undefined | null {
  if (scope === undefined) return undefined;
  if (Object.hasOwn(SCOPES, scope)) return scope as Scope;
  const byNumber = (Object.entries(SCOPES) as [Scope, number][]).find(([, n]) => String(n) === scope);
  return byNumber ? byNumber[0] : null;
}

/** `brd ADDR`, or `+` (host bits set) / `-` (host bits clear) computed from the address and prefix. */
export function broadcastOf(address: string, prefixLength: number, brd: string): string {
  if (brd !== '+' && brd !== '-') return brd;
  const hostMask = prefixLength >= 32 ? 0 : 2 ** (32 - prefixLength) - 1;
  const addr = ipv4ToNumber(address);
  const value = brd === '+' ? addr - (addr % (hostMask + 1)) + hostMask : addr - (addr % (hostMask + 1));
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}
