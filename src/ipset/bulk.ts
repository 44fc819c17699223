// layer: kernel client (ipset)
// job: add or delete many elements: packed into IPSET_ATTR_ADT messages as `ipset restore` does, many in flight, failures mapped to entries.
import { writeAttrHeader } from '../netlink/attr.js';
import { NLA_F_NESTED, NLA_F_NET_BYTEORDER, NLM_F_EXCL } from '../netlink/constants.js';
import type { NetlinkEngine } from '../netlink/engine.js';
import { NetlinkError } from '../netlink/errors.js';
import { adtBatchHead, decodeEchoedLineno } from './codec.js';
import {
  IPSET_ATTR_ADT, IPSET_ATTR_DATA, IPSET_ATTR_IP, IPSET_ATTR_IPADDR_IPV4, IPSET_ATTR_LINENO, IPSET_CMD_NAMES, IPSET_ERR_TYPE_MISMATCH,
  ipsetMessageType,
} from './constants.js';
import { entryMismatch, formatEntry, parseEntry, parseIPv4, toWireEntry, wireEntrySize, writeWireEntry, type IpsetEntry, type WireEntry } from './entry.js';
import { IpsetError, invalidEntryError, type IpsetErrorFacts } from './errors.js';

/** What a bulk operation needs from the client: its engine and the protocol. */
export interface IpsetChannel {
  readonly engine: NetlinkEngine;
  readonly protocol: number;
}

/** Progress of a bulk operation, reported after each message the kernel answered. */
export interface BulkProgress {
  /** Entries whose outcome is known (applied or failed). */
  done: number;
  applied: number;
  failed: number;
  /** Entries in the input, when it is an array. */
  total?: number;
}

/** Options of addMany/delMany. */
export interface BulkOptions {
  /** add: an element already there is not an error; del: a missing one is not. Default false. */
  exist?: boolean;
  /**
   * Keep going past failed entries and report them all in the result. Default false: stop at the
   * first failure and reject with IpsetBulkError; the entries before it are applied (as `ipset
   * restore` applies the lines before an error), and so may be later ones in messages already in
   * flight — `applied` counts exactly what was.
   */
  continueOnError?: boolean;
  /** Called after each message the kernel answered. */
  onProgress?: (progress: BulkProgress) => void;
  /** Messages in flight at most. Default 16. */
  maxMessagesInFlight?: number;
  /** Bytes of IPSET_ATTR_ADT per message, at most 65,532 (the attribute's length is 16 bits). Default 65,532. */
  maxAdtBytes?: number;
  /** Stop sending; the operation rejects with the signal's reason once messages in flight are answered. */
  signal?: AbortSignal;
  /**
   * IPSET_ATTR_LINENO of the first entry (the next ones count up), which the kernel reports back
   * for a failing element; `ipset restore` sends file line numbers. Default 1.
   */
  firstLineno?: number;
}

/** One entry that failed, with its position in the input. */
export interface BulkFailure { index: number; entry: string; error: IpsetError }

/** Outcome of a bulk operation that ran to its end. */
export interface BulkResult { applied: number; failed: BulkFailure[] }

/** A bulk operation stopped at a failure: the first failure's facts, plus every failure and what was applied. */
export class IpsetBulkError extends IpsetError {
  override name = 'IpsetBulkError';
  readonly failures: BulkFailure[];
  readonly applied: number;

  constructor(cmd: number, first: BulkFailure, failures: BulkFailure[], applied: number) {
    const e = first.error;
    const facts: IpsetErrorFacts = { entry: first.entry, index: first.index, kind: e.kind, reason: e.reason, cause: e,
      detail: `entry #${first.index + 1}; ${applied} applied before stopping` };
    if (e.setName !== undefined) facts.setName = e.setName;
    if (e.extack !== undefined) facts.extack = e.extack;
    super(e.errno, cmd, facts);
    this.failures = failures;
    this.applied = applied;
  }
}

