// layer: netlink (codec + request engine)
// job: the typed errors of the netlink layer: malformed bytes, kernel refusals, lost or stuck requests.
import { constants } from 'node:os';
import { ErrnoError } from '../errors.js';
import type { NlMessageHeader } from './message.js';

const { EINTR, ENOBUFS, ETIMEDOUT, ECANCELED } = constants.errno;

/** Facts about a malformed buffer, beyond the offset. */
export interface DecodeErrorFacts {
  /** Attribute type (masked) the problem was found in, when it was an attribute. */
  attrType?: number;
  /** Bytes the decoder needed. */
  expected?: number;
  /** Bytes that were there. */
  actual?: number;
}

/**
 * Bytes that do not decode: a header shorter than its minimum, a length running past the end,
 * an attribute of the wrong size. Thrown instead of ever reading past a buffer.
 */
export class NetlinkDecodeError extends Error {
  override name = 'NetlinkDecodeError';
  readonly code = 'ERR_NETLINK_DECODE';
  /** Byte offset of the offending header or attribute, relative to the buffer being decoded. */
  readonly offset: number;
  /** What was wrong, in words. */
  readonly what: string;
  readonly attrType?: number;
  readonly expected?: number;
  readonly actual?: number;

  constructor(offset: number, what: string, facts: DecodeErrorFacts = {}, options?: { cause?: unknown }) {
    super(`malformed netlink data at offset ${offset}: ${what}`, options);
    this.offset = offset;
    this.what = what;
    if (facts.attrType !== undefined) this.attrType = facts.attrType;
    if (facts.expected !== undefined) this.expected = facts.expected;
    if (facts.actual !== undefined) this.actual = facts.actual;
  }
}

/** The kernel's extended acknowledgement (enum nlmsgerr_attrs), as far as it was sent. */
export interface ExtAck {
  /** NLMSGERR_ATTR_MSG: the kernel's human-readable reason. */
  message?: string;
  /** NLMSGERR_ATTR_OFFS: offset of the offending attribute in the request, from its header. */
  offset?: number;
  /** NLMSGERR_ATTR_MISS_TYPE: type of a missing required attribute. */
  missingType?: number;
  /** NLMSGERR_ATTR_MISS_NEST: offset of the nest in which that attribute was missing. */
  missingNest?: number;
  /** NLMSGERR_ATTR_COOKIE: subsystem-specific cookie. */
  cookie?: Buffer;
  /** NLMSGERR_ATTR_POLICY: raw nested policy description of the rejected attribute. */
  policy?: Buffer;
}

function extAckDetail(extack: ExtAck | undefined): string | undefined {
  if (!extack) return undefined;
  const parts: string[] = [];
  if (extack.message !== undefined) parts.push(extack.message);
  if (extack.offset !== undefined) parts.push(`at request offset ${extack.offset}`);
  if (extack.missingType !== undefined) {
    const where = extack.missingNest !== undefined ? ` in nest at offset ${extack.missingNest}` : '';
    parts.push(`missing attribute type ${extack.missingType}${where}`);
  }
  return parts.length > 0 ? parts.join('; ') : undefined;
}

/**
 * The kernel refused a request: NLMSG_ERROR with a negative error, or NLMSG_DONE ending a dump
 * with one. `syscall` names the request (the caller's op name, or `nlmsg_type=N`); the message
 * text includes the kernel's extended-ack text when it sent one.
 */
export class NetlinkError extends ErrnoError {
  override name = 'NetlinkError';
  /** The kernel's extended acknowledgement, when present. */
  readonly extack?: ExtAck;
  /** The header of the request the kernel refused (as sent, with its sequence number). */
  readonly request: NlMessageHeader;
  /**
   * The request's payload as the kernel echoed it back in NLMSG_ERROR (a copy), when it did:
   * not with NETLINK_CAP_ACK, except from subsystems that answer with their own uncapped error
   * (ipset puts the failing element's line number there).
   */
  readonly echo?: Buffer;

  constructor(errno: number, syscall: string, request: NlMessageHeader, extack?: ExtAck, echo?: Buffer) {
    super(errno, syscall, extAckDetail(extack));
    if (extack) this.extack = extack;
    this.request = request;
    if (echo) this.echo = Buffer.from(echo);
  }
}

/** A dump was still inconsistent (NLM_F_DUMP_INTR) after every allowed retry. errno EINTR. */
export class DumpInterruptedError extends ErrnoError {
  override name = 'DumpInterruptedError';
  /** How many times the dump was sent in total. */
  readonly attempts: number;

  constructor(syscall: string, attempts: number) {
    super(EINTR, syscall, `dump interrupted by concurrent changes (NLM_F_DUMP_INTR) on all ${attempts} attempts`);
    this.attempts = attempts;
  }
}

/** No complete reply arrived within the request's `timeoutMs`. errno ETIMEDOUT. */
export class RequestTimeoutError extends ErrnoError {
  override name = 'RequestTimeoutError';
  readonly timeoutMs: number;

  constructor(syscall: string, timeoutMs: number) {
    super(ETIMEDOUT, syscall, `no complete reply within ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The socket's receive buffer overflowed (recv ENOBUFS, or NLMSG_OVERRUN): replies may have been
 * lost, so a request in flight at that moment cannot know its outcome. errno ENOBUFS.
 */
export class NetlinkOverrunError extends ErrnoError {
  override name = 'NetlinkOverrunError';

  constructor(syscall: string) {
    super(ENOBUFS, syscall, 'receive buffer overrun; the reply may have been lost and the outcome is unknown');
  }
}

/** The engine was closed before the request completed. errno ECANCELED. */
export class RequestCancelledError extends ErrnoError {
  override name = 'RequestCancelledError';

  constructor(syscall: string) {
    super(ECANCELED, syscall, 'netlink engine closed before the request completed');
  }
}
