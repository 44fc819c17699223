// layer: benchmarks (soak)
// job: the soak's judgements as pure functions: failover windows around VRRP transitions, failed requests inside or outside them, and whether a series of samples stayed flat after the warm-up.

/** One reading of a daemon's process (RSS in KiB, or open descriptors), at CLOCK_MONOTONIC ms. */
export interface Sample {
  atMs: number;
  value: number;
}

/** Whether a series stayed within `tolerancePct` of its first value after the warm-up. */
export interface Flatness {
  /** The first sample at or after the warm-up's end (undefined: none, the run was too short). */
  first?: number;
  max: number;
  last: number;
  /** (last − first) / first, in %. */
  changePct: number;
  /** The largest |sample − first| / first over the samples after the warm-up, in %. */
  maxDeviationPct: number;
  /** Values judged after the warm-up (samples, or bins). */
  samples: number;
  flat: boolean;
}

/**
 * The samples at or after `fromMs` as one value per `binMs` (the median of the samples in each
 * bin, bins counted from `fromMs`), in order; `binMs` 0: each sample as it is.
 */
export function binnedMedians(samples: readonly Sample[], fromMs: number, binMs: number): Sample[] {
  const after = samples.filter((s) => s.atMs >= fromMs).sort((a, b) => a.atMs - b.atMs);
  if (binMs <= 0) return after;
  const bins = new Map<number, number[]>();
  for (const s of after) {
    const bin = Math.floor((s.atMs - fromMs) / binMs);
    bins.set(bin, [...(bins.get(bin) ?? []), s.value]);
  }
  return [...bins].map(([bin, values]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return { atMs: fromMs + bin * binMs, value: sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2 };
  });
}

/**
 * The verdict on one series: every value at or after `warmupEndMs` (per `binMs`, the median of
 * its samples; 0: every sample) within `tolerancePct` of the first of them (either way: a leak
 * shows as growth, a reset as a drop). Not flat when no sample came after the warm-up.
 */
export function flatness(samples: readonly Sample[], warmupEndMs: number, tolerancePct = 10, binMs = 0): Flatness {
  const after = binnedMedians(samples, warmupEndMs, binMs);
  const first = after[0]?.value;
  if (first === undefined) return { max: NaN, last: NaN, changePct: NaN, maxDeviationPct: NaN, samples: 0, flat: false };
  const pct = (v: number): number => (first === 0 ? (v === 0 ? 0 : Infinity) : (100 * (v - first)) / first);
  const max = Math.max(...after.map((s) => s.value));
  const last = after.at(-1)!.value;
  const maxDeviationPct = Math.max(...after.map((s) => Math.abs(pct(s.value))));
  return { first, max, last, changePct: pct(last), maxDeviationPct, samples: after.length, flat: maxDeviationPct <= tolerancePct };
}

/** A failover window [fromMs, toMs] (CLOCK_MONOTONIC ms). */
export interface Window {
  fromMs: number;
  toMs: number;
}

/**
 * The windows in which a failed request counts as the failover's: each VRRP transition's time ±
 * `boundMs`, overlapping ones merged, in order.
 */
export function failoverWindows(transitionsMs: readonly number[], boundMs: number): Window[] {
  const windows: Window[] = [];
  for (const t of [...transitionsMs].sort((a, b) => a - b)) {
    const last = windows.at(-1);
    if (last && t - boundMs <= last.toMs) last.toMs = Math.max(last.toMs, t + boundMs);
    else windows.push({ fromMs: t - boundMs, toMs: t + boundMs });
  }
  return windows;
}

/** Failed requests split by whether they were sent inside a failover window. */
export function classifyFailures<T extends { sentMs: number }>(failures: readonly T[], windows: readonly Window[]): { inside: T[]; outside: T[] } {
  const inside: T[] = [];
  const outside: T[] = [];
  for (const f of failures) (windows.some((w) => f.sentMs >= w.fromMs && f.sentMs <= w.toMs) ? inside : outside).push(f);
  return { inside, outside };
}
