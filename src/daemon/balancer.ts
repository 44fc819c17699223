// layer: daemon (composition)
// job: Balancer: one object that runs a whole configuration — VRRP (in its own thread), the IPVS table, health checks driving real-server weights, the autoban — with reload, status, events and stop.
import { EventEmitter } from 'node:events';
import { HEALTH_CHECK_EVENT_NAMES, type AttemptFailure, type CheckAttempt, type HealthCheckEvent } from '../check/events.js';
import { ipvsSink } from '../check/ipvs-sink.js';
import { HealthChecks } from '../check/runner.js';
import type { Diagnostic } from '../config/diagnostics.js';
import { eventStream } from '../event-stream.js';
import { serviceName, type ServiceKey } from '../ipvs/model.js';
import { plan } from '../ipvs/plan.js';
import { addEngineStats, type NetlinkEngineStats } from '../netlink/engine.js';
import { AutobanSide } from './autoban-side.js';
import { ClockWatch } from './clock-watch.js';
import { loadDesired, type ConfigSource, type DesiredState } from './desired.js';
import type { BalancerEvent, BalancerStatus, DaemonEvent, ReloadResult, StopMode } from './events.js';
import { adoptedTable, IpvsTable, ownership } from './ipvs-table.js';
import { reloadBalancer, repairDrift, type BalancerParts, type DriftRepair } from './reload.js';
import { resumeWindowMs, takeRestartNote, writeRestartNote } from './restart-state.js';
import { balancerStatus } from './status.js';
import { NotifyFifos, runStartStopScript } from './notify-fifo.js';
import { StaticNet } from './static-net.js';
import { memoryReport, type MemoryReport } from './memory.js';
import { openVrrp, type VrrpHost, type VrrpIsolation } from './vrrp-host.js';
import { locatedConfigError } from './located.js';
import { logEvent } from './describe.js';
import { NO_TRACKING, Trackers } from '../track/runner.js';

/** Where the configuration comes from, and how the balancer runs. */
export type BalancerOptions = ConfigSource & {
  /** Network namespace of every socket (VRRP, IPVS, ipset, sync stream). Health checks connect from the process's own namespace. */
  netns?: string;
  /** VRRP in a worker thread (default) or on the main thread. */
  isolation?: VrrpIsolation;
  /** The worker thread's nice value (default VRRP_THREAD_NICE, -20: ahead of the daemon's busy threads); null leaves it as the process's. */
  vrrpThreadNice?: number | null;
  /** A graceful stop removes the declared IPVS services (keepalived's default); false keeps them (keepalived's --dont-release-ipvs). */
  releaseIpvs?: boolean;
  /**
   * Where vrrp_track_process listens to the kernel's process events (a namespace name or path such
   * as `/proc/self/fd/N`): the kernel has them only in its initial network namespace. Default: the
   * process's own namespace, right unless the process itself moved into another (`lvskit run --netns`).
   */
  processEventsNetns?: string;
  /** Where a restart-stop leaves its note and the next start reads it (no file: restarts resume nothing). */
  restartFile?: string;
  /**
   * Check every this many ms that each declared IPVS service is still in the kernel with its
   * settings (one dump of the service list), and put back what was deleted or changed behind the
   * balancer's back (a `drift-repaired` event). Absent or 0: only a reload repairs drift.
   * `lvskit run` checks every 5 s (`--drift-check`).
   */
  driftCheckMs?: number;
  /** Each event as one log line (the CLI's logger, or any with info/warn/error). */
  logger?: BalancerLogger;
  /**
   * Called with the validated configuration before anything is opened (no socket, nothing in the
   * kernel); a rejection refuses the open. `lvskit run` checks the live system here (`preflight()`,
   * src/daemon/preflight-live.ts) and rejects with a located PreflightError.
   */
  preflight?: (desired: DesiredState) => void | Promise<void>;
};

/** A logger in pino's calling convention. */
export interface BalancerLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** Health-check events a balancer passes on ('attempt' is left out: one per probe). */
const CHECK_EVENTS = HEALTH_CHECK_EVENT_NAMES.filter((n) => n !== 'attempt');

/**
 * What a Balancer emits: every event (`events()` follows these), each health-check attempt apart
 * (one per probe: for counters such as the metrics', never logged), each failed attempt per real
 * server it serves, and its end.
 */
export interface BalancerEmitterEvents {
  event: [BalancerEvent];
  attempt: [CheckAttempt];
  /** A failed attempt, once per real server the check serves (for failures by service and reason). */
  'attempt-failed': [AttemptFailure];
  close: [];
}

