// layer: test helpers (unit)
// job: load what ipvsadm 1.31 sent and the kernel answered (test/fixtures/ipvs), and reduce messages to what the kernel reads.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AttrWriter, decodeAttrs, decodeHeader, decodeMessages, encodeMessage, NLA_F_NESTED, type Attr, type NlMessage } from '../../src/netlink/index.js';

export interface Exchange {
  argv: string[];
  exitCode: number;
  /** Whole netlink messages ipvsadm sent to the IPVS family, hex. */
  sent: string[];
  /** Datagrams the kernel answered with (IPVS messages, NLMSG_DONE, NLMSG_ERROR), hex. */
  received: string[];
  output: string;
}

export interface Capture {
  familyId: number;
  requests: Exchange[];
  listings: Exchange[];
}

const here = path.dirname(fileURLToPath(import.meta.url));

/** The capture file (from dist/test/helpers back to the checkout). */
export function loadCapture(): Capture {
  return JSON.parse(fs.readFileSync(path.join(here, '..', '..', '..', 'test', 'fixtures', 'ipvs', 'ipvsadm-1.31.json'), 'utf8')) as Capture;
}

/** The exchange whose argv (after `ipvsadm`) is `args`; the nth when several match. */
export function exchange(list: Exchange[], args: string, nth = 0): Exchange {
  const found = list.filter((e) => e.argv.slice(1).join(' ') === args)[nth];
  if (!found) throw new Error(`no captured exchange for ipvsadm ${args}`);
  return found;
}

export const fromHex = (hex: string): Buffer => Buffer.from(hex, 'hex');

/** The messages of one captured datagram. */
export function messagesOf(hex: string): NlMessage[] {
  return decodeMessages(fromHex(hex));
}

function rewrite(attrs: Attr[], keep: Record<number, readonly number[]>): Buffer {
  const w = new AttrWriter();
  for (const a of attrs) {
    const kept = keep[a.type];
    if (kept === undefined) { w.bytes(a.type | (a.nested ? NLA_F_NESTED : 0), a.value); continue; }
    const inner = new AttrWriter();
    for (const n of decodeAttrs(a.value)) if (kept.includes(n.type)) inner.bytes(n.type | (n.nested ? NLA_F_NESTED : 0), n.value);
    w.bytes(a.type | (a.nested ? NLA_F_NESTED : 0), inner.toBuffer()); // keeps the sender's NLA_F_NESTED choice
  }
  return w.toBuffer();
}

/**
 * The message with, inside the top-level nests listed in `keep` (type → nested types kept), only
 * those nested attributes: what the kernel reads of a command that ipvsadm pads with more.
 */
export function keepOnly(message: Buffer, keep: Record<number, readonly number[]>): Buffer {
  const header = decodeHeader(message);
  const genl = message.subarray(16, 20);
  const attrs = rewrite(decodeAttrs(message, 20, header.length), keep);
  return encodeMessage({ type: header.type, flags: header.flags, seq: header.seq, pid: header.pid }, [genl, attrs]);
}
