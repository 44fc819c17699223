// layer: behaviour (check)
// job: a virtual server's policy as pure functions: quorum with hysteresis, the sorry server, inhibit_on_failure, and the destinations the kernel should hold.
import { effectiveWeight, type RealServerHealth } from './real-server.js';
import { destinationKey, type SinkDestination } from './sink.js';

/** How a virtual server reacts to its real servers' health. */
export interface VirtualServerPolicy {
  /** `quorum`: least sum of weights of UP real servers for the service to be "up". ≥ 1 (default 1). */
  quorum: number;
  /** `hysteresis`: quorum is lost below quorum − hysteresis and regained at quorum + hysteresis. */
  hysteresis: number;
  /** `sorry_server`: in the pool while quorum is lost (its weight as given; keepalived uses 1). */
  sorryServer?: SinkDestination;
  /** `sorry_server_inhibit`: keep the sorry server in the pool at weight 0 while unused, instead of removing it. */
  sorryServerInhibit: boolean;
}

/** A real server's place in the pool: its destination (at the configured weight) and `inhibit_on_failure`. */
export interface PoolMember {
  id: string;
  destination: SinkDestination;
  /** DOWN → weight 0 (established connections continue) instead of removal. */
  inhibitOnFailure: boolean;
}

/** Sum of the effective weights of UP real servers (keepalived `weigh_live_realservers`). */
export function liveWeight(health: Iterable<RealServerHealth>): number {
  let sum = 0;
  for (const h of health) if (h.up) sum += effectiveWeight(h);
  return sum;
}

/** Quorum at start: no hysteresis yet (keepalived starts from the plain threshold). */
export function initialQuorum(policy: VirtualServerPolicy, weight: number): boolean {
  return weight > 0 && weight >= policy.quorum;
}

/**
 * keepalived's `update_quorum_state`: a service without quorum gains it when the live weight
 * reaches quorum + hysteresis; one with quorum loses it when the live weight falls below
 * quorum − hysteresis, or to 0.
 */
export function nextQuorum(policy: VirtualServerPolicy, quorumUp: boolean, weight: number): boolean {
  if (!quorumUp) return weight > 0 && weight >= policy.quorum + policy.hysteresis;
  return !(weight === 0 || weight < policy.quorum - policy.hysteresis);
}

/** The threshold that would flip the quorum state next (for events and status). */
export function quorumThreshold(policy: VirtualServerPolicy, quorumUp: boolean): number {
  return quorumUp ? policy.quorum - policy.hysteresis : policy.quorum + policy.hysteresis;
}

/** True when the sorry server carries the traffic. */
export function sorryActive(policy: VirtualServerPolicy, quorumUp: boolean): boolean {
  return policy.sorryServer !== undefined && !quorumUp;
}

/** The sorry server's state as `sorry-server` events tell it: which one carries the traffic, if any. */
export interface SorryServerTransition {
  active: boolean;
  /** `address:port`. */
  destination: string;
}

/**
 * The `sorry-server` events between two states of a virtual server (its policy and quorum before
 * and after): the one that stops carrying the traffic, then the one that starts. Quorum lost or
 * regained is one event; a reload that moves an active sorry server to another address is two.
 */
export function sorryTransitions(before: { policy: VirtualServerPolicy; quorumUp: boolean },
  after: { policy: VirtualServerPolicy; quorumUp: boolean }): SorryServerTransition[] {
  const active = (s: typeof before): string | undefined => (sorryActive(s.policy, s.quorumUp) ? destinationKey(s.policy.sorryServer!) : undefined);
  const was = active(before);
  const now = active(after);
  if (was === now) return [];
  const out: SorryServerTransition[] = [];
  if (was !== undefined) out.push({ active: false, destination: was });
  if (now !== undefined) out.push({ active: true, destination: now });
  return out;
}

/**
 * What the kernel should hold for the service, as `address:port` → destination:
 * - an UP real server at its effective weight, unless the sorry server is active;
 * - a DOWN real server (or an UP one displaced by the sorry server) at weight 0 with
 *   inhibit_on_failure, otherwise absent;
 * - the sorry server at its weight while active; at weight 0 with sorry_server_inhibit while not;
 *   otherwise absent.
 */
export function desiredDestinations(policy: VirtualServerPolicy, members: readonly PoolMember[],
  health: ReadonlyMap<string, RealServerHealth>, quorumUp: boolean): Map<string, SinkDestination> {
  const out = new Map<string, SinkDestination>();
  const sorry = sorryActive(policy, quorumUp);
  for (const m of members) {
    const h = health.get(m.id);
    const serving = h !== undefined && h.up && !sorry;
    if (serving) out.set(destinationKey(m.destination), { ...m.destination, weight: effectiveWeight(h) });
    else if (m.inhibitOnFailure) out.set(destinationKey(m.destination), { ...m.destination, weight: 0 });
  }
  if (policy.sorryServer) {
    const key = destinationKey(policy.sorryServer);
    if (sorry) out.set(key, { ...policy.sorryServer });
    else if (policy.sorryServerInhibit && !out.has(key)) out.set(key, { ...policy.sorryServer, weight: 0 });
  }
  return out;
}
