// layer: behaviour (realserver, pure)
// job: the real-server side of LVS-DR as a plan: (what the host has, the VIPs wanted) → the changes that make it so, or undo it.
import net from 'node:net';
import { confSysctl } from '../sysctl/sysctl.js';

/** The loopback link the VIPs go on. */
export const LOOPBACK = 'lo';

/**
 * The ARP sysctls of a DR real server, and the value each must have. arp_ignore 1: answer an ARP
 * request only for an address on the interface it came in on (never for the VIP on `lo`);
 * arp_announce 2: take the source of ARP requests from the outgoing interface's own addresses
 * (never announce the VIP). The kernel uses the larger of `all` and the interface's own value.
 */
export const ARP_SYSCTLS = { arp_ignore: 1, arp_announce: 2 } as const;

/** The name of an ARP sysctl a DR real server needs. */
export type ArpSysctl = keyof typeof ARP_SYSCTLS;

/** A link as the planner needs it. */
export interface RealServerLink {
  name: string;
  /** Administratively up (IFF_UP). */
  adminUp: boolean;
}

/** An address as the planner needs it (rtnl's Address with the link's name). */
export interface RealServerAddress {
  link: string;
  family: 4 | 6;
  address: string;
  prefixLength: number;
  label?: string;
}

/** What the host has now. */
export interface RealServerCurrent {
  links: RealServerLink[];
  addresses: RealServerAddress[];
  /** The values of `sysctlsToRead()`: undefined where the sysctl does not exist. */
  sysctls: Readonly<Record<string, number | undefined>>;
}

/** What the host should have. */
export interface RealServerWanted {
  /** VIPs as addresses (`123.30.175.34`, `2001:db8::34`) or host prefixes (`/32`, `/128`). */
  vips: string[];
  /** The interfaces that carry the traffic (their own arp_* sysctls set too); default: every link but `lo` that is up. */
  interfaces?: string[];
}

/** One change the real-server planner makes: a sysctl set, a VIP added or removed. */
export type RealServerChange =
  | { kind: 'set-sysctl'; name: string; from: number | undefined; to: number }
  | { kind: 'add-address'; address: string; family: 4 | 6; prefixLength: number; label?: string }
  | { kind: 'delete-address'; address: string; family: 4 | 6; prefixLength: number; label?: string; why: string };

/** A plan: the changes in the order they must be made, and what is wrong but not lvskit's to change. */
export interface RealServerPlan {
  /** The interfaces whose own sysctls were planned (none when no VIP is IPv4: IPv6 has no ARP). */
  interfaces: string[];
  /** Sysctls first (no moment where the host answers ARP for a VIP it just got), then addresses. */
  changes: RealServerChange[];
  /** A VIP also on another interface: this host would answer ARP for it and take its traffic from the balancer. */
  conflicts: string[];
}

/** A VIP as given: the address in canonical text and its family. Throws RangeError naming the VIP for anything but a host address. */
export function parseVip(text: string): { address: string; family: 4 | 6 } {
  const [address = '', prefix, ...rest] = text.split('/');
  const family = net.isIP(address);
  if (family === 0 || rest.length > 0) throw new RangeError(`vip: ${JSON.stringify(text)} is not an IPv4 or IPv6 address`);
  const full = family === 4 ? 32 : 128;
  if (prefix !== undefined && Number(prefix) !== full) {
    throw new RangeError(`vip: ${text}: a VIP on lo is a /${full}; a shorter prefix there would make the whole network local to this host`);
  }
  return { address: canonical(address), family: family as 4 | 6 };
}

