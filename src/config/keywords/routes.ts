// layer: config (pure)
// job: keepalived's route and rule lines (static_routes, virtual_routes, static_rules, virtual_rules), word by word as
//      keepalived's alloc_route / alloc_rule read them, into ConfigRoute / ConfigRule with located errors.
import type { Token } from '../lexer.js';
import type { AddressFamily, ConfigRoute, ConfigRule } from '../model.js';
import { lookupRouteTable } from '../rt-tables.js';
import { parseAddressPrefix } from '../values.js';
import { ROUTE_TYPES, RTPROT_KEEPALIVED, SCOPES, type RouteType, type Scope } from '../../rtnl/constants.js';
import { networkAddress } from '../../rtnl/route.js';
import { kw, type BuildContext, type Keyword } from './types.js';

/** iproute2's /etc/iproute2/rt_protos names. */
const PROTOCOLS: Record<string, number> = {
  redirect: 1, kernel: 2, boot: 3, static: 4, gated: 8, ra: 9, mrt: 10, zebra: 11, bird: 12, dnrouted: 13, xorp: 14, ntk: 15,
  dhcp: 16, keepalived: 18, babel: 42, bgp: 186, isis: 187, ospf: 188, rip: 189, eigrp: 192,
};

/** Route options keepalived reads that lvskit does not send (metrics, encapsulation, VRFs...). */
const ROUTE_UNSUPPORTED = new Set([
  'mtu', 'hoplimit', 'advmss', 'rtt', 'rttvar', 'reordering', 'window', 'cwnd', 'ssthresh', 'realms', 'rto_min', 'initcwnd',
  'initrwnd', 'features', 'quickack', 'congctl', 'pref', 'ttl-propagate', 'fastopen_no_cookie', 'encap', 'expires', 'vrf', 'as',
]);

/** Rule options keepalived reads that lvskit does not send. */
const RULE_UNSUPPORTED = new Set([
  'realms', 'suppress_prefixlength', 'sup_pl', 'suppress_ifgroup', 'sup_group', 'tunnel-id', 'uidrange', 'l3mdev', 'ipproto', 'sport', 'dport',
]);

/** keepalived numbers rules without a preference down from 16384, per family, over the whole configuration. */
const RULE_START_PRIORITY = 16384;
const nextRulePriority = new WeakMap<BuildContext, { 4: number; 6: number }>();

const q = (s: string): string => `\`${s}\``;

/** A cursor over one line's words with keepalived's "the next word is the value" reading. */
class Words {
  i = 0;
  constructor(readonly words: readonly Token[], private readonly cx: BuildContext, private readonly what: string) {}
  get done(): boolean { return this.i >= this.words.length; }
  peek(): Token | undefined { return this.words[this.i]; }
  next(): Token | undefined { return this.words[this.i++]; }
  /** The value after option `opt`; an error at the option when the line ends. */
  value(opt: Token): Token | undefined {
    const v = this.next();
    if (!v) this.cx.error(opt, `${this.what}: ${q(opt.text)} needs a value`, 'missing-argument');
    return v;
  }
}

/** A network `ADDR[/LEN]` or `default`: the address must be the network's (no host bits), as the kernel requires. */
function network(tok: Token, cx: BuildContext, what: string, family: AddressFamily | undefined): { address: string; prefixLength: number; family: AddressFamily | undefined } | undefined {
  // `default` takes the line's family, which may be given after it (`inet6`); the caller settles it at the end.
  if (tok.text === 'default' || tok.text === 'all') return { address: family === 6 ? '::' : '0.0.0.0', prefixLength: 0, family: undefined };
  const a = parseAddressPrefix(tok.text);
  if (a === 'bad-prefix') {
    cx.error(tok, `${what}: ${q(tok.text)}: the prefix length must be 0..32 for IPv4 and 0..128 for IPv6`, 'out-of-range');
    return undefined;
  }
  if (!a) {
    cx.error(tok, `${what}: expected an address[/prefix], not ${q(tok.text)}`);
    return undefined;
  }
  const prefixLength = a.prefixLength ?? (a.family === 4 ? 32 : 128);
  const net = networkAddress(a.address, prefixLength);
  if (net !== a.address) {
    cx.error(tok, `${what}: ${q(tok.text)} has host bits set; the network is ${net}/${prefixLength}`);
    return undefined;
  }
  return { address: a.address, prefixLength, family: a.family };
}

