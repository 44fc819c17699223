// layer: config (pure)
// job: keyword tables of virtual_server_group, virtual_server and real_server (checkers come from checkers.ts).
import type { Token } from '../lexer.js';
import type { CheckDefaults, Checker, HttpCheck, RealServer, SmtpCheck, VirtualServer, VirtualServerGroup, VirtualServerGroupEntry } from '../model.js';
import { parseAddress } from '../values.js';
import { DNS_CHECK, FILE_CHECK, HTTP_GET, MISC_CHECK, PING_CHECK, SMTP_CHECK, SSL_GET, TCP_CHECK, UDP_CHECK, UNSUPPORTED_CHECKERS } from './checkers.js';
import { forwardingMethod } from './common.js';
import { arg, flag, keywordTable, kw, unsupported, type BuildContext, type Keyword, type KeywordTable, type ListSpec, type Statement } from './types.js';

export const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'sh', 'mh', 'dh', 'fo', 'ovf', 'lblcr', 'sed', 'nq', 'twos'] as const;
export const SCHEDULER_FLAGS = ['flag-1', 'flag-2', 'flag-3', 'sh-port', 'sh-fallback', 'mh-port', 'mh-fallback'] as const;

/** `ADDR [PORT]` of a virtual or real server; undefined (reported) when unreadable. */
function addressPort(st: Statement, cx: BuildContext): { address: string; family: 4 | 6; port?: number } | undefined {
  const a = cx.ip(arg(st, 0), 'an IP address');
  if (!a) return undefined;
  if (!st.args[1]) return a;
  const port = cx.uint(st, 1, 0, 65535);
  return port === undefined ? undefined : { address: a.address, family: a.family, port };
}

export const VSG_ENTRIES: ListSpec<VirtualServerGroup> = {
  name: 'virtual_server_group',
  options: {},
  positional: (head) => (head.text === 'fwmark' ? 2 : 1),
  canStart: (w) => w.text === 'fwmark' || /[.:]/.test(w.text),
  entry: (g, e, cx) => {
    const location = cx.loc(e.head);
    if (e.head.text === 'fwmark') {
      const st = { keyword: e.head, args: e.positional };
      const mark = e.positional[0] ? cx.uint(st, 0, 1, 0xffffffff) : undefined;
      if (mark === undefined) {
        if (!e.positional[0]) cx.error(e.head, 'fwmark needs a mark', 'missing-argument');
        return;
      }
      const entry: VirtualServerGroupEntry = { kind: 'fwmark', fwmark: mark, location };
      if (e.positional[1]) {
        const fam = cx.oneOf(st, 1, ['inet', 'inet6'] as const);
        if (fam) entry.family = fam === 'inet' ? 4 : 6;
      }
      g.entries.push(entry);
      return;
    }
    const range = vsgAddress(e.head, cx);
    if (!range) return;
    const entry: VirtualServerGroupEntry = { kind: 'address', ...range, location };
    if (e.positional[0]) {
      const port = cx.uint({ keyword: e.head, args: e.positional }, 0, 0, 65535);
      if (port === undefined) return;
      entry.port = port;
    }
    g.entries.push(entry);
  },
};

/** `A.B.C.D`, `A.B.C.D-E`, `A.B.C.D-E.F.G.H`, `ADDR/LEN` (and the IPv6 forms). */
function vsgAddress(tok: Token, cx: BuildContext): { address: string; family: 4 | 6; rangeEnd?: string; prefixLength?: number } | undefined {
  const text = tok.text;
  const dash = text.lastIndexOf('-');
  if (dash > 0) {
    const start = parseAddress(text.slice(0, dash));
    const tail = text.slice(dash + 1);
    if (start) {
      const full = parseAddress(tail);
      if (full && full.family === start.family) return { ...start, rangeEnd: full.address };
      if (/^[0-9a-fA-F]{1,4}$/.test(tail)) {
        const sep = start.family === 4 ? '.' : ':';
        const endText = start.address.slice(0, start.address.lastIndexOf(sep) + 1) + tail;
        const end = parseAddress(endText);
        if (end) return { ...start, rangeEnd: end.address };
      }
    }
    cx.error(tok, `expected an address, a range such as 192.168.200.1-10 or a prefix, not \`${text}\``);
    return undefined;
  }
  return cx.ipPrefix(tok, 'an address, a range such as 192.168.200.1-10 or ADDR/LEN');
}

