// layer: netlink (codec)
// job: struct nlmsghdr codec, and the payloads of the NLMSG_ERROR and NLMSG_DONE control messages.
import { readS32Host, readU16Host, readU32Host, writeU16Host, writeU32Host } from '../bytes.js';
import {
  NLM_F_ACK_TLVS, NLM_F_CAPPED, NLMSG_HDRLEN, NLMSGERR_ATTR_COOKIE, NLMSGERR_ATTR_MISS_NEST,
  NLMSGERR_ATTR_MISS_TYPE, NLMSGERR_ATTR_MSG, NLMSGERR_ATTR_OFFS, NLMSGERR_ATTR_POLICY, nlmsgAlign,
} from './constants.js';
import { attrBytes, attrString, attrU32, decodeAttrs } from './attr.js';
import { NetlinkDecodeError, type ExtAck } from './errors.js';

/** struct nlmsghdr, all fields in host byte order. */
export interface NlMessageHeader {
  /** nlmsg_len: header plus payload, without trailing padding. */
  length: number;
  /** nlmsg_type. */
  type: number;
  /** nlmsg_flags (NLM_F_*). */
  flags: number;
  /** nlmsg_seq. */
  seq: number;
  /** nlmsg_pid: the sending port id (0 from the kernel's own messages, ours on replies to us). */
  pid: number;
}

/** The header fields a sender chooses; `length` is computed, `pid` defaults to 0. */
export interface NlMessageHeaderInit {
  type: number;
  flags: number;
  seq: number;
  pid?: number;
}

/** One decoded message. `payload` is a view into the datagram, not a copy. */
export interface NlMessage {
  header: NlMessageHeader;
  payload: Buffer;
}

/** Write a 16-byte nlmsghdr. */
export function encodeHeader(header: NlMessageHeader): Buffer {
  const buf = Buffer.alloc(NLMSG_HDRLEN);
  writeHeader(buf, 0, header);
  return buf;
}

/** Write a 16-byte nlmsghdr into `buf` at `offset` (host byte order). */
export function writeHeader(buf: Buffer, offset: number, header: NlMessageHeader): void {
  writeHeaderFields(buf, offset, header.length, header.type, header.flags, header.seq, header.pid);
}

/** writeHeader from the fields themselves (no header object: the engine's hot path). */
export function writeHeaderFields(buf: Buffer, offset: number, length: number, type: number, flags: number, seq: number, pid: number): void {
  writeU32Host(buf, length, offset);
  writeU16Host(buf, type, offset + 4);
  writeU16Host(buf, flags, offset + 6);
  writeU32Host(buf, seq, offset + 8);
  writeU32Host(buf, pid, offset + 12);
}

/**
 * Read the nlmsghdr at `offset`. Throws NetlinkDecodeError if fewer than 16 bytes remain; does not
 * check nlmsg_len (decodeMessages does).
 */
export function decodeHeader(buf: Buffer, offset = 0): NlMessageHeader {
  if (offset < 0 || buf.length - offset < NLMSG_HDRLEN) {
    throw new NetlinkDecodeError(offset, `${Math.max(0, buf.length - offset)} bytes, too short for a message header`,
      { expected: NLMSG_HDRLEN, actual: Math.max(0, buf.length - offset) });
  }
  return {
    length: readU32Host(buf, offset),
    type: readU16Host(buf, offset + 4),
    flags: readU16Host(buf, offset + 6),
    seq: readU32Host(buf, offset + 8),
    pid: readU32Host(buf, offset + 12),
  };
}

/**
 * Encode one message: header, then the payload part(s), then zero padding to NLMSG_ALIGNTO.
 * nlmsg_len counts header and payload, not the final padding.
 */
export function encodeMessage(header: NlMessageHeaderInit, payload: Buffer | readonly Buffer[] = []): Buffer {
  const parts = Buffer.isBuffer(payload) ? [payload] : payload;
  const length = parts.reduce((sum, part) => sum + part.length, NLMSG_HDRLEN);
  if (length > 0xffffffff) throw new RangeError(`message too long: ${length} bytes`);
  const out = Buffer.alloc(nlmsgAlign(length));
  encodeHeader({ length, type: header.type, flags: header.flags, seq: header.seq, pid: header.pid ?? 0 }).copy(out, 0);
  let at = NLMSG_HDRLEN;
  for (const part of parts) {
    part.copy(out, at);
    at += part.length;
  }
  return out;
}

/**
 * Split a datagram into its messages. Strict: a header that does not fit, nlmsg_len < 16, or a
 * message running past the end of the datagram throws NetlinkDecodeError. The last message may
 * omit its padding. Payloads are views into `buf`.
 */
