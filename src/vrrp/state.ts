// layer: behaviour (vrrp)
// job: the pure VRRP state machine: step(machine, event, nowMs) → { machine, actions }, one transition function per RFC section.
import { compareAddresses } from './address.js';
import { PRIORITY_OWNER, PRIORITY_STOP } from './constants.js';
import {
  effectivePriority, masterDownIntervalMs, skewTimeMs, type AdvertEvent, type Machine, type MachineConfig, type NotifyState,
  type StepResult, type TimerName, type TransitionReason, type VrrpAction, type VrrpEvent, type VrrpStateName,
} from './machine.js';

export * from './machine.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Draft = Mutable<Machine> & { timers: Partial<Record<TimerName, number>> };

/** One step: the machine after `event` at `nowMs`, and what the caller must do, in order. */
export function step(machine: Machine, event: VrrpEvent, nowMs: number): StepResult {
  const m: Draft = { ...machine, timers: { ...machine.timers } };
  const actions: VrrpAction[] = [];
  const run = new Run(m, actions, nowMs);
  switch (event.type) {
    case 'startup': run.initialize(event.resume === 'MASTER'); break;
    case 'reconfigure': run.reconfigure(event.config, event.advertChanged === true); break;
    case 'advert': run.advert(event); break;
    case 'timer': run.timer(event.timer); break;
    case 'track': run.track(event.fault, event.weight); break;
    case 'sync': run.sync(event.to); break;
    case 'shutdown': run.shutdown(event.release !== false); break;
  }
  return { machine: m, actions };
}

/** The transition functions, over a draft of the machine and the action list of one step. */
class Run {
  constructor(private readonly m: Draft, private readonly out: VrrpAction[], private readonly now: number) {}

  private get c(): MachineConfig { return this.m.config; }
  private get owner(): boolean { return this.m.basePriority === PRIORITY_OWNER; }

  /**
   * RFC 3768 §6.4.1 / RFC 5798 §6.4.1 Initialize: the owner becomes MASTER, everyone else BACKUP.
   * `resume` (no RFC counterpart: a successor process continues a MASTER handed over to it): MASTER
   * at once, as after Master_Down_Timer — advert, VIPs (the kernel has them: adding is a no-op),
   * an announcement round, Adver_Timer, the sync daemon as master. A fault still wins: the MASTER
   * handed over ends there, so priority 0 first (the backup takes over after Skew_Time, not
   * Master_Down_Interval) and the VIPs are released.
   */
  initialize(resume: boolean): void {
    if (this.m.state !== 'INIT') return;
    if (this.m.fault) {
      if (resume) {
        this.out.push({ type: 'send-advert', priority: PRIORITY_STOP });
        if (this.c.syncDaemon) this.out.push({ type: 'sync-daemon', role: 'backup' });
      }
      return this.enterFault(resume ? 'fault' : 'startup');
    }
    if (resume) return this.enterMaster('resume');
    if (this.owner) return this.enterMaster('address-owner');
    this.out.push({ type: 'remove-vips' }); // leftovers of a killed predecessor (keepalived does the same)
    this.enterBackup('startup');
  }

  /** An advert that passed receive validation, dispatched by state. */
  advert(e: AdvertEvent): void {
    if (this.m.state === 'BACKUP') this.backupReceive(e);
    else if (this.m.state === 'MASTER') this.masterReceive(e);
    // INIT and FAULT take no part in the election: adverts change nothing.
  }

  /**
   * RFC 3768 §6.4.2 / RFC 5798 §6.4.2 Backup, on an ADVERTISEMENT: priority 0 → Master_Down_Timer =
   * Skew_Time; non-preempting, or priority ≥ ours → (v3: learn Master_Adver_Interval) reset the
   * timer to Master_Down_Interval; otherwise (preempting and lower) discard it, so the timer runs
   * out and we take over. keepalived's `preempt_delay` honours lower adverts for that long first.
   */
  private backupReceive(e: AdvertEvent): void {
    const m = this.m;
    if (e.priority === PRIORITY_STOP) {
      return this.arm('masterDown', skewTimeMs(this.c.version, m.priority, m.masterAdverIntervalCs), 'priority-zero');
    }
    const delaying = this.c.preemptDelayMs > 0 && (m.preemptAtMs === undefined || this.now < m.preemptAtMs);
    if (!this.c.preempt || e.priority >= m.priority || delaying) {
      if (this.c.version === 3) m.masterAdverIntervalCs = e.advertIntervalCs;
      m.master = { address: e.src, priority: e.priority };
      if (this.c.preemptDelayMs > 0) {
        if (e.priority >= m.priority) delete m.preemptAtMs;
        else if (m.preemptAtMs === undefined) m.preemptAtMs = this.now + this.c.preemptDelayMs;
      }
      return this.arm('masterDown', this.masterDownMs(), 'master-down');
    }
    m.downReason = 'preempt'; // discarded: the running timer makes us MASTER
  }

