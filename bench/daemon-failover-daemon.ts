// layer: benchmarks
// job: the loaded balancer of bench/daemon-failover.ts, a process of its own: an lvskit Balancer (VRRP in its worker thread, or inline) and, in the same process, the load — 10,000 TCP checks, back-to-back scans of a 1,000,000-row connection table, back-to-back reloads of 1,000 services — reporting as JSON lines.
//
//   node dist/bench/daemon-failover-daemon.js '{"file":…,"load":"full","isolation":"worker","ipvs":true,…}'   (see DaemonOptions)
//
// With IPVS the Balancer runs the whole keepalived.conf: the IPVS table, the health checks owning
// its real servers, and a reload is `balancer.reload()` after one weight in one services file was
// changed. Without IPVS (this host's kernel has none) the Balancer runs the VRRP instance, and the
// same checks (HealthChecks, as the Balancer builds them, from the same converted configuration)
// and the reload's every step but the kernel's (read, parse, convert and validate the 1,000
// services, diff, HealthChecks.replace of each service, the VRRP reconfigure through
// `balancer.reload()`) run beside it in this process.
//
// The scan: the autoban's procfs source reads /proc/net/ip_vs_conn, and a real table of a million
// rows cannot be made in user-mode Linux, so a synthetic file in the kernel's format
// (bench/conns-synthetic.ts) is read by the same `scanConnections`, in this process, one pass on
// one thread (as /proc/net/ip_vs_conn is read), over and over. Scans and reloads run back to
// back; each next one starts from the event loop.
import fs from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import type { RealServerChange } from '../src/check/events.js';
import { HealthChecks } from '../src/check/runner.js';
import type { DestinationSink, SinkDestination } from '../src/check/sink.js';
import { scanConnections } from '../src/conns/procfs.js';
import { Balancer } from '../src/daemon/balancer.js';
import { checksByService, loadDesired, type DesiredState } from '../src/daemon/desired.js';
import { diffChecks } from '../src/daemon/reload-diff.js';
import { serviceName, type ServiceKey } from '../src/ipvs/model.js';
import { SERVICES, serviceConfig, type DaemonOptions } from './daemon-failover-lab.js';

const options = JSON.parse(process.argv[2] ?? '{}') as DaemonOptions;
const out = (o: object): void => { process.stdout.write(`${JSON.stringify(o)}\n`); };
out({ kind: 'started', pid: process.pid });

const stats = {
  scans: 0, scanMs: [] as number[], scanWorkMs: [] as number[], scanRows: 0,
  reloads: 0, reloadMs: [] as number[], reloadFailures: 0,
  overdue: 0, sinkCalls: 0, realServersDown: 0, downReasons: {} as Record<string, number>, errors: [] as string[],
};
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
let running = true;

/** A real server going DOWN: every real server answers, so each is a false failure (its reason counted). */
function realServerEvent(e: RealServerChange): void {
  if (e.event.type !== 'down') return;
  stats.realServersDown++;
  const reason = e.event.failure?.reason ?? e.event.checker;
  stats.downReasons[reason] = (stats.downReasons[reason] ?? 0) + 1;
}

/** Without IPVS the checks' decisions have nowhere to go: counted (in steady state every check passes and nothing is called). */
const countingSink: DestinationSink<ServiceKey> = {
  addDestination: () => { stats.sinkCalls++; }, setWeight: () => { stats.sinkCalls++; }, removeDestination: () => { stats.sinkCalls++; },
};

const loads = new Set(options.loads ?? ['checks', 'scan', 'reload']);
// With IPVS and the checks load: the whole configuration (beside keepalived: without the instance). Otherwise the
// instance alone (beside keepalived: nothing), the checks and reloads beside it.
const whole = options.load === 'full' && options.ipvs && loads.has('checks');
const files = options.files;
const fullFile = options.vrrp ? files.full : files.servicesOnly;
const balancer = await Balancer.open({
  file: whole ? fullFile : options.vrrp ? files.vrrpOnly : files.empty, isolation: options.isolation, configId: 'lb2',
  ...(options.vrrpThreadNice === null ? { vrrpThreadNice: null } : {}),
});
balancer.on('event', (e) => {
  if (e.source === 'vrrp' && e.type === 'transition') out({ kind: 'transition', to: e.to, reason: e.reason, atMs: e.atMs });
  else if (e.source === 'checks' && e.type === 'overdue') stats.overdue++;
  else if (e.source === 'checks' && e.type === 'real-server') realServerEvent(e as unknown as RealServerChange);
  else if (e.source === 'daemon' && (e.type === 'error' || e.type === 'reload-failed')) stats.errors.push(e.error?.message ?? e.type);
});
const began = performance.now();
await balancer.start();
out({ kind: 'running', startMs: performance.now() - began });

