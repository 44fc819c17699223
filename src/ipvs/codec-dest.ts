// layer: kernel client (IPVS)
// job: encode/decode pair for the destination (real server) attribute group.
import { writeU16Host, writeU32Host } from '../bytes.js';
import { AttrWriter, findAttr, forEachAttr, requiredAttr as required, writeAttrHeader as header, type Attr } from '../netlink/attr.js';
import { NLA_F_NESTED, NLA_HDRLEN } from '../netlink/constants.js';
import { NetlinkDecodeError } from '../netlink/errors.js';
import {
  CHECKSUMS, FORWARD_CODES, TUNNEL_TYPES, byValue, familyOfAf, inetAddrAt, statsFrom,
  writeInetAddr, type DecodeOptions, type Span,
} from './codec.js';
import * as K from './constants.js';
import type { Destination, DestinationState, Family, Tunnel } from './model.js';
import { be16At, u16At, u32At, u8At } from './reader.js';

/**
 * IPVS_CMD_ATTR_DEST in full, for new/set, in ipvsadm's order: address family, address, port,
 * forwarding method, weight, tunnel type/port/flags, upper and lower thresholds.
 */
export function encodeDestination(w: AttrWriter, dest: Destination): AttrWriter {
  return w.bytes(K.IPVS_CMD_ATTR_DEST | NLA_F_NESTED, encodeDestinationNest(dest).subarray(NLA_HDRLEN));
}

/** IPVS_CMD_ATTR_DEST in full as one exact-size buffer (96 bytes, one pooled allocation); same bytes as encodeDestination. */
export function encodeDestinationNest(dest: Destination): Buffer {
  const b = Buffer.allocUnsafe(DEST_NEST_BYTES);
  writeDestinationNest(b, 0, dest);
  return b;
}

/** Bytes of IPVS_CMD_ATTR_DEST as encodeDestinationNest writes it. */
export const DEST_NEST_BYTES = 96;

/** encodeDestinationNest's bytes written into `b` at `at` (the hot path of apply: no allocation). */
export function writeDestinationNest(b: Buffer, at: number, dest: Destination): void {
  const tun = dest.forward === 'tun' ? dest.tunnel : undefined;
  // Every byte is written: the attributes, then each one's padding to 4 bytes (no fill of the whole).
  header(b, at, DEST_NEST_BYTES, K.IPVS_CMD_ATTR_DEST | NLA_F_NESTED);
  header(b, at + 4, 6, K.IPVS_DEST_ATTR_ADDR_FAMILY);
  writeU16Host(b, dest.address.includes(':') ? K.AF_INET6 : K.AF_INET, at + 8);
  b[at + 10] = 0;
  b[at + 11] = 0;
  header(b, at + 12, 20, K.IPVS_DEST_ATTR_ADDR);
  writeInetAddr(b, at + 16, dest.address);
  header(b, at + 32, 6, K.IPVS_DEST_ATTR_PORT);
  b.writeUInt16BE(dest.port, at + 36);
  b[at + 38] = 0;
  b[at + 39] = 0;
  header(b, at + 40, 8, K.IPVS_DEST_ATTR_FWD_METHOD);
  writeU32Host(b, FORWARD_CODES[dest.forward], at + 44);
  header(b, at + 48, 8, K.IPVS_DEST_ATTR_WEIGHT);
  writeU32Host(b, dest.weight, at + 52);
  header(b, at + 56, 5, K.IPVS_DEST_ATTR_TUN_TYPE);
  b[at + 60] = TUNNEL_TYPES[tun?.type ?? 'ipip'];
  b[at + 61] = 0;
  b[at + 62] = 0;
  b[at + 63] = 0;
  header(b, at + 64, 6, K.IPVS_DEST_ATTR_TUN_PORT);
  b.writeUInt16BE(tun?.port ?? 0, at + 68);
  b[at + 70] = 0;
  b[at + 71] = 0;
  header(b, at + 72, 6, K.IPVS_DEST_ATTR_TUN_FLAGS);
  writeU16Host(b, CHECKSUMS[tun?.checksum ?? 'none'], at + 76);
  b[at + 78] = 0;
  b[at + 79] = 0;
  header(b, at + 80, 8, K.IPVS_DEST_ATTR_U_THRESH);
  writeU32Host(b, dest.upperThreshold ?? 0, at + 84);
  header(b, at + 88, 8, K.IPVS_DEST_ATTR_L_THRESH);
  writeU32Host(b, dest.lowerThreshold ?? 0, at + 92);
}

/** IPVS_CMD_ATTR_DEST with the identity only (family, address, port), for delete. */
export function encodeDestinationKey(w: AttrWriter, dest: { address: string; port: number }): AttrWriter {
  return w.bytes(K.IPVS_CMD_ATTR_DEST | NLA_F_NESTED, encodeDestinationKeyNest(dest).subarray(NLA_HDRLEN));
}

/** IPVS_CMD_ATTR_DEST with the identity only, as one exact-size buffer (40 bytes). */
export function encodeDestinationKeyNest(dest: { address: string; port: number }): Buffer {
  const b = Buffer.allocUnsafe(40).fill(0);
  header(b, 0, 40, K.IPVS_CMD_ATTR_DEST | NLA_F_NESTED);
  header(b, 4, 6, K.IPVS_DEST_ATTR_ADDR_FAMILY);
  writeU16Host(b, dest.address.includes(':') ? K.AF_INET6 : K.AF_INET, 8);
  header(b, 12, 20, K.IPVS_DEST_ATTR_ADDR);
  writeInetAddr(b, 16, dest.address);
  header(b, 32, 6, K.IPVS_DEST_ATTR_PORT);
  b.writeUInt16BE(dest.port, 36);
  return b;
}

