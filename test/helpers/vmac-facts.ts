// layer: test helpers (kernel and IPVS tiers)
// job: what `ip -d -j link`, `ip -j addr` and the sysctls say about a VMAC or ipvlan and its base, in words that do not depend on who made it (lvskit or keepalived), for side-by-side comparison.
import type { Netns } from './netns.js';
import type { Seen } from './vrrp-lab.js';
import type { Speaker } from './vrrp-procs.js';

/** A VMAC's (macvlan's) or ipvlan's link details and the IPv4/IPv6 settings around it. */
export interface VmacFacts {
  kind?: string;
  /** macvlan: `private`…; ipvlan: `l2`… */
  mode?: string;
  /** ipvlan: `bridge`, `private` or `vepa` (the flag `ip -d` shows). */
  ipvlanFlag?: string;
  /** The link's MAC, or `base` when it is its base's (an ipvlan's always is). */
  mac?: string;
  parent?: string;
  up: boolean;
  addrGenMode?: string;
  conf: Record<string, string>;
  disableIpv6: string;
  base: Record<string, string>;
}

interface LinkJson {
  address?: string; link?: string; flags: string[]; inet6_addr_gen_mode?: string;
  linkinfo?: { info_kind?: string; info_data?: { mode?: string; bridge?: boolean; private?: boolean; vepa?: boolean } };
}

export const sysctl = async (ns: Netns, name: string): Promise<string> => (await ns.exec(['sysctl', '-n', name])).trim();

/** The IPv4 settings keepalived writes on a VMAC and its base, and the VMAC's disable_ipv6. */
export async function vmacFacts(ns: Netns, name: string, base: string): Promise<VmacFacts> {
  const show = async (dev: string): Promise<LinkJson> => (JSON.parse(await ns.ip('-d', '-j', 'link', 'show', 'dev', dev)) as LinkJson[])[0]!;
  const [link, baseLink] = [await show(name), await show(base)];
  const conf: Record<string, string> = {};
  for (const k of ['arp_ignore', 'accept_local', 'rp_filter', 'promote_secondaries']) conf[k] = await sysctl(ns, `net.ipv4.conf.${name.replace('.', '/')}.${k}`);
  const data = link.linkinfo?.info_data;
  const flag = (['bridge', 'private', 'vepa'] as const).find((f) => data?.[f] === true);
  const mac = link.address === undefined ? undefined : link.address === baseLink.address ? 'base' : link.address;
  return {
    ...(link.linkinfo?.info_kind ? { kind: link.linkinfo.info_kind } : {}), ...(data?.mode ? { mode: data.mode } : {}), ...(flag ? { ipvlanFlag: flag } : {}),
    ...(mac ? { mac } : {}), ...(link.link ? { parent: link.link } : {}), up: link.flags.includes('UP'),
    ...(link.inet6_addr_gen_mode ? { addrGenMode: link.inet6_addr_gen_mode } : {}),
    conf, disableIpv6: await sysctl(ns, `net.ipv6.conf.${name.replace('.', '/')}.disable_ipv6`),
    base: { arp_ignore: await sysctl(ns, `net.ipv4.conf.${base}.arp_ignore`), arp_filter: await sysctl(ns, `net.ipv4.conf.${base}.arp_filter`) },
  };
}

/** One address on a link as `ip -j addr` shows it; `local` renamed through `names` (`VIP`, `LL`…) so two hosts' can be compared. */
export interface AddressFacts { local: string; prefixlen: number; scope: string; flags: string[]; preferred: string }

/** The addresses on `dev`, each named through `names` (an address not in it keeps its text), sorted. */
export async function addressFacts(ns: Netns, dev: string, names: Record<string, string> = {}): Promise<AddressFacts[]> {
  const [link] = JSON.parse(await ns.ip('-j', 'addr', 'show', 'dev', dev)) as Array<{ addr_info: Array<Record<string, unknown>> }>;
  const facts = (link?.addr_info ?? []).filter((a) => typeof a.local === 'string').map((a) => ({
    local: names[a.local as string] ?? (a.local as string),
    prefixlen: a.prefixlen as number,
    scope: a.scope as string,
    flags: ['secondary', 'nodad', 'deprecated', 'dynamic', 'noprefixroute', 'tentative'].filter((f) => a[f] === true),
    preferred: String(a.preferred_life_time),
  }));
  return facts.sort((x, y) => x.local.localeCompare(y.local));
}

export async function linkExists(ns: Netns, name: string): Promise<boolean> {
  return (JSON.parse(await ns.ip('-j', 'link', 'show')) as Array<{ ifname: string }>).some((l) => l.ifname === name);
}

/** The IPv4 addresses on `dev`. */
export async function addressesOnLink(ns: Netns, dev: string): Promise<string[]> {
  const links = JSON.parse(await ns.ip('-j', '-4', 'addr', 'show', 'dev', dev)) as Array<{ addr_info: Array<{ local: string }> }>;
  return links.flatMap((l) => l.addr_info.map((a) => a.local));
}

/** An advert (priority > 0) of `vrid` from `src`, as the observer saw it. */
export const advertFrom = (vrid: number, src: string) => (x: Seen): boolean => x.kind === 'vrrp' && x.vrid === vrid && x.src === src && (x.priority ?? 0) > 0;

/** SIGTERM (a graceful stop) and wait for the exit. */
export async function stopped(speaker: Speaker): Promise<void> {
  speaker.kill('SIGTERM');
  await speaker.exited;
}
