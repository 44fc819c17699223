// layer: kernel client (IPVS connections)
// job: the MASTER source: capture the host's own outgoing sync datagrams with a packet socket and a BPF filter, and decode them.
import { formatIPv4, formatIPv6 } from '../bytes.js';
import { binding } from '../native/binding.js';
import { openSocket, type Socket } from '../native/socket.js';
import { interfaceIndex } from './sync-receiver.js';
import { syncCaptureFilter, type BpfConstants } from './sync-filter.js';
import { SyncStream, syncDefaults, type SyncStreamOptions } from './sync-source.js';

/** Options of `SyncCapture.open()`: the interface whose outgoing sync packets are captured (on the master). */
export interface SyncCaptureOptions extends SyncStreamOptions {
  /** Capture datagrams in both directions (default: only outgoing, i.e. this host's own master stream). */
  bothDirections?: boolean;
  /** SO_RCVBUF; default 4 MiB (forced past net.core.rmem_max). */
  receiveBufferBytes?: number;
}

/** The UDP payload of an IPv4 or IPv6 packet and its addressing; a string saying why not. */
export interface UdpDatagram {
  from: string;
  to: string;
  destPort: number;
  payload: Buffer;
}

/**
 * Parse the IP and UDP headers of a packet captured from the network header on. IPv4 options
 * are skipped; fragments and IPv6 extension headers are refused (sync datagrams fit the MTU and
 * carry none). A packet shorter than its headers say is 'capture-truncated'.
 */
export function decodeUdpPacket(packet: Buffer): UdpDatagram | 'not-sync' | 'capture-truncated' {
  if (packet.length < 1) return 'capture-truncated';
  const version = (packet[0] as number) >> 4;
  let udp: number;
  let end: number;
  let from: string;
  let to: string;
  if (version === 4) {
    if (packet.length < 20) return 'capture-truncated';
    const ihl = ((packet[0] as number) & 0x0f) * 4;
    if (ihl < 20 || packet[9] !== 17 || (packet.readUInt16BE(6) & 0x3fff) !== 0) return 'not-sync'; // not UDP, or a fragment
    end = packet.readUInt16BE(2);
    udp = ihl;
    from = formatIPv4(packet.subarray(12, 16));
    to = formatIPv4(packet.subarray(16, 20));
  } else if (version === 6) {
    if (packet.length < 40) return 'capture-truncated';
    if (packet[6] !== 17) return 'not-sync';
    end = 40 + packet.readUInt16BE(4);
    udp = 40;
    from = formatIPv6(packet.subarray(8, 24));
    to = formatIPv6(packet.subarray(24, 40));
  } else {
    return 'not-sync';
  }
  if (end > packet.length || udp + 8 > end) return 'capture-truncated';
  const udpLength = packet.readUInt16BE(udp + 4);
  if (udpLength < 8 || udp + udpLength > end) return 'capture-truncated';
  return { from, to, destPort: packet.readUInt16BE(udp + 2), payload: packet.subarray(udp + 8, udp + udpLength) };
}

/**
 * Captures the sync stream on the sync interface with a SOCK_DGRAM packet socket (ETH_P_ALL)
 * whose BPF filter keeps only UDP to the group and the sync ports — by default only packets
 * this host sends, which is how a master sees its own stream (its socket does not loop
 * multicast back). Needs CAP_NET_RAW.
 */
export class SyncCapture extends SyncStream {
  readonly #socket: Socket;

  private constructor(options: SyncStreamOptions, socket: Socket) {
    super(options);
    this.#socket = socket;
  }

  static async open(options: SyncCaptureOptions): Promise<SyncCapture> {
    const { group, port, ports } = syncDefaults(options);
    const ifindex = await interfaceIndex(options.interface, options.netns);
    const k = binding().constants as BpfConstants & Record<string, number>;
    // Protocol 0 receives nothing until bound, so no packet arrives before the filter is in place.
    const socket = openSocket({ family: 'packet', type: 'dgram', protocol: 0, ...(options.netns === undefined ? {} : { netns: options.netns }) });
    try {
      socket.setReceiveBuffer(options.receiveBufferBytes ?? 4 << 20, true);
      socket.attachFilter(syncCaptureFilter({ port, ports, group, outgoingOnly: !options.bothDirections }, k));
      socket.bind({ family: 'packet', ifindex, protocol: k['ETH_P_ALL'] as number });
    } catch (error) {
      socket.close();
      throw error;
    }
    const capture = new SyncCapture(options, socket);
    socket.on('message', (data, info) => {
      if (info.truncated) return capture.drop('capture-truncated', `packet longer than ${data.length} bytes`);
      const datagram = decodeUdpPacket(data);
      if (typeof datagram === 'string') return capture.drop(datagram, 'not an unfragmented UDP datagram');
      if (datagram.destPort < port || datagram.destPort >= port + ports) return capture.drop('not-sync', `UDP port ${datagram.destPort}`);
      capture.handlePayload(datagram.payload, { from: datagram.from, port: datagram.destPort });
    });
    socket.on('error', (error) => capture.emit('error', error));
    return capture;
  }

  unref(): this {
    this.#socket.unref();
    return this;
  }

  ref(): this {
    this.#socket.ref();
    return this;
  }

  /** Close the socket. Idempotent. */
  close(): void {
    if (this.#socket.closed) return;
    this.#socket.close();
    this.emit('close');
  }

  /** `using capture = await SyncCapture.open(...)`: close() when the scope ends. */
  [Symbol.dispose](): void { this.close(); }
}
