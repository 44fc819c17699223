// layer: daemon (composition)
// job: the autoban inside a balancer: its ipset (created when missing), the sync-stream tracker (or procfs scans) as its source, the runner; replaced whole when its settings change.
import { EventEmitter } from 'node:events';
import type { AutobanEvent } from '../autoban/policy.js';
import { AutobanRunner, type AutobanCounters, type AutobanRound } from '../autoban/runner.js';
import { IpsetBanSink } from '../autoban/sink.js';
import { ProcfsCountSource, TrackerCountSource, type CountSource } from '../autoban/sources.js';
import { LiveConnTable } from '../conns/live.js';
import { IpsetClient } from '../ipset/client.js';
import { IpsetError } from '../ipset/errors.js';
import type { NetlinkEngineStats } from '../netlink/engine.js';
import type { AutobanSettings } from './convert.js';

/** A ban in force, for status. */
export interface BanStatus {
  address: string;
  /** Wall-clock end (ms); absent: no end. */
  untilMs?: number;
  count: number;
}

/** The autoban's part of the daemon's status: its set, source, bans and counters. */
export interface AutobanStatus {
  set: string;
  source: 'sync' | 'procfs';
  threshold: number;
  bans: BanStatus[];
  counters: AutobanCounters;
  /** Connections the tracker holds (source sync). */
  trackedConnections?: number;
}

export interface AutobanSideEvents {
  decision: [AutobanEvent];
  round: [AutobanRound];
  error: [Error];
  /** The ipset did not exist and was created. */
  created: [{ set: string }];
  /** static_blacklist written again after failed writes. */
  'blacklist-recovered': [{ file: string; bans: number; failedWrites: number }];
}

/** Canonical text of the settings: equal text, nothing to restart on reload. */
export function autobanKey(s: AutobanSettings | undefined): string {
  return JSON.stringify(s ?? null, (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) : v));
}

/**
 * The autoban of a balancer. `open` checks (and if need be creates, as `hash:ip timeout 0`) the
 * ipset and opens the source before anything is banned; `start` restores static_blacklist's bans
 * and begins the rounds. Bans stay in the set when it stops: a reload or a restart keeps them.
 */
export class AutobanSide extends EventEmitter<AutobanSideEvents> {
  private constructor(
    readonly settings: AutobanSettings,
    private readonly runner: AutobanRunner,
    private readonly sink: IpsetBanSink,
    private readonly live: LiveConnTable | undefined,
  ) {
    super();
    runner.on('decision', (e) => this.emit('decision', e));
    runner.on('round', (r) => this.emit('round', r));
    runner.on('error', (e) => this.emit('error', e));
    runner.on('blacklist-recovered', (e) => this.emit('blacklist-recovered', e));
  }

  static async open(settings: AutobanSettings, netns?: string): Promise<AutobanSide> {
    const ns = netns !== undefined ? { netns } : {};
    const banTimeoutSec = settings.policy.banTimeoutSec ?? 0;
    const client = await IpsetClient.open(ns);
    let created = false;
    let live: LiveConnTable | undefined;
    try {
      created = await ensureSet(client, settings.set);
      const sink = await IpsetBanSink.open(settings.set, { banTimeoutSec, client });
      let source: CountSource;
      if (settings.source === 'sync' && settings.sync) {
        const s = settings.sync;
        live = await LiveConnTable.open({
          interface: s.interface, roles: ['master', 'backup'], threshold: settings.policy.threshold ?? 100, ...ns,
          ...(s.syncId === undefined ? {} : { syncId: s.syncId }), ...(s.group === undefined ? {} : { group: s.group }),
          ...(s.port === undefined ? {} : { port: s.port }),
        });
        source = new TrackerCountSource(live.tracker);
      } else {
        source = new ProcfsCountSource(ns);
      }
      const runner = new AutobanRunner({
        policy: settings.policy, source, sink, ...(settings.staticBlacklist === undefined ? {} : { staticBlacklist: settings.staticBlacklist }),
        ...(settings.intervalMs === undefined ? {} : { intervalMs: settings.intervalMs }),
      });
      const side = new AutobanSide(settings, runner, sink, live);
      side.#client = client;
      if (created) queueMicrotask(() => side.emit('created', { set: settings.set }));
      return side;
    } catch (error) {
      live?.close();
      client.close();
      throw error;
    }
  }

  #client?: IpsetClient;

  /** The ipset client's netlink counters. */
  get netlinkStats(): Readonly<NetlinkEngineStats> | undefined {
    return this.#client?.netlinkStats;
  }

  /** Restore static_blacklist's bans, run a first round, then one every interval. */
  start(): Promise<void> {
    return this.runner.start();
  }

  status(): AutobanStatus {
    const bans = [...this.runner.state.bans.values()].map((b) => ({
      address: b.address, count: b.count, ...(b.untilMs === undefined ? {} : { untilMs: b.untilMs }),
    }));
    return {
      set: this.settings.set, source: this.live ? 'sync' : 'procfs', threshold: this.runner.config.threshold, bans,
      counters: { ...this.runner.counters }, ...(this.live ? { trackedConnections: this.live.tracker.size } : {}),
    };
  }

  /** Stop the rounds and close the sources; the bans stay in the set. */
  async stop(): Promise<void> {
    await this.runner.stop();
    this.live?.close();
    this.sink.close();
    this.#client?.close();
  }
}

/** Create `set` (hash:ip, entries with timeouts) unless it exists; true when created. */
async function ensureSet(client: IpsetClient, set: string): Promise<boolean> {
  try {
    await client.describe(set);
    return false;
  } catch (error) {
    if (!(error instanceof IpsetError) || error.kind !== 'no-such-set') throw error;
  }
  await client.create(set, { type: 'hash:ip', family: 'inet', timeoutSec: 0 });
  return true;
}
