// layer: test helpers (IPVS tier: the control-plane fault matrix)
// job: the running site a fault is injected into — the site lab with `lvskit run` on both balancers (lb1 serving /metrics), steady traffic from the client — and what the fault tests read: lb1's JSON log, its metrics, its table, its pid.
import fs from 'node:fs';
import path from 'node:path';
import { SiteLab, type LabBalancer } from './site-lab.js';
import { LvskitDriver } from './site-lvskit.js';
import type { BalancerName } from './site-model.js';
import { ipvsTable, tableShape } from './site-oracles.js';
import { Cleanup, monoMs, poll } from './site-procs.js';
import { Traffic } from './site-traffic.js';
import { sample as metricSample } from './prom-sample.js';

/** Where lb1 serves /metrics, inside its own namespace. */
export const METRICS = '127.0.0.1:9655';

/** The steady traffic: a new connection to the VIP every 50 ms, each given 1.5 s. */
const TRAFFIC = { intervalMs: 50, timeoutMs: 1500 };

export interface FaultSite {
  lab: SiteLab;
  driver: LvskitDriver;
  traffic: Traffic;
  lb1: LabBalancer;
  /** When the first request through the VIP succeeded (monotonic ms): the site is up from here. */
  readyMs: number;
  /** When the lab's creation began (monotonic ms). */
  createdMs: number;
  /** lb1's JSON log lines since it started (parsed; other lines left out). */
  log(): Record<string, unknown>[];
  /** lb1's log lines of `source`/`type`. */
  logged(source: string, type: string): Record<string, unknown>[];
  /** lb1's /metrics, scraped from inside its namespace. */
  metrics(): Promise<string>;
  /** One sample of lb1's /metrics (undefined: absent). */
  metric(name: string, labels?: Record<string, string>): Promise<number | undefined>;
  /** `ipvsadm -Ln` of `lb` without counters, sorted (tableShape). */
  table(lb?: BalancerName): Promise<string>;
  /** The pid lb1's daemon wrote (its pid file beside the control socket). */
  pid(): number;
  /** VRRP transitions lb1's daemon logged since `sinceIndex` of its log. */
  transitionsSince(sinceIndex: number): Record<string, unknown>[];
}

/**
 * Builds the site, writes both balancers' files (with `edit` applied to lb1's), starts lvskit on
 * lb1 (`--metrics-listen`, plus `lb1Extra`) and lb2, waits until lb1 holds the VIP and a request
 * through it succeeds, and starts the steady traffic. Everything goes at `cleanup.run()`.
 */
export async function faultSite(cleanup: Cleanup, options: { lb1Extra?: string[]; edit?: (configDir: string) => void } = {}): Promise<FaultSite> {
  const createdMs = monoMs();
  const lab = await SiteLab.create(cleanup);
  const driver = new LvskitDriver(cleanup);
  const lb1 = lab.balancer('lb1');
  for (const name of ['lb1', 'lb2'] as const) await driver.writeConfig(lab.balancer(name), lab.site);
  options.edit?.(lb1.configDir);
  await driver.start(lb1, ['--metrics-listen', METRICS, ...(options.lb1Extra ?? [])]);
  await driver.start(lab.balancer('lb2'));
  const traffic = await Traffic.start(lab, TRAFFIC);
  const first = await traffic.firstSuccess(monoMs(), 60_000);
  if (!first) throw new Error('no request through the VIP succeeded within 60 s of the start');
  const log = (): Record<string, unknown>[] => driver.log(lb1).flatMap((l) => {
    if (!l.startsWith('{')) return [];
    try { return [JSON.parse(l) as Record<string, unknown>]; } catch { return []; }
  });
  const metrics = async (): Promise<string> => lab.exec('lb1', [process.execPath, '-e',
    `fetch('http://${METRICS}/metrics').then(async (r) => process.stdout.write(await r.text()))`]);
  return {
    lab, driver, traffic, lb1, log, metrics, readyMs: first.sentMs, createdMs,
    logged: (source, type) => log().filter((j) => j.source === source && j.type === type),
    metric: async (name, labels = {}) => metricSample(await metrics(), name, labels),
    table: async (lb = 'lb1') => tableShape(await ipvsTable(lab, lb)),
    pid: () => Number(fs.readFileSync(path.join(lb1.runDir, 'lvskit.pid'), 'utf8').trim()),
    transitionsSince: (sinceIndex) => log().slice(sinceIndex).filter((j) => j.source === 'vrrp' && j.type === 'transition'),
  };
}

/** Waits for lb1's log to hold a line of `source`/`type` passing `also`; throws naming it after `timeoutMs`. */
export async function waitForLogged(site: FaultSite, source: string, type: string, timeoutMs: number,
  also: (j: Record<string, unknown>) => boolean = () => true): Promise<Record<string, unknown>> {
  const line = await poll(async () => site.logged(source, type).find(also), timeoutMs, 100);
  if (!line) throw new Error(`lb1 logged no ${source}/${type} within ${timeoutMs} ms; last lines:\n${site.driver.log(site.lb1).slice(-10).join('\n')}`);
  return line;
}
