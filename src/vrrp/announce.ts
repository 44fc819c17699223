// layer: behaviour (vrrp)
// job: send gratuitous ARPs and unsolicited neighbour advertisements for VIPs over one packet socket per namespace.
import { openSocket, type Socket } from '../native/socket.js';
import { encodeGratuitousArp, encodeUnsolicitedNa, ETHERTYPE_ARP, ETHERTYPE_IPV6 } from './arp.js';
import { addressFamily } from './address.js';

/**
 * A packet socket (SOCK_RAW, protocol 0: it receives nothing) that writes whole Ethernet frames,
 * as keepalived's gratuitous-ARP and neighbour-discovery channels do.
 */
export class Announcer {
  readonly #socket: Socket;

  constructor(options: { netns?: string } = {}) {
    this.#socket = openSocket({ family: 'packet', type: 'raw', protocol: 0, ...(options.netns ? { netns: options.netns } : {}) });
  }

  /**
   * `repeat` announcements of `address` on the link `ifindex` with hardware address `mac`: gratuitous
   * ARP requests for IPv4, unsolicited neighbour advertisements (Override) for IPv6.
   */
  async announce(ifindex: number, mac: Buffer, address: string, repeat: number): Promise<'garp' | 'na'> {
    const v4 = addressFamily(address) === 4;
    const frame = v4 ? encodeGratuitousArp(mac, address) : encodeUnsolicitedNa(mac, address);
    const protocol = v4 ? ETHERTYPE_ARP : ETHERTYPE_IPV6;
    const dest = { family: 'packet' as const, ifindex, protocol, addr: frame.subarray(0, 6) };
    for (let i = 0; i < repeat; i++) await this.#socket.send(frame, dest);
    return v4 ? 'garp' : 'na';
  }

  close(): void { this.#socket.close(); }
}
