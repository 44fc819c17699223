// layer: demo (the scenario)
// job: `lvskit demo` on a kernel with IPVS: build the lab, start both balancers, run the phases over steady traffic with a live view or plain lines, count failed requests per phase, clean up everything (also when interrupted).
import { DemoLab } from './lab.js';
import { DEMO_PHASES, vrrpState, type DemoContext, type PhaseCheck } from './phases.js';
import { Cleanup, monoMs, sleep, type Proc } from './procs.js';
import { BALANCERS, REAL_SERVERS } from './site.js';
import { behaved, liveLines, summaryLines, type PhaseSummary, type TrafficCounts } from './view.js';
import { until } from './lab.js';

export interface DemoOptions {
  /** Redraw a live view (a terminal is watching); otherwise plain lines. */
  interactive: boolean;
  /** Aborted on Ctrl-C: the demo stops where it is and cleans up. */
  signal: AbortSignal;
  write(text: string): void;
}

/** The client's steady traffic: a new connection every 50 ms, each given 1 s. */
const TRAFFIC = { intervalMs: 50, timeoutMs: 1000 };
const SETTLE_MS = 90_000;

interface Result { sentMs: number; doneMs: number; ok: boolean; what: string }

/** Text output: plain lines, or lines above a live view that is redrawn in place. */
class Screen {
  #drawn = 0;
  #view: string[] = [];
  constructor(readonly options: DemoOptions) {}

  #erase(): string { return this.#drawn > 0 ? `\x1b[${this.#drawn}A\x1b[J` : ''; }

  log(line: string): void {
    if (!this.options.interactive) { this.options.write(`${line}\n`); return; }
    this.options.write(`${this.#erase()}${line}\n${this.#view.map((l) => `${l}\n`).join('')}`);
    this.#drawn = this.#view.length;
  }

  view(lines: string[]): void {
    if (!this.options.interactive) return;
    this.#view = lines;
    this.options.write(`${this.#erase()}${lines.map((l) => `${l}\n`).join('')}`);
    this.#drawn = lines.length;
  }

