// layer: behaviour (vrrp)
// job: run VRRP instances: validate, open the shared channels, feed datagrams, link changes and timers to the machines, sync groups, graceful stop.
import { EventEmitter } from 'node:events';
import { eventStream } from '../event-stream.js';
import { sendOnSignal } from '../native/signal-send.js';
import { RtnlClient } from '../rtnl/client.js';
import { IFA_F_SECONDARY, IFA_F_TENTATIVE } from '../rtnl/constants.js';
import type { Link } from '../rtnl/link.js';
import type { LinkWatcher } from '../rtnl/watch.js';
import { isLinkLocalIPv6, sameAddress } from './address.js';
import { Announcer } from './announce.js';
import { VrrpChannel, channelKey, type ChannelInput } from './channel.js';
import { systemClock, type Clock } from './clock.js';
import { InstanceDriver } from './driver.js';
import {
  RUNNER_EVENT_NAMES, type InstanceStatus, type VrrpHooks, type VrrpRunnerEvent, type VrrpRunnerEvents,
} from './events.js';
import type { NotifyScripts, ResolvedInstance, VrrpInstanceConfig, VrrpSyncGroupConfig } from './instance.js';
import { runScript, scriptsFor } from './notify.js';
import { peekVrid, emptyDropCounters, type DropCounters } from './receive.js';
import type { VrrpAction, VrrpStateName } from './state.js';
import { groupFault, groupState, syncReactions } from './sync-group.js';
import { trackingStatus } from './tracking.js';
import { validateVrrpConfig, VrrpConfigError } from './validate.js';

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

interface Group { name: string; members: string[]; notify: NotifyScripts; state?: VrrpStateName }

/**
 * VRRP instances over real sockets. `start()` validates everything before anything is sent, opens
 * one raw socket per interface, family and mode, watches links for `track_interface`, and starts
 * every instance. Events: `transition`, `group-transition`, `drop`, `vip`, `announce`,
 * `sync-daemon`, `script`, `warning` (also as one async iterator, `events()`). `stop()` is the
 * graceful stop: MASTERs send priority 0 and release their VIPs.
 */
export class VrrpRunner extends EventEmitter<VrrpRunnerEvents> {
  readonly #drivers = new Map<string, InstanceDriver>();
  readonly #channels = new Map<string, VrrpChannel>();
  readonly #channelDrops = new Map<string, DropCounters>();
  readonly #groups = new Map<string, Group>();
  readonly #groupOf = new Map<string, Group>();
  readonly #ownTrack = new Map<string, { fault: boolean; weight: number }>();
  readonly #clock: Clock;
  #rtnl?: RtnlClient;
  #watcher?: LinkWatcher;
  #announcer?: Announcer;
  #stopped = false;
  #started = false;
  #notifyTimeoutMs = 10_000;

  private constructor(clock: Clock) {
    super();
    this.#clock = clock;
  }

  /** Validate, open, start. Rejects (having sent nothing) on invalid settings or a missing interface. */
  static async start(options: VrrpRunnerOptions): Promise<VrrpRunner> {
    const runner = await VrrpRunner.open(options);
    runner.start();
    return runner;
  }

  /**
   * Validate and open everything, but start no instance yet: subscribe to events (or call
   * `events()`), then `start()`. Rejects (having sent nothing) on invalid settings or a missing interface.
   */
  static async open(options: VrrpRunnerOptions): Promise<VrrpRunner> {
    const { instances, syncGroups } = validateVrrpConfig(options.instances, options.syncGroups ?? []);
    const hooks = options.hooks ?? {};
    instances.forEach((r, i) => {
      if (!r.acceptMode && r.priority !== 255 && !hooks.blockVips) {
        throw new VrrpConfigError(`instances[${i}].acceptMode`, 'false needs a blockVips hook (lvskit has no firewall client to block VIP traffic)');
      }
    });
    const runner = new VrrpRunner(options.clock ?? systemClock);
    try {
      await runner.#open(instances, syncGroups, options, hooks);
    } catch (error) {
      runner.#close();
      throw error;
    }
    return runner;
  }

  /** Start every instance (INIT → BACKUP, MASTER for an address owner, FAULT when a tracked link is down). */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    this.#retrack(true);
    for (const driver of this.#drivers.values()) driver.handle({ type: 'startup' });
  }

