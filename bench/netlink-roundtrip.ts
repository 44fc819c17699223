// layer: benchmarks
// job: netlink request/ACK round trips per second on one socket, serial vs pipelined, in one run.
//
//   npm run bench            (prints a Markdown table; --update-docs writes it into docs/benchmarks.md)
import Benchmark from 'benchmark';
import { NLMSG_NOOP } from '../src/netlink/constants.js';
import type { NetlinkEngine, NetlinkRequest } from '../src/netlink/engine.js';
import { openNetlink } from '../src/netlink/socket.js';
import { NETLINK_ROUTE, RTM_GETLINK } from '../src/rtnl/constants.js';
import { encodeGetLink } from '../src/rtnl/link.js';
import { updateDocs } from './report.js';

/** Requests per benchmark iteration. */
const BATCH = 1000;

interface Row { request: string; serial: number; pipelined: number }

function serial(engine: NetlinkEngine, req: NetlinkRequest): Benchmark.Options['fn'] {
  return async (deferred: Benchmark.Deferred) => {
    for (let i = 0; i < BATCH; i++) await engine.request(req);
    deferred.resolve();
  };
}

function pipelined(engine: NetlinkEngine, req: NetlinkRequest): Benchmark.Options['fn'] {
  return async (deferred: Benchmark.Deferred) => {
    const all: Promise<unknown>[] = [];
    for (let i = 0; i < BATCH; i++) all.push(engine.request(req));
    await Promise.all(all);
    deferred.resolve();
  };
}

/** Round trips per second for `req`, serial and pipelined, measured alternately in one suite. */
function measure(engine: NetlinkEngine, name: string, req: NetlinkRequest): Promise<Row> {
  return new Promise((resolve, reject) => {
    const suite = new Benchmark.Suite(name);
    suite.add('serial', { defer: true, fn: serial(engine, req), minSamples: 20 });
    suite.add('pipelined', { defer: true, fn: pipelined(engine, req), minSamples: 20 });
    suite.on('error', (event: Benchmark.Event) => reject((event.target as unknown as { error?: Error }).error));
    suite.on('complete', () => {
      const [a, b] = suite.map((bench: Benchmark) => bench.hz * BATCH) as number[];
      resolve({ request: name, serial: a ?? 0, pipelined: b ?? 0 });
    });
    suite.run({ async: true });
  });
}

function table(rows: Row[]): string {
  const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
  const lines = [
    '| request | serial (round trips/s) | pipelined (round trips/s) | pipelined ÷ serial |',
    '| --- | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.request} | ${fmt(r.serial)} | ${fmt(r.pipelined)} | ${(r.pipelined / r.serial).toFixed(2)}× |`),
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const engine = openNetlink({ protocol: NETLINK_ROUTE });
  try {
    const rows = [
      // The kernel acknowledges control messages without work: the bare round trip.
      await measure(engine, `NLMSG_NOOP + ACK, ${BATCH} per batch`, { type: NLMSG_NOOP, op: 'NLMSG_NOOP' }),
      // A real request: RTM_GETLINK of `lo`, one reply message plus the ACK.
      await measure(engine, `RTM_GETLINK lo + reply + ACK, ${BATCH} per batch`,
        { type: RTM_GETLINK, payload: encodeGetLink({ index: 1 }), op: 'RTM_GETLINK' }),
    ];
    const when = new Date().toISOString().slice(0, 10);
    const markdown = `${table(rows)}\n\nMeasured ${when} on ${process.platform} ${process.arch}, Node ${process.version}, ` +
      `one socket, window 256 requests; command: \`npm run bench\`.`;
    console.log(markdown);
    if (process.argv.includes('--update-docs')) updateDocs('netlink-roundtrip', markdown);
  } finally {
    engine.close();
  }
}

await main();
