// layer: kernel client (IPVS) — pure reconciler
// job: plan(current, desired) → the minimal ordered operations from the kernel's table to the desired one.
import {
  destinationName, serviceKeyOf, serviceName, type Destination, type DestinationState, type ServiceKey,
  type ServiceSettings, type ServiceState, type Tunnel, type VirtualService,
} from './model.js';
import { validateServices } from './validate.js';

/** A real server as plan() and apply() carry it. */
export type PlannedDestination = Destination | DestinationState;

/** One step of a plan. Edits carry the previous settings, deletes the whole previous entry, so every op can be undone. */
export type Op =
  | { kind: 'add-service'; service: ServiceKey & ServiceSettings }
  | { kind: 'edit-service'; service: ServiceKey & ServiceSettings; previous: ServiceSettings }
  | { kind: 'delete-service'; service: ServiceKey & ServiceSettings; destinations: PlannedDestination[] }
  | { kind: 'add-destination'; service: ServiceKey; destination: Destination }
  | { kind: 'edit-destination'; service: ServiceKey; destination: Destination; previous: PlannedDestination }
  | { kind: 'delete-destination'; service: ServiceKey; destination: PlannedDestination };

/** Which entries of the current table lvskit may remove. Desired entries are always reconciled. */
export interface Ownership {
  /** A current service absent from the desired table is deleted only if this says it is ours. */
  service?(service: ServiceState | VirtualService): boolean;
  /** A current real server absent from the desired table is deleted only if this says it is ours. */
  destination?(service: ServiceKey, destination: PlannedDestination): boolean;
}

/** Options of `plan()`: which entries of the current table lvskit owns and may remove. */
export interface PlanOptions {
  /** Default: everything in the table is ours (the desired table is the whole truth). */
  owns?: Ownership;
}

/** Only a service's settings (scheduler, flags, persistence, one-packet), from a desired or a kernel entry. */
export function settingsOf(svc: ServiceSettings): ServiceSettings {
  const s: ServiceSettings = { scheduler: svc.scheduler };
  if (svc.schedulerFlags && svc.schedulerFlags.length > 0) s.schedulerFlags = svc.schedulerFlags;
  if (svc.persistence) s.persistence = svc.persistence;
  if (svc.onePacket) s.onePacket = true;
  return s;
}

/** Same scheduler, flags, persistence and one-packet setting. */
export function sameSettings(a: ServiceSettings, b: ServiceSettings): boolean {
  if (a.scheduler !== b.scheduler || Boolean(a.onePacket) !== Boolean(b.onePacket)) return false;
  if ((a.schedulerFlags ?? []).join(',') !== (b.schedulerFlags ?? []).join(',')) return false;
  const p = a.persistence;
  const q = b.persistence;
  if (!p || !q) return !p && !q;
  return p.timeoutSec === q.timeoutSec && p.prefixLength === q.prefixLength && p.netmask === q.netmask
    && (p.engine ?? '') === (q.engine ?? '');
}

function tunnelOf(d: PlannedDestination): Required<Tunnel> {
  return { type: d.tunnel?.type ?? 'ipip', port: d.tunnel?.port ?? 0, checksum: d.tunnel?.checksum ?? 'none' };
}

/** Same forwarding method, weight, thresholds and (for tun) tunnel. */
export function sameDestination(a: PlannedDestination, b: PlannedDestination): boolean {
  if (a.forward !== b.forward || a.weight !== b.weight) return false;
  if ((a.upperThreshold ?? 0) !== (b.upperThreshold ?? 0) || (a.lowerThreshold ?? 0) !== (b.lowerThreshold ?? 0)) return false;
  if (a.forward !== 'tun') return true;
  const s = tunnelOf(a);
  const t = tunnelOf(b);
  return s.type === t.type && s.port === t.port && s.checksum === t.checksum;
}