  /**
   * RFC 3768 §6.4.3 / RFC 5798 §6.4.3 (RFC 9568 "Active"), on an ADVERTISEMENT: priority 0 → send
   * an advert now and reset Adver_Timer; higher priority, or equal with a greater primary address
   * → (v3: learn the interval) become BACKUP; lower → keep MASTER (and, as keepalived does by
   * default, answer with an advert at once so the lower router stops sooner).
   */
  private masterReceive(e: AdvertEvent): void {
    const m = this.m;
    if (e.priority === PRIORITY_STOP) {
      this.out.push({ type: 'send-advert', priority: m.priority });
      return this.set('adver', this.c.advertIntervalCs * 10);
    }
    const cmp = compareAddresses(e.src, this.c.primaryAddress);
    if (e.priority === m.priority && cmp === 0) return; // our own advert, looped back
    if (e.priority === PRIORITY_OWNER && m.priority === PRIORITY_OWNER) {
      // Two owners: keepalived lowers itself to 254 and reports it; the election then resolves.
      this.out.push({ type: 'warning', message: `both this router and ${e.src} are configured as address owner (priority 255); lowering ours to 254` });
      m.basePriority = PRIORITY_OWNER - 1;
      m.priority = effectivePriority(m.basePriority, m.trackWeight);
    }
    if (e.priority > m.priority || (e.priority === m.priority && cmp > 0)) {
      this.leaveMaster('BACKUP', 'higher-priority', false);
      if (this.c.version === 3) m.masterAdverIntervalCs = e.advertIntervalCs;
      m.master = { address: e.src, priority: e.priority };
      return this.arm('masterDown', this.masterDownMs(), 'master-down');
    }
    this.out.push({ type: 'send-advert', priority: m.priority });
  }

  timer(timer: TimerName): void {
    const m = this.m;
    if (m.timers[timer] === undefined) return; // cleared or re-armed since: stale
    delete m.timers[timer];
    if (timer === 'masterDown' && m.state === 'BACKUP') return this.enterMaster(m.downReason);
    if (m.state !== 'MASTER') return;
    if (timer === 'adver') {
      // RFC 5798 §6.4.3: Adver_Timer fires → send an ADVERTISEMENT, reset the timer.
      this.out.push({ type: 'send-advert', priority: m.priority });
      this.set('adver', this.c.advertIntervalCs * 10);
    } else if (timer === 'garpDelay') {
      this.out.push({ type: 'announce', repeat: this.c.garp.masterRepeat });
    } else {
      this.out.push({ type: 'announce', repeat: this.c.garp.masterRefreshRepeat });
      this.set('garpRefresh', this.c.garp.masterRefreshMs);
    }
  }

  /**
   * Tracking (keepalived track_interface): an unweighted tracked link down is FAULT; weights move
   * the priority. Leaving FAULT is Initialize again: the owner goes MASTER, others BACKUP.
   */
  track(fault: boolean, weight: number): void {
    const m = this.m;
    m.trackWeight = weight;
    m.priority = effectivePriority(m.basePriority, weight);
    const was = m.fault;
    m.fault = fault;
    if (fault === was || m.state === 'INIT') return;
    if (fault) return this.enterFault('fault');
    if (this.owner) return this.enterMaster('fault-cleared');
    this.enterBackup('fault-cleared');
  }

  /** keepalived vrrp_sync_group: a member became MASTER → BACKUP members follow; became BACKUP → MASTER members follow. */
  sync(to: 'MASTER' | 'BACKUP'): void {
    if (to === 'MASTER' && this.m.state === 'BACKUP') return this.enterMaster('sync-group');
    if (to === 'BACKUP' && this.m.state === 'MASTER') {
      this.leaveMaster('BACKUP', 'sync-group', false);
      this.arm('masterDown', this.masterDownMs(), 'master-down');
    }
  }