/**
 * A load balancer from one configuration. `open()` reads and validates everything (a bad
 * configuration throws ConfigError with every problem at its file:line:col, and nothing is
 * touched); `start()` adopts what the kernel already holds and runs; `reload()` applies only the
 * difference; `stop()` releases (or, for a restart, keeps) what it holds.
 */
export class Balancer extends EventEmitter<BalancerEmitterEvents> {
  #desired: DesiredState;
  readonly #options: BalancerOptions;
  readonly #vrrp: VrrpHost;
  readonly #table: IpvsTable;
  readonly #staticNet: StaticNet;
  #fifos: NotifyFifos | undefined;
  #checks?: HealthChecks<ServiceKey>;
  #autoban?: AutobanSide;
  readonly #trackers: Trackers;
  #chain: Promise<unknown> = Promise.resolve();
  #startedAtMs = 0;
  #reloads = 0;
  #reloadFailures = 0;
  /** A plain reload waiting for its turn: further requests join it instead of queueing another. */
  #queuedReload?: { run: Promise<ReloadResult>; joined: number };
  #driftTimer?: NodeJS.Timeout;
  #driftQueued = false;
  #state: 'open' | 'running' | 'stopping' | 'stopped' = 'open';
  /** The ipset counters of autoban sides a reload replaced (so the totals never go back). */
  readonly #ipsetRetired: Readonly<NetlinkEngineStats>[] = [];
  #starting?: Promise<void>;
  #clock?: ClockWatch;

