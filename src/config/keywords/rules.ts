// layer: config (pure)
// job: keepalived's rule lines (static_rules, virtual_rules), word by word as keepalived's alloc_rule reads them, into
//      ConfigRule with located errors and keepalived's automatic preferences.
import type { Token } from '../lexer.js';
import type { ConfigRule } from '../model.js';
import { RTPROT_KEEPALIVED } from '../../rtnl/constants.js';
import { FamilyOf, network, q, table, u32, Words } from './route-words.js';
import { kw, type BuildContext, type Keyword } from './types.js';

const RULE_UNSUPPORTED = new Set([
  'realms', 'suppress_prefixlength', 'sup_pl', 'suppress_ifgroup', 'sup_group', 'tunnel-id', 'uidrange', 'l3mdev', 'ipproto', 'sport', 'dport',
]);

/** keepalived numbers rules without a preference down from 16384, per family, over the whole configuration. */
const RULE_START_PRIORITY = 16384;
const nextRulePriority = new WeakMap<BuildContext, { 4: number; 6: number }>();

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
