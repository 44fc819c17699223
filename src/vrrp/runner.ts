// layer: behaviour (vrrp)
// job: run VRRP instances: validate, open the shared channels, feed datagrams, link changes and timers to the machines, sync groups, reload in place, graceful or hand-over stop.
import { EventEmitter } from 'node:events';
import { eventStream } from '../event-stream.js';
import { threadInNetns } from '../native/netns-path.js';
import { sendOnSignal } from '../native/signal-send.js';
import { RtnlClient } from '../rtnl/client.js';
import type { Link } from '../rtnl/link.js';
import type { LinkWatcher } from '../rtnl/watch.js';
import { Announcer } from './announce.js';
import type { ChannelInput, VrrpChannel } from './channel.js';
import { ChannelSet, type Placement } from './channels.js';
import { systemClock, type Clock } from './clock.js';
import { InstanceDriver } from './driver.js';
import {
  RUNNER_EVENT_NAMES, type InstanceStatus, type VrrpHooks, type VrrpRunnerEvent, type VrrpRunnerEvents,
} from './events.js';
import type { NotifyScripts, ResolvedInstance, VrrpInstanceConfig, VrrpSyncGroupConfig } from './instance.js';
import { runScript, scriptsFor } from './notify.js';
import { peekVrid, type DropCounters } from './receive.js';
import { changedGroups, diffInstances, summarizeDiff, type VrrpReconfigureResult } from './reconfigure.js';
import type { VrrpAction, VrrpStateName } from './state.js';
import { groupFault, groupState, syncReactions } from './sync-group.js';
import { trackingStatus } from './tracking.js';
import { validateVrrpConfig, VrrpConfigError } from './validate.js';
import { VmacKeeper } from './vmac-keeper.js';
import { VmacLinks } from './vmac-links.js';

/** Options of `VrrpRunner.open()`: instances, sync groups, namespace, hooks. */
export interface VrrpRunnerOptions {
  instances: VrrpInstanceConfig[];
  syncGroups?: VrrpSyncGroupConfig[];
  /** Network namespace for every socket (name under /var/run/netns or a path). */
  netns?: string;
  /** Default: the system's monotonic clock. */
  clock?: Clock;
  hooks?: VrrpHooks;
  /** Notify scripts are killed after this long. Default 10,000 ms. */
  notifyTimeoutMs?: number;
}

/** `start()` options. */
export interface VrrpStartOptions {
  /**
   * Instances to resume as MASTER at once (an upgrade restart): the process before this one was
   * their MASTER and stopped with `release: false` less than a Master_Down_Interval ago, so no
   * backup has taken over. Each sends an advert at once, adds its VIPs (already there), sends an
   * announcement round and asks for the sync daemon as master; reason `resume`. A tracked link
   * down still means FAULT (then priority 0 and the VIPs released). Every name must be an instance.
   */
  resume?: ReadonlySet<string> | readonly string[];
}

/** `stop()` options. */
export interface VrrpStopOptions {
  /**
   * true (default): the graceful stop — each MASTER sends priority 0 and releases its VIPs, sync
   * daemons are stopped, STOP is notified. false: a hand-over to a successor process that starts
   * with `resume` within the Master_Down_Interval — no priority 0, the VIPs, sync daemons and VIP
   * blocks stay, no STOP notification, and nothing more is sent (timers cleared, signal-armed
   * adverts disarmed). keepalived has no such stop.
   */
  release?: boolean;
}

interface Group { name: string; members: string[]; notify: NotifyScripts; state?: VrrpStateName }
type ResolvedGroup = ReturnType<typeof validateVrrpConfig>['syncGroups'][number];

/** What neither open() nor reconfigure() can run with these hooks. */
function checkHooks(instances: readonly ResolvedInstance[], hooks: VrrpHooks): void {
  instances.forEach((r, i) => {
    if (!r.acceptMode && r.priority !== 255 && !hooks.blockVips) {
      throw new VrrpConfigError(`instances[${i}].acceptMode`, 'false needs a blockVips hook (lvskit has no firewall client to block VIP traffic)');
    }
  });
}