/** Options a virtual server, a real server and a checker share (the outer one is the default of the inner). */
function checkDefaults<T extends CheckDefaults>(): Keyword<T>[] {
  const time = (name: string, key: 'connectTimeoutMs' | 'delayBeforeRetryMs' | 'warmupMs' | 'delayLoopMs', min: number) =>
    kw<T>(name, 1, 1, '<SECONDS>', (t, st, cx) => {
      const v = cx.seconds(st, 0, min, 86400 * 365);
      if (v !== undefined) t[key] = v;
    });
  return [
    flag<T>('alpha', (t, v) => { t.alpha = v; }),
    time('connect_timeout', 'connectTimeoutMs', 0.000001),
    // keepalived -t refuses 0 here (a checker's own retry may be 0).
    kw<T>('retry', 1, 1, '<1..>', (t, st, cx) => {
      const v = cx.uint(st, 0, 1, 2 ** 31 - 1);
      if (v !== undefined) t.retry = v;
    }),
    time('delay_before_retry', 'delayBeforeRetryMs', 0),
    time('warmup', 'warmupMs', 0),
    time('delay_loop', 'delayLoopMs', 0.000001),
    flag<T>('inhibit_on_failure', (t, v) => { t.inhibitOnFailure = v; }),
    flag<T>('smtp_alert', (t, v) => { t.smtpAlert = v; }),
    kw<T>('virtualhost', 1, 1, '<HOST>', (t, st) => { t.virtualhost = arg(st, 0).text; }),
  ];
}

function checkerKeyword<C extends Checker>(name: C['type'], table: KeywordTable<C>, init: () => Omit<C, 'location'>): Keyword<RealServer> {
  return kw<RealServer>(name, 0, 0, '{ ... }', (rs, st, cx) => {
    // Built by assignment (an object spread is slow in code not yet optimized, and this runs per real server).
    const c = init() as C;
    c.location = cx.loc(st.keyword);
    cx.block(st, table, c);
    rs.checkers.push(c);
  }, { block: 'required' });
}

export const REAL_SERVER = keywordTable<RealServer>('real_server', [
  kw('weight', 1, 1, '<0..65535>', (rs, st, cx) => {
    const v = cx.uint(st, 0, 0, 65535);
    if (v !== undefined) rs.weight = v;
  }),
  kw('lvs_method', 1, 6, 'NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]', (rs, st, cx) => {
    const m = forwardingMethod(st, cx);
    if (m) rs.method = m;
  }, { aliases: ['lb_kind'] }),
  kw('notify_up', 1, Infinity, '<SCRIPT>|"<SCRIPT ARGS>" [user [group]]', (rs, st, cx) => {
    const s = cx.script(st, 0);
    if (s) rs.notifyUp = s;
  }),
  kw('notify_down', 1, Infinity, '<SCRIPT>|"<SCRIPT ARGS>" [user [group]]', (rs, st, cx) => {
    const s = cx.script(st, 0);
    if (s) rs.notifyDown = s;
  }),
  kw('uthreshold', 1, 1, '<CONNECTIONS>', (rs, st, cx) => {
    const v = cx.uint(st, 0, 0, 0xffffffff);
    if (v !== undefined) rs.upperThreshold = v;
  }),
  kw('lthreshold', 1, 1, '<CONNECTIONS>', (rs, st, cx) => {
    const v = cx.uint(st, 0, 0, 0xffffffff);
    if (v !== undefined) rs.lowerThreshold = v;
  }),
  ...checkDefaults<RealServer>(),
  checkerKeyword('TCP_CHECK', TCP_CHECK, () => ({ type: 'TCP_CHECK' })),
  checkerKeyword<HttpCheck>('HTTP_GET', HTTP_GET, () => ({ type: 'HTTP_GET', urls: [] })),
  checkerKeyword<HttpCheck>('SSL_GET', SSL_GET, () => ({ type: 'SSL_GET', urls: [] })),
  checkerKeyword('MISC_CHECK', MISC_CHECK, () => ({ type: 'MISC_CHECK' })),
  checkerKeyword<SmtpCheck>('SMTP_CHECK', SMTP_CHECK, () => ({ type: 'SMTP_CHECK', hosts: [] })),
  checkerKeyword('UDP_CHECK', UDP_CHECK, () => ({ type: 'UDP_CHECK' })),
  checkerKeyword('DNS_CHECK', DNS_CHECK, () => ({ type: 'DNS_CHECK' })),
  checkerKeyword('PING_CHECK', PING_CHECK, () => ({ type: 'PING_CHECK' })),
  checkerKeyword('FILE_CHECK', FILE_CHECK, () => ({ type: 'FILE_CHECK' })),
], [
  ...UNSUPPORTED_CHECKERS.flatMap((u) => unsupported('error', u.reason, u.name)),
  ...unsupported('ignored', 'lvskit has no SNMP agent', 'snmp_name'),
]);

const realServer = kw<VirtualServer>('real_server', 1, 2, '<IPADDR> [<PORT>] { ... }', (vs, st, cx) => {
  const a = addressPort(st, cx);
  const rs: RealServer = { address: a?.address ?? '', family: a?.family ?? 4, checkers: [], location: cx.loc(st.keyword) };
  if (a?.port !== undefined) rs.port = a.port;
  cx.block(st, REAL_SERVER, rs);
  if (a) vs.realServers.push(rs);
}, { block: 'required' });

