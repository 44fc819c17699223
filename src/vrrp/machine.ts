// layer: behaviour (vrrp)
// job: the VRRP machine's vocabulary: its configuration, state, events and actions, and the RFC's timing formulas.
import { PRIORITY_OWNER } from './constants.js';
import type { VrrpVersion } from './packet.js';

/** A VRRP instance's state (RFC 5798 §6.4, plus keepalived's FAULT). */
export type VrrpStateName = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT';
/** The state a notification reports: a machine state, or STOP when the instance shuts down (keepalived's notify_stop). */
export type NotifyState = VrrpStateName | 'STOP';
/**
 * `adver`: Adver_Timer (MASTER). `masterDown`: Master_Down_Timer (BACKUP). `garpDelay`: the second
 * gratuitous ARP round (`garp_master_delay`). `garpRefresh`: periodic rounds (`garp_master_refresh`).
 */
export type TimerName = 'adver' | 'masterDown' | 'garpDelay' | 'garpRefresh';

/** Why a transition happened. */
export type TransitionReason =
  | 'startup' | 'address-owner' | 'master-down' | 'priority-zero' | 'preempt' | 'higher-priority'
  | 'fault' | 'fault-cleared' | 'sync-group' | 'shutdown' | 'resume';

/** What the machine needs to know about its instance (all times in the units their names say). */
export interface MachineConfig {
  version: VrrpVersion;
  /** Configured priority, 1..255 (255: address owner). */
  priority: number;
  /** Advertisement_Interval in centiseconds (v2: whole seconds × 100). */
  advertIntervalCs: number;
  /** Preempt_Mode (keepalived default; `nopreempt` turns it off). */
  preempt: boolean;
  /** keepalived `preempt_delay`: lower-priority adverts keep resetting the down timer this long. 0: none. */
  preemptDelayMs: number;
  /** RFC 5798 §6.1 Accept_Mode. When false and not the owner, MASTER asks for VIP traffic to be blocked. */
  acceptMode: boolean;
  /** Our advert source ("primary address"), for the equal-priority tie (RFC 5798 §6.4.3). */
  primaryAddress: string;
  /** Gratuitous ARP / unsolicited NA rounds after becoming MASTER. */
  garp: { masterDelayMs: number; masterRepeat: number; masterRefreshMs: number; masterRefreshRepeat: number };
  /** The instance drives the IPVS sync daemon (`lvs_sync_daemon_interface`). */
  syncDaemon: boolean;
}

/** The machine: its configuration and everything that changes. Treat as immutable; step() returns a new one. */
export interface Machine {
  readonly config: MachineConfig;
  readonly state: VrrpStateName;
  /** Priority before tracking weights: the configured one, or 254 after an owner conflict. */
  readonly basePriority: number;
  /** Priority sent in adverts and used in comparisons: base + tracking weights, kept in 1..254 unless owner. */
  readonly priority: number;
  /** Sum of the weights of tracked interfaces in their weighted state. */
  readonly trackWeight: number;
  /** A tracked interface without weight is down (or a sync-group member is in FAULT). */
  readonly fault: boolean;
  /** RFC 5798 §6.1 Master_Adver_Interval (v3 learns it from the master; v2 always its own). */
  readonly masterAdverIntervalCs: number;
  /** Armed timers and when they fire (ms on the caller's clock). */
  readonly timers: Readonly<Partial<Record<TimerName, number>>>;
  /** Why the Master_Down_Timer was last armed (the reason of a BACKUP → MASTER transition). */
  readonly downReason: TransitionReason;
  /** keepalived `preempt_delay`: lower-priority adverts are honoured until this time. */
  readonly preemptAtMs?: number;
  /** The master this BACKUP last accepted an advert from. */
  readonly master?: { address: string; priority: number };
  /** VIP traffic is blocked (Accept_Mode false while MASTER). */
  readonly blocked: boolean;
}

/** A validated advertisement, as far as the machine cares. */
export interface AdvertEvent {
  type: 'advert';
  /** Source address of the datagram (the sender's primary address). */
  src: string;
  priority: number;
  advertIntervalCs: number;
}

