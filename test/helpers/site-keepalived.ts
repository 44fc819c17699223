// layer: test helpers (site scenario)
// job: the keepalived driver of the site scenario: keepalived (parent, VRRP and checker children) in a balancer's namespace with its own pid files; SIGHUP reloads; killed in teardown.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { siteConfigFiles } from './site-config.js';
import type { Implementation, ReloadOutcome, RestartMode, SiteBalancer } from './site-driver.js';
import { writeConfigDir, type LabBalancer } from './site-lab.js';
import type { BalancerName, SiteSpec } from './site-model.js';
import { monoMs, sleep, startProc, type Cleanup, type Proc } from './site-procs.js';

/** How long keepalived may take to say `Startup complete` (user-mode Linux is slow to start processes). */
const STARTUP_MS = 30_000;
/** How long a reload may take to say `Reload complete`. */
const RELOAD_MS = 15_000;
/** How long SIGTERM may take before SIGKILL. */
const STOP_MS = 15_000;

export class KeepalivedDriver implements SiteBalancer {
  readonly supportsAutoban = false;
  readonly #procs = new Map<BalancerName, Proc>();
  readonly #logs = new Map<BalancerName, string[]>();

  private constructor(readonly name: string, readonly cleanup: Cleanup) {}

  static async create(cleanup: Cleanup): Promise<KeepalivedDriver> {
    return new KeepalivedDriver(keepalivedVersion() ?? 'keepalived', cleanup);
  }

  async writeConfig(lb: LabBalancer, site: SiteSpec): Promise<void> {
    writeConfigDir(lb.configDir, siteConfigFiles(site, lb.name));
  }

  /**
   * `keepalived -n -l -D --no-syslog -f DIR/keepalived.conf -p PID -r VRRP_PID -c CHECKERS_PID`
   * in the namespace, in its own process group (kill reaches its children); the relative
   * `include services/*.conf` is found because keepalived reads includes relative to the file.
   */
  async start(lb: LabBalancer): Promise<void> {
    if (this.running(lb)) throw new Error(`keepalived@${lb.name} is already running`);
    const log = this.#logs.get(lb.name) ?? [];
    this.#logs.set(lb.name, log);
    const file = (name: string): string => path.join(lb.runDir, name);
    const proc = startProc(this.cleanup, `keepalived@${lb.name}`, ['ip', 'netns', 'exec', lb.netns, 'keepalived', '-n', '-l', '-D', '--no-syslog',
      '-f', path.join(lb.configDir, 'keepalived.conf'), '-p', file('keepalived.pid'), '-r', file('vrrp.pid'), '-c', file('checkers.pid'), '-i', lb.name],
    { group: true, onLine: (l) => log.push(l.text) });
    this.#procs.set(lb.name, proc);
    await Promise.race([
      proc.waitFor((l) => l.text.includes('Startup complete'), STARTUP_MS),
      proc.exited.then(() => { throw new Error(`keepalived@${lb.name} exited as it started:\n${log.slice(-15).join('\n')}`); }),
    ]);
  }

  /** SIGKILL to keepalived's process group: the parent and both children at once. */
  async kill(lb: LabBalancer): Promise<void> {
    const proc = this.#procs.get(lb.name);
    if (!proc?.running()) return;
    proc.kill('SIGKILL');
    await proc.exited;
  }

  /** SIGTERM to the parent (it stops its children, removes its VIPs and virtual servers); SIGKILL after STOP_MS. */
  async stop(lb: LabBalancer): Promise<void> {
    const proc = this.#procs.get(lb.name);
    if (!proc?.running()) return;
    proc.child.kill('SIGTERM');
    const stopped = await Promise.race([proc.exited.then(() => true), sleep(STOP_MS).then(() => false)]);
    if (!stopped) {
      proc.kill('SIGKILL');
      await proc.exited;
    }
  }

  /** SIGHUP to the parent; done at `Reload complete`, when keepalived exits, or after RELOAD_MS. */
  async reload(lb: LabBalancer): Promise<ReloadOutcome> {
    const proc = this.#procs.get(lb.name);
    if (!proc?.running()) throw new Error(`keepalived@${lb.name} is not running`);
    const since = monoMs();
    const from = proc.lines.length;
    proc.child.kill('SIGHUP');
    const completed = await Promise.race([
      proc.waitFor((l) => l.text.includes('Reload complete'), RELOAD_MS).then(() => true, () => false),
      proc.exited.then(() => false),
    ]);
    // Lines that follow at once (the checker child reloads on its own schedule, or exits on a bad file).
    await sleep(500);
    return { said: proc.lines.slice(from).filter((l) => l.atMs >= since).map((l) => l.text), completed, running: proc.running() };
  }

  async restart(lb: LabBalancer, _mode: RestartMode): Promise<void> {
    // keepalived has no upgrade mode: a new binary means stop and start.
    await this.stop(lb);
    await this.start(lb);
  }

  running(lb: LabBalancer): boolean {
    return this.#procs.get(lb.name)?.running() ?? false;
  }

  log(lb: LabBalancer): string[] {
    return [...(this.#logs.get(lb.name) ?? [])];
  }
}

/** `Keepalived v2.2.7 (01/16,2022)` → `keepalived 2.2.7`; undefined when keepalived is not installed. */
export function keepalivedVersion(): string | undefined {
  try {
    const text = execFileSync('keepalived', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const m = /Keepalived v(\S+)/.exec(text);
    return m ? `keepalived ${m[1]}` : 'keepalived';
  } catch (error) {
    const m = /Keepalived v(\S+)/.exec(String((error as { stderr?: string }).stderr ?? ''));
    return m ? `keepalived ${m[1]}` : undefined;
  }
}

/** keepalived as both balancers (the baseline). */
export const keepalivedImplementation: Implementation = {
  id: 'keepalived',
  unavailable: async () => (keepalivedVersion() ? undefined : 'keepalived is not installed (apt-get install keepalived)'),
  create: (cleanup) => KeepalivedDriver.create(cleanup),
};
