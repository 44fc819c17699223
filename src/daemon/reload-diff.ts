// layer: daemon (composition, pure)
// job: what a reload would change, from the two configurations alone: in the health checks (services added, removed, changed,
//      and how), in the static and virtual addresses, routes and rules.
import type { VirtualServerSpec } from '../check/spec.js';
import type { ServiceKey } from '../ipvs/model.js';
import { describeStep, reloadSteps, virtualNetSet, type NetSet } from '../vrrp/net-plan.js';
import { diffInstances, type InstanceChange, type InstanceDiff } from '../vrrp/reconfigure.js';
import { validateVrrpConfig } from '../vrrp/validate.js';
import type { DesiredState } from './desired.js';
import type { ChecksReload, NetReloadChange } from './events.js';
import { STATIC_OWNER } from './static-net.js';

/** JSON with object keys sorted: equal settings, equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value ?? null, (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v));
}

export function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** Top-level fields whose values differ. */
function changedFields(a: object, b: object): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => !sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])).sort();
}

function rsKey(rs: { address: string; port?: number }, port: number | undefined): string {
  const p = rs.port ?? port ?? 0;
  return rs.address.includes(':') ? `[${rs.address}]:${p}` : `${rs.address}:${p}`;
}

/** What changed within one virtual server: `rs 10.0.0.1:80 added`, `rs 10.0.0.2:80 weight`, `quorum`. */
function serviceChanges(a: VirtualServerSpec<ServiceKey>, b: VirtualServerSpec<ServiceKey>): string[] {
  const { realServers: ra, ...va } = a;
  const { realServers: rb, ...vb } = b;
  const out = changedFields(va, vb);
  const had = new Map(ra.map((r) => [rsKey(r, a.port), r]));
  for (const r of rb) {
    const key = rsKey(r, b.port);
    const h = had.get(key);
    had.delete(key);
    if (!h) out.push(`rs ${key} added`);
    else for (const f of changedFields(h, r)) out.push(`rs ${key} ${f}`);
  }
  for (const key of had.keys()) out.push(`rs ${key} removed`);
  return out;
}

/** Each spec's canonical text, made once per object: a reload compares the running specs (made at the previous load) with the new ones. */
const specKeys = new WeakMap<object, string>();

function specKey(spec: VirtualServerSpec<ServiceKey>): string {
  let key = specKeys.get(spec);
  if (key === undefined) {
    key = canonicalJson(spec);
    specKeys.set(spec, key);
  }
  return key;
}

/** Health-checked services by id: added, removed, changed (what), unchanged (the same canonical text: nothing more is compared). */
export function diffChecks(before: readonly VirtualServerSpec<ServiceKey>[], after: readonly VirtualServerSpec<ServiceKey>[]): ChecksReload {
  const had = new Map(before.map((v) => [v.id, v]));
  const out: ChecksReload = { added: [], removed: [], changed: [], unchanged: 0 };
  for (const v of after) {
    const h = had.get(v.id);
    had.delete(v.id);
    if (!h) out.added.push(v.id);
    else if (specKey(h) === specKey(v)) out.unchanged++;
    else {
      const changes = serviceChanges(h, v);
      if (changes.length === 0) out.unchanged++;
      else out.changed.push({ id: v.id, changes });
    }
  }
  out.removed.push(...had.keys());
  return out;
}

/** What VRRP would do: the runner's own classification of the resolved instances. */
export function diffVrrp(before: Pick<DesiredState, 'instances' | 'syncGroups'>, after: Pick<DesiredState, 'instances' | 'syncGroups'>): InstanceDiff {
  const resolved = (d: Pick<DesiredState, 'instances' | 'syncGroups'>) => (d.instances.length > 0 ? validateVrrpConfig(d.instances, d.syncGroups).instances : []);
  return diffInstances(resolved(before), resolved(after));
}

/**
 * The addresses, routes and rules a reload removes and adds, in the order it applies them: the
 * static set's difference, then each instance changed in place, its virtual routes and rules
 * (`deferred` unless `isMaster(name)`: only a MASTER holds them in the kernel). Instances added,
 * removed or replaced are not listed here: they take or drop their whole set with their state.
 */
export function diffNet(before: NetSet | undefined, after: NetSet | undefined, changed: readonly InstanceChange[],
  isMaster: (instance: string) => boolean): NetReloadChange[] {
  const out: NetReloadChange[] = reloadSteps(before ?? {}, after ?? {})
    .map((step) => ({ owner: STATIC_OWNER, op: step.op, kind: step.kind, what: describeStep(step) }));
  for (const c of changed) {
    const master = isMaster(c.next.name);
    for (const step of reloadSteps(virtualNetSet(c.prev), virtualNetSet(c.next))) {
      out.push({ owner: c.next.name, op: step.op, kind: step.kind, what: describeStep(step), ...(master ? {} : { deferred: true }) });
    }
  }
  return out;
}
