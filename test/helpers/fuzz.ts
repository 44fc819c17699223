// layer: tests (helpers)
// job: property-based fuzzing with fast-check: the budget per target (LVSKIT_FUZZ_RUNS), byte mutations of valid
//      encodings, "only this error class may be thrown", and a report line per target for the long campaign.
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import type { ExecutionContext } from 'ava';

function positiveInt(text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`LVSKIT_FUZZ_RUNS: not a positive integer: ${JSON.stringify(text)}`);
  return n;
}

/** Inputs per target: LVSKIT_FUZZ_RUNS, default 10,000 (the CI budget); the campaign sets ≥ 1,000,000. */
export const FUZZ_RUNS = positiveInt(process.env['LVSKIT_FUZZ_RUNS'], 10_000);

/**
 * Run one fuzz target: `property` checked on FUZZ_RUNS generated inputs (× `scale`, for slow targets whose
 * inputs are whole files; not in the campaign), after the `examples` (regression inputs of bugs found, replayed first every time).
 * LVSKIT_FUZZ_SEED replays a failure's seed; LVSKIT_FUZZ_REPORT names a file that gets one JSON line per target.
 */
export function fuzz<Ts extends [unknown, ...unknown[]]>(
  t: ExecutionContext, target: string, arbitraries: { [K in keyof Ts]: fc.Arbitrary<Ts[K]> },
  predicate: (...args: Ts) => void, options: { examples?: NoInfer<Ts>[]; scale?: number } = {},
): void {
  const seedText = process.env['LVSKIT_FUZZ_SEED'];
  // The long campaign (LVSKIT_FUZZ_CAMPAIGN=1) gives every target the full budget, slow ones included.
  const scale = process.env['LVSKIT_FUZZ_CAMPAIGN'] === '1' ? 1 : options.scale ?? 1;
  // fast-check counts the examples among numRuns: add them, so that every one runs whatever the budget.
  const numRuns = Math.max(1, Math.round(FUZZ_RUNS * scale)) + (options.examples?.length ?? 0);
  const started = performance.now();
  const property = fc.property(...(arbitraries as unknown as [fc.Arbitrary<unknown>]), predicate as (...a: unknown[]) => void);
  const details = fc.check(property, {
    numRuns,
    examples: (options.examples ?? []) as unknown as [unknown][],
    ...(seedText ? { seed: Number(seedText) } : {}),
  });
  report(t, target, details, performance.now() - started);
}

/** fuzz() for a property that awaits (an engine driven through a fake transport). */
export async function fuzzAsync<Ts extends [unknown, ...unknown[]]>(
  t: ExecutionContext, target: string, arbitraries: { [K in keyof Ts]: fc.Arbitrary<Ts[K]> },
  predicate: (...args: Ts) => Promise<void>, options: { examples?: NoInfer<Ts>[]; scale?: number } = {},
): Promise<void> {
  const seedText = process.env['LVSKIT_FUZZ_SEED'];
  const scale = process.env['LVSKIT_FUZZ_CAMPAIGN'] === '1' ? 1 : options.scale ?? 1;
  const numRuns = Math.max(1, Math.round(FUZZ_RUNS * scale)) + (options.examples?.length ?? 0);
  const started = performance.now();
  const property = fc.asyncProperty(...(arbitraries as unknown as [fc.Arbitrary<unknown>]), predicate as (...a: unknown[]) => Promise<void>);
  const details = await fc.check(property, {
    numRuns, examples: (options.examples ?? []) as unknown as [unknown][], ...(seedText ? { seed: Number(seedText) } : {}),
  });
  report(t, target, details, performance.now() - started);
}

function report<T>(t: ExecutionContext, target: string, details: fc.RunDetails<T>, elapsedMs: number): void {
  const file = process.env['LVSKIT_FUZZ_REPORT'];
  if (file) {
    fs.appendFileSync(file, `${JSON.stringify({ target, runs: details.numRuns, failed: details.failed, seed: details.seed, elapsedMs: Math.round(elapsedMs) })}\n`);
  }
  if (details.failed) {
    const cause = details.errorInstance instanceof Error ? `${details.errorInstance.message}\n${details.errorInstance.stack ?? ''}` : String(details.errorInstance);
    t.fail(`${target}: ${fc.defaultReportMessage(details)}\n${cause}`);
  } else {
    t.pass();
  }
  t.log(`${target}: ${details.numRuns} inputs in ${Math.round(elapsedMs)} ms (seed ${details.seed})`);
}

/** An error thrown that is not of the decoder's own class: what a fuzz target exists to find. */
export class UntypedThrowError extends Error {
  override name = 'UntypedThrowError';
}

