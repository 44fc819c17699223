// layer: test helpers (unit)
// job: a classic BPF interpreter for the instructions lvskit's filters use, to check a program on crafted packets without root.
import type { BpfInstruction } from '../../src/native/structs.js';

/** The kernel's constants for the opcodes (include/uapi/linux/filter.h, bpf_common.h) and ancillary offsets. */
export const BPF = {
  BPF_LD: 0x00, BPF_LDX: 0x01, BPF_JMP: 0x05, BPF_RET: 0x06, BPF_W: 0x00, BPF_H: 0x08, BPF_B: 0x10, BPF_ABS: 0x20, BPF_IND: 0x40,
  BPF_MSH: 0xa0, BPF_JA: 0x00, BPF_JEQ: 0x10, BPF_JGT: 0x20, BPF_JGE: 0x30, BPF_JSET: 0x40, BPF_K: 0x00,
  SKF_AD_OFF: -0x1000, SKF_AD_PROTOCOL: 0, SKF_AD_PKTTYPE: 4, PACKET_OUTGOING: 4,
} as const;

/** Context of a packet on a SOCK_DGRAM packet socket: bytes from the network header, skb->protocol, pkt_type. */
export interface BpfPacket { data: Buffer; protocol: number; pktType: number }

/** Run `program` on `packet`: the number of bytes it keeps (0 = dropped). Throws on an instruction it does not know. */
export function runBpf(program: readonly BpfInstruction[], packet: BpfPacket): number {
  let a = 0;
  let x = 0;
  const load = (size: number, offset: number): number | undefined => {
    if (offset >= (BPF.SKF_AD_OFF >>> 0) || offset < 0) {
      const ad = (offset | 0) - BPF.SKF_AD_OFF;
      if (ad === BPF.SKF_AD_PROTOCOL) return packet.protocol;
      if (ad === BPF.SKF_AD_PKTTYPE) return packet.pktType;
      throw new Error(`ancillary load ${ad} not supported`);
    }
    const width = size === BPF.BPF_W ? 4 : size === BPF.BPF_H ? 2 : 1;
    if (offset + width > packet.data.length) return undefined; // the kernel drops the packet
    return width === 4 ? packet.data.readUInt32BE(offset) : width === 2 ? packet.data.readUInt16BE(offset) : packet.data[offset];
  };
  for (let pc = 0; pc < program.length; pc++) {
    const ins = program[pc] as BpfInstruction;
    const cls = ins.code & 0x07;
    if (cls === BPF.BPF_RET) return ins.k;
    if (cls === BPF.BPF_LD) {
      const mode = ins.code & 0xe0;
      const value = load(ins.code & 0x18, mode === BPF.BPF_IND ? x + ins.k : ins.k);
      if (value === undefined) return 0;
      a = value;
    } else if (cls === BPF.BPF_LDX && (ins.code & 0xe0) === BPF.BPF_MSH) {
      const b = load(BPF.BPF_B, ins.k);
      if (b === undefined) return 0;
      x = (b & 0x0f) * 4;
    } else if (cls === BPF.BPF_JMP) {
      const op = ins.code & 0xf0;
      if (op === BPF.BPF_JA) { pc += ins.k; continue; }
      const taken = op === BPF.BPF_JEQ ? a === ins.k : op === BPF.BPF_JGT ? a > ins.k : op === BPF.BPF_JGE ? a >= ins.k : (a & ins.k) !== 0;
      pc += taken ? ins.jt : ins.jf;
    } else {
      throw new Error(`instruction ${ins.code.toString(16)} not supported`);
    }
  }
  throw new Error('program fell off its end');
}

/** An IPv4 UDP packet (no options unless given) carrying `payload`. */
export function ipv4Udp(o: { from?: string; to?: string; destPort: number; payload: Buffer; options?: Buffer; fragmentOffset?: number; moreFragments?: boolean; protocol?: number }): Buffer {
  const opts = o.options ?? Buffer.alloc(0);
  const ihl = 20 + opts.length;
  const b = Buffer.alloc(ihl + 8 + o.payload.length);
  b[0] = 0x40 | (ihl / 4);
  b.writeUInt16BE(b.length, 2);
  b.writeUInt16BE(((o.moreFragments ? 0x2000 : 0) | (o.fragmentOffset ?? 0)) & 0xffff, 6);
  b[8] = 1;
  b[9] = o.protocol ?? 17;
  Buffer.from((o.from ?? '10.9.0.1').split('.').map(Number)).copy(b, 12);
  Buffer.from((o.to ?? '224.0.0.81').split('.').map(Number)).copy(b, 16);
  opts.copy(b, 20);
  b.writeUInt16BE(40000, ihl);
  b.writeUInt16BE(o.destPort, ihl + 2);
  b.writeUInt16BE(8 + o.payload.length, ihl + 4);
  o.payload.copy(b, ihl + 8);
  return b;
}

/** An IPv6 UDP packet carrying `payload` (16-byte addresses given as buffers). */
export function ipv6Udp(o: { from: Buffer; to: Buffer; destPort: number; payload: Buffer; nextHeader?: number }): Buffer {
  const b = Buffer.alloc(40 + 8 + o.payload.length);
  b[0] = 0x60;
  b.writeUInt16BE(8 + o.payload.length, 4);
  b[6] = o.nextHeader ?? 17;
  b[7] = 1;
  o.from.copy(b, 8);
  o.to.copy(b, 24);
  b.writeUInt16BE(40000, 40);
  b.writeUInt16BE(o.destPort, 42);
  b.writeUInt16BE(8 + o.payload.length, 44);
  o.payload.copy(b, 48);
  return b;
}
