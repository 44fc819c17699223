// layer: daemon (composition)
// job: each Balancer event as one log line: a level, a sentence an operator reads, and the event's facts as fields (for JSON logs).
import type { HealthCheckEvent } from '../check/events.js';
import { formatDiagnostic, formatLocation, type SourceLocation } from '../config/diagnostics.js';
import type { TrackerEvent } from '../track/types.js';
import { TRACKER_BLOCK } from '../track/state.js';
import { describeOp } from '../ipvs/format.js';
import type { VrrpRunnerEvent } from '../vrrp/events.js';
import type { SyncInterfaceEvent } from './sync-interface.js';
import type { BalancerLogger } from './balancer.js';
import type { AutobanBalancerEvent, BalancerEvent, DaemonEvent, ReloadResult } from './events.js';

/** The level of a daemon log line. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** A daemon event as one log line: its level and message. */
export interface LogLine {
  level: LogLevel;
  message: string;
}

function errorText(e: { error?: unknown }): string {
  return e.error instanceof Error ? ` failed: ${e.error.message}` : '';
}

function syncInterfaceLine(e: SyncInterfaceEvent): LogLine {
  const what = `${e.instance}: IPVS sync daemon's interface ${e.interface}`;
  if (!e.up) return { level: 'warn', message: `${what} is down${e.initial ? ' at start' : ''}: connections are not synced to the peer until it returns` };
  if (e.initial) return { level: 'debug', message: `${what} is up` };
  if (e.error) return { level: 'error', message: `${what} is up again; starting the sync daemon again failed: ${e.error.message}` };
  const daemon = !e.restarted ? 'runs' : e.recreated ? 'was started again (the interface is a new link: the old daemon was bound to the one that is gone)' : 'was started again (the kernel no longer ran it)';
  return { level: 'info', message: `${what} is up again${e.role ? `: the ${e.role} sync daemon ${daemon}` : ''}` };
}

function vrrpLine(e: (VrrpRunnerEvent | SyncInterfaceEvent) & { location?: SourceLocation }): LogLine {
  switch (e.type) {
    case 'sync-interface': return syncInterfaceLine(e);
    case 'transition': return { level: 'info', message: `${e.instance}: ${e.from} → ${e.to} (${e.reason}, priority ${e.priority})` };
    case 'group-transition': return { level: 'info', message: `group ${e.group}: ${e.to}` };
    case 'drop': return { level: 'warn', message: `${e.instance ?? e.interface}: advert from ${e.src ?? '?'} dropped: ${e.message} [${e.reason}]` };
    case 'vip': return { level: e.error ? 'error' : 'info', message: `${e.instance}: ${e.op} ${e.address}/${e.prefixLength} dev ${e.dev}${e.label ? ` label ${e.label}` : ''}${errorText(e)}` };
    case 'net': return { level: e.error ? 'error' : 'info', message: `${e.owner}: ${e.op} ${e.kind} ${e.what}${errorText(e)}` };
    case 'announce': return { level: e.error ? 'error' : 'debug', message: `${e.instance}: ${e.count} × ${e.kind === 'garp' ? 'gratuitous ARP' : 'unsolicited NA'} for ${e.address} on ${e.dev}${errorText(e)}` };
    case 'sync-daemon': return { level: e.error ? 'error' : 'info', message: `${e.instance}: IPVS sync daemon ${e.role === 'stop' ? 'stopped' : `${e.role} on ${e.interface}`}${errorText(e)}` };
    case 'script': return { level: e.error || e.timedOut || e.exitCode ? 'warn' : 'info', message: `${e.owner}: ${e.argv.join(' ')} → ${e.error ? e.error.message : e.timedOut ? 'timed out' : e.signal ?? `exit ${e.exitCode}`}` };
    case 'warning': return { level: 'warn', message: `${e.location ? `${formatLocation(e.location)}: ` : ''}${e.instance ?? 'vrrp'}: ${e.message}` };
    case 'links-resynced': return { level: 'warn', message: `link notifications lost (ENOBUFS × ${e.overruns}: a burst of link changes outran the reader); links read again, ${e.changed} changed` };
    case 'reconfigure': return { level: 'info', message: `VRRP reconfigured: ${[...e.added.map((n) => `${n} added`), ...e.removed.map((n) => `${n} removed`), ...e.replaced.map((c) => `${c.name} replaced (${c.fields.join(', ')})`), ...e.changed.map((c) => `${c.name} ${c.fields.join(', ')} changed`)].join('; ') || 'nothing changed'}` };
  }
}