/**
 * Call `decode`; its result, or undefined when it threw one of `allowed`. Anything else thrown becomes an
 * UntypedThrowError naming it, so fast-check reports and shrinks the input.
 */
export function onlyThrows<T>(decode: () => T, ...allowed: (abstract new (...args: never[]) => Error)[]): T | undefined {
  try {
    return decode();
  } catch (err) {
    if (allowed.some((c) => err instanceof c)) return undefined;
    const what = err instanceof Error ? `${err.name}: ${err.message}\n${err.stack ?? ''}` : String(err);
    throw new UntypedThrowError(`untyped throw (wanted ${allowed.map((c) => c.name).join(' or ')}): ${what}`, { cause: err });
  }
}

/** One edit of a byte string. Offsets are taken modulo the length, so any edit applies to any input. */
type Edit =
  | { kind: 'set'; at: number; value: number }
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'u16'; at: number; value: number; little: boolean }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; count: number };

/** 16-bit values that sit on decoders' edges: lengths 0..5, sizes just over headers, all ones. */
const EDGE_U16 = [0, 1, 2, 3, 4, 5, 7, 8, 12, 15, 16, 17, 20, 24, 36, 72, 255, 256, 0x7fff, 0x8000, 0xfff, 0x1000, 0xfffe, 0xffff];

const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('u16' as const), at: fc.nat(), value: fc.oneof(fc.constantFrom(...EDGE_U16), fc.integer({ min: 0, max: 0xffff })), little: fc.boolean() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
);

function applyEdit(buf: Buffer, edit: Edit): Buffer {
  const at = buf.length === 0 ? 0 : edit.at % (buf.length + (edit.kind === 'insert' || edit.kind === 'truncate' ? 1 : 0));
  switch (edit.kind) {
    case 'set': { if (buf.length === 0) return buf; const out = Buffer.from(buf); out[at] = edit.value; return out; }
    case 'flip': { if (buf.length === 0) return buf; const out = Buffer.from(buf); out[at] = out[at]! ^ (1 << edit.bit); return out; }
    case 'u16': {
      if (buf.length < 2) return buf;
      const out = Buffer.from(buf);
      const p = Math.min(at, buf.length - 2);
      if (edit.little) out.writeUInt16LE(edit.value, p); else out.writeUInt16BE(edit.value, p);
      return out;
    }
    case 'truncate': return buf.subarray(0, at);
    case 'insert': return Buffer.concat([buf.subarray(0, at), edit.bytes, buf.subarray(at)]);
    case 'delete': return Buffer.concat([buf.subarray(0, at), buf.subarray(at + edit.count)]);
  }
}

/** Valid encodings from `valid`, each damaged by one to four edits (set, flip, length word, cut, insert, delete). */
export function mutated(valid: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer> {
  return fc.tuple(valid, fc.array(editArb, { minLength: 1, maxLength: 4 }))
    .map(([buf, edits]) => edits.reduce(applyEdit, Buffer.from(buf)));
}

/** What decoders meet in the wild: mostly damaged valid encodings, some plain random bytes. */
export function garbage(valid: fc.Arbitrary<Buffer>, maxRandomBytes = 256): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { weight: 4, arbitrary: mutated(valid) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: maxRandomBytes }).map((a) => Buffer.from(a)) },
  );
}

/** A Buffer of `min`..`max` random bytes. */
export function bytes(min: number, max: number): fc.Arbitrary<Buffer> {
  return fc.uint8Array({ minLength: min, maxLength: max }).map((a) => Buffer.from(a));
}

/** IPv4 address text from 4 random bytes. */
export const ipv4Arb: fc.Arbitrary<string> = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join('.'));

/** Strings without NUL (netlink strings end at the first NUL), any Unicode code point. */
export const nulFreeString = (maxLength: number): fc.Arbitrary<string> =>
  fc.string({ unit: 'binary', maxLength }).filter((s) => !s.includes('\0'));

/** A canonical text of a value for comparison: Buffers as hex, bigints with `n`, object keys sorted, undefined properties left out. */
export function canonical(value: unknown): string {
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `<${Buffer.from(value).toString('hex')}>`;
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Map) return `Map${canonical([...value.entries()])}`;
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return value === undefined ? 'undefined' : JSON.stringify(value) ?? String(value);
}

/** Throws naming both when `got` and `want` differ (as canonical() sees them). */
export function same(got: unknown, want: unknown, what: string): void {
  const g = canonical(got);
  const w = canonical(want);
  if (g !== w) throw new Error(`${what} differs:\n  got  ${g}\n  want ${w}`);
}
