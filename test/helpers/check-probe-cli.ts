// layer: test helpers (kernel tier)
// job: one check attempt in another network namespace: run as `ip netns exec NS node check-probe-cli.js JSON`, optionally with a listener there; prints the result and leak counts as JSON.
import fs from 'node:fs';
import net from 'node:net';
import { checkOnce } from '../../src/check/probe.js';
import type { CheckSpec } from '../../src/check/types.js';
import { validateCheck } from '../../src/check/validate.js';

export interface ProbeRequest {
  check: CheckSpec;
  /** Listen here first (accepting and closing), so a failure is the network's doing, not a missing server. */
  listen?: { host: string; port: number };
}

export interface ProbeAnswer {
  result: Awaited<ReturnType<typeof checkOnce>>;
  elapsedMs: number;
  fdsBefore: number;
  fdsAfter: number;
  handlesAfter: string[];
}

const fdCount = (): number => fs.readdirSync('/proc/self/fd').length;

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

async function main(): Promise<void> {
  const request = JSON.parse(process.argv[2] ?? '{}') as ProbeRequest;
  let server: net.Server | undefined;
  if (request.listen) {
    const s = net.createServer((c) => c.destroy());
    server = s;
    await new Promise<void>((resolve) => s.listen(request.listen!.port, request.listen!.host, resolve));
  }
  const config = validateCheck(request.check).config;
  // The first connection makes libuv open a spare descriptor once; do that before counting.
  await new Promise<void>((resolve) => net.connect(1, '127.0.0.1').on('error', () => resolve()).on('connect', function (this: net.Socket) { this.destroy(); resolve(); }));
  await settle();
  const fdsBefore = fdCount();
  const started = performance.now();
  const result = await checkOnce(config);
  const elapsedMs = performance.now() - started;
  await settle();
  const handlesAfter = process.getActiveResourcesInfo().filter((h) => h !== 'TCPServerWrap' && !/Req$|^ConnectWrap$|^Immediate$/.test(h));
  const answer: ProbeAnswer = { result, elapsedMs, fdsBefore, fdsAfter: fdCount(), handlesAfter };
  server?.close();
  process.stdout.write(`${JSON.stringify(answer)}\n`);
}

await main();
