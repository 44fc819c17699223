// layer: kernel client (IPVS connections)
// job: decode and encode IPVS sync datagrams (protocol v1 and v0), field by field as ip_vs_sync.c writes and checks them.
import { encodeAddress, formatIPv4, formatIPv6 } from '../bytes.js';
import { IP_VS_CONN_F_HASHED, IP_VS_CONN_F_SEQ_MASK, IP_VS_CONN_F_TEMPLATE, IP_VS_PEDATA_MAXLEN, IP_VS_PENAME_MAXLEN, stateCount } from './constants.js';
import {
  IPVS_OPT_F_PARAM, IPVS_OPT_PE_DATA, IPVS_OPT_PE_NAME, IPVS_OPT_SEQ_DATA, STYPE_F_INET6, SVER_MASK, SVER_SHIFT, SYNC_CONN_V0_BYTES,
  SYNC_CONN_V4_BYTES, SYNC_CONN_V6_BYTES, SYNC_HEADER_V0_BYTES, SYNC_HEADER_V1_BYTES, SYNC_PROTO_VER, SYNC_SEQ_OPTION_BYTES,
  SyncDecodeError, type SyncConn, type SyncConnRejection, type SyncMessage, type SyncSeq,
} from './sync-message.js';

/** Options of the sync-message decoder. */
export interface DecodeSyncOptions {
  /** Accept only this sync id; 0 or absent accepts any (as a backup started with sync id 0 does). */
  syncId?: number;
}

/**
 * Decode one sync datagram (the UDP payload). Throws SyncDecodeError when the kernel would drop
 * the whole datagram: short header, a size field that is not the datagram's length, an unexpected
 * sync id, a v1 header of another version, connections or options reaching past the end. A
 * connection the kernel would skip (mandatory option of unknown type, unsupported protocol,
 * state out of range) is listed in `rejected` and the rest are returned. Unlike the kernel, which
 * applies the connections before a fatal error, a dropped datagram yields nothing.
 */
export function decodeSyncMessage(buf: Buffer, options: DecodeSyncOptions = {}): SyncMessage {
  if (buf.length < SYNC_HEADER_V0_BYTES) throw new SyncDecodeError('truncated', 0, `${buf.length} bytes is shorter than a header`);
  const size = buf.readUInt16BE(2);
  if (buf.length < size) throw new SyncDecodeError('truncated', buf.length, `header announces ${size} bytes, datagram has ${buf.length}`);
  if (buf.length > size) throw new SyncDecodeError('length-mismatch', size, `header announces ${size} bytes, datagram has ${buf.length}`);
  const syncId = buf[1] as number;
  if (options.syncId && syncId !== options.syncId) throw new SyncDecodeError('sync-id', 1, `sync id ${syncId}, expected ${options.syncId}`);
  if (buf[0] !== 0) return decodeV0(buf, syncId);
  if (buf.length < SYNC_HEADER_V1_BYTES) throw new SyncDecodeError('truncated', buf.length, 'v1 header cut short');
  if (buf.readInt8(5) !== SYNC_PROTO_VER || buf.readUInt16BE(6) !== 0) {
    throw new SyncDecodeError('wrong-version', 5, `version ${buf.readInt8(5)}, spare ${buf.readUInt16BE(6)} (expected version 1, spare 0)`);
  }
  return decodeV1(buf, syncId);
}

function decodeV1(buf: Buffer, syncId: number): SyncMessage {
  const message: SyncMessage = { version: 1, syncId, conns: [], rejected: [], skippedOptions: 0 };
  const count = buf[4] as number;
  let next = SYNC_HEADER_V1_BYTES;
  for (let i = 0; i < count; i++) {
    const p = next;
    if (p + SYNC_CONN_V4_BYTES > buf.length) {
      // The previous connection's padding may already reach past the end: the offset stays inside the datagram.
      throw new SyncDecodeError('truncated', Math.min(p, buf.length), `connection ${i} of ${count} cut short`);
    }
    const verSize = buf.readUInt16BE(p + 2);
    const size = verSize & SVER_MASK;
    const end = p + size;
    if (end > buf.length) throw new SyncDecodeError('length-past-end', p + 2, `connection ${i} of ${size} bytes reaches past the end`);
    if (verSize >> SVER_SHIFT) throw new SyncDecodeError('wrong-version', p + 2, `connection ${i} has version ${verSize >> SVER_SHIFT}`);
    const outcome = decodeConnV1(buf, p, end, message);
    if (typeof outcome === 'string') message.rejected.push({ index: i, reason: outcome });
    else message.conns.push(outcome);
    next = p + ((size + 3) & ~3);
  }
  return message;
}