/** The largest IPSET_ATTR_ADT: its nla_len is a u16, and attributes are 4-byte aligned. */
export const MAX_ADT_BYTES = 65532;
/** Entries per message when re-sending what followed a failed element. */
const RETRY_CHUNK = 64;

/** A message's entries: input positions and inputs (kept for errors and re-sends, no per-entry objects). */
interface Batch { adt: Buffer; indexes: number[]; inputs: (IpsetEntry | string)[]; buffer: Buffer }

const DATA_NEST = IPSET_ATTR_DATA | NLA_F_NESTED;
const IP_NEST = IPSET_ATTR_IP | NLA_F_NESTED;
const V4_ATTR = IPSET_ATTR_IPADDR_IPV4 | NLA_F_NET_BYTEORDER;
const LINENO_ATTR = IPSET_ATTR_LINENO | NLA_F_NET_BYTEORDER;
/** DATA{IP{IPV4}, LINENO}: the bytes of a plain IPv4 element with its line number. */
const V4_ELEMENT_BYTES = 4 + 12 + 8;

/** Elements packed into one IPSET_ATTR_ADT, each IPSET_ATTR_DATA carrying its LINENO. */
class AdtBuilder {
  private len = 4;
  indexes: number[] = [];
  inputs: (IpsetEntry | string)[] = [];

  constructor(private buf: Buffer) {}

  fits(size: number): boolean { return this.len + 4 + size <= this.buf.length; }

  /** The common case, written in place: a plain IPv4 address (no objects made per entry). */
  pushV4(index: number, lineno: number, input: IpsetEntry | string, v4: number): void {
    const b = this.buf;
    let at = this.len;
    writeAttrHeader(b, at, V4_ELEMENT_BYTES, DATA_NEST);
    writeAttrHeader(b, at + 4, 12, IP_NEST);
    writeAttrHeader(b, at + 8, 8, V4_ATTR);
    b.writeUInt32BE(v4, at + 12);
    writeAttrHeader(b, at + 16, 8, LINENO_ATTR);
    b.writeUInt32BE(lineno, at + 20);
    at += V4_ELEMENT_BYTES;
    this.len = at;
    this.indexes.push(index);
    this.inputs.push(input);
  }

  push(index: number, lineno: number, input: IpsetEntry | string, wire: WireEntry, size: number): void {
    this.len = writeWireEntry(this.buf, writeAttrHeader(this.buf, this.len, 4 + size, DATA_NEST), wire, lineno);
    this.indexes.push(index);
    this.inputs.push(input);
  }

  /** The ADT attribute and its entries; the builder starts over in `next`. */
  take(next: Buffer): Batch {
    writeAttrHeader(this.buf, 0, this.len, IPSET_ATTR_ADT | NLA_F_NESTED);
    const batch = { adt: this.buf.subarray(0, this.len), indexes: this.indexes, inputs: this.inputs, buffer: this.buf };
    this.buf = next;
    this.len = 4;
    this.indexes = [];
    this.inputs = [];
    return batch;
  }
}

const entryText = (input: IpsetEntry | string): string => (typeof input === 'string' ? input : formatEntry(input));

/** An input entry in wire form. Throws TypeError/RangeError. */
function wireOf(input: IpsetEntry | string): WireEntry {
  if (typeof input === 'string') {
    const v4 = parseIPv4(input);
    return v4 >= 0 ? { v4 } : toWireEntry(parseEntry(input));
  }
  return toWireEntry(input);
}

/**
 * Add (IPSET_CMD_ADD) or delete (IPSET_CMD_DEL) `entries` in set `name`, of `type` and `family`
 * (from IPSET_CMD_HEADER; entries that do not fit fail before anything is sent for them).
 */
