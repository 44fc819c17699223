// layer: behaviour (vrrp)
// job: one instance at run time: its pure machine, real timers, and the actions carried out (adverts, VIPs over rtnetlink, announcements, hooks, scripts); reload in place, hand-over stop.
import { isErrnoError } from '../errors.js';
import type { SignalSend } from '../native/signal-send.js';
import type { RtnlClient } from '../rtnl/client.js';
import { IFA_F_NODAD } from '../rtnl/constants.js';
import type { Announcer } from './announce.js';
import type { VrrpChannel } from './channel.js';
import type { Clock } from './clock.js';
import type { InstanceStats, InstanceStatus, VrrpHooks, VrrpRunnerEvent } from './events.js';
import type { ResolvedInstance, ResolvedVip } from './instance.js';
import { runScript, scriptsFor } from './notify.js';
import { encodeAdvertisement } from './packet.js';
import { checkAdvertisement, emptyDropCounters, type ReceivedDatagram, type ReceivePolicy } from './receive.js';
import { applyNetSteps } from './net-apply.js';
import { reloadSteps, stateChangeSteps, virtualNetSet, type NetStep } from './net-plan.js';
import { advertContentChanged, vipDifference } from './reconfigure.js';
import { createMachine, step, type Machine, type MachineConfig, type StepResult, type TimerName, type VrrpAction, type VrrpEvent, type VrrpStateName } from './state.js';

/** What a driver needs from the runner. */
export interface DriverDeps {
  clock: Clock;
  rtnl: RtnlClient;
  announcer: Announcer;
  /** Index and hardware address of a link by name, from the runner's link watcher. */
  link(dev: string): { index: number; mac?: string } | undefined;
  hooks: VrrpHooks;
  emit(event: VrrpRunnerEvent): void;
  /** Called after every transition (the runner applies sync-group rules). */
  onTransition(driver: InstanceDriver, action: Extract<VrrpAction, { type: 'notify' }>): void;
  notifyTimeoutMs: number;
}

/** The machine's view of a resolved instance. */
export function machineConfig(r: ResolvedInstance, primaryAddress: string): MachineConfig {
  return {
    version: r.version, priority: r.priority, advertIntervalCs: r.advertIntervalCs, preempt: r.preempt,
    preemptDelayMs: r.preemptDelayMs, acceptMode: r.acceptMode, primaryAddress, garp: r.garp,
    syncDaemon: r.lvsSyncDaemonInterface !== undefined,
  };
}

/** The receive checks' view of a resolved instance. */
export function receivePolicy(r: ResolvedInstance, unicast: boolean): ReceivePolicy {
  return {
    family: r.family, version: r.version, vrid: r.vrid, advertIntervalCs: r.advertIntervalCs,
    addresses: r.vips.map((v) => v.address), unicast, ...(r.authData ? { authData: r.authData } : {}),
  };
}

