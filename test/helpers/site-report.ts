// layer: test helpers (site scenario)
// job: the site scenario's results as text: a markdown table of requests, failures and outage per phase per implementation, and each implementation's checks.
import type { PhaseResult } from './site-phase.js';
import type { SiteResults } from './site-scenario.js';

const round = (x: number): string => Math.round(x).toLocaleString('en-US');

function cell(phase: PhaseResult | undefined): string[] {
  if (!phase) return ['', ''];
  if (phase.status === 'n/a') return ['n/a', ''];
  if (phase.status === 'not-run') return ['not run', ''];
  const failed = `${phase.traffic.failures} / ${phase.traffic.requests}${phase.status === 'error' ? ' (phase error)' : ''}`;
  return [failed, phase.traffic.outageMs > 0 ? round(phase.traffic.outageMs) : '0'];
}

/** One row per phase; for each implementation: failed / requests, and the longest outage (ms). */
export function failuresTable(runs: readonly SiteResults[]): string {
  const header = ['phase', ...runs.flatMap((r) => [`${r.implementation}: failed / requests`, `${r.implementation}: outage (ms)`])];
  const first = runs[0]?.phases ?? [];
  const rows = first.map((p) => [`${p.number}. ${p.title}`, ...runs.flatMap((r) => cell(r.phases.find((q) => q.id === p.id)))]);
  const totals = ['total', ...runs.flatMap((r) => {
    const ran = r.phases.filter((p) => p.status === 'ran' || p.status === 'error');
    return [`${ran.reduce((n, p) => n + p.traffic.failures, 0)} / ${ran.reduce((n, p) => n + p.traffic.requests, 0)}`, ''];
  })];
  return [header, header.map((_, i) => (i === 0 ? '---' : '---:')), ...rows, totals].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

/** Every check of every phase, `ok`/`FAIL`, with the phase's facts and notes: what a reader needs to see why. */
export function checksReport(run: SiteResults): string {
  const lines = [`${run.implementation}: setup ${round(run.setupMs)} ms, phases ${round(run.scenarioMs)} ms`];
  for (const p of run.phases) {
    lines.push(`${p.number}. ${p.title} [${p.status}] ${p.traffic.failures}/${p.traffic.requests} failed, outage ${round(p.traffic.outageMs)} ms, ${JSON.stringify(p.traffic.byServer)}`);
    for (const c of p.checks) lines.push(`   ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
    if (Object.keys(p.facts).length > 0) lines.push(`   facts: ${JSON.stringify(p.facts)}`);
    for (const n of p.notes) lines.push(`   note: ${n}`);
    if (p.error) lines.push(`   error: ${p.error}`);
  }
  return lines.join('\n');
}
