// layer: daemon (pure)
// job: preflight — a configuration's needs against a snapshot of the system (links, sysctls, IPVS, firewall) → findings at the config lines that asked, as `file:line:col: error|warning: …`.
import { ConfigError, type Diagnostic, type RelatedLocation } from '../config/diagnostics.js';
import { confSysctl } from '../sysctl/sysctl.js';
import type { Located, NeededLink, PreflightNeeds } from './preflight-needs.js';

/** What preflight looked at on the system. */
export interface SystemSnapshot {
  /** The names of the links in the namespace. */
  links: readonly string[];
  /** The sysctls `snapshotRequest` asked for; undefined where one does not exist. */
  sysctls: Readonly<Record<string, number | undefined>>;
  /** Whether IPVS is in the kernel (asked only when something needs it). */
  ipvs?: boolean;
  /** Whether a firewall rule drops the autoban set's members, and what else was seen (src/ipset/firewall-check). */
  firewall?: { ok: boolean; notes: readonly string[] };
}

/** What to read for a snapshot. */
export interface SnapshotRequest {
  sysctls: string[];
  ipvs: boolean;
  firewallSet?: string;
}

/** A configuration that cannot run on this system: its findings, at the config lines that asked. */
export class PreflightError extends ConfigError {
  override name = 'PreflightError';
}

export const RP_FILTER_ALL = confSysctl('all', 'rp_filter');
const FORWARDING = { 4: 'net.ipv4.ip_forward', 6: 'net.ipv6.conf.all.forwarding' } as const;

/** The sysctls, IPVS and firewall facts `needs` depends on. */
export function snapshotRequest(needs: PreflightNeeds): SnapshotRequest {
  const sysctls = new Set<string>();
  if (needs.rpFilter.length > 0) sysctls.add(RP_FILTER_ALL);
  for (const n of needs.rpFilter) sysctls.add(confSysctl(n.link, 'rp_filter'));
  for (const f of needs.forwarding) sysctls.add(FORWARDING[f.family]);
  return { sysctls: [...sysctls], ipvs: needs.ipvs !== undefined, ...(needs.autobanSet ? { firewallSet: needs.autobanSet.set } : {}) };
}

const finding = (severity: Diagnostic['severity'], at: Located, message: string, related?: RelatedLocation[]): Diagnostic => ({
  severity, code: 'preflight', location: at.location, message, ...(related && related.length > 0 ? { related } : {}),
});

/** One finding per missing link, at the first place in the files that needs it most (an error before a warning); the other places as notes. */
function missingLinks(needs: PreflightNeeds, present: ReadonlySet<string>): Diagnostic[] {
  const byLink = new Map<string, NeededLink[]>();
  const ordered = [...needs.links].sort((a, b) => a.location.file.localeCompare(b.location.file) || a.location.line - b.location.line || a.location.column - b.location.column);
  for (const n of ordered) if (!present.has(n.link)) byLink.set(n.link, [...(byLink.get(n.link) ?? []), n]);
  return [...byLink.entries()].map(([link, all]) => {
    const first = all.find((n) => n.severity === 'error') ?? all[0]!;
    const effect = first.severity === 'error' ? 'lvskit cannot run this without it' : 'a tracked link that does not exist counts as down until it appears';
    const related = all.filter((n) => n !== first).map((n) => ({ message: `${n.what} names it too`, location: n.location }));
    return finding(first.severity, first, `interface ${link} does not exist (${first.what}): ${effect}`, related);
  });
}

/** rp_filter's effective value on `link`: the kernel uses the larger of `all` and the link's own. */
export function effectiveRpFilter(snapshot: SystemSnapshot, link: string): { all: number; own: number; effective: number } {
  const all = snapshot.sysctls[RP_FILTER_ALL] ?? 0;
  const own = snapshot.sysctls[confSysctl(link, 'rp_filter')] ?? 0;
  return { all, own, effective: Math.max(all, own) };
}

