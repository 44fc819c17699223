// layer: benchmarks (soak)
// job: an hour of the site under `lvskit run` in the IPVS kernel: steady client traffic, a failover every 2 minutes, a reload every 30 s; both daemons' RSS and descriptors must stay flat and no request may fail outside a failover window.
//
//   npm run soak [-- --minutes 60] [-- --update-docs]   (the table into docs/reliability.md, section Soak)
//   npm run soak -- --heap-snapshots                  (also what the daemons' V8 heaps retain, warm-up's end vs the end)
//   npm run soak -- --lb2-option --no-heap-tuning      (lb2 with one more `lvskit run` option: an A/B within one run)
//
// Not in CI. Needs IPVS: without it the script runs itself inside user-mode Linux (bench/uml.ts).
// The lab is the site's (test/helpers/site-lab.ts: lb1, lb2, three real servers, a client), with
// lvskit as both balancers. Failovers move the VIP without restarting a daemon, so that each
// daemon's memory and descriptors are one series over the whole run: lb1's instance tracks a
// track_file with weight -100; writing 1 into it drops lb1 from priority 150 to 50 and lb2 (100)
// takes over, writing 0 gives lb1 its 150 back and it preempts. Every reload edits rs3's weight
// (10 ↔ 20) in both balancers' service file and sends SIGHUP to both daemons, then waits for each
// to log `reloaded`. Every 10 s each daemon's VmRSS (/proc/PID/status) and its open descriptors
// (/proc/PID/fd, the least of three reads 100 ms apart, so a health check's socket in flight is not
// counted as growth) are sampled; both are judged per minute (the median of its six samples). Once a
// minute each daemon's own account of its memory is logged (`lvskit status --memory`: V8 heap per
// thread, malloc's arenas, trims), for where a growth is. A failed request counts as the failover's when it was sent within
// Master_Down_Interval + SLACK_MS of a VRRP transition either daemon logged.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LvskitDriver } from '../test/helpers/site-lvskit.js';
import { SiteLab } from '../test/helpers/site-lab.js';
import { balancerSpec, masterDownIntervalMs, SLACK_MS, type BalancerName, type SiteSpec } from '../test/helpers/site-model.js';
import { vipHolder, type ScenarioContext } from '../test/helpers/site-phase.js';
import { Cleanup, monoMs, poll, sleep } from '../test/helpers/site-procs.js';
import { TRAFFIC } from '../test/helpers/site-scenario.js';
import { Traffic } from '../test/helpers/site-traffic.js';
import { numberOption } from './daemon-lab.js';
import { updateDocs } from './report.js';
import { heapGrowth, summarizeHeapSnapshot } from './soak-heap.js';
import { memoryLine, readDaemonMemory } from './memory-report.js';
import { classifyFailures, failoverWindows, flatness, type Flatness, type Sample } from './soak-verdict.js';
import { benchArgs, kernelName, ranInUml } from './uml.js';

const MINUTES = numberOption('minutes', 60);
/** Samples before this are not judged: node's heap and the kernel's tables grow to their working size first. */
const WARMUP_MIN = numberOption('warmup', Math.min(10, MINUTES / 6));
const FAILOVER_EVERY_MS = 120_000;
const RELOAD_EVERY_MS = 30_000;
/** Reloads fall between failovers (15 s after the minute), never on one. */
const RELOAD_OFFSET_MS = 15_000;
const SAMPLE_EVERY_MS = 10_000;
const TOLERANCE_PCT = 10;
/** lb1's priority drop: the track_file's weight × 1. */
const DROP = 100;
const TRACK_FILE = 'soak-drop';
/**
 * Where the track file lives: on a tmpfs of the guest (/run), not beside the configuration under
 * /var/tmp, which user-mode Linux reaches through hostfs, where a write raises no inotify event
 * (the daemon never saw the file change there; seen in the first runs).
 */
const TRACK_DIR = `/run/lvskit-soak-${process.pid}`;
/** RSS and descriptors are judged per minute (the median of its samples): one sample can catch V8 just before a collection. */
const BIN_MS = 60_000;

type Series = Record<BalancerName, { rss: Sample[]; fds: Sample[] }>;
interface Event { atMs: number; what: string; tookMs: number; ok: boolean }

const log = (s: string): void => console.log(`# ${s}`);

/** `--lb2-option OPT`: lb2 runs with this extra `lvskit run` option (e.g. --no-heap-tuning), an A/B of a setting within one run; the verdicts are the same. */
const LB2_EXTRA = ((i) => (i >= 0 && benchArgs()[i + 1] ? [benchArgs()[i + 1]!] : []))(benchArgs().indexOf('--lb2-option'));

