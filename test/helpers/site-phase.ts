// layer: test helpers (site scenario)
// job: what a phase of the scenario is and records: its context (lab, driver, traffic), its checks and measured facts, and its result once its traffic window has settled.
import type { SiteBalancer } from './site-driver.js';
import type { LabBalancer, SiteLab } from './site-lab.js';
import type { BalancerName, SiteSpec } from './site-model.js';
import { check, hasAddress, type Check } from './site-oracles.js';
import type { HeldConnections, RequestResult, Traffic, TrafficStats } from './site-traffic.js';

export type PhaseId = 'steady' | 'master-dies' | 'master-returns' | 'server-dies' | 'server-returns' | 'sync'
  | 'reload' | 'bad-reload' | 'backup-restart' | 'master-restart' | 'autoban';

/** `ran`; `n/a` (the implementation lacks the feature); `error` (the phase could not finish); `not-run` (an earlier phase had an error). */
export type PhaseStatus = 'ran' | 'n/a' | 'error' | 'not-run';

export interface PhaseResult {
  id: PhaseId;
  /** The phase's number in the operator's scenario (2b: lb1 back after its death). */
  number: string;
  title: string;
  status: PhaseStatus;
  /** The phase's traffic window [start, end) in CLOCK_MONOTONIC ms; windows follow each other without gaps. */
  startMs: number;
  endMs: number;
  traffic: TrafficStats;
  checks: Check[];
  /** Measured values: bounds (ms), counts, what the daemon did. */
  facts: Record<string, number | string | boolean>;
  notes: string[];
  error?: string;
}

export interface ScenarioContext {
  lab: SiteLab;
  driver: SiteBalancer;
  traffic: Traffic;
  /** The site as currently configured (the reload phase changes it). */
  site: SiteSpec;
  /** The long-lived connections opened by phase `sync`, kept open to the end. */
  held?: HeldConnections;
  log(line: string): void;
}

export interface PhaseSpec {
  id: PhaseId;
  number: string;
  title: string;
  run(ctx: ScenarioContext, phase: PhaseRecorder): Promise<void>;
}

/** Collects one phase's checks and facts while it runs; `finish` adds those that need its whole traffic window. */
export class PhaseRecorder {
  readonly checks: Check[] = [];
  readonly facts: Record<string, number | string | boolean> = {};
  readonly notes: string[] = [];
  status: PhaseStatus = 'ran';
  readonly #afterTraffic: Array<(stats: TrafficStats, results: RequestResult[]) => void> = [];

  constructor(readonly spec: PhaseSpec, readonly startMs: number, readonly log: (line: string) => void) {}

  check(name: string, ok: boolean, detail: string): void {
    this.checks.push(check(name, ok, detail));
    this.log(`  ${ok ? 'ok  ' : 'FAIL'} ${name}: ${detail}`);
  }

  fact(name: string, value: number | string | boolean): void {
    this.facts[name] = typeof value === 'number' ? Math.round(value) : value;
  }

  note(text: string): void {
    this.notes.push(text);
    this.log(`  note: ${text}`);
  }

  notApplicable(reason: string): void {
    this.status = 'n/a';
    this.note(reason);
  }

  /** Runs `fn` with the window's counts and results once every request sent in it has ended. */
  afterTraffic(fn: (stats: TrafficStats, results: RequestResult[]) => void): void {
    this.#afterTraffic.push(fn);
  }

  finish(endMs: number, stats: TrafficStats, results: RequestResult[], error?: unknown): PhaseResult {
    if (error === undefined) for (const fn of this.#afterTraffic) fn(stats, results);
    const { id, number, title } = this.spec;
    return {
      id, number, title, status: error === undefined ? this.status : 'error', startMs: this.startMs, endMs, traffic: stats,
      checks: this.checks, facts: this.facts, notes: this.notes,
      ...(error === undefined ? {} : { error: error instanceof Error ? error.message : String(error) }),
    };
  }
}

export const lbOf = (ctx: ScenarioContext, name: BalancerName): LabBalancer => ctx.lab.balancer(name);

/** The balancer holding the VIP, undefined when none or both do. */
export async function vipHolder(ctx: ScenarioContext): Promise<BalancerName | undefined> {
  const [on1, on2] = await Promise.all([hasAddress(ctx.lab, 'lb1', ctx.site.vip), hasAddress(ctx.lab, 'lb2', ctx.site.vip)]);
  return on1 === on2 ? undefined : on1 ? 'lb1' : 'lb2';
}

/** A check that the window had no failed request; `since`/`until` narrow it to requests sent in [since, until). */
export function noFailures(phase: PhaseRecorder, name: string, sinceMs = -Infinity, untilMs = Infinity): void {
  phase.afterTraffic((_stats, results) => {
    const counted = results.filter((r) => r.sentMs >= sinceMs && r.sentMs < untilMs);
    const failed = counted.filter((r) => !r.ok);
    phase.check(name, failed.length === 0, `${failed.length} of ${counted.length} requests failed${failed.length ? ` (${[...new Set(failed.map((r) => r.what))].join(', ')})` : ''}`);
  });
}

export const ms = (x: number): string => `${Math.round(x)} ms`;