/** One v1 connection in buf[p, end); a string when the kernel would skip it. */
function decodeConnV1(buf: Buffer, p: number, end: number, message: SyncMessage): SyncConn | SyncConnRejection {
  const type = buf[p] as number;
  const v6 = (type & STYPE_F_INET6) !== 0;
  if (!v6 && type !== 0) throw new SyncDecodeError('bad-conn-type', p, `connection type ${type}`);
  const fixed = v6 ? SYNC_CONN_V6_BYTES : SYNC_CONN_V4_BYTES;
  if (p + fixed > end) throw new SyncDecodeError('length-past-end', p + 2, `connection of ${end - p} bytes is shorter than its ${fixed}-byte body`);
  const alen = v6 ? 16 : 4;
  const format = v6 ? formatIPv6 : formatIPv4;
  const conn: SyncConn = {
    family: v6 ? 'inet6' : 'inet',
    protocol: buf[p + 1] as number,
    flags: buf.readUInt32BE(p + 4),
    state: buf.readUInt16BE(p + 8),
    clientPort: buf.readUInt16BE(p + 10),
    virtualPort: buf.readUInt16BE(p + 12),
    destPort: buf.readUInt16BE(p + 14),
    fwmark: buf.readUInt32BE(p + 16),
    timeoutSec: buf.readUInt32BE(p + 20),
    clientAddress: format(buf.subarray(p + 24, p + 24 + alen)),
    virtualAddress: format(buf.subarray(p + 24 + alen, p + 24 + 2 * alen)),
    destAddress: format(buf.subarray(p + 24 + 2 * alen, p + 24 + 3 * alen)),
  };
  let mandatoryUnknown = false;
  for (let o = p + fixed; o < end;) {
    if (o + 2 > end) throw new SyncDecodeError('truncated', o, 'option header cut short');
    const ptype = buf[o] as number;
    const plen = buf[o + 1] as number;
    const data = o + 2;
    if (plen === 0 || data + plen > end) throw new SyncDecodeError('length-past-end', o + 1, `option ${ptype} of ${plen} bytes`);
    switch (ptype & ~IPVS_OPT_F_PARAM) {
      case IPVS_OPT_SEQ_DATA:
        if (plen !== SYNC_SEQ_OPTION_BYTES || conn.inSeq) throw new SyncDecodeError('bad-option', o, `sequence option of ${plen} bytes${conn.inSeq ? ', repeated' : ''}`);
        conn.inSeq = readSeq(buf, data);
        conn.outSeq = readSeq(buf, data + 12);
        break;
      case IPVS_OPT_PE_DATA:
        if (plen > IP_VS_PEDATA_MAXLEN || conn.peData) throw new SyncDecodeError('bad-option', o, `persistence-engine data of ${plen} bytes${conn.peData ? ', repeated' : ''}`);
        conn.peData = Buffer.from(buf.subarray(data, data + plen));
        break;
      case IPVS_OPT_PE_NAME:
        if (plen > IP_VS_PENAME_MAXLEN || conn.peName !== undefined) throw new SyncDecodeError('bad-option', o, `persistence-engine name of ${plen} bytes${conn.peName !== undefined ? ', repeated' : ''}`);
        conn.peName = buf.toString('latin1', data, data + plen);
        break;
      default:
        if (ptype & IPVS_OPT_F_PARAM) message.skippedOptions++;
        else mandatoryUnknown = true;
    }
    o = data + plen;
  }
  if (mandatoryUnknown) return 'unknown-mandatory-option';
  return checkConn(conn);
}

/** The kernel's per-connection checks after decoding (protocol, state range, PE data needs a name). */
function checkConn(conn: SyncConn): SyncConn | SyncConnRejection {
  if (!(conn.flags & IP_VS_CONN_F_TEMPLATE)) {
    const states = stateCount(conn.protocol);
    if (states === undefined) return 'unsupported-protocol';
    if (conn.state >= states) return 'bad-state';
  }
  if (conn.peData && conn.peName === undefined) return 'pe-data-without-name';
  return conn;
}

function readSeq(buf: Buffer, at: number): SyncSeq {
  return { initSeq: buf.readUInt32BE(at), delta: buf.readUInt32BE(at + 4), previousDelta: buf.readUInt32BE(at + 8) };
}

