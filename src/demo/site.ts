// layer: demo (the site lab, shared with the site test)
// job: the operator's site as data (balancers, real servers, clients, the VRRP instance, services, autoban) and the timing bounds it implies.

export type BalancerName = 'lb1' | 'lb2';
export type RealServerName = 'rs1' | 'rs2' | 'rs3';
/** Every namespace of the lab: `obs` holds the bridge and the observer; `client2` is the whitelisted client. */
export type NodeName = 'obs' | BalancerName | RealServerName | 'client' | 'client2';

export const BALANCERS: readonly BalancerName[] = ['lb1', 'lb2'];
export const REAL_SERVERS: readonly RealServerName[] = ['rs1', 'rs2', 'rs3'];

export interface BalancerSpec {
  name: BalancerName;
  /** eth0's own address (the VRRP advert source). */
  address: string;
  state: 'MASTER' | 'BACKUP';
  priority: number;
}

export interface RealServerSpec {
  name: RealServerName;
  address: string;
  weight: number;
}

/** One `services/<domain>.conf`: a TCP virtual server, rr, DR, TCP_CHECK on every real server. */
export interface ServiceSpec {
  domain: string;
  vip: string;
  port: number;
  delayLoopSec: number;
  connectTimeoutSec: number;
  /** TCP_CHECK retry and delay_before_retry, written out so the bound below follows from the file. */
  retry: number;
  delayBeforeRetrySec: number;
  realServers: RealServerSpec[];
}

export interface AutobanSpec {
  /** A client holding more ESTABLISHED connections than this is banned. */
  threshold: number;
  ipset: string;
  intervalSec: number;
  whitelist: string[];
}

export interface SiteSpec {
  /** The segment's first three octets, e.g. `10.66.7`; every node is `<net>.N/24` on eth0. */
  net: string;
  vip: string;
  vrid: number;
  advertIntervalSec: number;
  authPass: string;
  balancers: BalancerSpec[];
  /** The traffic client, the client that opens too many connections, the whitelisted client (in `client2`). */
  clients: { traffic: string; heavy: string; whitelisted: string };
  services: ServiceSpec[];
  autoban: AutobanSpec;
}

/** Address of `node` on the segment (the observer's bridge has .254). */
export function nodeAddress(net: string, node: Exclude<NodeName, 'obs'>): string {
  const host: Record<typeof node, number> = { lb1: 11, lb2: 12, rs1: 21, rs2: 22, rs3: 23, client: 31, client2: 32 };
  return `${net}.${host[node]}`;
}

/** The site as the operator runs it, on segment `net`, with short timers (advert 1 s, delay_loop 2 s). */
export function siteSpec(net: string): SiteSpec {
  const realServers = REAL_SERVERS.map((name) => ({ name, address: nodeAddress(net, name), weight: 10 }));
  return {
    net,
    vip: `${net}.100`,
    vrid: 51,
    advertIntervalSec: 1,
    authPass: 'site-pw',
    balancers: [
      { name: 'lb1', address: nodeAddress(net, 'lb1'), state: 'MASTER', priority: 150 },
      { name: 'lb2', address: nodeAddress(net, 'lb2'), state: 'BACKUP', priority: 100 },
    ],
    clients: { traffic: nodeAddress(net, 'client'), heavy: `${net}.33`, whitelisted: nodeAddress(net, 'client2') },
    services: [{
      domain: 'www.site.test', vip: `${net}.100`, port: 80,
      delayLoopSec: 2, connectTimeoutSec: 1, retry: 1, delayBeforeRetrySec: 1, realServers,
    }],
    autoban: { threshold: 100, ipset: 'autoban', intervalSec: 2, whitelist: [`${nodeAddress(net, 'client2')}/32`] },
  };
}

/** The site after the reload of phase `reload`: a second service (the VIP on 8080) and rs3's weight 10 → 20. */
export function siteAfterReload(site: SiteSpec): SiteSpec {
  const www = site.services[0]!;
  const realServers = www.realServers.map((r) => (r.name === 'rs3' ? { ...r, weight: 20 } : r));
  return {
    ...site,
    services: [
      { ...www, realServers },
      { ...www, domain: 'api.site.test', port: 8080, realServers: www.realServers.map((r) => ({ ...r })) },
    ],
  };
}

export function balancerSpec(site: SiteSpec, name: BalancerName): BalancerSpec {
  const spec = site.balancers.find((b) => b.name === name);
  if (!spec) throw new Error(`no balancer ${name} in the site`);
  return spec;
}

/** RFC 5798 Master_Down_Interval of a backup with `priority`: 3 × advert + (256 − priority)/256 × advert. */
export function masterDownIntervalMs(site: SiteSpec, priority: number): number {
  const advertMs = site.advertIntervalSec * 1000;
  return 3 * advertMs + ((256 - priority) * advertMs) / 256;
}

/**
 * The longest a dead real server can keep its weight: the next check is at most delay_loop away,
 * then it and each retry may take connect_timeout, with delay_before_retry between them.
 */
export function checkFailBoundMs(service: ServiceSpec): number {
  return 1000 * (service.delayLoopSec + service.connectTimeoutSec + service.retry * (service.delayBeforeRetrySec + service.connectTimeoutSec));
}

/** The longest a returned real server can wait for its weight: the next check (one success restores it). */
export function checkRecoverBoundMs(service: ServiceSpec): number {
  return 1000 * (service.delayLoopSec + service.connectTimeoutSec);
}

/**
 * What each bound allows on top of the protocol's own figure: in user-mode Linux every process of
 * the lab shares one slow CPU, so a daemon's timer, a poll of the oracle (every 100 ms) or the
 * client's next request (every 50 ms) can come this much later than the protocol says.
 */
export const SLACK_MS = 1000;
