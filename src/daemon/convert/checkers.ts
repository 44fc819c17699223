// layer: config (pure, SSL files through the injectable reader)
// job: TCP_CHECK / HTTP_GET / SSL_GET / MISC_CHECK / SMTP_CHECK / UDP_CHECK / DNS_CHECK / PING_CHECK → src/check's CheckSpec, with keepalived's per-checker defaults; what the checkers cannot do is a located diagnostic.
import type { CheckSpec, ConnectSpec, DnsCheckSpec, FileCheckSpec, HttpCheckSpec, HttpUrlSpec, MiscCheckSpec, PingCheckSpec, SmtpCheckSpec, TimingSpec, UdpCheckSpec } from '../../check/types.js';
import type { SourceLocation } from '../../config/diagnostics.js';
import type { Checker, CheckerCommon, DnsCheck, FileCheck, GlobalDefs, HttpCheck, HttpUrl, KeepalivedConfig, MiscCheck, PingCheck, RealServer, SmtpCheck, UdpCheck, VirtualServer } from '../../config/model.js';
import type { ConfigReader } from '../../config/reader.js';
import { scriptUser, type ConversionLog } from './common.js';

/** keepalived's delay_loop default (check_data.c). */
export const DEFAULT_DELAY_LOOP_MS = 60_000;
/** keepalived's delay_before_retry default for HTTP_GET and SSL_GET (1 s for the others, src/check's own default). */
export const HTTP_DELAY_BEFORE_RETRY_MS = 3_000;
/** keepalived's retry default for DNS_CHECK (DNS_DEFAULT_RETRY). */
export const DNS_DEFAULT_RETRY = 3;
/** Largest SSL ca / certificate / key file read. */
const MAX_PEM_BYTES = 1 << 20;

/** A user (and group) id by name; undefined when there is none. */
export type UserLookup = (user: string, group?: string) => { uid: number; gid: number } | undefined;

/** Why a MISC_CHECK's program cannot run as uid:gid (undefined: it can); see HealthCheckConvertOptions.miscRefusal. */
export type MiscRefusal = (argv0: string, ids: { uid?: number; gid?: number }) => string | undefined;

/** What the checker conversion needs besides the model. */
export interface CheckerContext {
  config: KeepalivedConfig;
  log: ConversionLog;
  /** Where SSL ca / certificate / key files are read from. */
  reader: ConfigReader;
  users?: UserLookup;
  miscRefusal?: MiscRefusal;
  /** PEM text by file, read once per conversion. */
  pem: Map<string, string | undefined>;
}

type Timed = 'delayLoopMs' | 'retry' | 'delayBeforeRetryMs' | 'warmupMs';

/** A setting given on the checker, else the real server, else the virtual server. */
function inherited<K extends Timed | 'connectTimeoutMs'>(vs: VirtualServer, rs: RealServer, c: CheckerCommon, key: K): number | undefined {
  return c[key] ?? rs[key] ?? vs[key];
}

/**
 * Timing given on the checker itself; keepalived's per-kind defaults when no level gives one:
 * delay_before_retry 3 s for HTTP_GET/SSL_GET, retry 0 for MISC_CHECK, and warmup up to
 * delay_loop (keepalived spreads first checks over delay_loop unless `warmup 0`).
 */
function timing(vs: VirtualServer, rs: RealServer, c: CheckerCommon & { type: Checker['type'] }): TimingSpec {
  const t: TimingSpec = {};
  if (c.delayLoopMs !== undefined) t.delayLoopMs = c.delayLoopMs;
  if (c.retry !== undefined) t.retry = c.retry;
  else if (c.type === 'MISC_CHECK' && inherited(vs, rs, c, 'retry') === undefined) t.retry = 0;
  else if (c.type === 'DNS_CHECK' && inherited(vs, rs, c, 'retry') === undefined) t.retry = DNS_DEFAULT_RETRY;
  if (c.delayBeforeRetryMs !== undefined) t.delayBeforeRetryMs = c.delayBeforeRetryMs;
  else if ((c.type === 'HTTP_GET' || c.type === 'SSL_GET') && inherited(vs, rs, c, 'delayBeforeRetryMs') === undefined) t.delayBeforeRetryMs = HTTP_DELAY_BEFORE_RETRY_MS;
  if (c.warmupMs !== undefined) t.warmupMs = c.warmupMs;
  else if (inherited(vs, rs, c, 'warmupMs') === undefined) t.warmupMs = inherited(vs, rs, c, 'delayLoopMs') ?? DEFAULT_DELAY_LOOP_MS;
  if (c.alpha !== undefined) t.alpha = c.alpha;
  return t;
}

