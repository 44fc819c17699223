// layer: behaviour (autoban), the shell around the pure policy
// job: AutobanRunner: read counts from a source, decide with the policy, put bans into the ipset, keep static_blacklist in step.
import { EventEmitter } from 'node:events';
import fs from 'node:fs/promises';
import { SafeWriteError, writeFileAtomic } from '../safe-file.js';
import { parseBanLines, renderBlacklist } from './blacklist.js';
import { RangeList } from './cidr.js';
import {
  evaluate, initialState, policyConfig, withoutBan, withRestoredBans,
  type AutobanEvent, type AutobanPolicyConfig, type AutobanState, type Observation,
} from './policy.js';
import type { BanSink } from './sink.js';
import type { CountSource } from './sources.js';

/** File access for static_blacklist; tests hand in a fake. */
export interface BlacklistFiles {
  /** The file's text; '' when it does not exist. */
  read(file: string): Promise<string>;
  /** Replace the file atomically. */
  write(file: string, text: string): Promise<void>;
}

/** What an `AutobanRunner` needs: its policy, where counts come from (`source`), where bans go (`sink`), and the blacklist files. */
export interface AutobanRunnerOptions {
  policy?: Partial<AutobanPolicyConfig>;
  source: CountSource;
  sink: BanSink;
  /** The file of banned addresses the firewall loads; the autoban's lines in it follow the bans in force. */
  staticBlacklist?: string;
  /** Time between full rounds. Default 60 s reading procfs (as the old cron job), 5 s with the tracker (its crossings act at once). */
  intervalMs?: number;
  /** Wall clock in ms (ban end times are wall-clock); default Date.now. */
  clock?: () => number;
  files?: BlacklistFiles;
}

/** Running totals of an `AutobanRunner`: rounds, bans (and dry-run bans), refused bans, clients spared. */
export interface AutobanCounters {
  rounds: number;
  /** Bans put in force (dry runs not included). */
  bans: number;
  dryRunBans: number;
  /** Bans the sink refused (retried next round). */
  banFailures: number;
  whitelisted: number;
  rateLimited: number;
  expired: number;
  blacklistWrites: number;
  sourceErrors: number;
}

/** One round: what was seen and done. */
export interface AutobanRound {
  atMs: number;
  /** A full round (every client over the threshold) or one crossing reported by the tracker. */
  complete: boolean;
  observations: Observation[];
  banned: string[];
  durationMs: number;
  /** The count source: the procfs scanner or the sync-stream tracker. */
  from: CountSource['kind'];
  /** A full round: how long the source took to say who is over the threshold (the procfs scan, or the tracker's answer). */
  scanMs?: number;
  /** When the source reported (its answer, or the tracker's crossing): the round ends `atMs + durationMs - reportedAtMs` later. */
  reportedAtMs: number;
}

/** Events of an `AutobanRunner` (its `on()` names and their arguments). */
export interface AutobanEvents {
  /** A ban in force (after the sink took it), or decided in a dry run. */
  ban: [ban: { address: string; count: number; untilMs: number | undefined; dryRun: boolean; atMs: number }];
  /** Every decision of the policy (ban, whitelisted, rate-limited, expired). */
  decision: [event: AutobanEvent];
  round: [round: AutobanRound];
  error: [error: Error];
  /** static_blacklist written again after a write failed (its `error`): the file holds the bans in force once more. */
  'blacklist-recovered': [info: { file: string; bans: number; failedWrites: number }];
}

const defaultFiles: BlacklistFiles = {
  read: (file) => fs.readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  }),
  write: (file, text) => writeFileAtomic(file, text, 0o644),
};

/**
 * Runs the autoban. Rounds never overlap: a crossing reported by the tracker waits for the round
 * in progress. A ban the sink refuses is forgotten, so the next round tries it again.
 */
export class AutobanRunner extends EventEmitter<AutobanEvents> {
  readonly config: AutobanPolicyConfig;
  readonly counters: AutobanCounters = { rounds: 0, bans: 0, dryRunBans: 0, banFailures: 0, whitelisted: 0, rateLimited: 0, expired: 0, blacklistWrites: 0, sourceErrors: 0 };
  #state: AutobanState = initialState();
  readonly #options: AutobanRunnerOptions;
  readonly #whitelist: RangeList;
  readonly #clock: () => number;
  readonly #files: BlacklistFiles;
  #chain: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  /** Writes of static_blacklist that failed since it last held the bans in force (each round tries again). */
  #failedWrites = 0;

  constructor(options: AutobanRunnerOptions) {
    super();
    this.config = policyConfig(options.policy);
    this.#options = options;
    this.#whitelist = new RangeList(this.config.whitelist);
    this.#clock = options.clock ?? Date.now;
    this.#files = options.files ?? defaultFiles;
  }

  /** The policy's state: bans in force, recent bans, noted clients. */
  get state(): AutobanState { return this.#state; }

  /**
   * Restore the bans recorded in static_blacklist (putting them back into the set with what is
   * left of their time), run a first round, then one every interval; follow the source's
   * crossings as they happen.
   */
  async start(): Promise<void> {
    await this.#enqueue(() => this.#restore());
    await this.runOnce().catch((error: unknown) => this.#fail(error));
    const interval = this.#options.intervalMs ?? (this.#options.source.kind === 'procfs' ? 60_000 : 5_000);
    this.#timer = setInterval(() => { this.runOnce().catch((error: unknown) => this.#fail(error)); }, interval);
    this.#unsubscribe = this.#options.source.onCrossing?.((observation) => {
      const reportedAtMs = this.#clock();
      this.#enqueue(() => this.#round([observation], false, { reportedAtMs })).catch((error: unknown) => this.#fail(error));
    });
  }

