// layer: daemon (composition, pure)
// job: a Balancer's status from its parts: VRRP instances with their VIPs, each declared service with its real servers' health (checks) and weight, connections and traffic counters (kernel), bans.
import type { HealthStatus } from '../check/events.js';
import { destinationKey } from '../check/sink.js';
import { serviceName, type DestinationState, type ServiceState, type Stats } from '../ipvs/model.js';
import type { InstanceTracking, TrackerStatus } from '../track/types.js';
import type { InstanceStatus } from '../vrrp/events.js';
import type { VirtualAddressConfig } from '../vrrp/instance.js';
import type { AutobanStatus } from './autoban-side.js';
import type { DesiredState } from './desired.js';
import type { BalancerStatus, RealServerView, ServiceView, TrafficView } from './events.js';

export interface StatusParts {
  desired: DesiredState;
  instances: InstanceStatus[];
  table: readonly ServiceState[];
  health?: HealthStatus;
  autoban?: AutobanStatus;
  trackers?: TrackerStatus[];
  /** The trackers' FAULT and weight per instance. */
  tracking?: Record<string, InstanceTracking>;
  startedAtMs: number;
  reloads: number;
  reloadFailures: number;
}

function vipText(v: string | VirtualAddressConfig): string {
  return typeof v === 'string' ? v : v.address;
}

/** The kernel's counters as numbers (bigint in the model). */
export function trafficView(s: Stats): TrafficView {
  return {
    connections: Number(s.conns), packetsIn: Number(s.inPkts), packetsOut: Number(s.outPkts), bytesIn: Number(s.inBytes), bytesOut: Number(s.outBytes),
    connectionsPerSec: Number(s.connsPerSec), packetsInPerSec: Number(s.inPktsPerSec), packetsOutPerSec: Number(s.outPktsPerSec),
    bytesInPerSec: Number(s.inBytesPerSec), bytesOutPerSec: Number(s.outBytesPerSec),
  };
}

function kernelFields(k: DestinationState): Pick<RealServerView, 'kernelWeight' | 'activeConns' | 'inactiveConns' | 'traffic'> {
  return { kernelWeight: k.weight, activeConns: k.activeConns, inactiveConns: k.inactiveConns, ...(k.stats ? { traffic: trafficView(k.stats) } : {}) };
}

function serviceView(parts: StatusParts, name: string, kernel: ServiceState | undefined): ServiceView {
  const health = parts.health?.virtualServers.find((v) => v.id === name);
  const spec = parts.desired.virtualServers.find((v) => serviceName(v.service) === name);
  const byKey = new Map((kernel?.destinations ?? []).map((d) => [destinationKey(d), d]));
  const realServers: RealServerView[] = (spec?.realServers ?? []).map((rs) => {
    const key = destinationKey({ address: rs.address, port: rs.port ?? spec?.port ?? 0 });
    const h = health?.realServers.find((r) => r.id === key);
    const k = byKey.get(key);
    byKey.delete(key);
    return {
      ...(h ?? {}), address: rs.address, port: rs.port ?? spec?.port ?? 0,
      ...(k ? kernelFields(k) : {}),
    };
  });
  // The kernel's other real servers (a sorry server, or one added by hand).
  for (const k of byKey.values()) {
    realServers.push({ address: k.address, port: k.port, ...kernelFields(k) });
  }
  return {
    name, present: kernel !== undefined, realServers,
    ...(kernel ? { scheduler: kernel.scheduler } : {}), ...(health ? { quorumUp: health.quorumUp } : {}),
    ...(kernel?.stats ? { traffic: trafficView(kernel.stats) } : {}),
  };
}

export function balancerStatus(parts: StatusParts): BalancerStatus {
  const table = new Map(parts.table.map((s) => [serviceName(s), s]));
  const vipsOf = new Map(parts.desired.instances.map((i) => [i.name, i.virtualAddresses.map(vipText)]));
  const baseOf = new Map(parts.desired.instances.map((i) => [i.name, i.priority ?? 100]));
  return {
    pid: process.pid, config: parts.desired.source, startedAtMs: parts.startedAtMs, reloads: parts.reloads, reloadFailures: parts.reloadFailures,
    instances: parts.instances.map((s) => {
      const tracking = parts.tracking?.[s.name];
      const base = baseOf.get(s.name);
      return { ...s, vips: vipsOf.get(s.name) ?? [], ...(base !== undefined ? { basePriority: base } : {}), ...(tracking ? { tracking } : {}) };
    }),
    services: parts.desired.services.map((s) => serviceView(parts, serviceName(s), table.get(serviceName(s)))),
    ...(parts.autoban ? { autoban: parts.autoban } : {}),
    ...(parts.trackers && parts.trackers.length > 0 ? { trackers: parts.trackers } : {}),
  };
}
