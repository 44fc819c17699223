// layer: behaviour (check, pure)
// job: DNS messages (RFC 1035 §4): encode DNS_CHECK's query, decode an answer's header, question and answer records; malformed bytes are a typed error.
import { DNS_TYPES, type DnsType } from './types.js';

/** Bytes that are not a DNS message (truncated, a bad name, a pointer loop). */
export class DnsMessageError extends Error {
  override name = 'DnsMessageError';
  constructor(readonly offset: number, problem: string) {
    super(`DNS message at byte ${offset}: ${problem}`);
  }
}

export interface DnsQuestion {
  name: string;
  type: number;
  /** 1 = IN. */
  class: number;
}

export interface DnsRecord extends DnsQuestion {
  ttl: number;
  data: Buffer;
}

export interface DnsMessage {
  id: number;
  /** QR: a response. */
  response: boolean;
  opcode: number;
  /** RD: recursion desired. */
  recursionDesired: boolean;
  /** RCODE (0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, 5 REFUSED...). */
  rcode: number;
  questions: DnsQuestion[];
  answers: DnsRecord[];
  /** NSCOUNT and ARCOUNT as the header gives them (those sections are not decoded). */
  authorityCount: number;
  additionalCount: number;
}

const HEADER_BYTES = 12;
const RCODE_NAMES: Record<number, string> = { 0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED' };

/** `NXDOMAIN` (or `RCODE 9`). */
export function rcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? `RCODE ${rcode}`;
}

/** The type's name (`AAAA`) or `TYPE65`. */
export function dnsTypeName(type: number): string {
  const e = Object.entries(DNS_TYPES).find(([, v]) => v === type);
  return e ? e[0] : `TYPE${type}`;
}

/** `a.example.` → wire labels. `.` (or the empty name) is the root. Throws DnsMessageError on a label over 63 bytes or a name over 255. */
export function encodeDnsName(name: string): Buffer {
  const labels = name === '.' || name === '' ? [] : name.replace(/\.$/, '').split('.');
  const parts: Buffer[] = [];
  for (const label of labels) {
    const bytes = Buffer.from(label, 'ascii');
    if (bytes.length === 0 || bytes.length > 63) throw new DnsMessageError(0, `label \`${label}\` of \`${name}\` must be 1..63 bytes`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  const out = Buffer.concat(parts);
  if (out.length > 255) throw new DnsMessageError(0, `name \`${name}\` is longer than 255 bytes`);
  return out;
}

/** A message as bytes (questions and answers; no authority or additional records). */
export function encodeDnsMessage(m: Omit<DnsMessage, 'authorityCount' | 'additionalCount'>): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt16BE(m.id, 0);
  header.writeUInt16BE((m.response ? 0x8000 : 0) | ((m.opcode & 0xf) << 11) | (m.recursionDesired ? 0x100 : 0) | (m.rcode & 0xf), 2);
  header.writeUInt16BE(m.questions.length, 4);
  header.writeUInt16BE(m.answers.length, 6);
  const parts: Buffer[] = [header];
  for (const q of m.questions) {
    const tail = Buffer.alloc(4);
    tail.writeUInt16BE(q.type, 0);
    tail.writeUInt16BE(q.class, 2);
    parts.push(encodeDnsName(q.name), tail);
  }
  for (const r of m.answers) {
    const fixed = Buffer.alloc(10);
    fixed.writeUInt16BE(r.type, 0);
    fixed.writeUInt16BE(r.class, 2);
    fixed.writeUInt32BE(r.ttl, 4);
    fixed.writeUInt16BE(r.data.length, 8);
    parts.push(encodeDnsName(r.name), fixed, r.data);
  }
  return Buffer.concat(parts);
}

/** DNS_CHECK's query (keepalived's: RD set, one question of class IN). */
export function encodeDnsQuery(id: number, name: string, type: DnsType): Buffer {
  return encodeDnsMessage({ id, response: false, opcode: 0, recursionDesired: true, rcode: 0, questions: [{ name, type: DNS_TYPES[type], class: 1 }], answers: [] });
}

function need(buf: Buffer, at: number, bytes: number, what: string): void {
  if (at + bytes > buf.length) throw new DnsMessageError(at, `truncated ${what} (${buf.length - at} of ${bytes} bytes)`);
}

/** A name at `at` (with compression pointers) and the offset after it. */
function decodeName(buf: Buffer, start: number): { name: string; next: number } {
  const labels: string[] = [];
  let at = start;
  let next: number | undefined;
  let hops = 0;
  let length = 0;
  for (;;) {
    need(buf, at, 1, 'name');
    const len = buf[at] as number;
    if ((len & 0xc0) === 0xc0) {
      need(buf, at, 2, 'name pointer');
      if (++hops > 32) throw new DnsMessageError(at, 'name pointers loop');
      next ??= at + 2;
      at = ((len & 0x3f) << 8) | (buf[at + 1] as number);
      continue;
    }
    if ((len & 0xc0) !== 0) throw new DnsMessageError(at, `bad label length byte 0x${len.toString(16)}`);
    if (len === 0) return { name: labels.length === 0 ? '.' : `${labels.join('.')}.`, next: next ?? at + 1 };
    need(buf, at + 1, len, 'label');
    labels.push(buf.toString('latin1', at + 1, at + 1 + len));
    length += len + 1;
    if (length > 255) throw new DnsMessageError(start, 'name longer than 255 bytes');
    at += 1 + len;
  }
}

/** Decode a message's header, questions and answers. DnsMessageError on anything malformed. */
export function decodeDnsMessage(buf: Buffer): DnsMessage {
  need(buf, 0, HEADER_BYTES, 'header');
  const flags = buf.readUInt16BE(2);
  const qd = buf.readUInt16BE(4);
  const an = buf.readUInt16BE(6);
  let at = HEADER_BYTES;
  const questions: DnsQuestion[] = [];
  for (let i = 0; i < qd; i++) {
    const { name, next } = decodeName(buf, at);
    need(buf, next, 4, 'question');
    questions.push({ name, type: buf.readUInt16BE(next), class: buf.readUInt16BE(next + 2) });
    at = next + 4;
  }
  const answers: DnsRecord[] = [];
  for (let i = 0; i < an; i++) {
    const { name, next } = decodeName(buf, at);
    need(buf, next, 10, 'record');
    const rdLength = buf.readUInt16BE(next + 8);
    need(buf, next + 10, rdLength, 'record data');
    answers.push({ name, type: buf.readUInt16BE(next), class: buf.readUInt16BE(next + 2), ttl: buf.readUInt32BE(next + 4), data: Buffer.from(buf.subarray(next + 10, next + 10 + rdLength)) });
    at = next + 10 + rdLength;
  }
  return {
    id: buf.readUInt16BE(0), response: (flags & 0x8000) !== 0, opcode: (flags >> 11) & 0xf,
    recursionDesired: (flags & 0x100) !== 0, rcode: flags & 0xf, questions, answers,
    authorityCount: buf.readUInt16BE(8), additionalCount: buf.readUInt16BE(10),
  };
}
