// layer: behaviour (track)
// job: Trackers: every vrrp_script, track_file and vrrp_track_process of a configuration run together, each instance's FAULT and weight from them; reconfigure keeps what did not change.
import { EventEmitter } from 'node:events';
import type { Clock } from '../check/clock.js';
import { FileTracker } from './files.js';
import { ProcessTrackers, quorumText, type ProcEventOpener } from './processes.js';
import type { ProcReader } from './procfs.js';
import { ScriptTracker, type ProgramRunner } from './scripts.js';
import type { scriptRefusal } from './security.js';
import { instanceTracking, type TrackerReading } from './state.js';
import type { InstanceTracking, TrackerEvent, TrackerKind, TrackerStatus, TrackFileSpec, TrackingConfig, TrackProcessSpec, TrackScriptSpec } from './types.js';

/** How `Trackers` runs scripts and watches files (clock, program runner, script security). */
export interface TrackersOptions {
  clock?: Clock;
  /** How scripts run (default runProgram). */
  run?: ProgramRunner;
  /** Whether a script may run (default scriptRefusal on the real file system). */
  refusal?: typeof scriptRefusal;
  /**
   * Where vrrp_track_process listens to the kernel's process events: a network namespace (name or
   * path) — the kernel has them only in its initial one. Default: this thread's namespace.
   */
  processEventsNetns?: string;
  /** /proc and the process events (fakes in tests). */
  proc?: ProcReader;
  procEvents?: ProcEventOpener;
}

/** What `Trackers` emits: tracker state changes and errors, and each instance's new tracking. */
export interface TrackersEvents {
  event: [TrackerEvent];
  /** Some instance's tracking changed: every instance's, by name. */
  change: [Record<string, InstanceTracking>];
}

/** Equal apart from where it was written. */
function sameSpec<T extends TrackScriptSpec | TrackFileSpec | TrackProcessSpec>(a: T, b: T): boolean {
  const { location: _a, ...x } = a;
  const { location: _b, ...y } = b;
  return JSON.stringify(x) === JSON.stringify(y);
}

/** The empty configuration. */
export const NO_TRACKING: TrackingConfig = { scripts: [], files: [], processes: [], instances: {}, scriptSecurity: false };

/**
 * The trackers of a configuration. `configure()` (start, reload) keeps each script and file whose
 * settings did not change — with its state and timer — and starts new ones; `start()` begins. Emits
 * `event` (a tracker's new state, or why it cannot run) and `change` (instances' tracking).
 */
export class Trackers extends EventEmitter<TrackersEvents> {
  readonly #scripts = new Map<string, ScriptTracker>();
  readonly #files = new Map<string, FileTracker>();
  readonly #processes: ProcessTrackers;
  #config: TrackingConfig = NO_TRACKING;
  #last = '';
  #started = false;

  constructor(private readonly options: TrackersOptions = {}) {
    super();
    const { clock, proc, procEvents, processEventsNetns } = options;
    this.#processes = new ProcessTrackers({
      emit: (e) => this.emit('event', e), changed: () => { if (this.#started) this.#changed(); },
      ...(clock ? { clock } : {}), ...(proc ? { proc } : {}), ...(procEvents ? { events: procEvents } : {}),
      ...(processEventsNetns !== undefined ? { netns: processEventsNetns } : {}),
    });
  }

