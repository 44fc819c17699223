// layer: daemon (composition)
// job: the VRRP side of a balancer, wherever it runs (a worker thread, or inline): the VrrpRunner and the IPVS sync daemon its states drive.
import { EventEmitter } from 'node:events';
import type { InstanceTracking } from '../track/types.js';
import type { InstanceStatus, VrrpRunnerEvent } from '../vrrp/events.js';
import type { VrrpInstanceConfig, VrrpSyncGroupConfig } from '../vrrp/instance.js';
import type { VrrpReconfigureResult } from '../vrrp/reconfigure.js';
import { VrrpRunner } from '../vrrp/runner.js';
import { RUNNER_EVENT_NAMES } from '../vrrp/events.js';
import type { SyncDaemonSettings } from './convert.js';
import type { ThreadHeap } from './memory.js';
import { SyncDaemonControl } from './sync-daemon.js';
import { SyncInterfaceWatch, type SyncInterfaceEvent } from './sync-interface.js';

/** What the VRRP side runs. */
export interface VrrpInput {
  instances: VrrpInstanceConfig[];
  syncGroups: VrrpSyncGroupConfig[];
  /** The sync daemon an instance drives (lvs_sync_daemon with an instance, or lvs_sync_daemon_interface). */
  syncDaemon?: SyncDaemonSettings;
}

export interface VrrpSideOptions extends VrrpInput {
  netns?: string;
}

/** The VRRP side as the balancer drives it, in this thread or in a worker. */
export interface VrrpHost extends EventEmitter<VrrpHostEvents> {
  /** Start every instance; those named in `resume` as MASTER at once (an upgrade restart). */
  start(resume: readonly string[]): Promise<void>;
  /** Apply a new configuration in place (VrrpRunner.reconfigure): throws, changing nothing, when it is not valid. */
  reconfigure(input: VrrpInput): Promise<VrrpReconfigureResult>;
  status(): Promise<InstanceStatus[]>;
  /** Priority 0 from the signal handler itself for these signals (after the process's listeners are installed). */
  releaseOnSignal(signals: readonly NodeJS.Signals[]): Promise<void>;
  /** `release`: priority 0 and the VIPs removed (the graceful stop); otherwise VIPs and sync daemon stay, nothing is sent. */
  stop(release: boolean): Promise<void>;
  /** The trackers' FAULT and weight per instance (VrrpRunner.setTracking); kept for a runner opened later. */
  track(tracking: Record<string, InstanceTracking>): Promise<void>;
  /** The V8 heap of the thread VRRP runs in when that is a thread of its own (undefined inline: it is the caller's). */
  memory(gc?: boolean): Promise<ThreadHeap | undefined>;
}

/** What the VRRP side reports: the runner's events, and the sync daemon's interface going down or up. */
export type VrrpSideEvent = VrrpRunnerEvent | SyncInterfaceEvent;

export interface VrrpHostEvents {
  event: [VrrpSideEvent];
  /** The side cannot go on (a worker died): the balancer must stop. */
  failed: [Error];
}

/** The sync daemon an instance drives, if that instance is among `instances`. */
function drivenDaemon(input: VrrpInput): SyncDaemonSettings | undefined {
  const s = input.syncDaemon;
  return s?.instance !== undefined && input.instances.some((i) => i.name === s.instance) ? s : undefined;
}

/**
 * The VrrpRunner of a balancer, with its sync-daemon hook. A configuration without instances has
 * no runner; a reload that adds the first instances opens one (and one that removes the last stops it).
 */
export class VrrpSide extends EventEmitter<VrrpHostEvents> implements VrrpHost {
  #runner: VrrpRunner | undefined;
  #started = false;
  #signals: readonly NodeJS.Signals[] = [];
  #tracking: Record<string, InstanceTracking> = {};
  #syncWatch: SyncInterfaceWatch | undefined;

  private constructor(private readonly options: VrrpSideOptions, private readonly daemon: SyncDaemonControl) {
    super();
  }

  /** Validate and open (sockets, link watcher): rejects with VrrpConfigError, having sent nothing, when the input cannot run. */
  static async open(options: VrrpSideOptions): Promise<VrrpSide> {
    const side = new VrrpSide(options, new SyncDaemonControl(drivenDaemon(options), options.netns));
    if (options.instances.length > 0) side.#runner = await side.#openRunner(options);
    try {
      side.#syncWatch = await SyncInterfaceWatch.open(side.daemon, options.netns, (e) => side.emit('event', e));
    } catch (error) {
      await side.#runner?.stop();
      throw error;
    }
    return side;
  }

  async #openRunner(input: VrrpInput): Promise<VrrpRunner> {
    const runner = await VrrpRunner.open({
      instances: input.instances, syncGroups: input.syncGroups, ...(this.options.netns !== undefined ? { netns: this.options.netns } : {}),
      hooks: { syncDaemon: (request) => this.daemon.apply(request) },
    });
    for (const name of RUNNER_EVENT_NAMES) runner.on(name, (e: VrrpRunnerEvent) => this.emit('event', e));
    return runner;
  }

  async start(resume: readonly string[]): Promise<void> {
    this.#started = true;
    this.#runner?.start({ resume });
    this.#syncWatch?.start();
  }

  async reconfigure(input: VrrpInput): Promise<VrrpReconfigureResult> {
    const before = this.daemon.settings;
    this.daemon.settings = drivenDaemon(input);
    try {
      const result = await this.#reconfigure(input);
      this.#syncWatch?.check();
      return result;
    } catch (error) {
      this.daemon.settings = before;
      throw error;
    }
  }

  async #reconfigure(input: VrrpInput): Promise<VrrpReconfigureResult> {
    const runner = this.#runner;
    if (runner && input.instances.length > 0) return runner.reconfigure(input.instances, input.syncGroups);
    if (runner) {
      const removed = runner.status().map((s) => s.name);
      await runner.stop();
      this.#runner = undefined;
      return { added: [], removed, replaced: [], changed: [], unchanged: [] };
    }
    if (input.instances.length === 0) return { added: [], removed: [], replaced: [], changed: [], unchanged: [] };
    const fresh = await this.#openRunner(input);
    this.#runner = fresh;
    fresh.setTracking(this.#tracking);
    if (this.#signals.length > 0) fresh.releaseOnSignal(this.#signals);
    if (this.#started) fresh.start();
    return { added: input.instances.map((i) => i.name), removed: [], replaced: [], changed: [], unchanged: [] };
  }

  async status(): Promise<InstanceStatus[]> {
    return this.#runner?.status() ?? [];
  }

  /** Inline: the caller's own thread, which reports its heap itself. */
  async memory(): Promise<ThreadHeap | undefined> {
    return undefined;
  }

  async releaseOnSignal(signals: readonly NodeJS.Signals[]): Promise<void> {
    this.#signals = signals;
    this.#runner?.releaseOnSignal(signals);
  }

  async track(tracking: Record<string, InstanceTracking>): Promise<void> {
    this.#tracking = tracking;
    this.#runner?.setTracking(tracking);
  }

  async stop(release: boolean): Promise<void> {
    await this.#runner?.stop({ release });
    this.#syncWatch?.close();
    this.daemon.close();
  }
}
