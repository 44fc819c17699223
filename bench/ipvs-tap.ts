// layer: benchmarks
// job: every IPVS request any process of a namespace sends the kernel, seen on an nlmon device (kernel-timestamped, decoded to command and real server): what a daemon really did to the table.
import { binding } from '../src/native/binding.js';
import { openSocket, type Socket } from '../src/native/socket.js';
import { IpvsClient } from '../src/ipvs/client.js';
import * as K from '../src/ipvs/constants.js';
import { forEachAttr } from '../src/netlink/attr.js';

const N = binding().constants as Record<string, number>;

/** Commands that change the kernel's table or IPVS settings (the rest only read). */
const WRITES = new Set([K.IPVS_CMD_NEW_SERVICE, K.IPVS_CMD_SET_SERVICE, K.IPVS_CMD_DEL_SERVICE, K.IPVS_CMD_NEW_DEST, K.IPVS_CMD_SET_DEST,
  K.IPVS_CMD_DEL_DEST, K.IPVS_CMD_NEW_DAEMON, K.IPVS_CMD_DEL_DAEMON, K.IPVS_CMD_SET_CONFIG, K.IPVS_CMD_ZERO, K.IPVS_CMD_FLUSH]);

/** One IPVS request as the kernel received it. */
export interface TappedRequest {
  /** When the nlmon device passed it on (CLOCK_MONOTONIC ms; the kernel's timestamp of the tapped frame). */
  atMs: number;
  /** `IPVS_CMD_SET_DEST` → `SET_DEST`. */
  command: string;
  write: boolean;
  /** The sender's netlink port id. */
  portId: number;
  /** For a real-server command: `address:port` and the weight asked for (when given). */
  destination?: string;
  weight?: number;
}

const NLMSG_HDRLEN = 16;
const NLM_F_REQUEST = 1;

/** A real server's address (IPv4) and port, and weight, from the IPVS_CMD_ATTR_DEST nest of a request. */
function destinationOf(buf: Buffer, start: number, end: number): { destination?: string; weight?: number } {
  const out: { destination?: string; weight?: number } = {};
  forEachAttr(buf, start, end, (type, at, length) => {
    if (type !== K.IPVS_CMD_ATTR_DEST) return;
    let address: string | undefined;
    let port: number | undefined;
    forEachAttr(buf, at, at + length, (t, a, l) => {
      if (t === K.IPVS_DEST_ATTR_ADDR && l >= 4) address = `${buf[a]}.${buf[a + 1]}.${buf[a + 2]}.${buf[a + 3]}`;
      else if (t === K.IPVS_DEST_ATTR_PORT && l >= 2) port = buf.readUInt16BE(a);
      else if (t === K.IPVS_DEST_ATTR_WEIGHT && l >= 4) out.weight = buf.readUInt32LE(a);
    });
    if (address !== undefined) out.destination = `${address}:${port ?? 0}`;
  });
  return out;
}

/**
 * Captures the IPVS requests of one namespace: an `nlmon` device there (the kernel copies every
 * netlink message of the namespace to it) and a packet socket on it whose filter keeps only
 * requests (NLM_F_REQUEST) of the IPVS generic-netlink family. A frame may hold several messages
 * (lvskit packs many into one datagram): each is counted. Timestamps are the kernel's.
 */
export class IpvsTap {
  readonly requests: TappedRequest[] = [];
  /** Frames the kernel dropped before this socket read them (PACKET_STATISTICS): must stay 0 for the counts to be whole. */
  #socket: Socket;

  private constructor(socket: Socket, readonly familyId: number, readonly device: string) {
    this.#socket = socket;
  }

  /** `ip link add DEVICE type nlmon` in `netns` (run with `sh`), then the capture. */
  static async open(netns: string, ip: (...args: string[]) => Promise<unknown>, device = 'nlmon0'): Promise<IpvsTap> {
    const client = IpvsClient.open({ netns });
    const familyId = (await client.ready()).id;
    client.close();
    await ip('link', 'add', device, 'type', 'nlmon');
    await ip('link', 'set', device, 'up');
    const socket = openSocket({ family: 'packet', type: 'raw', protocol: N.ETH_P_ALL!, netns, maxDatagramBytes: 1 << 20, maxPerWakeup: 256 });
    socket.setReceiveBuffer(64 << 20, true);
    // nlmsg_type (host order, little-endian: BPF loads big-endian) is the IPVS family; NLM_F_REQUEST set.
    const swapped = ((familyId & 0xff) << 8) | (familyId >> 8);
    socket.attachFilter([
      { code: 0x28, jt: 0, jf: 0, k: 4 }, //           ldh [4]
      { code: 0x15, jt: 0, jf: 3, k: swapped }, //     jeq #family, next, drop
      { code: 0x30, jt: 0, jf: 0, k: 6 }, //           ldb [6]   (low byte of nlmsg_flags)
      { code: 0x45, jt: 0, jf: 1, k: NLM_F_REQUEST }, // jset #NLM_F_REQUEST, accept, drop
      { code: 0x06, jt: 0, jf: 0, k: 0xffffffff }, //  ret accept
      { code: 0x06, jt: 0, jf: 0, k: 0 }, //           ret drop
    ]);
    const ifindex = await ifindexOf(netns, device);
    socket.bind({ family: 'packet', ifindex, protocol: N.ETH_P_ALL! });
    socket.setReceiveTimestamps(true);
    const tap = new IpvsTap(socket, familyId, device);
    socket.on('message', (data, info) => {
      const atMs = info.receivedMonoNs !== undefined ? info.receivedMonoNs / 1e6 : Number(process.hrtime.bigint()) / 1e6;
      tap.#take(data, atMs);
    });
    socket.on('error', (error) => { throw error; });
    return tap;
  }

