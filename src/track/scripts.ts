// layer: behaviour (track)
// job: run vrrp_scripts: each every interval through the MISC_CHECK program runner (argv, own process group, killed at its timeout), its result counted by keepalived's rise/fall rule.
import { runProgram, type ProgramOptions, type ProgramOutcome } from '../check/process.js';
import { systemClock, type Clock } from '../check/clock.js';
import { AttemptAbort } from '../check/signal.js';
import { scriptRefusal } from './security.js';
import { counterState, initialCounter, recordResult, type ScriptCounter } from './state.js';
import type { ScriptState, TrackerEvent, TrackScriptSpec } from './types.js';

/** How a script is run (runProgram; a fake in tests). */
export type ProgramRunner = (options: ProgramOptions) => Promise<ProgramOutcome>;

export interface ScriptDeps {
  clock?: Clock;
  run?: ProgramRunner;
  /** Whether a script may run (default: scriptRefusal on the real file system). */
  refusal?: typeof scriptRefusal;
  emit(event: TrackerEvent): void;
  /** Called after a result moved the script's state (or its first result arrived). */
  changed(): void;
}

/** Output kept of a run (only for the failure message). */
const MAX_OUTPUT_BYTES = 512;

/** Why a run failed, in words; undefined when it succeeded. */
export function outcomeFailure(spec: TrackScriptSpec, o: ProgramOutcome): string | undefined {
  if (o.error) return `cannot run ${spec.argv[0]}: ${o.error.code ?? o.error.message}`;
  if (o.timedOut) return `still running after ${spec.timeoutMs} ms: process group killed`;
  if (o.aborted) return 'stopped';
  if (o.exitCode === 0) return undefined;
  if (o.exitCode !== null) return `exited with ${o.exitCode}`;
  return `killed by ${o.signal ?? 'a signal'}`;
}

/** One vrrp_script: its timer, its counter, the run in flight. */
export class ScriptTracker {
  #counter: ScriptCounter;
  #disabled: string | undefined;
  #reason: string | undefined;
  #timer: unknown;
  #running: AttemptAbort | undefined;
  #stopped = false;
  #firstResult: Promise<void>;
  #resolveFirst!: () => void;
  readonly #clock: Clock;
  readonly #run: ProgramRunner;

  constructor(readonly spec: TrackScriptSpec, private readonly deps: ScriptDeps, security: boolean) {
    this.#clock = deps.clock ?? systemClock;
    this.#run = deps.run ?? runProgram;
    this.#counter = initialCounter(spec);
    this.#firstResult = new Promise((resolve) => { this.#resolveFirst = resolve; });
    const refused = (deps.refusal ?? scriptRefusal)(spec.argv[0] ?? '', { security, ...(spec.uid !== undefined ? { uid: spec.uid, gid: spec.gid ?? spec.uid } : {}) });
    if (refused) {
      this.#disabled = refused.reason;
      this.#reason = refused.message;
      this.#resolveFirst();
    }
  }

  get state(): ScriptState {
    return this.#disabled ? 'disabled' : counterState(this.#counter, this.spec);
  }

  get reason(): string | undefined {
    return this.#reason;
  }

  /** Settles when the first result is in (at once for a disabled script or one starting failed). */
  firstResult(): Promise<void> {
    return this.#firstResult;
  }

  /** The first run now, then one every interval (a run still going when the next is due: that one is skipped, as keepalived does). */
  start(): void {
    const { name, location } = this.spec;
    if (this.#disabled) {
      this.deps.emit({ type: 'tracker-error', kind: 'script', name, message: `vrrp_script ${name} disabled: ${this.#reason}`, ...(location ? { location } : {}) });
      this.deps.emit({ type: 'tracker', kind: 'script', name, state: 'disabled', reason: this.#reason!, ...(location ? { location } : {}) });
      return;
    }
    if (!this.#counter.init) this.#resolveFirst();
    this.#tick(this.#clock.now());
  }

  #tick(atMs: number): void {
    if (this.#stopped) return;
    const next = atMs + this.spec.intervalMs;
    this.#timer = this.#clock.setTimer(next, () => this.#tick(next));
    if (!this.#running) void this.#once();
  }

  async #once(): Promise<void> {
    const abort = new AttemptAbort();
    this.#running = abort;
    const outcome = await this.#run({
      argv: this.spec.argv, timeoutMs: this.spec.timeoutMs, maxOutputBytes: MAX_OUTPUT_BYTES, signal: abort,
      ...(this.spec.uid !== undefined ? { uid: this.spec.uid, gid: this.spec.gid ?? this.spec.uid } : {}),
    });
    this.#running = undefined;
    if (this.#stopped) return;
    const failure = outcomeFailure(this.spec, outcome);
    const before = this.state;
    const wasInit = this.#counter.init;
    this.#counter = recordResult(this.#counter, failure === undefined, this.spec);
    if (failure !== undefined) this.#reason = failure;
    const after = this.state;
    if (before !== after || wasInit) {
      if (after === 'ok') this.#reason = undefined;
      const { name, location } = this.spec;
      this.deps.emit({ type: 'tracker', kind: 'script', name, state: after, ...(after === 'failed' && this.#reason ? { reason: this.#reason } : {}),
        ...(location ? { location } : {}) });
      this.deps.changed();
    }
    this.#resolveFirst();
  }

  /** No more runs; a run in flight is killed. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#running?.abort('aborted');
    this.#resolveFirst();
  }
}