/** Records the family a word implies; an error when the line already has the other one. */
class FamilyOf {
  family: AddressFamily | undefined;
  constructor(private readonly cx: BuildContext, private readonly what: string) {}
  set(f: AddressFamily, tok: Token): boolean {
    if (this.family === undefined || this.family === f) {
      this.family = f;
      return true;
    }
    this.cx.error(tok, `${this.what}: cannot mix IPv4 and IPv6 (${q(tok.text)})`, 'conflict');
    return false;
  }
}

function address(tok: Token | undefined, cx: BuildContext, fam: FamilyOf, what: string): string | undefined {
  if (!tok) return undefined;
  const a = cx.ip(tok, `${what} address`);
  return a && fam.set(a.family, tok) ? a.address : undefined;
}

function u32(tok: Token | undefined, cx: BuildContext, what: string): number | undefined {
  if (!tok) return undefined;
  if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(tok.text) || Number(tok.text) > 0xffffffff) {
    cx.error(tok, `${what} expects a whole number 0..4294967295, not ${q(tok.text)}`);
    return undefined;
  }
  return Number(tok.text);
}

function table(tok: Token | undefined, cx: BuildContext, what: string): number | undefined {
  if (!tok) return undefined;
  const id = lookupRouteTable(tok.text, cx.routeTables());
  if (id === undefined) {
    cx.error(tok, `${what}: routing table ${q(tok.text)} not found (a number, or a name in /etc/iproute2/rt_tables: ${[...cx.routeTables().keys()].join(', ')})`);
    return undefined;
  }
  if (id === 0) {
    cx.error(tok, `${what}: table 0 is not valid`, 'out-of-range');
    return undefined;
  }
  return id;
}

function scope(tok: Token | undefined, cx: BuildContext): Scope | undefined {
  if (!tok) return undefined;
  const names = Object.keys(SCOPES) as Scope[];
  const found = tok.text === 'universe' ? 'global' : names.find((n) => n === tok.text || String(SCOPES[n]) === tok.text);
  if (!found) cx.error(tok, `route: scope expects ${names.join('|')}, not ${q(tok.text)}`);
  return found;
}

/** `nexthop via A [dev D] [weight W] [onlink] nexthop ...`: from the first `nexthop` word to the end of the line. */
function nexthops(w: Words, cx: BuildContext, fam: FamilyOf): ConfigRoute['nexthops'] | undefined {
  const out: NonNullable<ConfigRoute['nexthops']> = [];
  while (!w.done) {
    const word = w.next() as Token;
    if (word.text !== 'nexthop') {
      cx.error(word, `route: ${q(word.text)} after the nexthops (each path begins with \`nexthop\`: via, dev, weight, onlink)`);
      return undefined;
    }
    const nh: NonNullable<ConfigRoute['nexthops']>[number] = {};
    for (let t = w.peek(); t && t.text !== 'nexthop'; t = w.peek()) {
      w.next();
      if (t.text === 'via' || t.text === 'gw') {
        const v = address(w.value(t), cx, fam, 'route: nexthop via');
        if (v === undefined) return undefined;
        nh.via = v;
      } else if (t.text === 'dev' || t.text === 'oif') {
        const d = w.value(t);
        if (!d) return undefined;
        nh.dev = d.text;
      } else if (t.text === 'weight') {
        const v = u32(w.value(t), cx, 'route: nexthop weight');
        if (v === undefined) return undefined;
        if (v < 1 || v > 256) {
          cx.error(t, `route: nexthop weight ${v} is outside 1..256`, 'out-of-range');
          return undefined;
        }
        nh.weight = v;
      } else if (t.text === 'onlink') {
        nh.onlink = true;
      } else {
        cx.error(t, `route: unknown nexthop option ${q(t.text)} (via, dev, weight, onlink)`);
        return undefined;
      }
    }
    out.push(nh);
  }
  return out;
}

/**
 * One route line: `[src A] [to] [TYPE] NET[/LEN] [via|gw A [or A]] [dev|oif D] [table T] [metric|priority|preference N]
 * [scope S] [protocol P] [tos N] [from NET (IPv6)] [onlink] [inet|inet6] [add|prepend|append] [no_track] [nexthop ...]`.
 */
