// layer: test helpers (site scenario)
// job: the site lab for the network fault matrix: `lvskit run` on lb1/lb2 with HTTP_GET checks, a dedicated sync link, metrics; and the faults injected with real mechanisms (a dropped SYN, a server that never or slowly answers, the guest's clock).
import fs from 'node:fs';
import { LvskitDriver } from './site-lvskit.js';
import { MAIN_FILE, serviceConfig, serviceFile, siteConfigFiles, type ConfigFiles } from './site-config.js';
import { SiteLab, writeConfigDir } from './site-lab.js';
import { BALANCERS, type BalancerName, type RealServerName, type SiteSpec } from './site-model.js';
import type { ScenarioContext } from './site-phase.js';
import { sh, type Cleanup } from './site-procs.js';
import { siteSettled, TRAFFIC } from './site-scenario.js';
import { Traffic } from './site-traffic.js';

/** Where each daemon serves /metrics, on its namespace's loopback. */
export const METRICS_LISTEN = '127.0.0.1:9650';
/** The balancers' dedicated sync link (a veth between lb1 and lb2), named the same on both. */
export const SYNC_IF = 'eth1';
const SYNC_NET = '192.168.77';
/** How long the daemons may take to start and settle before the first fault. */
const SETTLE_MS = 90_000;

/**
 * The operator's files with two changes: every real server checked by HTTP_GET `/` (status 200),
 * so that a listener that accepts and never answers, or answers late, fails its check; and the
 * sync daemon on the dedicated link `eth1`, so that its interface can fail without VRRP's.
 */
export function faultConfigFiles(site: SiteSpec, lb: BalancerName): ConfigFiles {
  const files = siteConfigFiles(site, lb);
  files[MAIN_FILE] = files[MAIN_FILE]!.replace('lvs_sync_daemon_interface eth0', `lvs_sync_daemon_interface ${SYNC_IF}`);
  for (const service of site.services) {
    files[serviceFile(service)] = serviceConfig(service).replaceAll('TCP_CHECK {', 'HTTP_GET {\n      url {\n        path /\n        status_code 200\n      }');
  }
  return files;
}

/** The sync link: a veth between lb1 and lb2, `eth1` on both, with an address each, up. */
export async function addSyncLink(lab: SiteLab): Promise<void> {
  await sh(['ip', '-n', lab.ns.lb1, 'link', 'add', SYNC_IF, 'type', 'veth', 'peer', 'name', SYNC_IF, 'netns', lab.ns.lb2]);
  for (const [i, lb] of BALANCERS.entries()) {
    await lab.ip(lb, 'addr', 'add', `${SYNC_NET}.${i + 1}/24`, 'dev', SYNC_IF);
    await lab.ip(lb, 'link', 'set', SYNC_IF, 'up');
  }
}

/** The running site: the lab, both daemons, the client's steady traffic. */
export interface FaultSite extends ScenarioContext {
  driver: LvskitDriver;
}

/** Builds the lab with the sync link, starts `lvskit run` on lb1 then lb2; resolves once lb1 is master with its whole table and traffic flows. */
export async function startFaultSite(cleanup: Cleanup, log: (line: string) => void): Promise<FaultSite> {
  const lab = await SiteLab.create(cleanup, { prefix: `fnet${process.pid}` });
  await addSyncLink(lab);
  const driver = new LvskitDriver(cleanup);
  for (const lb of BALANCERS) writeConfigDir(lab.balancer(lb).configDir, faultConfigFiles(lab.site, lb));
  for (const lb of BALANCERS) await driver.start(lab.balancer(lb), ['--metrics-listen', METRICS_LISTEN, '--log-level', 'debug']);
  const traffic = await Traffic.start(lab, TRAFFIC);
  const site: FaultSite = { lab, driver, traffic, site: lab.site, log };
  await siteSettled(site, SETTLE_MS);
  return site;
}

/** The daemon's /metrics on `lb` (fetched inside its namespace). */
export async function scrape(site: FaultSite, lb: BalancerName): Promise<string> {
  return site.lab.exec(lb, ['curl', '-sf', '--max-time', '10', `http://${METRICS_LISTEN}/metrics`]);
}

/** The daemon's JSON log lines on `lb` from line `from` on (its length before a fault), parsed. */
export function logSince(site: FaultSite, lb: BalancerName, from: number): Array<Record<string, unknown>> {
  return site.driver.log(site.lab.balancer(lb)).slice(from).flatMap((text) => {
    if (!text.startsWith('{')) return [];
    try { return [JSON.parse(text) as Record<string, unknown>]; } catch { return []; }
  });
}

export const logLength = (site: FaultSite, lb: BalancerName): number => site.driver.log(site.lab.balancer(lb)).length;

/**
 * `rs` blackholed: every SYN to port 80 dropped in its INPUT chain (no RST: the sender only times
 * out). iptables-nft first, the legacy back end where the kernel refuses nft's (user-mode Linux).
 * Returns the undo.
 */
export async function dropSyns(site: FaultSite, rs: RealServerName): Promise<() => Promise<void>> {
  const rule = ['INPUT', '-p', 'tcp', '--dport', '80', '--syn', '-j', 'DROP'];
  let tool = 'iptables';
  try {
    await site.lab.exec(rs, [tool, '-I', ...rule]);
  } catch (nft) {
    tool = 'iptables-legacy';
    await site.lab.exec(rs, [tool, '-I', ...rule]).catch((legacy: unknown) => {
      throw new Error(`no DROP rule on ${rs}: ${String(nft)}; ${String(legacy)}`);
    });
  }
  return async () => { await site.lab.exec(rs, [tool, '-D', ...rule]); };
}

/**
 * `rs`'s HTTP server made `half-open` (accepts and reads, never answers) or `slow` (answers
 * `delayMs` after the request), in place: its port never refuses meanwhile. Returns the undo.
 */
export async function answerBadly(site: FaultSite, rs: RealServerName, mode: 'half-open' | 'slow', delayMs = 0): Promise<() => Promise<void>> {
  await site.lab.serverAnswers(rs, mode === 'half-open' ? 'never' : `after ${delayMs}`);
  return () => site.lab.serverAnswers(rs, 'normal');
}

/** Whether this process runs inside the user-mode Linux guest the IPVS tier boots (its own clock, which `date -s` may step). */
export function insideUmlGuest(): boolean {
  try {
    return fs.readFileSync('/proc/cmdline', 'utf8').includes('LVSKIT_UML_OUT=');
  } catch {
    return false;
  }
}

/** Steps the guest's wall clock by `deltaS` seconds (`date -s @EPOCH`); refuses outside the guest: the host's clock is shared. */
export async function stepWallClock(deltaS: number): Promise<void> {
  if (!insideUmlGuest()) throw new Error('refusing to step the wall clock outside the user-mode Linux guest');
  await sh(['date', '-s', `@${Math.round(Date.now() / 1000) + deltaS}`]);
}

/** The IPVS sync daemons running on `lb`, as `ipvsadm -L --daemon` lists them (`master sync daemon (mcast=eth1, syncid=51)`). */
export async function syncDaemons(site: FaultSite, lb: BalancerName): Promise<string[]> {
  return (await site.lab.exec(lb, ['ipvsadm', '-L', '--daemon'])).split('\n').map((l) => l.trim()).filter(Boolean);
}
