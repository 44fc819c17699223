// layer: test helpers (site scenario)
// job: the lvskit driver of the site scenario: `lvskit run` in a balancer's namespace on the operator's files (plus lvskit_autoban), its control socket for reloads and hand-over restarts.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { controlRequest } from '../../src/daemon/control.js';
import { reloadSummary } from '../../src/daemon/describe.js';
import type { ReloadResult } from '../../src/daemon/events.js';
import { lvskitAutobanConfig, MAIN_FILE, siteConfigFiles } from './site-config.js';
import type { Implementation, ReloadOutcome, RestartMode, SiteBalancer } from './site-driver.js';
import { writeConfigDir, type LabBalancer } from './site-lab.js';
import type { BalancerName, SiteSpec } from './site-model.js';
import { sleep, startProc, type Cleanup, type Line, type Proc } from './site-procs.js';

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');

/** How long `lvskit run` may take to log `started` (node starts slowly in user-mode Linux). */
const STARTUP_MS = 60_000;
const STOP_MS = 15_000;

function parsed(text: string): Record<string, unknown> | undefined {
  if (!text.startsWith('{')) return undefined;
  try { return JSON.parse(text) as Record<string, unknown>; } catch { return undefined; }
}

export class LvskitDriver implements SiteBalancer {
  readonly name = 'lvskit';
  readonly supportsAutoban = true;
  readonly #procs = new Map<BalancerName, Proc>();
  readonly #logs = new Map<BalancerName, string[]>();
  readonly #timed = new Map<BalancerName, Line[]>();

  constructor(readonly cleanup: Cleanup) {}

  /** The operator's files, with lvskit's own `lvskit_autoban` block at the end of keepalived.conf. */
  async writeConfig(lb: LabBalancer, site: SiteSpec): Promise<void> {
    const files = siteConfigFiles(site, lb.name);
    files[MAIN_FILE] += lvskitAutobanConfig(site);
    writeConfigDir(lb.configDir, files);
  }

  #control(lb: LabBalancer): string {
    return path.join(lb.runDir, 'lvskit.sock');
  }

  /** `ip netns exec NS node main.js run -f DIR/keepalived.conf --control RUN/lvskit.sock --json`, resolved at its `started` line. */
  async start(lb: LabBalancer, extra: string[] = []): Promise<void> {
    if (this.running(lb)) throw new Error(`lvskit@${lb.name} is already running`);
    const log = this.#logs.get(lb.name) ?? [];
    this.#logs.set(lb.name, log);
    const timed = this.#timed.get(lb.name) ?? [];
    this.#timed.set(lb.name, timed);
    const proc = startProc(this.cleanup, `lvskit@${lb.name}`, ['ip', 'netns', 'exec', lb.netns, process.execPath, cli, 'run',
      '-f', path.join(lb.configDir, MAIN_FILE), '--control', this.#control(lb), '--json', ...extra], { group: true, onLine: (l) => { log.push(l.text); timed.push(l); } });
    this.#procs.set(lb.name, proc);
    await Promise.race([
      proc.waitFor((l) => { const j = parsed(l.text); return j?.source === 'daemon' && j.type === 'started'; }, STARTUP_MS),
      proc.exited.then(() => { throw new Error(`lvskit@${lb.name} exited as it started:\n${log.slice(-15).join('\n')}`); }),
    ]);
  }

  async kill(lb: LabBalancer): Promise<void> {
    const proc = this.#procs.get(lb.name);
    if (!proc?.running()) return;
    proc.kill('SIGKILL');
    await proc.exited;
  }

  /** SIGTERM: priority 0, VIPs released, the declared IPVS services removed (keepalived's default). */
  async stop(lb: LabBalancer): Promise<void> {
    const proc = this.#procs.get(lb.name);
    if (!proc?.running()) return;
    proc.kill('SIGTERM');
    const stopped = await Promise.race([proc.exited.then(() => true), sleep(STOP_MS).then(() => false)]);
    if (!stopped) {
      proc.kill('SIGKILL');
      await proc.exited;
    }
  }

  /** `lvskit reload` over the control socket: the daemon answers when the difference is applied, or why it refused. */
  async reload(lb: LabBalancer): Promise<ReloadOutcome> {
    try {
      const result = await controlRequest(this.#control(lb), { command: 'reload' }) as ReloadResult;
      return { said: [reloadSummary(result)], completed: true, running: this.running(lb) };
    } catch (error) {
      const diagnostics = (error as { diagnostics?: Array<{ message: string }> }).diagnostics ?? [];
      return { said: [`error: ${(error as Error).message}`, ...diagnostics.map((d) => `error: ${d.message}`)], completed: false, running: this.running(lb) };
    }
  }

  /**
   * lvskit restarts by hand-over: the new daemon (`lvskit run --replace`) loads and validates
   * everything, then the old one stops without a priority 0 and without removing anything, and the
   * new one adopts the kernel's state, resuming as MASTER where the old one was. Both modes are that.
   */
  async restart(lb: LabBalancer, _mode: RestartMode): Promise<void> {
    const old = this.#procs.get(lb.name);
    this.#procs.delete(lb.name);
    await this.start(lb, ['--replace']);
    if (old?.running()) await Promise.race([old.exited, sleep(STOP_MS)]);
  }

  running(lb: LabBalancer): boolean {
    return this.#procs.get(lb.name)?.running() ?? false;
  }

  log(lb: LabBalancer): string[] {
    return [...(this.#logs.get(lb.name) ?? [])];
  }

  /** The same lines with the CLOCK_MONOTONIC time each arrived (the soak places VRRP transitions by it). */
  timedLog(lb: LabBalancer): Line[] {
    return [...(this.#timed.get(lb.name) ?? [])];
  }

  /** The pid of `lb`'s running `lvskit run` (`ip netns exec` execs node in its place), for /proc. */
  pid(lb: LabBalancer): number | undefined {
    const proc = this.#procs.get(lb.name);
    return proc?.running() ? proc.child.pid : undefined;
  }
}

export const lvskitImplementation: Implementation = {
  id: 'lvskit',
  unavailable: async () => undefined,
  create: async (cleanup) => new LvskitDriver(cleanup),
};
