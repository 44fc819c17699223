// layer: demo (output)
// job: what the demo shows: the live view (VRRP states, real servers' health and weights, requests/s, failures) as lines, and the per-phase summary.
import type { BalancerStatus } from '../daemon/events.js';
import type { PhaseCheck } from './phases.js';
import { vrrpState } from './phases.js';

export interface TrafficCounts {
  requests: number;
  failures: number;
}

export interface LiveSnapshot {
  phase: string;
  phaseSec: number;
  balancers: Array<{ name: string; status: BalancerStatus | undefined }>;
  /** Answers in the last second. */
  requestsPerSec: number;
  /** Failed requests in the last second, by reason. */
  recentErrors: Record<string, number>;
  thisPhase: TrafficCounts;
  total: TrafficCounts;
}

export interface PhaseSummary {
  number: number;
  id: string;
  title: string;
  lossless: boolean;
  traffic: TrafficCounts;
  checks: PhaseCheck[];
  error?: string;
}

/** Whether a phase behaved: every check held, no error, and no failed request where none may fail. */
export function behaved(p: PhaseSummary): boolean {
  return p.error === undefined && p.checks.every((c) => c.ok) && (!p.lossless || p.traffic.failures === 0);
}

/** The live view's lines (no colours: it reads the same through user-mode Linux's console). */
export function liveLines(s: LiveSnapshot): string[] {
  const lines = [`lvskit demo — ${s.phase} (${s.phaseSec.toFixed(0)} s)`, ''];
  lines.push(s.balancers.map((b) => `${b.name}: ${vrrpState(b.status).padEnd(7)}`).join('   '));
  const shown = s.balancers.find((b) => vrrpState(b.status) === 'MASTER') ?? s.balancers.find((b) => b.status);
  for (const service of shown?.status?.services ?? []) {
    lines.push(`  ${service.name} (as ${shown!.name} sees it)`);
    for (const rs of service.realServers) {
      const health = rs.up === undefined ? '?' : rs.up ? 'up' : 'DOWN';
      lines.push(`    ${rs.address}:${rs.port}  ${health.padEnd(4)}  weight ${String(rs.kernelWeight ?? '-').padStart(2)}  active ${rs.activeConns ?? 0}  inactive ${rs.inactiveConns ?? 0}`);
    }
  }
  const errors = Object.entries(s.recentErrors).map(([what, n]) => `${n} ${what}`).join(', ');
  lines.push('', `traffic: ${s.requestsPerSec} req/s${errors ? `, failing now: ${errors}` : ''}`);
  lines.push(`this phase: ${s.thisPhase.requests} requests, ${s.thisPhase.failures} failed   total: ${s.total.requests} requests, ${s.total.failures} failed`);
  return lines;
}

/** The summary printed at the end: one row per phase, then the verdict. */
export function summaryLines(phases: readonly PhaseSummary[], interrupted: boolean): string[] {
  const lines = ['', 'summary: failed requests per phase', ''];
  lines.push(`${'phase'.padEnd(72)} ${'requests'.padStart(8)} ${'failed'.padStart(6)}  verdict`);
  for (const p of phases) {
    const verdict = behaved(p) ? 'ok' : 'NOT OK';
    const rule = p.lossless ? ' (none may fail)' : '';
    lines.push(`${`${p.number}. ${p.id}: ${p.title}`.slice(0, 72).padEnd(72)} ${String(p.traffic.requests).padStart(8)} ${String(p.traffic.failures).padStart(6)}  ${verdict}${rule}`);
    for (const c of p.checks.filter((c) => !c.ok)) lines.push(`     not seen: ${c.text}`);
    if (p.error) lines.push(`     error: ${p.error}`);
  }
  const total = phases.reduce((n, p) => ({ requests: n.requests + p.traffic.requests, failures: n.failures + p.traffic.failures }), { requests: 0, failures: 0 });
  lines.push(`${'total'.padEnd(72)} ${String(total.requests).padStart(8)} ${String(total.failures).padStart(6)}`);
  lines.push('', interrupted ? 'result: interrupted'
    : phases.every(behaved) ? 'result: every phase behaved' : `result: ${phases.filter((p) => !behaved(p)).map((p) => p.id).join(', ')} did not behave`);
  return lines;
}
