// layer: kernel client (IPVS)
// job: carry out a plan pipelined on one socket, stop at the first refusal, undo what ran past it; rollback.
import { commands, type IpvsClient, type IpvsCommand } from './client.js';
import { encodeServiceKeyNest } from './codec.js';
import type { Op } from './plan.js';

/** What became of one operation. */
export type OpStatus =
  /** The kernel carried it out, and it stays. */
  | 'applied'
  /** The kernel refused it (see `error`). */
  | 'failed'
  /** After the failing one, and refused as well (nothing to undo). */
  | 'skipped'
  /** After the failing one, carried out, then undone by apply. */
  | 'reverted';

/** One op of an applied plan and what became of it. */
export interface OpResult {
  op: Op;
  status: OpStatus;
  /** For `failed`: the IpvsError (errno, command, target, kernel message). */
  error?: Error;
}

/** The outcome of apply() (or rollback()). */
export interface ApplyResult {
  /** Every operation applied. */
  ok: boolean;
  /** One result per operation, in plan order. */
  results: OpResult[];
  /** The operations that stay applied: all of them when ok, else those before the failure. */
  applied: Op[];
  /** The first refused operation (by plan order) and why. */
  failed?: { index: number; op: Op; error: Error };
  /**
   * Undoing an operation that ran past the failure was itself refused: that operation stays in
   * the kernel (reported, never hidden). Empty in the ordinary case.
   */
  revertFailures: { op: Op; error: Error }[];
}

/**
 * The command that carries out `op`. `keyNests` caches each service's identity nest by the
 * service object (plan() shares one object among a service's operations).
 */
export function commandOf(op: Op, keyNests = new WeakMap<object, Buffer>()): IpvsCommand {
  if (op.kind === 'add-service') return commands.addService(op.service);
  if (op.kind === 'edit-service') return commands.editService(op.service);
  let keyNest = keyNests.get(op.service);
  if (!keyNest) {
    keyNest = encodeServiceKeyNest(op.service);
    keyNests.set(op.service, keyNest);
  }
  switch (op.kind) {
    case 'delete-service': return commands.deleteService(op.service, keyNest);
    case 'add-destination': return commands.addDestination(op.service, op.destination, keyNest);
    case 'edit-destination': return commands.editDestination(op.service, op.destination, keyNest);
    case 'delete-destination': return commands.deleteDestination(op.service, op.destination, keyNest);
  }
}

/** The operations that undo `op`, in order. */
export function inverse(op: Op): Op[] {
  switch (op.kind) {
    case 'add-service': return [{ kind: 'delete-service', service: op.service, destinations: [] }];
    case 'edit-service': return [{ kind: 'edit-service', service: { ...serviceKeyPart(op.service), ...op.previous }, previous: op.service }];
    case 'delete-service':
      return [{ kind: 'add-service', service: op.service },
        ...op.destinations.map((d): Op => ({ kind: 'add-destination', service: op.service, destination: asDestination(d) }))];
    case 'add-destination': return [{ kind: 'delete-destination', service: op.service, destination: op.destination }];
    case 'edit-destination': return [{ kind: 'edit-destination', service: op.service, destination: asDestination(op.previous), previous: op.destination }];
    case 'delete-destination': return [{ kind: 'add-destination', service: op.service, destination: asDestination(op.destination) }];
  }
}

function serviceKeyPart(s: Extract<Op, { kind: 'edit-service' }>['service']): Extract<Op, { kind: 'edit-service' }>['service'] {
  const { scheduler: _s, schedulerFlags: _f, persistence: _p, onePacket: _o, ...key } = s;
  return key as Extract<Op, { kind: 'edit-service' }>['service'];
}

function asDestination(d: Extract<Op, { kind: 'delete-destination' }>['destination']): Extract<Op, { kind: 'add-destination' }>['destination'] {
  return d as Extract<Op, { kind: 'add-destination' }>['destination'];
}

/** Options of `apply()`: a progress callback as the operations are sent. */
export interface ApplyOptions {
  /**
   * Called as the operations are written into datagrams (every 256, and once at the end with
   * `sent` = `total`); for a progress bar. The kernel's answers follow within the pipeline window.
   */
  onProgress?: (sent: number, total: number) => void;
}

/**
 * Send `ops` in order, pipelined and packed into datagrams (see IpvsClient.sendBatch).
 * Per op: true = carried out, Error = refused.
 */
async function run(client: IpvsClient, ops: readonly Op[], onProgress?: (sent: number, total: number) => void): Promise<(Error | true)[]> {
  const keyNests = new WeakMap<object, Buffer>();
  // Each command is made as its datagram is written, so the lot never holds them all.
  const at = (i: number): ReturnType<typeof commandOf> => {
    if (onProgress && i % 256 === 0) onProgress(i, ops.length);
    return commandOf(ops[i] as Op, keyNests);
  };
  const sent = await client.sendBatch({ length: ops.length, at });
  onProgress?.(ops.length, ops.length);
  const outcome = sent as (Error | undefined | true)[]; // reused: one array per op is enough
  for (let i = 0; i < outcome.length; i++) outcome[i] ??= true;
  return outcome as (Error | true)[];
}

/**
 * Apply a plan: operations pipelined and packed by the hundred into each datagram, with one
 * acknowledgement per datagram (not a round trip, nor even an ACK, per operation). The kernel
 * carries out every operation it can; when one is refused, the operations after it (in plan
 * order) that were carried out are undone, newest first, so nothing after the failure stays
 * applied. The result says, per operation, what became of it. Undo the applied part with `rollback()`.
 */
export async function apply(client: IpvsClient, ops: readonly Op[], options: ApplyOptions = {}): Promise<ApplyResult> {
  const outcome = await run(client, ops, options.onProgress);
  const firstFailure = outcome.findIndex((o) => o instanceof Error);
  const results: OpResult[] = ops.map((op, i) => {
    const o = outcome[i];
    if (o === true) return { op, status: 'applied' };
    // Only the first refusal is the failure; later refused operations simply did not happen.
    return i === firstFailure ? { op, status: 'failed', error: o as Error } : { op, status: 'skipped' };
  });
  if (firstFailure < 0) return { ok: true, results, applied: [...ops], revertFailures: [] };
  const pastFailure = results.slice(firstFailure + 1).filter((r) => r.status === 'applied').reverse();
  const undo = await run(client, pastFailure.flatMap((r) => inverse(r.op))); // undo all that can be undone
  const revertFailures: { op: Op; error: Error }[] = [];
  let at = 0;
  for (const r of pastFailure) {
    const parts = undo.slice(at, at += inverse(r.op).length);
    if (parts.every((u) => u === true)) {
      r.status = 'reverted';
    } else {
      const error = parts.find((u): u is Error => u instanceof Error) ?? new Error('undo not sent');
      revertFailures.push({ op: r.op, error });
    }
  }
  const failedError = outcome[firstFailure] as Error;
  return {
    ok: false, results, applied: ops.slice(0, firstFailure),
    failed: { index: firstFailure, op: ops[firstFailure] as Op, error: failedError }, revertFailures,
  };
}

/**
 * Undo what `result` applied (its `applied` operations, newest first), pipelined, with the same
 * stop-at-first-failure rule. The returned result describes the undo operations.
 */
export function rollback(client: IpvsClient, result: Pick<ApplyResult, 'applied'>): Promise<ApplyResult> {
  return apply(client, [...result.applied].reverse().flatMap(inverse));
}