export function parseRoute(words: readonly Token[], cx: BuildContext): ConfigRoute | undefined {
  const w = new Words(words, cx, 'route');
  const fam = new FamilyOf(cx, 'route');
  const r: Partial<ConfigRoute> & { location: ConfigRoute['location'] } = { location: cx.loc(words[0] as Token) };
  let protocolGiven: Token | undefined;
  let orVia: string | undefined;
  while (!w.done) {
    const t = w.next() as Token;
    const o = t.text;
    if (o === 'inet' || o === 'inet6') {
      if (!fam.set(o === 'inet' ? 4 : 6, t)) return undefined;
    } else if (o === 'src') {
      const v = address(w.value(t), cx, fam, 'route: src');
      if (v === undefined) return undefined;
      r.prefsrc = v;
    } else if (o === 'via' || o === 'gw') {
      if (o === 'gw') cx.warning(t, 'route: `gw` is deprecated by keepalived; use `via`', 'deprecated');
      let v = w.value(t);
      if (v?.text === 'inet' || v?.text === 'inet6') v = w.next();
      const a = address(v, cx, fam, 'route: via');
      if (a === undefined) return undefined;
      r.via = a;
    } else if (o === 'or') {
      cx.warning(t, 'route: `or` is deprecated by keepalived; use `nexthop`', 'deprecated');
      const a = address(w.value(t), cx, fam, 'route: or');
      if (a === undefined) return undefined;
      orVia = a;
    } else if (o === 'from') {
      const v = w.value(t);
      const n = v && network(v, cx, 'route: from', fam.family);
      if (!n || (n.family !== undefined && !fam.set(n.family, v as Token))) return undefined;
      if ((n.family ?? fam.family) !== 6) {
        cx.error(v as Token, 'route: `from` is only supported for IPv6 routes, as in keepalived');
        return undefined;
      }
      r.from = n.address;
      r.fromLength = n.prefixLength;
    } else if (o === 'tos' || o === 'dsfield') {
      const v = u32(w.value(t), cx, `route: ${o}`);
      if (v === undefined) return undefined;
      if (v > 255) {
        cx.error(t, `${o} ${v} is outside 0..255`, 'out-of-range');
        return undefined;
      }
      r.tos = v;
    } else if (o === 'table') {
      const v = table(w.value(t), cx, 'route');
      if (v === undefined) return undefined;
      r.table = v;
    } else if (o === 'protocol') {
      const v = w.value(t);
      if (!v) return undefined;
      const p = PROTOCOLS[v.text] ?? (/^\d+$/.test(v.text) && Number(v.text) <= 255 ? Number(v.text) : undefined);
      if (p === undefined) {
        cx.error(v, `route: protocol ${q(v.text)} is not a protocol name or 0..255`);
        return undefined;
      }
      r.protocol = p;
      protocolGiven = v;
    } else if (o === 'scope') {
      const s = scope(w.value(t), cx);
      if (!s) return undefined;
      r.scope = s;
    } else if (o === 'metric' || o === 'priority' || o === 'preference') {
      const v = u32(w.value(t), cx, `route: ${o}`);
      if (v === undefined) return undefined;
      r.metric = v;
    } else if (o === 'dev' || o === 'oif') {
      const v = w.value(t);
      if (!v) return undefined;
      r.dev = v.text;
    } else if (o === 'onlink') {
      r.onlink = true;
    } else if (o === 'add' || o === 'prepend' || o === 'append') {
      r.addMode = o;
    } else if (o === 'no_track') {
      r.noTrack = true;
    } else if (o === 'track_group') {
      w.value(t);
      cx.warning(t, 'route: track_group is ignored by lvskit (interface groups are not tracked)');
    } else if (o === 'nexthop') {
      if (orVia !== undefined) {
        cx.error(t, 'route: `nexthop` cannot be used with `or`', 'conflict');
        return undefined;
      }
      w.i--;
      const nhs = nexthops(w, cx, fam);
      if (!nhs) return undefined;
      r.nexthops = nhs;
    } else if (ROUTE_UNSUPPORTED.has(o)) {
      cx.error(t, `route: ${q(o)} is not supported by lvskit (it sends destination, gateway, device, table, metric, scope, protocol, tos, type, onlink and nexthops)`);
      return undefined;
    } else {
      // keepalived: anything else is the destination, optionally after `to` and a route type.
      let dst: Token | undefined = t;
      if (dst.text === 'to') dst = w.value(t);
      if (dst && (ROUTE_TYPES as readonly string[]).includes(dst.text) && dst.text !== 'unspec') {
        r.type = dst.text as RouteType;
        dst = w.value(dst);
      }
      if (!dst) return undefined;
      if (dst.text !== 'default' && parseAddressPrefix(dst.text) === undefined) {
        cx.error(dst, `route: unknown route keyword ${q(dst.text)} (a destination ADDR[/LEN], or an option: via, dev, table, metric, scope, src, nexthop...)`);
        return undefined;
      }
      const n = network(dst, cx, 'route', fam.family);
      if (!n || (n.family !== undefined && !fam.set(n.family, dst))) return undefined;
      r.dst = n.address;
      r.prefixLength = n.prefixLength;
    }
  }
  if (r.dst === undefined) {
    cx.error(words[0] as Token, 'route: a route needs a destination (ADDR[/LEN] or default)', 'missing-argument');
    return undefined;
  }
  if (orVia !== undefined) {
    r.nexthops = [{ ...(r.via !== undefined ? { via: r.via } : {}), ...(r.dev !== undefined ? { dev: r.dev } : {}) }, { via: orVia, ...(r.dev !== undefined ? { dev: r.dev } : {}) }];
    delete r.via;
    delete r.dev;
  }
  if (!r.noTrack) {
    if (protocolGiven && r.protocol !== RTPROT_KEEPALIVED) {
      cx.warning(protocolGiven, `route: a tracked route has keepalived's protocol (${RTPROT_KEEPALIVED}); add no_track to keep protocol ${protocolGiven.text}`, 'keepalived-compat');
    }
    r.protocol = RTPROT_KEEPALIVED;
  }
  const family = fam.family ?? 4;
  if (r.prefixLength === 0) r.dst = family === 6 ? '::' : '0.0.0.0';
  return { ...r, family, table: r.table ?? 254 } as ConfigRoute;
}

