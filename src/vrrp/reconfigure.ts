// layer: behaviour (vrrp)
// job: a reload as pure differences: which instances are added, removed, replaced, changed in place or unchanged; which VIPs come and go; which sync groups changed.
import { isDeepStrictEqual } from 'node:util';
import type { ResolvedInstance, ResolvedVip } from './instance.js';

/**
 * The settings that make an instance what it is on the wire and which socket it uses: when one of
 * them changes, the runner replaces the instance (a graceful stop of the old one, the new one
 * started) instead of changing it in place. keepalived matches instances across a reload by VRID,
 * family and interface; lvskit matches by name and replaces on any of these.
 */
export const IDENTITY_FIELDS = ['interface', 'vrid', 'family', 'version', 'unicastSourceAddress', 'unicastPeers', 'vmac'] as const;

/** What `VrrpRunner.reconfigure` did, instance by instance (matched by name). */
export interface VrrpReconfigureResult {
  /** Started as at `start()`. */
  added: string[];
  /** Stopped gracefully (priority 0 from a MASTER, VIPs released). */
  removed: string[];
  /** An identity field changed (interface, VRID, family, version, unicast source or peers, VMAC): the old one stopped gracefully, the new one started. */
  replaced: Array<{ name: string; fields: string[] }>;
  /** Changed in place; `fields` are the resolved settings that changed (`priority`, `vips`, `advertIntervalCs`, …). */
  changed: Array<{ name: string; fields: string[] }>;
  /** Deep-equal: nothing happened to them. */
  unchanged: string[];
}

/** A sync group as the runner keeps it. */
export interface SyncGroupMembers { name: string; members: readonly string[] }

/** One instance present before and after, with the fields (of ResolvedInstance) that differ. */
export interface InstanceChange { prev: ResolvedInstance; next: ResolvedInstance; fields: string[] }

/** How a reload changes a set of instances, matched by name. */
export interface InstanceDiff {
  /** Only in the new set. */
  added: ResolvedInstance[];
  /** Only in the old set. */
  removed: ResolvedInstance[];
  /** In both, an identity field changed (IDENTITY_FIELDS): stop the old one, start the new. */
  replaced: InstanceChange[];
  /** In both, other fields changed: reconfigure in place. */
  changed: InstanceChange[];
  /** In both, deep-equal: nothing happens. */
  unchanged: ResolvedInstance[];
}

/** The fields of `prev` and `next` whose values are not deep-equal, in field order (a Buffer compares by its bytes). */
export function changedFields<T extends object>(prev: T, next: T): string[] {
  const keys = [...new Set([...Object.keys(prev), ...Object.keys(next)])];
  return keys.filter((k) => !isDeepStrictEqual((prev as Record<string, unknown>)[k], (next as Record<string, unknown>)[k]));
}

/** Classify every instance of a reload by name; the lists keep the order of the new set (removed: the old). */
export function diffInstances(prev: readonly ResolvedInstance[], next: readonly ResolvedInstance[]): InstanceDiff {
  const before = new Map(prev.map((r) => [r.name, r]));
  const names = new Set(next.map((r) => r.name));
  const diff: InstanceDiff = { added: [], removed: prev.filter((r) => !names.has(r.name)), replaced: [], changed: [], unchanged: [] };
  for (const r of next) {
    const old = before.get(r.name);
    if (!old) {
      diff.added.push(r);
      continue;
    }
    const fields = changedFields(old, r);
    if (fields.length === 0) diff.unchanged.push(r);
    else if (fields.some((f) => (IDENTITY_FIELDS as readonly string[]).includes(f))) diff.replaced.push({ prev: old, next: r, fields });
    else diff.changed.push({ prev: old, next: r, fields });
  }
  return diff;
}

/** The names in a diff, as a reload reports them. */
export function summarizeDiff(diff: InstanceDiff): VrrpReconfigureResult {
  const named = (c: InstanceChange) => ({ name: c.next.name, fields: c.fields });
  return {
    added: diff.added.map((r) => r.name), removed: diff.removed.map((r) => r.name), replaced: diff.replaced.map(named),
    changed: diff.changed.map(named), unchanged: diff.unchanged.map((r) => r.name),
  };
}

/**
 * What a MASTER does to its VIPs on a reload: `removed` are no longer configured (or are configured
 * differently: another prefix, device, label, scope or broadcast), `added` are new (or the new form
 * of such a changed one); a VIP configured the same way is in neither and is not touched.
 */
export function vipDifference(prev: readonly ResolvedVip[], next: readonly ResolvedVip[]): { added: ResolvedVip[]; removed: ResolvedVip[] } {
  const kept = (v: ResolvedVip, among: readonly ResolvedVip[]) => among.some((w) => isDeepStrictEqual(v, w));
  return { added: next.filter((v) => !kept(v, prev)), removed: prev.filter((v) => !kept(v, next)) };
}

/**
 * Whether the adverts change in what the machine cannot see: the address list (in order, as it is
 * sent) or the password. Priority and interval are the machine's own.
 */
export function advertContentChanged(prev: ResolvedInstance, next: ResolvedInstance): boolean {
  return !isDeepStrictEqual(prev.vips.map((v) => v.address), next.vips.map((v) => v.address)) || !isDeepStrictEqual(prev.authData, next.authData);
}

/** The sync groups of `next` that are new or whose members differ from the group of that name in `prev`. */
export function changedGroups(prev: readonly SyncGroupMembers[], next: readonly SyncGroupMembers[]): string[] {
  const before = new Map(prev.map((g) => [g.name, [...g.members].sort()]));
  return next.filter((g) => !isDeepStrictEqual(before.get(g.name), [...g.members].sort())).map((g) => g.name);
}
