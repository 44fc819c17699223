// layer: behaviour (vrrp)
// job: the Ethernet frames that announce a VIP: gratuitous ARP (RFC 5227 §3 / RFC 826) and unsolicited neighbour advertisement (RFC 4861 §4.4, §7.2.6), as keepalived builds them.
import { encodeIPv4, encodeIPv6, formatIPv4, formatIPv6 } from '../bytes.js';
import { internetChecksum } from './packet.js';

/** Ethertypes and codes, network order on the wire. */
export const ETHERTYPE_IPV4 = 0x0800;
/** ETHERTYPE_ARP: the Ethernet type of ARP. */
export const ETHERTYPE_ARP = 0x0806;
/** ETHERTYPE_IPV6: the Ethernet type of IPv6. */
export const ETHERTYPE_IPV6 = 0x86dd;
const ARPHRD_ETHER = 1;
const ARPOP_REQUEST = 1;
const IPPROTO_ICMPV6 = 58;
/** ICMPv6 type of a neighbour advertisement (RFC 4861 §4.4). */
export const ND_NEIGHBOR_ADVERT = 136;
/** ND option: target link-layer address (RFC 4861 §4.6.1). */
const ND_OPT_TARGET_LL_ADDR = 2;
const ETH_HEADER_BYTES = 14;

/** `aa:bb:cc:dd:ee:ff` → 6 bytes. */
export function parseMac(text: string): Buffer {
  const parts = text.split(':');
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{2}$/.test(p))) throw new TypeError(`not a MAC address: ${JSON.stringify(text)}`);
  return Buffer.from(parts.map((p) => Number.parseInt(p, 16)));
}

/** 6 bytes → `aa:bb:cc:dd:ee:ff`. */
export function formatMac(mac: Buffer): string {
  return [...mac.subarray(0, 6)].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

function ethernet(dst: Buffer, src: Buffer, ethertype: number, payloadBytes: number): Buffer {
  const frame = Buffer.alloc(ETH_HEADER_BYTES + payloadBytes);
  dst.copy(frame, 0);
  src.copy(frame, 6, 0, 6);
  frame.writeUInt16BE(ethertype, 12);
  return frame;
}

/**
 * A gratuitous ARP request for `address` from `mac`, broadcast (keepalived vrrp_arp.c): sender and
 * target protocol address are the VIP, target hardware address ff:ff:ff:ff:ff:ff. 42 bytes.
 */
export function encodeGratuitousArp(mac: Buffer, address: string): Buffer {
  const frame = ethernet(Buffer.alloc(6, 0xff), mac, ETHERTYPE_ARP, 28);
  const ip = encodeIPv4(address, 'address');
  const arp = frame.subarray(ETH_HEADER_BYTES);
  arp.writeUInt16BE(ARPHRD_ETHER, 0);
  arp.writeUInt16BE(ETHERTYPE_IPV4, 2);
  arp[4] = 6;
  arp[5] = 4;
  arp.writeUInt16BE(ARPOP_REQUEST, 6);
  mac.copy(arp, 8, 0, 6);
  ip.copy(arp, 14);
  arp.fill(0xff, 18, 24);
  ip.copy(arp, 24);
  return frame;
}

/**
 * An unsolicited neighbour advertisement for `address` to all-nodes ff02::1 (Ethernet 33:33:00:00:00:01),
 * source the VIP itself, hop limit 255, Override set, Router when the interface forwards, and the
 * target link-layer address option. 86 bytes, ICMPv6 checksum over the IPv6 pseudo-header.
 */
export function encodeUnsolicitedNa(mac: Buffer, address: string, options: { router?: boolean } = {}): Buffer {
  const icmpBytes = 24 + 8;
  const frame = ethernet(Buffer.from([0x33, 0x33, 0, 0, 0, 1]), mac, ETHERTYPE_IPV6, 40 + icmpBytes);
  const ip6 = frame.subarray(ETH_HEADER_BYTES, ETH_HEADER_BYTES + 40);
  const src = encodeIPv6(address, 'address');
  const dst = encodeIPv6('ff02::1');
  ip6.writeUInt32BE(0x60000000, 0);
  ip6.writeUInt16BE(icmpBytes, 4);
  ip6[6] = IPPROTO_ICMPV6;
  ip6[7] = 255;
  src.copy(ip6, 8);
  dst.copy(ip6, 24);
  const icmp = frame.subarray(ETH_HEADER_BYTES + 40);
  icmp[0] = ND_NEIGHBOR_ADVERT;
  icmp[4] = (options.router ? 0x80 : 0) | 0x20; // R, (S = 0: unsolicited), O
  src.copy(icmp, 8);
  icmp[24] = ND_OPT_TARGET_LL_ADDR;
  icmp[25] = 1;
  mac.copy(icmp, 26, 0, 6);
  const pseudo = Buffer.alloc(40);
  src.copy(pseudo, 0);
  dst.copy(pseudo, 16);
  pseudo.writeUInt32BE(icmpBytes, 32);
  pseudo[39] = IPPROTO_ICMPV6;
  icmp.writeUInt16BE(internetChecksum([pseudo, icmp]), 2);
  return frame;
}

/** What an announcement frame says, for observers and tests. */
export interface Announcement {
  kind: 'garp' | 'na';
  /** Ethernet source. */
  mac: string;
  /** The announced address. */
  address: string;
  /** The link-layer address the frame binds it to (ARP sender / ND target option). */
  linkAddress: string;
}

/** Decode a gratuitous ARP or an unsolicited NA frame; undefined for any other frame. */
export function decodeAnnouncement(frame: Buffer): Announcement | undefined {
  if (frame.length < ETH_HEADER_BYTES) return undefined;
  const type = frame.readUInt16BE(12);
  const mac = formatMac(frame.subarray(6, 12));
  if (type === ETHERTYPE_ARP && frame.length >= ETH_HEADER_BYTES + 28) {
    const arp = frame.subarray(ETH_HEADER_BYTES);
    const sender = formatIPv4(arp.subarray(14, 18));
    if (arp.readUInt16BE(2) !== ETHERTYPE_IPV4 || sender !== formatIPv4(arp.subarray(24, 28))) return undefined;
    return { kind: 'garp', mac, address: sender, linkAddress: formatMac(arp.subarray(8, 14)) };
  }
  if (type === ETHERTYPE_IPV6 && frame.length >= ETH_HEADER_BYTES + 40 + 32) {
    const ip6 = frame.subarray(ETH_HEADER_BYTES);
    const icmp = ip6.subarray(40);
    if (ip6[6] !== IPPROTO_ICMPV6 || icmp[0] !== ND_NEIGHBOR_ADVERT || icmp[24] !== ND_OPT_TARGET_LL_ADDR) return undefined;
    return { kind: 'na', mac, address: formatIPv6(icmp.subarray(8, 24)), linkAddress: formatMac(icmp.subarray(26, 32)) };
  }
  return undefined;
}