  /** One full round now (queued behind a round in progress). Rejects when the source fails. */
  runOnce(): Promise<AutobanRound> {
    return this.#enqueue(async () => {
      let observations: Observation[];
      const began = performance.now();
      try {
        observations = await this.#options.source.overThreshold(this.config.threshold);
      } catch (error) {
        this.counters.sourceErrors++;
        throw error;
      }
      return this.#round(observations, true, { reportedAtMs: this.#clock(), scanMs: performance.now() - began });
    });
  }

  /** Stop the rounds and wait for the one in progress. The sink and source stay open (their owner closes them). */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    await this.#chain.catch(() => undefined);
  }

  /** stop(): the runner holds nothing else (its sink and source belong to their owner). Idempotent. */
  close(): Promise<void> {
    return this.stop();
  }

  /** `await using runner = new AutobanRunner(...)`: close() when the scope ends. */
  [Symbol.asyncDispose](): Promise<void> { return this.close(); }

  #enqueue<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#chain.catch(() => undefined).then(work);
    this.#chain = run;
    return run;
  }

  async #round(observations: Observation[], complete: boolean, source: { reportedAtMs: number; scanMs?: number }): Promise<AutobanRound> {
    const atMs = this.#clock();
    const decision = evaluate(this.config, this.#state, observations, atMs, { complete, whitelist: this.#whitelist });
    this.#state = decision.state;
    this.counters.rounds++;
    let fileChanged = false;
    for (const event of decision.events) {
      if (event.type === 'whitelisted') this.counters.whitelisted++;
      else if (event.type === 'rate-limited') this.counters.rateLimited++;
      else if (event.type === 'expired') {
        this.counters.expired++;
        fileChanged ||= !event.dryRun;
      } else if (event.dryRun) {
        this.counters.dryRunBans++;
        this.emit('ban', { address: event.address, count: event.count, untilMs: event.untilMs, dryRun: true, atMs });
      }
      this.emit('decision', event);
    }
    const banned: string[] = [];
    await Promise.all(decision.actions.map(async (action) => {
      try {
        await this.#options.sink.ban(action.address, action.timeoutSec);
      } catch (error) {
        this.counters.banFailures++;
        this.#state = withoutBan(this.#state, action.address);
        this.#fail(error);
        return;
      }
      this.counters.bans++;
      banned.push(action.address);
      fileChanged = true;
      const ban = this.#state.bans.get(action.address);
      this.emit('ban', { address: action.address, count: action.count, untilMs: ban?.untilMs, dryRun: false, atMs: this.#clock() });
    }));
    if (fileChanged || this.#failedWrites > 0) await this.#writeBlacklist();
    const round: AutobanRound = { atMs, complete, observations, banned, durationMs: this.#clock() - atMs, from: this.#options.source.kind, ...source };
    this.emit('round', round);
    return round;
  }

  async #restore(): Promise<void> {
    const file = this.#options.staticBlacklist;
    if (file === undefined) return;
    const now = this.#clock();
    const recorded = parseBanLines(await this.#files.read(file));
    this.#state = withRestoredBans(this.#state, recorded, now);
    if (!this.config.dryRun) {
      for (const ban of this.#state.bans.values()) {
        const left = ban.untilMs === undefined ? 0 : Math.max(1, Math.ceil((ban.untilMs - now) / 1000));
        await this.#options.sink.ban(ban.address, left).catch((error: unknown) => this.#fail(error));
      }
    }
    if (recorded.length !== this.#state.bans.size) await this.#writeBlacklist();
  }

  /**
   * static_blacklist with the bans in force. A failure (a full disk: ENOSPC) leaves the file as it
   * was (written whole or not at all), is reported with the file's name and errno, and the write is
   * tried again every round until it succeeds; the bans stay in force in the set meanwhile.
   */
  async #writeBlacklist(): Promise<void> {
    const file = this.#options.staticBlacklist;
    if (file === undefined || this.config.dryRun) return;
    try {
      const before = await this.#files.read(file);
      const after = renderBlacklist(before, this.#state.bans.values());
      if (after !== before) {
        await this.#files.write(file, after);
        this.counters.blacklistWrites++;
      }
    } catch (error) {
      this.#failedWrites++;
      const e = error as NodeJS.ErrnoException;
      const bans = this.#state.bans.size;
      // The safe writer's error already names the file: say only what failed and how.
      const why = error instanceof SafeWriteError ? `${e.code}, ${e.syscall}` : e.message;
      this.#fail(Object.assign(new Error(`static_blacklist ${file} not written (${why}); it is as it was, the bans in force (${bans}) stay in the set, and the write is tried again next round`,
        { cause: error }), { ...(e.code !== undefined ? { code: e.code } : {}), ...(e.errno !== undefined ? { errno: Math.abs(e.errno) } : {}), path: file }));
      return;
    }
    if (this.#failedWrites > 0) {
      this.emit('blacklist-recovered', { file, bans: this.#state.bans.size, failedWrites: this.#failedWrites });
      this.#failedWrites = 0;
    }
  }

  #fail(error: unknown): void {
    this.emit('error', error instanceof Error ? error : new Error(String(error)));
  }
}
