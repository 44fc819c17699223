// layer: behaviour (vrrp)
// job: VRRP v2/v3 advertisement codec (IPv4 and IPv6), the internet checksum with the v3 pseudo-header, and the IPv4 header keepalived writes.
import { encodeIPv4, encodeIPv6, formatIPv4, formatIPv6 } from '../bytes.js';
import {
  AUTH_NONE, IPPROTO_VRRP, IPV4_HEADER_BYTES, TOS_NETWORK_CONTROL, VRRP_AUTH_DATA_BYTES, VRRP_HEADER_BYTES, VRRP_TTL,
  VRRP_TYPE_ADVERTISEMENT,
} from './constants.js';

/** VRRP version 2 (RFC 3768) or 3 (RFC 5798). */
export type VrrpVersion = 2 | 3;
/** IPv4 or IPv6. */
export type IpFamily = 4 | 6;

/** One VRRP ADVERTISEMENT as it is on the wire (RFC 3768 §5.1, RFC 5798 §5.1). */
export interface Advertisement {
  version: VrrpVersion;
  /** RFC 5798 §5.2.2: 1 = ADVERTISEMENT, the only type. */
  type: number;
  /** Virtual Router ID, 1..255. */
  vrid: number;
  /** 0 (stop) .. 255 (address owner). */
  priority: number;
  /**
   * The advertisement interval in centiseconds. v2 carries whole seconds (RFC 3768 §5.3.7), so a
   * v2 value is seconds × 100; v3 carries 12 bits of centiseconds (RFC 5798 §5.2.7).
   */
  advertIntervalCs: number;
  /** v2 Auth Type (0 none, 1 simple text password); 0 for v3, which has none. */
  authType: number;
  /** v2 Authentication Data: 8 bytes (a PASS password, zero padded). Absent for v3. */
  authData?: Buffer;
  /** The virtual addresses, in the order sent. */
  addresses: string[];
  /** The checksum as it was (decode) or was computed (encode). */
  checksum: number;
}

/** What an advertisement is built from: everything but the checksum. */
export type AdvertisementFields = Omit<Advertisement, 'checksum' | 'type'> & { type?: number };

/** Source and destination of the IP datagram: the v3 checksum covers them (RFC 5798 §5.2.8). */
export interface PseudoHeader {
  src: string;
  dst: string;
}

/** Why a datagram could not be decoded. `reason` is the drop counter it belongs to. */
export class VrrpDecodeError extends Error {
  override name = 'VrrpDecodeError';
  constructor(readonly reason: 'truncated' | 'length' | 'version' | 'ip-header', message: string) {
    super(message);
  }
}