function connection(cx: CheckerContext, c: CheckerCommon, what: string): ConnectSpec {
  const out: ConnectSpec = {};
  if (c.connectIp !== undefined) out.connectIp = c.connectIp;
  if (c.connectPort !== undefined) out.connectPort = c.connectPort;
  if (c.bindTo !== undefined) out.bindTo = c.bindTo;
  if (c.bindPort !== undefined) out.bindPort = c.bindPort;
  if (c.connectTimeoutMs !== undefined) out.connectTimeoutMs = c.connectTimeoutMs;
  if (c.bindInterface !== undefined) cx.log.error(c.location, `${what}: bind_if ${c.bindInterface} is not supported (lvskit's checkers cannot bind to a device); the check would leave by another route`);
  if (c.fwmark !== undefined) cx.log.error(c.location, `${what}: fwmark ${c.fwmark} is not supported (lvskit's checkers cannot mark their packets); the check would leave by another route`);
  return out;
}

function url(cx: CheckerContext, u: HttpUrl, what: string): HttpUrlSpec {
  const out: HttpUrlSpec = {};
  if (u.path !== undefined) out.path = u.path;
  if (u.statusCodes !== undefined) out.statusCodes = u.statusCodes.map((r) => ({ from: r.from, to: r.to }));
  if (u.digest !== undefined) out.digest = u.digest;
  if (u.virtualhost !== undefined) out.virtualhost = u.virtualhost;
  if (u.regex !== undefined) {
    cx.log.error(u.location, `${what}: url regex is not supported by lvskit's HTTP checker; a page that keepalived fails would pass`);
  }
  return out;
}

function pemOf(cx: CheckerContext, file: string, at: SourceLocation): string | undefined {
  if (!cx.pem.has(file)) {
    let text: string | undefined;
    try {
      const bytes = cx.reader.readFile(file, MAX_PEM_BYTES).bytes;
      if (bytes) text = Buffer.from(bytes).toString('utf8');
      else cx.log.error(at, `SSL: ${file} is not a regular file of at most ${MAX_PEM_BYTES} bytes`, 'io');
    } catch (error) {
      cx.log.error(at, `SSL: cannot read ${file}: ${(error as Error).message}`, 'io');
    }
    cx.pem.set(file, text);
  }
  return cx.pem.get(file);
}

/** The top-level SSL block's files for SSL_GET (read once). keepalived does not verify the server, nor does lvskit by default. */
function sslContext(cx: CheckerContext, spec: HttpCheckSpec): void {
  const ssl = cx.config.ssl;
  if (!ssl) return;
  for (const key of ['ca', 'certificate', 'key'] as const) {
    const file = ssl[key];
    if (file === undefined) continue;
    const text = pemOf(cx, file, ssl.location);
    if (text !== undefined) spec[key] = text;
  }
  if (ssl.password !== undefined && ssl.key !== undefined) {
    cx.log.error(ssl.location, 'SSL password: lvskit\'s SSL_GET cannot decrypt a key with a password; use an unencrypted key');
  }
}

function httpCheck(cx: CheckerContext, c: HttpCheck, what: string): HttpCheckSpec {
  const spec: HttpCheckSpec = { kind: c.type, ...connection(cx, c, what), urls: c.urls.map((u) => url(cx, u, what)) };
  if (c.virtualhost !== undefined) spec.virtualhost = c.virtualhost;
  if (c.type === 'SSL_GET') {
    if (c.enableSni !== undefined) spec.enableSni = c.enableSni;
    sslContext(cx, spec);
  }
  if (c.httpProtocol !== undefined && c.httpProtocol !== '1.1') {
    cx.log.warning(c.location, `${what}: http_protocol ${c.httpProtocol}: lvskit sends HTTP/1.1 requests with Connection: close`);
  }
  return spec;
}