/**
 * VRRP instances over real sockets. `start()` validates everything before anything is sent, opens
 * one raw socket per interface, family and mode, watches links for `track_interface`, and starts
 * every instance. Events: `transition`, `group-transition`, `drop`, `vip`, `announce`,
 * `sync-daemon`, `script`, `warning`, `reconfigure` (also as one async iterator, `events()`).
 * `reconfigure()` applies a new configuration as a difference; `stop()` is the graceful stop
 * (MASTERs send priority 0 and release their VIPs) or, with `release: false`, a hand-over.
 */
export class VrrpRunner extends EventEmitter<VrrpRunnerEvents> {
  readonly #drivers = new Map<string, InstanceDriver>();
  readonly #groups = new Map<string, Group>();
  readonly #groupOf = new Map<string, Group>();
  readonly #ownTrack = new Map<string, { fault: boolean; weight: number }>();
  /** FAULT and weight from trackers outside the runner (vrrp_script, track_file), by instance. */
  #external: Record<string, { fault: boolean; weight: number }> = {};
  readonly #clock: Clock;
  readonly #hooks: VrrpHooks;
  readonly #netns: string | undefined;
  readonly #notifyTimeoutMs: number;
  #rtnl?: RtnlClient;
  #watcher?: LinkWatcher;
  #announcer?: Announcer;
  #channels?: ChannelSet;
  #vmacs?: VmacLinks;
  #keeper?: VmacKeeper;
  #stopped = false;
  #started = false;
  /** releaseOnSignal() was called: instances added later arm their priority 0 too. */
  #releaseArmed = false;
  /** reconfigure() and stop() run one at a time, in the order they were called. */
  #serial: Promise<unknown> = Promise.resolve();

  private constructor(options: VrrpRunnerOptions, hooks: VrrpHooks) {
    super();
    this.#clock = options.clock ?? systemClock;
    this.#hooks = hooks;
    this.#netns = options.netns;
    this.#notifyTimeoutMs = options.notifyTimeoutMs ?? 10_000;
  }

  /**
   * Validate and open everything, but start no instance yet: subscribe to events (or call
   * `events()`), then `start()`. Rejects (having sent nothing) on invalid settings or a missing interface.
   */
  static async open(options: VrrpRunnerOptions): Promise<VrrpRunner> {
    const { instances, syncGroups } = validateVrrpConfig(options.instances, options.syncGroups ?? []);
    const hooks = options.hooks ?? {};
    checkHooks(instances, hooks);
    const runner = new VrrpRunner(options, hooks);
    try {
      await runner.#open(instances, syncGroups);
    } catch (error) {
      await runner.#vmacs?.removeAll().catch(() => undefined); // the first error is the one to report
      runner.#close();
      throw error;
    }
    return runner;
  }

