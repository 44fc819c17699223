// layer: behaviour (autoban)
// job: where the counts come from: a periodic scan of /proc/net/ip_vs_conn, or the live sync-stream tracker (with instant crossings).
import { scanConnections, type ConnScanResult, type ScanOptions } from '../conns/procfs.js';
import type { ConnTracker } from '../conns/tracker.js';
import type { Observation } from './policy.js';

/** A source of per-client counts of the counted state (ESTABLISHED). */
export interface CountSource {
  readonly kind: 'procfs' | 'sync';
  /** Every client whose count is above `threshold` now. */
  overThreshold(threshold: number): Promise<Observation[]>;
  /** Register for clients crossing the threshold as it happens (sources that can); returns the unsubscribe. */
  onCrossing?(listener: (observation: Observation) => void): () => void;
}

/** Scans the connection table each time it is asked (one streaming native pass; the kernel's read cost is O(n²)). */
export class ProcfsCountSource implements CountSource {
  readonly kind = 'procfs';
  /** The last scan's result (rows, time, malformed lines). */
  lastScan: ConnScanResult | undefined;

  constructor(private readonly options: Omit<ScanOptions, 'threshold' | 'states' | 'all' | 'limit'> & { state?: string } = {}) {}

  async overThreshold(threshold: number): Promise<Observation[]> {
    const { state, ...scan } = this.options;
    this.lastScan = await scanConnections({ ...scan, states: [state ?? 'ESTABLISHED'], threshold });
    return this.lastScan.overThreshold.map((c) => ({ address: c.address, count: c.count, total: c.total, ...(c.service ? { service: c.service } : {}) }));
  }
}

/** Reads a ConnTracker fed by the sync stream; its threshold must be the policy's. */
export class TrackerCountSource implements CountSource {
  readonly kind = 'sync';

  constructor(readonly tracker: ConnTracker) {
    if (tracker.threshold === undefined) throw new RangeError('the tracker needs the autoban threshold (TrackerOptions.threshold)');
  }

  async overThreshold(threshold: number): Promise<Observation[]> {
    if (threshold !== this.tracker.threshold) throw new RangeError(`the tracker's threshold is ${this.tracker.threshold}, the policy's ${threshold}`);
    return this.tracker.overThreshold().map((c) => ({ address: c.address, count: c.count, total: c.total, ...(c.service ? { service: c.service } : {}) }));
  }

  onCrossing(listener: (observation: Observation) => void): () => void {
    const onOver = (c: { address: string; count: number; total: number }): void => listener({ address: c.address, count: c.count, total: c.total });
    this.tracker.on('over', onOver);
    return () => { this.tracker.off('over', onOver); };
  }
}
