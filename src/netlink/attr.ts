// layer: netlink (codec)
// job: struct nlattr codec: a writer with nesting and in-place headers, a strict decoder (in place or as Attr objects), lookup, and checked getters.
import { HOST_IS_LE, readU16Host, readU32Host, readS32Host, writeU16Host, writeU32Host, writeS32Host, encodeIPv4, encodeIPv6, encodeAddress, formatIPv4, formatIPv6 } from '../bytes.js';
import { NLA_F_NESTED, NLA_F_NET_BYTEORDER, NLA_HDRLEN, NLA_TYPE_MASK, nlaAlign } from './constants.js';
import { NetlinkDecodeError } from './errors.js';

// ---- writer ----------------------------------------------------------------------------------

/**
 * Write an attribute header (nla_len, nla_type; host order) at `at`, for codecs that write
 * exact-size buffers in place; returns where its payload goes.
 */
export function writeAttrHeader(buf: Buffer, at: number, length: number, type: number): number {
  writeU16Host(buf, length, at);
  writeU16Host(buf, type, at + 2);
  return at + NLA_HDRLEN;
}

function checkType(type: number): void {
  if (!Number.isInteger(type) || type < 0 || type > 0xffff) throw new RangeError(`attribute type out of range: ${type}`);
}

/**
 * Builds a run of netlink attributes into a growing buffer. Integers are host order unless the
 * method says otherwise (`be16`, `be32`, addresses). Every attribute is padded to 4 bytes with
 * zeros. NLA_F_NET_BYTEORDER is never set implicitly: OR it into `type` where a family wants it.
 */
export class AttrWriter {
  private buf: Buffer;
  private len = 0;

  constructor(initialCapacity = 256) {
    this.buf = Buffer.alloc(Math.max(16, initialCapacity));
  }

  /** Bytes written so far (always a multiple of 4). */
  get length(): number {
    return this.len;
  }

  /** Append an attribute whose payload is `size` bytes filled in by `fill` (at payload offset). */
  private put(type: number, size: number, fill: (buf: Buffer, at: number) => void): this {
    checkType(type);
    const total = NLA_HDRLEN + size;
    if (total > 0xffff) throw new RangeError(`attribute type ${type} too long: ${total} bytes`);
    this.reserve(nlaAlign(total));
    writeU16Host(this.buf, total, this.len);
    writeU16Host(this.buf, type, this.len + 2);
    fill(this.buf, this.len + NLA_HDRLEN);
    this.buf.fill(0, this.len + total, this.len + nlaAlign(total));
    this.len += nlaAlign(total);
    return this;
  }

  private reserve(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    const grown = Buffer.alloc(Math.max(this.buf.length * 2, this.len + extra));
    this.buf.copy(grown, 0, 0, this.len);
    this.buf = grown;
  }

  /** u8 attribute. */
  u8(type: number, value: number): this { return this.put(type, 1, (b, at) => b.writeUInt8(value, at)); }
  /** u16 attribute, host order. */
  u16(type: number, value: number): this { return this.put(type, 2, (b, at) => writeU16Host(b, value, at)); }
  /** u32 attribute, host order. */
  u32(type: number, value: number): this { return this.put(type, 4, (b, at) => writeU32Host(b, value, at)); }
  /** s32 attribute, host order. */
  s32(type: number, value: number): this { return this.put(type, 4, (b, at) => writeS32Host(b, value, at)); }
  /** u64 attribute, host order; a number must be a non-negative safe integer. */
  u64(type: number, value: bigint | number): this {
    if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new RangeError(`u64 value is not a safe integer: ${value}`);
    const v = BigInt(value);
    return this.put(type, 8, (b, at) => (HOST_IS_LE ? b.writeBigUInt64LE(v, at) : b.writeBigUInt64BE(v, at)));
  }
  /** u16 attribute in network byte order (e.g. a port). */
  be16(type: number, value: number): this { return this.put(type, 2, (b, at) => b.writeUInt16BE(value, at)); }
  /** u32 attribute in network byte order. */
  be32(type: number, value: number): this { return this.put(type, 4, (b, at) => b.writeUInt32BE(value, at)); }
  /** NUL-terminated UTF-8 string attribute. */
  string(type: number, value: string): this {
    const bytes = Buffer.from(value, 'utf8');
    return this.put(type, bytes.length + 1, (b, at) => { bytes.copy(b, at); b[at + bytes.length] = 0; });
  }
  /** Raw bytes attribute (copied). */
  bytes(type: number, value: Uint8Array): this { return this.put(type, value.length, (b, at) => b.set(value, at)); }
  /** Flag attribute: no payload; presence is the value. */
  flag(type: number): this { return this.put(type, 0, () => undefined); }
  /** IPv4 address attribute: 4 bytes, network order. */
  ipv4(type: number, address: string): this { return this.bytes(type, encodeIPv4(address)); }
  /** IPv6 address attribute: 16 bytes, network order. */
  ipv6(type: number, address: string): this { return this.bytes(type, encodeIPv6(address)); }
  /** IPv4 (4 bytes) or IPv6 (16 bytes) address attribute, by the text's family. */
  address(type: number, address: string): this { return this.bytes(type, encodeAddress(address)); }