/** What the VRRP state machine reacts to: start, adverts, timers, priority changes, shutdown. */
export type VrrpEvent =
  /**
   * Initialize (RFC 5798 §6.4.1). `resume: 'MASTER'`: this instance continues a MASTER that a
   * predecessor handed over (`shutdown` with `release: false`): MASTER at once, reason `resume`.
   */
  | { type: 'startup'; resume?: 'MASTER' }
  /**
   * Reload in place: `config` replaces the machine's configuration, the state is kept (see the
   * transition's comment for each setting). `advertChanged`: what the adverts carry changed in a way
   * the machine cannot see (the VIP list, the password): a MASTER advertises at once.
   */
  | { type: 'reconfigure'; config: MachineConfig; advertChanged?: boolean }
  | AdvertEvent
  | { type: 'timer'; timer: TimerName }
  /** Tracking changed: `fault` (an unweighted tracked link is down) and the sum of active weights. */
  | { type: 'track'; fault: boolean; weight: number }
  /** A sync-group member moved; this one follows (keepalived vrrp_sync_group). */
  | { type: 'sync'; to: 'MASTER' | 'BACKUP' }
  /**
   * Stop. `release` (default true): the graceful stop (a MASTER sends priority 0 and releases the
   * VIPs). `release: false`: hand over to a successor that starts with `resume`: timers cleared,
   * nothing else — no priority 0, the VIPs and the sync daemon stay, no STOP notification.
   */
  | { type: 'shutdown'; release?: boolean };

/** What the VRRP state machine asks its driver to do. */
export type VrrpAction =
  | { type: 'send-advert'; priority: number }
  | { type: 'add-vips' }
  | { type: 'remove-vips' }
  /** A round of gratuitous ARPs (IPv4) / unsolicited neighbour advertisements (IPv6): `repeat` per VIP. */
  | { type: 'announce'; repeat: number }
  | { type: 'set-timer'; timer: TimerName; atMs: number }
  | { type: 'clear-timer'; timer: TimerName }
  /** Accept_Mode false: block (or unblock) traffic addressed to the VIPs. */
  | { type: 'block-vips'; block: boolean }
  /** Start the IPVS sync daemon as master / backup, or stop it. */
  | { type: 'sync-daemon'; role: 'master' | 'backup' | 'stop' }
  | { type: 'notify'; from: VrrpStateName; to: NotifyState; reason: TransitionReason; priority: number }
  | { type: 'warning'; message: string };

/** What one step of the VRRP state machine returns: the next machine and the actions to carry out. */
export interface StepResult {
  machine: Machine;
  actions: VrrpAction[];
}

/** A machine in INIT, before `startup`. */
export function createMachine(config: MachineConfig): Machine {
  return {
    config, state: 'INIT', basePriority: config.priority, priority: config.priority, trackWeight: 0, fault: false,
    masterAdverIntervalCs: config.advertIntervalCs, timers: {}, downReason: 'master-down', blocked: false,
  };
}

/**
 * Skew_Time in ms. v2 (RFC 3768 §6.1): (256 − Priority) / 256 s. v3 (RFC 5798 §6.1, RFC 9568 §6.1):
 * ((256 − Priority) × Master_Adver_Interval) / 256.
 */
export function skewTimeMs(version: VrrpVersion, priority: number, masterAdverIntervalCs: number): number {
  return version === 2 ? ((256 - priority) * 1000) / 256 : ((256 - priority) * masterAdverIntervalCs * 10) / 256;
}

/** Master_Down_Interval in ms: 3 × Master_Adver_Interval + Skew_Time (RFC 3768 §6.1, RFC 5798 §6.1). */
export function masterDownIntervalMs(version: VrrpVersion, priority: number, masterAdverIntervalCs: number): number {
  return 3 * masterAdverIntervalCs * 10 + skewTimeMs(version, priority, masterAdverIntervalCs);
}

/** Base + weights; a non-owner stays within 1..254 (keepalived's rule), the owner stays 255. */
export function effectivePriority(base: number, weight: number): number {
  if (base === PRIORITY_OWNER) return PRIORITY_OWNER;
  return Math.min(PRIORITY_OWNER - 1, Math.max(1, base + weight));
}
