// layer: netlink (transport)
// job: join a NetlinkEngine to a native netlink socket: open (in a netns), bind, options, groups.
import { constants } from 'node:os';
import { ErrnoError } from '../errors.js';
import { openSocket, type Socket } from '../native/socket.js';
import { NetlinkEngine, type NetlinkEngineOptions, type NetlinkTransport } from './engine.js';

/** How to open a netlink socket for an engine. */
export interface NetlinkSocketOptions {
  /** NETLINK_ROUTE (0), NETLINK_GENERIC (16), NETLINK_NETFILTER (12), ... */
  protocol: number;
  /** Network namespace: a name under /var/run/netns or a path such as /proc/PID/ns/net. */
  netns?: string;
  /** Multicast groups to join (NETLINK_ADD_MEMBERSHIP), e.g. RTNLGRP_LINK. */
  groups?: number[];
  /** SO_RCVBUF in bytes (forced past rmem_max when permitted). Default 4 MiB. */
  receiveBufferBytes?: number;
  /** NETLINK_GET_STRICT_CHK. Default off. */
  strictCheck?: boolean;
  /** Requests in flight at most (the engine's window). Default 256. */
  maxInFlight?: number;
  /** Largest datagram the engine packs requests into (its `maxBatchBytes`). Default 32 KiB. */
  maxBatchBytes?: number;
  /** Default per-request timeout; none by default. */
  timeoutMs?: number;
  /**
   * Receive space per datagram. A longer one (e.g. a large failed request echoed back whole in
   * NLMSG_ERROR) is truncated: its replies are lost, and the requests in flight fail as on ENOBUFS.
   * Default 256 KiB.
   */
  maxDatagramBytes?: number;
  /** NETLINK_CAP_ACK: the kernel does not echo our requests in its errors. Default on. */
  capAck?: boolean;
}

const DEFAULT_RCVBUF = 4 * 1024 * 1024;
const DEFAULT_MAX_DATAGRAM = 256 * 1024;

/** A native netlink socket as the engine's transport. */
export class NetlinkSocketTransport implements NetlinkTransport {
  readonly portId: number;

  constructor(readonly socket: Socket) {
    const local = socket.address();
    if (local.family !== 'netlink' || local.pid === undefined) throw new Error('netlink socket without a port id');
    this.portId = local.pid;
  }

  send(data: Buffer | readonly Buffer[]): Promise<number> {
    return this.socket.send(data, { family: 'netlink', pid: 0, groups: 0 });
  }

  onDatagram(handler: (data: Buffer, fromGroups: number, fromPid: number) => void): void {
    this.socket.on('message', (data, info) => {
      if (info.truncated) {
        // Part of a reply is lost: report it as an overrun, so requests in flight fail rather than wait forever.
        this.socket.emit('error', new ErrnoError(constants.errno.ENOBUFS, 'recvmsg',
          `netlink datagram longer than the ${data.length} bytes of receive space was truncated`));
        return;
      }
      const from = info.from?.family === 'netlink' ? info.from : undefined;
      handler(data, from?.groups ?? 0, from?.pid ?? 0);
    });
  }

  onError(handler: (err: Error & { errno?: number; code?: string }) => void): void {
    this.socket.on('error', handler);
  }

  ref(): void { this.socket.ref(); }
  unref(): void { this.socket.unref(); }
  close(): void { this.socket.close(); }
}

/**
 * Open a netlink socket with extended ACKs on and capped ACKs (unless `capAck: false`), bind it (the kernel picks the port id), join `groups`, and return the
 * engine that owns it. Closing the engine closes the socket.
 */
export function openNetlink(options: NetlinkSocketOptions): NetlinkEngine {
  const socket = openSocket({
    family: 'netlink', protocol: options.protocol, maxDatagramBytes: options.maxDatagramBytes ?? DEFAULT_MAX_DATAGRAM,
    ...(options.netns !== undefined ? { netns: options.netns } : {}),
  });
  try {
    const rcvbuf = options.receiveBufferBytes ?? DEFAULT_RCVBUF;
    try {
      socket.setReceiveBuffer(rcvbuf, true);
    } catch {
      socket.setReceiveBuffer(rcvbuf); // without CAP_NET_ADMIN: capped at net.core.rmem_max
    }
    if (options.maxBatchBytes !== undefined) {
      // A datagram must fit the send buffer (netlink refuses len > sk_sndbuf - 32 with EMSGSIZE).
      const sndbuf = 2 * options.maxBatchBytes;
      try {
        socket.setSendBuffer(sndbuf, true);
      } catch {
        socket.setSendBuffer(sndbuf); // without CAP_NET_ADMIN: capped at net.core.wmem_max
      }
    }
    socket.setNetlinkExtAck(true);
    socket.setNetlinkCapAck(options.capAck ?? true);
    if (options.strictCheck) socket.setNetlinkStrictCheck(true);
    socket.bind({ family: 'netlink', pid: 0, groups: 0 });
    for (const group of options.groups ?? []) socket.addNetlinkMembership(group);
    const engineOptions: NetlinkEngineOptions = {};
    if (options.maxInFlight !== undefined) engineOptions.maxInFlight = options.maxInFlight;
    if (options.maxBatchBytes !== undefined) engineOptions.maxBatchBytes = options.maxBatchBytes;
    if (options.timeoutMs !== undefined) engineOptions.timeoutMs = options.timeoutMs;
    return new NetlinkEngine(new NetlinkSocketTransport(socket), engineOptions);
  } catch (err) {
    socket.close();
    throw err;
  }
}