function decodeV0(buf: Buffer, syncId: number): SyncMessage {
  const message: SyncMessage = { version: 0, syncId, conns: [], rejected: [], skippedOptions: 0 };
  const count = buf[0] as number;
  let p = SYNC_HEADER_V0_BYTES;
  for (let i = 0; i < count; i++) {
    if (p + SYNC_CONN_V0_BYTES > buf.length) throw new SyncDecodeError('truncated', p, `v0 connection ${i} of ${count} cut short`);
    const flags = buf.readUInt16BE(p + 20);
    const withSeq = (flags & IP_VS_CONN_F_SEQ_MASK) !== 0;
    const length = SYNC_CONN_V0_BYTES + (withSeq ? SYNC_SEQ_OPTION_BYTES : 0);
    if (p + length > buf.length) throw new SyncDecodeError('length-past-end', p, `v0 connection ${i} with sequence data reaches past the end`);
    const conn: SyncConn = {
      family: 'inet',
      protocol: buf[p + 1] as number,
      clientPort: buf.readUInt16BE(p + 2),
      virtualPort: buf.readUInt16BE(p + 4),
      destPort: buf.readUInt16BE(p + 6),
      clientAddress: formatIPv4(buf.subarray(p + 8, p + 12)),
      virtualAddress: formatIPv4(buf.subarray(p + 12, p + 16)),
      destAddress: formatIPv4(buf.subarray(p + 16, p + 20)),
      flags,
      state: buf.readUInt16BE(p + 22),
      fwmark: 0,
      timeoutSec: 0,
    };
    if (withSeq) {
      conn.inSeq = readSeq(buf, p + SYNC_CONN_V0_BYTES);
      conn.outSeq = readSeq(buf, p + SYNC_CONN_V0_BYTES + 12);
    }
    const outcome = checkConn(conn);
    if (typeof outcome === 'string') message.rejected.push({ index: i, reason: outcome });
    else message.conns.push(outcome);
    p += length;
  }
  return message;
}

/** Options of the sync-message encoder. */
export interface EncodeSyncOptions {
  /** Protocol version: 1 (default) or 0 (IPv4 only, no timeouts, no PE data). */
  version?: 0 | 1;
  syncId?: number;
  /** Largest datagram, as the master's sync_maxlen (default 1472: a 1500-byte MTU less IPv4 and UDP headers). */
  maxBytes?: number;
}

/**
 * Encode connections into sync datagrams as a master does (ip_vs_sync_conn): v1 entries padded
 * to 32 bits, options in the kernel's order (sequence data, PE data, PE name), flags without
 * IP_VS_CONN_F_HASHED; at most 255 connections and `maxBytes` per datagram.
 */
export function encodeSyncMessages(conns: readonly SyncConn[], options: EncodeSyncOptions = {}): Buffer[] {
  const version = options.version ?? 1;
  const maxBytes = options.maxBytes ?? 1472;
  const header = version === 1 ? SYNC_HEADER_V1_BYTES : SYNC_HEADER_V0_BYTES;
  const out: Buffer[] = [];
  let parts: Buffer[] = [];
  let size = header;
  let count = 0;
  const flush = (): void => {
    if (count === 0) return;
    out.push(finishMessage(parts, size, count, version, options.syncId ?? 0));
    parts = [];
    size = header;
    count = 0;
  };
  for (const conn of conns) {
    const body = version === 1 ? encodeConnV1(conn) : encodeConnV0(conn);
    if (header + body.length > maxBytes) throw new RangeError(`a ${body.length}-byte connection does not fit a ${maxBytes}-byte datagram`);
    let pad = version === 1 ? (4 - (size & 3)) & 3 : 0;
    if (count === 255 || size + pad + body.length > maxBytes) {
      flush();
      pad = 0;
    }
    if (pad) parts.push(Buffer.alloc(pad));
    parts.push(body);
    size += pad + body.length;
    count++;
  }
  flush();
  return out;
}

function finishMessage(parts: Buffer[], size: number, count: number, version: 0 | 1, syncId: number): Buffer {
  const head = Buffer.alloc(version === 1 ? SYNC_HEADER_V1_BYTES : SYNC_HEADER_V0_BYTES);
  if (version === 1) {
    head[0] = 0; // reserved: a v0 receiver reads it as a count of zero and ignores the message
    head[4] = count;
    head[5] = SYNC_PROTO_VER;
  } else {
    head[0] = count;
  }
  head[1] = syncId;
  head.writeUInt16BE(size, 2);
  return Buffer.concat([head, ...parts], size);
}