function miscCheck(cx: CheckerContext, c: MiscCheck, what: string, g: GlobalDefs): MiscCheckSpec | undefined {
  if (!c.path) return undefined; // config validation reports it
  const spec: MiscCheckSpec = { kind: 'MISC_CHECK', argv: [...c.path.argv] };
  if (c.timeoutMs !== undefined) spec.timeoutMs = c.timeoutMs;
  if (c.dynamic !== undefined) spec.dynamic = c.dynamic;
  const { user, group } = c.user !== undefined ? { user: c.user, group: c.group } : scriptUser(c.path, g);
  if (user !== undefined && user !== 'root' && user !== '0') {
    const ids = /^\d+$/.test(user) ? { uid: Number(user), gid: group !== undefined && /^\d+$/.test(group) ? Number(group) : Number(user) } : cx.users?.(user, group);
    if (ids) {
      spec.uid = ids.uid;
      spec.gid = ids.gid;
    } else {
      cx.log.error(c.location, `${what}: no user ${user}${group !== undefined ? ` or group ${group}` : ''} to run misc_path as`, 'invalid-value');
    }
  }
  const refused = cx.miscRefusal?.(spec.argv[0] ?? '', { ...(spec.uid !== undefined ? { uid: spec.uid, gid: spec.gid ?? spec.uid } : {}) });
  if (refused !== undefined) {
    cx.log.warning(c.location, `${what} disabled: ${refused}; the real server keeps its state as if it had no such checker (keepalived disables it "since not found/accessible")`, 'preflight');
    return undefined;
  }
  return spec;
}

/** A host block over its SMTP_CHECK: the block's own settings, else the checker's. */
function smtpHost(c: SmtpCheck, h: CheckerCommon): CheckerCommon & { type: 'SMTP_CHECK' } {
  const out: CheckerCommon & { type: 'SMTP_CHECK' } = { type: 'SMTP_CHECK', location: h.location };
  for (const [k, v] of Object.entries(c)) if (v !== undefined && k !== 'hosts' && k !== 'heloName' && k !== 'type' && k !== 'location') (out as unknown as Record<string, unknown>)[k] = v;
  for (const [k, v] of Object.entries(h)) if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  return out;
}

/**
 * SMTP_CHECK as keepalived 2.2 expands it (check_smtp.c): each `host { }` is a checker of its own
 * (the SMTP_CHECK's settings under the block's); the SMTP_CHECK itself is one more only when it
 * names a connection of its own (connect_ip, connect_port, bindto, bind_port) or has no host block.
 */
function smtpChecks(cx: CheckerContext, vs: VirtualServer, rs: RealServer, c: SmtpCheck, what: string): { spec: SmtpCheckSpec; location: CheckerCommon['location'] }[] {
  const own = c.connectIp !== undefined || c.connectPort !== undefined || c.bindTo !== undefined || c.bindPort !== undefined;
  const blocks: (CheckerCommon & { type: 'SMTP_CHECK' })[] = [...(own || c.hosts.length === 0 ? [{ ...c, type: 'SMTP_CHECK' as const }] : []), ...c.hosts.map((h) => smtpHost(c, h))];
  return blocks.map((b) => {
    const spec: SmtpCheckSpec = { kind: 'SMTP_CHECK', ...connection(cx, b, what), ...timing(vs, rs, b) };
    if (c.heloName !== undefined) spec.heloName = c.heloName;
    return { spec, location: b.location };
  });
}

function udpCheck(cx: CheckerContext, c: UdpCheck, what: string): UdpCheckSpec {
  const spec: UdpCheckSpec = { kind: 'UDP_CHECK', ...connection(cx, c, what) };
  if (c.payload !== undefined) spec.payloadHex = c.payload;
  if (c.requireReply !== undefined) spec.requireReply = c.requireReply;
  if (c.replyPattern !== undefined) spec.replyHex = c.replyPattern;
  if (c.minReplyLength !== undefined) spec.minReplyBytes = c.minReplyLength;
  if (c.maxReplyLength !== undefined) spec.maxReplyBytes = c.maxReplyLength;
  if (!c.requireReply && (c.minReplyLength !== undefined || c.maxReplyLength !== undefined)) {
    cx.log.warning(c.location, `${what}: min_reply_length / max_reply_length without require_reply are not checked (silence is success)`);
  }
  return spec;
}

function dnsCheck(cx: CheckerContext, c: DnsCheck, what: string): DnsCheckSpec {
  const spec: DnsCheckSpec = { kind: 'DNS_CHECK', ...connection(cx, c, what) };
  if (c.queryType !== undefined) spec.type = c.queryType;
  if (c.name !== undefined) spec.name = c.name;
  return spec;
}

