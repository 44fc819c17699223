// layer: test helpers (unit tier)
// job: the frames keepalived 2.2.7 sent (test/fixtures/vrrp), split into what a raw socket delivers.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface FixtureFile {
  mac: string;
  ipv4: string;
  peer: string;
  linkLocal: string;
  frames: Record<string, { config: string; frame: string }>;
}

const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'fixtures', 'vrrp', 'keepalived-2.2.7.json');
/** The capture: keepalived's MAC and addresses, and each named frame. */
export const keepalivedCapture = JSON.parse(readFileSync(file, 'utf8')) as FixtureFile;

/** A captured Ethernet frame by name. */
export function frame(name: string): Buffer {
  const f = keepalivedCapture.frames[name];
  if (!f) throw new Error(`no fixture frame ${name}`);
  return Buffer.from(f.frame, 'hex');
}

/** The IPv4 datagram of an IPv4 frame: what a raw IPv4 socket receives (IP header + VRRP). */
export function ipv4Datagram(name: string): Buffer {
  return frame(name).subarray(14);
}

/** The VRRP bytes of a frame, with the IP source and destination (IPv6: what a raw socket receives). */
export function vrrpOf(name: string): { vrrp: Buffer; src: string; dst: string; family: 4 | 6; ttl: number } {
  const f = frame(name);
  if (f.readUInt16BE(12) === 0x0800) {
    const ip = f.subarray(14);
    const ihl = (ip[0]! & 0x0f) * 4;
    return { vrrp: ip.subarray(ihl), src: [...ip.subarray(12, 16)].join('.'), dst: [...ip.subarray(16, 20)].join('.'), family: 4, ttl: ip[8]! };
  }
  const ip6 = f.subarray(14);
  const hex = (b: Buffer): string => b.toString('hex').match(/.{4}/g)!.join(':');
  return { vrrp: ip6.subarray(40), src: hex(ip6.subarray(8, 24)), dst: hex(ip6.subarray(24, 40)), family: 6, ttl: ip6[7]! };
}