  /**
   * Graceful stop (RFC 5798 §6.4.3 Shutdown): a MASTER sends priority 0 and releases the VIPs.
   * Without `release` (a hand-over to a successor process, which no RFC or keepalived mode has):
   * only the timers are cleared, so nothing more leaves; the VIPs, the sync daemon and a VIP block
   * stay for the successor, and no STOP is notified (the router has not stopped serving).
   */
  shutdown(release: boolean): void {
    const m = this.m;
    if (m.state === 'INIT') return;
    if (!release) {
      for (const timer of Object.keys(m.timers) as TimerName[]) this.clear(timer);
      m.state = 'INIT';
      return;
    }
    if (m.state === 'MASTER') return this.leaveMaster('INIT', 'shutdown', true);
    const from = m.state;
    this.clear('masterDown');
    m.state = 'INIT';
    if (this.c.syncDaemon) this.out.push({ type: 'sync-daemon', role: 'stop' });
    this.notify(from, 'STOP', 'shutdown');
  }

  /**
   * Reload in place (keepalived keeps an instance's state across a reload too). The new settings
   * replace the old; basePriority follows a changed configured priority (an owner that lowered
   * itself to 254 in a conflict stays there while its configuration still says 255) and the
   * priority is recomputed with the tracking weight. No RFC transition is taken unless the
   * settings make one the RFC's own:
   * - MASTER stays MASTER. When its adverts change (priority, interval, or `advertChanged`: VIPs,
   *   password) it sends one at once and restarts Adver_Timer from now at the new interval: the
   *   gap since its last advert is then never longer than the old interval the backups expect,
   *   they learn the new priority, interval (v3) and VIP list without waiting up to a whole old
   *   interval, and a lowered priority that now loses is overtaken as §6.4.2 says (a preempting
   *   backup discards it and its Master_Down_Timer runs out). Master_Adver_Interval = the new
   *   interval. Accept_Mode / ownership changes block or unblock the VIPs. `garp_master_refresh`
   *   changed: its timer restarts from now (or stops at 0); a pending `garp_master_delay` round
   *   keeps its time, or is dropped when the delay is now 0; repeats are read when a round goes.
   * - BACKUP keeps its Master_Down_Timer: the next advert decides (a preempting backup whose
   *   priority now beats the master's discards it, and takes over when the timer runs out). v2:
   *   Master_Adver_Interval = the new interval (a v2 advert must carry exactly ours, RFC 3768
   *   §7.1); v3 keeps the one learned from the master, or takes the new one if none was heard.
   *   Priority 255 gained: MASTER at once, as §6.4.1 does for an owner (reason `address-owner`).
   * - Priority 255 lost while MASTER: stays MASTER at the new priority (a higher backup preempts).
   * - FAULT and INIT only take the settings (an owner recovers to MASTER, as at Initialize).
   * - A changed `preempt_delay` drops a running delay; preempt is read at the next advert.
   * - Sync daemon on/off: `sync-daemon` for the current state (master, else backup), or stop.
   * Identity (VRID, version, family, interface, unicast source and peers) is not changed here: the
   * runner replaces an instance whose identity changes instead of reconfiguring it.
   */
  reconfigure(config: MachineConfig, advertChanged: boolean): void {
    const m = this.m;
    const old = m.config;
    const wasOwner = this.owner;
    const before = m.priority;
    m.config = config;
    if (config.priority !== old.priority) m.basePriority = config.priority;
    m.priority = effectivePriority(m.basePriority, m.trackWeight);
    if (config.preemptDelayMs !== old.preemptDelayMs) delete m.preemptAtMs;
    if (m.state === 'MASTER') {
      this.reconfigureMaster(old, advertChanged || m.priority !== before || config.advertIntervalCs !== old.advertIntervalCs);
    } else if (m.state === 'BACKUP') {
      if (config.version === 2 || m.master === undefined) m.masterAdverIntervalCs = config.advertIntervalCs;
      if (this.owner && !wasOwner) this.enterMaster('address-owner');
    }
    if (config.syncDaemon !== old.syncDaemon && m.state !== 'INIT' && !this.out.some((a) => a.type === 'sync-daemon')) {
      this.out.push({ type: 'sync-daemon', role: !config.syncDaemon ? 'stop' : m.state === 'MASTER' ? 'master' : 'backup' });
    }
  }

  private reconfigureMaster(old: MachineConfig, advertChanged: boolean): void {
    const m = this.m;
    const c = this.c;
    m.masterAdverIntervalCs = c.advertIntervalCs;
    const block = !c.acceptMode && !this.owner;
    if (block !== m.blocked) {
      m.blocked = block;
      this.out.push({ type: 'block-vips', block });
    }
    if (advertChanged) {
      this.out.push({ type: 'send-advert', priority: m.priority });
      this.set('adver', c.advertIntervalCs * 10);
    }
    if (c.garp.masterRefreshMs !== old.garp.masterRefreshMs) {
      if (c.garp.masterRefreshMs > 0) this.set('garpRefresh', c.garp.masterRefreshMs);
      else this.clear('garpRefresh');
    }
    if (c.garp.masterDelayMs === 0) this.clear('garpDelay');
  }

