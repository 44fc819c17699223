// layer: daemon (composition)
// job: what crosses between the balancer and its VRRP worker thread: its start data, requests, replies, events; errors as plain objects that become errors again with their facts.
import { ErrnoError } from '../errors.js';
import type { InstanceTracking } from '../track/types.js';
import type { VrrpInput, VrrpSideEvent, VrrpSideOptions } from './vrrp-side.js';

/** What the worker thread starts with: the VRRP side's options, and the nice value it raises itself to (none: left as it is). */
export type VrrpWorkerData = VrrpSideOptions & { threadNice?: number };

export type VrrpRequest = { id: number } & (
  | { op: 'start'; resume: string[] }
  | { op: 'reconfigure'; input: VrrpInput }
  | { op: 'status' }
  | { op: 'memory'; gc: boolean }
  | { op: 'releaseOnSignal'; signals: NodeJS.Signals[] }
  | { op: 'track'; tracking: Record<string, InstanceTracking> }
  | { op: 'stop'; release: boolean });

export type VrrpWorkerMessage =
  | { kind: 'ready' }
  | { kind: 'open-failed'; error: unknown }
  | { kind: 'event'; event: VrrpSideEvent }
  | { kind: 'reply'; id: number; value?: unknown; error?: unknown };

/** An error's facts that cross a thread (structured clone keeps only name and message of an Error). */
interface WireError { __error: true; name: string; message: string; field?: string; code?: string; errno?: number; syscall?: string }

const FACTS = ['field', 'code', 'errno', 'syscall'] as const;

function errorToWire(e: Error): WireError {
  const out: WireError = { __error: true, name: e.name, message: e.message };
  for (const k of FACTS) {
    const v = (e as unknown as Record<string, unknown>)[k];
    if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  }
  return out;
}

/** A value with every Error in it (top level or a property) replaced by its facts. */
export function toWire(value: unknown): unknown {
  if (value instanceof Error) return errorToWire(value);
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = v instanceof Error ? errorToWire(v) : v;
    return out;
  }
  return value;
}

/** An Error again, with the name, message and facts it had: an ErrnoError when it carried an errno and a syscall. */
export function errorFromWire(value: unknown): Error {
  const w = value as Partial<WireError> | undefined;
  if (!w || w.__error !== true) return new Error(String(value));
  const e = typeof w.errno === 'number' && typeof w.syscall === 'string' ? new ErrnoError(w.errno, w.syscall) : new Error();
  e.message = w.message ?? '';
  e.name = w.name ?? 'Error';
  for (const k of FACTS) if (w[k] !== undefined) (e as unknown as Record<string, unknown>)[k] = w[k];
  return e;
}

/** An event whose `error` property was a wire error: an Error again. */
export function eventFromWire(event: VrrpSideEvent): VrrpSideEvent {
  const error = (event as { error?: unknown }).error;
  return error === undefined ? event : { ...event, error: errorFromWire(error) } as VrrpSideEvent;
}
