// layer: behaviour (vrrp)
// job: one raw protocol-112 socket per interface, family and mode (multicast, or unicast from one source), shared by the instances on it; sends adverts as keepalived does.
import { binding } from '../native/binding.js';
import type { Clock } from './clock.js';
import type { SockAddr } from '../native/binding.js';
import { SignalSend } from '../native/signal-send.js';
import { openSocket, type MessageInfo, type Socket } from '../native/socket.js';
import { IPPROTO_VRRP, IPV6_TCLASS, TOS_NETWORK_CONTROL, VRRP_CHECKSUM_OFFSET, VRRP_GROUP_IPV4, VRRP_GROUP_IPV6, VRRP_TTL } from './constants.js';
import { encodeIpv4Header, type IpFamily } from './packet.js';
import { readDatagram, type DropReason, type ReceivedDatagram } from './receive.js';
import { sameAddress } from './address.js';

/** Options of a VRRP channel: the interface, family, advert source, unicast mode and namespace its sockets use. */
export interface ChannelOptions {
  netns?: string;
  family: IpFamily;
  /** Interface name and index. */
  dev: string;
  ifindex: number;
  /** Our advert source: the interface's primary address (IPv4), its link-local (IPv6), or `unicast_src_ip`. */
  source: string;
  /** Unicast mode: no multicast membership, TTL not required to be 255 on receive. */
  unicast: boolean;
}

/** What the channel hands its owner for each datagram meant for it. */
export type ChannelInput =
  | { ok: true; datagram: ReceivedDatagram; atMs: number }
  | { ok: false; reason: DropReason; message: string; src?: string; atMs: number };

/** `channelKey` of the channel an instance uses. */
export function channelKey(family: IpFamily, ifindex: number, unicastSource: string | undefined): string {
  return `${family}/${ifindex}/${unicastSource ?? 'multicast'}`;
}

/**
 * A raw IPPROTO_VRRP socket bound to one interface. IPv4: IP_HDRINCL with keepalived's header (TOS
 * 0xc0, TTL 255, its own id sequence), IP_MULTICAST_ALL off, loop off. IPv6: the kernel computes
 * and verifies the checksum (IPV6_CHECKSUM 6, as keepalived), hop limit 255, traffic class 0xc0,
 * destination, source and hop limit of received datagrams from ancillary data.
 */
export class VrrpChannel {
  readonly key: string;
  readonly family: IpFamily;
  readonly dev: string;
  readonly source: string;
  readonly unicast: boolean;
  /** Datagrams that reached this socket but belonged to the other mode on the interface (not counted as drops). */
  ignored = 0;
  readonly #socket: Socket;
  readonly #ifindex: number;
  #id = 0;

  private constructor(socket: Socket, options: ChannelOptions) {
    this.#socket = socket;
    this.#ifindex = options.ifindex;
    this.family = options.family;
    this.dev = options.dev;
    this.source = options.source;
    this.unicast = options.unicast;
    this.key = channelKey(options.family, options.ifindex, options.unicast ? options.source : undefined);
  }

  static open(options: ChannelOptions): VrrpChannel {
    const k = binding().constants as Record<string, number>;
    const socket = openSocket({ family: options.family === 4 ? 'inet' : 'inet6', type: 'raw', protocol: IPPROTO_VRRP, ...(options.netns ? { netns: options.netns } : {}) });
    try {
      socket.bindToDevice(options.dev).setReceivePacketInfo(true).setReceiveTtl(true).setReceiveTimestamps(true);
      if (options.family === 4) {
        socket.setHeaderIncluded(true).setOption(k.SOL_IP!, k.IP_MULTICAST_ALL!, 0).setOption(k.SOL_IP!, k.IP_TOS!, TOS_NETWORK_CONTROL);
        socket.setMulticastInterfaceIPv4(options.ifindex).setMulticastTtl(VRRP_TTL).setMulticastLoop(false);
        if (!options.unicast) socket.joinMulticastIPv4(VRRP_GROUP_IPV4, options.ifindex);
      } else {
        socket.setOption(k.SOL_IPV6!, k.IPV6_CHECKSUM!, VRRP_CHECKSUM_OFFSET).setOption(k.SOL_IPV6!, IPV6_TCLASS, TOS_NETWORK_CONTROL);
        socket.setTtl(VRRP_TTL).setMulticastHops(VRRP_TTL).setMulticastInterfaceIPv6(options.ifindex).setMulticastLoop(false);
        if (options.unicast) socket.bind({ family: 'inet6', address: options.source, scopeId: options.ifindex });
        else socket.joinMulticastIPv6(VRRP_GROUP_IPV6, options.ifindex);
      }
    } catch (error) {
      socket.close();
      throw error;
    }
    return new VrrpChannel(socket, options);
  }

