// layer: config (pure)
// job: keepalived's route lines (static_routes, virtual_routes), word by word as keepalived's alloc_route reads them,
//      into ConfigRoute with located errors.
import type { Token } from '../lexer.js';
import type { ConfigRoute } from '../model.js';
import { parseAddressPrefix } from '../values.js';
import { ROUTE_TYPES, RTPROT_KEEPALIVED, SCOPES, type RouteType, type Scope } from '../../rtnl/constants.js';
import { address, FamilyOf, network, q, table, u32, Words } from './route-words.js';
import { kw, type BuildContext, type Keyword } from './types.js';

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
