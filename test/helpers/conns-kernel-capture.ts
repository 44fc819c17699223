// layer: test helpers (unit)
// job: the kernel capture of test/fixtures/conns/kernel-*/: the datagrams sent, the connections they held, and what the kernel listed.
import fs from 'node:fs';
import path from 'node:path';
import type { SyncConn } from '../../src/conns/sync-message.js';

export const CAPTURE_DIR = path.resolve('test/fixtures/conns/kernel-6.1.176');

type JsonConn = Omit<SyncConn, 'peData'> & { peData?: string };

export interface KernelCapture {
  kernel: string;
  syncId: number;
  datagrams: Buffer[];
  /** Sent as v1 (some with states or protocols the kernel refuses). */
  v1: SyncConn[];
  /** Sent as v0 (timeouts 0: the kernel's defaults apply). */
  v0: SyncConn[];
  /** In a message of its own with an optional option of unknown type (kept) … */
  optionalUnknown: SyncConn;
  /** … and a mandatory one (the kernel skips the connection). */
  mandatoryUnknown: SyncConn;
  /** Sent with another sync id (the backup ignores the message). */
  otherSyncId: SyncConn;
  /** /proc/net/ip_vs_conn and `ipvsadm -lnc` afterwards. */
  table: string;
  ipvsadm: string;
}

function conn(j: JsonConn): SyncConn {
  const { peData, ...rest } = j;
  return peData === undefined ? rest : { ...rest, peData: Buffer.from(peData, 'hex') };
}

export function loadKernelCapture(): KernelCapture {
  const raw = JSON.parse(fs.readFileSync(path.join(CAPTURE_DIR, 'messages.json'), 'utf8')) as {
    kernel: string; syncId: number; datagrams: string[]; v1: JsonConn[]; v0: JsonConn[];
    optionalUnknown: JsonConn; mandatoryUnknown: JsonConn; otherSyncId: JsonConn;
  };
  return {
    kernel: raw.kernel,
    syncId: raw.syncId,
    datagrams: raw.datagrams.map((h) => Buffer.from(h, 'hex')),
    v1: raw.v1.map(conn),
    v0: raw.v0.map(conn),
    optionalUnknown: conn(raw.optionalUnknown),
    mandatoryUnknown: conn(raw.mandatoryUnknown),
    otherSyncId: conn(raw.otherSyncId),
    table: fs.readFileSync(path.join(CAPTURE_DIR, 'ip_vs_conn.txt'), 'utf8'),
    ipvsadm: fs.readFileSync(path.join(CAPTURE_DIR, 'ipvsadm-lnc.txt'), 'utf8'),
  };
}