/**
 * One rule line: `[from NET] [to NET] [table|lookup T | goto N | nop | [type] blackhole|unreachable|prohibit]
 * [not] [preference|priority|order N] [tos N] [fwmark M[/MASK]] [iif|dev I] [oif O] [protocol N] [inet|inet6] [no_track]`.
 */
export function parseRule(words: readonly Token[], cx: BuildContext): ConfigRule | undefined {
  const w = new Words(words, cx, 'rule');
  const fam = new FamilyOf(cx, 'rule');
  const r: Partial<ConfigRule> & { location: ConfigRule['location'] } = { location: cx.loc(words[0] as Token) };
  let protocolGiven: Token | undefined;
  const setAction = (a: ConfigRule['action'], t: Token): boolean => {
    if (r.action !== undefined) {
      cx.error(t, 'rule: only one of table/goto/nop/blackhole/unreachable/prohibit', 'conflict');
      return false;
    }
    r.action = a;
    return true;
  };
  while (!w.done) {
    const t = w.next() as Token;
    const o = t.text;
    if (o === 'inet' || o === 'inet6') {
      if (!fam.set(o === 'inet' ? 4 : 6, t)) return undefined;
    } else if (o === 'from' || o === 'to') {
      const v = w.value(t);
      const n = v && network(v, cx, `rule: ${o}`, fam.family);
      if (!n || (n.family !== undefined && !fam.set(n.family, v as Token))) return undefined;
      if (o === 'from') { r.from = n.address; r.fromLength = n.prefixLength; } else { r.to = n.address; r.toLength = n.prefixLength; }
    } else if (o === 'table' || o === 'lookup') {
      const v = table(w.value(t), cx, 'rule');
      if (v === undefined || !setAction('table', t)) return undefined;
      r.table = v;
    } else if (o === 'not') {
      r.invert = true;
    } else if (o === 'preference' || o === 'order' || o === 'priority') {
      const v = u32(w.value(t), cx, `rule: ${o}`);
      if (v === undefined) return undefined;
      r.priority = v;
    } else if (o === 'tos' || o === 'dsfield') {
      const v = u32(w.value(t), cx, `rule: ${o}`);
      if (v === undefined) return undefined;
      if (v > 255) {
        cx.error(t, `${o} ${v} is outside 0..255`, 'out-of-range');
        return undefined;
      }
      r.tos = v;
    } else if (o === 'fwmark') {
      const v = w.value(t);
      const m = v && /^(0x[0-9a-fA-F]+|\d+)(?:\/(0x[0-9a-fA-F]+|\d+))?$/.exec(v.text);
      if (!v || !m || Number(m[1]) > 0xffffffff || (m[2] !== undefined && Number(m[2]) > 0xffffffff)) {
        if (v) cx.error(v, `rule: fwmark expects MARK[/MASK] (numbers up to 0xffffffff), not ${q(v.text)}`);
        return undefined;
      }
      r.fwmark = Number(m[1]);
      if (m[2] !== undefined) r.fwmask = Number(m[2]);
    } else if (o === 'dev' || o === 'iif' || o === 'oif') {
      const v = w.value(t);
      if (!v) return undefined;
      if (o === 'oif') r.oif = v.text;
      else r.iif = v.text;
    } else if (o === 'protocol') {
      const v = u32(w.value(t), cx, 'rule: protocol');
      if (v === undefined) return undefined;
      if (v > 255) {
        cx.error(t, `rule: protocol ${v} is outside 0..255`, 'out-of-range');
        return undefined;
      }
      r.protocol = v;
      protocolGiven = t;
    } else if (o === 'no_track') {
      r.noTrack = true;
    } else if (o === 'track_group') {
      w.value(t);
      cx.warning(t, 'rule: track_group is ignored by lvskit (interface groups are not tracked)');
    } else if (RULE_UNSUPPORTED.has(o)) {
      cx.error(t, `rule: ${q(o)} is not supported by lvskit (it sends from, to, table, goto, priority, tos, fwmark, iif, oif, not and the action)`);
      return undefined;
    } else {
      const a = o === 'type' ? w.value(t) : t;
      if (!a) return undefined;
      if (a.text === 'goto') {
        const v = u32(w.value(a), cx, 'rule: goto');
        if (v === undefined || !setAction('goto', a)) return undefined;
        r.goto = v;
      } else if (a.text === 'nop' || a.text === 'blackhole' || a.text === 'unreachable' || a.text === 'prohibit') {
        if (!setAction(a.text, a)) return undefined;
      } else {
        cx.error(a, `rule: unknown rule option ${q(a.text)}`);
        return undefined;
      }
    }
  }
  if (r.action === undefined) {
    cx.error(words[0] as Token, 'rule: no action (table, goto, nop, blackhole, unreachable or prohibit); keepalived ignores such a rule', 'missing-argument');
    return undefined;
  }
  const family = fam.family ?? 4;
  if (r.fromLength === 0) r.from = family === 6 ? '::' : '0.0.0.0';
  if (r.toLength === 0) r.to = family === 6 ? '::' : '0.0.0.0';
  if (r.action === 'goto' && (r.priority === undefined || r.priority >= (r.goto as number))) {
    cx.error(words[0] as Token, r.priority === undefined ? 'rule: a goto rule needs a preference' : `rule: preference ${r.priority} must be below the goto target ${r.goto}`, 'conflict');
    return undefined;
  }
  if (r.priority === undefined) {
    const next = nextRulePriority.get(cx) ?? { 4: RULE_START_PRIORITY, 6: RULE_START_PRIORITY };
    nextRulePriority.set(cx, next);
    r.priority = next[family]--;
    cx.warning(words[0] as Token, `rule has no preference; set to ${r.priority} as keepalived does (give one: \`preference N\`)`, 'keepalived-compat');
  }
  if (!r.noTrack) {
    if (protocolGiven && r.protocol !== RTPROT_KEEPALIVED) {
      cx.warning(protocolGiven, `rule: a tracked rule has keepalived's protocol (${RTPROT_KEEPALIVED}); add no_track to keep protocol ${r.protocol}`, 'keepalived-compat');
    }
    r.protocol = RTPROT_KEEPALIVED;
  }
  return { ...r, family } as ConfigRule;
}

