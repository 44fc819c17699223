// layer: config (pure)
// job: keyword tables of the health checkers (TCP_CHECK, HTTP_GET, SSL_GET with url blocks, MISC_CHECK) and of `SSL`.
import type { CheckerCommon, HttpCheck, HttpUrl, MiscCheck, SslContext, TcpCheck } from '../model.js';
import { arg, flag, keywordTable, kw, type Keyword } from './types.js';

/** Options from `alpha` on: every checker has them (MISC_CHECK only these). */
function timingKeywords<T extends CheckerCommon>(): Keyword<T>[] {
  const time = (name: string, key: 'connectTimeoutMs' | 'delayBeforeRetryMs' | 'warmupMs' | 'delayLoopMs', min: number) =>
    kw<T>(name, 1, 1, '<SECONDS>', (c, st, cx) => {
      const v = cx.seconds(st, 0, min, 86400 * 365);
      if (v !== undefined) c[key] = v;
    });
  return [
    flag<T>('alpha', (c, v) => { c.alpha = v; }),
    time('connect_timeout', 'connectTimeoutMs', 0.000001),
    kw<T>('retry', 1, 1, '<0..>', (c, st, cx) => {
      const v = cx.uint(st, 0, 0, 2 ** 31 - 1);
      if (v !== undefined) c.retry = v;
    }),
    kw<T>('nb_get_retry', 1, 1, '<0..>', (c, st, cx) => {
      const v = cx.uint(st, 0, 0, 2 ** 31 - 1);
      if (v !== undefined) c.retry = v;
    }, { deprecated: '`nb_get_retry` is the keepalived 1.x name of `retry`' }),
    time('delay_before_retry', 'delayBeforeRetryMs', 0),
    time('warmup', 'warmupMs', 0),
    time('delay_loop', 'delayLoopMs', 0.000001),
    flag<T>('log_all_failures', (c, v) => { c.logAllFailures = v; }),
  ];
}

/** Connection options (not in MISC_CHECK). */
function connectionKeywords<T extends CheckerCommon>(): Keyword<T>[] {
  const port = (name: string, key: 'connectPort' | 'bindPort') => kw<T>(name, 1, 1, '<PORT>', (c, st, cx) => {
    const v = cx.uint(st, 0, 1, 65535);
    if (v !== undefined) c[key] = v;
  });
  const address = (name: string, key: 'connectIp' | 'bindTo') => kw<T>(name, 1, 1, '<IPADDR>', (c, st, cx) => {
    const a = cx.ip(arg(st, 0));
    if (a) c[key] = a.address;
  });
  return [
    address('connect_ip', 'connectIp'),
    port('connect_port', 'connectPort'),
    address('bindto', 'bindTo'),
    kw<T>('bind_if', 1, 1, '<IF>', (c, st) => { c.bindInterface = arg(st, 0).text; }),
    port('bind_port', 'bindPort'),
    kw<T>('fwmark', 1, 1, '<MARK>', (c, st, cx) => {
      const v = cx.uint(st, 0, 0, 0xffffffff);
      if (v !== undefined) c.fwmark = v;
    }),
    ...timingKeywords<T>(),
  ];
}

const CHECKERS_UNSUPPORTED = 'lvskit has no such checker; the real server would go unchecked';

export const TCP_CHECK = keywordTable<TcpCheck>('TCP_CHECK', connectionKeywords<TcpCheck>());

/** `status_code 200 300-399 ...`: codes 100..599 as inclusive ranges. */
const statusCode = kw<HttpUrl>('status_code', 1, Infinity, '<CODE|FROM-TO> ...', (u, st, cx) => {
  const ranges: { from: number; to: number }[] = [];
  for (const tok of st.args) {
    const m = /^(\d{3})(?:-(\d{3}))?$/.exec(tok.text);
    const from = Number(m?.[1]);
    const to = m?.[2] !== undefined ? Number(m[2]) : from;
    if (!m || from < 100 || to > 599 || to < from) cx.error(tok, `status_code expects codes 100..599 or ranges like 200-299, not \`${tok.text}\``);
    else ranges.push({ from, to });
  }
  if (ranges.length > 0) u.statusCodes = [...(u.statusCodes ?? []), ...ranges];
});

