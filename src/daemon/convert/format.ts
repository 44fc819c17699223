// layer: config (pure)
// job: the conversions as text for `lvskit config show`: the IPVS plan from an empty table, VRRP instances and health checks with every default resolved.
import type { CheckConfig } from '../../check/types.js';
import { validateVirtualServer } from '../../check/validate.js';
import { describeOp, formatDaemons } from '../../ipvs/format.js';
import { plan } from '../../ipvs/plan.js';
import type { ResolvedInstance } from '../../vrrp/instance.js';
import { validateVrrpConfig } from '../../vrrp/validate.js';
import type { HealthCheckConversion } from './checks.js';
import type { IpvsConversion } from './ipvs.js';
import type { VrrpConversion } from './vrrp.js';

const NOT_VALID = '(not valid: see the diagnostics)';

/** `6 s`, `0.5 s`. */
function seconds(ms: number): string {
  return `${ms / 1000} s`;
}

/** What plan() would do on an empty table (one line per operation), then the daemons and timeouts. */
export function formatIpvsConversion(c: IpvsConversion): string {
  const lines: string[] = [];
  try {
    for (const op of plan([], c.services)) lines.push(describeOp(op));
  } catch {
    lines.push(NOT_VALID);
  }
  if (c.daemons.length > 0) lines.push(formatDaemons(c.daemons));
  if (c.syncDaemon?.instance !== undefined) {
    lines.push(`sync daemon on ${c.syncDaemon.interface} (syncid ${c.syncDaemon.syncId}): master while vrrp_instance ${c.syncDaemon.instance} is MASTER, backup otherwise`);
  }
  if (c.timeouts) lines.push(`timeouts (tcp tcpfin udp; 0: unchanged): ${c.timeouts.tcpSec ?? 0} ${c.timeouts.tcpFinSec ?? 0} ${c.timeouts.udpSec ?? 0}`);
  lines.push(c.flush ? 'lvs_flush: services not listed here are removed' : 'services not listed here are left alone');
  return lines.join('\n');
}

function instanceLines(r: ResolvedInstance): string[] {
  const lines = [
    `vrrp_instance ${r.name}: VRRPv${r.version} IPv${r.family} vrid ${r.vrid} on ${r.interface}, priority ${r.priority}, advert ${seconds(r.advertIntervalCs * 10)}, `
    + `${r.preempt ? `preempt${r.preemptDelayMs ? ` after ${seconds(r.preemptDelayMs)}` : ''}` : 'nopreempt'}, ${r.acceptMode ? 'accept' : 'no_accept'}${r.authData ? ', auth PASS' : ''}`,
  ];
  for (const v of r.vips) {
    lines.push(`  vip ${v.address}/${v.prefixLength} dev ${v.dev}${v.label ? ` label ${v.label}` : ''}${v.scope ? ` scope ${v.scope}` : ''}${v.broadcast ? ` brd ${v.broadcast}` : ''}`);
  }
  lines.push(`  track ${r.track.map((t) => (t.weight === 0 ? `${t.dev} (down: FAULT)` : `${t.dev} (weight ${t.weight})`)).join(', ')}`);
  if (r.unicastPeers.length > 0) lines.push(`  unicast${r.unicastSourceAddress ? ` from ${r.unicastSourceAddress}` : ''} to ${r.unicastPeers.join(', ')}`);
  else if (r.unicastSourceAddress) lines.push(`  adverts from ${r.unicastSourceAddress}`);
  const g = r.garp;
  lines.push(`  garp ${g.masterRepeat} at MASTER${g.masterDelayMs ? `, ${g.masterRepeat} after ${seconds(g.masterDelayMs)}` : ''}${g.masterRefreshMs ? `, ${g.masterRefreshRepeat} every ${seconds(g.masterRefreshMs)}` : ''}`);
  if (r.lvsSyncDaemonInterface) lines.push(`  drives the IPVS sync daemon on ${r.lvsSyncDaemonInterface}`);
  for (const [k, argv] of Object.entries(r.notify)) lines.push(`  ${k === 'notify' ? 'notify' : `notify_${k}`}: ${argv.join(' ')}`);
  return lines;
}