  /**
   * Deliver each datagram for this channel (wrong-mode ones are skipped) with its arrival time;
   * receive errors to `onError`. The arrival is the kernel's receive timestamp when the clock can
   * read it (the system clock): the Master_Down_Timer then counts from when the advert arrived,
   * not from when the event loop got to it.
   */
  listen(clock: Clock, onInput: (input: ChannelInput) => void, onError: (error: Error) => void): void {
    this.#socket.on('message', (data, info) => {
      const now = clock.now(); // before any decoding: timers count from the arrival
      const kernel = info.receivedMonoNs !== undefined && clock.fromMonotonicNs ? clock.fromMonotonicNs(info.receivedMonoNs) : undefined;
      const atMs = kernel !== undefined && kernel <= now ? kernel : now;
      const input = this.#read(Buffer.from(data), info, atMs);
      if (input) onInput(input);
    });
    this.#socket.on('error', onError);
  }

  /**
   * Send VRRP bytes to `dst` (the group, or a unicast peer). IPv4 gets keepalived's header with
   * our source; IPv6 goes as the payload and the kernel fills in the checksum.
   */
  send(vrrp: Buffer, dst: string): Promise<number> {
    const [buffers, dest] = this.#datagram(vrrp, dst);
    return this.#socket.send(buffers, dest);
  }

  /**
   * The same datagram, armed to be sent by the handler of a signal passed to `sendOnSignal`
   * (src/native/signal-send.ts); undefined when no slot is free (send it the ordinary way then).
   */
  armOnSignal(vrrp: Buffer, dst: string): SignalSend | undefined {
    const [buffers, dest] = this.#datagram(vrrp, dst);
    return SignalSend.arm(this.#socket, buffers, dest);
  }

  #datagram(vrrp: Buffer, dst: string): [Buffer[], SockAddr] {
    if (this.family === 4) {
      this.#id = (this.#id + 1) & 0xffff || 1; // 0 would let the kernel choose; keepalived skips it too
      const header = encodeIpv4Header({ src: this.source, dst, payloadBytes: vrrp.length, id: this.#id });
      return [[header, vrrp], { family: 'inet', address: dst }];
    }
    return [[vrrp], { family: 'inet6', address: dst, scopeId: this.#ifindex }];
  }

  /** The destination multicast adverts go to. */
  get group(): string { return this.family === 4 ? VRRP_GROUP_IPV4 : VRRP_GROUP_IPV6; }

  close(): void { this.#socket.close(); }

  #read(data: Buffer, info: MessageInfo, atMs: number): ChannelInput | undefined {
    const from = info.from && (info.from.family === 'inet' || info.from.family === 'inet6') ? info.from.address : undefined;
    const r = readDatagram(this.family, data, { ...(from !== undefined ? { src: from } : {}), ...(info.dst !== undefined ? { dst: info.dst } : {}), ...(info.ttl !== undefined ? { ttl: info.ttl } : {}) });
    if (!r.ok) return { ...r, ...(from !== undefined ? { src: from } : {}), atMs };
    const toGroup = sameAddress(r.datagram.dst, this.group);
    if (toGroup === this.unicast) {
      this.ignored++;
      return undefined;
    }
    return { ok: true, datagram: r.datagram, atMs };
  }
}