/** Drives one VRRP instance: feeds its state machine with adverts and timers, and carries out its actions. */
export class InstanceDriver {
  #channel: VrrpChannel;
  #config: ResolvedInstance;
  #machine: Machine;
  readonly #deps: DriverDeps;
  #policy: ReceivePolicy;
  readonly #timers = new Map<TimerName, unknown>();
  readonly #adverts = new Map<string, Buffer>();
  readonly #stats: InstanceStats = {
    advertsSent: 0, advertsReceived: 0, priorityZeroSent: 0, priorityZeroReceived: 0, becameMaster: 0, releasedMaster: 0,
    drops: emptyDropCounters(),
  };
  /** VIP changes, announcements and hooks run one after another, in the order the machine asked. */
  #queue: Promise<void> = Promise.resolve();
  /** After armRelease(): while MASTER, our priority-0 advert per destination, armed in a signal slot. */
  #release: Map<string, SignalSend> | undefined;
  #armRelease = false;

  constructor(config: ResolvedInstance, channel: VrrpChannel, deps: DriverDeps) {
    this.#config = config;
    this.#channel = channel;
    this.#deps = deps;
    this.#machine = createMachine(machineConfig(config, channel.source));
    this.#policy = receivePolicy(config, config.unicastPeers.length > 0);
    this.#prepareAdverts();
  }

  /** The channel its adverts go out on. */
  get channel(): VrrpChannel { return this.#channel; }

  /**
   * Speak on `channel` from now on (its VMAC was made again, with a new index): the adverts armed
   * for a signal are re-armed on it. The advert source stays the one the machine was made with.
   */
  rebind(channel: VrrpChannel): void {
    this.#disarmRelease();
    this.#channel = channel;
    this.#adverts.clear();
    this.#prepareAdverts();
    if (this.#armRelease) this.#syncRelease();
  }

  /** The instance's settings (the latest, after a reconfigure). */
  get config(): ResolvedInstance { return this.#config; }
  get name(): string { return this.#config.name; }
  get machine(): Machine { return this.#machine; }

  /** Step the machine (at `atMs`, default now; or `stepped`, taken from this machine before) and carry out what it returns. */
  handle(event: VrrpEvent, atMs = this.#deps.clock.now(), stepped = step(this.#machine, event, atMs)): void {
    const { machine, actions } = stepped;
    const from = this.#machine.state;
    this.#machine = machine;
    for (const action of actions) this.#execute(action, from);
    if (this.#armRelease) this.#syncRelease();
  }

  /**
   * From now on, whenever MASTER, keep the priority-0 adverts armed for the signals given to
   * `sendOnSignal` (VrrpRunner.releaseOnSignal): they leave from the signal handler itself.
   */
  armRelease(): void {
    this.#armRelease = true;
    this.#syncRelease();
  }

  /**
   * A datagram for this instance's VRID, received at `atMs`: checked, then (only if it passes) an
   * advert event at its arrival time, so the timers it sets count from when it arrived.
   */
  receive(datagram: ReceivedDatagram, atMs = this.#deps.clock.now()): void {
    const r = checkAdvertisement(this.#policy, datagram);
    if (!r.ok) {
      this.#stats.drops[r.reason]++;
      this.#deps.emit({ type: 'drop', instance: this.name, interface: this.channel.dev, reason: r.reason, message: r.message, src: datagram.src });
      return;
    }
    this.#stats.advertsReceived++;
    if (r.advert.priority === 0) this.#stats.priorityZeroReceived++;
    this.handle({ type: 'advert', src: datagram.src, priority: r.advert.priority, advertIntervalCs: r.advert.advertIntervalCs }, atMs);
  }

  /**
   * Reload in place with `next`, whose identity (name, VRID, version, family, interface, unicast
   * settings) is this instance's — the runner replaces an instance whose identity changes. The
   * receive checks and the advert bytes follow `next` at once. While MASTER, the VIP difference is
   * applied: dropped VIPs removed, new ones added and announced (`garp_master_repeat` each, with the
   * VIP block when Accept_Mode is off), the unchanged ones not touched. Priority-0 adverts armed
   * for a signal are re-armed with the new bytes. Then the machine takes the settings (state.ts,
   * `reconfigure`): a MASTER whose advert changed sends it at once. A sync daemon whose interface
   * changed is stopped on the old one, then asked for on the new one.
   */
  reconfigure(next: ResolvedInstance): void {
    const prev = this.#config;
    if (prev.lvsSyncDaemonInterface !== undefined && next.lvsSyncDaemonInterface !== undefined
      && prev.lvsSyncDaemonInterface !== next.lvsSyncDaemonInterface) {
      this.handle({ type: 'reconfigure', config: { ...this.#machine.config, syncDaemon: false } });
    }
    this.#config = next;
    this.#policy = receivePolicy(next, this.#policy.unicast);
    this.#adverts.clear();
    this.#prepareAdverts();
    if (this.#machine.state === 'MASTER') {
      this.#applyVipDifference(prev.vips, next.vips);
      this.#applyNet(reloadSteps(virtualNetSet(prev), virtualNetSet(next)));
    }
    this.#disarmRelease();
    this.handle({ type: 'reconfigure', config: machineConfig(next, this.channel.source), advertChanged: advertContentChanged(prev, next) });
  }

  /**
   * Stop; resolves when the queued work is done. `release` (default true): the graceful stop,
   * priority 0 and the VIPs released when MASTER. `release: false`: the hand-over to a successor
   * that starts with `resume` — no priority 0, the VIPs, the sync daemon and a VIP block stay, no
   * STOP notification; timers cleared and the signal-armed priority 0 disarmed, so nothing leaves.
   */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    this.handle({ type: 'shutdown', release: options.release !== false });
    for (const handle of this.#timers.values()) this.#deps.clock.clearTimer(handle);
    this.#timers.clear();
    await this.#queue;
  }

  /** Wait for queued VIP changes and announcements. */
  settled(): Promise<void> { return this.#queue; }

  status(): InstanceStatus {
    const m = this.#machine;
    return {
      name: this.name, state: m.state, priority: m.priority, vrid: this.config.vrid, interface: this.config.interface,
      masterAdverIntervalCs: m.masterAdverIntervalCs, ...(m.master ? { master: { ...m.master } } : {}),
      stats: { ...this.#stats, drops: { ...this.#stats.drops } },
    };
  }

  /**
   * Carry out one action. Queued work takes the VIPs (and the sync daemon's interface) of the
   * settings it was asked under: a reconfigure that follows does not change what it acts on.
   */
  #execute(a: VrrpAction, from: VrrpStateName): void {
    const vips = this.#config.vips;
    switch (a.type) {
      case 'send-advert': return this.#sendAdvert(a.priority);
      case 'set-timer': return this.#setTimer(a.timer, a.atMs);
      case 'clear-timer': return this.#clearTimer(a.timer);
      // virtual_routes / virtual_rules: after the VIPs on becoming MASTER, before them on leaving it.
      case 'add-vips':
        this.#enqueue(() => this.#vips('add', vips));
        return this.#applyNet(stateChangeSteps(from, this.#machine.state, virtualNetSet(this.#config)));
      case 'remove-vips':
        this.#applyNet(stateChangeSteps(from, this.#machine.state, virtualNetSet(this.#config)));
        return this.#enqueue(() => this.#vips('remove', vips));
      case 'announce': return this.#enqueue(() => this.#announce(a.repeat, vips));
      case 'block-vips': return this.#enqueue(() => this.#blockVips(a.block, vips));
      case 'sync-daemon': {
        const dev = this.#config.lvsSyncDaemonInterface!;
        return this.#enqueue(() => this.#syncDaemon(a.role, dev));
      }
      case 'notify': return this.#notify(a);
      case 'warning': return this.#deps.emit({ type: 'warning', instance: this.name, message: a.message });
    }
  }

  get #destinations(): string[] {
    return this.#config.unicastPeers.length > 0 ? this.#config.unicastPeers : [this.channel.group];
  }

  /** Ready before the first takeover or stop: the adverts at our priority and at priority 0. */
  #prepareAdverts(): void {
    for (const dst of this.#destinations) {
      this.#advertBytes(this.#config.priority, dst);
      this.#advertBytes(0, dst);
    }
  }

  /** A MASTER's reload: VIPs no longer configured (as they were) go, new ones come and are announced. */
  #applyVipDifference(prev: readonly ResolvedVip[], next: readonly ResolvedVip[]): void {
    const { added, removed } = vipDifference(prev, next);
    const blocked = this.#machine.blocked;
    const repeat = this.#config.garp.masterRepeat;
    if (removed.length > 0) {
      this.#enqueue(() => this.#vips('remove', removed));
      if (blocked) this.#enqueue(() => this.#blockVips(false, removed));
    }
    if (added.length > 0) {
      if (blocked) this.#enqueue(() => this.#blockVips(true, added));
      this.#enqueue(() => this.#vips('add', added));
      this.#enqueue(() => this.#announce(repeat, added));
    }
  }

  #sendAdvert(priority: number): void {
    for (const dst of this.#destinations) {
      const armed = this.#release?.get(dst);
      if (armed && priority === 0) {
        this.#release!.delete(dst);
        if (armed.disarm()) { // a signal's handler sent it already: a second one would restart the backup's Skew_Time
          this.#stats.advertsSent++;
          this.#stats.priorityZeroSent++;
          continue;
        }
      } else if (armed?.sent) {
        return; // released on the wire by a signal, the stop is on its way: no advert may contradict it
      }
      const vrrp = this.#advertBytes(priority, dst);
      this.#stats.advertsSent++;
      if (priority === 0) this.#stats.priorityZeroSent++;
      this.channel.send(vrrp, dst).catch((error: Error) => this.#warn(`sending the advert to ${dst} failed: ${error.message}`, error));
    }
  }

  /** An instance's adverts differ only in priority and destination: each is encoded once. */
  #advertBytes(priority: number, dst: string): Buffer {
    const key = `${priority}/${dst}`;
    let vrrp = this.#adverts.get(key);
    if (!vrrp) {
      const c = this.#config;
      vrrp = encodeAdvertisement({
        version: c.version, vrid: c.vrid, priority, advertIntervalCs: c.advertIntervalCs, authType: c.authData ? 1 : 0,
        ...(c.authData ? { authData: c.authData } : {}), addresses: c.vips.map((v) => v.address),
      }, c.family, { src: this.channel.source, dst });
      if (this.#adverts.size > 64) this.#adverts.clear(); // weights can walk the priority through many values
      this.#adverts.set(key, vrrp);
    }
    return vrrp;
  }

  /**
   * Before a reload: the armed priority-0 adverts carry the old VIPs, interval and password; they
   * are disarmed, and `handle` arms the new ones. Not when a signal has sent one already: then a
   * stop is on its way and no advert may follow.
   */
  #disarmRelease(): void {
    const armed = this.#release;
    if (!armed || [...armed.values()].some((a) => a.sent)) return;
    for (const a of armed.values()) a.disarm();
    this.#release = undefined;
  }

  /** Arm the priority-0 adverts on becoming MASTER, disarm them on leaving (unless #sendAdvert took them). */
  #syncRelease(): void {
    const master = this.#machine.state === 'MASTER';
    if (master && !this.#release) {
      this.#release = new Map();
      for (const dst of this.#destinations) {
        const armed = this.channel.armOnSignal(this.#advertBytes(0, dst), dst);
        if (armed) this.#release.set(dst, armed); // no slot free: the stop sends this one the ordinary way
      }
    } else if (!master && this.#release) {
      for (const armed of this.#release.values()) armed.disarm();
      this.#release = undefined;
    }
  }

  #setTimer(timer: TimerName, atMs: number): void {
    this.#clearTimer(timer);
    // Master_Down_Timer decides when a takeover happens: it gets the sub-millisecond timer, and
    // the machine's step is taken while it waits out its last fraction of a millisecond (step is
    // pure, and nothing can change the machine meanwhile: the thread is waiting for this timer).
    const event = { type: 'timer', timer } as const;
    const precise = timer === 'masterDown';
    let prepared: { from: Machine; result: StepResult } | undefined;
    const handle = this.#deps.clock.setTimer(atMs, () => {
      if (this.#timers.get(timer) !== handle) return;
      this.#timers.delete(timer);
      if (prepared?.from === this.#machine) this.handle(event, atMs, prepared.result);
      else this.handle(event);
    }, precise, precise ? () => { prepared = { from: this.#machine, result: step(this.#machine, event, atMs) }; } : undefined);
    this.#timers.set(timer, handle);
  }

  #clearTimer(timer: TimerName): void {
    const handle = this.#timers.get(timer);
    if (handle === undefined) return;
    this.#deps.clock.clearTimer(handle);
    this.#timers.delete(timer);
  }

  /** Routes and rules, queued with the VIP work (in the order the machine asked). */
  #applyNet(steps: NetStep[]): void {
    if (steps.length > 0) this.#enqueue(() => applyNetSteps(this.#deps.rtnl, steps, this.name, this.#deps.emit));
  }

  #enqueue(work: () => Promise<void>): void {
    this.#queue = this.#queue.then(work).catch((error: Error) => this.#warn(error.message, error));
  }

  /** Add or remove VIPs (`ip addr add A/N dev D label L`); already there / already gone is success. */
  async #vips(op: 'add' | 'remove', vips: readonly ResolvedVip[]): Promise<void> {
    await Promise.all(vips.map(async (vip) => {
      const target = {
        dev: vip.dev, address: vip.address, prefixLength: vip.prefixLength, ...(vip.label ? { label: vip.label } : {}),
        ...(vip.scope ? { scope: vip.scope } : {}), ...(vip.broadcast ? { broadcast: vip.broadcast } : {}),
        ...(this.#config.family === 6 ? { flags: IFA_F_NODAD } : {}),
      };
      const event = { type: 'vip' as const, instance: this.name, op, address: vip.address, prefixLength: vip.prefixLength, dev: vip.dev, ...(vip.label ? { label: vip.label } : {}) };
      try {
        if (op === 'add') await this.#deps.rtnl.addAddress(target);
        else await this.#deps.rtnl.deleteAddress(target);
      } catch (error) {
        const benign = isErrnoError(error) && (op === 'add' ? error.code === 'EEXIST' : error.code === 'EADDRNOTAVAIL' || error.code === 'ENODEV');
        if (!benign) {
          this.#deps.emit({ ...event, error: error as Error });
          return;
        }
        if (op === 'remove') return; // nothing was there: no event for a no-op cleanup
      }
      this.#deps.emit(event);
    }));
  }

  async #announce(repeat: number, vips: readonly ResolvedVip[]): Promise<void> {
    if (repeat <= 0) return;
    for (const vip of vips) {
      const link = this.#deps.link(vip.dev);
      const kind = this.#config.family === 4 ? 'garp' : 'na';
      const event = { type: 'announce' as const, instance: this.name, kind, address: vip.address, dev: vip.dev, count: repeat } as const;
      if (!link?.mac) {
        this.#deps.emit({ ...event, count: 0, error: new Error(`no hardware address for ${vip.dev}`) });
        continue;
      }
      try {
        await this.#deps.announcer.announce(link.index, Buffer.from(link.mac.split(':').map((h) => Number.parseInt(h, 16))), vip.address, repeat);
        this.#deps.emit(event);
      } catch (error) {
        this.#deps.emit({ ...event, count: 0, error: error as Error });
      }
    }
  }

  async #blockVips(block: boolean, vips: readonly ResolvedVip[]): Promise<void> {
    await this.#deps.hooks.blockVips?.({ instance: this.name, addresses: vips.map((v) => v.address), block });
  }

  async #syncDaemon(role: 'master' | 'backup' | 'stop', dev: string): Promise<void> {
    const request = { instance: this.name, role, interface: dev, syncId: this.#config.vrid };
    const hook = this.#deps.hooks.syncDaemon;
    try {
      await hook?.(request);
      this.#deps.emit({ type: 'sync-daemon', ...request, handled: hook !== undefined });
    } catch (error) {
      this.#deps.emit({ type: 'sync-daemon', ...request, handled: true, error: error as Error });
    }
  }

  #notify(a: Extract<VrrpAction, { type: 'notify' }>): void {
    if (a.to === 'MASTER') this.#stats.becameMaster++;
    if (a.from === 'MASTER') this.#stats.releasedMaster++;
    this.#deps.emit({ type: 'transition', instance: this.name, from: a.from, to: a.to, reason: a.reason, priority: a.priority, atMs: this.#deps.clock.now() });
    this.#deps.onTransition(this, a);
    for (const argv of scriptsFor(this.#config.notify, 'INSTANCE', this.name, a.to, a.priority)) {
      void runScript(this.name, argv, this.#deps.notifyTimeoutMs).then((event) => this.#deps.emit(event));
    }
  }

  #warn(message: string, error?: Error): void {
    this.#deps.emit({ type: 'warning', instance: this.name, message, ...(error ? { error } : {}) });
  }
}
