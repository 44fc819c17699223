// layer: behaviour (check)
// job: where real-server decisions go: the sink interface (an IPVS client adapter, or the in-memory one here), its operations and their order.
import { sameDestination } from '../ipvs/plan.js';

/** IPVS forwarding method (`lb_kind` / `lvs_method`). */
export type ForwardingMethod = 'dr' | 'nat' | 'tun';

/**
 * A real server as the kernel needs it (field for field what an IPVS destination carries, so an
 * adapter over an IPVS client passes it through).
 */
export interface SinkDestination {
  address: string;
  port: number;
  /** 0 quiesces: no new connections, established ones continue. */
  weight: number;
  forward: ForwardingMethod;
  upperThreshold?: number;
  lowerThreshold?: number;
  tunnel?: { type: 'ipip' | 'gue' | 'gre'; port?: number; checksum?: 'none' | 'csum' | 'remcsum' };
}

/**
 * What health checks change in the kernel. `S` is the caller's service identity (an IPVS service
 * key), passed through untouched. Contract: `addDestination` of one already present updates it,
 * `removeDestination` of one absent succeeds (an adapter maps EEXIST / ENOENT accordingly), and
 * `setWeight` gets the whole destination with its new weight (IPVS edits a destination whole).
 * A rejection is reported as a `sink-error` event; the next change retries from what was applied.
 */
export interface DestinationSink<S> {
  addDestination(service: S, destination: SinkDestination): Promise<void> | void;
  setWeight(service: S, destination: SinkDestination): Promise<void> | void;
  removeDestination(service: S, destination: { address: string; port: number }): Promise<void> | void;
}

/** One change to make. */
export type SinkOp =
  | { op: 'add'; destination: SinkDestination }
  | { op: 'set-weight'; destination: SinkDestination; previousWeight: number }
  | { op: 'remove'; destination: SinkDestination };

/** `address:port` (IPv6 in brackets): a destination's identity within its service. */
export function destinationKey(d: { address: string; port: number }): string {
  return d.address.includes(':') ? `[${d.address}]:${d.port}` : `${d.address}:${d.port}`;
}

/**
 * The operations that turn `applied` into `desired`, in an order that never leaves the service
 * emptier than needed: additions, then weight raises, then weight cuts, then removals (so a sorry
 * server is in before the real servers go, and they are back before it goes). Destinations are
 * compared as the IPVS planner compares them (a tunnel only for `tun`, with the kernel's defaults
 * filled in), so `applied` may be a kernel dump.
 */
export function planSinkOps(applied: ReadonlyMap<string, SinkDestination>, desired: ReadonlyMap<string, SinkDestination>): SinkOp[] {
  const adds: SinkOp[] = [];
  const raises: SinkOp[] = [];
  const cuts: SinkOp[] = [];
  const removes: SinkOp[] = [];
  for (const [key, d] of desired) {
    const a = applied.get(key);
    if (!a) adds.push({ op: 'add', destination: d });
    else if (!sameDestination(a, d)) (d.weight >= a.weight ? raises : cuts).push({ op: 'set-weight', destination: d, previousWeight: a.weight });
  }
  for (const [key, a] of applied) if (!desired.has(key)) removes.push({ op: 'remove', destination: a });
  return [...adds, ...raises, ...cuts, ...removes];
}

/** Send one operation to a sink. */
export async function applySinkOp<S>(sink: DestinationSink<S>, service: S, op: SinkOp): Promise<void> {
  if (op.op === 'add') await sink.addDestination(service, op.destination);
  else if (op.op === 'set-weight') await sink.setWeight(service, op.destination);
  else await sink.removeDestination(service, { address: op.destination.address, port: op.destination.port });
}

/**
 * A sink that keeps the table in memory and logs every call: for tests, dry runs and status.
 * `serviceKey` names a service (default: JSON).
 */
export class MemorySink<S> implements DestinationSink<S> {
  readonly tables = new Map<string, Map<string, SinkDestination>>();
  readonly log: { service: string; op: SinkOp['op']; destination: string; weight?: number }[] = [];

  constructor(private readonly serviceKey: (service: S) => string = (s) => JSON.stringify(s)) {}

  /** The destinations of `service` as `address:port` → weight. */
  weights(service: S): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, d] of this.tables.get(this.serviceKey(service)) ?? []) out[k] = d.weight;
    return out;
  }

  #table(service: S): Map<string, SinkDestination> {
    const key = this.serviceKey(service);
    let t = this.tables.get(key);
    if (!t) this.tables.set(key, (t = new Map()));
    return t;
  }

  addDestination(service: S, destination: SinkDestination): void {
    this.#table(service).set(destinationKey(destination), { ...destination });
    this.log.push({ service: this.serviceKey(service), op: 'add', destination: destinationKey(destination), weight: destination.weight });
  }

  setWeight(service: S, destination: SinkDestination): void {
    this.#table(service).set(destinationKey(destination), { ...destination });
    this.log.push({ service: this.serviceKey(service), op: 'set-weight', destination: destinationKey(destination), weight: destination.weight });
  }

  removeDestination(service: S, destination: { address: string; port: number }): void {
    this.#table(service).delete(destinationKey(destination));
    this.log.push({ service: this.serviceKey(service), op: 'remove', destination: destinationKey(destination) });
  }
}
