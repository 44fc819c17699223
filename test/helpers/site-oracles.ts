// layer: test helpers (site scenario)
// job: implementation-neutral oracles, read from outside the daemons: `ipvsadm -Ln` / `-lnc`, `ip addr`, `ipset list`, and the rr spread of the client's results.
import type { SiteLab } from './site-lab.js';
import type { BalancerName } from './site-model.js';
import { monoMs, poll } from './site-procs.js';

export interface Destination { address: string; port: number; forward: string; weight: number; active: number; inactive: number }
export interface Service { protocol: string; address: string; port: number; scheduler: string; destinations: Destination[] }
export interface Connection { protocol: string; expire: string; state: string; source: string; virtual: string; destination: string }

/** One judgement of a phase: what was checked, whether it held, what was seen. */
export interface Check { name: string; ok: boolean; detail: string }

export const check = (name: string, ok: boolean, detail: string): Check => ({ name, ok, detail });

const hostPort = (text: string): { address: string; port: number } => {
  const at = text.lastIndexOf(':');
  return { address: text.slice(0, at), port: Number(text.slice(at + 1)) };
};

/** `ipvsadm -Ln` as services with their destinations. */
export function parseIpvsadmList(text: string): Service[] {
  const services: Service[] = [];
  for (const line of text.split('\n')) {
    const svc = /^(TCP|UDP|SCTP)\s+(\S+)\s+(\S+)/.exec(line);
    if (svc) {
      services.push({ protocol: svc[1]!, ...hostPort(svc[2]!), scheduler: svc[3]!, destinations: [] });
      continue;
    }
    const dest = /^\s+->\s+(\d\S*)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)/.exec(line);
    if (dest && services.length > 0) {
      services.at(-1)!.destinations.push({ ...hostPort(dest[1]!), forward: dest[2]!, weight: Number(dest[3]), active: Number(dest[4]), inactive: Number(dest[5]) });
    }
  }
  return services;
}

/** `ipvsadm -lnc` rows. */
export function parseIpvsadmConnections(text: string): Connection[] {
  return text.split('\n').flatMap((line) => {
    const m = /^(TCP|UDP|SCTP)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)/.exec(line);
    return m ? [{ protocol: m[1]!, expire: m[2]!, state: m[3]!, source: m[4]!, virtual: m[5]!, destination: m[6]! }] : [];
  });
}

/** The table without its counters, one line per service and destination: what a reload may or may not change. */
export function tableShape(services: readonly Service[]): string {
  return services.map((s) => [`${s.protocol} ${s.address}:${s.port} ${s.scheduler}`,
    ...s.destinations.map((d) => `  -> ${d.address}:${d.port} ${d.forward} ${d.weight}`).sort()].join('\n')).sort().join('\n');
}

export async function ipvsTable(lab: SiteLab, lb: BalancerName): Promise<Service[]> {
  return parseIpvsadmList(await lab.exec(lb, ['ipvsadm', '-Ln']));
}

export async function ipvsConnections(lab: SiteLab, lb: BalancerName): Promise<Connection[]> {
  return parseIpvsadmConnections(await lab.exec(lb, ['ipvsadm', '-lnc']));
}

/** The weight of `realServer` in the service VIP:port, undefined when either is absent. */
export function weightOf(services: readonly Service[], vip: string, port: number, realServer: string): number | undefined {
  return services.find((s) => s.address === vip && s.port === port)?.destinations.find((d) => d.address === realServer)?.weight;
}

/** Whether `address` is on `lb`'s eth0. */
export async function hasAddress(lab: SiteLab, lb: BalancerName, address: string): Promise<boolean> {
  const links = JSON.parse(await lab.ip(lb, '-j', 'addr', 'show', 'dev', 'eth0')) as Array<{ addr_info: Array<{ local?: string }> }>;
  return links.some((l) => l.addr_info.some((a) => a.local === address));
}

/** Members of the autoban set on `lb`. */
export async function banned(lab: SiteLab, lb: BalancerName): Promise<string[]> {
  const text = await lab.exec(lb, ['ipset', 'list', lab.site.autoban.ipset]);
  return text.split('\n').slice(text.split('\n').findIndex((l) => l.startsWith('Members:')) + 1).map((l) => l.trim().split(/\s+/)[0] ?? '').filter(Boolean);
}

/** Waits until `lb`'s table gives `predicate` true; the time (monotonic ms) it was first seen so, or undefined after `timeoutMs`. */
export async function waitForTable(lab: SiteLab, lb: BalancerName, predicate: (services: Service[]) => boolean, timeoutMs: number): Promise<number | undefined> {
  return poll(async () => (predicate(await ipvsTable(lab, lb)) ? monoMs() : undefined), timeoutMs, 100);
}

/** rr's promise over a window: the spread (most − fewest) of new connections among `servers`. */
export function rrSpread(byServer: Record<string, number>, servers: readonly string[]): number {
  const counts = servers.map((s) => byServer[s] ?? 0);
  return Math.max(...counts) - Math.min(...counts);
}