function checksLine(e: HealthCheckEvent): LogLine {
  switch (e.type) {
    case 'real-server': {
      const r = e.event;
      if (r.type === 'up') return { level: 'info', message: `${e.vs}: real server ${e.rs} UP` };
      // The checker's id is its kind and its settings as JSON (what shares a probe): the line names the kind; the fields carry the rest.
      if (r.type === 'down') return { level: 'warn', message: `${e.vs}: real server ${e.rs} DOWN (${r.checker.replace(/ \{.*$/s, '')}${r.failure ? `: ${r.failure.message}` : ''})` };
      return { level: 'info', message: `${e.vs}: real server ${e.rs} weight ${r.previous} → ${r.weight} (dynamic)` };
    }
    case 'quorum': return { level: e.up ? 'info' : 'warn', message: `${e.vs}: quorum ${e.up ? 'gained' : 'lost'} (live weight ${e.weight}, threshold ${e.threshold})` };
    case 'sorry-server': return { level: 'info', message: `${e.vs}: sorry server ${e.destination} ${e.active ? 'in' : 'out'}` };
    case 'replaced': return { level: 'info', message: `${e.vs}: reloaded in place (${[e.added.length && `${e.added.length} real server(s) added`, e.removed.length && `${e.removed.length} removed`, e.changed.length && `${e.changed.length} changed`, e.policyChanged && 'quorum/sorry server changed'].filter(Boolean).join(', ') || 'nothing'})` };
    case 'applied': {
      const o = e.op;
      const what = o.op === 'set-weight' ? `weight ${o.previousWeight} → ${o.destination.weight}` : o.op === 'add' ? `added, weight ${o.destination.weight}` : 'removed';
      return { level: 'info', message: `${e.vs}: real server ${o.destination.address}:${o.destination.port} ${what}` };
    }
    case 'sink-error': return { level: 'error', message: `${e.vs}: IPVS refused ${e.op.op} of ${e.op.destination.address}:${e.op.destination.port}: ${(e.error as Error).message}` };
    case 'overdue': return { level: 'warn', message: `check ${e.id} is ${Math.round(e.lateMs)} ms overdue (${e.phase})` };
    case 'recovered': return { level: 'info', message: `check ${e.id} is on time again` };
    case 'script': return { level: e.outcome.exitCode === 0 ? 'info' : 'warn', message: `${e.vs}: ${e.kind} ${e.argv.join(' ')} → ${e.outcome.timedOut ? 'timed out' : e.outcome.signal ?? `exit ${e.outcome.exitCode}`}` };
    case 'attempt': return { level: 'debug', message: `check ${e.key}: ${e.report.result.ok ? 'ok' : 'failed'}` };
  }
}

function autobanLine(e: AutobanBalancerEvent): LogLine {
  switch (e.type) {
    case 'ban': return { level: 'warn', message: `${e.dryRun ? 'would ban' : 'ban'} ${e.address} (${e.count} ESTABLISHED) ${e.untilMs === undefined ? 'with no end' : `until ${new Date(e.untilMs).toISOString()}`}` };
    case 'whitelisted': return { level: 'info', message: `not banning ${e.address} (${e.count} ESTABLISHED): whitelisted by ${e.range}` };
    case 'rate-limited': return { level: 'warn', message: `not banning ${e.address} (${e.count} ESTABLISHED) yet: ${e.maxBansPerMinute} bans in the last minute` };
    case 'expired': return { level: 'info', message: `ban of ${e.address} ended` };
    case 'round': return { level: 'debug', message: `autoban round: ${e.observations} over the threshold, ${e.banned.length} banned` };
    case 'error': return { level: 'error', message: `autoban: ${e.error.message}` };
    case 'blacklist-recovered': return { level: 'info', message: `static_blacklist ${e.file} written again (${e.bans} ban${e.bans === 1 ? '' : 's'} in force) after ${e.failedWrites} failed write${e.failedWrites === 1 ? '' : 's'}` };
    case 'set-created': return { level: 'info', message: `autoban: created ipset ${e.set} (hash:ip, timeouts)` };
  }
}

/** One line summing up a reload. */
export function reloadSummary(r: ReloadResult): string {
  const v = r.vrrp;
  const parts = [
    `VRRP ${v.added.length} added, ${v.removed.length} removed, ${v.changed.length} changed in place, ${v.replaced.length} replaced, ${v.unchanged.length} unchanged`,
    r.dryRun
      ? `IPVS ${r.ipvs.length} operation${r.ipvs.length === 1 ? '' : 's'} planned${r.checks.changed.length > 0 ? ` (then the real-server changes below)` : ''}`
      : `IPVS ${r.ipvs.length + r.checkOps} operation${r.ipvs.length + r.checkOps === 1 ? '' : 's'}`,
    `checks ${r.checks.added.length} added, ${r.checks.removed.length} removed, ${r.checks.changed.length} changed, ${r.checks.unchanged} unchanged`,
    `autoban ${r.autoban}`,
  ];
  if (r.net.length > 0) {
    const count = (op: 'add' | 'remove'): number => r.net.filter((c) => c.op === op).length;
    parts.splice(3, 0, `addresses/routes/rules ${count('remove')} removed, ${count('add')} added`);
  }
  const phases = Object.entries(r.phasesMs ?? {}).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ');
  return `${r.dryRun ? 'reload (dry run) would do' : 'reloaded'}: ${parts.join('; ')} in ${r.durationMs.toFixed(1)} ms${phases && !r.dryRun ? ` (ms from the start: ${phases})` : ''}`;
}

