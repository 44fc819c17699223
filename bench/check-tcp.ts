// layer: benchmarks
// job: 10,000 real servers on loopback addresses checked by TCP_CHECK every 6 s: CPU per check against a bare net.connect+close loop, open fds, lateness, in one run.
//
//   npx tsc && node dist/bench/check-tcp.js [--update-docs]      (as root: it runs in its own network namespace)
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { HealthChecks } from '../src/check/runner.js';
import type { DestinationSink } from '../src/check/sink.js';
import type { VirtualServerSpec } from '../src/check/spec.js';
import { updateDocs } from './report.js';

const SERVERS = 10_000;
const PER_VS = 1_000;
const DELAY_LOOP_MS = 6_000;
const MAX_IN_FLIGHT = 256;
const PORT = 8080;
/** lvskit is measured over this many periods, after one period of start-up. */
const PERIODS = 3;

const here = fileURLToPath(import.meta.url);

/** 127.1.x.y: 10,000 distinct loopback addresses (all local in a namespace where lo is up). */
function addresses(): string[] {
  return Array.from({ length: SERVERS }, (_, i) => `127.1.${Math.floor(i / 250)}.${(i % 250) + 1}`);
}

const fdCount = (): number => fs.readdirSync('/proc/self/fd').length;
const cpuUs = (u: NodeJS.CpuUsage): number => u.user + u.system;

