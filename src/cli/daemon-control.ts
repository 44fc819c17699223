// layer: cli (composition only)
// job: `lvskit status|reload|stop`: requests to a running `lvskit run` over its control socket, answers printed for an operator (or as JSON).
import type { Command } from 'commander';
import { formatDiagnostic } from '../config/diagnostics.js';
import { ControlError, controlRequest, defaultControlPath, type ControlRequest } from '../daemon/control.js';
import { reloadSummary } from '../daemon/describe.js';
import type { BalancerStatus, ReloadResult } from '../daemon/events.js';
import { describeOp } from '../ipvs/format.js';
import { netnsOption } from './options.js';
import { whyDown } from './top-view.js';
import { TRACKER_BLOCK } from '../track/state.js';

interface Target { control?: string; netns?: string; json?: boolean }

function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${s % 60}s` : `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
}

/** The effective priority, and with trackers, how it was made: `90 (100 -10)`, `100 (100, FAULT)`. */
function priorityText(i: BalancerStatus['instances'][number]): string {
  const t = i.tracking;
  if (!t || i.basePriority === undefined || (!t.fault && t.weight === 0)) return String(i.priority);
  const parts = [t.weight !== 0 ? `${t.weight > 0 ? '+' : ''}${t.weight}` : '', t.fault ? 'FAULT' : ''].filter(Boolean).join(', ');
  return `${i.priority} (${i.basePriority} ${parts})`;
}

/** The status as an operator reads it: instances, services with real servers, bans. */
export function formatStatus(s: BalancerStatus, nowMs = Date.now()): string {
  const lines = [`lvskit pid ${s.pid}, ${s.config}, up ${duration(nowMs - s.startedAtMs)}, ${s.reloads} reload(s)${s.reloadFailures ? `, ${s.reloadFailures} refused` : ''}`];
  if (s.instances.length > 0) {
    lines.push('', 'VRRP');
    lines.push(...table([['INSTANCE', 'STATE', 'PRIO', 'VRID', 'INTERFACE', 'MASTER SEEN', 'VIPS'],
      ...s.instances.map((i) => [i.name, i.state, priorityText(i), String(i.vrid), i.interface,
        i.master ? `${i.master.address} (${i.master.priority})` : i.state === 'MASTER' ? '(this)' : '-', i.vips.join(' ')])]).map((l) => `  ${l}`));
  }
  if (s.trackers && s.trackers.length > 0) {
    lines.push('', 'TRACKERS');
    lines.push(...table([['TRACKER', 'STATE', 'VALUE', 'WHY'],
      ...s.trackers.map((t) => [`${TRACKER_BLOCK[t.kind]} ${t.name}`, t.state.toUpperCase(),
        t.value === undefined ? '-' : String(t.value), t.reason ?? ''])]).map((l) => `  ${l}`));
  }
  for (const svc of s.services) {
    lines.push('', `${svc.name}${svc.scheduler ? ` ${svc.scheduler}` : ''}${svc.present ? '' : ' (NOT IN THE KERNEL)'}${svc.quorumUp === false ? ' quorum LOST' : ''}`);
    lines.push(...table([['REAL SERVER', 'HEALTH', 'WEIGHT', 'ACTIVE', 'INACTIVE', 'WHY'],
      ...svc.realServers.map((r) => [`${r.address.includes(':') ? `[${r.address}]` : r.address}:${r.port}`, r.up === undefined ? '-' : r.up ? 'UP' : 'DOWN',
        r.kernelWeight === undefined ? '(absent)' : String(r.kernelWeight), String(r.activeConns ?? '-'), String(r.inactiveConns ?? '-'),
        whyDown(r) ?? ''])]).map((l) => `  ${l}`));
  }
  if (s.autoban) {
    const a = s.autoban;
    lines.push('', `autoban: set ${a.set}, ${a.source}, threshold ${a.threshold}, ${a.bans.length} ban(s)${a.trackedConnections !== undefined ? `, ${a.trackedConnections} connections tracked` : ''}`);
    for (const b of a.bans) lines.push(`  ${b.address} (${b.count} ESTABLISHED) ${b.untilMs === undefined ? 'no end' : `until ${new Date(b.untilMs).toISOString()}`}`);
  }
  return lines.join('\n');
}