  /**
   * Start every instance (INIT → BACKUP, MASTER for an address owner or one in `resume`, FAULT when
   * a tracked link is down). Throws VrrpConfigError (`resume[i]`) for a name that is no instance.
   */
  start(options: VrrpStartOptions = {}): void {
    if (this.#started || this.#stopped) return;
    const resume = new Set(options.resume ?? []);
    [...resume].forEach((name, i) => {
      if (!this.#drivers.has(name)) throw new VrrpConfigError(`resume[${i}]`, `no instance named ${JSON.stringify(name)}`);
    });
    this.#started = true;
    this.#retrack(true);
    for (const d of this.#drivers.values()) d.handle(resume.has(d.name) ? { type: 'startup', resume: 'MASTER' } : { type: 'startup' });
  }

  async #open(instances: ResolvedInstance[], syncGroups: ResolvedGroup[]): Promise<void> {
    const ns = this.#netns !== undefined ? { netns: this.#netns } : {};
    const rtnl = this.#rtnl = RtnlClient.open(ns);
    this.#watcher = await rtnl.watchLinks();
    this.#announcer = new Announcer(ns);
    this.#channels = new ChannelSet({
      ...ns, clock: this.#clock, rtnl, linkByName: (name) => this.#linkByName(name),
      onInput: (channel, input) => this.#dispatch(channel, input),
      onError: (channel, error) => this.#emit({ type: 'warning', message: `receiving on ${channel.dev} (IPv${channel.family}) failed: ${error.message}`, error }),
    });
    const links = this.#vmacs = new VmacLinks(rtnl, { procSys: this.#netns === undefined || threadInNetns(this.#netns) });
    this.#keeper = new VmacKeeper({
      vmacs: links, drivers: () => this.#drivers, linkByName: (name) => this.#linkByName(name), exclusive: (work) => this.#exclusive(work),
      remake: (driver, i) => this.#remakeVmac(driver, i), retrack: () => this.#retrack(), emit: (event) => this.#emit(event), stopped: () => this.#stopped,
    });
    const vips = instances.flatMap((r) => r.vips.map((v) => v.address));
    const vmacs = await this.#makeVmacs(instances, (r) => instances.indexOf(r));
    const placements = await this.#channels.place(instances, (r) => instances.indexOf(r), vips, vmacs);
    this.#channels.openFor(placements);
    for (const p of placements) this.#drivers.set(p.instance.name, this.#driverFor(p));
    this.#setGroups(syncGroups);
    this.#watcher.on('change', (change) => {
      this.#keeper!.linkChanged(change);
      this.#retrack();
    });
    this.#watcher.on('resync', (r) => this.#emit({ type: 'links-resynced', ...r }));
    this.#watcher.on('error', (error) => this.#emit({ type: 'warning', message: `link watcher: ${error.message}`, error }));
  }

  /** use_vmac / use_ipvlan: make (or adopt) the links of `instances`, by name. */
  async #makeVmacs(instances: readonly ResolvedInstance[], indexOf: (r: ResolvedInstance) => number): Promise<Map<string, Link>> {
    const made = new Map<string, Link>();
    for (const r of instances) if (r.vmac) made.set(r.vmac.name, await this.#vmacs!.ensure(r, `instances[${indexOf(r)}]`));
    return made;
  }

  /** Make `driver`'s VMAC again (VmacKeeper) and move its channel onto it. */
  async #remakeVmac(driver: InstanceDriver, i: number): Promise<void> {
    const r = driver.config;
    const vips = [...this.#drivers.values()].flatMap((d) => d.config.vips.map((v) => v.address));
    const link = await this.#vmacs!.ensure(r, `instances[${i}]`);
    const [p] = await this.#channels!.place([r], () => i, vips, new Map([[r.vmac!.name, link]]));
    this.#channels!.openFor([p!]);
    driver.rebind(this.#channels!.get(p!.key));
    this.#channels!.closeUnused(new Set([...this.#drivers.values()].map((d) => d.channel)));
  }

  #driverFor(p: Placement): InstanceDriver {
    const driver = new InstanceDriver(p.instance, this.#channels!.get(p.key), {
      clock: this.#clock, rtnl: this.#rtnl!, announcer: this.#announcer!, hooks: this.#hooks,
      link: (dev) => {
        const l = this.#linkByName(dev);
        return l ? { index: l.index, ...(l.mac ? { mac: l.mac } : {}) } : undefined;
      },
      emit: (event) => this.#emit(event),
      onTransition: (driver, action) => this.#onTransition(driver, action),
      notifyTimeoutMs: this.#notifyTimeoutMs,
    });
    if (this.#releaseArmed) driver.armRelease();
    return driver;
  }

  /**
   * Reload (keepalived's SIGHUP) as a difference. Everything is checked first — validateVrrpConfig,
   * the hooks, and for each instance to start, its link, its source address and its channel,
   * opened — so an invalid input rejects with a VrrpConfigError naming the field, having changed
   * nothing. Then, instances matched by name (reconfigure.ts): unchanged → nothing at all; changed
   * → in place (InstanceDriver.reconfigure: state kept, no VIP flap); replaced (an identity field
   * changed) → the old one stops gracefully, the new one starts; removed → graceful stop (priority 0
   * from a MASTER, VIPs released); added → started as by start() (or at start(), before it).
   * Channels no longer used close. Sync groups are re-read: faults re-shared, and a group whose
   * members changed and disagree (MASTER and BACKUP) brings its BACKUPs to MASTER, as when a member
   * becomes MASTER. Emits `reconfigure`. Runs after any reconfigure() or stop() called before it;
   * rejects once stopped.
   */
  reconfigure(instances: VrrpInstanceConfig[], syncGroups: VrrpSyncGroupConfig[] = []): Promise<VrrpReconfigureResult> {
    return this.#exclusive(() => this.#reconfigure(instances, syncGroups));
  }

  async #reconfigure(instances: VrrpInstanceConfig[], syncGroups: VrrpSyncGroupConfig[]): Promise<VrrpReconfigureResult> {
    if (this.#stopped) throw new Error('the VRRP runner is stopped: nothing to reconfigure');
    const next = validateVrrpConfig(instances, syncGroups);
    checkHooks(next.instances, this.#hooks);
    const prev = [...this.#drivers.values()].map((d) => d.config);
    const diff = diffInstances(prev, next.instances);
    const vips = [...prev, ...next.instances].flatMap((r) => r.vips.map((v) => v.address));
    const starting = [...diff.added, ...diff.replaced.map((c) => c.next)];
    const before = new Set(starting.flatMap((r) => (r.vmac && this.#vmacs!.has(r.vmac.name) ? [r.vmac.name] : [])));
    let fresh: Placement[];
    try {
      const vmacs = await this.#makeVmacs(starting, (r) => next.instances.indexOf(r));
      fresh = await this.#channels!.place(starting, (r) => next.instances.indexOf(r), vips, vmacs);
      this.#channels!.openFor(fresh);
    } catch (error) {
      // Refused: the VMACs made for it go again, so nothing is half-applied.
      for (const r of starting) if (r.vmac && !before.has(r.vmac.name)) await this.#vmacs!.remove(r.vmac.name).catch(() => undefined);
      throw error;
    }
    // Everything checked, every socket open: from here on, the changes.
    const leaving = [...diff.removed, ...diff.replaced.map((c) => c.prev)].map((r) => this.#drivers.get(r.name)!);
    await Promise.all(leaving.map((d) => d.stop()));
    for (const d of leaving) this.#ownTrack.delete(d.name);
    const kept = new Set(next.instances.flatMap((r) => (r.vmac ? [r.vmac.name] : [])));
    for (const d of leaving) if (d.config.vmac && !kept.has(d.config.vmac.name)) await this.#vmacs!.remove(d.config.vmac.name);
    for (const c of diff.changed) this.#drivers.get(c.next.name)!.reconfigure(c.next);
    const all = new Map([...this.#drivers, ...fresh.map((p) => [p.instance.name, this.#driverFor(p)] as const)]);
    this.#drivers.clear();
    for (const r of next.instances) this.#drivers.set(r.name, all.get(r.name)!);
    this.#channels!.closeUnused(new Set([...this.#drivers.values()].map((d) => d.channel)));
    const regrouped = changedGroups([...this.#groups.values()], next.syncGroups);
    this.#setGroups(next.syncGroups);
    if (this.#started) {
      this.#retrack();
      for (const p of fresh) this.#drivers.get(p.instance.name)!.handle({ type: 'startup' });
      for (const name of regrouped) this.#regroup(this.#groups.get(name)!);
    }
    const result = summarizeDiff(diff);
    this.#emit({ type: 'reconfigure', ...result, atMs: this.#clock.now() });
    return result;
  }

  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#serial.then(work);
    this.#serial = run.catch(() => undefined);
    return run;
  }

  /** The sync groups from `groups`; a group keeps its last state across a reload. */
  #setGroups(groups: readonly ResolvedGroup[]): void {
    const before = new Map(this.#groups);
    this.#groups.clear();
    this.#groupOf.clear();
    for (const g of groups) {
      const state = before.get(g.name)?.state;
      const group: Group = { name: g.name, members: [...g.members], notify: g.notify, ...(state ? { state } : {}) };
      this.#groups.set(g.name, group);
      for (const member of g.members) this.#groupOf.set(member, group);
    }
  }

  /** A group whose members changed: if one is MASTER, its BACKUP members follow it (keepalived's group rule). */
  #regroup(group: Group): void {
    const states = new Map(group.members.map((m) => [m, this.#drivers.get(m)!.machine.state]));
    const master = group.members.find((m) => states.get(m) === 'MASTER');
    if (master !== undefined) {
      for (const r of syncReactions(group.members, states, { member: master, from: 'BACKUP', to: 'MASTER', reason: 'startup' })) {
        this.#drivers.get(r.member)!.handle(r.event);
      }
    }
    this.#groupStateChanged(group);
  }

  /** Each instance's tracking from the current links; a sync group shares its members' faults. */
  #retrack(initial = false): void {
    if (this.#stopped || (!this.#started && !initial)) return;
    const linkStates = [...this.#watcher!.links().values()];
    for (const driver of this.#drivers.values()) {
      const tracked = trackingStatus(driver.config.track, linkStates);
      // A VMAC that went is a FAULT until it is made again (keepalived's too).
      const links = this.#keeper!.stale(driver.name) ? { ...tracked, fault: true } : tracked;
      const ext = this.#external[driver.name];
      this.#ownTrack.set(driver.name, ext ? { fault: links.fault || ext.fault, weight: links.weight + ext.weight } : links);
    }
    for (const driver of this.#drivers.values()) {
      const own = this.#ownTrack.get(driver.name)!;
      const group = this.#groupOf.get(driver.name);
      const fault = group ? groupFault(group.members, new Map([...this.#ownTrack].map(([k, v]) => [k, v.fault]))) : own.fault;
      const m = driver.machine;
      if (initial || m.fault !== fault || m.trackWeight !== own.weight) driver.handle({ type: 'track', fault, weight: own.weight });
    }
  }

  /**
   * Tracking from outside the runner (keepalived's vrrp_script and track_file, run by src/track):
   * per instance a FAULT and a weight, added to its track_interface state. Replaces what was set
   * before; an instance not named has none. Applied at once once started (else at start()).
   */
  setTracking(tracking: Readonly<Record<string, { fault: boolean; weight: number }>>): void {
    this.#external = { ...tracking };
    this.#retrack();
  }

  #dispatch(channel: VrrpChannel, input: ChannelInput): void {
    if (this.#stopped) return;
    const drops = this.#channels!.drops(channel);
    if (!input.ok) {
      drops[input.reason]++;
      this.#emit({ type: 'drop', interface: channel.dev, reason: input.reason, message: input.message, ...(input.src ? { src: input.src } : {}) });
      return;
    }
    const vrid = peekVrid(input.datagram.vrrp);
    let matched = false;
    for (const driver of this.#drivers.values()) {
      if (driver.channel === channel && driver.config.vrid === vrid) {
        matched = true;
        driver.receive(input.datagram, input.atMs);
      }
    }
    // Another virtual router on the same LAN (or a runt): counted, not reported — that is normal.
    if (!matched) drops[vrid === undefined ? 'truncated' : 'vrid']++;
  }

  #onTransition(driver: InstanceDriver, action: Extract<VrrpAction, { type: 'notify' }>): void {
    const group = this.#groupOf.get(driver.name);
    if (!group || this.#stopped) return;
    const states = new Map(group.members.map((m) => [m, this.#drivers.get(m)!.machine.state]));
    for (const r of syncReactions(group.members, states, { member: driver.name, from: action.from, to: action.to, reason: action.reason })) {
      this.#drivers.get(r.member)!.handle(r.event);
    }
    this.#groupStateChanged(group);
  }

  /** When the members agree on a new state: a `group-transition` and the group's notify scripts. */
  #groupStateChanged(group: Group): void {
    const now = groupState(group.members, new Map(group.members.map((m) => [m, this.#drivers.get(m)!.machine.state])));
    if (now === undefined || now === group.state || now === 'INIT') return;
    group.state = now;
    this.#emit({ type: 'group-transition', group: group.name, to: now, atMs: this.#clock.now() });
    for (const argv of scriptsFor(group.notify, 'GROUP', group.name, now, 0)) {
      void runScript(group.name, argv, this.#notifyTimeoutMs).then((event) => this.#emit(event));
    }
  }

  #linkByName(name: string): Link | undefined {
    for (const link of this.#watcher?.links().values() ?? []) if (link.name === name) return link;
    return undefined;
  }

  #emit(event: VrrpRunnerEvent): void {
    (this.emit as (name: string, e: VrrpRunnerEvent) => boolean)(event.type, event);
  }

  /** Every instance's state and counters. */
  status(): InstanceStatus[] {
    return [...this.#drivers.values()].map((d) => d.status());
  }

  /** Drops of datagrams no instance could take (bad IP header, other VRIDs), per channel `family/ifindex/mode`. */
  channelDrops(): Record<string, DropCounters> {
    return this.#channels?.dropCounts() ?? {};
  }

  /** Wait until every instance's queued VIP changes and announcements are done. */
  async settled(): Promise<void> {
    await Promise.all([...this.#drivers.values()].map((d) => d.settled()));
  }

  /**
   * Every event from now on, in order, as an async iterator (subscribed at the call, so call it
   * before `start()` to see the first transitions); ends when the runner stops or `signal` aborts.
   */
  events(options: { signal?: AbortSignal } = {}): AsyncGenerator<VrrpRunnerEvent> {
    return eventStream(this, RUNNER_EVENT_NAMES, (_name, event) => event as VrrpRunnerEvent,
      { ...options, closed: this.#stopped });
  }

  /**
   * Commit `signals` to a graceful stop whose first step is taken by the signal handler itself:
   * while an instance is MASTER its priority-0 advert waits armed in a native slot, and leaves the
   * moment a signal arrives, before the event loop has run (node's own handler then delivers the
   * signal to JS as before). Call it after `process.on(signal, () => runner.stop())`, which must
   * follow: once a signal has sent the priority 0, no advert at our priority goes out again.
   * Process-wide, as signal handlers are: for the composition that owns the process (the CLI).
   */
  releaseOnSignal(signals: readonly NodeJS.Signals[]): void {
    for (const signal of signals) sendOnSignal(signal);
    this.#releaseArmed = true;
    for (const driver of this.#drivers.values()) driver.armRelease();
  }

  /**
   * Stop every instance and close the sockets. Default: the graceful stop (priority 0 from every
   * MASTER, VIPs released); `release: false`: the hand-over (VrrpStopOptions). Idempotent: the first
   * call decides. Runs after a reconfigure() called before it.
   */
  stop(options: VrrpStopOptions = {}): Promise<void> {
    return this.#exclusive(async () => {
      if (this.#stopped) return;
      await Promise.all([...this.#drivers.values()].map((d) => d.stop(options)));
      // A graceful stop removes the VMACs, as keepalived does; a hand-over leaves them with their VIPs.
      if (options.release !== false) await this.#vmacs?.removeAll().catch((error: Error) => this.#emit({ type: 'warning', message: `removing a VMAC failed: ${error.message}`, error }));
      this.#close();
      this.emit('close');
    });
  }

  /** Release everything: the graceful stop() when it has not been stopped yet. Idempotent. */
  close(): Promise<void> {
    return this.stop();
  }

  /** `await using runner = await VrrpRunner.open(...)`: close() when the scope ends. */
  [Symbol.asyncDispose](): Promise<void> { return this.close(); }

  #close(): void {
    this.#stopped = true;
    this.#channels?.close();
    this.#announcer?.close();
    this.#watcher?.close();
    this.#rtnl?.close();
  }
}
