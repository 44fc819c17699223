// layer: behaviour (vrrp)
// job: receive validation as RFC 3768 §7.1 / RFC 5798 §7.1 require: every dropped datagram gets a reason and keepalived's log text.
import { encodeAddress } from '../bytes.js';
import { AUTH_AH, AUTH_NONE, AUTH_PASS, VRRP_TTL, VRRP_TYPE_ADVERTISEMENT } from './constants.js';
import {
  advertisementChecksum, decodeAdvertisement, decodeIpv4Header, VrrpDecodeError, type Advertisement, type IpFamily,
  type VrrpVersion,
} from './packet.js';

/** Every reason a received datagram is dropped; each has its own counter. */
export const DROP_REASONS = [
  'truncated', 'length', 'ip-header', 'ttl', 'version', 'type', 'vrid', 'checksum', 'auth-type', 'auth',
  'address-count', 'address-list', 'interval',
] as const;
/** Why a received advert was dropped. */
export type DropReason = (typeof DROP_REASONS)[number];
/** Dropped adverts counted by reason. */
export type DropCounters = Record<DropReason, number>;

/** A zeroed counter per reason. */
export function emptyDropCounters(): DropCounters {
  return Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as DropCounters;
}

/** What one instance accepts (its side of the RFC's checks). */
export interface ReceivePolicy {
  family: IpFamily;
  version: VrrpVersion;
  vrid: number;
  /** Configured advertisement interval (v2 must match it exactly, RFC 3768 §7.1). */
  advertIntervalCs: number;
  /** v2 `auth_type PASS`: the 8 password bytes (encodePassword); undefined for no authentication. */
  authData?: Buffer;
  /** The virtual addresses, as configured. */
  addresses: readonly string[];
  /** Unicast mode: the TTL / hop limit check does not apply (adverts may cross routers). */
  unicast: boolean;
}

/** A datagram as the socket delivered it: the VRRP bytes and what the IP layer said about them. */
export interface ReceivedDatagram {
  family: IpFamily;
  /** The VRRP packet (after the IPv4 header; IPv6 raw sockets deliver the payload alone). */
  vrrp: Buffer;
  src: string;
  dst: string;
  /** TTL (IPv4 header) or hop limit (IPV6_RECVHOPLIMIT). */
  ttl: number;
}

/** The verdict on a received advert: accepted, or dropped with the reason. */
export type CheckResult =
  | { ok: true; advert: Advertisement }
  | { ok: false; reason: DropReason; message: string; advert?: Advertisement };

/** Split what an IPv4 raw socket delivers (IP header + VRRP) into a ReceivedDatagram; a drop when the header is bad. */
export function parseIpv4Datagram(data: Buffer): { ok: true; datagram: ReceivedDatagram } | { ok: false; reason: DropReason; message: string } {
  try {
    const ip = decodeIpv4Header(data);
    return { ok: true, datagram: { family: 4, vrrp: data.subarray(ip.headerBytes), src: ip.src, dst: ip.dst, ttl: ip.ttl } };
  } catch (error) {
    if (error instanceof VrrpDecodeError) return { ok: false, reason: error.reason, message: error.message };
    throw error;
  }
}

/**
 * What a raw socket of `family` delivered → a ReceivedDatagram. IPv4 sockets deliver the IP header
 * (TTL, addresses from it); IPv6 sockets deliver the payload, with source, destination and hop
 * limit from the ancillary data (IPV6_RECVPKTINFO, IPV6_RECVHOPLIMIT).
 */
export function readDatagram(family: IpFamily, data: Buffer, info: { src?: string; dst?: string; ttl?: number }):
  { ok: true; datagram: ReceivedDatagram } | { ok: false; reason: DropReason; message: string } {
  if (family === 4) return parseIpv4Datagram(data);
  if (info.src === undefined || info.dst === undefined || info.ttl === undefined) {
    return { ok: false, reason: 'ip-header', message: 'IPv6 datagram without source, destination or hop limit (ancillary data missing)' };
  }
  return { ok: true, datagram: { family: 6, vrrp: data, src: info.src, dst: info.dst, ttl: info.ttl } };
}

/** The VRID of a datagram's VRRP bytes, undefined when too short to say (used to pick the instance). */
export function peekVrid(vrrp: Buffer): number | undefined {
  return vrrp.length >= 2 ? vrrp[1] : undefined;
}

const AUTH_NAMES: Record<number, string> = { [AUTH_NONE]: 'none', [AUTH_PASS]: 'PASS', [AUTH_AH]: 'AH' };

