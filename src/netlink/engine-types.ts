// layer: netlink (request engine)
// job: the engine's public shapes: the transport it drives, its options, a request, a source of requests, events and counters.
import type { NetlinkDecodeError } from './errors.js';
import type { NlMessage } from './message.js';

/** A bound netlink socket, as the engine needs it. The native layer provides one; tests a fake. */
export interface NetlinkTransport {
  /** Our netlink port id (nl_pid) as the kernel assigned it at bind. */
  readonly portId: number;
  /**
   * Send one datagram to the kernel (parts are a scatter list: one datagram, several netlink
   * messages); the transport queues on EAGAIN itself. May throw, or return a promise that rejects
   * when a queued send fails later; either fails the requests in it.
   */
  send(data: Buffer | readonly Buffer[]): void | Promise<unknown>;
  /** Every received datagram, with the sender's multicast group mask and port id (0 = kernel). */
  onDatagram(handler: (data: Buffer, fromGroups: number, fromPid: number) => void): void;
  /** Receive errors, e.g. ENOBUFS when the receive buffer overflowed. */
  onError(handler: (err: Error & { errno?: number; code?: string }) => void): void;
  close(): void;
  /** Optional: let the socket keep the event loop alive (default for sockets). */
  ref?(): void;
  /** Optional: let the process exit while the socket is open (e.g. a notification watcher). */
  unref?(): void;
}

/** Options of a NetlinkEngine. */
export interface NetlinkEngineOptions {
  /** Requests sent and not yet complete, at most; later ones wait in FIFO order. Default 256. */
  maxInFlight?: number;
  /** Sequence number of the first request (1 … 2³²−1). Default 1. */
  firstSeq?: number;
  /** Timeout for requests that set none; 0 or absent means none. */
  timeoutMs?: number;
  /**
   * Requests made in the same tick are sent together, several netlink messages in one datagram
   * (the kernel processes them in order and answers each), up to this many bytes. Default 32 KiB;
   * 0 sends one message per datagram.
   */
  maxBatchBytes?: number;
}

/**
 * A payload the engine writes straight into the datagram: exactly `length` bytes at `at`. For
 * bulk work (thousands of requests) it saves a buffer per request.
 */
export interface PayloadWriter {
  readonly length: number;
  write(buf: Buffer, at: number): void;
}

/** One request. The engine adds NLM_F_REQUEST, NLM_F_ACK and NLM_F_DUMP as these options say. */
export interface NetlinkRequest {
  /** nlmsg_type, e.g. RTM_NEWADDR or a generic netlink family id. */
  type: number;
  /** Extra nlmsg_flags, e.g. NLM_F_CREATE | NLM_F_EXCL. */
  flags?: number;
  /** The payload after the nlmsghdr (family header and attributes): one buffer, parts, or a writer. */
  payload?: Buffer | readonly Buffer[] | PayloadWriter;
  /** Dump request: sets NLM_F_DUMP and collects NLM_F_MULTI replies until NLMSG_DONE. */
  dump?: boolean;
  /** Ask for an ACK (NLM_F_ACK) and resolve at it. Default true for non-dumps, false for dumps. */
  ack?: boolean;
  /**
   * Send without NLM_F_ACK and let the engine close the datagram with an acknowledged
   * NLMSG_NOOP (a fence). The kernel carries out a datagram's messages in order and answers only
   * refusals, so the fence's ACK proves that every earlier message of the datagram that drew no
   * NLMSG_ERROR succeeded: one ACK per datagram instead of one per request. Resolves at the fence
   * with the replies collected (usually none). Not for dumps.
   */
  fenced?: boolean;
  /** Reject with RequestTimeoutError when not complete this long after the call. */
  timeoutMs?: number;
  /** Name of the operation for errors (`syscall`), e.g. `RTM_NEWADDR`. Default `nlmsg_type=N`. */
  op?: string;
  /** How often an NLM_F_DUMP_INTR dump is re-sent before DumpInterruptedError. Default 5. */
  maxDumpRetries?: number;
}

/**
 * Requests made on demand, for requestAll(): `at(i)` is asked for request i when it is sent, and
 * again only if the kernel answers it or it must be named in an error — so a lot of thousands
 * need not hold thousands of request objects. `at` must give the same request each time.
 */
export interface RequestSource {
  readonly length: number;
  at(index: number): NetlinkRequest;
}

/** Why a received message was dropped. */
export type StrayReason =
  /** A reply to a request in flight, but nlmsg_pid is not our port id. */
  | 'port-id'
  /** Addressed to our port id with a sequence number we are not waiting for (e.g. after a timeout). */
  | 'unknown-seq'
  /** Unicast from another socket, not the kernel. */
  | 'not-from-kernel';

/** Events of a NetlinkEngine. */
export interface NetlinkEngineEvents {
  /** Multicast messages, and kernel messages that answer no request of ours (e.g. seq 0). */
  notification: [msg: NlMessage];
  /** The receive buffer overflowed; in-flight requests were rejected with NetlinkOverrunError. */
  enobufs: [err: Error];
  /** A message that was dropped, and why. */
  stray: [msg: NlMessage, reason: StrayReason];
  /** A datagram that did not decode; it was dropped whole. */
  malformed: [err: NetlinkDecodeError, datagram: Buffer];
  /** A transport error other than ENOBUFS (Node semantics: unhandled, it throws). */
  error: [err: Error];
  /** The engine was closed. */
  close: [];
}

/** Counters since the engine was made. */
export interface NetlinkEngineStats {
  sent: number;
  notifications: number;
  stray: number;
  malformed: number;
  dumpRetries: number;
  /** ENOBUFS: the receive buffer overflowed (recv ENOBUFS, or NLMSG_OVERRUN). */
  overruns: number;
  /** Requests the kernel refused (NLMSG_ERROR with an errno: NetlinkError). */
  refused: number;
  /** Requests without a complete reply in time (RequestTimeoutError). */
  timeouts: number;
}

/** The sum of several engines' counters (a client with several sockets, or clients that came and went). */
export function addEngineStats(all: readonly Readonly<NetlinkEngineStats>[]): NetlinkEngineStats {
  const sum: NetlinkEngineStats = { sent: 0, notifications: 0, stray: 0, malformed: 0, dumpRetries: 0, overruns: 0, refused: 0, timeouts: 0 };
  for (const s of all) for (const k of Object.keys(sum) as (keyof NetlinkEngineStats)[]) sum[k] += s[k];
  return sum;
}
