// layer: daemon (pure)
// job: what a keepalived.conf asks of the live system, each need with the config line that asks it: interfaces that must exist, rp_filter off where VIPs and the sync daemon live, forwarding for NAT, IPVS, a firewall rule for the autoban's set.
import type { SourceLocation } from '../config/diagnostics.js';
import { virtualServerName, type AddressFamily, type KeepalivedConfig, type VirtualServer, type VrrpInstance } from '../config/model.js';
import { DEFAULT_INTERFACE } from './convert/vips.js';

/** A need and where the configuration wrote it. */
export interface Located {
  location: SourceLocation;
  /** Who needs it, in the configuration's words: `vrrp_instance VI_2 interface`. */
  what: string;
}

/** An interface the configuration names. */
export interface NeededLink extends Located {
  /** The link (an address label `eth1:2` names its link `eth1`). */
  link: string;
  /** `error`: lvskit cannot run the configuration without it; `warning`: it runs, degraded (a tracked link counts as down). */
  severity: 'error' | 'warning';
}

/** What a configuration asks of the system it runs on. */
export interface PreflightNeeds {
  /** Every interface named, in file order. */
  links: NeededLink[];
  /** The links of the VIPs and of the IPVS sync daemon, once each: rp_filter must not be strict there. */
  rpFilter: NeededLink[];
  /** Virtual servers with a NAT real server: the kernel must forward. */
  forwarding: (Located & { family: AddressFamily })[];
  /** The first thing that needs IPVS in the kernel. */
  ipvs?: Located;
  /** The autoban's ipset: a firewall rule should drop its members. */
  autobanSet?: Located & { set: string };
}

/** `eth1:2` → `eth1`. */
export function linkOf(name: string): string {
  return name.split(':')[0] ?? name;
}

function instanceNeeds(config: KeepalivedConfig, vi: VrrpInstance, out: PreflightNeeds): void {
  const name = `vrrp_instance ${vi.name}`;
  const iface = vi.interface ?? config.globalDefs.defaultInterface ?? DEFAULT_INTERFACE;
  const at = vi.interfaceLocation ?? vi.location;
  out.links.push({ link: linkOf(iface), location: at, what: `${name} interface`, severity: 'error' });
  for (const vip of vi.virtualIpAddresses) {
    const dev = vip.device ?? iface;
    const need = { link: linkOf(dev), location: vip.location, what: `${name} VIP ${vip.address} (dev ${dev})`, severity: 'error' as const };
    if (vip.device !== undefined) out.links.push(need);
    if (vip.family === 4) out.rpFilter.push(need);
  }
  for (const t of vi.trackInterfaces) out.links.push({ link: linkOf(t.name), location: t.location, what: `${name} track_interface ${t.name}`, severity: 'warning' });
  if (vi.lvsSyncDaemonInterface !== undefined) {
    const need = { link: linkOf(vi.lvsSyncDaemonInterface), location: vi.lvsSyncDaemonInterfaceLocation ?? vi.location,
      what: `${name} lvs_sync_daemon_interface ${vi.lvsSyncDaemonInterface}`, severity: 'error' as const };
    out.links.push(need);
    out.rpFilter.push(need);
    out.ipvs ??= need;
  }
}

/** NAT is keepalived's default method; a real server may have its own. */
function usesNat(vs: VirtualServer): boolean {
  const own = vs.method?.kind ?? 'NAT';
  return vs.realServers.length === 0 ? own === 'NAT' : vs.realServers.some((rs) => (rs.method?.kind ?? own) === 'NAT');
}

function familyOf(vs: VirtualServer): AddressFamily {
  return vs.key.kind === 'address' ? vs.key.family : vs.ipFamily ?? vs.realServers[0]?.family ?? 4;
}

/** The needs of a configuration, from its model (which keeps every keyword's place). */
export function preflightNeeds(config: KeepalivedConfig): PreflightNeeds {
  const out: PreflightNeeds = { links: [], rpFilter: [], forwarding: [] };
  const daemon = config.globalDefs.lvsSyncDaemon;
  if (daemon) {
    const need = { link: linkOf(daemon.interface), location: daemon.location, what: `lvs_sync_daemon ${daemon.interface}`, severity: 'error' as const };
    out.links.push(need);
    out.rpFilter.push(need);
    out.ipvs = need;
  }
  for (const vi of config.vrrpInstances) instanceNeeds(config, vi, out);
  for (const group of config.vrrpSyncGroups) {
    for (const t of group.trackInterfaces) {
      out.links.push({ link: linkOf(t.name), location: t.location, what: `vrrp_sync_group ${group.name} track_interface ${t.name}`, severity: 'warning' });
    }
  }
  const seen = new Set<string>();
  out.rpFilter = out.rpFilter.filter((n) => !seen.has(n.link) && seen.add(n.link));
  for (const vs of config.virtualServers) {
    const what = `virtual_server ${virtualServerName(vs.key, vs.protocol)}`;
    // A virtual_server is what most plainly needs IPVS: named before a sync daemon.
    if (vs === config.virtualServers[0]) out.ipvs = { location: vs.location, what };
    if (usesNat(vs)) out.forwarding.push({ location: vs.location, what, family: familyOf(vs) });
  }
  const a = config.autoban;
  if (a && a.ipset !== undefined && a.threshold !== undefined) {
    out.autobanSet = { set: a.ipset, location: a.location, what: `lvskit_autoban ipset ${a.ipset}` };
    out.ipvs ??= { location: a.location, what: 'lvskit_autoban' };
  }
  return out;
}
