// layer: benchmarks
// job: a synthetic connection table in the kernel's /proc/net/ip_vs_conn format: N rows, realistic clients and states, written in chunks.
import fs from 'node:fs';
import { IP_VS_CONN_F_TEMPLATE, IPPROTO_TCP } from '../src/conns/constants.js';
import type { SyncConn } from '../src/conns/sync-message.js';
import { procRow, PROC_HEADER } from '../test/helpers/conns-fixtures.js';

/** Heavy hitters (a few dozen clients over 100 ESTABLISHED), a long tail of ordinary clients, 5 % IPv6, some templates. */
export function* syntheticConns(rows: number, seed = 1): Generator<SyncConn> {
  let s = seed;
  const random = (n: number): number => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return Math.floor((s / 2 ** 32) * n); };
  const heavy = Array.from({ length: 40 }, (_, i) => ({ address: `203.0.${113 + (i >> 8)}.${i & 255}`, left: 120 + 10 * i }));
  const tailClients = Math.max(1, Math.floor(rows / 10));
  const states = [1, 1, 1, 1, 1, 1, 1, 5, 5, 4, 3, 6, 8]; // mostly ESTABLISHED, then TIME_WAIT, FIN_WAIT, SYN_RECV, CLOSE, LAST_ACK
  for (let i = 0; i < rows; i++) {
    const h = heavy[random(heavy.length * 20)];
    let clientAddress: string;
    let state = states[random(states.length)] as number;
    if (h && h.left > 0) {
      clientAddress = h.address;
      state = 1;
      h.left--;
    } else {
      const c = random(tailClients);
      clientAddress = random(20) === 0 ? `2001:db8:${(c >> 16).toString(16)}:${(c & 0xffff).toString(16)}::1` : `100.${64 + (c >> 16)}.${(c >> 8) & 255}.${c & 255}`;
    }
    const v6 = clientAddress.includes(':');
    const template = random(200) === 0;
    yield {
      family: v6 ? 'inet6' : 'inet', protocol: IPPROTO_TCP, flags: template ? IP_VS_CONN_F_TEMPLATE : 0, state: template ? 1 : state,
      clientAddress, clientPort: template ? 0 : 1024 + random(64000),
      virtualAddress: v6 ? '2001:db8:ffff::80' : `198.51.100.${1 + random(20)}`, virtualPort: random(2) ? 80 : 443,
      destAddress: v6 ? `fd00::${1 + random(30)}` : `172.16.16.${37 + random(30)}`, destPort: 80, fwmark: 0, timeoutSec: 900,
    };
  }
}

/** Write `rows` synthetic rows (header first) to `file`; returns its size in bytes. */
export function writeSyntheticTable(file: string, rows: number, seed = 1): number {
  const fd = fs.openSync(file, 'w');
  try {
    let chunk: string[] = [PROC_HEADER];
    let i = 0;
    for (const conn of syntheticConns(rows, seed)) {
      chunk.push(procRow(conn, (i++ * 7919) % 900));
      if (chunk.length === 20_000) {
        fs.writeSync(fd, chunk.join(''));
        chunk = [];
      }
    }
    fs.writeSync(fd, chunk.join(''));
  } finally {
    fs.closeSync(fd);
  }
  return fs.statSync(file).size;
}
