// layer: config (pure)
// job: route and rule lines of the canonical dump (static_routes, static_rules, virtual_routes, virtual_rules), as keepalived reads them back.
import type { ConfigRoute, ConfigRule } from './model.js';

export type Word = string | number | undefined;

/** A word as the lexer reads it back: quoted when it holds blanks, comment starts or braces, is empty, or could start a directive. */
export function word(w: string): string {
  return w === '' || /[\s#!{}"]/.test(w) || /^[@$~]/.test(w) || /^include[rmwba]?$/.test(w) ? `"${w}"` : w;
}

/** A route line as keepalived reads it; the protocol only with no_track (a tracked route always has keepalived's). */
export function routeWords(r: ConfigRoute): Word[] {
  return [
    r.family === 6 && r.prefixLength === 0 ? 'inet6' : undefined,
    ...(r.prefsrc !== undefined ? ['src', r.prefsrc] : []),
    r.type !== undefined && r.type !== 'unicast' ? r.type : undefined,
    `${r.dst}/${r.prefixLength}`,
    ...(r.via !== undefined ? ['via', r.via] : []),
    ...(r.dev !== undefined ? ['dev', word(r.dev)] : []),
    'table', r.table,
    ...(r.metric !== undefined ? ['metric', r.metric] : []),
    ...(r.scope !== undefined ? ['scope', r.scope] : []),
    ...(r.tos !== undefined ? ['tos', r.tos] : []),
    ...(r.from !== undefined ? ['from', `${r.from}/${r.fromLength}`] : []),
    r.onlink ? 'onlink' : undefined,
    ...(r.noTrack && r.protocol !== undefined ? ['protocol', r.protocol] : []),
    r.addMode, r.noTrack ? 'no_track' : undefined,
    ...(r.nexthops ?? []).flatMap((nh) => [
      'nexthop', ...(nh.via !== undefined ? ['via', nh.via] : []), ...(nh.dev !== undefined ? ['dev', word(nh.dev)] : []),
      ...(nh.weight !== undefined ? ['weight', nh.weight] : []), nh.onlink ? 'onlink' : undefined,
    ]),
  ];
}

/** A rule line as keepalived reads it, with its preference always written. */
export function ruleWords(r: ConfigRule): Word[] {
  const action = r.action ?? 'table';
  return [
    r.family === 6 && r.from === undefined && r.to === undefined ? 'inet6' : undefined,
    ...(r.from !== undefined ? ['from', `${r.from}/${r.fromLength}`] : []),
    ...(r.to !== undefined ? ['to', `${r.to}/${r.toLength}`] : []),
    r.invert ? 'not' : undefined,
    ...(action === 'table' ? ['table', r.table ?? 254] : action === 'goto' ? ['goto', r.goto] : [action]),
    'preference', r.priority,
    ...(r.tos !== undefined ? ['tos', r.tos] : []),
    ...(r.fwmark !== undefined ? ['fwmark', r.fwmask !== undefined ? `${r.fwmark}/${r.fwmask}` : r.fwmark] : []),
    ...(r.iif !== undefined ? ['iif', word(r.iif)] : []),
    ...(r.oif !== undefined ? ['oif', word(r.oif)] : []),
    ...(r.noTrack && r.protocol !== undefined ? ['protocol', r.protocol] : []),
    r.noTrack ? 'no_track' : undefined,
  ];
}
