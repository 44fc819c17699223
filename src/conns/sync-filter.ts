// layer: kernel client (IPVS connections)
// job: the classic BPF program a packet socket uses to capture only IPVS sync datagrams (UDP to the sync ports), pure.
import { encodeAddress } from '../bytes.js';
import type { BpfInstruction } from '../native/structs.js';

/** The BPF opcodes and ancillary offsets the program uses, by their C names (binding().constants has them). */
export type BpfConstants = Record<
  'BPF_LD' | 'BPF_LDX' | 'BPF_JMP' | 'BPF_RET' | 'BPF_W' | 'BPF_H' | 'BPF_B' | 'BPF_ABS' | 'BPF_IND' | 'BPF_MSH' | 'BPF_JA' | 'BPF_JEQ'
  | 'BPF_JGT' | 'BPF_JGE' | 'BPF_JSET' | 'BPF_K' | 'SKF_AD_OFF' | 'SKF_AD_PROTOCOL' | 'SKF_AD_PKTTYPE' | 'PACKET_OUTGOING',
  number
>;

/** What the packet filter for captured sync traffic matches: sync ports, group address, direction. */
export interface SyncFilterSpec {
  /** First sync port (the daemon's mcast port, 8848 by default). */
  port: number;
  /** How many ports from `port` (net.ipv4.vs.sync_ports). Default 1. */
  ports?: number;
  /** Only datagrams to this group address (IPv4 or IPv6); any destination when absent. */
  group?: string;
  /** Only packets the host sends (PACKET_OUTGOING): the master's own sync stream. */
  outgoingOnly?: boolean;
}

const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;
const IPPROTO_UDP = 17;
/** What an accepting filter returns: bytes of the packet to keep. */
const KEEP_BYTES = 0x40000;

type Step = { code: number; k: number; jt?: string; jf?: string; label?: string };

/**
 * The program for a SOCK_DGRAM packet socket (offsets from the network header): IPv4 or IPv6,
 * UDP, not a non-first fragment, destination port in [port, port + ports), optionally to
 * `group`, optionally outgoing only. Everything else is dropped in the kernel.
 */
export function syncCaptureFilter(spec: SyncFilterSpec, k: BpfConstants): BpfInstruction[] {
  const ports = spec.ports ?? 1;
  const ld = (size: number, mode: number, off: number): Step => ({ code: k.BPF_LD | size | mode, k: off });
  const jeq = (value: number, jt: string, jf: string): Step => ({ code: k.BPF_JMP | k.BPF_JEQ | k.BPF_K, k: value, jt, jf });
  const group = spec.group === undefined ? undefined : encodeAddress(spec.group);
  const steps: Step[] = [];
  if (spec.outgoingOnly) {
    steps.push(ld(k.BPF_W, k.BPF_ABS, k.SKF_AD_OFF + k.SKF_AD_PKTTYPE), jeq(k.PACKET_OUTGOING, 'next', 'drop'));
  }
  steps.push(ld(k.BPF_W, k.BPF_ABS, k.SKF_AD_OFF + k.SKF_AD_PROTOCOL));
  steps.push(jeq(ETH_P_IP, group?.length === 16 ? 'drop' : 'v4', 'next'));
  steps.push(jeq(ETH_P_IPV6, group?.length === 4 ? 'drop' : 'v6', 'drop'));
  // IPv4: protocol UDP, fragment offset 0, destination group, then the UDP port behind the options.
  steps.push({ ...ld(k.BPF_B, k.BPF_ABS, 9), label: 'v4' }, jeq(IPPROTO_UDP, 'next', 'drop'));
  steps.push(ld(k.BPF_H, k.BPF_ABS, 6), { code: k.BPF_JMP | k.BPF_JSET | k.BPF_K, k: 0x1fff, jt: 'drop', jf: 'next' });
  if (group?.length === 4) steps.push(ld(k.BPF_W, k.BPF_ABS, 16), jeq(group.readUInt32BE(0), 'next', 'drop'));
  steps.push({ code: k.BPF_LDX | k.BPF_B | k.BPF_MSH, k: 0 }, ld(k.BPF_H, k.BPF_IND, 2));
  steps.push({ code: k.BPF_JMP | k.BPF_JA, k: 0, jt: 'port' });
  // IPv6: next header UDP (sync datagrams carry no extension headers), destination group, port.
  steps.push({ ...ld(k.BPF_B, k.BPF_ABS, 6), label: 'v6' }, jeq(IPPROTO_UDP, 'next', 'drop'));
  if (group?.length === 16) {
    for (let w = 0; w < 4; w++) steps.push(ld(k.BPF_W, k.BPF_ABS, 24 + 4 * w), jeq(group.readUInt32BE(4 * w), 'next', 'drop'));
  }
  steps.push(ld(k.BPF_H, k.BPF_ABS, 42));
  steps.push({ code: k.BPF_JMP | k.BPF_JGE | k.BPF_K, k: spec.port, jt: 'next', jf: 'drop', label: 'port' });
  steps.push({ code: k.BPF_JMP | k.BPF_JGT | k.BPF_K, k: spec.port + ports - 1, jt: 'drop', jf: 'next' });
  steps.push({ code: k.BPF_RET | k.BPF_K, k: KEEP_BYTES });
  steps.push({ code: k.BPF_RET | k.BPF_K, k: 0, label: 'drop' });
  return assemble(steps, k);
}

/** Resolve labels ('next' = the following instruction) to the relative offsets BPF jumps take. */
function assemble(steps: Step[], k: BpfConstants): BpfInstruction[] {
  const at = new Map<string, number>();
  steps.forEach((s, i) => { if (s.label) at.set(s.label, i); });
  const offset = (from: number, label: string | undefined): number => {
    if (label === undefined || label === 'next') return 0;
    const to = at.get(label);
    if (to === undefined || to <= from || to - from - 1 > 255) throw new Error(`BPF jump to ${label} from ${from} cannot be encoded`);
    return to - from - 1;
  };
  return steps.map((s, i) => {
    if (s.code === (k.BPF_JMP | k.BPF_JA)) return { code: s.code, jt: 0, jf: 0, k: offset(i, s.jt) };
    return { code: s.code, jt: offset(i, s.jt), jf: offset(i, s.jf), k: s.k >>> 0 };
  });
}
