// layer: kernel client (IPVS)
// job: encode/decode pairs for the sync daemon, timeout and info attribute groups.
import { encodeIPv4, encodeIPv6, formatIPv4, formatIPv6 } from '../bytes.js';
import { AttrWriter, attrNested, type Attr } from '../netlink/attr.js';
import { NetlinkDecodeError } from '../netlink/errors.js';
import { parseAttrs, type Policy } from '../netlink/policy.js';
import * as K from './constants.js';
import { addressFamily, type IpvsInfo, type SyncDaemon, type Timeouts } from './model.js';

const STATES = { master: K.IP_VS_STATE_MASTER, backup: K.IP_VS_STATE_BACKUP } as const;

/**
 * IPVS_CMD_ATTR_DAEMON to start a sync daemon, in ipvsadm's order: state, interface, sync id,
 * then what is given of max length, port, TTL and group (IPv4 or IPv6). The port is a host-order
 * u16 on the wire, whatever the kernel's `nla_get_be16` suggests: the kernel applies htons()
 * itself when it binds (captured from ipvsadm and checked against `ipvsadm -L --daemon`).
 */
export function encodeDaemon(w: AttrWriter, d: SyncDaemon): AttrWriter {
  return w.nest(K.IPVS_CMD_ATTR_DAEMON, () => {
    w.u32(K.IPVS_DAEMON_ATTR_STATE, STATES[d.state]);
    w.string(K.IPVS_DAEMON_ATTR_MCAST_IFN, d.interface);
    w.u32(K.IPVS_DAEMON_ATTR_SYNC_ID, d.syncId);
    if (d.maxLength !== undefined) w.u16(K.IPVS_DAEMON_ATTR_SYNC_MAXLEN, d.maxLength);
    if (d.port !== undefined) w.u16(K.IPVS_DAEMON_ATTR_MCAST_PORT, d.port);
    if (d.ttl !== undefined) w.u8(K.IPVS_DAEMON_ATTR_MCAST_TTL, d.ttl);
    if (d.group !== undefined) {
      if (addressFamily(d.group) === 6) w.bytes(K.IPVS_DAEMON_ATTR_MCAST_GROUP6, encodeIPv6(d.group));
      else w.bytes(K.IPVS_DAEMON_ATTR_MCAST_GROUP, encodeIPv4(d.group));
    }
  });
}

/** IPVS_CMD_ATTR_DAEMON naming only the state, to stop that daemon. */
export function encodeDaemonState(w: AttrWriter, state: SyncDaemon['state']): AttrWriter {
  return w.nest(K.IPVS_CMD_ATTR_DAEMON, () => w.u32(K.IPVS_DAEMON_ATTR_STATE, STATES[state]));
}

const daemonPolicy = {
  [K.IPVS_DAEMON_ATTR_STATE]: { name: 'state', kind: 'u32' },
  [K.IPVS_DAEMON_ATTR_MCAST_IFN]: { name: 'interface', kind: 'string' },
  [K.IPVS_DAEMON_ATTR_SYNC_ID]: { name: 'syncId', kind: 'u32' },
  [K.IPVS_DAEMON_ATTR_SYNC_MAXLEN]: { name: 'maxLength', kind: 'u16' },
  [K.IPVS_DAEMON_ATTR_MCAST_GROUP]: { name: 'group4', kind: 'binary' },
  [K.IPVS_DAEMON_ATTR_MCAST_GROUP6]: { name: 'group6', kind: 'binary' },
  [K.IPVS_DAEMON_ATTR_MCAST_PORT]: { name: 'port', kind: 'u16' },
  [K.IPVS_DAEMON_ATTR_MCAST_TTL]: { name: 'ttl', kind: 'u8' },
} as const satisfies Policy;

/**
 * Decode a daemon from a reply's IPVS_CMD_ATTR_DAEMON. Kernels before 4.3 send only state,
 * interface and sync id; the other fields are then absent.
 */