  #take(data: Buffer, atMs: number): void {
    for (let at = 0; at + NLMSG_HDRLEN <= data.length;) {
      const length = data.readUInt32LE(at);
      if (length < NLMSG_HDRLEN) break;
      const type = data.readUInt16LE(at + 4);
      const flags = data.readUInt16LE(at + 6);
      if (type === this.familyId && (flags & NLM_F_REQUEST) !== 0) {
        const cmd = data[at + NLMSG_HDRLEN] ?? 0;
        const request: TappedRequest = {
          atMs, command: (K.IPVS_CMD_NAMES[cmd] ?? `cmd ${cmd}`).replace(/^IPVS_CMD_/, ''), write: WRITES.has(cmd), portId: data.readUInt32LE(at + 12),
          ...(cmd === K.IPVS_CMD_NEW_DEST || cmd === K.IPVS_CMD_SET_DEST || cmd === K.IPVS_CMD_DEL_DEST
            ? destinationOf(data, at + NLMSG_HDRLEN + 4, Math.min(at + length, data.length)) : {}),
        };
        this.requests.push(request);
      }
      at += (length + 3) & ~3;
    }
  }

  /**
   * How late a tapped request's timestamp is against the moment it was sent: one request sent at a
   * known time, then the event loop kept busy for `busyMs` before the capture is read. A lag near 0
   * (not near `busyMs`) shows the timestamps are the kernel's, taken when the request went in.
   */
  async calibrate(netns: string, busyMs = 50): Promise<number> {
    const socket = openSocket({ family: 'netlink', type: 'raw', protocol: 16 /* NETLINK_GENERIC */, netns });
    try {
      const request = Buffer.alloc(NLMSG_HDRLEN + 4);
      request.writeUInt32LE(request.length, 0);
      request.writeUInt16LE(this.familyId, 4);
      request.writeUInt16LE(NLM_F_REQUEST | 4 /* NLM_F_ACK */, 6);
      request.writeUInt32LE(1, 8);
      request[NLMSG_HDRLEN] = K.IPVS_CMD_GET_INFO;
      request[NLMSG_HDRLEN + 1] = K.IPVS_GENL_VERSION;
      const from = this.requests.length;
      const sentMs = Number(process.hrtime.bigint()) / 1e6;
      await socket.send(request, { family: 'netlink', pid: 0 }); // sent at once (sendmsg in the call)
      while (Number(process.hrtime.bigint()) / 1e6 - sentMs < busyMs) { /* busy: the capture waits unread */ }
      for (let i = 0; i < 100 && !this.requests.slice(from).some((r) => r.command === 'GET_INFO'); i++) await new Promise((r) => setTimeout(r, 10));
      const seen = this.requests.slice(from).find((r) => r.command === 'GET_INFO');
      if (!seen) throw new Error('the nlmon capture did not see a GET_INFO request');
      return seen.atMs - sentMs;
    } finally {
      socket.close();
    }
  }

  /** Frames dropped for want of buffer space since the last call (struct tpacket_stats.tp_drops). */
  drops(): number {
    const stats = this.#socket.getOption(N.SOL_PACKET!, 6 /* PACKET_STATISTICS */, 8);
    return stats.readUInt32LE(4);
  }

  /** Writes (table or settings changes) in [fromMs, toMs). */
  writes(fromMs: number, toMs = Infinity): TappedRequest[] {
    return this.requests.filter((r) => r.write && r.atMs >= fromMs && r.atMs < toMs);
  }

  close(): void {
    this.#socket.close();
  }
}

/** `{ SET_DEST: 1 }` for a list of requests. */
export function countByCommand(requests: readonly TappedRequest[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of requests) counts[r.command] = (counts[r.command] ?? 0) + 1;
  return counts;
}

async function ifindexOf(netns: string, device: string): Promise<number> {
  const { execFileSync } = await import('node:child_process');
  const [link] = JSON.parse(execFileSync('ip', ['-j', '-n', netns, 'link', 'show', 'dev', device], { encoding: 'utf8' })) as Array<{ ifindex: number }>;
  if (!link) throw new Error(`no ${device} in ${netns}`);
  return link.ifindex;
}
