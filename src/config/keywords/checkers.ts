// layer: config (pure)
// job: keyword tables of the health checkers (TCP_CHECK, HTTP_GET, SSL_GET with url blocks, MISC_CHECK, SMTP_CHECK with host blocks, UDP_CHECK, DNS_CHECK, PING_CHECK, FILE_CHECK) and of `SSL`.
import { HexStringError, readHexString } from '../hex-string.js';
import type { CheckerCommon, DnsCheck, FileCheck, HttpCheck, HttpUrl, MiscCheck, PingCheck, SmtpCheck, SmtpHost, SslContext, TcpCheck, UdpCheck } from '../model.js';
import type { Token } from '../lexer.js';
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

export const SMTP_HOST = keywordTable<SmtpHost>('host', connectionKeywords<SmtpHost>());

export const SMTP_CHECK = keywordTable<SmtpCheck>('SMTP_CHECK', [
  ...connectionKeywords<SmtpCheck>(),
  kw('helo_name', 1, 1, '<STRING>|<QUOTED-STRING>', (c, st) => { c.heloName = arg(st, 0).text; }),
  kw('host', 0, 0, '{ connect_ip ... connect_port ... bindto ... }', (c, st, cx) => {
    const h: SmtpHost = { location: cx.loc(st.keyword) };
    cx.block(st, SMTP_HOST, h);
    c.hosts.push(h);
  }, { block: 'required', deprecated: 'keepalived 2.2 deprecates the SMTP_CHECK host block (each host is a checker of its own); prefer one SMTP_CHECK per host' }),
]);

/** `payload` / `require_reply` hex: the statement's words joined, as keepalived reads them. */
function hexArgument(st: { args: Token[] }, cx: { error(tok: Token, message: string): void }, wildcards: boolean, what: string): string | undefined {
  const first = st.args[0];
  if (!first) return undefined;
  try {
    return readHexString(st.args.map((a) => a.text).join(' '), wildcards);
  } catch (error) {
    if (!(error instanceof HexStringError)) throw error;
    cx.error(first, `${what} expects a hex string such as \`01 ab23\`${wildcards ? ' (x: any nibble)' : ''}: ${error.message}`);
    return undefined;
  }
}

const replyLength = (name: string, key: 'minReplyLength' | 'maxReplyLength') => kw<UdpCheck>(name, 1, 1, '<0..65535>', (c, st, cx) => {
  const v = cx.uint(st, 0, 0, 65535);
  if (v !== undefined) c[key] = v;
});

export const UDP_CHECK = keywordTable<UdpCheck>('UDP_CHECK', [
  ...connectionKeywords<UdpCheck>(),
  kw('payload', 1, Infinity, '<HEX_STR>', (c, st, cx) => {
    const v = hexArgument(st, cx, false, 'payload');
    if (v !== undefined) c.payload = v;
  }),
  kw('require_reply', 0, Infinity, '[<HEX_STR>]', (c, st, cx) => {
    c.requireReply = true;
    if (st.args.length === 0) return;
    const v = hexArgument(st, cx, true, 'require_reply');
    if (v !== undefined) c.replyPattern = v;
  }),
  replyLength('min_reply_length', 'minReplyLength'),
  replyLength('max_reply_length', 'maxReplyLength'),
]);

const DNS_QUERY_TYPES = ['A', 'NS', 'CNAME', 'SOA', 'MX', 'TXT', 'AAAA'] as const;

export const DNS_CHECK = keywordTable<DnsCheck>('DNS_CHECK', [
  ...connectionKeywords<DnsCheck>(),
  kw('type', 1, 1, DNS_QUERY_TYPES.join('|'), (c, st, cx) => {
    const v = cx.oneOf(st, 0, DNS_QUERY_TYPES, true);
    if (v) c.queryType = v;
  }),
  kw('name', 1, 1, '<STRING>', (c, st, cx) => {
    const tok = arg(st, 0);
    const labels = tok.text === '.' ? [] : tok.text.replace(/\.$/, '').split('.');
    if (tok.text.length > 253 || labels.some((l) => l.length < 1 || l.length > 63)) cx.error(tok, `name expects a domain name (labels of 1..63 characters) or \`.\`, not \`${tok.text}\``);
    else c.name = tok.text;
  }),
]);

export const PING_CHECK = keywordTable<PingCheck>('PING_CHECK', connectionKeywords<PingCheck>());

/** FILE_CHECK: only these two keywords (keepalived's check_file.c); its timing is the real server's. */
export const FILE_CHECK = keywordTable<FileCheck>('FILE_CHECK', [
  kw('track_file', 1, 1, '<NAME>', (c, st) => { c.trackFile = arg(st, 0).text; }),
  kw('weight', 1, 2, '<-2147483647..2147483647> [reverse|noreverse]', (c, st, cx) => {
    const v = cx.int(st, 0, -(2 ** 31 - 1), 2 ** 31 - 1);
    if (v === undefined) return;
    const how = st.args[1] ? cx.oneOf(st, 1, ['reverse', 'noreverse'] as const) : 'noreverse';
    if (how === undefined) return; // keepalived ignores the whole line
    c.weight = v;
    c.weightReverse = how === 'reverse';
  }),
]);

/** Checker types keepalived has and lvskit does not, with why. */
export const UNSUPPORTED_CHECKERS = [
  { name: 'BFD_CHECK', reason: `lvskit has no BFD; ${CHECKERS_UNSUPPORTED.replace('lvskit has no such checker; ', '')}` },
] as const;