/** `--heap-snapshots`: the daemons run with `--heapsnapshot-signal=SIGUSR2`, snapshotted at the warm-up's end and at the end, compared. */
const HEAP_DIR = benchArgs().includes('--heap-snapshots') ? `/var/tmp/lvskit-soak-heap-${process.pid}` : undefined;

/** SIGUSR2 to `pid`; resolves with the snapshot file once it is written (its size stable over a second). */
async function heapSnapshot(pid: number): Promise<string | undefined> {
  const before = new Set(fs.readdirSync(HEAP_DIR!));
  process.kill(pid, 'SIGUSR2');
  const file = await poll(async () => fs.readdirSync(HEAP_DIR!).find((f) => !before.has(f) && f.includes(`.${pid}.`)), 120_000, 500);
  if (!file) return undefined;
  let size = -1;
  while (fs.statSync(path.join(HEAP_DIR!, file)).size !== size) {
    size = fs.statSync(path.join(HEAP_DIR!, file)).size;
    await sleep(1000);
  }
  return path.join(HEAP_DIR!, file);
}

async function heapSnapshots(driver: LvskitDriver, lab: SiteLab): Promise<Array<string | undefined>> {
  const files: Array<string | undefined> = [];
  for (const b of ['lb1', 'lb2'] as const) files.push(await heapSnapshot(driver.pid(lab.balancer(b))!));
  return files;
}

function reportHeap(first: Array<string | undefined>, last: Array<string | undefined>): void {
  (['lb1', 'lb2'] as const).forEach((b, i) => {
    const [f0, f1] = [first[i], last[i]];
    if (!f0 || !f1) return log(`${b}: heap snapshot missing`);
    const [h0, h1] = [summarizeHeapSnapshot(f0), summarizeHeapSnapshot(f1)];
    log(`${b} V8 heap retained: ${(h0.totalBytes / 1048576).toFixed(2)} MiB after the warm-up, ${(h1.totalBytes / 1048576).toFixed(2)} MiB at the end; grew most: ${heapGrowth(h0, h1).join('; ')}`);
  });
}

