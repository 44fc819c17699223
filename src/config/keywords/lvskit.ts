// layer: config (pure)
// job: keyword table of lvskit's own `lvskit_autoban` block (keepalived has none; it would warn and skip it).
import type { AutobanConfig } from '../model.js';
import { arg, flag, keywordTable, kw, type ListSpec } from './types.js';

const WHITELIST: ListSpec<AutobanConfig> = {
  name: 'whitelist',
  options: {},
  entry: (a, e, cx) => {
    const p = cx.ipPrefix(e.head, 'an address or network (ADDR[/LEN])');
    if (p) a.whitelist.push({ address: p.address, family: p.family, prefixLength: p.prefixLength ?? (p.family === 4 ? 32 : 128), location: cx.loc(e.head) });
  },
};

export const LVSKIT_AUTOBAN = keywordTable<AutobanConfig>('lvskit_autoban', [
  kw('threshold', 1, 1, '<CONNECTIONS 1..>', (a, st, cx) => {
    const v = cx.uint(st, 0, 1, 0xffffffff);
    if (v !== undefined) a.threshold = v;
  }),
  kw('ipset', 1, 1, '<SET NAME>', (a, st, cx) => {
    const tok = arg(st, 0);
    // IPSET_MAXNAMELEN is 32 including the terminating NUL.
    if (tok.text.length > 31) cx.error(tok, `ipset names are at most 31 characters; \`${tok.text}\` has ${tok.text.length}`, 'out-of-range');
    else a.ipset = tok.text;
  }),
  kw('whitelist', 0, 0, '{ ADDR[/LEN] ... }', (a, st, cx) => cx.list(st, WHITELIST, a), { block: 'required' }),
  kw('static_blacklist', 1, 1, '<FILE>', (a, st, cx) => {
    const tok = arg(st, 0);
    if (!tok.text.startsWith('/')) cx.warning(tok, 'static_blacklist is relative; it is resolved against the daemon\'s working directory, not the configuration file');
    a.staticBlacklist = tok.text;
  }),
  kw('ban_timeout', 1, 1, '<SECONDS>', (a, st, cx) => {
    const v = cx.uint(st, 0, 1, 2_147_483);
    if (v !== undefined) a.banTimeoutMs = v * 1000;
  }),
  kw('interval', 1, 1, '<SECONDS>', (a, st, cx) => {
    const v = cx.seconds(st, 0, 0.1, 86400);
    if (v !== undefined) a.intervalMs = v;
  }),
  kw('source', 1, 1, 'sync|procfs', (a, st, cx) => {
    const v = cx.oneOf(st, 0, ['sync', 'procfs'] as const);
    if (v) a.source = v;
  }),
  flag('dry_run', (a, v) => { a.dryRun = v; }),
]);
