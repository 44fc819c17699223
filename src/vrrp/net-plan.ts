// layer: behaviour (vrrp; pure)
// job: what to add and remove, in which order, for routes, rules and static addresses: on becoming MASTER, on leaving it,
//      at start and stop, and on a reload (a difference) — and how each is named in events (`ip route` words).
import { isDeepStrictEqual } from 'node:util';
import type { AddressTarget, RouteAddMode, RouteTarget } from '../rtnl/client.js';
import type { RuleSpec } from '../rtnl/rule.js';

/** A route as lvskit keeps it: a RouteTarget (links by name) and how it is added (keepalived's default: prepend). */
export type RouteEntry = RouteTarget & { addMode?: Exclude<RouteAddMode, 'replace'> };

/** The addresses, routes and rules one owner (an instance's virtual_routes/rules, or the static_* blocks) holds. */
export interface NetSet {
  addresses?: AddressTarget[];
  routes?: RouteEntry[];
  rules?: RuleSpec[];
}

export type NetStep =
  | { op: 'add' | 'remove'; kind: 'address'; item: AddressTarget }
  | { op: 'add' | 'remove'; kind: 'route'; item: RouteEntry }
  | { op: 'add' | 'remove'; kind: 'rule'; item: RuleSpec };

/** An instance's virtual_routes and virtual_rules as a set (its resolved `routes` and `rules`). */
export function virtualNetSet(r: { routes?: RouteEntry[]; rules?: RuleSpec[] }): NetSet {
  return { routes: r.routes ?? [], rules: r.rules ?? [] };
}

const adds = (set: NetSet): NetStep[] => [
  ...(set.addresses ?? []).map((item) => ({ op: 'add', kind: 'address', item }) as const),
  ...(set.routes ?? []).map((item) => ({ op: 'add', kind: 'route', item }) as const),
  ...(set.rules ?? []).map((item) => ({ op: 'add', kind: 'rule', item }) as const),
];

const removes = (set: NetSet): NetStep[] => [
  ...(set.rules ?? []).map((item) => ({ op: 'remove', kind: 'rule', item }) as const),
  ...(set.routes ?? []).map((item) => ({ op: 'remove', kind: 'route', item }) as const),
  ...(set.addresses ?? []).map((item) => ({ op: 'remove', kind: 'address', item }) as const),
];

/**
 * Adding a set (becoming MASTER after the VIPs, or the static set at start): addresses first, then
 * routes (a route's `src` or gateway may need an address), then rules — keepalived's order.
 */
export function addSteps(set: NetSet): NetStep[] {
  return adds(set);
}

/** Removing a set (leaving MASTER before the VIPs go, or the static set at stop): the reverse order. */
export function removeSteps(set: NetSet): NetStep[] {
  return removes(set);
}

/**
 * What a VRRP state change does to an instance's virtual routes and rules: added on entering
 * MASTER, removed on leaving it; nothing between other states.
 */
export function stateChangeSteps(from: string, to: string, set: NetSet): NetStep[] {
  if (to === 'MASTER' && from !== 'MASTER') return addSteps(set);
  if (from === 'MASTER' && to !== 'MASTER') return removeSteps(set);
  return [];
}

function gone<T>(prev: readonly T[] | undefined, next: readonly T[] | undefined): T[] {
  return (prev ?? []).filter((p) => !(next ?? []).some((n) => isDeepStrictEqual(p, n)));
}

/**
 * A reload, for a set that is in place (the static set, or a MASTER's virtual routes and rules):
 * what is no longer configured (or configured differently) is removed, what is new is added; an
 * entry configured the same way is not touched.
 */
export function reloadSteps(prev: NetSet, next: NetSet): NetStep[] {
  return [
    ...removes({ addresses: gone(prev.addresses, next.addresses), routes: gone(prev.routes, next.routes), rules: gone(prev.rules, next.rules) }),
    ...adds({ addresses: gone(next.addresses, prev.addresses), routes: gone(next.routes, prev.routes), rules: gone(next.rules, prev.rules) }),
  ];
}

/** `ip route` words for a route (`blackhole 10.1.0.0/16 via 10.0.0.1 dev eth0 table 100 metric 5`). */
export function describeRoute(r: RouteEntry): string {
  const words: Array<string | number | undefined> = [
    r.type && r.type !== 'unicast' ? r.type : undefined, `${r.dst}/${r.prefixLength}`,
    ...(r.via !== undefined ? ['via', r.via] : []), ...(r.dev !== undefined ? ['dev', r.dev] : []),
    ...(r.table !== undefined && r.table !== 254 ? ['table', r.table] : []), ...(r.metric !== undefined ? ['metric', r.metric] : []),
    ...(r.prefsrc !== undefined ? ['src', r.prefsrc] : []), ...(r.scope !== undefined ? ['scope', r.scope] : []),
    ...(r.nexthops ?? []).flatMap((nh) => ['nexthop', ...(nh.via !== undefined ? ['via', nh.via] : []), ...(nh.dev !== undefined ? ['dev', nh.dev] : []),
      ...(nh.weight !== undefined ? ['weight', nh.weight] : [])]),
  ];
  return words.filter((w) => w !== undefined).join(' ');
}

/** `ip rule` words for a rule (`from 10.0.0.0/8 lookup 100 pref 50`). */
export function describeRule(r: RuleSpec): string {
  const action = r.action ?? 'table';
  const words: Array<string | number | undefined> = [
    r.invert ? 'not' : undefined, 'from', r.from !== undefined ? `${r.from}/${r.fromLength}` : 'all',
    ...(r.to !== undefined ? ['to', `${r.to}/${r.toLength}`] : []),
    ...(r.fwmark !== undefined ? ['fwmark', r.fwmask !== undefined ? `0x${r.fwmark.toString(16)}/0x${r.fwmask.toString(16)}` : `0x${r.fwmark.toString(16)}`] : []),
    ...(r.iif !== undefined ? ['iif', r.iif] : []), ...(r.oif !== undefined ? ['oif', r.oif] : []),
    ...(action === 'table' ? ['lookup', r.table ?? 254] : action === 'goto' ? ['goto', r.goto] : [action]),
    ...(r.priority !== undefined ? ['pref', r.priority] : []),
  ];
  return words.filter((w) => w !== undefined).join(' ');
}

/** An address as `ip addr` names it. */
export function describeAddress(a: AddressTarget): string {
  const dev = 'dev' in a ? a.dev : `#${a.ifindex}`;
  return `${a.address}/${a.prefixLength ?? (a.address.includes(':') ? 128 : 32)} dev ${dev}${a.label ? ` label ${a.label}` : ''}`;
}

/** One step as an event's words (`route 10.1.0.0/16 via 10.0.0.1`). */
export function describeStep(step: NetStep): string {
  switch (step.kind) {
    case 'route': return describeRoute(step.item);
    case 'rule': return describeRule(step.item);
    case 'address': return describeAddress(step.item);
  }
}
