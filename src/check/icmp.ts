// layer: behaviour (check, pure)
// job: ICMP and ICMPv6 echo (RFC 792, RFC 4443): encode a request, decode a reply as a raw socket hands it (IPv4 with its header, IPv6 without).

/** ICMP_ECHO / ICMP_ECHOREPLY, ICMP6_ECHO_REQUEST / ICMP6_ECHO_REPLY. */
export const ICMP = { echoRequest: 8, echoReply: 0 } as const;
export const ICMPV6 = { echoRequest: 128, echoReply: 129 } as const;
/** IPPROTO_ICMP, IPPROTO_ICMPV6. */
export const IPPROTO_ICMP = 1;
export const IPPROTO_ICMPV6 = 58;

export interface IcmpEcho {
  type: number;
  code: number;
  identifier: number;
  sequence: number;
  payload: Buffer;
}

/** The Internet checksum (RFC 1071) of `buf`. */
export function internetChecksum(buf: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < buf.length; i += 2) sum += ((buf[i] as number) << 8) | (buf[i + 1] as number);
  if (buf.length % 2 === 1) sum += (buf[buf.length - 1] as number) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * An echo request. For IPv4 the checksum is computed here; for ICMPv6 it is left 0, the kernel
 * fills it on raw IPPROTO_ICMPV6 sockets (RFC 3542 §3.1).
 */
export function encodeEchoRequest(v6: boolean, identifier: number, sequence: number, payload: Buffer): Buffer {
  const out = Buffer.alloc(8 + payload.length);
  out[0] = v6 ? ICMPV6.echoRequest : ICMP.echoRequest;
  out.writeUInt16BE(identifier & 0xffff, 4);
  out.writeUInt16BE(sequence & 0xffff, 6);
  payload.copy(out, 8);
  if (!v6) out.writeUInt16BE(internetChecksum(out), 2);
  return out;
}

/**
 * An echo message from what a raw socket received: IPv4 datagrams start with the IP header (its
 * length from IHL), ICMPv6 ones with the ICMP header. Undefined for anything that is not a
 * well-formed echo (another ICMP type, a truncated packet, a bad IPv4 checksum).
 */
export function decodeEcho(v6: boolean, packet: Uint8Array): IcmpEcho | undefined {
  let icmp = Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
  if (!v6) {
    if (icmp.length < 20 || (icmp[0]! >> 4) !== 4) return undefined;
    const ihl = (icmp[0]! & 0xf) * 4;
    if (ihl < 20 || icmp.length < ihl + 8 || icmp[9] !== IPPROTO_ICMP) return undefined;
    icmp = icmp.subarray(ihl);
    if (internetChecksum(icmp) !== 0) return undefined;
  } else if (icmp.length < 8) return undefined;
  const type = icmp[0]!;
  const echo = v6 ? type === ICMPV6.echoReply || type === ICMPV6.echoRequest : type === ICMP.echoReply || type === ICMP.echoRequest;
  if (!echo) return undefined;
  return { type, code: icmp[1]!, identifier: icmp.readUInt16BE(4), sequence: icmp.readUInt16BE(6), payload: Buffer.from(icmp.subarray(8)) };
}
