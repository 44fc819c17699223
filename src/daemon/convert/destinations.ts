// layer: config (pure)
// job: a real server and a sorry server as IPVS destinations, and which of them the kernel holds at start (src/check's rules: alpha, inhibit_on_failure, quorum, sorry server).
import { initialHealth, type RealServerHealth } from '../../check/real-server.js';
import type { SinkDestination } from '../../check/sink.js';
import { desiredDestinations, initialQuorum, liveWeight, type PoolMember, type VirtualServerPolicy } from '../../check/virtual-server.js';
import type { SourceLocation } from '../../config/diagnostics.js';
import type { RealServer, VirtualServer } from '../../config/model.js';
import { forwardingOf } from './common.js';
import type { DeclaredService } from './services.js';

/** A real server's destination at its configured weight (keepalived's default weight: 1; port: the service's). */
export function realServerDestination(svc: DeclaredService, rs: RealServer): SinkDestination {
  const { forward, tunnel } = forwardingOf(rs.method ?? svc.vs.method);
  const d: SinkDestination = { address: rs.address, port: rs.port ?? svc.port, forward, weight: rs.weight ?? 1 };
  if (rs.upperThreshold) d.upperThreshold = rs.upperThreshold;
  if (rs.lowerThreshold) d.lowerThreshold = rs.lowerThreshold;
  if (tunnel) d.tunnel = tunnel;
  return d;
}

/** `sorry_server` at weight 1, forwarded by sorry_server_lvs_method, else the virtual server's method. */
export function sorryDestination(svc: DeclaredService): SinkDestination | undefined {
  const s = svc.vs.sorryServer;
  if (!s) return undefined;
  const { forward, tunnel } = forwardingOf(svc.vs.sorryServerMethod ?? svc.vs.method);
  return { address: s.address, port: s.port ?? svc.port, weight: 1, forward, ...(tunnel ? { tunnel } : {}) };
}

/** quorum (default 1) and hysteresis (default 0; keepalived resets one not below quorum to quorum − 1, as config validation warns). */
export function quorumOf(vs: VirtualServer): { quorum: number; hysteresis: number } {
  const quorum = vs.quorum ?? 1;
  const h = vs.hysteresis ?? 0;
  return { quorum, hysteresis: h >= quorum ? Math.max(0, quorum - 1) : h };
}

/** A checker counts as DOWN until its first success with `alpha` (checker, else real server, else virtual server). */
export function checkerAlpha(vs: VirtualServer, rs: RealServer, c: { alpha?: boolean }): boolean {
  return c.alpha ?? rs.alpha ?? vs.alpha ?? false;
}

/** One destination of the start-up table with the config location it came from. */
export interface StartDestination {
  destination: SinkDestination;
  location: SourceLocation;
}

/**
 * What the kernel holds for a service when lvskit starts, by src/check's own rules (so HealthChecks
 * finds nothing to change): a real server without an `alpha` checker is UP at its weight; one with
 * is DOWN, so absent, or at weight 0 with inhibit_on_failure; when the UP weight misses the quorum,
 * the sorry server serves and the real servers are out (inhibited ones at weight 0);
 * sorry_server_inhibit keeps an idle sorry server at weight 0.
 */
export function startDestinations(svc: DeclaredService): StartDestination[] {
  const vs = svc.vs;
  const members: PoolMember[] = [];
  const health = new Map<string, RealServerHealth>();
  const where = new Map<string, SourceLocation>();
  vs.realServers.forEach((rs, i) => {
    const destination = realServerDestination(svc, rs);
    const id = String(i);
    members.push({ id, destination, inhibitOnFailure: rs.inhibitOnFailure ?? vs.inhibitOnFailure ?? false });
    health.set(id, initialHealth(destination.weight, rs.checkers.map((c, k) => ({ key: String(k), alpha: checkerAlpha(vs, rs, c) }))));
    where.set(`${destination.address}|${destination.port}`, rs.location);
  });
  const sorry = sorryDestination(svc);
  const policy: VirtualServerPolicy = { ...quorumOf(vs), sorryServerInhibit: vs.sorryServerInhibit === true, ...(sorry ? { sorryServer: sorry } : {}) };
  const quorumUp = initialQuorum(policy, liveWeight(health.values()));
  return [...desiredDestinations(policy, members, health, quorumUp).values()].map((destination) => ({
    destination, location: where.get(`${destination.address}|${destination.port}`) ?? vs.location,
  }));
}
