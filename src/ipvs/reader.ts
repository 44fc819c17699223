// layer: kernel client (IPVS)
// job: read attribute payloads in place by offset (no Attr objects, no Buffer views): the hot path of large dumps, with netlink's forEachAttr.
import { readU16Host, readU32Host, HOST_IS_LE } from '../bytes.js';
import { NLA_HDRLEN } from '../netlink/constants.js';
import { NetlinkDecodeError } from '../netlink/errors.js';

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