  /** Takes the live view off the screen (before the summary). */
  close(): void {
    if (this.options.interactive) this.options.write(this.#erase());
    this.#drawn = 0;
    this.#view = [];
  }
}

function counts(results: readonly Result[]): TrafficCounts {
  return { requests: results.length, failures: results.filter((r) => !r.ok).length };
}

/** Runs the whole demo; resolves with the exit status (0: every phase behaved, 1: one did not, 130: interrupted). */
export async function runDemo(options: DemoOptions, workDir?: string): Promise<number> {
  const screen = new Screen(options);
  const cleanup = new Cleanup();
  const results: Result[] = [];
  const summaries: PhaseSummary[] = [];
  /** Each summary's traffic window [start, end) in monotonic ms (send times). */
  const windows: Array<{ startMs: number; endMs: number }> = [];
  let phaseName = 'building the site';
  let phaseStartMs = monoMs();
  let refresher: NodeJS.Timeout | undefined;
  let lab: DemoLab | undefined;
  const interrupted = new Promise<'interrupted'>((resolve) => {
    if (options.signal.aborted) resolve('interrupted');
    options.signal.addEventListener('abort', () => resolve('interrupted'), { once: true });
  });

  const refresh = async (): Promise<void> => {
    if (!lab) return;
    const now = monoMs();
    const recent = results.filter((r) => r.doneMs >= now - 1000);
    const recentErrors: Record<string, number> = {};
    for (const r of recent) if (!r.ok) recentErrors[r.what] = (recentErrors[r.what] ?? 0) + 1;
    const balancers = await Promise.all(BALANCERS.map(async (name) => ({ name, status: await lab!.status(name) })));
    if (options.signal.aborted) return;
    screen.view(liveLines({
      phase: phaseName, phaseSec: (now - phaseStartMs) / 1000, balancers,
      requestsPerSec: recent.filter((r) => r.ok).length, recentErrors,
      thisPhase: counts(results.filter((r) => r.sentMs >= phaseStartMs)), total: counts(results),
    }));
  };

  const scenario = async (): Promise<void> => {
    screen.log('building the site: namespaces lb1, lb2, rs1..rs3, client on one bridge; the VIP on each real server\'s lo');
    lab = await DemoLab.create(cleanup, workDir);
    const ctx: DemoContext = { lab, site: lab.site, log: (line) => screen.log(line) };
    screen.log(`segment ${lab.site.net}.0/24, VIP ${lab.site.vip}:80 (DR, rr, TCP_CHECK, inhibit_on_failure); configs in ${lab.dir}/lbN/etc`);
    for (const lb of BALANCERS) lab.writeConfig(lb, ctx.site);
    for (const lb of BALANCERS) {
      screen.log(`starting lvskit run on ${lb}`);
      await lab.startDaemon(lb);
    }
    if (options.interactive) refresher = setInterval(() => { void refresh().catch(() => undefined); }, 500);
    const traffic: Proc = await lab.startTraffic(TRAFFIC.intervalMs, TRAFFIC.timeoutMs, (ok, what, sentMs) => results.push({ sentMs, doneMs: monoMs(), ok, what }));
    const www = lab.site.services[0]!;
    const ready = await until(async () => {
      const status = await lab!.status('lb1');
      return vrrpState(status) === 'MASTER' && (status?.services[0]?.realServers.filter((r) => (r.kernelWeight ?? 0) > 0).length ?? 0) === REAL_SERVERS.length
        && results.some((r) => r.ok && r.sentMs >= monoMs() - 1000);
    }, SETTLE_MS);
    if (!ready) throw new Error(`lb1 did not become MASTER with ${www.realServers.length} real servers up and answering within ${SETTLE_MS / 1000} s`);
    screen.log(`lb1 is MASTER, traffic flows (${1000 / TRAFFIC.intervalMs} new connections/s to the VIP)`);
    for (const [i, phase] of DEMO_PHASES.entries()) {
      phaseName = `phase ${i + 1}/${DEMO_PHASES.length}: ${phase.title}`;
      phaseStartMs = monoMs();
      screen.log(phaseName);
      let checks: PhaseCheck[] = [];
      let error: string | undefined;
      try {
        checks = await phase.run(ctx);
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
        screen.log(`  error: ${error}`);
      }
      summaries.push({ number: i + 1, id: phase.id, title: phase.title, lossless: phase.lossless, traffic: { requests: 0, failures: 0 }, checks, ...(error ? { error } : {}) });
      windows.push({ startMs: phaseStartMs, endMs: monoMs() });
      if (error) break;
    }
    clearInterval(refresher);
    // Every request sent in the last phase ends within its timeout; then each phase's window is complete.
    traffic.write('exit\n');
    await Promise.race([traffic.exited, sleep(TRAFFIC.timeoutMs + 10_000)]);
  };

  let outcome: 'done' | 'interrupted' | Error;
  try {
    outcome = await Promise.race([scenario().then(() => 'done' as const), interrupted]);
  } catch (e) {
    outcome = e instanceof Error ? e : new Error(String(e));
  }
  clearInterval(refresher);
  screen.close();
  if (outcome instanceof Error) {
    options.write(`lvskit demo: ${outcome.message}\n`);
    for (const lb of BALANCERS) {
      const log = lab?.daemonLog(lb).slice(-8) ?? [];
      if (log.length > 0) options.write(`${lb}'s lvskit, last lines:\n${log.join('\n')}\n`);
    }
  }
  options.write(`cleaning up: processes, namespaces, files${outcome === 'interrupted' ? ' (interrupted)' : ''}\n`);
  for (const failure of await cleanup.run()) options.write(`${failure}\n`);
  for (const [i, s] of summaries.entries()) s.traffic = counts(results.filter((r) => r.sentMs >= windows[i]!.startMs && r.sentMs < windows[i]!.endMs));
  options.write(`${summaryLines(summaries, outcome === 'interrupted').join('\n')}\n`);
  if (outcome === 'interrupted') return 130;
  return outcome === 'done' && summaries.length === DEMO_PHASES.length && summaries.every(behaved) ? 0 : 1;
}