/** The sysctls to set to 0 so that no rp_filter link is strict (1); `from` is their value now. */
export function rpFilterFixes(needs: PreflightNeeds, snapshot: SystemSnapshot): { name: string; from: number }[] {
  const present = new Set(snapshot.links);
  const out = new Map<string, number>();
  for (const n of needs.rpFilter) {
    if (!present.has(n.link)) continue;
    const v = effectiveRpFilter(snapshot, n.link);
    if (v.effective !== 1) continue;
    if (v.all === 1) out.set(RP_FILTER_ALL, 1);
    if (v.own === 1) out.set(confSysctl(n.link, 'rp_filter'), 1);
  }
  return [...out].map(([name, from]) => ({ name, from }));
}

function rpFilter(needs: PreflightNeeds, snapshot: SystemSnapshot): Diagnostic[] {
  const present = new Set(snapshot.links);
  const out: Diagnostic[] = [];
  for (const n of needs.rpFilter) {
    if (!present.has(n.link)) continue; // reported as missing
    const v = effectiveRpFilter(snapshot, n.link);
    if (v.effective !== 1) continue; // 0 off, 2 loose: packets routed back by another interface pass
    const own = confSysctl(n.link, 'rp_filter');
    const fix = [v.all === 1 ? RP_FILTER_ALL : undefined, v.own === 1 ? own : undefined].filter((x) => x !== undefined).map((x) => `sysctl -w ${x}=0`);
    out.push(finding('error', n, `rp_filter is 1 (strict) on ${n.link}, used by ${n.what}: ${RP_FILTER_ALL}=${v.all}, ${own}=${v.own}, and the kernel uses the larger. `
      + 'Strict reverse-path filtering drops packets whose source is routed back by another interface, and load balancing does not work. '
      + `Fix: ${fix.join(' and ')} (and in /etc/sysctl.d to keep it), or start with lvskit run --fix-rp-filter`));
  }
  return out;
}

function forwarding(needs: PreflightNeeds, snapshot: SystemSnapshot): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const family of [4, 6] as const) {
    const nat = needs.forwarding.filter((f) => f.family === family);
    const name = FORWARDING[family];
    if (nat.length === 0 || snapshot.sysctls[name] === 1) continue;
    const related = nat.slice(1).map((f) => ({ message: `${f.what} forwards by NAT too`, location: f.location }));
    out.push(finding('warning', nat[0]!, `${nat[0]!.what} forwards by NAT, and ${name} is ${snapshot.sysctls[name] ?? 'missing'}: `
      + `the real servers' replies are not forwarded back to the clients (DR services are not affected). Fix: sysctl -w ${name}=1 (and in /etc/sysctl.d)`, related));
  }
  return out;
}

/**
 * Findings of `needs` against `snapshot`. Errors (lvskit run refuses to start): an interface lvskit
 * cannot run without, strict rp_filter on a VIP's or the sync daemon's link, IPVS absent when
 * something needs it. Warnings: a tracked interface missing, forwarding off with a NAT service, no
 * firewall rule for the autoban's set.
 */
export function evaluatePreflight(needs: PreflightNeeds, snapshot: SystemSnapshot): Diagnostic[] {
  const out = [...missingLinks(needs, new Set(snapshot.links)), ...rpFilter(needs, snapshot), ...forwarding(needs, snapshot)];
  if (needs.ipvs && snapshot.ipvs === false) {
    out.push(finding('error', needs.ipvs, `${needs.ipvs.what} needs IPVS, and this kernel has none loaded (no /proc/net/ip_vs, no generic netlink family IPVS). `
      + 'Fix: modprobe ip_vs (and list ip_vs in /etc/modules-load.d/ to load it at boot)'));
  }
  const a = needs.autobanSet;
  if (a && snapshot.firewall && !snapshot.firewall.ok) {
    const notes = snapshot.firewall.notes.length > 0 ? ` (${snapshot.firewall.notes.join('; ')})` : '';
    out.push(finding('warning', a, `no iptables rule drops sources in ipset ${a.set}: bans would block nothing${notes}. `
      + `Add one, e.g. iptables -I INPUT -m set --match-set ${a.set} src -j DROP`));
  }
  return out;
}
