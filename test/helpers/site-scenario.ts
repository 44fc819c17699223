// layer: test helpers (site scenario)
// job: run the operator's site end to end with one implementation as both balancers: build the lab, start the daemons, drive the phases in order over steady traffic, return per-phase results.
import type { SiteBalancerFactory } from './site-driver.js';
import { SiteLab } from './site-lab.js';
import { BALANCERS, REAL_SERVERS, type BalancerName } from './site-model.js';
import { waitForTable } from './site-oracles.js';
import { AUTOBAN_PHASES } from './site-phase-autoban.js';
import { PhaseRecorder, vipHolder, type PhaseId, type PhaseResult, type PhaseSpec, type ScenarioContext } from './site-phase.js';
import { CHANGE_PHASES } from './site-phases-change.js';
import { FAILOVER_PHASES } from './site-phases-failover.js';
import { monoMs, poll, sleep, type Cleanup } from './site-procs.js';
import { Traffic, trafficStats } from './site-traffic.js';

/**
 * The phases in the order they run. lb1 dies in phase 2 and is brought back (rebooted, its daemon
 * started, preempting with the higher priority) in 2b, so every later phase starts with lb1 as
 * master and lb2 as backup, as the site normally runs.
 */
export const PHASES: readonly PhaseSpec[] = [...FAILOVER_PHASES, ...CHANGE_PHASES, ...AUTOBAN_PHASES];

/** The client's steady traffic: a new connection every 50 ms, each given 1 s. */
export const TRAFFIC = { intervalMs: 50, timeoutMs: 1000 };
/** How long the daemons may take to start and settle (lb1 master, its table complete) before phase 1. */
const SETTLE_MS = 60_000;

export interface SiteResults {
  implementation: string;
  phases: PhaseResult[];
  /** Building the lab and starting both daemons until lb1 was master with its whole table. */
  setupMs: number;
  /** Phases only. */
  scenarioMs: number;
  /** Everything each balancer's daemon printed. */
  daemonLogs: Record<BalancerName, string[]>;
}

export interface ScenarioOptions {
  /** Undoes everything (processes, namespaces, files) when run; the caller runs it, also on failure. */
  cleanup: Cleanup;
  log?: (line: string) => void;
  /** Only these phases (and those before them that they depend on are not added: for debugging). */
  only?: readonly PhaseId[];
}

/** Builds the lab, starts `create`'s daemon on lb1 then lb2, waits until lb1 is master, then runs the phases. */
export async function runSiteScenario(create: SiteBalancerFactory, options: ScenarioOptions): Promise<SiteResults> {
  const log = options.log ?? (() => undefined);
  const setupStart = monoMs();
  const ctx = await startSite(create, options.cleanup, log);
  const setupMs = monoMs() - setupStart;
  log(`${ctx.driver.name}: lb1 master, traffic flowing; setup took ${Math.round(setupMs)} ms`);
  const scenarioStart = monoMs();
  const phases = await runPhases(ctx, PHASES.filter((p) => !options.only || options.only.includes(p.id)), scenarioStart);
  const scenarioMs = monoMs() - scenarioStart;
  await ctx.held?.close();
  await ctx.traffic.stop();
  const daemonLogs = Object.fromEntries(BALANCERS.map((lb) => [lb, ctx.driver.log(ctx.lab.balancer(lb))])) as Record<BalancerName, string[]>;
  return { implementation: ctx.driver.name, phases, setupMs, scenarioMs, daemonLogs };
}

/** The lab, the daemons on lb1 then lb2, the client's traffic; resolves once lb1 is master with its whole table and answering. */
async function startSite(create: SiteBalancerFactory, cleanup: Cleanup, log: (line: string) => void): Promise<ScenarioContext> {
  const started = monoMs();
  const lab = await SiteLab.create(cleanup);
  const driver = await create(cleanup);
  log(`${driver.name}: lab ready (segment ${lab.site.net}.0/24, VIP ${lab.site.vip}) in ${Math.round(monoMs() - started)} ms`);
  for (const lb of BALANCERS) await driver.writeConfig(lab.balancer(lb), lab.site);
  for (const lb of BALANCERS) await driver.start(lab.balancer(lb));
  const traffic = await Traffic.start(lab, TRAFFIC);
  const ctx: ScenarioContext = { lab, driver, traffic, site: lab.site, log };
  await siteSettled(ctx, SETTLE_MS);
  return ctx;
}

/** Resolves once lb1 holds the VIP with every real server weighted in its table and the client's traffic is answered (then 1 s more); throws after `settleMs`. */
export async function siteSettled(ctx: ScenarioContext, settleMs: number): Promise<void> {
  const { lab, traffic } = ctx;
  const www = lab.site.services[0]!;
  const ready = await poll(async () => ((await vipHolder(ctx)) === 'lb1' ? true : undefined), settleMs, 200)
    && await waitForTable(lab, 'lb1', (t) => t.some((s) => s.port === www.port && s.destinations.filter((d) => d.weight > 0).length === REAL_SERVERS.length), settleMs)
    && await traffic.firstSuccess(monoMs(), settleMs);
  if (!ready) throw new Error(`${ctx.driver.name}: lb1 did not become master with its whole table, answering, within ${settleMs} ms`);
  await sleep(1000); // traffic flowing through the master before the first window opens
}

/**
 * Each phase in turn; its window ends when it returns and the next one's starts there. A phase
 * that throws is an `error` and the rest are `not-run`: they would start from an unknown state.
 */
async function runPhases(ctx: ScenarioContext, specs: readonly PhaseSpec[], firstStartMs: number): Promise<PhaseResult[]> {
  const phases: PhaseResult[] = [];
  let startMs = firstStartMs;
  for (const spec of specs) {
    if (phases.some((p) => p.status === 'error')) {
      phases.push(notRun(spec, startMs));
      continue;
    }
    ctx.log(`phase ${spec.number} ${spec.id}: ${spec.title}`);
    const phase = new PhaseRecorder(spec, startMs, ctx.log);
    let error: unknown;
    try {
      await spec.run(ctx, phase);
    } catch (e) {
      error = e;
      ctx.log(`  ERROR ${e instanceof Error ? e.message : String(e)}`);
    }
    const endMs = monoMs();
    await ctx.traffic.settled(endMs);
    const results = ctx.traffic.results(startMs, endMs);
    const result = phase.finish(endMs, trafficStats(results, endMs), results, error);
    ctx.log(`  ${result.traffic.requests} requests, ${result.traffic.failures} failed, outage ${Math.round(result.traffic.outageMs)} ms, ${JSON.stringify(result.traffic.byServer)}`);
    phases.push(result);
    startMs = endMs;
  }
  return phases;
}

function notRun(spec: PhaseSpec, atMs: number): PhaseResult {
  return {
    id: spec.id, number: spec.number, title: spec.title, status: 'not-run', startMs: atMs, endMs: atMs,
    traffic: { requests: 0, failures: 0, byServer: {}, errors: {}, outageMs: 0 }, checks: [], facts: {}, notes: ['an earlier phase had an error'],
  };
}
