// layer: tests (unit, fuzz)
// job: the netlink engine's receive path under fast-check: damaged replies to a pending request and a dump, delivered
//      through a fake transport, never throw out of the datagram handler; every request ends with one of the engine's
//      typed errors or a result, and close() cancels what is left.
import test from 'ava';
import fc from 'fast-check';
import {
  DumpInterruptedError, NetlinkDecodeError, NetlinkEngine, NetlinkError, NetlinkOverrunError, NLM_F_DUMP_INTR, NLM_F_MULTI,
  RequestCancelledError, RequestTimeoutError,
} from '../../src/netlink/index.js';
import { doneTo, errorTo, FakeTransport, flush, replyTo } from '../helpers/fake-transport.js';
import { bytes, fuzzAsync, mutated } from '../helpers/fuzz.js';

const PORT = 4242;
const TYPED = [NetlinkDecodeError, NetlinkError, DumpInterruptedError, RequestCancelledError, NetlinkOverrunError, RequestTimeoutError];

/** What the kernel could answer: ACKs and errors with ext-ack, multipart replies, DONE (with DUMP_INTR), for either request. */
type Reply = { to: 0 | 1; kind: 'ack' | 'error' | 'reply' | 'done'; error: number; message?: string; payload: Buffer; intr: boolean };
const replyArb: fc.Arbitrary<Reply> = fc.record({
  to: fc.constantFrom(0 as const, 1 as const), kind: fc.constantFrom('ack' as const, 'error' as const, 'reply' as const, 'done' as const),
  error: fc.integer({ min: -4095, max: 0 }), message: fc.option(fc.string({ maxLength: 20 }).filter((s) => !s.includes('\0')), { nil: undefined }),
  payload: bytes(0, 24), intr: fc.boolean(),
});

test('damaged replies never throw out of the datagram handler; requests end typed or with a result, close() cancels the rest', async (t) => {
  await fuzzAsync(t, 'netlink.engine.receive', [fc.array(replyArb, { minLength: 1, maxLength: 6 }), fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 6 }), fc.integer({ min: 0, max: 1000 })], async (replies, damage, seed) => {
    const fake = new FakeTransport(PORT);
    const engine = new NetlinkEngine(fake);
    engine.on('malformed', () => undefined);
    engine.on('stray', () => undefined);
    engine.on('error', () => undefined);
    const outcomes: unknown[] = [];
    const settle = (p: Promise<unknown>, i: number): Promise<void> => p.then(() => { outcomes[i] = 'ok'; }, (err: unknown) => { outcomes[i] = err; });
    const done = [settle(engine.request({ type: 0x12 }), 0), settle(engine.request({ type: 0x12, dump: true, maxDumpRetries: 1 }), 1)];
    await flush();
    const headers = fake.requests.map((r) => r.header);
    for (const [i, r] of replies.entries()) {
      const req = headers[r.to] ?? headers[0]!;
      let msg = r.kind === 'ack' ? errorTo(req, PORT)
        : r.kind === 'error' ? errorTo(req, PORT, { error: r.error, ...(r.message !== undefined ? { message: r.message } : {}), ...(r.error % 2 ? { echo: r.payload } : {}) })
          : r.kind === 'done' ? doneTo(req, PORT, { error: r.error, flags: r.intr ? NLM_F_DUMP_INTR : 0 })
            : replyTo(req, PORT, 0x10, r.payload, { flags: r.to === 1 ? NLM_F_MULTI : 0 });
      const edits = damage[i] ?? 0;
      if (edits > 0) msg = fc.sample(mutated(fc.constant(msg)), { numRuns: 1, seed: seed + i })[0]!;
      try {
        fake.deliver(msg);
      } catch (err) {
        throw new Error(`the datagram handler threw: ${String(err)}`, { cause: err });
      }
      await flush();
    }
    engine.close();
    await Promise.all(done);
    outcomes.forEach((o, i) => {
      if (o !== 'ok' && !TYPED.some((c) => o instanceof c)) throw new Error(`request ${i} ended with an untyped ${String(o)}`);
    });
  });
});