/**
 * Check one datagram against an instance, in the order of RFC 3768 §7.1 / RFC 5798 §7.1:
 * TTL, version, type, VRID, length, checksum, (v2) auth type and password, (v2) interval, then the
 * address count and list (RFC "MAY verify"; keepalived drops a mismatch and logs it, and so do we).
 * Never throws on bad input: every failure is a drop with a reason and keepalived's message.
 */
export function checkAdvertisement(policy: ReceivePolicy, d: ReceivedDatagram): CheckResult {
  if (!policy.unicast && d.ttl !== VRRP_TTL) {
    return { ok: false, reason: 'ttl', message: `invalid ttl. ${d.ttl} and expect ${VRRP_TTL}` };
  }
  const version = d.vrrp.length > 0 ? d.vrrp[0]! >> 4 : undefined;
  if (version !== undefined && version !== policy.version) {
    return { ok: false, reason: 'version', message: `invalid version. ${version} and expect ${policy.version}` };
  }
  let advert: Advertisement;
  try {
    advert = decodeAdvertisement(d.vrrp, d.family);
  } catch (error) {
    if (error instanceof VrrpDecodeError) return { ok: false, reason: error.reason, message: error.message };
    throw error;
  }
  if (advert.type !== VRRP_TYPE_ADVERTISEMENT) {
    return { ok: false, reason: 'type', message: `Invalid packet type. ${advert.type} and expect ${VRRP_TYPE_ADVERTISEMENT}`, advert };
  }
  if (advert.vrid !== policy.vrid) {
    return { ok: false, reason: 'vrid', message: `received VRID mismatch. Received ${advert.vrid}, Expected ${policy.vrid}`, advert };
  }
  if (!checksumOk(d, advert.version)) {
    return { ok: false, reason: 'checksum', message: `Invalid VRRPv${advert.version} checksum`, advert };
  }
  if (advert.version === 2) {
    const drop = checkV2(policy, advert);
    if (drop) return drop;
  }
  return checkAddresses(policy, advert) ?? { ok: true, advert };
}

function checksumOk(d: ReceivedDatagram, version: VrrpVersion): boolean {
  try {
    return advertisementChecksum(d.vrrp, version, d.family, { src: d.src, dst: d.dst }) === 0;
  } catch {
    return false; // unparseable src/dst cannot come from a kernel; treat as corrupt
  }
}

/** RFC 3768 §7.1: auth type, password, and an interval equal to ours. */
function checkV2(policy: ReceivePolicy, advert: Advertisement): CheckResult | undefined {
  const mine = policy.authData ? AUTH_PASS : AUTH_NONE;
  if (advert.authType !== AUTH_NONE && advert.authType !== AUTH_PASS && advert.authType !== AUTH_AH) {
    return { ok: false, reason: 'auth-type', message: `Invalid auth type: ${advert.authType}`, advert };
  }
  if (advert.authType !== mine) {
    return {
      ok: false, reason: 'auth-type', advert,
      message: `received a ${advert.authType} auth, expecting ${mine}! (${AUTH_NAMES[advert.authType]} vs ${AUTH_NAMES[mine]})`,
    };
  }
  if (policy.authData && !policy.authData.equals(advert.authData ?? Buffer.alloc(0))) {
    return { ok: false, reason: 'auth', message: 'received an invalid passwd!', advert };
  }
  if (advert.advertIntervalCs !== policy.advertIntervalCs) {
    return {
      ok: false, reason: 'interval', advert,
      message: `advertisement interval mismatch mine=${policy.advertIntervalCs / 100} sec rcved=${advert.advertIntervalCs / 100} sec`,
    };
  }
  return undefined;
}

/** Count first, then every configured address must be in the advert (order is free), as keepalived checks. */
function checkAddresses(policy: ReceivePolicy, advert: Advertisement): CheckResult | undefined {
  if (advert.addresses.length !== policy.addresses.length) {
    return {
      ok: false, reason: 'address-count', advert,
      message: `received an invalid ip number count ${advert.addresses.length}, expected ${policy.addresses.length}!`,
    };
  }
  const received = new Set(advert.addresses.map((a) => encodeAddress(a).toString('hex')));
  for (const address of policy.addresses) {
    if (!received.has(encodeAddress(address).toString('hex'))) {
      return {
        ok: false, reason: 'address-list', advert,
        message: `ip address associated with VRID ${policy.vrid} not present in MASTER advert : ${address}`,
      };
    }
  }
  return undefined;
}