export function decodeDaemon(nest: Attr): SyncDaemon {
  const a = parseAttrs(attrNested(nest), daemonPolicy);
  const state = a.state === K.IP_VS_STATE_MASTER ? 'master' : a.state === K.IP_VS_STATE_BACKUP ? 'backup' : undefined;
  if (!state) throw new NetlinkDecodeError(nest.offset, `sync daemon state ${a.state ?? 'missing'}`);
  if (a.interface === undefined || a.syncId === undefined) {
    throw new NetlinkDecodeError(nest.offset, 'sync daemon without IPVS_DAEMON_ATTR_MCAST_IFN or IPVS_DAEMON_ATTR_SYNC_ID');
  }
  const d: SyncDaemon = { state, interface: a.interface, syncId: a.syncId };
  if (a.maxLength !== undefined) d.maxLength = a.maxLength;
  if (a.group6 !== undefined && a.group6.length === 16) d.group = formatIPv6(a.group6);
  else if (a.group4 !== undefined && a.group4.length === 4) d.group = formatIPv4(a.group4);
  if (a.port !== undefined) d.port = a.port;
  if (a.ttl !== undefined) d.ttl = a.ttl;
  return d;
}

/** IPVS_CMD_SET_CONFIG attributes: only the timeouts given (the kernel leaves 0/absent ones as they are). */
export function encodeTimeouts(w: AttrWriter, t: Partial<Timeouts>): AttrWriter {
  if (t.tcpSec !== undefined) w.u32(K.IPVS_CMD_ATTR_TIMEOUT_TCP, t.tcpSec);
  if (t.tcpFinSec !== undefined) w.u32(K.IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, t.tcpFinSec);
  if (t.udpSec !== undefined) w.u32(K.IPVS_CMD_ATTR_TIMEOUT_UDP, t.udpSec);
  return w;
}

const timeoutPolicy = {
  [K.IPVS_CMD_ATTR_TIMEOUT_TCP]: { name: 'tcpSec', kind: 'u32' },
  [K.IPVS_CMD_ATTR_TIMEOUT_TCP_FIN]: { name: 'tcpFinSec', kind: 'u32' },
  [K.IPVS_CMD_ATTR_TIMEOUT_UDP]: { name: 'udpSec', kind: 'u32' },
} as const satisfies Policy;

/** Decode the IPVS_CMD_GET_CONFIG reply's attributes. */
export function decodeTimeouts(attrs: readonly Attr[]): Timeouts {
  const a = parseAttrs(attrs, timeoutPolicy);
  if (a.tcpSec === undefined || a.tcpFinSec === undefined || a.udpSec === undefined) {
    throw new NetlinkDecodeError(0, 'IPVS_CMD_GET_CONFIG reply without all three timeouts');
  }
  return { tcpSec: a.tcpSec, tcpFinSec: a.tcpFinSec, udpSec: a.udpSec };
}

const infoPolicy = {
  [K.IPVS_INFO_ATTR_VERSION]: { name: 'versionCode', kind: 'u32' },
  [K.IPVS_INFO_ATTR_CONN_TAB_SIZE]: { name: 'connTableSize', kind: 'u32' },
} as const satisfies Policy;

/** Decode the IPVS_CMD_GET_INFO reply's attributes. */
export function decodeInfo(attrs: readonly Attr[]): IpvsInfo {
  const a = parseAttrs(attrs, infoPolicy);
  if (a.versionCode === undefined || a.connTableSize === undefined) {
    throw new NetlinkDecodeError(0, 'IPVS_CMD_GET_INFO reply without version or table size');
  }
  const v = a.versionCode;
  return { version: `${(v >> 16) & 0xff}.${(v >> 8) & 0xff}.${v & 0xff}`, versionCode: v, connTableSize: a.connTableSize };
}

/** Encode info attributes as the kernel does (for tests). */
export function encodeInfo(w: AttrWriter, info: Pick<IpvsInfo, 'versionCode' | 'connTableSize'>): AttrWriter {
  return w.u32(K.IPVS_INFO_ATTR_VERSION, info.versionCode).u32(K.IPVS_INFO_ATTR_CONN_TAB_SIZE, info.connTableSize);
}