/** A server in a child process: accepts on 0.0.0.0:PORT and closes at once (its CPU is not ours). */
async function startServer(): Promise<ChildProcess> {
  const code = `const s = require('net').createServer((c) => { c.on('error', () => {}); c.destroy(); });
s.listen({ port: ${PORT}, host: '0.0.0.0', backlog: 4096 }, () => console.log('ready'));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => child.stdout!.once('data', resolve));
  return child;
}

/** The baseline: connect and close each address once, `MAX_IN_FLIGHT` at a time. */
async function bareLoop(targets: string[]): Promise<{ cpuUs: number; wallMs: number; maxFds: number; failures: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  let active = 0;
  let maxFds = 0;
  let failures = 0;
  await new Promise<void>((resolve) => {
    const launch = (): void => {
      while (active < MAX_IN_FLIGHT && next < targets.length) {
        const s = net.connect({ host: targets[next++]!, port: PORT });
        active += 1;
        s.once('connect', () => { s.destroy(); done(); });
        s.once('error', () => { failures += 1; s.destroy(); done(); });
      }
      if (active === 0 && next >= targets.length) resolve();
    };
    const done = (): void => {
      active -= 1;
      if (next % 1000 === 0) maxFds = Math.max(maxFds, fdCount());
      launch();
    };
    launch();
  });
  return { cpuUs: cpuUs(process.cpuUsage(cpu0)), wallMs: performance.now() - t0, maxFds, failures };
}

/**
 * The same connections paced as health checks are: each address once per delay_loop on its own
 * setTimeout (random phase), over the same periods. Shows what pacing itself costs.
 */
async function pacedLoop(targets: string[]): Promise<{ cpuUs: number; count: number }> {
  let count = 0;
  let running = true;
  const timers = new Set<NodeJS.Timeout>();
  const connect = (host: string): void => {
    const s = net.connect({ host, port: PORT });
    s.once('connect', () => { s.destroy(); count += 1; if (running) later(host, DELAY_LOOP_MS); });
    s.once('error', () => { s.destroy(); if (running) later(host, DELAY_LOOP_MS); });
  };
  const later = (host: string, ms: number): void => {
    const timer = setTimeout(() => { timers.delete(timer); connect(host); }, ms);
    timers.add(timer);
  };
  const cpu0 = process.cpuUsage();
  for (const host of targets) later(host, Math.random() * DELAY_LOOP_MS);
  await new Promise((resolve) => setTimeout(resolve, PERIODS * DELAY_LOOP_MS));
  const cpu = cpuUs(process.cpuUsage(cpu0));
  running = false;
  for (const t of timers) clearTimeout(t);
  return { cpuUs: cpu, count };
}

const nullSink: DestinationSink<string> = { addDestination: () => undefined, setWeight: () => undefined, removeDestination: () => undefined };

interface LvskitRun { cpuUs: number; attempts: number; failures: number; maxFds: number; overdue: number; maxLatenessMs: number; lateStarts: number; minPerServer: number }

async function lvskit(targets: string[]): Promise<LvskitRun> {
  const hc = new HealthChecks<string>({ sink: nullSink, maxInFlight: MAX_IN_FLIGHT });
  for (let v = 0; v < SERVERS / PER_VS; v++) {
    const spec: VirtualServerSpec<string> = {
      id: `vs${v}`, service: `vs${v}`, port: PORT, delayLoopMs: DELAY_LOOP_MS,
      realServers: targets.slice(v * PER_VS, (v + 1) * PER_VS).map((address) => ({ address, weight: 10, inhibitOnFailure: true, checkers: [{ kind: 'TCP_CHECK', connectTimeoutMs: 3000 }] })),
    };
    await hc.add(spec);
  }
  let overdue = 0;
  hc.on('overdue', () => { overdue += 1; });
  // Start-up: one period for every check to have run once.
  await new Promise((resolve) => setTimeout(resolve, DELAY_LOOP_MS));
  const perServer = new Map<string, number>();
  let attempts = 0;
  let failures = 0;
  let maxLatenessMs = 0;
  let lateStarts = 0;
  hc.on('attempt', ({ key, report }) => {
    attempts += 1;
    if (!report.result.ok) failures += 1;
    perServer.set(key, (perServer.get(key) ?? 0) + 1);
    const late = report.startedAt - report.dueAt;
    maxLatenessMs = Math.max(maxLatenessMs, late);
    if (late > DELAY_LOOP_MS) lateStarts += 1;
  });
  let maxFds = 0;
  const sampler = setInterval(() => { maxFds = Math.max(maxFds, fdCount()); }, 50);
  const cpu0 = process.cpuUsage();
  await new Promise((resolve) => setTimeout(resolve, PERIODS * DELAY_LOOP_MS));
  const cpu = cpuUs(process.cpuUsage(cpu0));
  clearInterval(sampler);
  overdue += hc.scheduler.stats().overdueNow;
  await hc.stop();
  const counts = [...perServer.values()];
  return { cpuUs: cpu, attempts, failures, maxFds, overdue, maxLatenessMs, lateStarts, minPerServer: counts.length === SERVERS ? Math.min(...counts) : 0 };
}

async function inside(): Promise<void> {
  const targets = addresses();
  const server = await startServer();
  try {
    await bareLoop(targets.slice(0, 1000)); // warm-up
    const baseFds = fdCount();
    // The baseline makes as many connections as lvskit's checks, half before and half after it.
    const bare1 = await bareLoop([...targets, ...targets.slice(0, SERVERS / 2)]);
    const paced = await pacedLoop(targets);
    const run = await lvskit(targets);
    const bare2 = await bareLoop([...targets.slice(SERVERS / 2), ...targets]);
    const bareCount = 3 * SERVERS;
    const barePerCheck = (bare1.cpuUs + bare2.cpuUs) / bareCount;
    const perCheck = run.cpuUs / run.attempts;
    const fmt = (us: number): string => `${us.toFixed(1)} µs`;
    const rows = [
      '| | CPU per check | checks | failed | max open fds (baseline ' + baseFds + ') |',
      '| --- | ---: | ---: | ---: | ---: |',
      `| bare \`net.connect\` + close, ${MAX_IN_FLIGHT} at a time (half before, half after lvskit) | ${fmt(barePerCheck)} | ${bareCount} | ${bare1.failures + bare2.failures} | ${Math.max(bare1.maxFds, bare2.maxFds)} |`,
      `| bare, paced: each address once per ${DELAY_LOOP_MS / 1000} s on its own \`setTimeout\`, ${PERIODS} periods | ${fmt(paced.cpuUs / paced.count)} | ${paced.count} | | |`,
      `| lvskit HealthChecks, TCP_CHECK every ${DELAY_LOOP_MS / 1000} s, ${PERIODS} periods | ${fmt(perCheck)} | ${run.attempts} | ${run.failures} | ${run.maxFds} |`,
    ];
    const when = new Date().toISOString().slice(0, 10);
    const markdown = [
      ...rows,
      '',
      `lvskit ÷ bare loop: **${(perCheck / barePerCheck).toFixed(2)}×** CPU per check (goal ≤ 1.5×); lvskit ÷ paced bare: ${(perCheck / (paced.cpuUs / paced.count)).toFixed(2)}×. Open fds stayed within baseline + in-flight bound (${baseFds} + ${MAX_IN_FLIGHT} = ${baseFds + MAX_IN_FLIGHT}): ` +
        `**${run.maxFds <= baseFds + MAX_IN_FLIGHT ? 'yes' : 'no'}** (max ${run.maxFds}). Overdue checks: **${run.overdue}**; latest start ${run.maxLatenessMs.toFixed(0)} ms after due; ` +
        `starts more than a period late: ${run.lateStarts}; every server checked at least ${run.minPerServer} times in the ${PERIODS} periods.`,
      '',
      `Measured ${when} on ${process.platform} ${process.arch}, Node ${process.version}, ${SERVERS.toLocaleString('en-US')} servers on 127.1.x.y:${PORT} in a network namespace ` +
        `(one listener in a child process), ${SERVERS / PER_VS} virtual servers × ${PER_VS}, in-flight bound ${MAX_IN_FLIGHT}, default jitter; command: \`npx tsc && node dist/bench/check-tcp.js\`.`,
    ].join('\n');
    console.log(markdown);
    if (process.argv.includes('--update-docs')) updateDocs('check-tcp', markdown);
  } finally {
    server.kill('SIGKILL');
  }
}

/** Re-run this script inside a fresh network namespace (lo up), then remove it. */
function outside(): void {
  const ns = `lvskit-bench-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    execFileSync('ip', ['netns', 'exec', ns, process.execPath, here, ...process.argv.slice(2)], {
      stdio: 'inherit', env: { ...process.env, LVSKIT_BENCH_INSIDE: '1' },
    });
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
}

if (process.env.LVSKIT_BENCH_INSIDE === '1') await inside();
else outside();