/** Each instance as VrrpRunner resolves it (defaults filled in), then the sync groups and the sync daemon. */
export function formatVrrpConversion(c: VrrpConversion): string {
  if (c.instances.length === 0) return '(no vrrp_instance)';
  let resolved: ReturnType<typeof validateVrrpConfig>;
  try {
    resolved = validateVrrpConfig(c.instances, c.syncGroups);
  } catch {
    return NOT_VALID;
  }
  const lines = resolved.instances.flatMap(instanceLines);
  for (const g of resolved.syncGroups) lines.push(`vrrp_sync_group ${g.name}: ${g.members.join(', ')}`);
  if (c.syncDaemon) lines.push(`sync daemon on ${c.syncDaemon.interface}, syncid ${c.syncDaemon.syncId}${c.syncDaemon.instance ? `, driven by ${c.syncDaemon.instance}` : ', master and backup always'}`);
  return lines.join('\n');
}

function checkerLine(c: CheckConfig, alpha: boolean): string {
  const target = c.kind === 'MISC_CHECK' ? c.argv.join(' ') : c.kind === 'FILE_CHECK' ? c.path : c.kind === 'PING_CHECK' ? c.connectIp : `${c.connectIp.includes(':') ? `[${c.connectIp}]` : c.connectIp}:${c.connectPort}`;
  let text = `${c.kind} ${target} every ${seconds(c.delayLoopMs)}`;
  if (c.kind === 'FILE_CHECK') text += `, value × ${c.reverse ? -c.weight : c.weight}${c.weight === 0 ? ' (non-zero: down)' : ` + weight ${c.realServerWeight}`}`;
  else if (c.kind !== 'MISC_CHECK') text += `, connect timeout ${seconds(c.connectTimeoutMs)}`;
  else text += `, timeout ${seconds(c.timeoutMs)}${c.dynamic ? ', dynamic' : ''}${c.uid !== undefined ? `, uid ${c.uid}` : ''}`;
  text += `, retry ${c.retry} after ${seconds(c.delayBeforeRetryMs)}, warmup ${seconds(c.warmupMs)}${alpha ? ', alpha' : ''}`;
  if (c.kind === 'HTTP_GET' || c.kind === 'SSL_GET') {
    text += c.urls.map((u) => `; GET ${u.path} ${u.statusCodes.map((r) => (r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`)).join(',')}${u.digest ? ` md5 ${u.digest}` : ''}`).join('');
    if (c.virtualhost) text += `; Host ${c.virtualhost}`;
  }
  if (c.kind === 'SMTP_CHECK') text += `; HELO ${c.heloName}`;
  if (c.kind === 'DNS_CHECK') text += `; ${c.type} ${c.name}`;
  if (c.kind === 'UDP_CHECK') {
    text += `; payload ${c.payloadHex ?? 'random'}`;
    if (c.requireReply) text += `; reply required, ${c.minReplyBytes}..${c.maxReplyBytes} bytes${c.replyHex ? ` matching ${c.replyHex}` : ''}`;
  }
  return text;
}

/** Each virtual server as HealthChecks resolves it: real servers, their checkers with inherited timing, quorum, sorry server. */
export function formatHealthCheckConversion(c: HealthCheckConversion): string {
  if (c.virtualServers.length === 0) return '(no virtual_server with real servers)';
  const lines: string[] = [];
  for (const spec of c.virtualServers) {
    let r: ReturnType<typeof validateVirtualServer<unknown>>;
    try {
      r = validateVirtualServer(spec);
    } catch {
      lines.push(`${spec.id}: ${NOT_VALID}`);
      continue;
    }
    lines.push(`${r.id}: quorum ${r.policy.quorum}, hysteresis ${r.policy.hysteresis}${r.omega ? ', omega' : ''}`);
    for (const rs of r.realServers) {
      lines.push(`  ${rs.id} ${rs.destination.forward} weight ${rs.destination.weight}${rs.inhibitOnFailure ? ', inhibit_on_failure' : ''}${rs.checkers.length === 0 ? ', no checker (always up)' : ''}`);
      for (const ch of rs.checkers) lines.push(`    ${checkerLine(ch.config, ch.alpha)}`);
    }
    const sorry = r.policy.sorryServer;
    if (sorry) lines.push(`  sorry server ${sorry.address}:${sorry.port} ${sorry.forward} weight ${sorry.weight}${r.policy.sorryServerInhibit ? ', inhibited while idle' : ''}`);
  }
  return lines.join('\n');
}