export async function bulkAdt(channel: IpsetChannel, cmd: number, name: string, target: { type: string; family: string },
  entries: Iterable<IpsetEntry | string>, options: BulkOptions = {}): Promise<BulkResult> {
  const run = new BulkRun(channel, cmd, name, target, options, Array.isArray(entries) ? entries.length : undefined);
  // A plain IPv4 address fits an inet hash:ip or hash:net set as it is: written without checks or objects.
  const v4Fits = target.family === 'inet' && (target.type === 'hash:ip' || target.type === 'hash:net');
  const builder = new AdtBuilder(run.buffer());
  const signal = options.signal;
  let index = 0;
  for (const input of entries) {
    if (run.stopped) break;
    if (signal?.aborted) {
      run.abort(signal.reason);
      break;
    }
    const i = index++;
    const v4 = v4Fits && typeof input === 'string' ? parseIPv4(input) : -1;
    const wire = v4 >= 0 ? undefined : run.prepare(i, input);
    if (v4 < 0 && !wire) continue;
    const size = wire ? wireEntrySize(wire, true) : V4_ELEMENT_BYTES - 4;
    if (!builder.fits(size)) {
      if (builder.indexes.length === 0) throw new RangeError(`maxAdtBytes ${options.maxAdtBytes} is too small for one entry`);
      await run.launch(builder.take(run.buffer()));
    }
    if (wire) builder.push(i, i + run.firstLineno, input, wire, size);
    else builder.pushV4(i, i + run.firstLineno, input, v4);
  }
  // Entries before a failed one still go (as `ipset restore` applies the lines before an error).
  if (builder.indexes.length > 0 && !run.aborted) await run.launch(builder.take(run.buffer()));
  return run.finish();
}

/** The state of one bulk operation: messages in flight, counts, failures. */
class BulkRun {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly maxInFlight: number;
  private readonly exist: boolean;
  readonly firstLineno: number;
  private readonly adtBytes: number;
  /** Message buffers whose requests completed, for reuse. */
  private readonly spare: Buffer[] = [];
  applied = 0;
  readonly failures: BulkFailure[] = [];
  stopped = false;
  /** A failure not about one element (the set vanished): the rest cannot succeed, so even continueOnError rejects. */
  private incomplete = false;
  private fatal: unknown;

  constructor(private readonly channel: IpsetChannel, private readonly cmd: number, private readonly name: string,
    private readonly target: { type: string; family: string }, private readonly options: BulkOptions,
    private readonly total: number | undefined) {
    this.maxInFlight = Math.max(1, options.maxMessagesInFlight ?? 16);
    this.adtBytes = Math.min(options.maxAdtBytes ?? MAX_ADT_BYTES, MAX_ADT_BYTES);
    this.exist = options.exist ?? false;
    this.firstLineno = options.firstLineno ?? 1;
    if (!Number.isInteger(this.firstLineno) || this.firstLineno < 1) throw new RangeError(`firstLineno must be ≥ 1: ${this.firstLineno}`);
  }

  /** A message buffer: a spare one, or new. Every byte up to the ADT's length is written before it is sent. */
  buffer(): Buffer {
    return this.spare.pop() ?? Buffer.allocUnsafe(this.adtBytes);
  }

  /** Check one input entry; on failure record it (and stop unless continuing) and return undefined. */
  prepare(index: number, input: IpsetEntry | string): WireEntry | undefined {
    const target = this.target;
    let wire: WireEntry;
    try {
      wire = wireOf(input);
    } catch (err) {
      this.fail(index, input, invalidEntryError(this.cmd, this.name, entryText(input), err as Error, index));
      return undefined;
    }
    const mismatch = entryMismatch(target.type, target.family, wire);
    if (mismatch) {
      const kind = mismatch.errno === IPSET_ERR_TYPE_MISMATCH ? 'wrong-type' : 'wrong-family';
      this.fail(index, input, new IpsetError(mismatch.errno, this.cmd, { setName: this.name, entry: entryText(input), index, kind,
        reason: `Element does not fit the set: ${mismatch.why}` }));
      return undefined;
    }
    return wire;
  }

  /** Send one message; wait while the window is full. */
  async launch(batch: Batch): Promise<void> {
    const p: Promise<void> = this.send(batch).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
    while (this.inFlight.size >= this.maxInFlight) await Promise.race(this.inFlight);
  }

