// layer: daemon (composition)
// job: the daemon layer's entry: Balancer (a whole configuration run as one object), its options, events and status; the conversions from keepalived.conf; the control socket.
/**
 * The daemon layer: Balancer (a whole configuration run as one object), its options, events and status; the conversions from keepalived.conf; the control socket; preflight checks.
 *
 * @module lvskit/daemon
 */
export { Balancer, type BalancerOptions, type BalancerLogger } from './balancer.js';
export { loadDesired, desiredFromSpec, startDestinationsOf, defaultConfigId, type BalancerSpec, type BalancedService, type DesiredState, type ConfigSource } from './desired.js';
export type {
  BalancerEvent, BalancerStatus, ReloadResult, StopMode, DaemonEvent, AutobanBalancerEvent, ChecksReload, ServiceView, RealServerView, TrafficView,
} from './events.js';
export { describeEvent, eventFields, logEvent, reloadSummary, type LogLine, type LogLevel } from './describe.js';
export { ControlServer, ControlError, controlRequest, defaultControlPath, type ControlRequest, type ControlResponse } from './control.js';
export type { AutobanStatus, BanStatus } from './autoban-side.js';
export type { VrrpIsolation } from './vrrp-host.js';
export type { SyncInterfaceEvent } from './sync-interface.js';
export type { MemoryReport, ThreadHeap, HeapSpace } from './memory.js';
export type { TrimStats } from './malloc-tuning.js';
export * from './convert.js';
export { evaluatePreflight, snapshotRequest, rpFilterFixes, effectiveRpFilter, PreflightError, type SystemSnapshot, type SnapshotRequest } from './preflight.js';
export { preflightNeeds, type PreflightNeeds, type NeededLink } from './preflight-needs.js';
export { preflight, readSystemSnapshot, type PreflightOptions, type PreflightResult } from './preflight-live.js';