  /** Apply `config`: unchanged trackers keep their state; changed and new ones start fresh (at once if started); removed ones stop. */
  configure(config: TrackingConfig): void {
    const reload = this.#config !== NO_TRACKING;
    const securityChanged = config.scriptSecurity !== this.#config.scriptSecurity;
    this.#config = config;
    const fresh: (ScriptTracker | FileTracker)[] = [];
    const deps = { emit: (e: TrackerEvent) => this.emit('event', e), changed: () => this.#changed() };
    const wantedScripts = new Map(config.scripts.map((s) => [s.name, s]));
    for (const [name, t] of this.#scripts) {
      const next = wantedScripts.get(name);
      if (!next || securityChanged || !sameSpec(t.spec, next)) {
        t.stop();
        this.#scripts.delete(name);
      }
    }
    for (const spec of config.scripts) {
      if (this.#scripts.has(spec.name)) continue;
      const t = new ScriptTracker(spec, { ...deps, ...this.#deps() }, config.scriptSecurity);
      this.#scripts.set(spec.name, t);
      fresh.push(t);
    }
    const wantedFiles = new Map(config.files.map((f) => [f.name, f]));
    for (const [name, t] of this.#files) {
      const next = wantedFiles.get(name);
      if (!next || !sameSpec(t.spec, next)) {
        t.stop();
        this.#files.delete(name);
      }
    }
    for (const spec of config.files) {
      if (this.#files.has(spec.name)) continue;
      const t = new FileTracker(spec, deps);
      this.#files.set(spec.name, t);
      fresh.push(t);
    }
    this.#processes.configure(config.processes ?? [], sameSpec);
    if (this.#started) {
      for (const t of fresh) t instanceof FileTracker ? t.start(reload) : t.start();
      this.#changed();
    }
  }

  #deps(): Pick<TrackersOptions, 'clock' | 'run' | 'refusal'> {
    const { clock, run, refusal } = this.options;
    return { ...(clock ? { clock } : {}), ...(run ? { run } : {}), ...(refusal ? { refusal } : {}) };
  }

  /** Run every script at once (then every interval), read and watch every file. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    for (const t of this.#files.values()) t.start();
    for (const t of this.#scripts.values()) t.start();
    this.#processes.start();
    this.#last = JSON.stringify(this.tracking());
  }

  /**
   * Settles when every script some instance tracks unweighted (a failure is a FAULT) has its first
   * result (a hung one: at its timeout). keepalived holds such an instance in INIT until then; a
   * weighted script's first result only moves the priority later. Process trackers are counted at
   * start; this also waits (at most a second) for the kernel to confirm their process events, so
   * an instance does not start on a count the events then cannot keep.
   */
  async ready(): Promise<void> {
    const unweighted = new Set(Object.values(this.#config.instances).flat().filter((u) => u.kind === 'script' && u.weight === 0).map((u) => u.name));
    await Promise.all([...this.#scripts.values()].filter((t) => unweighted.has(t.spec.name)).map((t) => t.firstResult()).concat(this.#processes.listening()));
  }

  #reading(kind: TrackerKind, name: string): TrackerReading | undefined {
    if (kind === 'process') {
      const ok = this.#processes.ok(name);
      return ok === undefined ? undefined : { kind, ok };
    }
    if (kind === 'script') {
      const t = this.#scripts.get(name);
      return t ? { kind, state: t.state } : undefined;
    }
    const f = this.#files.get(name);
    return f && !f.disabled ? { kind, value: f.value } : undefined;
  }

  /** Every tracking instance's FAULT and weight now. */
  tracking(): Record<string, InstanceTracking> {
    const out: Record<string, InstanceTracking> = {};
    for (const [instance, uses] of Object.entries(this.#config.instances)) {
      out[instance] = instanceTracking(uses, (u) => this.#reading(u.kind, u.name));
    }
    return out;
  }

  #changed(): void {
    const now = this.tracking();
    const text = JSON.stringify(now);
    if (text === this.#last) return;
    this.#last = text;
    this.emit('change', now);
  }

  /** Each tracker's state. */
  status(): TrackerStatus[] {
    const out: TrackerStatus[] = [];
    for (const t of this.#scripts.values()) out.push({ kind: 'script', name: t.spec.name, state: t.state, ...(t.reason && t.state !== 'ok' ? { reason: t.reason } : {}) });
    for (const f of this.#files.values()) {
      out.push({ kind: 'file', name: f.spec.name, state: f.disabled ? 'disabled' : 'ok', value: f.value, ...(f.disabled ? { reason: f.disabled } : {}) });
    }
    const disabled = this.#processes.disabled;
    for (const p of this.#processes.status()) {
      const state = disabled ? 'disabled' : !this.#started ? 'init' : p.ok ? 'ok' : 'failed';
      const reason = disabled ?? (state === 'failed' ? quorumText(p.spec, p.count) : undefined);
      out.push({ kind: 'process', name: p.spec.name, state, value: p.count, ...(reason !== undefined ? { reason } : {}) });
    }
    return out;
  }

  /** Stop every script (one running is killed) and watch. */
  stop(): void {
    for (const t of this.#scripts.values()) t.stop();
    for (const f of this.#files.values()) f.stop();
    this.#processes.stop();
    this.#scripts.clear();
    this.#files.clear();
  }

  /** stop(): the trackers hold nothing else. Idempotent. */
  close(): void {
    this.stop();
  }

  /** `using trackers = new Trackers(...)`: close() when the scope ends. */
  [Symbol.dispose](): void { this.close(); }
}