/** Only what a real server is configured with (no counters). */
function destinationOf(d: PlannedDestination): Destination {
  const out: Destination = { address: d.address, port: d.port, forward: d.forward as Destination['forward'], weight: d.weight };
  if (d.upperThreshold) out.upperThreshold = d.upperThreshold;
  if (d.lowerThreshold) out.lowerThreshold = d.lowerThreshold;
  if (d.forward === 'tun') out.tunnel = tunnelOf(d);
  return out;
}

function planDestinations(key: ServiceKey, current: readonly PlannedDestination[], desired: readonly Destination[], owns: Ownership): Op[] {
  const now = new Map(current.map((d) => [destinationName(d), d]));
  const wanted = new Set(desired.map((d) => destinationName(d)));
  const adds: Op[] = [];
  const edits: Op[] = [];
  for (const d of desired) {
    const have = now.get(destinationName(d));
    if (!have) adds.push({ kind: 'add-destination', service: key, destination: d });
    else if (!sameDestination(have, d)) edits.push({ kind: 'edit-destination', service: key, destination: d, previous: destinationOf(have) });
  }
  const deletes: Op[] = current
    .filter((d) => !wanted.has(destinationName(d)) && (owns.destination?.(key, d) ?? true))
    .map((d) => ({ kind: 'delete-destination', service: key, destination: destinationOf(d) }));
  return [...adds, ...edits, ...deletes];
}

/**
 * The operations that turn `current` (the kernel's table, e.g. from `IpvsClient.dumpTable()`)
 * into `desired`, in the order to apply them. Pure: no I/O, same input, same plan.
 *
 * - `desired` is validated first (IpvsValidationError naming the field), unless it is what
 *   validateServices() returned; a desired service without `destinations` is meant to have none.
 * - Minimal: nothing for what already matches; a changed scheduler, flag or persistence is an
 *   edit of the service; a changed weight, threshold, forwarding method or tunnel is an edit of
 *   the real server (never delete + add: connections keep their entries).
 * - Make before break: for each desired service in order, its add or edit, then its new real
 *   servers, edited ones, and removed ones; services no longer desired are deleted last.
 * - Ownership: current entries that `owns` disowns are never deleted. A disowned service's real
 *   servers stay with it; an owned service that still holds disowned real servers is not deleted,
 *   only its owned real servers are.
 */
export function plan(current: readonly (ServiceState | VirtualService)[], desired: readonly VirtualService[], options: PlanOptions = {}): Op[] {
  const owns = options.owns ?? {};
  const want = validateServices(desired, 'desired');
  const now = new Map(current.map((s) => [serviceName(s), s]));
  const names = want.map((s) => serviceName(s));
  const wanted = new Set(names);
  const ops: Op[] = [];
  // Indexed loops: plan() runs once per reconcile over thousands of entries, mostly before V8
  // has optimized it, and an interpreted for-of allocates per element.
  for (let i = 0; i < want.length; i++) {
    const svc = want[i] as VirtualService;
    const key = serviceKeyOf(svc);
    const settings = settingsOf(svc);
    const have = now.get(names[i] as string);
    if (!have) {
      ops.push({ kind: 'add-service', service: { ...key, ...settings } });
      const dests = svc.destinations ?? [];
      for (let j = 0; j < dests.length; j++) ops.push({ kind: 'add-destination', service: key, destination: dests[j] as Destination });
      continue;
    }
    if (!sameSettings(have, settings)) ops.push({ kind: 'edit-service', service: { ...key, ...settings }, previous: settingsOf(have) });
    for (const op of planDestinations(key, have.destinations ?? [], svc.destinations ?? [], owns)) ops.push(op);
  }
  for (const have of current) {
    if (wanted.has(serviceName(have)) || !(owns.service?.(have) ?? true)) continue;
    const key = serviceKeyOf(have);
    const dests = have.destinations ?? [];
    if (dests.every((d) => owns.destination?.(key, d) ?? true)) {
      ops.push({ kind: 'delete-service', service: { ...key, ...settingsOf(have) }, destinations: dests.map(destinationOf) });
    } else {
      ops.push(...planDestinations(key, dests, dests.filter((d) => !(owns.destination?.(key, d) ?? true)).map(destinationOf), owns));
    }
  }
  return ops;
}