  async finish(): Promise<BulkResult> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
    if (this.fatal !== undefined) throw this.fatal;
    this.failures.sort((a, b) => a.index - b.index);
    const first = this.failures[0];
    if (first && (!this.options.continueOnError || this.incomplete)) throw new IpsetBulkError(this.cmd, first, this.failures, this.applied);
    return { applied: this.applied, failed: this.failures };
  }

  private fail(index: number, input: IpsetEntry | string, error: IpsetError): void {
    this.failures.push({ index, entry: entryText(input), error });
    if (!this.options.continueOnError) this.stopped = true;
  }

  /** Stopped by the signal or a transport failure: nothing more is sent. */
  get aborted(): boolean { return this.fatal !== undefined; }

  /** Send nothing more; finish() rejects with `reason` once the messages in flight are answered. */
  abort(reason: unknown): void {
    this.stopped = true;
    if (this.fatal === undefined) this.fatal = reason;
  }

  private async send(batch: Batch): Promise<void> {
    const { engine, protocol } = this.channel;
    const firstLineno = (batch.indexes[0] as number) + this.firstLineno;
    try {
      await engine.request({
        type: ipsetMessageType(this.cmd), flags: this.exist ? 0 : NLM_F_EXCL, op: IPSET_CMD_NAMES[this.cmd] as string,
        payload: [adtBatchHead(protocol, this.name, firstLineno), batch.adt],
      });
      this.applied += batch.indexes.length;
    } catch (err) {
      this.failed(batch, err);
    }
    // The engine copied the payload when it sent it; the buffer can take the next message.
    if (this.spare.length < this.maxInFlight && batch.buffer.length === this.adtBytes) this.spare.push(batch.buffer);
    this.options.onProgress?.({ done: this.applied + this.failures.length, applied: this.applied, failed: this.failures.length,
      ...(this.total !== undefined ? { total: this.total } : {}) });
  }

  /** A message failed: the kernel's echo names the failing element; those before it were applied. */
  private failed(batch: Batch, err: unknown): void {
    if (!(err instanceof NetlinkError)) return this.abort(err);
    // ipset answers a failed element with its own uncapped NLMSG_ERROR: the request echoed back,
    // its IPSET_ATTR_LINENO replaced by the failing element's.
    const lineno = err.echo ? decodeEchoedLineno(err.echo) : undefined;
    const at = lineno === undefined ? -1 : batch.indexes.indexOf(lineno - this.firstLineno);
    const index = batch.indexes[Math.max(at, 0)] as number;
    const input = batch.inputs[Math.max(at, 0)] as IpsetEntry | string;
    const facts: IpsetErrorFacts = { setName: this.name, entry: entryText(input), index, cause: err };
    if (err.extack !== undefined) facts.extack = err.extack;
    const error = new IpsetError(err.errno, this.cmd, facts);
    if (at < 0) { // not about one element (the set vanished, a malformed message): nothing more can succeed
      this.failures.push({ index, entry: entryText(input), error });
      this.stopped = true;
      this.incomplete = true;
      return;
    }
    this.applied += at;
    this.fail(index, input, error);
    if (this.options.continueOnError && !this.stopped) this.resend(batch.indexes.slice(at + 1), batch.inputs.slice(at + 1));
  }

  /** Re-send what followed a failed element, in small messages (a failure echoes its whole message back). */
  private resend(indexes: number[], inputs: (IpsetEntry | string)[]): void {
    for (let from = 0; from < indexes.length; from += RETRY_CHUNK) {
      const builder = new AdtBuilder(Buffer.allocUnsafe(MAX_ADT_BYTES));
      for (let i = from; i < Math.min(from + RETRY_CHUNK, indexes.length); i++) {
        const wire = wireOf(inputs[i] as IpsetEntry | string); // it passed the checks before
        builder.push(indexes[i] as number, (indexes[i] as number) + this.firstLineno, inputs[i] as IpsetEntry | string, wire, wireEntrySize(wire, true));
      }
      const batch = builder.take(Buffer.alloc(0));
      const p: Promise<void> = this.send(batch).finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    }
  }
}
