// layer: test helpers (unit)
// job: the captured ipset messages (test/fixtures/ipset/*.hex) as buffers, and a fake kernel for an IpsetClient.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readU16Host, readU32Host, writeU32Host } from '../../src/bytes.js';
import { IpsetClient } from '../../src/ipset/client.js';
import { NLMSG_ERROR, NLMSG_HDRLEN } from '../../src/netlink/constants.js';
import type { NlMessage } from '../../src/netlink/message.js';
import { FakeTransport, errorTo, flush } from './fake-transport.js';

/** The repository's test/fixtures/ipset directory (tests run from dist/test/...). */
export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'fixtures', 'ipset');

/** One captured message: the bytes of NAME.hex (its `#` line says which command sent it). */
export function fixture(name: string): Buffer {
  const text = fs.readFileSync(path.join(FIXTURES, `${name}.hex`), 'utf8');
  return Buffer.from(text.split('\n').filter((l) => !l.startsWith('#')).join('').replace(/\s+/g, ''), 'hex');
}

/** The command line a fixture was captured from. */
export function fixtureCommand(name: string): string {
  return fs.readFileSync(path.join(FIXTURES, `${name}.hex`), 'utf8').split('\n')[0]?.replace(/^# /, '') ?? '';
}

/** `message` with nlmsg_seq/nlmsg_pid replaced (and those of the request echoed in an NLMSG_ERROR). */
export function resequence(message: Buffer, seq: number, pid?: number): Buffer {
  const out = Buffer.from(message);
  writeU32Host(out, seq, 8);
  if (pid !== undefined) writeU32Host(out, pid, 12);
  if (readU16Host(out, 4) === NLMSG_ERROR && out.length >= NLMSG_HDRLEN + 4 + NLMSG_HDRLEN) writeU32Host(out, seq, NLMSG_HDRLEN + 4 + 8);
  return out;
}

/** The sequence number of a message. */
export function seqOf(message: Buffer): number {
  return readU32Host(message, 8);
}

/** A client over a fake kernel that answered the protocol check with the captured reply. */
export interface FakeIpset {
  client: IpsetClient;
  fake: FakeTransport;
  /** The IPSET_CMD_PROTOCOL request the client sent. */
  protocolRequest: NlMessage;
}

/** Open an IpsetClient over a FakeTransport; the kernel side answers the handshake from fixtures. */
export async function fakeIpset(): Promise<FakeIpset> {
  const fake = new FakeTransport();
  const opening = IpsetClient.overTransport(fake);
  await flush();
  const protocolRequest = fake.requests.at(-1) as NlMessage;
  fake.deliver(resequence(fixture('reply-protocol'), protocolRequest.header.seq, fake.portId));
  return { client: await opening, fake, protocolRequest };
}

/** The last request the fake received, as raw bytes (header and payload). */
export function lastRequestBytes(fake: FakeTransport): Buffer {
  const last = fake.sent.at(-1);
  if (!last) throw new Error('nothing sent');
  return last;
}

/** Wait until the client sent its next request, then answer it with `reply` (a fixture name or bytes), or an ACK. */
export async function answer(fake: FakeTransport, reply?: string | Buffer): Promise<Buffer> {
  await flush();
  const sent = lastRequestBytes(fake);
  const req = fake.requests.at(-1) as NlMessage;
  if (reply === undefined) fake.deliver(errorTo(req.header, fake.portId));
  else fake.deliver(resequence(typeof reply === 'string' ? fixture(reply) : reply, req.header.seq, fake.portId));
  return sent;
}

/** Wait for the client's dump request, then answer with these messages (each re-sequenced) in one datagram. */
export async function answerDump(fake: FakeTransport, ...replies: (string | Buffer)[]): Promise<Buffer> {
  await flush();
  const sent = lastRequestBytes(fake);
  const req = fake.requests.at(-1) as NlMessage;
  fake.deliver(replies.map((r) => resequence(typeof r === 'string' ? fixture(r) : r, req.header.seq, fake.portId)));
  return sent;
}