  /**
   * Nested attribute (NLA_F_NESTED set): `build` writes the children into this same writer.
   * If `build` throws, everything it wrote is discarded.
   */
  nest(type: number, build: (w: this) => void): this {
    checkType(type);
    const start = this.len;
    this.reserve(NLA_HDRLEN);
    this.len += NLA_HDRLEN;
    try {
      build(this);
    } catch (err) {
      this.len = start;
      throw err;
    }
    const total = this.len - start;
    if (total > 0xffff) {
      this.len = start;
      throw new RangeError(`nested attribute type ${type} too long: ${total} bytes`);
    }
    writeU16Host(this.buf, total, start);
    writeU16Host(this.buf, type | NLA_F_NESTED, start + 2);
    return this;
  }

  /** A copy of the bytes written so far. */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.len));
  }
}

// ---- decoder -----------------------------------------------------------------------------------

/** One decoded attribute. `value` is a view into the decoded buffer, not a copy. */
export interface Attr {
  /** nla_type with NLA_F_NESTED and NLA_F_NET_BYTEORDER masked off. */
  type: number;
  /** NLA_F_NESTED was set. */
  nested: boolean;
  /** NLA_F_NET_BYTEORDER was set. */
  netByteOrder: boolean;
  /** The payload, without header or padding. */
  value: Buffer;
  /** Offset of the attribute's header within the buffer given to decodeAttrs. */
  offset: number;
}

/**
 * Call `visit(type, at, length)` for each attribute in `buf[start, end)`, in place (no Attr
 * objects, no views: the hot path of large dumps): `type` without the NLA_F_* bits, `at` the
 * payload's offset, `length` the payload's size. Strict: a header that does not fit, nla_len < 4,
 * or an attribute running past `end` throws NetlinkDecodeError. The last attribute may omit its
 * padding.
 */
export function forEachAttr(buf: Buffer, start: number, end: number, visit: (type: number, at: number, length: number) => void): void {
  let at = start;
  while (at < end) {
    if (end - at < NLA_HDRLEN) {
      throw new NetlinkDecodeError(at, `${end - at} trailing bytes, too short for an attribute header`,
        { expected: NLA_HDRLEN, actual: end - at });
    }
    const len = readU16Host(buf, at);
    const type = readU16Host(buf, at + 2) & NLA_TYPE_MASK;
    if (len < NLA_HDRLEN) {
      throw new NetlinkDecodeError(at, `attribute type ${type} has nla_len ${len} < ${NLA_HDRLEN}`, { attrType: type, actual: len });
    }
    if (len > end - at) {
      throw new NetlinkDecodeError(at, `attribute type ${type} (nla_len ${len}) runs past the end (${end - at} bytes left)`,
        { attrType: type, expected: len, actual: end - at });
    }
    visit(type, at + NLA_HDRLEN, len - NLA_HDRLEN);
    at += nlaAlign(len);
  }
}

/**
 * Decode the attributes in `buf[offset, end)` (strict, as forEachAttr).
 */
export function decodeAttrs(buf: Buffer, offset = 0, end = buf.length): Attr[] {
  if (offset < 0 || end > buf.length || offset > end) {
    throw new RangeError(`decodeAttrs range [${offset}, ${end}) outside buffer of ${buf.length} bytes`);
  }
  const attrs: Attr[] = [];
  forEachAttr(buf, offset, end, (type, at, length) => {
    const rawType = readU16Host(buf, at - 2);
    attrs.push({
      type,
      nested: (rawType & NLA_F_NESTED) !== 0,
      netByteOrder: (rawType & NLA_F_NET_BYTEORDER) !== 0,
      value: buf.subarray(at, at + length),
      offset: at - NLA_HDRLEN,
    });
  });
  return attrs;
}

// ---- lookup ---------------------------------------------------------------------------------------

/** The last attribute of `type` among decoded ones (the kernel's rule when one repeats). */
export function findAttr(attrs: readonly Attr[], type: number): Attr | undefined {
  let found: Attr | undefined;
  for (const a of attrs) if (a.type === type) found = a;
  return found;
}