/** One v1 connection (struct ip_vs_sync_v4 / _v6 + options), unpadded. */
export function encodeConnV1(conn: SyncConn): Buffer {
  const v6 = conn.family === 'inet6';
  const fixed = v6 ? SYNC_CONN_V6_BYTES : SYNC_CONN_V4_BYTES;
  const seq = conn.inSeq || conn.outSeq ? 2 + SYNC_SEQ_OPTION_BYTES : 0;
  const peData = conn.peData ? 2 + conn.peData.length : 0;
  const peName = conn.peData && conn.peName !== undefined ? 2 + Buffer.byteLength(conn.peName, 'latin1') : 0;
  const b = Buffer.alloc(fixed + seq + peData + peName);
  b[0] = v6 ? STYPE_F_INET6 : 0;
  b[1] = conn.protocol;
  b.writeUInt16BE(b.length & SVER_MASK, 2); // version 0 in the top 4 bits
  b.writeUInt32BE((conn.flags & ~IP_VS_CONN_F_HASHED) >>> 0, 4);
  b.writeUInt16BE(conn.state, 8);
  b.writeUInt16BE(conn.clientPort, 10);
  b.writeUInt16BE(conn.virtualPort, 12);
  b.writeUInt16BE(conn.destPort, 14);
  b.writeUInt32BE(conn.fwmark >>> 0, 16);
  b.writeUInt32BE(conn.timeoutSec >>> 0, 20);
  const alen = v6 ? 16 : 4;
  writeAddress(b, 24, conn.clientAddress, alen);
  writeAddress(b, 24 + alen, conn.virtualAddress, alen);
  writeAddress(b, 24 + 2 * alen, conn.destAddress, alen);
  let o = fixed;
  if (seq) {
    b[o] = IPVS_OPT_SEQ_DATA;
    b[o + 1] = SYNC_SEQ_OPTION_BYTES;
    writeSeq(b, o + 2, conn.inSeq);
    writeSeq(b, o + 14, conn.outSeq);
    o += seq;
  }
  if (conn.peData) {
    b[o] = IPVS_OPT_PE_DATA;
    b[o + 1] = conn.peData.length;
    conn.peData.copy(b, o + 2);
    o += peData;
    if (peName) {
      b[o] = IPVS_OPT_PE_NAME;
      b[o + 1] = peName - 2;
      b.write(conn.peName as string, o + 2, 'latin1');
    }
  }
  return b;
}

/** One v0 connection (struct ip_vs_sync_conn_v0, plus the 24 bytes of options when a sequence flag is set). */
export function encodeConnV0(conn: SyncConn): Buffer {
  if (conn.family !== 'inet') throw new RangeError('sync protocol v0 carries IPv4 connections only');
  const withSeq = (conn.flags & IP_VS_CONN_F_SEQ_MASK) !== 0;
  const b = Buffer.alloc(SYNC_CONN_V0_BYTES + (withSeq ? SYNC_SEQ_OPTION_BYTES : 0));
  b[1] = conn.protocol;
  b.writeUInt16BE(conn.clientPort, 2);
  b.writeUInt16BE(conn.virtualPort, 4);
  b.writeUInt16BE(conn.destPort, 6);
  writeAddress(b, 8, conn.clientAddress, 4);
  writeAddress(b, 12, conn.virtualAddress, 4);
  writeAddress(b, 16, conn.destAddress, 4);
  b.writeUInt16BE(conn.flags & ~IP_VS_CONN_F_HASHED & 0xffff, 20);
  b.writeUInt16BE(conn.state, 22);
  if (withSeq) {
    writeSeq(b, SYNC_CONN_V0_BYTES, conn.inSeq);
    writeSeq(b, SYNC_CONN_V0_BYTES + 12, conn.outSeq);
  }
  return b;
}

function writeAddress(b: Buffer, at: number, address: string, length: number): void {
  const bytes = encodeAddress(address);
  if (bytes.length !== length) throw new RangeError(`${address} is not an ${length === 4 ? 'IPv4' : 'IPv6'} address`);
  bytes.copy(b, at);
}

function writeSeq(b: Buffer, at: number, seq: SyncSeq | undefined): void {
  if (!seq) return;
  b.writeUInt32BE(seq.initSeq >>> 0, at);
  b.writeUInt32BE(seq.delta >>> 0, at + 4);
  b.writeUInt32BE(seq.previousDelta >>> 0, at + 8);
}