function trackLine(e: TrackerEvent): LogLine {
  const at = e.location ? `${formatLocation(e.location)}: ` : '';
  if (e.type === 'tracker-error') return { level: 'error', message: `${at}${e.message}` };
  const what = `${TRACKER_BLOCK[e.kind]} ${e.name}`;
  if (e.kind === 'file') return { level: 'info', message: `${what}: value ${e.value}` };
  if (e.kind === 'process' && e.state === 'ok') return { level: 'info', message: `${what}: OK (${e.value} matching process${e.value === 1 ? '' : 'es'})` };
  return { level: e.state === 'ok' ? 'info' : 'warn', message: `${e.state === 'disabled' ? at : ''}${what}: ${e.state.toUpperCase()}${e.reason ? ` (${e.reason})` : ''}` };
}

function daemonLine(e: DaemonEvent): LogLine {
  switch (e.type) {
    case 'started': return { level: 'info', message: `started (pid ${e.pid}) from ${e.config}: ${e.instances.length} VRRP instance(s)${e.resumed.length ? ` (${e.resumed.join(', ')} resumed as MASTER)` : ''}, ${e.services} service(s), ${e.ipvsOps} IPVS operation(s) in ${e.durationMs.toFixed(0)} ms` };
    case 'reloaded': return { level: 'info', message: `${reloadSummary(e.result)}${e.coalesced > 0 ? ` (answered ${e.coalesced} more reload request${e.coalesced === 1 ? '' : 's'} that came meanwhile)` : ''}` };
    case 'reload-failed': return { level: 'error', message: `reload refused, nothing changed: ${e.error.message}${e.diagnostics ? `\n${e.diagnostics.map(formatDiagnostic).join('\n')}` : ''}` };
    case 'config-warning': return { level: 'warn', message: formatDiagnostic(e.diagnostic) };
    case 'ipvs-applied': return { level: 'info', message: `IPVS (${e.reason}): ${e.ops.length} operation(s)${e.ops.length <= 5 ? `: ${e.ops.map(describeOp).join('; ')}` : ''}` };
    case 'clock-step': return { level: 'warn', message: `the wall clock was stepped ${e.stepMs < 0 ? 'back' : 'forward'} ${(Math.abs(e.stepMs) / 1000).toFixed(1)} s (to ${new Date(e.wallMs).toISOString()}): log times jump; VRRP and health checks run on the monotonic clock and are not affected` };
    case 'drift-repaired': return { level: 'warn', message: `IPVS drift repaired: ${[...e.recreated.map((n) => `${n} created again (deleted behind lvskit's back)`), ...e.ops.filter((o) => o.kind === 'edit-service').map((o) => `${describeOp(o)} (changed by hand)`)].join('; ')}; ${e.checkOps} real-server operation(s)` };
    case 'stopping': return { level: 'info', message: `stopping (${e.mode})` };
    case 'stopped': return { level: 'info', message: `stopped (${e.mode})` };
    case 'script': return { level: e.error || e.timedOut || e.exitCode ? 'warn' : 'info', message: `${e.which} script ${e.argv.join(' ')} → ${e.error ? e.error.message : e.timedOut ? 'timed out' : e.signal ?? `exit ${e.exitCode}`}` };
    case 'error': return { level: 'error', message: e.message };
  }
}

/** The line an event is logged as. */
export function describeEvent(e: BalancerEvent): LogLine {
  switch (e.source) {
    case 'vrrp': return vrrpLine(e);
    case 'checks': return checksLine(e);
    case 'autoban': return autobanLine(e);
    case 'track': return trackLine(e);
    case 'daemon': return daemonLine(e);
  }
}

/** The event's facts as log fields: its own properties, errors as their message and code, big lists counted. */
export function eventFields(e: BalancerEvent): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) {
    if (v instanceof Error) out[k] = { message: v.message, ...((v as { code?: string }).code ? { code: (v as { code?: string }).code } : {}) };
    else if (k === 'ops' && Array.isArray(v)) out[k] = v.length;
    else if (k === 'outcome' && v && typeof v === 'object') out[k] = { exitCode: (v as { exitCode: unknown }).exitCode, timedOut: (v as { timedOut: unknown }).timedOut };
    else if (k === 'result' && v && typeof v === 'object') out[k] = { ...(v as object), ipvs: ((v as ReloadResult).ipvs ?? []).length };
    else out[k] = v;
  }
  return out;
}

/** Log one event through a pino-style logger (debug lines only if it has `debug`). */
export function logEvent(logger: BalancerLogger & { debug?: (f: object, m: string) => void }, e: BalancerEvent): void {
  const line = describeEvent(e);
  if (line.level === 'debug') logger.debug?.(eventFields(e), line.message);
  else logger[line.level](eventFields(e), line.message);
}