/**
 * Decode the payload of IPVS_CMD_ATTR_DEST (`buf[start, end)`). A kernel older than 3.18 sends no
 * address family: the real server then has the service's (`serviceFamily`), as those kernels
 * require. A kernel older than 5.2 sends no tunnel attributes: `tunnel` is then absent (IPIP).
 */
export function decodeDestination(buf: Buffer, serviceFamily: Family, start = 0, end = buf.length, options: DecodeOptions = {}): DestinationState {
  let af: number | undefined; let addr: Span | undefined; let port: number | undefined; let fwd: number | undefined;
  let weight: number | undefined; let upper: number | undefined; let lower: number | undefined; let active: number | undefined;
  let inactive: number | undefined; let persistent: number | undefined; let tunType: number | undefined;
  let tunPort: number | undefined; let tunFlags: number | undefined; let s32: Span | undefined; let s64: Span | undefined;
  forEachAttr(buf, start, end, (type, at, length) => {
    switch (type) {
      case K.IPVS_DEST_ATTR_ADDR: addr = { at, length }; break;
      case K.IPVS_DEST_ATTR_PORT: port = be16At(buf, type, at, length); break;
      case K.IPVS_DEST_ATTR_FWD_METHOD: fwd = u32At(buf, type, at, length); break;
      case K.IPVS_DEST_ATTR_WEIGHT: weight = u32At(buf, type, at, length); break;
      case K.IPVS_DEST_ATTR_U_THRESH: upper = u32At(buf, type, at, length); break;
      case K.IPVS_DEST_ATTR_L_THRESH: lower = u32At(buf, type, at, length); break;
      case K.IPVS_DEST_ATTR_ACTIVE_CONNS: active = u32At(buf, type, at, length); break;
      case K.IPVS_DEST_ATTR_INACT_CONNS: inactive = u32At(buf, type, at, length); break;
      case K.IPVS_DEST_ATTR_PERSIST_CONNS: persistent = u32At(buf, type, at, length); break;
      case K.IPVS_DEST_ATTR_STATS: s32 = { at, length }; break;
      case K.IPVS_DEST_ATTR_ADDR_FAMILY: af = u16At(buf, type, at, length); break;
      case K.IPVS_DEST_ATTR_STATS64: s64 = { at, length }; break;
      case K.IPVS_DEST_ATTR_TUN_TYPE: tunType = u8At(buf, type, at, length); break;
      case K.IPVS_DEST_ATTR_TUN_PORT: tunPort = be16At(buf, type, at, length); break;
      case K.IPVS_DEST_ATTR_TUN_FLAGS: tunFlags = u16At(buf, type, at, length); break;
      default: break;
    }
  });
  const family = af !== undefined ? familyOfAf(af, start) : serviceFamily;
  const code = required(fwd, 'IPVS_DEST_ATTR_FWD_METHOD', start) & K.IP_VS_CONN_F_FWD_MASK;
  const forward = byValue(FORWARD_CODES, code);
  if (!forward) throw new NetlinkDecodeError(start, `unknown forwarding method ${code}`);
  const dest: DestinationState = {
    address: inetAddrAt(buf, required(addr, 'IPVS_DEST_ATTR_ADDR', start), family),
    port: required(port, 'IPVS_DEST_ATTR_PORT', start),
    family,
    forward,
    weight: required(weight, 'IPVS_DEST_ATTR_WEIGHT', start),
    upperThreshold: required(upper, 'IPVS_DEST_ATTR_U_THRESH', start),
    lowerThreshold: required(lower, 'IPVS_DEST_ATTR_L_THRESH', start),
    activeConns: required(active, 'IPVS_DEST_ATTR_ACTIVE_CONNS', start),
    inactiveConns: required(inactive, 'IPVS_DEST_ATTR_INACT_CONNS', start),
    persistentConns: required(persistent, 'IPVS_DEST_ATTR_PERSIST_CONNS', start),
  };
  if (forward === 'tun' && tunType !== undefined) dest.tunnel = tunnelOf(tunType, tunPort, tunFlags, start);
  if (options.stats ?? true) {
    const stats = statsFrom(buf, s32, s64);
    if (stats) dest.stats = stats;
  }
  return dest;
}

function tunnelOf(tunType: number, tunPort: number | undefined, tunFlags: number | undefined, offset: number): Tunnel {
  const type = byValue(TUNNEL_TYPES, tunType);
  if (!type) throw new NetlinkDecodeError(offset, `unknown tunnel type ${tunType}`);
  const tunnel: Tunnel = { type, port: tunPort ?? 0 };
  if (tunFlags !== undefined) {
    const checksum = byValue(CHECKSUMS, tunFlags);
    if (!checksum) throw new NetlinkDecodeError(offset, `unknown tunnel flags 0x${tunFlags.toString(16)}`);
    tunnel.checksum = checksum;
  }
  return tunnel;
}

/** Decode IPVS_CMD_ATTR_DEST among a reply's top-level attributes. */
export function decodeDestinationReply(attrs: readonly Attr[], serviceFamily: Family, options: DecodeOptions = {}): DestinationState {
  const nest = required(findAttr(attrs, K.IPVS_CMD_ATTR_DEST), 'IPVS_CMD_ATTR_DEST', 0);
  return decodeDestination(nest.value, serviceFamily, 0, nest.value.length, options);
}
