// layer: kernel client (IPVS)
// job: read attributes in place by offset (no Attr objects, no Buffer views): the hot path of large dumps.
import { readU16Host, readU32Host, HOST_IS_LE } from '../bytes.js';
import { NLA_HDRLEN, NLA_TYPE_MASK, nlaAlign } from '../netlink/constants.js';
import { NetlinkDecodeError } from '../netlink/errors.js';

/**
 * Call `visit(type, at, length)` for each attribute in `buf[start, end)`: `type` without the
 * NLA_F_* bits, `at` the payload's offset, `length` the payload's size. Strict as decodeAttrs:
 * a header that does not fit or a length past `end` throws NetlinkDecodeError.
 */
export function forEachAttr(buf: Buffer, start: number, end: number, visit: (type: number, at: number, length: number) => void): void {
  let at = start;
  while (at < end) {
    if (end - at < NLA_HDRLEN) {
      throw new NetlinkDecodeError(at, `${end - at} trailing bytes, too short for an attribute header`, { expected: NLA_HDRLEN, actual: end - at });
    }
    const len = readU16Host(buf, at);
    const type = readU16Host(buf, at + 2) & NLA_TYPE_MASK;
    if (len < NLA_HDRLEN || len > end - at) {
      throw new NetlinkDecodeError(at, `attribute type ${type} has nla_len ${len} (${end - at} bytes left)`, { attrType: type, actual: len });
    }
    visit(type, at + NLA_HDRLEN, len - NLA_HDRLEN);
    at += nlaAlign(len);
  }
}

function size(type: number, at: number, length: number, want: number, kind: string): void {
  if (length !== want) {
    throw new NetlinkDecodeError(at - NLA_HDRLEN, `attribute type ${type}: expected ${want} bytes for ${kind}, got ${length}`,
      { attrType: type, expected: want, actual: length });
  }
}

/** u8 payload. */
export function u8At(buf: Buffer, type: number, at: number, length: number): number { size(type, at, length, 1, 'u8'); return buf[at] ?? 0; }
/** u16 payload, host order. */
export function u16At(buf: Buffer, type: number, at: number, length: number): number { size(type, at, length, 2, 'u16'); return readU16Host(buf, at); }
/** u16 payload, network order. */
export function be16At(buf: Buffer, type: number, at: number, length: number): number { size(type, at, length, 2, 'be16'); return buf.readUInt16BE(at); }
/** u32 payload, host order. */
export function u32At(buf: Buffer, type: number, at: number, length: number): number { size(type, at, length, 4, 'u32'); return readU32Host(buf, at); }
/** u64 payload, host order. */
export function u64At(buf: Buffer, type: number, at: number, length: number): bigint {
  size(type, at, length, 8, 'u64');
  return HOST_IS_LE ? buf.readBigUInt64LE(at) : buf.readBigUInt64BE(at);
}
/** NUL-terminated string payload (a missing NUL is accepted). */
export function stringAt(buf: Buffer, at: number, length: number): string {
  const nul = buf.indexOf(0, at);
  return buf.toString('latin1', at, nul === -1 || nul > at + length ? at + length : nul);
}