/** The payload span of the last attribute of `type` in `buf[start, end)`, read in place; undefined when absent. */
export function findNest(buf: Buffer, type: number, start = 0, end = buf.length): { start: number; end: number } | undefined {
  let found: { start: number; end: number } | undefined;
  forEachAttr(buf, start, end, (t, at, length) => { if (t === type) found = { start: at, end: at + length }; });
  return found;
}

/**
 * `value`, the decoded value of an attribute a reply must carry; when the kernel left it out,
 * NetlinkDecodeError at `offset` naming the attribute (`attr`, e.g. `IPVS_DEST_ATTR_WEIGHT`) and,
 * when given, the reply (`context`, e.g. `IPSET_CMD_LIST`).
 */
export function requiredAttr<T>(value: T | undefined, attr: string, offset = 0, context?: string): T {
  if (value === undefined) throw new NetlinkDecodeError(offset, `${context === undefined ? '' : `${context}: `}missing ${attr}`);
  return value;
}

// ---- checked getters -----------------------------------------------------------------------------

function expectLength(attr: Attr, kind: string, ...sizes: number[]): void {
  if (!sizes.includes(attr.value.length)) {
    throw new NetlinkDecodeError(attr.offset,
      `attribute type ${attr.type}: expected ${sizes.join(' or ')} bytes for ${kind}, got ${attr.value.length}`,
      { attrType: attr.type, expected: sizes[0] ?? 0, actual: attr.value.length });
  }
}

/** u8 payload. */
export function attrU8(attr: Attr): number { expectLength(attr, 'u8', 1); return attr.value.readUInt8(0); }
/** u16 payload, host order. */
export function attrU16(attr: Attr): number { expectLength(attr, 'u16', 2); return readU16Host(attr.value, 0); }
/** u32 payload, host order. */
export function attrU32(attr: Attr): number { expectLength(attr, 'u32', 4); return readU32Host(attr.value, 0); }
/** s32 payload, host order. */
export function attrS32(attr: Attr): number { expectLength(attr, 's32', 4); return readS32Host(attr.value, 0); }
/** u64 payload, host order. */
export function attrU64(attr: Attr): bigint {
  expectLength(attr, 'u64', 8);
  return HOST_IS_LE ? attr.value.readBigUInt64LE(0) : attr.value.readBigUInt64BE(0);
}
/** u16 payload in network byte order. */
export function attrBe16(attr: Attr): number { expectLength(attr, 'be16', 2); return attr.value.readUInt16BE(0); }
/** u32 payload in network byte order. */
export function attrBe32(attr: Attr): number { expectLength(attr, 'be32', 4); return attr.value.readUInt32BE(0); }
/** u64 payload in network byte order. */
export function attrBe64(attr: Attr): bigint { expectLength(attr, 'be64', 8); return attr.value.readBigUInt64BE(0); }

/** UTF-8 string payload up to the first NUL; a missing NUL terminator is accepted. */
export function attrString(attr: Attr): string {
  const nul = attr.value.indexOf(0);
  return attr.value.toString('utf8', 0, nul === -1 ? attr.value.length : nul);
}

/** Raw payload: a view into the decoded buffer (copy it to keep it beyond the buffer's life). */
export function attrBytes(attr: Attr): Buffer { return attr.value; }

/** Flag: checks the payload is empty and returns true. */
export function attrFlag(attr: Attr): true { expectLength(attr, 'flag', 0); return true; }

/** 4-byte IPv4 address payload as dotted text. */
export function attrIPv4(attr: Attr): string { expectLength(attr, 'ipv4', 4); return formatIPv4(attr.value); }
/** 16-byte IPv6 address payload as RFC 5952 text. */
export function attrIPv6(attr: Attr): string { expectLength(attr, 'ipv6', 16); return formatIPv6(attr.value); }
/** 4- or 16-byte address payload as IPv4 or IPv6 text. */
export function attrAddress(attr: Attr): string {
  expectLength(attr, 'address', 4, 16);
  return attr.value.length === 4 ? formatIPv4(attr.value) : formatIPv6(attr.value);
}

/**
 * The attributes nested in this one (NLA_F_NESTED need not be set: some families omit it).
 * Offsets in the result, and in a decode error, are relative to this attribute's payload.
 */
export function attrNested(attr: Attr): Attr[] {
  try {
    return decodeAttrs(attr.value);
  } catch (err) {
    if (!(err instanceof NetlinkDecodeError)) throw err;
    const facts = { attrType: err.attrType ?? attr.type, expected: err.expected, actual: err.actual };
    throw new NetlinkDecodeError(err.offset, `in nested attribute type ${attr.type}: ${err.what}`, facts, { cause: err });
  }
}