/** A block of route lines (`static_routes { ... }`, `virtual_routes { ... }`). */
export function routeBlock<T>(name: string, set: (target: T, routes: ConfigRoute[]) => void): Keyword<T> {
  return kw<T>(name, 0, 0, '{ [src A] [to] [TYPE] NET[/LEN] [via A] [dev D] [table T] [metric N] [scope S] [nexthop via A dev D weight W] ... }', (target, st, cx) => {
    const out: ConfigRoute[] = [];
    for (const node of st.block?.nodes ?? []) {
      if (node.block) cx.error(node.words[0] as Token, `entries of ${name} take no { } block; the block is ignored`);
      if (node.words.length === 0) continue;
      const r = parseRoute(node.words, cx);
      if (r) out.push(r);
    }
    set(target, out);
  }, { block: 'required' });
}

/** A block of rule lines (`static_rules { ... }`, `virtual_rules { ... }`). */
export function ruleBlock<T>(name: string, set: (target: T, rules: ConfigRule[]) => void): Keyword<T> {
  return kw<T>(name, 0, 0, '{ [from NET] [to NET] table T|goto N|blackhole... [preference N] [iif I] [oif O] [fwmark M[/K]] ... }', (target, st, cx) => {
    const out: ConfigRule[] = [];
    for (const node of st.block?.nodes ?? []) {
      if (node.block) cx.error(node.words[0] as Token, `entries of ${name} take no { } block; the block is ignored`);
      if (node.words.length === 0) continue;
      const r = parseRule(node.words, cx);
      if (r) out.push(r);
    }
    set(target, out);
  }, { block: 'required' });
}
