// layer: netlink (request engine)
// job: the datagram writer: requests encoded in place into one buffer per datagram, the fence that closes one, and the header each was sent with.
import { copyInto, zeroRange } from '../bytes.js';
import { NLM_F_ACK, NLM_F_REQUEST, NLMSG_HDRLEN, NLMSG_NOOP, nlmsgAlign } from './constants.js';
import type { NetlinkRequest, PayloadWriter } from './engine-types.js';
import { writeHeaderFields, type NlMessageHeader } from './message.js';

/** Bytes of the fence that closes a datagram of fenced requests: an acknowledged NLMSG_NOOP, header only. */
export const FENCE_BYTES = NLMSG_HDRLEN;

function isWriter(payload: NetlinkRequest['payload']): payload is PayloadWriter {
  return payload !== undefined && !Buffer.isBuffer(payload) && !Array.isArray(payload);
}

/** Bytes of a request payload given as one buffer, as parts, or as a writer. */
export function payloadLength(payload: NetlinkRequest['payload']): number {
  if (payload === undefined) return 0;
  if (Buffer.isBuffer(payload) || isWriter(payload)) return payload.length;
  let n = 0;
  for (const part of payload as readonly Buffer[]) n += part.length;
  return n;
}

/** Bytes `req` takes in a datagram: header, payload and padding to NLMSG_ALIGNTO. */
export function messageBytes(req: NetlinkRequest): number {
  return nlmsgAlign(NLMSG_HDRLEN + payloadLength(req.payload));
}

/** The header `req` was sent with (for errors: made only when one names it). */
export function sentHeader(req: NetlinkRequest, flags: number, seq: number): NlMessageHeader {
  return { length: NLMSG_HDRLEN + payloadLength(req.payload), type: req.type, flags, seq, pid: 0 };
}

/**
 * One datagram of `bytes` bytes (the sum of messageBytes, plus FENCE_BYTES if fenced), written
 * message by message: one allocation, payloads copied once (a PayloadWriter writes in place).
 */
export class DatagramWriter {
  private readonly out: Buffer;
  private at = 0;
  constructor(bytes: number) {
    this.out = Buffer.allocUnsafe(bytes);
  }

  /** Append `req` under `flags` and `seq`: header, payload, zeroed padding. */
  message(req: NetlinkRequest, flags: number, seq: number): this {
    const { payload } = req;
    const start = this.at;
    const length = NLMSG_HDRLEN + payloadLength(payload);
    writeHeaderFields(this.out, start, length, req.type, flags, seq, 0);
    let end = start + NLMSG_HDRLEN;
    if (Buffer.isBuffer(payload)) end += copyInto(payload, this.out, end);
    else if (isWriter(payload)) {
      payload.write(this.out, end);
      end += payload.length;
    } else for (const part of payload ?? []) end += copyInto(part, this.out, end);
    this.at = start + nlmsgAlign(length);
    zeroRange(this.out, end, this.at);
    return this;
  }

  /** Append the fence under `seq`: an NLMSG_NOOP with NLM_F_ACK. */
  fence(seq: number): this {
    writeHeaderFields(this.out, this.at, NLMSG_HDRLEN, NLMSG_NOOP, NLM_F_REQUEST | NLM_F_ACK, seq, 0);
    this.at += FENCE_BYTES;
    return this;
  }

  /** The datagram written. */
  get datagram(): Buffer {
    if (this.at !== this.out.length) throw new RangeError(`datagram of ${this.out.length} bytes holds ${this.at}`);
    return this.out;
  }
}
