// layer: test helpers (unit tier)
// job: drive the pure VRRP machine with a fake clock: step events, fire armed timers, keep every action.
import { createMachine, step, type Machine, type MachineConfig, type TimerName, type VrrpAction, type VrrpEvent } from '../../src/vrrp/state.js';

export const baseConfig: MachineConfig = {
  version: 2, priority: 100, advertIntervalCs: 100, preempt: true, preemptDelayMs: 0, acceptMode: true,
  primaryAddress: '10.0.0.2', garp: { masterDelayMs: 5000, masterRepeat: 5, masterRefreshMs: 0, masterRefreshRepeat: 1 },
  syncDaemon: false,
};

/** One machine on a fake clock. */
export class Sim {
  machine: Machine;
  now = 0;
  /** Actions of the last step. */
  last: VrrpAction[] = [];
  /** Every action so far, with the time it was returned. */
  readonly log: Array<{ atMs: number; action: VrrpAction }> = [];

  constructor(config: Partial<MachineConfig> = {}) {
    this.machine = createMachine({ ...baseConfig, ...config });
  }

  get state(): Machine['state'] { return this.machine.state; }

  /** Step `event` at `atMs` (default: now). */
  on(event: VrrpEvent, atMs = this.now): VrrpAction[] {
    if (atMs < this.now) throw new Error(`time goes forward: ${atMs} < ${this.now}`);
    this.now = atMs;
    const r = step(this.machine, event, atMs);
    this.machine = r.machine;
    this.last = r.actions;
    for (const action of r.actions) this.log.push({ atMs, action });
    return r.actions;
  }

  advert(src: string, priority: number, atMs = this.now, advertIntervalCs = 100): VrrpAction[] {
    return this.on({ type: 'advert', src, priority, advertIntervalCs }, atMs);
  }

  /** When `timer` fires, or undefined when it is not armed. */
  due(timer: TimerName): number | undefined { return this.machine.timers[timer]; }

  /** Advance to `timer`'s deadline and fire it. */
  fire(timer: TimerName): VrrpAction[] {
    const at = this.due(timer);
    if (at === undefined) throw new Error(`${timer} is not armed (state ${this.state})`);
    return this.on({ type: 'timer', timer }, at);
  }

  /** Action types of the last step, for compact assertions. */
  types(): string[] { return this.last.map((a) => a.type); }
}
