// layer: native boundary
// job: the kernel's socket-option structs (ip_mreqn, ipv6_mreq, packet_mreq, sock_filter), byte order explicit per field.
import { encodeIPv4, encodeIPv6, writeU16Host, writeU32Host } from '../bytes.js';

/** One classic BPF instruction (struct sock_filter). */
export interface BpfInstruction { code: number; jt: number; jf: number; k: number }

/** struct ip_mreqn: multiaddr (network order), local address (network order), ifindex (host order). */
export function encodeIpMreqn(group: string, ifindex: number, local = '0.0.0.0'): Buffer {
  const out = Buffer.alloc(12);
  encodeIPv4(group, 'group').copy(out, 0);
  encodeIPv4(local, 'local').copy(out, 4);
  writeU32Host(out, ifindex >>> 0, 8);
  return out;
}

/** struct ipv6_mreq: multiaddr (network order), interface index (host order). */
export function encodeIpv6Mreq(group: string, ifindex: number): Buffer {
  const out = Buffer.alloc(20);
  encodeIPv6(group, 'group').copy(out, 0);
  writeU32Host(out, ifindex >>> 0, 16);
  return out;
}

/** struct packet_mreq: ifindex (host), type PACKET_MR_* (host u16), address length (host u16), address[8]. */
export function encodePacketMreq(ifindex: number, type: number, addr: Buffer = Buffer.alloc(0)): Buffer {
  if (addr.length > 8) throw new TypeError('addr must be at most 8 bytes');
  const out = Buffer.alloc(16);
  writeU32Host(out, ifindex >>> 0, 0);
  writeU16Host(out, type, 4);
  writeU16Host(out, addr.length, 6);
  addr.copy(out, 8);
  return out;
}

/** An array of struct sock_filter: code (host u16), jt (u8), jf (u8), k (host u32). */
export function encodeSockFilter(instructions: readonly BpfInstruction[]): Buffer {
  const out = Buffer.alloc(instructions.length * 8);
  instructions.forEach((ins, i) => {
    writeU16Host(out, ins.code, i * 8);
    out.writeUInt8(ins.jt, i * 8 + 2);
    out.writeUInt8(ins.jf, i * 8 + 3);
    writeU32Host(out, ins.k >>> 0, i * 8 + 4);
  });
  return out;
}