export const HTTP_URL = keywordTable<HttpUrl>('url', [
  kw('path', 1, 1, '<PATH>', (u, st) => { u.path = arg(st, 0).text; }),
  kw('digest', 1, 1, '<MD5 HEX>', (u, st, cx) => {
    const tok = arg(st, 0);
    if (!/^[0-9a-fA-F]{32}$/.test(tok.text)) cx.error(tok, `digest expects 32 hexadecimal digits (an MD5 from genhash), not \`${tok.text}\``);
    else u.digest = tok.text.toLowerCase();
  }),
  statusCode,
  kw('virtualhost', 1, 1, '<HOST>', (u, st) => { u.virtualhost = arg(st, 0).text; }),
  kw('regex', 1, 1, '<REGEX>', (u, st) => { u.regex = arg(st, 0).text; }),
  flag('regex_no_match', (u, v) => { u.regexNoMatch = v; }),
  kw('regex_options', 1, Infinity, '<OPTION> ...', (u, st) => { u.regexOptions = st.args.map((t) => t.text); }),
  kw('regex_stack', 2, 2, '<START> <MAX>', () => undefined, { deprecated: '`regex_stack` tunes PCRE2 JIT stacks; lvskit does not need it; ignored' }),
  kw('regex_min_offset', 1, 1, '<OFFSET>', (u, st, cx) => {
    const v = cx.uint(st, 0, 0, 2 ** 31 - 1);
    if (v !== undefined) u.regexMinOffset = v;
  }),
  kw('regex_max_offset', 1, 1, '<OFFSET>', (u, st, cx) => {
    const v = cx.uint(st, 0, 0, 2 ** 31 - 1);
    if (v !== undefined) u.regexMaxOffset = v;
  }),
]);

function httpKeywords(): Keyword<HttpCheck>[] {
  return [
    ...connectionKeywords<HttpCheck>(),
    kw('url', 0, 0, '{ path ... digest ... status_code ... }', (c, st, cx) => {
      const u: HttpUrl = { location: cx.loc(st.keyword) };
      cx.block(st, HTTP_URL, u);
      c.urls.push(u);
    }, { block: 'required' }),
    kw('http_protocol', 1, 1, '1.0|1.0C|1.1', (c, st, cx) => {
      const v = cx.oneOf(st, 0, ['1.0', '1.0C', '1.1'] as const, true);
      if (v) c.httpProtocol = v;
    }),
    flag('fast_recovery', (c, v) => { c.fastRecovery = v; }),
    kw('virtualhost', 1, 1, '<HOST>', (c, st) => { c.virtualhost = arg(st, 0).text; }),
  ];
}

export const HTTP_GET = keywordTable<HttpCheck>('HTTP_GET', httpKeywords());

export const SSL_GET = keywordTable<HttpCheck>('SSL_GET', [
  ...httpKeywords(),
  flag('enable_sni', (c, v) => { c.enableSni = v; }),
]);

export const MISC_CHECK = keywordTable<MiscCheck>('MISC_CHECK', [
  kw('misc_path', 1, Infinity, '<PATH>|"<PATH ARGS>" [user [group]]', (c, st, cx) => {
    const s = cx.script(st, 0);
    if (s) c.path = s;
  }),
  kw('misc_timeout', 1, 1, '<SECONDS>', (c, st, cx) => {
    const v = cx.seconds(st, 0, 0.000001, 86400);
    if (v !== undefined) c.timeoutMs = v;
  }),
  flag('misc_dynamic', (c, v) => { c.dynamic = v; }),
  kw('user', 1, 2, '<USER> [<GROUP>]', (c, st) => {
    c.user = arg(st, 0).text;
    if (st.args[1]) c.group = st.args[1].text;
  }),
  ...timingKeywords<MiscCheck>(),
]);

export const SSL = keywordTable<SslContext>('SSL', [
  kw('password', 1, 1, '<STRING>', (s, st) => { s.password = arg(st, 0).text; }),
  kw('ca', 1, 1, '<FILE>', (s, st) => { s.ca = arg(st, 0).text; }),
  kw('certificate', 1, 1, '<FILE>', (s, st) => { s.certificate = arg(st, 0).text; }),
  kw('key', 1, 1, '<FILE>', (s, st) => { s.key = arg(st, 0).text; }),
]);

/** Checker types keepalived has and lvskit does not. */
export const UNSUPPORTED_CHECKERS = ['SMTP_CHECK', 'DNS_CHECK', 'UDP_CHECK', 'PING_CHECK', 'FILE_CHECK', 'BFD_CHECK'] as const;
export { CHECKERS_UNSUPPORTED };
