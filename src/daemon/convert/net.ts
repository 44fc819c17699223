// layer: config (pure)
// job: static_ipaddress / static_routes / static_rules → the static NetSet a balancer adds at start; virtual_routes /
//      virtual_rules entries → an instance's RouteEntry / RuleSpec.
import type { Diagnostic } from '../../config/diagnostics.js';
import type { ConfigRoute, ConfigRule, KeepalivedConfig, VirtualIpAddress } from '../../config/model.js';
import type { AddressTarget } from '../../rtnl/client.js';
import { IFA_F_NODAD, IFA_F_NOPREFIXROUTE } from '../../rtnl/constants.js';
import type { RuleSpec } from '../../rtnl/rule.js';
import type { NetSet, RouteEntry } from '../../vrrp/net-plan.js';
import { broadcastOf, scopeOf } from './vips.js';

/** A route line as the rtnl client takes it (links by name). */
export function routeEntry(r: ConfigRoute): RouteEntry {
  const { location: _location, noTrack: _noTrack, ...rest } = r;
  return structuredClone(rest);
}

/** A rule line as the rtnl client takes it. */
export function ruleEntry(r: ConfigRule): RuleSpec {
  const { location: _location, noTrack: _noTrack, ...rest } = r;
  return structuredClone(rest);
}

function staticAddress(a: VirtualIpAddress, diagnostics: Diagnostic[]): AddressTarget | undefined {
  const out: AddressTarget = { dev: a.device as string, address: a.address, prefixLength: a.prefixLength ?? (a.family === 4 ? 32 : 128) };
  if (a.label !== undefined) out.label = a.label;
  const scope = scopeOf(a.scope);
  if (scope === null) {
    diagnostics.push({ severity: 'error', code: 'invalid-value', location: a.location, message: `${a.address}: scope ${a.scope} has no name lvskit accepts (global, site, link, host, nowhere)` });
    return undefined;
  }
  if (scope !== undefined) out.scope = scope;
  if (a.broadcast !== undefined && a.family === 4) out.broadcast = broadcastOf(a.address, out.prefixLength as number, a.broadcast);
  const flags = (a.noDad || a.family === 6 ? IFA_F_NODAD : 0) | (a.noPrefixRoute ? IFA_F_NOPREFIXROUTE : 0);
  if (flags !== 0) out.flags = flags;
  const ignored = [a.peer !== undefined && 'peer', a.home && 'home', a.mngTmpAddr && 'mngtmpaddr', a.autoJoin && 'autojoin',
    a.preferredLifetimeSec !== undefined && 'preferred_lft'].filter((x): x is string => typeof x === 'string');
  if (ignored.length > 0) {
    diagnostics.push({ severity: 'warning', code: 'unsupported-keyword', location: a.location, message: `${a.address}: ${ignored.join(', ')} not carried by lvskit; the static address is added without ${ignored.length === 1 ? 'it' : 'them'}` });
  }
  return out;
}

/** static_ipaddress, static_routes and static_rules converted for rtnetlink, with located diagnostics. */
export interface StaticNetConversion {
  /** Undefined when the configuration has none of the three blocks. */
  set?: NetSet;
  diagnostics: Diagnostic[];
  ok: boolean;
}

/** The static addresses, routes and rules: added at start, reconciled on reload, removed at a graceful stop (as keepalived). */
export function convertStaticNet(config: KeepalivedConfig): StaticNetConversion {
  const diagnostics: Diagnostic[] = [];
  if (!config.staticIpAddresses && !config.staticRoutes && !config.staticRules) return { diagnostics, ok: true };
  const addresses = (config.staticIpAddresses ?? []).map((a) => staticAddress(a, diagnostics)).filter((a): a is AddressTarget => a !== undefined);
  const set: NetSet = { addresses, routes: (config.staticRoutes ?? []).map(routeEntry), rules: (config.staticRules ?? []).map(ruleEntry) };
  return { set, diagnostics, ok: diagnostics.every((d) => d.severity !== 'error') };
}
