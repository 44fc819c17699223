// layer: behaviour (track), pure codec
// job: the kernel's process events connector (linux/connector.h, linux/cn_proc.h): the PROC_CN_MCAST_LISTEN request and the proc_event datagrams decoded.
import { readU32Host, writeU16Host, writeU32Host } from '../bytes.js';
import { NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN, NLMSG_NOOP } from '../netlink/constants.js';
import { decodeHeader, encodeMessage } from '../netlink/message.js';

/** NETLINK_CONNECTOR (linux/netlink.h). */
export const NETLINK_CONNECTOR = 11;
/** CN_IDX_PROC, CN_VAL_PROC (linux/connector.h): the process events' connector id, also its multicast group. */
export const CN_IDX_PROC = 1;
export const CN_VAL_PROC = 1;
/** enum proc_cn_mcast_op: PROC_CN_MCAST_LISTEN, PROC_CN_MCAST_IGNORE. */
export const PROC_CN_MCAST_LISTEN = 1;
export const PROC_CN_MCAST_IGNORE = 2;
/** struct cn_msg: id.idx, id.val, seq, ack (u32 each), len, flags (u16 each). */
const CN_MSG_LEN = 20;
/** Where struct proc_event's event_data starts, after what, cpu and timestamp_ns. */
const EVENT_DATA = 16;
/** The kernel's comm is TASK_COMM_LEN (16) bytes, NUL-terminated. */
const COMM_LEN = 16;

/** enum proc_event.what: the events lvskit reads. */
export const PROC_EVENT_NONE = 0x0;
export const PROC_EVENT_FORK = 0x1;
export const PROC_EVENT_EXEC = 0x2;
export const PROC_EVENT_COMM = 0x200;
export const PROC_EVENT_EXIT = 0x80000000;

/** One process event; `pid` is the thread's id, `tgid` its process's (they are equal for a process, not a thread). */
export type ProcEvent =
  | { what: 'ack'; err: number }
  | { what: 'fork'; parentPid: number; parentTgid: number; childPid: number; childTgid: number }
  | { what: 'exec'; pid: number; tgid: number }
  | { what: 'comm'; pid: number; tgid: number; comm: string }
  | { what: 'exit'; pid: number; tgid: number }
  | { what: 'other'; code: number };

/** The request to start (or stop) receiving process events: nlmsghdr (NLMSG_DONE) + cn_msg + the op. */
export function encodeListen(listen = true, pid = 0): Buffer {
  const cn = Buffer.alloc(CN_MSG_LEN + 4);
  writeU32Host(cn, CN_IDX_PROC, 0);
  writeU32Host(cn, CN_VAL_PROC, 4);
  writeU16Host(cn, 4, 16);
  writeU32Host(cn, listen ? PROC_CN_MCAST_LISTEN : PROC_CN_MCAST_IGNORE, CN_MSG_LEN);
  return encodeMessage({ type: NLMSG_DONE, flags: 0, seq: 0, pid }, cn);
}

/**
 * One datagram from the connector → its event, or undefined for what is not a process event
 * (another connector, NLMSG_NOOP/ERROR, too short). The kernel sends one message per datagram.
 */
export function decodeProcEvent(buf: Buffer): ProcEvent | undefined {
  if (buf.length < NLMSG_HDRLEN + CN_MSG_LEN + EVENT_DATA) return undefined;
  const h = decodeHeader(buf, 0);
  if (h.type === NLMSG_ERROR || h.type === NLMSG_NOOP) return undefined;
  const cn = NLMSG_HDRLEN;
  if (readU32Host(buf, cn) !== CN_IDX_PROC || readU32Host(buf, cn + 4) !== CN_VAL_PROC) return undefined;
  const ev = cn + CN_MSG_LEN;
  const what = readU32Host(buf, ev);
  const d = ev + EVENT_DATA;
  const u32 = (i: number): number | undefined => (buf.length >= d + 4 * (i + 1) ? readU32Host(buf, d + 4 * i) : undefined);
  const need = (n: number): boolean => buf.length >= d + 4 * n;
  switch (what) {
    case PROC_EVENT_NONE: return need(1) ? { what: 'ack', err: u32(0)! } : undefined;
    case PROC_EVENT_FORK: return need(4) ? { what: 'fork', parentPid: u32(0)!, parentTgid: u32(1)!, childPid: u32(2)!, childTgid: u32(3)! } : undefined;
    case PROC_EVENT_EXEC: return need(2) ? { what: 'exec', pid: u32(0)!, tgid: u32(1)! } : undefined;
    case PROC_EVENT_EXIT: return need(2) ? { what: 'exit', pid: u32(0)!, tgid: u32(1)! } : undefined;
    case PROC_EVENT_COMM: {
      if (buf.length < d + 8 + COMM_LEN) return undefined;
      const raw = buf.subarray(d + 8, d + 8 + COMM_LEN);
      const end = raw.indexOf(0);
      return { what: 'comm', pid: u32(0)!, tgid: u32(1)!, comm: raw.subarray(0, end < 0 ? COMM_LEN : end).toString('utf8') };
    }
    default: return { what: 'other', code: what };
  }
}
