// layer: kernel client (IPVS connections)
// job: the BACKUP source: join the sync multicast group on the sync interface and decode what the master sends.
import { isIPv4 } from 'node:net';
import { binding } from '../native/binding.js';
import { openSocket, type Socket } from '../native/socket.js';
import { RtnlClient } from '../rtnl/client.js';
import { SyncStream, syncDefaults, type SyncStreamOptions } from './sync-source.js';

const IPPROTO_UDP = 17;

/** Options of `SyncReceiver.open()`: the interface and multicast group whose sync messages are received (on a backup). */
export interface SyncReceiverOptions extends SyncStreamOptions {
  /** SO_RCVBUF per socket; default 4 MiB (forced past net.core.rmem_max), so a burst of sync traffic is not lost. */
  receiveBufferBytes?: number;
}

/**
 * Receives the sync stream as a backup daemon does: one UDP socket per sync port, bound to the
 * group and port with SO_REUSEADDR (the kernel's own backup socket is bound there too), tied to
 * the sync interface, member of the group on it. Works beside a running backup daemon, or
 * without one. The master does not loop its own datagrams back: on the master use SyncCapture.
 */
export class SyncReceiver extends SyncStream {
  readonly #sockets: Socket[];

  private constructor(options: SyncStreamOptions, sockets: Socket[]) {
    super(options);
    this.#sockets = sockets;
  }

  /** Open the sockets in `options.netns` and start receiving. */
  static async open(options: SyncReceiverOptions): Promise<SyncReceiver> {
    const { group, port, ports } = syncDefaults(options);
    const ifindex = await interfaceIndex(options.interface, options.netns);
    const k = binding().constants as Record<string, number>;
    const v4 = isIPv4(group);
    const sockets: Socket[] = [];
    try {
      for (let i = 0; i < ports; i++) {
        const socket = openSocket({ family: v4 ? 'inet' : 'inet6', type: 'dgram', protocol: IPPROTO_UDP, ...(options.netns === undefined ? {} : { netns: options.netns }) });
        sockets.push(socket);
        socket.setOption(k['SOL_SOCKET'] as number, k['SO_REUSEADDR'] as number, 1);
        socket.setReceiveBuffer(options.receiveBufferBytes ?? 4 << 20, true);
        socket.bindToDevice(options.interface);
        socket.bind(v4 ? { family: 'inet', address: group, port: port + i } : { family: 'inet6', address: group, port: port + i, scopeId: ifindex });
        if (v4) socket.joinMulticastIPv4(group, ifindex);
        else socket.joinMulticastIPv6(group, ifindex);
      }
    } catch (error) {
      for (const s of sockets) s.close();
      throw error;
    }
    const receiver = new SyncReceiver(options, sockets);
    sockets.forEach((socket, i) => {
      socket.on('message', (data, info) => {
        if (info.truncated) return receiver.drop('truncated', `datagram longer than ${data.length} bytes`);
        const from = info.from && 'address' in info.from ? info.from.address : undefined;
        receiver.handlePayload(data, { ...(from === undefined ? {} : { from }), port: port + i });
      });
      socket.on('error', (error) => receiver.emit('error', error));
    });
    return receiver;
  }

  /** Let the process exit while receiving (ref() undoes it). */
  unref(): this {
    for (const s of this.#sockets) s.unref();
    return this;
  }

  ref(): this {
    for (const s of this.#sockets) s.ref();
    return this;
  }

  /** Close the sockets. Idempotent. */
  close(): void {
    if (this.#sockets.every((s) => s.closed)) return;
    for (const s of this.#sockets) s.close();
    this.emit('close');
  }

  /** `using receiver = await SyncReceiver.open(...)`: close() when the scope ends. */
  [Symbol.dispose](): void { this.close(); }
}

/** The index of interface `name` in `netns`. */
export async function interfaceIndex(name: string, netns: string | undefined): Promise<number> {
  const rtnl = RtnlClient.open(netns === undefined ? {} : { netns });
  try {
    return (await rtnl.getLink(name)).index;
  } finally {
    rtnl.close();
  }
}