  /**
   * RFC 3768 §6.4.2 / RFC 5798 §6.4.2 (Master_Down_Timer fires) and §6.4.1 (owner): send an
   * ADVERTISEMENT, take the VIPs, broadcast gratuitous ARP / unsolicited NA, set Adver_Timer.
   */
  private enterMaster(reason: TransitionReason): void {
    const m = this.m;
    const from = m.state;
    this.clear('masterDown');
    delete m.preemptAtMs;
    delete m.master;
    m.state = 'MASTER';
    m.masterAdverIntervalCs = this.c.advertIntervalCs;
    const g = this.c.garp;
    this.out.push({ type: 'send-advert', priority: m.priority }, { type: 'add-vips' });
    if (!this.c.acceptMode && !this.owner) {
      m.blocked = true;
      this.out.push({ type: 'block-vips', block: true });
    }
    this.out.push({ type: 'announce', repeat: g.masterRepeat });
    this.set('adver', this.c.advertIntervalCs * 10);
    if (g.masterDelayMs > 0) this.set('garpDelay', g.masterDelayMs);
    if (g.masterRefreshMs > 0) this.set('garpRefresh', g.masterRefreshMs);
    if (this.c.syncDaemon) this.out.push({ type: 'sync-daemon', role: 'master' });
    this.notify(from, 'MASTER', reason);
  }

  /** Master → Backup / Fault / stopped: stop advertising, release the VIPs (priority 0 first when asked). */
  private leaveMaster(to: 'BACKUP' | 'FAULT' | 'INIT', reason: TransitionReason, sendPriorityZero: boolean): void {
    const m = this.m;
    for (const t of ['adver', 'garpDelay', 'garpRefresh'] as const) this.clear(t);
    if (sendPriorityZero) this.out.push({ type: 'send-advert', priority: PRIORITY_STOP });
    this.out.push({ type: 'remove-vips' });
    if (m.blocked) {
      m.blocked = false;
      this.out.push({ type: 'block-vips', block: false });
    }
    if (this.c.syncDaemon) this.out.push({ type: 'sync-daemon', role: to === 'INIT' ? 'stop' : 'backup' });
    m.state = to;
    m.masterAdverIntervalCs = this.c.advertIntervalCs;
    this.notify('MASTER', to === 'INIT' ? 'STOP' : to, reason);
  }

  /** RFC 5798 §6.4.1: Master_Adver_Interval = Advertisement_Interval; Master_Down_Timer = Master_Down_Interval. */
  private enterBackup(reason: TransitionReason): void {
    const m = this.m;
    const from = m.state;
    m.state = 'BACKUP';
    m.masterAdverIntervalCs = this.c.advertIntervalCs;
    delete m.preemptAtMs;
    this.arm('masterDown', this.masterDownMs(), 'master-down');
    if (this.c.syncDaemon) this.out.push({ type: 'sync-daemon', role: 'backup' });
    this.notify(from, 'BACKUP', reason);
  }

  private enterFault(reason: TransitionReason): void {
    const m = this.m;
    if (m.state === 'MASTER') return this.leaveMaster('FAULT', reason, true);
    const from = m.state;
    this.clear('masterDown');
    if (from === 'INIT') this.out.push({ type: 'remove-vips' });
    m.state = 'FAULT';
    this.notify(from, 'FAULT', reason);
  }

  private masterDownMs(): number {
    return masterDownIntervalMs(this.c.version, this.m.priority, this.m.masterAdverIntervalCs);
  }

  private arm(timer: 'masterDown', afterMs: number, reason: TransitionReason): void {
    this.m.downReason = reason;
    this.set(timer, afterMs);
  }

  private set(timer: TimerName, afterMs: number): void {
    const atMs = this.now + afterMs;
    this.m.timers[timer] = atMs;
    this.out.push({ type: 'set-timer', timer, atMs });
  }

  private clear(timer: TimerName): void {
    if (this.m.timers[timer] === undefined) return;
    delete this.m.timers[timer];
    this.out.push({ type: 'clear-timer', timer });
  }

  private notify(from: VrrpStateName, to: NotifyState, reason: TransitionReason): void {
    this.out.push({ type: 'notify', from, to, reason, priority: this.m.priority });
  }
}