function pingCheck(cx: CheckerContext, c: PingCheck, what: string): PingCheckSpec {
  const { connectIp, bindTo, connectTimeoutMs } = connection(cx, c, what);
  const spec: PingCheckSpec = { kind: 'PING_CHECK' };
  if (connectIp !== undefined) spec.connectIp = connectIp;
  if (bindTo !== undefined) spec.bindTo = bindTo;
  if (connectTimeoutMs !== undefined) spec.connectTimeoutMs = connectTimeoutMs;
  if (c.connectPort !== undefined || c.bindPort !== undefined) cx.log.warning(c.location, `${what}: connect_port / bind_port mean nothing to an ICMP echo; ignored`);
  return spec;
}

/**
 * FILE_CHECK: the track_file's path, the weight (FILE_CHECK's, else the track_file's, else 1) and
 * the real server's weight it moves. It is read every delay_loop with no retry and no warmup: a
 * new value counts at the next read (keepalived reads it on inotify events).
 */
function fileCheck(cx: CheckerContext, rs: RealServer, c: FileCheck, t: TimingSpec): FileCheckSpec | undefined {
  const file = cx.config.trackFiles?.find((f) => f.name === c.trackFile);
  if (!file?.file) return undefined; // config validation reports it
  const weight = c.weight ?? file.weight ?? 1;
  const reverse = c.weight !== undefined ? c.weightReverse === true : file.weightReverse === true;
  const { alpha: _alpha, ...timing } = t;
  return { kind: 'FILE_CHECK', ...timing, retry: 0, warmupMs: 0, path: file.file, weight, reverse, realServerWeight: rs.weight ?? 1, trackFile: file.name };
}

/**
 * The checkers one checker block stands for, as src/check takes them, each with the line it came
 * from (an SMTP_CHECK with host blocks is several). Empty when the model lacks what it needs
 * (config validation said so).
 */
export function checkerSpecs(cx: CheckerContext, vs: VirtualServer, rs: RealServer, c: Checker): { spec: CheckSpec; location: CheckerCommon['location'] }[] {
  const what = `${c.type} of real_server ${rs.address}`;
  if (c.type === 'SMTP_CHECK') return smtpChecks(cx, vs, rs, c, what);
  const t = timing(vs, rs, c);
  const one = (spec: CheckSpec | undefined) => (spec ? [{ spec, location: c.location }] : []);
  switch (c.type) {
    case 'TCP_CHECK': return one({ kind: 'TCP_CHECK', ...connection(cx, c, what), ...t });
    case 'MISC_CHECK': {
      const spec = miscCheck(cx, c, what, cx.config.globalDefs);
      return one(spec ? { ...spec, ...t } : undefined);
    }
    case 'UDP_CHECK': return one({ ...udpCheck(cx, c, what), ...t });
    case 'DNS_CHECK': return one({ ...dnsCheck(cx, c, what), ...t });
    case 'PING_CHECK': return one({ ...pingCheck(cx, c, what), ...t });
    case 'FILE_CHECK': return one(fileCheck(cx, rs, c, t));
    case 'HTTP_GET':
    case 'SSL_GET': return one({ ...httpCheck(cx, c, what), ...t });
  }
}

/** `user:x:uid:gid:...` lines of /etc/passwd and `group:x:gid:...` of /etc/group → a UserLookup. */
export function passwdLookup(passwd: string, groups = ''): UserLookup {
  const users = new Map<string, { uid: number; gid: number }>();
  for (const line of passwd.split('\n')) {
    const [name, , uid, gid] = line.split(':');
    if (name && uid !== undefined && gid !== undefined && /^\d+$/.test(uid) && /^\d+$/.test(gid)) users.set(name, { uid: Number(uid), gid: Number(gid) });
  }
  const gids = new Map<string, number>();
  for (const line of groups.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name && gid !== undefined && /^\d+$/.test(gid)) gids.set(name, Number(gid));
  }
  return (user, group) => {
    const u = users.get(user);
    if (!u) return undefined;
    if (group === undefined) return u;
    const gid = /^\d+$/.test(group) ? Number(group) : gids.get(group);
    return gid === undefined ? undefined : { uid: u.uid, gid };
  };
}