export const VIRTUAL_SERVER = keywordTable<VirtualServer>('virtual_server', [
  kw('lvs_sched', 1, 1, SCHEDULERS.join('|'), (vs, st, cx) => {
    const s = cx.oneOf(st, 0, SCHEDULERS);
    if (s) vs.scheduler = s;
  }, { aliases: ['lb_algo'] }),
  ...SCHEDULER_FLAGS.map((name) => kw<VirtualServer>(name, 0, 0, '', (vs) => {
    if (!vs.schedulerFlags.includes(name)) vs.schedulerFlags.push(name);
  })),
  flag('ops', (vs, v) => { vs.onePacketScheduling = v; }),
  kw('lvs_method', 1, 6, 'NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]', (vs, st, cx) => {
    const m = forwardingMethod(st, cx);
    if (m) vs.method = m;
  }, { aliases: ['lb_kind'] }),
  kw('persistence_timeout', 0, 1, '[<SECONDS>]', (vs, st, cx) => {
    if (!st.args[0]) {
      vs.persistenceTimeoutSec = 360;
      return;
    }
    const v = cx.uint(st, 0, 1, 0xffffffff);
    if (v !== undefined) vs.persistenceTimeoutSec = v;
  }),
  kw('persistence_granularity', 1, 1, '<NETMASK>|<PREFIX LENGTH>', (vs, st, cx) => {
    const tok = arg(st, 0);
    const a = parseAddress(tok.text);
    if ((a && a.family === 4) || (/^\d+$/.test(tok.text) && Number(tok.text) >= 1 && Number(tok.text) <= 128)) vs.persistenceGranularity = tok.text;
    else cx.error(tok, `persistence_granularity expects an IPv4 netmask or an IPv6 prefix length 1..128, not \`${tok.text}\``);
  }),
  kw('persistence_engine', 1, 1, '<NAME>', (vs, st) => { vs.persistenceEngine = arg(st, 0).text; }),
  kw('protocol', 1, 1, 'TCP|UDP|SCTP', (vs, st, cx) => {
    const p = cx.oneOf(st, 0, ['TCP', 'UDP', 'SCTP'] as const, true);
    if (p) vs.protocol = p;
  }),
  flag('ha_suspend', (vs, v) => { vs.haSuspend = v; }),
  flag('omega', (vs, v) => { vs.omega = v; }),
  kw('quorum', 1, 1, '<WEIGHT>', (vs, st, cx) => {
    const v = cx.uint(st, 0, 1, 0xffffffff);
    if (v !== undefined) vs.quorum = v;
  }),
  kw('hysteresis', 1, 1, '<WEIGHT>', (vs, st, cx) => {
    const v = cx.uint(st, 0, 0, 0xffffffff);
    if (v !== undefined) vs.hysteresis = v;
  }),
  kw('quorum_up', 1, Infinity, '<SCRIPT>|"<SCRIPT ARGS>" [user [group]]', (vs, st, cx) => {
    const s = cx.script(st, 0);
    if (s) vs.quorumUp = s;
  }),
  kw('quorum_down', 1, Infinity, '<SCRIPT>|"<SCRIPT ARGS>" [user [group]]', (vs, st, cx) => {
    const s = cx.script(st, 0);
    if (s) vs.quorumDown = s;
  }),
  kw('ip_family', 1, 1, 'inet|inet6', (vs, st, cx) => {
    const f = cx.oneOf(st, 0, ['inet', 'inet6'] as const);
    if (f) vs.ipFamily = f === 'inet' ? 4 : 6;
  }),
  kw('sorry_server', 1, 2, '<IPADDR> [<PORT>]', (vs, st, cx) => {
    const a = addressPort(st, cx);
    if (a) vs.sorryServer = a;
  }),
  flag('sorry_server_inhibit', (vs, v) => { vs.sorryServerInhibit = v; }),
  kw('sorry_server_lvs_method', 1, 6, 'NAT|DR|TUN [...]', (vs, st, cx) => {
    const m = forwardingMethod(st, cx);
    if (m) vs.sorryServerMethod = m;
  }),
  ...checkDefaults<VirtualServer>(),
  realServer,
], [
  ...unsupported('ignored', 'lvskit has no SNMP agent', 'snmp_name'),
  ...unsupported('ignored', 'keepalived 1.x NAT netmask; keepalived 2 ignores it as well', 'nat_mask'),
]);

/** The `virtual_server` header: `ADDR [PORT]`, `fwmark N` or `group NAME`; undefined (reported) when unreadable. */
export function virtualServerKey(st: Statement, cx: BuildContext): VirtualServer['key'] | undefined {
  const first = arg(st, 0);
  if (first.text === 'fwmark' || first.text === 'group') {
    const second = st.args[1];
    if (!second) {
      cx.error(first, `virtual_server ${first.text} needs ${first.text === 'fwmark' ? 'a mark' : 'a group name'}`, 'missing-argument');
      return undefined;
    }
    if (first.text === 'group') return { kind: 'group', group: second.text };
    const mark = cx.uint(st, 1, 1, 0xffffffff);
    return mark === undefined ? undefined : { kind: 'fwmark', fwmark: mark };
  }
  const a = addressPort(st, cx);
  if (!a) return undefined;
  return { kind: 'address', address: a.address, family: a.family, ...(a.port !== undefined ? { port: a.port } : {}) };
}
