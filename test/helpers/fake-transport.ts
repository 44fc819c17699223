// layer: test helpers (netlink)
// job: a fake NetlinkTransport that records what is sent and lets a test play the kernel's replies.
import { writeS32Host } from '../../src/bytes.js';
import {
  AttrWriter,
} from '../../src/netlink/attr.js';
import {
  NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_MULTI, NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN, NLMSGERR_ATTR_MSG,
  NLMSGERR_ATTR_OFFS,
} from '../../src/netlink/constants.js';
import type { NetlinkTransport } from '../../src/netlink/engine.js';
import { decodeMessages, encodeHeader, encodeMessage, type NlMessage, type NlMessageHeader } from '../../src/netlink/message.js';

type ErrorLike = Error & { errno?: number; code?: string };

/** Let the engine send: it sends what was requested in a tick once the tick is over. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Records sent datagrams; `deliver` and `fail` play the kernel side. */
export class FakeTransport implements NetlinkTransport {
  readonly sent: Buffer[] = [];
  closed = false;
  /** When set, the next send throws it (once). */
  sendError: Error | undefined;
  private datagramHandler: ((data: Buffer, fromGroups: number, fromPid: number) => void) | undefined;
  private errorHandler: ((err: ErrorLike) => void) | undefined;

  constructor(readonly portId = 4242) {}

  send(data: Buffer | readonly Buffer[]): void {
    if (this.sendError) {
      const err = this.sendError;
      this.sendError = undefined;
      throw err;
    }
    this.sent.push(Buffer.concat(Buffer.isBuffer(data) ? [data] : [...data]));
  }

  onDatagram(handler: (data: Buffer, fromGroups: number, fromPid: number) => void): void { this.datagramHandler = handler; }
  onError(handler: (err: ErrorLike) => void): void { this.errorHandler = handler; }
  close(): void { this.closed = true; }

  /** Every sent request, in order (a datagram may hold several). */
  get requests(): NlMessage[] {
    return this.sent.flatMap((d) => decodeMessages(d));
  }

  /** Header of the n-th sent request (negative counts from the end). */
  header(n = -1): NlMessageHeader {
    const msg = this.requests.at(n);
    if (!msg) throw new Error(`no request #${n}`);
    return msg.header;
  }

  /** Deliver one datagram made of these messages (concatenated), as from the kernel unless told. */
  deliver(messages: Buffer | Buffer[], from: { groups?: number; pid?: number } = {}): void {
    if (!this.datagramHandler) throw new Error('no datagram handler registered');
    this.datagramHandler(Buffer.concat(Array.isArray(messages) ? messages : [messages]), from.groups ?? 0, from.pid ?? 0);
  }

  /** Report a receive error, e.g. ENOBUFS. */
  fail(err: ErrorLike): void {
    if (!this.errorHandler) throw new Error('no error handler registered');
    this.errorHandler(err);
  }
}

/** A reply message to `req` (our port id and its seq unless overridden). */
export function replyTo(req: NlMessageHeader, portId: number, type: number, payload: Buffer,
  opts: { flags?: number; seq?: number; pid?: number } = {}): Buffer {
  return encodeMessage({ type, flags: opts.flags ?? 0, seq: opts.seq ?? req.seq, pid: opts.pid ?? portId }, payload);
}

/**
 * NLMSG_ERROR answering `req`: error 0 is an ACK. Capped (header only) like a kernel with
 * NETLINK_CAP_ACK unless `echo` is given; ext-ack TLVs when `message`/`offset` are given.
 */
export function errorTo(req: NlMessageHeader, portId: number,
  opts: { error?: number; message?: string; offset?: number; echo?: Buffer } = {}): Buffer {
  const head = Buffer.alloc(4);
  writeS32Host(head, opts.error ?? 0, 0);
  const tlv = new AttrWriter();
  if (opts.message !== undefined) tlv.string(NLMSGERR_ATTR_MSG, opts.message);
  if (opts.offset !== undefined) tlv.u32(NLMSGERR_ATTR_OFFS, opts.offset);
  let flags = opts.echo ? 0 : NLM_F_CAPPED;
  if (tlv.length > 0) flags |= NLM_F_ACK_TLVS;
  const echoed = opts.echo
    ? encodeMessage(req, opts.echo)
    : encodeHeader({ ...req, length: req.length || NLMSG_HDRLEN });
  return encodeMessage({ type: NLMSG_ERROR, flags, seq: req.seq, pid: portId }, [head, echoed, tlv.toBuffer()]);
}

/** NLMSG_DONE ending a dump for `req`, with an error (0 or negative) and optional extra flags. */
export function doneTo(req: NlMessageHeader, portId: number, opts: { error?: number; flags?: number; message?: string } = {}): Buffer {
  const head = Buffer.alloc(4);
  writeS32Host(head, opts.error ?? 0, 0);
  const tlv = new AttrWriter();
  if (opts.message !== undefined) tlv.string(NLMSGERR_ATTR_MSG, opts.message);
  const flags = NLM_F_MULTI | (opts.flags ?? 0) | (tlv.length > 0 ? NLM_F_ACK_TLVS : 0);
  return encodeMessage({ type: NLMSG_DONE, flags, seq: req.seq, pid: portId }, [head, tlv.toBuffer()]);
}
