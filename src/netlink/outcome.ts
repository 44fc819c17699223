// layer: netlink (request engine)
// job: a request's outcome, for single requests and the bulk path alike: its end read from the kernel's answer, a fence's verdict, a lot's results.
import { NLMSG_ERROR } from './constants.js';
import type { NetlinkRequest } from './engine-types.js';
import { NetlinkError, type ExtAck } from './errors.js';
import { decodeDone, decodeError, type NlMessage, type NlMessageHeader } from './message.js';

/** The outcome of a request that drew no reply message (shared: it allocates nothing). */
export const NO_REPLIES: NlMessage[] = Object.freeze([]) as unknown as NlMessage[];
const FULFILLED_NONE: PromiseSettledResult<NlMessage[]> = Object.freeze({ status: 'fulfilled', value: NO_REPLIES });

/** A request's name for errors. */
export function opOf(req: NetlinkRequest): string {
  return req.op ?? `nlmsg_type=${req.type}`;
}

/**
 * requestAll(): the lot's results, filled as its requests settle (no closure or promise per
 * request; one shared, frozen result for every request that drew no reply).
 */
export class SettleAll {
  readonly results: PromiseSettledResult<NlMessage[]>[];
  private left: number;
  constructor(count: number, private readonly done: (results: PromiseSettledResult<NlMessage[]>[]) => void) {
    this.results = new Array<PromiseSettledResult<NlMessage[]>>(count);
    this.left = count;
  }
  settle(index: number, outcome: Error | NlMessage[]): void {
    this.results[index] = outcome instanceof Error ? { status: 'rejected', reason: outcome }
      : outcome === NO_REPLIES ? FULFILLED_NONE : { status: 'fulfilled', value: outcome };
    if (--this.left === 0) this.done(this.results);
  }
}

/**
 * How an NLMSG_ERROR or NLMSG_DONE answering a request ends it: undefined when it succeeded,
 * otherwise the error — the kernel's refusal (NetlinkError with its extended ack, naming the
 * request as `sent()` describes it: asked only for a refusal), or the decode error of a malformed answer.
 */
export function endError(msg: NlMessage, sent: () => { op: string; header: NlMessageHeader }): Error | undefined {
  let end: { error: number; extack: ExtAck; requestPayload?: Buffer };
  try {
    end = msg.header.type === NLMSG_ERROR ? decodeError(msg.payload, msg.header.flags) : decodeDone(msg.payload, msg.header.flags);
  } catch (err) {
    return err as Error;
  }
  if (end.error === 0) return undefined;
  const hasExtAck = Object.keys(end.extack).length > 0;
  const { op, header } = sent();
  return new NetlinkError(Math.abs(end.error), op, header, hasExtAck ? end.extack : undefined, end.requestPayload);
}

/**
 * What the answer to a fence says of its datagram: undefined when it is no ACK (ignored), 0 when
 * every fenced request of the datagram that drew no NLMSG_ERROR was carried out (the kernel answers
 * a datagram's messages in order), the fence's own errno, or the decode error of a malformed ACK.
 */
export function fenceVerdict(msg: NlMessage): number | Error | undefined {
  if (msg.header.type !== NLMSG_ERROR) return undefined;
  try {
    return Math.abs(decodeError(msg.payload, msg.header.flags).error);
  } catch (err) {
    return err as Error;
  }
}

/** A fenced request failed with its fence's errno: named `op (fence)`. */
export function fenceError(errno: number, op: string, sent: NlMessageHeader): NetlinkError {
  return new NetlinkError(errno, `${op} (fence)`, sent);
}