/** Without IPVS: the checks of every service, as the Balancer would run them (real servers present as the configuration starts them). */
async function checksBeside(desired: DesiredState): Promise<HealthChecks<ServiceKey>> {
  const checks = new HealthChecks<ServiceKey>({ sink: countingSink });
  checks.on('overdue', () => { stats.overdue++; });
  checks.on('real-server', realServerEvent);
  const start = new Map(desired.services.map((s) => [serviceName(s), (s.destinations ?? []) as SinkDestination[]]));
  for (const spec of desired.virtualServers) await checks.add(spec, { present: start.get(serviceName(spec.service)) ?? [] });
  return checks;
}

/**
 * One reload without IPVS: the configuration read and validated whole, the checks' difference, each
 * kept service's checks given their new spec (real servers present as the previous configuration
 * left them: every check passes), then the VRRP side's reconfigure through the Balancer. What is
 * left out is the kernel's part: the dump, plan and apply of the IPVS table.
 */
async function reloadWithoutIpvs(checks: HealthChecks<ServiceKey>, before: DesiredState): Promise<DesiredState> {
  const after = loadDesired({ file: fullFile, configId: 'lb2' });
  diffChecks(before.virtualServers, after.virtualServers);
  const present = new Map(before.services.map((s) => [serviceName(s), (s.destinations ?? []) as SinkDestination[]]));
  for (const [name, spec] of checksByService(after)) await checks.replace(spec, { present: present.get(name) ?? [] });
  await checks.settled();
  await balancer.reload();
  return after;
}

/** CLOCK_MONOTONIC in ms (the observer's kernel timestamps are on it too). */
const mono = (): number => Number(process.hrtime.bigint()) / 1e6;
const timeline: { reloads: number[][]; scans: number[][]; gc: number[][] } = { reloads: [], scans: [], gc: [] };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) timeline.gc.push([mono() - (performance.now() - e.startTime), e.duration, ((e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0)]);
}).observe({ entryTypes: ['gc'] });

async function scanLoop(): Promise<void> {
  while (running) {
    const t0 = performance.now();
    const m0 = mono();
    const r = await scanConnections({ file: options.connsFile, threshold: 100, threads: options.scanThreads });
    timeline.scans.push([m0, mono(), r.elapsedMs]);
    stats.scanWorkMs.push(r.elapsedMs);
    stats.scanMs.push(performance.now() - t0);
    stats.scanRows = r.rows;
    stats.scans++;
  }
}

async function reloadLoop(reload: () => Promise<unknown>): Promise<void> {
  for (let k = 0; running; k++) {
    const i = (k * 7) % SERVICES; // a weight changed each time, in a different service
    fs.writeFileSync(path.join(files.dir, 'services', `svc${String(i).padStart(4, '0')}.conf`), serviceConfig(i, k % 10));
    const t0 = performance.now();
    const m0 = mono();
    try {
      await reload();
      timeline.reloads.push([m0, mono()]);
      stats.reloadMs.push(performance.now() - t0);
      stats.reloads++;
    } catch (error) {
      stats.reloadFailures++;
      stats.errors.push((error as Error).message);
    }
    // The next one starts from the event loop, as a SIGHUP or a control request would (without IPVS a reload does no I/O).
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const loops: Promise<void>[] = [];
let checks: HealthChecks<ServiceKey> | undefined;
if (options.load === 'full') {
  let desired = balancer.desired;
  if (!whole && loads.has('checks')) {
    desired = loadDesired({ file: fullFile, configId: 'lb2' });
    checks = await checksBeside(desired);
  }
  // One delay_loop: every check has run once before the first scan and reload.
  await new Promise((resolve) => setTimeout(resolve, (desired.virtualServers[0]?.delayLoopMs ?? 6000) + 500));
  if (loads.has('scan')) loops.push(scanLoop());
  if (loads.has('reload') && !loads.has('checks')) throw new Error('a reload load needs the checks load (it replaces their specs)');
  if (loads.has('reload')) loops.push(reloadLoop(whole ? () => balancer.reload() : async () => { desired = await reloadWithoutIpvs(checks!, desired); }));
}
loopDelay.enable();
const cpu0 = process.cpuUsage();
const wall0 = performance.now();
const elu0 = performance.eventLoopUtilization();
out({ kind: 'ready', services: balancer.desired.services.length || (checks ? SERVICES : 0) });

function report(kind: string): void {
  const cpu = process.cpuUsage(cpu0);
  out({
    kind, ...stats, scanMs: undefined, reloadMs: undefined, scanWorkMs: undefined, scanMsAll: stats.scanMs, scanWorkMsAll: stats.scanWorkMs, reloadMsAll: stats.reloadMs,
    ...(kind === 'final' ? { timeline } : {}),
    cpuPct: (100 * (cpu.user + cpu.system)) / 1000 / (performance.now() - wall0),
    mainLoopUtilization: performance.eventLoopUtilization(elu0).utilization,
    mainLoopDelayMaxMs: loopDelay.max / 1e6, mainLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
  });
}
const ticker = setInterval(() => report('stats'), 2000);

process.on('SIGTERM', () => {
  running = false;
  clearInterval(ticker);
  report('final');
  void (async () => {
    await Promise.allSettled(loops);
    await checks?.stop();
    await balancer.stop();
    process.exit(0);
  })();
});
