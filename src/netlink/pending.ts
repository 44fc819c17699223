// layer: netlink (request engine)
// job: a request on the engine's single path (request(), or a requestAll() that cannot take the bulk path): its state from the queue to its settlement.
import { NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST } from './constants.js';
import { sentHeader } from './datagram.js';
import type { NetlinkRequest } from './engine-types.js';
import type { NlMessage, NlMessageHeader } from './message.js';
import type { SettleAll } from './outcome.js';

/** A request made alone (request()) or in a lot of requestAll() that cannot take the bulk path. */
export interface Pending {
  readonly req: NetlinkRequest;
  readonly op: string;
  readonly dump: boolean;
  readonly ack: boolean;
  readonly fenced: boolean;
  readonly maxDumpRetries: number;
  /** Settles a request made alone (request()); a request of a requestAll() lot settles through `batch`. */
  readonly resolve: ((replies: NlMessage[]) => void) | undefined;
  readonly reject: ((err: Error) => void) | undefined;
  /** The requestAll() lot this request belongs to, and its place in it. */
  readonly batch: SettleAll | undefined;
  readonly index: number;
  seq: number;
  /** nlmsg_flags as sent (the header object is made only for an error: headerOf). */
  flags: number;
  attempts: number;
  interrupted: boolean;
  /** Replies so far; none (the usual case for fenced requests) allocates nothing. */
  replies: NlMessage[] | undefined;
  timer?: NodeJS.Timeout;
  done: boolean;
  /** Waiting in the queue (not yet sent). */
  queued: boolean;
}

/** A queued request's state; `resolve`/`reject` settle one made alone, `batch` at `index` one of a lot. */
export function newPending(req: NetlinkRequest, op: string, resolve: Pending['resolve'], reject: Pending['reject'], batch: SettleAll | undefined, index: number): Pending {
  const dump = req.dump ?? false;
  const fenced = req.fenced ?? false;
  return {
    req, op, dump, fenced, ack: !fenced && (req.ack ?? !dump), maxDumpRetries: req.maxDumpRetries ?? 5,
    // Every field set, in one order, so all requests share one object shape.
    resolve, reject, batch, index,
    seq: 0, flags: 0, attempts: 0, interrupted: false, replies: undefined, done: false, queued: true,
  };
}

/** nlmsg_flags of `p`: NLM_F_REQUEST, its own, NLM_F_ACK and NLM_F_DUMP as it asks. */
export function flagsOf(p: Pending): number {
  return NLM_F_REQUEST | (p.req.flags ?? 0) | (p.ack ? NLM_F_ACK : 0) | (p.dump ? NLM_F_DUMP : 0);
}

/** The header `p` was sent with, for errors. */
export function headerOf(p: Pending): NlMessageHeader {
  return sentHeader(p.req, p.flags, p.seq);
}