/** RFC 1071 one's-complement sum of 16-bit big-endian words over `parts`, folded and inverted. */
export function internetChecksum(parts: readonly Buffer[]): number {
  let sum = 0;
  let odd: number | undefined;
  for (const part of parts) {
    let i = 0;
    if (odd !== undefined && part.length > 0) {
      sum += (odd << 8) | part[0]!;
      odd = undefined;
      i = 1;
    }
    for (; i + 1 < part.length; i += 2) sum += (part[i]! << 8) | part[i + 1]!;
    if (i < part.length) odd = part[i]!;
  }
  if (odd !== undefined) sum += odd << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** The IPv4 (RFC 768 style) or IPv6 (RFC 8200 §8.1) pseudo-header for protocol 112 and `length` bytes. */
export function encodePseudoHeader(family: IpFamily, pseudo: PseudoHeader, length: number): Buffer {
  if (family === 4) {
    const out = Buffer.alloc(12);
    encodeIPv4(pseudo.src, 'src').copy(out, 0);
    encodeIPv4(pseudo.dst, 'dst').copy(out, 4);
    out[9] = IPPROTO_VRRP;
    out.writeUInt16BE(length, 10);
    return out;
  }
  const out = Buffer.alloc(40);
  encodeIPv6(pseudo.src, 'src').copy(out, 0);
  encodeIPv6(pseudo.dst, 'dst').copy(out, 16);
  out.writeUInt32BE(length, 32);
  out[39] = IPPROTO_VRRP;
  return out;
}

/** The checksum of the VRRP bytes `vrrp` (checksum field included as it is). v2: the packet alone; v3: with the pseudo-header. */
export function advertisementChecksum(vrrp: Buffer, version: VrrpVersion, family: IpFamily, pseudo?: PseudoHeader): number {
  if (version === 2) return internetChecksum([vrrp]);
  if (!pseudo) throw new TypeError('a VRRPv3 checksum needs the source and destination addresses (RFC 5798 §5.2.8)');
  return internetChecksum([encodePseudoHeader(family, pseudo, vrrp.length), vrrp]);
}

/** keepalived's `auth_pass`: the first 8 bytes of the password, zero padded (RFC 2338 §5.3.10). */
export function encodePassword(password: string): Buffer {
  const out = Buffer.alloc(VRRP_AUTH_DATA_BYTES);
  Buffer.from(password, 'utf8').copy(out, 0, 0, VRRP_AUTH_DATA_BYTES);
  return out;
}

/** Bytes of a VRRP packet with `count` addresses. */
export function advertisementLength(version: VrrpVersion, family: IpFamily, count: number): number {
  return VRRP_HEADER_BYTES + count * (family === 4 ? 4 : 16) + (version === 2 ? VRRP_AUTH_DATA_BYTES : 0);
}

/**
 * Encode an advertisement (the VRRP part; the IP header is separate). Byte order: every field is
 * network order. The checksum is computed over the result (v3: with `pseudo`, RFC 5798 §5.2.8).
 */
export function encodeAdvertisement(fields: AdvertisementFields, family: IpFamily, pseudo?: PseudoHeader): Buffer {
  if (family === 6 && fields.version === 2) throw new TypeError('version: VRRPv2 (RFC 3768) is IPv4 only; use version 3 for IPv6');
  const count = fields.addresses.length;
  if (count > 255) throw new RangeError(`addresses: ${count} addresses; an advertisement carries at most 255`);
  const out = Buffer.alloc(advertisementLength(fields.version, family, count));
  out[0] = (fields.version << 4) | ((fields.type ?? VRRP_TYPE_ADVERTISEMENT) & 0x0f);
  out[1] = fields.vrid;
  out[2] = fields.priority;
  out[3] = count;
  if (fields.version === 2) {
    if (fields.advertIntervalCs % 100 !== 0) throw new RangeError(`advertIntervalCs: ${fields.advertIntervalCs} is not whole seconds, as VRRPv2 requires`);
    out[4] = fields.authType;
    out[5] = fields.advertIntervalCs / 100;
  } else {
    out.writeUInt16BE(fields.advertIntervalCs & 0x0fff, 4); // 4 reserved bits stay zero
  }
  fields.addresses.forEach((address, i) => {
    const bytes = family === 4 ? encodeIPv4(address, `addresses[${i}]`) : encodeIPv6(address, `addresses[${i}]`);
    bytes.copy(out, VRRP_HEADER_BYTES + i * bytes.length);
  });
  if (fields.version === 2 && fields.authData) fields.authData.copy(out, out.length - VRRP_AUTH_DATA_BYTES, 0, VRRP_AUTH_DATA_BYTES);
  out.writeUInt16BE(advertisementChecksum(out, fields.version, family, pseudo), 6);
  return out;
}

/**
 * Decode the VRRP bytes of one datagram. Throws VrrpDecodeError (`truncated`, `length`, `version`)
 * for bytes that are no advertisement of a known version; the checksum is reported, not verified.
 */
export function decodeAdvertisement(data: Buffer, family: IpFamily): Advertisement {
  if (data.length < VRRP_HEADER_BYTES) {
    throw new VrrpDecodeError('truncated', `vrrp header too short. ${data.length} and expect at least ${VRRP_HEADER_BYTES}`);
  }
  const version = data[0]! >> 4;
  if (version !== 2 && version !== 3) throw new VrrpDecodeError('version', `invalid version. ${version} and expect 2 or 3`);
  if (version === 2 && family === 6) throw new VrrpDecodeError('version', 'invalid version. 2 over IPv6 (RFC 3768 is IPv4 only)');
  const count = data[3]!;
  const expected = advertisementLength(version, family, count);
  if (data.length < expected) {
    throw new VrrpDecodeError('truncated', `packet too short for ${count} addresses. ${data.length} and expect ${expected}`);
  }
  if (data.length > expected) {
    throw new VrrpDecodeError('length', `Received packet length mismatch against expected. ${data.length} and expect ${expected}`);
  }
  const size = family === 4 ? 4 : 16;
  const addresses: string[] = [];
  for (let i = 0; i < count; i++) {
    const bytes = data.subarray(VRRP_HEADER_BYTES + i * size, VRRP_HEADER_BYTES + (i + 1) * size);
    addresses.push(family === 4 ? formatIPv4(bytes) : formatIPv6(bytes));
  }
  const advert: Advertisement = {
    version,
    type: data[0]! & 0x0f,
    vrid: data[1]!,
    priority: data[2]!,
    advertIntervalCs: version === 2 ? data[5]! * 100 : data.readUInt16BE(4) & 0x0fff,
    authType: version === 2 ? data[4]! : AUTH_NONE,
    addresses,
    checksum: data.readUInt16BE(6),
  };
  if (version === 2) advert.authData = Buffer.from(data.subarray(expected - VRRP_AUTH_DATA_BYTES, expected));
  return advert;
}

/** The fields of an IPv4 header that VRRP cares about. */
export interface Ipv4Header {
  /** Header length in bytes (IHL × 4). */
  headerBytes: number;
  tos: number;
  totalLength: number;
  id: number;
  ttl: number;
  protocol: number;
  src: string;
  dst: string;
}

/**
 * The 20-byte IPv4 header keepalived writes with IP_HDRINCL: TOS 0xc0, no fragmentation, TTL 255,
 * protocol 112, header checksum filled in (the kernel would too). All fields network order.
 */
export function encodeIpv4Header(h: { src: string; dst: string; payloadBytes: number; id: number; ttl?: number; tos?: number }): Buffer {
  const out = Buffer.alloc(IPV4_HEADER_BYTES);
  out[0] = 0x45;
  out[1] = h.tos ?? TOS_NETWORK_CONTROL;
  out.writeUInt16BE(IPV4_HEADER_BYTES + h.payloadBytes, 2);
  out.writeUInt16BE(h.id & 0xffff, 4);
  out[8] = h.ttl ?? VRRP_TTL;
  out[9] = IPPROTO_VRRP;
  encodeIPv4(h.src, 'src').copy(out, 12);
  encodeIPv4(h.dst, 'dst').copy(out, 16);
  out.writeUInt16BE(internetChecksum([out]), 10);
  return out;
}

/** Decode the IPv4 header a raw socket hands over; VrrpDecodeError `ip-header`/`truncated` when it is not one. */
export function decodeIpv4Header(data: Buffer): Ipv4Header {
  if (data.length < IPV4_HEADER_BYTES) {
    throw new VrrpDecodeError('truncated', `ip/vrrp header too short. ${data.length} and expect at least ${IPV4_HEADER_BYTES + VRRP_HEADER_BYTES}`);
  }
  const headerBytes = (data[0]! & 0x0f) * 4;
  if (data[0]! >> 4 !== 4 || headerBytes < IPV4_HEADER_BYTES || headerBytes > data.length) {
    throw new VrrpDecodeError('ip-header', `not an IPv4 header (first byte 0x${data[0]!.toString(16).padStart(2, '0')}, ${data.length} bytes)`);
  }
  const totalLength = data.readUInt16BE(2);
  if (totalLength !== data.length) {
    throw new VrrpDecodeError('length', `ip_tot_len mismatch against received length. ${totalLength} and received ${data.length}`);
  }
  return {
    headerBytes,
    tos: data[1]!,
    totalLength,
    id: data.readUInt16BE(4),
    ttl: data[8]!,
    protocol: data[9]!,
    src: formatIPv4(data.subarray(12, 16)),
    dst: formatIPv4(data.subarray(16, 20)),
  };
}