/** IPv4 as is; IPv6 in one canonical text, so `2001:db8:0::34` and `2001:db8::34` compare equal. */
function canonical(address: string): string {
  if (!address.includes(':')) return address;
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

/** The interfaces whose sysctls are planned: the ones named (each must exist), else every link but lo that is up. */
export function trafficInterfaces(links: readonly RealServerLink[], wanted: Pick<RealServerWanted, 'interfaces'>): string[] {
  if (wanted.interfaces === undefined) return links.filter((l) => l.name !== LOOPBACK && l.adminUp).map((l) => l.name);
  for (const name of wanted.interfaces) {
    if (!links.some((l) => l.name === name)) throw new RangeError(`interface: no link ${name}`);
    if (name === LOOPBACK) throw new RangeError('interface: lo carries the VIPs, not the traffic');
  }
  return [...new Set(wanted.interfaces)];
}

/** Every sysctl a plan looks at, for these interfaces: `all` first. */
export function sysctlsToRead(interfaces: readonly string[]): string[] {
  return ['all', ...interfaces].flatMap((i) => (Object.keys(ARP_SYSCTLS) as ArpSysctl[]).map((k) => confSysctl(i, k)));
}

/**
 * Whether a value does what DR needs. arp_announce: 2 (the largest). arp_ignore: 1, or 2 (also
 * requires the asker to be on the interface's subnet: stricter, still right, left as is); not 3
 * (which answers for a global-scope VIP on lo) nor 8 (no answer at all, the host unreachable).
 */
function satisfies(key: ArpSysctl, value: number | undefined): boolean {
  return key === 'arp_ignore' ? value === 1 || value === 2 : value === ARP_SYSCTLS[key];
}

function sysctlChanges(current: RealServerCurrent, interfaces: readonly string[]): RealServerChange[] {
  const out: RealServerChange[] = [];
  for (const iface of ['all', ...interfaces]) {
    for (const key of Object.keys(ARP_SYSCTLS) as ArpSysctl[]) {
      const name = confSysctl(iface, key);
      const from = current.sysctls[name];
      if (!satisfies(key, from)) out.push({ kind: 'set-sysctl', name, from, to: ARP_SYSCTLS[key] });
    }
  }
  return out;
}

/** `lo:N` labels for new IPv4 VIPs: the smallest N no address on lo uses yet. */
function labeller(onLo: readonly RealServerAddress[]): () => string {
  const used = new Set(onLo.map((a) => a.label).filter((l): l is string => l !== undefined));
  let n = 0;
  return () => {
    do n++; while (used.has(`${LOOPBACK}:${n}`));
    return `${LOOPBACK}:${n}`;
  };
}

function find(addresses: readonly RealServerAddress[], address: string): RealServerAddress[] {
  return addresses.filter((a) => canonical(a.address) === address);
}

const remove = (a: RealServerAddress, why: string): RealServerChange => ({
  kind: 'delete-address', address: a.address, family: a.family, prefixLength: a.prefixLength, ...(a.label !== undefined ? { label: a.label } : {}), why,
});

/**
 * The changes that make this host a DR real server for `wanted.vips`: the ARP sysctls on `all` and
 * on each traffic interface (when a VIP is IPv4), then each VIP on lo as a host address (IPv4 labelled `lo:N`, as the
 * operator's `lo:1`). A VIP already on lo as a host address is kept whatever its label; one with a
 * shorter prefix is replaced. A VIP on any other interface is a conflict, reported, never touched.
 */
export function planRealServer(current: RealServerCurrent, wanted: RealServerWanted): RealServerPlan {
  const vips = [...new Map(wanted.vips.map((v) => { const p = parseVip(v); return [p.address, p] as const; })).values()];
  const arp = vips.some((v) => v.family === 4);
  const named = trafficInterfaces(current.links, wanted); // refuses an --interface that is not there, even when unused
  const interfaces = arp ? named : [];
  const changes = arp ? sysctlChanges(current, interfaces) : [];
  const onLo = current.addresses.filter((a) => a.link === LOOPBACK);
  const nextLabel = labeller(onLo);
  const conflicts: string[] = [];
  for (const vip of vips) {
    const full = vip.family === 4 ? 32 : 128;
    const here = find(onLo, vip.address);
    for (const a of here.filter((x) => x.prefixLength !== full)) {
      changes.push(remove(a, `a VIP on lo must be a /${full}; a /${a.prefixLength} there makes the whole network local`));
    }
    if (!here.some((x) => x.prefixLength === full)) {
      // A replaced address keeps its lo:N label.
      const label = vip.family === 4 ? here.find((x) => x.label?.startsWith(`${LOOPBACK}:`))?.label ?? nextLabel() : undefined;
      changes.push({ kind: 'add-address', address: vip.address, family: vip.family, prefixLength: full, ...(label !== undefined ? { label } : {}) });
    }
    for (const a of find(current.addresses, vip.address).filter((x) => x.link !== LOOPBACK)) {
      conflicts.push(`${vip.address} is also on ${a.link}: this host answers ARP for it there and takes its traffic from the balancer (remove it from ${a.link})`);
    }
  }
  return { interfaces, changes, conflicts };
}

/**
 * Undo: each VIP off lo (whatever its prefix and label). The sysctls stay as they are: lvskit
 * cannot know what they were, and arp_ignore 1 / arp_announce 2 harm no host, while putting them
 * back to 0 would make it answer ARP for any other VIP still on lo.
 */
export function planRealServerRemoval(current: RealServerCurrent, wanted: Pick<RealServerWanted, 'vips'>): RealServerPlan {
  const changes: RealServerChange[] = [];
  const onLo = current.addresses.filter((a) => a.link === LOOPBACK);
  for (const address of new Set(wanted.vips.map((v) => parseVip(v).address))) {
    for (const a of find(onLo, address)) changes.push(remove(a, 'removed'));
  }
  return { interfaces: [], changes, conflicts: [] };
}

/** One line per change: `+ 123.30.175.34/32 dev lo label lo:1`, `~ net.ipv4.conf.all.arp_ignore 0 → 1`. */
export function describeChange(c: RealServerChange): string {
  switch (c.kind) {
    case 'set-sysctl': return `~ ${c.name} ${c.from ?? '(missing)'} → ${c.to}`;
    case 'add-address': return `+ ${c.address}/${c.prefixLength} dev ${LOOPBACK}${c.label !== undefined ? ` label ${c.label}` : ''}`;
    case 'delete-address': {
      const why = c.why === 'removed' ? '' : ` (${c.why})`;
      return `- ${c.address}/${c.prefixLength} dev ${LOOPBACK}${c.label !== undefined ? ` label ${c.label}` : ''}${why}`;
    }
  }
}

/** What `--check` says of a change still to make: what is missing or wrong. */
export function describeMissing(c: RealServerChange): string {
  switch (c.kind) {
    case 'set-sysctl': return `${c.name} is ${c.from ?? 'missing'}, wanted ${c.to}`;
    case 'add-address': return `${c.address}/${c.prefixLength} is not on ${LOOPBACK}`;
    case 'delete-address': return `${c.address}/${c.prefixLength} on ${LOOPBACK}: ${c.why}`;
  }
}
