// layer: cli (composition only)
// job: plain-text tables for the CLI's listings.
import type { Address } from '../rtnl/address.js';
import type { Link } from '../rtnl/link.js';

/** Columns padded to their widest cell. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => { widths[i] = Math.max(widths[i] ?? 0, cell.length); });
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n');
}

export function formatLinks(links: Link[]): string {
  const rows = [['INDEX', 'NAME', 'STATE', 'MAC', 'MTU', 'KIND']];
  for (const l of links) {
    rows.push([String(l.index), l.name, l.up ? 'UP' : l.adminUp ? 'NO-CARRIER' : 'DOWN', l.mac ?? '-', String(l.mtu ?? '-'), l.kind ?? '-']);
  }
  return table(rows);
}

export function formatAddresses(addrs: Address[], links: Link[]): string {
  const names = new Map(links.map((l) => [l.index, l.name]));
  const rows = [['DEV', 'ADDRESS', 'LABEL', 'SCOPE']];
  for (const a of addrs) {
    rows.push([names.get(a.ifindex) ?? String(a.ifindex), `${a.address}/${a.prefixLength}`, a.label ?? '-', a.scope]);
  }
  return table(rows);
}