/** A reload's plan as lines: the summary, then what changes. */
export function formatReload(r: ReloadResult): string {
  const lines = [reloadSummary(r)];
  for (const name of r.vrrp.added) lines.push(`  vrrp_instance ${name}: added`);
  for (const name of r.vrrp.removed) lines.push(`  vrrp_instance ${name}: removed`);
  for (const c of r.vrrp.replaced) lines.push(`  vrrp_instance ${c.name}: replaced (${c.fields.join(', ')} changed: a new router)`);
  for (const c of r.vrrp.changed) lines.push(`  vrrp_instance ${c.name}: ${c.fields.join(', ')} changed in place`);
  for (const op of r.ipvs) lines.push(`  ${describeOp(op)}`);
  for (const id of r.checks.added) lines.push(`  checks of ${id}: started`);
  for (const id of r.checks.removed) lines.push(`  checks of ${id}: stopped`);
  for (const c of r.checks.changed) lines.push(`  ${c.id}: ${c.changes.join(', ')}`);
  for (const c of r.net) lines.push(`  ${c.owner}: ${c.op} ${c.kind} ${c.what}${c.deferred ? ' (not MASTER: when it becomes MASTER)' : ''}`);
  for (const d of r.warnings) lines.push(formatDiagnostic(d));
  return lines.join('\n');
}

async function request(t: Target, body: ControlRequest): Promise<unknown> {
  try {
    return await controlRequest(t.control ?? defaultControlPath(t.netns), body);
  } catch (error) {
    if (error instanceof ControlError && error.diagnostics) {
      for (const d of error.diagnostics) console.error(formatDiagnostic(d));
    }
    throw error;
  }
}

function targetOptions(cmd: Command): Command {
  return cmd.option('--control <path>', 'the daemon\'s control socket (default /run/lvskit/lvskit.sock, or lvskit-NETNS.sock with --netns)')
    .addOption(netnsOption().hideHelp(false))
    .option('--json', 'print JSON');
}

export function registerDaemonControlCommands(program: Command): void {
  targetOptions(program.command('status').description('what a running `lvskit run` is doing: VRRP states, services and real servers, bans'))
    .option('--memory', 'where the daemon\'s memory is instead (JSON): RSS, each thread\'s V8 heap by space, glibc malloc\'s arenas')
    .action(async (opts: Target & { memory?: boolean }) => {
      if (opts.memory) return console.log(JSON.stringify(await request(opts, { command: 'memory' }), null, 2));
      const status = await request(opts, { command: 'status' }) as BalancerStatus;
      console.log(opts.json ? JSON.stringify(status, null, 2) : formatStatus(status));
    });
  targetOptions(program.command('reload').description('make a running `lvskit run` read its configuration again and apply the difference (SIGHUP does the same)'))
    .option('--dry-run', 'print what would change; change nothing')
    .action(async (opts: Target & { dryRun?: boolean }) => {
      const result = await request(opts, { command: 'reload', dryRun: opts.dryRun === true }) as ReloadResult;
      console.log(opts.json ? JSON.stringify(result, null, 2) : formatReload(result));
    });
  targetOptions(program.command('stop').description('stop a running `lvskit run` (as SIGTERM), or with --restart keep everything for a new one'))
    .option('--restart', 'send no priority 0 and keep VIPs, IPVS and bans: a new `lvskit run` started within the Master_Down_Interval resumes as MASTER')
    .action(async (opts: Target & { restart?: boolean }) => {
      const result = await request(opts, { command: 'stop', mode: opts.restart ? 'restart' : 'graceful' });
      console.log(opts.json ? JSON.stringify(result) : `stopped (${opts.restart ? 'restart: VIPs, IPVS and sync daemons kept' : 'graceful'})`);
    });
}