  async #open(instances: ResolvedInstance[], syncGroups: Array<{ name: string; members: string[]; notify: NotifyScripts }>,
    options: VrrpRunnerOptions, hooks: VrrpHooks): Promise<void> {
    const ns = options.netns !== undefined ? { netns: options.netns } : {};
    this.#notifyTimeoutMs = options.notifyTimeoutMs ?? this.#notifyTimeoutMs;
    this.#rtnl = RtnlClient.open(ns);
    this.#watcher = await this.#rtnl.watchLinks();
    this.#announcer = new Announcer(ns);
    const vipSet = instances.flatMap((r) => r.vips.map((v) => v.address));
    for (const [i, r] of instances.entries()) {
      const link = this.#linkByName(r.interface);
      if (!link) throw new VrrpConfigError(`instances[${i}].interface`, `no link ${r.interface}${options.netns ? ` in network namespace ${options.netns}` : ''}`);
      const unicast = r.unicastPeers.length > 0;
      const source = r.unicastSourceAddress ?? await this.#primaryAddress(r, link.index, vipSet, i);
      const key = channelKey(r.family, link.index, unicast ? source : undefined);
      let channel = this.#channels.get(key);
      if (!channel) {
        channel = VrrpChannel.open({ ...ns, family: r.family, dev: r.interface, ifindex: link.index, source, unicast });
        this.#channels.set(key, channel);
        this.#channelDrops.set(key, emptyDropCounters());
        const opened = channel;
        channel.listen(this.#clock, (input) => this.#dispatch(opened, input),
          (error) => this.#emit({ type: 'warning', message: `receiving on ${opened.dev} (IPv${opened.family}) failed: ${error.message}`, error }));
      }
      this.#drivers.set(r.name, new InstanceDriver(r, channel, {
        clock: this.#clock, rtnl: this.#rtnl, announcer: this.#announcer, hooks,
        link: (dev) => {
          const l = this.#linkByName(dev);
          return l ? { index: l.index, ...(l.mac ? { mac: l.mac } : {}) } : undefined;
        },
        emit: (event) => this.#emit(event),
        onTransition: (driver, action) => this.#onTransition(driver, action),
        notifyTimeoutMs: this.#notifyTimeoutMs,
      }));
    }
    for (const g of syncGroups) {
      const group: Group = { ...g };
      this.#groups.set(g.name, group);
      for (const member of g.members) this.#groupOf.set(member, group);
    }
    this.#watcher.on('change', () => this.#retrack());
  }

  /** keepalived's source: the interface's first (primary) IPv4 address, or its IPv6 link-local — never a VIP. */
  async #primaryAddress(r: ResolvedInstance, ifindex: number, vips: string[], i: number): Promise<string> {
    const addresses = (await this.#rtnl!.listAddresses({ family: r.family, ifindex }))
      .filter((a) => !vips.some((v) => sameAddress(v, a.address)));
    const pick = r.family === 4
      ? addresses.find((a) => (a.flags & IFA_F_SECONDARY) === 0)
      : addresses.filter((a) => isLinkLocalIPv6(a.address)).sort((a, b) => (a.flags & IFA_F_TENTATIVE) - (b.flags & IFA_F_TENTATIVE))[0];
    if (!pick) {
      throw new VrrpConfigError(`instances[${i}].interface`, `${r.interface} has no ${r.family === 4 ? 'IPv4 address' : 'IPv6 link-local address'} to send adverts from (set unicastSourceAddress or add one)`);
    }
    return pick.address;
  }

  /** Each instance's tracking from the current links; a sync group shares its members' faults. */
  #retrack(initial = false): void {
    if (this.#stopped || (!this.#started && !initial)) return;
    const links = [...this.#watcher!.links().values()];
    for (const driver of this.#drivers.values()) this.#ownTrack.set(driver.name, trackingStatus(driver.config.track, links));
    for (const driver of this.#drivers.values()) {
      const own = this.#ownTrack.get(driver.name)!;
      const group = this.#groupOf.get(driver.name);
      const fault = group ? groupFault(group.members, new Map([...this.#ownTrack].map(([k, v]) => [k, v.fault]))) : own.fault;
      const m = driver.machine;
      if (initial || m.fault !== fault || m.trackWeight !== own.weight) driver.handle({ type: 'track', fault, weight: own.weight });
    }
  }

  #dispatch(channel: VrrpChannel, input: ChannelInput): void {
    if (this.#stopped) return;
    const drops = this.#channelDrops.get(channel.key)!;
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
    return Object.fromEntries([...this.#channelDrops].map(([k, v]) => [k, { ...v }]));
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
    for (const driver of this.#drivers.values()) driver.armRelease();
  }

  /** Graceful stop: priority 0 from every MASTER, VIPs released, sockets closed. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    await Promise.all([...this.#drivers.values()].map((d) => d.stop()));
    this.#stopped = true;
    this.#close();
    this.emit('close');
  }

  #close(): void {
    this.#stopped = true;
    for (const channel of this.#channels.values()) channel.close();
    this.#announcer?.close();
    this.#watcher?.close();
    this.#rtnl?.close();
  }
}