/** lb1's keepalived.conf with the track_file that the failovers write, and the instance tracking it. */
function withTrackFile(text: string, file: string): string {
  return `track_file ${TRACK_FILE} {\n  file ${file}\n}\n\n${text.replace('  track_interface {', `  track_file {\n    ${TRACK_FILE} weight -${DROP}\n  }\n  track_interface {`)}`;
}

function siteWithRs3(site: SiteSpec, weight: number): SiteSpec {
  return { ...site, services: site.services.map((s) => ({ ...s, realServers: s.realServers.map((r) => (r.name === 'rs3' ? { ...r, weight } : r)) })) };
}

async function writeConfigs(driver: LvskitDriver, lab: SiteLab, site: SiteSpec): Promise<void> {
  for (const name of ['lb1', 'lb2'] as const) {
    const lb = lab.balancer(name);
    await driver.writeConfig(lb, site);
    if (name === 'lb1') {
      const main = path.join(lb.configDir, 'keepalived.conf');
      fs.writeFileSync(main, withTrackFile(fs.readFileSync(main, 'utf8'), path.join(TRACK_DIR, TRACK_FILE)));
    }
  }
}

function rssKb(pid: number): number {
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
}

async function openFds(pid: number): Promise<number> {
  const counts: number[] = [];
  for (let i = 0; i < 3; i++) {
    counts.push(fs.readdirSync(`/proc/${pid}/fd`).length);
    if (i < 2) await sleep(100);
  }
  return Math.min(...counts);
}

/** SIGHUP to both daemons after flipping rs3's weight; resolves once each logged `reloaded` (or failed to). */
async function reload(driver: LvskitDriver, lab: SiteLab, site: SiteSpec): Promise<Event> {
  await writeConfigs(driver, lab, site);
  const start = monoMs();
  const lbs = (['lb1', 'lb2'] as const).map((n) => lab.balancer(n));
  for (const lb of lbs) process.kill(driver.pid(lb)!, 'SIGHUP');
  const done = await Promise.all(lbs.map((lb) => poll(async () => driver.timedLog(lb).find((l) => l.atMs >= start && /"type":"reload(ed|-failed)"/.test(l.text)), 60_000, 100)));
  const ok = done.every((l) => l !== undefined && l.text.includes('"type":"reloaded"'));
  return { atMs: start, what: `reload rs3 weight ${site.services[0]!.realServers[2]!.weight}`, tookMs: monoMs() - start, ok };
}

/** Writes lb1's track file so that the VIP moves to `to`; resolves once it holds the VIP alone (or after 30 s). */
async function failover(ctx: ScenarioContext, to: BalancerName): Promise<Event> {
  const start = monoMs();
  fs.writeFileSync(path.join(TRACK_DIR, TRACK_FILE), to === 'lb2' ? '1\n' : '0\n');
  const moved = await poll(async () => ((await vipHolder(ctx)) === to ? true : undefined), 30_000, 100);
  return { atMs: start, what: `failover to ${to}`, tookMs: monoMs() - start, ok: moved === true };
}

async function sample(driver: LvskitDriver, lab: SiteLab, series: Series): Promise<void> {
  for (const name of ['lb1', 'lb2'] as const) {
    const pid = driver.pid(lab.balancer(name));
    if (pid === undefined) throw new Error(`lvskit@${name} is no longer running`);
    const atMs = monoMs();
    series[name].rss.push({ atMs, value: rssKb(pid) });
    series[name].fds.push({ atMs, value: await openFds(pid) });
  }
}

/** The host's load averages, written every 30 s by the host side into a file the guest can read (/var/tmp is shared). */
function hostLoads(file: string | undefined): number[] {
  if (!file || !fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number);
}

interface Outcome {
  minutes: number; warmupMin: number; boundMs: number; events: Event[]; requests: number;
  failed: { inside: number; outside: number; outsideDetail: string[]; reasons: Record<string, number> };
  flat: Record<BalancerName, { rss: Flatness; fds: Flatness }>; guestLoad: number[]; hostLoad: number[];
}

function table(o: Outcome): string {
  const count = (what: string): Event[] => o.events.filter((e) => e.what.startsWith(what));
  const [failovers, reloads] = [count('failover'), count('reload')];
  const worst = (es: Event[]): string => `${(Math.max(0, ...es.map((e) => e.tookMs)) / 1000).toFixed(1)} s`;
  const verdict = (ok: boolean): string => (ok ? '**pass**' : '**FAIL**');
  const row = (what: string, f: Flatness, unit: (v: number) => string): string =>
    `| ${what} | ${f.first === undefined ? '–' : unit(f.first)} | ${unit(f.max)} | ${unit(f.last)} | ${f.changePct >= 0 ? '+' : ''}${f.changePct.toFixed(1)} % | ${f.maxDeviationPct.toFixed(1)} % | ${verdict(f.flat)} |`;
  const mib = (kb: number): string => `${(kb / 1024).toFixed(1)} MiB`;
  const n = (v: number): string => String(v);
  const load = (xs: number[]): string => (xs.length ? `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)} (median ${[...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!.toFixed(1)})` : 'not recorded');
  const reasons = Object.entries(o.failed.reasons).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  return [
    '| measure | figure | verdict |',
    '| --- | --- | --- |',
    `| duration | ${o.minutes} min of traffic, warm-up ${Number(o.warmupMin.toFixed(1))} min | |`,
    `| failovers (VIP moved, both ways) | ${failovers.filter((e) => e.ok).length} of ${failovers.length}, slowest ${worst(failovers)} | ${verdict(failovers.every((e) => e.ok))} |`,
    `| reloads (SIGHUP to both daemons, rs3's weight flipped) | ${reloads.filter((e) => e.ok).length} of ${reloads.length} applied by both, slowest ${worst(reloads)} | ${verdict(reloads.every((e) => e.ok))} |`,
    `| requests (a new connection every ${TRAFFIC.intervalMs} ms) | ${o.requests} | |`,
    `| failed inside failover windows (transition ± ${(o.boundMs / 1000).toFixed(1)} s) | ${o.failed.inside} | |`,
    `| failed outside failover windows | ${o.failed.outside} | ${verdict(o.failed.outside === 0)} |`,
    '',
    `| after the warm-up (per-minute medians) | first | max | last | change (last vs first) | largest deviation | within ${TOLERANCE_PCT} % |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
    row('lb1 `lvskit run` RSS', o.flat.lb1.rss, mib), row('lb2 `lvskit run` RSS', o.flat.lb2.rss, mib),
    row('lb1 open descriptors', o.flat.lb1.fds, n), row('lb2 open descriptors', o.flat.lb2.fds, n),
    '',
    `Failure reasons: ${reasons}.${o.failed.outsideDetail.length ? ` Outside the windows: ${o.failed.outsideDetail.slice(0, 10).join('; ')}.` : ''} `
    + `Measured ${new Date().toISOString().slice(0, 10)} in ${kernelName()} (guest with ${os.cpus().length} CPU), Node ${process.version}; `
    + `samples every ${SAMPLE_EVERY_MS / 1000} s; guest load average ${load(o.guestLoad)}, host load average ${load(o.hostLoad)} (2 CPUs shared with other work); `
    + `command: \`nice -n -15 npm run soak -- --minutes ${o.minutes} --update-docs\`.`,
  ].join('\n');
}

async function soak(cleanup: Cleanup, hostLoadFile: string | undefined): Promise<Outcome> {
  const lab = await SiteLab.create(cleanup);
  const driver = new LvskitDriver(cleanup);
    let site = lab.site;
  fs.mkdirSync(TRACK_DIR, { recursive: true });
  cleanup.defer(`remove ${TRACK_DIR}`, () => fs.rmSync(TRACK_DIR, { recursive: true, force: true }));
  fs.writeFileSync(path.join(TRACK_DIR, TRACK_FILE), '0\n');
  await writeConfigs(driver, lab, site);
  if (HEAP_DIR) {
    fs.mkdirSync(HEAP_DIR, { recursive: true });
    process.env['NODE_OPTIONS'] = `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${HEAP_DIR}`;
  }
  for (const name of ['lb1', 'lb2'] as const) await driver.start(lab.balancer(name), name === 'lb2' ? LB2_EXTRA : []);
  delete process.env['NODE_OPTIONS'];
  const traffic = await Traffic.start(lab, TRAFFIC);
  const ctx: ScenarioContext = { lab, driver, traffic, site, log };
  if (!await poll(async () => ((await vipHolder(ctx)) === 'lb1' ? true : undefined), 60_000, 200) || !await traffic.firstSuccess(monoMs(), 60_000)) {
    throw new Error('lb1 did not become master with traffic answered within 60 s');
  }
  await sleep(5000);
  const t0 = monoMs();
  const endMs = t0 + MINUTES * 60_000;
  log(`site up (VIP ${site.vip}); soaking for ${MINUTES} min, warm-up ${WARMUP_MIN} min`);
  const series: Series = { lb1: { rss: [], fds: [] }, lb2: { rss: [], fds: [] } };
  const events: Event[] = [];
  const guestLoad: number[] = [];
  let [nextSample, nextReload, nextFailover] = [t0, t0 + RELOAD_OFFSET_MS, t0 + FAILOVER_EVERY_MS];
  let [reloads, failovers] = [0, 0];
  let firstHeap: Array<string | undefined> | undefined;
  while (monoMs() < endMs) {
    const now = monoMs();
    if (HEAP_DIR && !firstHeap && now >= t0 + WARMUP_MIN * 60_000) {
      firstHeap = await heapSnapshots(driver, lab);
      log(`heap snapshots after the warm-up: ${firstHeap.join(', ')}`);
    } else if (now >= nextSample) {
      await sample(driver, lab, series);
      guestLoad.push(os.loadavg()[0]!);
      const last = (b: BalancerName): string => `${b} RSS ${(series[b].rss.at(-1)!.value / 1024).toFixed(1)} MiB fds ${series[b].fds.at(-1)!.value}`;
      if (series.lb1.rss.length % 6 === 1) {
        log(`+${((now - t0) / 60_000).toFixed(1)} min: ${last('lb1')}, ${last('lb2')}, load ${os.loadavg()[0]!.toFixed(2)}`);
        // Where each daemon's memory is (builds that answer `memory` on the control socket).
        for (const b of ['lb1', 'lb2'] as const) {
          const m = await readDaemonMemory(path.join(lab.balancer(b).runDir, 'lvskit.sock'));
          if (m) log(`  ${b}: ${memoryLine(m)}`);
        }
      }
      nextSample += SAMPLE_EVERY_MS;
    } else if (now >= nextFailover) {
      failovers++;
      const e = await failover(ctx, failovers % 2 === 1 ? 'lb2' : 'lb1');
      events.push(e);
      log(`+${((now - t0) / 60_000).toFixed(1)} min: ${e.what}: ${e.ok ? 'VIP moved' : 'VIP DID NOT MOVE'} in ${Math.round(e.tookMs)} ms`);
      if (!e.ok) for (const b of ['lb1', 'lb2'] as const) for (const l of driver.timedLog(lab.balancer(b)).filter((x) => x.atMs >= now - 5000 && !x.text.includes('"source":"check"'))) log(`  ${b}: ${l.text}`);
      nextFailover += FAILOVER_EVERY_MS;
    } else if (now >= nextReload) {
      reloads++;
      site = siteWithRs3(lab.site, reloads % 2 === 1 ? 20 : 10);
      const e = await reload(driver, lab, site);
      events.push(e);
      if (!e.ok) log(`+${((now - t0) / 60_000).toFixed(1)} min: ${e.what}: NOT APPLIED by both daemons`);
      nextReload += RELOAD_EVERY_MS;
    } else {
      await sleep(Math.min(nextSample, nextReload, nextFailover, endMs) - now);
    }
  }
  await sample(driver, lab, series);
  if (firstHeap) reportHeap(firstHeap, await heapSnapshots(driver, lab));
  const stopAt = monoMs();
  await traffic.settled(stopAt);
  const results = traffic.results(t0, stopAt);
  await traffic.stop();
  const boundMs = masterDownIntervalMs(site, balancerSpec(site, 'lb2').priority) + SLACK_MS;
  const transitions = (['lb1', 'lb2'] as const).flatMap((b) => driver.timedLog(lab.balancer(b)))
    .filter((l) => l.text.includes('"type":"transition"') && l.text.includes('"source":"vrrp"')).map((l) => l.atMs);
  const failures = results.filter((r) => !r.ok);
  const { inside, outside } = classifyFailures(failures, failoverWindows(transitions, boundMs));
  for (const f of outside.slice(0, 5)) {
    // What each daemon said around a failure that no transition explains (every line within 3 s of it).
    log(`failed outside the windows at +${((f.sentMs - t0) / 1000).toFixed(1)} s (${f.what}); the daemons' lines within 3 s:`);
    for (const b of ['lb1', 'lb2'] as const) {
      for (const l of driver.timedLog(lab.balancer(b)).filter((x) => Math.abs(x.atMs - f.sentMs) <= 3000).slice(0, 20)) log(`  ${b} ${((l.atMs - f.sentMs) / 1000).toFixed(2)} s: ${l.text}`);
    }
  }
  const reasons: Record<string, number> = {};
  for (const f of failures) reasons[f.what] = (reasons[f.what] ?? 0) + 1;
  const warmupEndMs = t0 + WARMUP_MIN * 60_000;
  const flat = Object.fromEntries((['lb1', 'lb2'] as const).map((b) => [b, {
    rss: flatness(series[b].rss, warmupEndMs, TOLERANCE_PCT, BIN_MS), fds: flatness(series[b].fds, warmupEndMs, TOLERANCE_PCT, BIN_MS),
  }])) as Outcome['flat'];
  for (const b of ['lb1', 'lb2'] as const) log(`${b} samples: RSS KiB ${series[b].rss.map((s) => s.value).join(' ')}; fds ${series[b].fds.map((s) => s.value).join(' ')}`);
  return {
    minutes: MINUTES, warmupMin: WARMUP_MIN, boundMs, events, requests: results.length,
    failed: { inside: inside.length, outside: outside.length, reasons, outsideDetail: outside.map((f) => `+${((f.sentMs - t0) / 1000).toFixed(1)} s ${f.what}`) },
    flat, guestLoad, hostLoad: hostLoads(hostLoadFile),
  };
}

async function main(): Promise<void> {
  const args = benchArgs();
  if (!fs.existsSync('/proc/net/ip_vs')) {
    const file = `/var/tmp/lvskit-soak-load-${process.pid}.txt`;
    const timer = setInterval(() => fs.appendFileSync(file, `${os.loadavg()[0]}\n`), 30_000);
    fs.writeFileSync(file, `${os.loadavg()[0]}\n`);
    try {
      await ranInUml(import.meta.url, (MINUTES + 20) * 60_000, ['--host-load', file]);
    } finally {
      clearInterval(timer);
      fs.rmSync(file, { force: true });
    }
    return;
  }
  const at = args.indexOf('--host-load');
  const cleanup = new Cleanup();
  try {
    const outcome = await soak(cleanup, at >= 0 ? args[at + 1] : undefined);
    const text = table(outcome);
    console.log(`\n${text}\n`);
    if (args.includes('--update-docs')) updateDocs('soak', text, 'reliability.md');
    const pass = outcome.failed.outside === 0 && outcome.events.every((e) => e.ok)
      && Object.values(outcome.flat).every((f) => f.rss.flat && f.fds.flat);
    console.log(pass ? 'soak: pass' : 'soak: FAIL');
    if (!pass) process.exitCode = 1;
  } finally {
    for (const failure of await cleanup.run()) console.log(`# ${failure}`);
  }
}

await main();
