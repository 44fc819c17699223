// layer: kernel client (IPVS connections)
// job: connection rows as `ipvsadm -lnc` prints them (same columns, same widths).
import type { ConnTableRow } from './rows.js';

/** ipvsadm's title and column header for `-c`. */
export const CONNECTION_TITLE = 'IPVS connection entries';
/** ipvsadm's column header for `-lnc`. */
export const CONNECTION_HEADER = 'pro expire state       source             virtual            destination';

function hostPort(family: 4 | 6, address: string, port: number): string {
  return family === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Seconds as ipvsadm's `%02d:%02d` (minutes may pass 99). */
function clock(seconds: number): string {
  return `${String(Math.floor(seconds / 60)).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}`;
}

/** One row as ipvsadm 1.31 prints it: `%-3s %02d:%02d  %-11s %-18s %-18s %s`. */
export function formatConnectionRow(r: ConnTableRow): string {
  return `${r.protocol.padEnd(3)} ${clock(r.expiresSec)}  ${r.state.padEnd(11)} ${hostPort(r.family, r.clientAddress, r.clientPort).padEnd(18)} ` +
    `${hostPort(r.family, r.virtualAddress, r.virtualPort).padEnd(18)} ${hostPort(r.destFamily, r.destAddress, r.destPort)}`;
}