export function decodeMessages(buf: Buffer): NlMessage[] {
  const messages: NlMessage[] = [];
  let at = 0;
  while (at < buf.length) {
    const header = decodeHeader(buf, at);
    if (header.length < NLMSG_HDRLEN) {
      throw new NetlinkDecodeError(at, `message type ${header.type} has nlmsg_len ${header.length} < ${NLMSG_HDRLEN}`,
        { expected: NLMSG_HDRLEN, actual: header.length });
    }
    if (header.length > buf.length - at) {
      throw new NetlinkDecodeError(at,
        `message type ${header.type} (nlmsg_len ${header.length}) runs past the end of the datagram (${buf.length - at} bytes left)`,
        { expected: header.length, actual: buf.length - at });
    }
    messages.push({ header, payload: buf.subarray(at + NLMSG_HDRLEN, at + header.length) });
    at += nlmsgAlign(header.length);
  }
  return messages;
}

/** The payload of NLMSG_ERROR: struct nlmsgerr plus optional extended-ack TLVs. */
export interface NlErrorPayload {
  /** 0 for an ACK, otherwise a negative errno as the kernel sends it. */
  error: number;
  /** The header of the request this answers. */
  request: NlMessageHeader;
  /** The request's payload as echoed back (absent when NLM_F_CAPPED; may be partial). */
  requestPayload?: Buffer;
  /** Extended ack (empty unless NLM_F_ACK_TLVS). */
  extack: ExtAck;
}

/**
 * Decode an NLMSG_ERROR payload. `flags` are the NLMSG_ERROR message's own header flags: with
 * NLM_F_CAPPED only the request's header follows the error code, else the whole request; with
 * NLM_F_ACK_TLVS extended-ack TLVs follow that.
 */
export function decodeError(payload: Buffer, flags = 0): NlErrorPayload {
  if (payload.length < 4 + NLMSG_HDRLEN) {
    throw new NetlinkDecodeError(0, `NLMSG_ERROR payload of ${payload.length} bytes, need ${4 + NLMSG_HDRLEN}`,
      { expected: 4 + NLMSG_HDRLEN, actual: payload.length });
  }
  const error = readS32Host(payload, 0);
  const request = decodeHeader(payload, 4);
  let tlvStart = 4 + NLMSG_HDRLEN;
  const result: NlErrorPayload = { error, request, extack: {} };
  if ((flags & NLM_F_CAPPED) === 0) {
    const echoedEnd = Math.min(payload.length, 4 + Math.max(request.length, NLMSG_HDRLEN));
    result.requestPayload = payload.subarray(4 + NLMSG_HDRLEN, echoedEnd);
    tlvStart = Math.min(payload.length, 4 + nlmsgAlign(Math.max(request.length, NLMSG_HDRLEN)));
  }
  if ((flags & NLM_F_ACK_TLVS) !== 0) result.extack = decodeExtAck(payload, tlvStart);
  return result;
}

/** The payload of NLMSG_DONE: an int error (negative errno, or 0) plus optional extended-ack TLVs. */
export interface NlDonePayload {
  error: number;
  extack: ExtAck;
}

/**
 * Decode an NLMSG_DONE payload; `flags` are the DONE message's header flags (NLM_F_ACK_TLVS).
 * An empty payload (some old senders) reads as error 0.
 */
export function decodeDone(payload: Buffer, flags = 0): NlDonePayload {
  if (payload.length === 0) return { error: 0, extack: {} };
  if (payload.length < 4) {
    throw new NetlinkDecodeError(0, `NLMSG_DONE payload of ${payload.length} bytes, need 4`, { expected: 4, actual: payload.length });
  }
  const error = readS32Host(payload, 0);
  const extack = (flags & NLM_F_ACK_TLVS) !== 0 ? decodeExtAck(payload, 4) : {};
  return { error, extack };
}

/** Decode extended-ack TLVs (enum nlmsgerr_attrs) from `buf[offset..]`; unknown types are ignored. */
export function decodeExtAck(buf: Buffer, offset = 0): ExtAck {
  const extack: ExtAck = {};
  for (const attr of decodeAttrs(buf, offset)) {
    switch (attr.type) {
      case NLMSGERR_ATTR_MSG: extack.message = attrString(attr); break;
      case NLMSGERR_ATTR_OFFS: extack.offset = attrU32(attr); break;
      case NLMSGERR_ATTR_COOKIE: extack.cookie = attrBytes(attr); break;
      case NLMSGERR_ATTR_POLICY: extack.policy = attrBytes(attr); break;
      case NLMSGERR_ATTR_MISS_TYPE: extack.missingType = attrU32(attr); break;
      case NLMSGERR_ATTR_MISS_NEST: extack.missingNest = attrU32(attr); break;
      default: break;
    }
  }
  return extack;
}