  private constructor(options: BalancerOptions, desired: DesiredState, vrrp: VrrpHost) {
    super();
    this.#options = options;
    this.#desired = desired;
    this.#vrrp = vrrp;
    this.#trackers = new Trackers(options.processEventsNetns !== undefined ? { processEventsNetns: options.processEventsNetns } : {});
    this.#table = new IpvsTable(options.netns);
    this.#staticNet = new StaticNet(options.netns, (e) => this.#emit({ source: 'vrrp', ...e }));
    vrrp.on('event', (e) => {
      if (e.type !== 'sync-interface') this.#fifos?.write(e);
      // A warning about a setting (a VMAC gone with its base link) at the line that wrote it.
      const location = e.type === 'warning' && e.field !== undefined ? this.#desired.locateVrrp?.(e.field) : undefined;
      this.#emit({ source: 'vrrp', ...e, ...(location ? { location } : {}) });
    });
    vrrp.on('failed', (error) => this.#emit({ source: 'daemon', type: 'error', message: `VRRP failed: ${error.message}`, error, fatal: true }));
    this.#trackers.on('event', (e) => this.#emit({ source: 'track', ...e }));
    this.#trackers.on('change', (tracking) => { void this.#sendTracking(tracking); });
  }

  /** The trackers' FAULT and weight per instance, to the VRRP side (a failure there is the VRRP side's end, reported by its 'failed'). */
  async #sendTracking(tracking = this.#trackers.tracking()): Promise<void> {
    if (this.#state === 'stopping' || this.#state === 'stopped') return;
    await this.#vrrp.track(tracking).catch(() => undefined);
  }

  /** Read and validate the configuration, run the preflight hook, open the VRRP side (sockets, links checked). Nothing in the kernel changes. */
  static async open(options: BalancerOptions): Promise<Balancer> {
    const desired = loadDesired(options);
    await options.preflight?.(desired);
    let vrrp: VrrpHost;
    try {
      vrrp = await openVrrp({
        instances: desired.instances, syncGroups: desired.syncGroups, ...(desired.syncDaemon ? { syncDaemon: desired.syncDaemon } : {}),
        ...(options.netns !== undefined ? { netns: options.netns } : {}), ...(options.isolation ? { isolation: options.isolation } : {}),
        ...(options.vrrpThreadNice !== undefined ? { threadNice: options.vrrpThreadNice } : {}),
      });
    } catch (error) {
      throw locatedConfigError(desired, error);
    }
    const { config: _model, ...kept } = desired; // the model served preflight; the daemon runs on the conversions
    const balancer = new Balancer(options, kept, vrrp);
    for (const d of desired.warnings) queueMicrotask(() => balancer.#emit({ source: 'daemon', type: 'config-warning', diagnostic: d }));
    return balancer;
  }

  /** The configuration running now. */
  get desired(): DesiredState { return this.#desired; }

  /**
   * Start: VRRP instances a restart left as MASTER resume at once; the IPVS table is adopted
   * (matching services and real servers kept as they are), lvs_timeouts and always-on sync daemons
   * set, the health checks and the autoban started, then every other VRRP instance.
   */
  start(): Promise<void> {
    if (this.#state !== 'open' || this.#starting) return Promise.reject(new Error(`the balancer is ${this.#starting ? 'starting' : this.#state}`));
    this.#starting = this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
    const began = performance.now();
    const d = this.#desired;
    const resume = this.#options.restartFile ? takeRestartNote(this.#options.restartFile, d.instances) : [];
    if (d.notify?.startup) await this.#runScript('startup', d.notify.startup);
    if (d.notify && d.notify.fifos.length > 0) {
      this.#fifos = NotifyFifos.open(d.notify, d.syncGroups, (message, error) => this.#emit({ source: 'daemon', type: 'error', message, error }));
    }
    // Trackers first: scripts run at once, files are read; instances start once each script has its first result.
    this.#trackers.configure(d.tracking ?? NO_TRACKING);
    this.#trackers.start();
    await this.#sendTracking();
    const tracked = this.#trackers.ready();
    if (resume.length > 0) await this.#vrrp.start(resume);
    await this.#staticNet.start(d.staticNet);
    const autoban = d.autoban ? await AutobanSide.open(d.autoban, this.#options.netns) : undefined;
    let ipvsOps = 0;
    try {
      ipvsOps = await this.#startIpvs(d);
    } catch (error) {
      await autoban?.stop();
      throw error;
    }
    if (autoban) await this.#startAutoban(autoban);
    await tracked;
    await this.#sendTracking();
    if (resume.length === 0) await this.#vrrp.start([]);
    if (this.#state !== 'open') return; // stopped while starting
    this.#state = 'running';
    this.#startedAtMs = Date.now();
    this.#clock = new ClockWatch((stepMs, wallMs) => this.#emit({ source: 'daemon', type: 'clock-step', stepMs, wallMs }));
    const every = this.#options.driftCheckMs ?? 0;
    if (every > 0) {
      this.#driftTimer = setInterval(() => { if (!this.#driftQueued) void this.checkDrift(); }, every).unref();
    }
    this.#emit({ source: 'daemon', type: 'started', pid: process.pid, config: d.source, instances: d.instances.map((i) => i.name),
      services: d.services.length, ipvsOps, resumed: resume, durationMs: performance.now() - began });
  }

  async #startIpvs(d: DesiredState): Promise<number> {
    if (d.services.length === 0 && !d.timeouts && d.daemons.length === 0 && !d.flush) return 0;
    await this.#table.setTimeouts(d);
    await this.#table.ensureDaemons(d.daemons);
    const current = await this.#table.dump();
    const adopted = adoptedTable(current, d);
    const ops = plan(current, adopted.services, { owns: ownership(d) });
    await this.#table.applyAll(ops);
    if (ops.length > 0) this.#emit({ source: 'daemon', type: 'ipvs-applied', ops, reason: 'start' });
    const checks = this.#openChecks();
    const present = new Map(adopted.services.map((s) => [serviceName(s), s.destinations ?? []]));
    this.#fifos?.writeStart(d.virtualServers.map((v) => v.service));
    for (const spec of d.virtualServers) {
      const name = serviceName(spec.service);
      await checks.add(spec, { present: present.get(name) ?? [], startDown: adopted.presumedDown.get(name) ?? new Set() });
    }
    return ops.length;
  }

  #openChecks(): HealthChecks<ServiceKey> {
    if (this.#checks) return this.#checks;
    const checks = new HealthChecks<ServiceKey>({ sink: ipvsSink(this.#table.client) });
    for (const name of CHECK_EVENTS) {
      checks.on(name, (e: object) => {
        const event = { type: name, ...e } as HealthCheckEvent;
        this.#fifos?.writeChecks(event, (vs) => this.#desired.virtualServers.find((v) => v.id === vs)?.service);
        this.#emit({ source: 'checks', ...event } as BalancerEvent);
      });
    }
    checks.on('attempt', (e) => this.emit('attempt', e));
    checks.on('attempt-failed', (e) => this.emit('attempt-failed', e));
    this.#checks = checks;
    return checks;
  }

  async #startAutoban(side: AutobanSide): Promise<void> {
    side.on('decision', (e) => this.#emit({ source: 'autoban', ...e }));
    side.on('round', (r) => this.#emit({ source: 'autoban', type: 'round', ...r, observations: r.observations.length }));
    side.on('error', (error) => this.#emit({ source: 'autoban', type: 'error', error }));
    side.on('created', ({ set }) => this.#emit({ source: 'autoban', type: 'set-created', set }));
    side.on('blacklist-recovered', (e) => this.#emit({ source: 'autoban', type: 'blacklist-recovered', ...e }));
    await side.start();
    this.#autoban = side;
  }

  /**
   * Read the configuration again (or `source`) and apply the difference; `dryRun` only says what
   * would change. An invalid configuration rejects (ConfigError, located) and changes nothing.
   * Reloads run one at a time. Reloads of the file asked for while one waits its turn join it (the
   * file is read when it starts, so it answers them all): a burst of SIGHUPs is one reload behind
   * the one running, and the `reloaded` event counts the requests it answered (`coalesced`).
   */
  reload(options: { source?: ConfigSource; dryRun?: boolean } = {}): Promise<ReloadResult> {
    const plain = options.source === undefined && options.dryRun !== true;
    if (plain && this.#queuedReload) {
      this.#queuedReload.joined++;
      return this.#queuedReload.run;
    }
    const entry = { joined: 0 } as { run: Promise<ReloadResult>; joined: number };
    const run = this.#chain.catch(() => undefined).then(() => {
      if (this.#queuedReload === entry) this.#queuedReload = undefined;
      return this.#reload(options, entry.joined);
    });
    entry.run = run;
    if (plain) this.#queuedReload = entry;
    this.#chain = run;
    return run;
  }

  /**
   * Check the kernel's services against the configuration now and put back what drifted (see
   * `driftCheckMs`); undefined when nothing had. Runs between reloads, never during one. A failure
   * is reported as an `error` event (the next check tries again).
   */
  checkDrift(): Promise<DriftRepair | undefined> {
    this.#driftQueued = true;
    const run = this.#chain.catch(() => undefined).then(async () => {
      this.#driftQueued = false;
      if (this.#state !== 'running') return undefined;
      try {
        const repair = await repairDrift(this.#parts());
        if (repair) this.#emit({ source: 'daemon', type: 'drift-repaired', ...repair });
        return repair;
      } catch (error) {
        this.#emit({ source: 'daemon', type: 'error', message: `drift check failed: ${(error as Error).message}`, error: error as Error });
        return undefined;
      }
    });
    this.#chain = run;
    return run;
  }

  async #reload(options: { source?: ConfigSource; dryRun?: boolean }, coalesced = 0): Promise<ReloadResult> {
    if (this.#state !== 'running') throw new Error(`the balancer is ${this.#state}`);
    try {
      const result = await reloadBalancer(this.#parts(), options.source ?? this.#options, options.dryRun === true);
      if (!result.dryRun) {
        this.#reloads++;
        this.#emit({ source: 'daemon', type: 'reloaded', result, coalesced });
      }
      return result;
    } catch (error) {
      if (!options.dryRun) this.#reloadFailures++;
      const diagnostics = (error as { diagnostics?: readonly Diagnostic[] }).diagnostics;
      this.#emit({ source: 'daemon', type: 'reload-failed', error: error as Error, ...(diagnostics ? { diagnostics } : {}) });
      throw error;
    }
  }

  #parts(): BalancerParts {
    return {
      desired: this.#desired, vrrp: this.#vrrp, table: this.#table, netns: this.#options.netns, staticNet: this.#staticNet,
      checks: () => this.#openChecks(), autoban: this.#autoban,
      retrack: async (tracking) => {
        this.#trackers.configure(tracking ?? NO_TRACKING);
        await this.#sendTracking();
      },
      setDesired: (d) => { this.#desired = d; },
      setAutoban: async (side) => {
        if (this.#autoban?.netlinkStats) this.#ipsetRetired.push(this.#autoban.netlinkStats);
        this.#autoban = undefined;
        if (side) await this.#startAutoban(side);
      },
    };
  }

  /** VRRP instances, services with each real server's health, weight and connections, bans. */
  async status(): Promise<BalancerStatus> {
    const table = this.#desired.services.length > 0 ? await this.#table.client.dumpTable() : [];
    return balancerStatus({
      desired: this.#desired, instances: await this.#vrrp.status(), table, health: this.#checks?.status(),
      autoban: this.#autoban?.status(), trackers: this.#trackers.status(), tracking: this.#trackers.tracking(), startedAtMs: this.#startedAtMs, reloads: this.#reloads, reloadFailures: this.#reloadFailures,
    });
  }

  /** Where the process's memory is: RSS, the V8 heap of each thread (main, VRRP worker), glibc malloc (`lvskit status --memory`); `gc`: after a full collection in each thread, where node runs with --expose-gc. */
  async memory(gc = false): Promise<MemoryReport> {
    return memoryReport(await this.#vrrp.memory(gc), gc);
  }

  /**
   * Netlink counters of the balancer's kernel clients since it was opened, by client: `ipvs` (the
   * IPVS table and its dumps), `ipset` (the autoban's set, summed over the autoban's restarts).
   * The VRRP thread's rtnetlink socket is not included.
   */
  netlinkStats(): Record<'ipvs' | 'ipset', NetlinkEngineStats> {
    const ipvs = this.#table.netlinkStats;
    const ipset = this.#autoban?.netlinkStats;
    return { ipvs: addEngineStats(ipvs ? [ipvs] : []), ipset: addEngineStats([...this.#ipsetRetired, ...(ipset ? [ipset] : [])]) };
  }

  /** Every event from now on, as an async iterator (ends at stop or when `signal` aborts). */
  events(options: { signal?: AbortSignal } = {}): AsyncGenerator<BalancerEvent> {
    return eventStream(this, ['event'], (_n, e) => e as BalancerEvent, { ...options, closed: this.#state === 'stopped' });
  }

  /** Priority 0 leaves from the handler of these signals itself (call after installing the process's listeners for them). */
  releaseOnSignal(signals: readonly NodeJS.Signals[]): Promise<void> {
    return this.#vrrp.releaseOnSignal(signals);
  }

  /** Stop (see StopMode). Waits for a reload in progress. Idempotent. */
  async stop(mode: StopMode = 'graceful'): Promise<void> {
    if (this.#state === 'stopping' || this.#state === 'stopped') return;
    this.#state = 'stopping';
    this.#clock?.close();
    this.#emit({ source: 'daemon', type: 'stopping', mode });
    clearInterval(this.#driftTimer);
    await this.#starting?.catch(() => undefined);
    await this.#chain.catch(() => undefined);
    const restart = mode === 'restart';
    this.#trackers.stop();
    if (restart) {
      // The adverts go on until everything else has stopped: the gap a successor must close is as short as can be.
      await this.#checks?.stop({ omega: false });
      await this.#autoban?.stop();
      if (this.#options.restartFile) await this.#noteMasters(this.#options.restartFile);
      await this.#vrrp.stop(false);
    } else {
      await this.#vrrp.stop(true);
      await this.#checks?.stop();
      await this.#autoban?.stop();
    }
    await this.#fifos?.close();
    this.#fifos = undefined;
    if (!restart) await this.#staticNet.release(this.#desired.staticNet);
    this.#staticNet.close();
    if (!restart && this.#options.releaseIpvs !== false) {
      await this.#table.release(this.#desired);
      await this.#table.ensureDaemons([], this.#desired.daemons);
    }
    this.#table.close();
    if (!restart && this.#desired.notify?.shutdown) await this.#runScript('shutdown', this.#desired.notify.shutdown);
    this.#state = 'stopped';
    this.#emit({ source: 'daemon', type: 'stopped', mode });
    this.emit('close');
  }

  /** Release everything: the graceful stop() unless stopped already. Idempotent. */
  close(): Promise<void> {
    return this.stop();
  }

  /** `await using balancer = await Balancer.open(...)`: close() when the scope ends. */
  [Symbol.asyncDispose](): Promise<void> { return this.close(); }

  /** startup_script / shutdown_script, reported as a `script` event. */
  async #runScript(which: 'startup' | 'shutdown', script: { argv: string[]; timeoutMs: number }): Promise<void> {
    const outcome = await runStartStopScript(script);
    this.#emit({ source: 'daemon', type: 'script', which, argv: script.argv, ...outcome });
  }

  async #noteMasters(file: string): Promise<void> {
    const status = await this.#vrrp.status();
    const masters = status.filter((s) => s.state === 'MASTER').map((s) => {
      const i = this.#desired.instances.find((x) => x.name === s.name)!;
      return { name: s.name, vrid: s.vrid, interface: s.interface, windowMs: resumeWindowMs(i.advertIntervalMs ?? 1000) };
    });
    writeRestartNote(file, masters);
  }

  #emit(event: BalancerEvent | ({ source: 'daemon' } & DaemonEvent)): void {
    this.#options.logger && logEvent(this.#options.logger, event);
    this.emit('event', event);
  }
}

export type { HealthCheckEvent };
