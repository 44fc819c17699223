// layer: behaviour (check)
// job: validate checkers and virtual servers and resolve keepalived's defaults and inheritance; every rejection names its field.
import net from 'node:net';
import { encodeIPv4, encodeIPv6, formatIPv4, formatIPv6 } from '../bytes.js';
import type { ForwardingMethod, SinkDestination } from './sink.js';
import type { CheckDefaultsSpec, RealServerSpec, ResolvedChecker, ResolvedRealServer, ResolvedVirtualServer, VirtualServerSpec } from './spec.js';
import {
  CHECK_DEFAULTS, CHECK_KINDS, DNS_TYPES, type CheckConfig, type CheckSpec, type CheckTiming, type ConnectTarget, type DnsCheckSpec,
  type FileCheckSpec, type HttpCheckSpec, type HttpUrlCheck, type MiscCheckSpec, type PingCheckSpec, type SmtpCheckSpec, type StatusRange, type UdpCheckSpec,
} from './types.js';

/** A setting lvskit refuses, naming the field (`realServers[1].checkers[0].connectTimeoutMs`) and the value. */
export class CheckConfigError extends Error {
  override name = 'CheckConfigError';
  constructor(readonly field: string, readonly value: unknown, problem: string) {
    super(`${field}: ${problem}`);
  }
}

type Obj = Record<string, unknown>;

function knownKeys(obj: object, allowed: readonly string[], field: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) throw new CheckConfigError(`${field}.${key}`, (obj as Obj)[key], `unknown setting \`${key}\``);
  }
}

/** A duration in ms: finite, > 0 (or ≥ 0 with `zero`). */
function duration(value: unknown, field: string, zero = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!zero && value === 0)) {
    throw new CheckConfigError(field, value, `must be a number of milliseconds ${zero ? '≥ 0' : '> 0'}, not ${String(value)}`);
  }
  return value;
}

function integer(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new CheckConfigError(field, value, `must be an integer in ${min}..${max}, not ${String(value)}`);
  }
  return value;
}

function port(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
    throw new CheckConfigError(field, value, `port out of range 1..65535: ${String(value)}`);
  }
  return value;
}

/** An IPv4 or IPv6 address in canonical text (RFC 5952 for IPv6). */
export function canonicalAddress(value: unknown, field: string): string {
  const family = typeof value === 'string' ? net.isIP(value) : 0;
  if (family === 4) return formatIPv4(encodeIPv4(value as string, field));
  if (family === 6) return formatIPv6(encodeIPv6(value as string, field));
  throw new CheckConfigError(field, value, `not an IPv4 or IPv6 address: ${String(value)}`);
}

function forward(value: unknown, field: string): ForwardingMethod {
  if (value === 'dr' || value === 'nat' || value === 'tun') return value;
  throw new CheckConfigError(field, value, `forwarding method must be dr, nat or tun, not ${String(value)}`);
}

function argv(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((a) => typeof a === 'string') || value[0] === '') {
    throw new CheckConfigError(field, value, 'must be a non-empty argv list (program, then arguments; no shell)');
  }
  return [...value] as string[];
}

const TIMING_KEYS = ['delayLoopMs', 'retry', 'delayBeforeRetryMs', 'warmupMs', 'alpha'] as const;
const CONNECT_KEYS = ['connectIp', 'connectPort', 'bindTo', 'bindPort', 'connectTimeoutMs'] as const;
const HTTP_KEYS = ['kind', ...TIMING_KEYS, ...CONNECT_KEYS, 'urls', 'virtualhost', 'enableSni', 'verifyCertificate', 'ca', 'certificate', 'key', 'maxBodyBytes', 'attemptTimeoutMs'];
const MISC_KEYS = ['kind', ...TIMING_KEYS, 'argv', 'timeoutMs', 'dynamic', 'uid', 'gid', 'env', 'maxOutputBytes'];

/** Where a checker connects by default, and what it inherits. */
export interface CheckContext extends CheckDefaultsSpec {
  address?: string;
  port?: number;
}

function timing(spec: CheckSpec, ctx: CheckContext, field: string): CheckTiming {
  return {
    delayLoopMs: duration(spec.delayLoopMs ?? ctx.delayLoopMs ?? CHECK_DEFAULTS.delayLoopMs, `${field}.delayLoopMs`),
    retry: integer(spec.retry ?? ctx.retry ?? CHECK_DEFAULTS.retry, `${field}.retry`, 0, 2 ** 31 - 1),
    delayBeforeRetryMs: duration(spec.delayBeforeRetryMs ?? ctx.delayBeforeRetryMs ?? CHECK_DEFAULTS.delayBeforeRetryMs, `${field}.delayBeforeRetryMs`, true),
    warmupMs: duration(spec.warmupMs ?? ctx.warmupMs ?? CHECK_DEFAULTS.warmupMs, `${field}.warmupMs`, true),
  };
}

function target(spec: CheckSpec & { kind: 'TCP_CHECK' | 'HTTP_GET' | 'SSL_GET' | 'SMTP_CHECK' | 'UDP_CHECK' | 'DNS_CHECK' }, ctx: CheckContext, field: string): ConnectTarget {
  const ip = spec.connectIp ?? ctx.address;
  if (ip === undefined) throw new CheckConfigError(`${field}.connectIp`, ip, 'needed: no real server address to default to');
  const t: ConnectTarget = {
    connectIp: canonicalAddress(ip, `${field}.connectIp`),
    connectPort: port(spec.connectPort ?? ctx.port, `${field}.connectPort`),
    connectTimeoutMs: duration(spec.connectTimeoutMs ?? ctx.connectTimeoutMs ?? CHECK_DEFAULTS.connectTimeoutMs, `${field}.connectTimeoutMs`),
  };
  if (spec.bindTo !== undefined) t.bindTo = canonicalAddress(spec.bindTo, `${field}.bindTo`);
  if (spec.bindPort !== undefined) t.bindPort = port(spec.bindPort, `${field}.bindPort`);
  return t;
}

function statusRanges(value: unknown, field: string): StatusRange[] {
  if (value === undefined) return CHECK_DEFAULTS.statusCodes.map((r) => ({ ...r }));
  if (!Array.isArray(value) || value.length === 0) throw new CheckConfigError(field, value, 'must be a non-empty list of {from, to} ranges');
  return value.map((r: { from?: unknown; to?: unknown }, i) => {
    const from = integer(r?.from, `${field}[${i}].from`, 100, 599);
    const to = integer(r?.to, `${field}[${i}].to`, from, 599);
    return { from, to };
  });
}

function url(spec: unknown, field: string): HttpUrlCheck {
  if (spec === null || typeof spec !== 'object') throw new CheckConfigError(field, spec, 'must be an object');
  knownKeys(spec, ['path', 'statusCodes', 'digest', 'virtualhost'], field);
  const u = spec as Obj;
  const path = u.path ?? '/';
  if (typeof path !== 'string' || !path.startsWith('/') || /[\s]/.test(path)) throw new CheckConfigError(`${field}.path`, path, 'must start with / and hold no spaces');
  const out: HttpUrlCheck = { path, statusCodes: statusRanges(u.statusCodes, `${field}.statusCodes`) };
  if (u.digest !== undefined) {
    if (typeof u.digest !== 'string' || !/^[0-9a-fA-F]{32}$/.test(u.digest)) throw new CheckConfigError(`${field}.digest`, u.digest, 'must be 32 hexadecimal digits (an MD5)');
    out.digest = u.digest.toLowerCase();
  }
  if (u.virtualhost !== undefined) out.virtualhost = String(u.virtualhost);
  return out;
}

function httpCheck(spec: HttpCheckSpec, ctx: CheckContext, field: string): CheckConfig {
  knownKeys(spec, HTTP_KEYS, field);
  if (!Array.isArray(spec.urls) || spec.urls.length === 0) throw new CheckConfigError(`${field}.urls`, spec.urls, 'needs at least one url');
  const t = timing(spec, ctx, field);
  const c = target(spec, ctx, field);
  const config: CheckConfig = {
    kind: spec.kind, ...t, ...c,
    urls: spec.urls.map((u, i) => url(u, `${field}.urls[${i}]`)),
    maxBodyBytes: integer(spec.maxBodyBytes ?? CHECK_DEFAULTS.maxBodyBytes, `${field}.maxBodyBytes`, 1, 2 ** 31 - 1),
    attemptTimeoutMs: duration(spec.attemptTimeoutMs ?? Math.max(c.connectTimeoutMs, t.delayLoopMs), `${field}.attemptTimeoutMs`),
  };
  const host = spec.virtualhost ?? ctx.virtualhost;
  if (host !== undefined) config.virtualhost = host;
  for (const k of ['enableSni', 'verifyCertificate'] as const) if (spec[k] !== undefined) config[k] = spec[k] === true;
  for (const k of ['ca', 'certificate', 'key'] as const) if (spec[k] !== undefined) config[k] = String(spec[k]);
  return config;
}

function miscCheck(spec: MiscCheckSpec, ctx: CheckContext, field: string): CheckConfig {
  knownKeys(spec, MISC_KEYS, field);
  const t = timing(spec, ctx, field);
  const config: CheckConfig = {
    kind: 'MISC_CHECK', ...t,
    argv: argv(spec.argv, `${field}.argv`),
    timeoutMs: duration(spec.timeoutMs ?? t.delayLoopMs, `${field}.timeoutMs`),
    dynamic: spec.dynamic === true,
    maxOutputBytes: integer(spec.maxOutputBytes ?? CHECK_DEFAULTS.maxOutputBytes, `${field}.maxOutputBytes`, 0, 2 ** 31 - 1),
  };
  if (spec.uid !== undefined) config.uid = integer(spec.uid, `${field}.uid`, 0, 2 ** 32 - 2);
  if (spec.gid !== undefined) config.gid = integer(spec.gid, `${field}.gid`, 0, 2 ** 32 - 2);
  if (spec.env !== undefined) config.env = { ...spec.env };
  return config;
}

const FILE_KEYS = ['kind', ...TIMING_KEYS, 'path', 'weight', 'reverse', 'realServerWeight', 'trackFile'];

function fileCheck(spec: FileCheckSpec, ctx: CheckContext, field: string): CheckConfig {
  knownKeys(spec, FILE_KEYS, field);
  if (typeof spec.path !== 'string' || spec.path === '') throw new CheckConfigError(`${field}.path`, spec.path, 'must be the tracked file\'s path');
  const config: CheckConfig = {
    kind: 'FILE_CHECK', ...timing(spec, ctx, field), path: spec.path,
    weight: integer(spec.weight ?? 1, `${field}.weight`, -(2 ** 31 - 1), 2 ** 31 - 1),
    reverse: spec.reverse === true,
    realServerWeight: integer(spec.realServerWeight ?? 1, `${field}.realServerWeight`, 0, 2 ** 31 - 1),
  };
  if (spec.trackFile !== undefined) config.trackFile = String(spec.trackFile);
  return config;
}

const SMTP_KEYS = ['kind', ...TIMING_KEYS, ...CONNECT_KEYS, 'heloName'];
const UDP_KEYS = ['kind', ...TIMING_KEYS, ...CONNECT_KEYS, 'payloadHex', 'requireReply', 'replyHex', 'minReplyBytes', 'maxReplyBytes'];
const DNS_KEYS = ['kind', ...TIMING_KEYS, ...CONNECT_KEYS, 'type', 'name'];
const PING_KEYS = ['kind', ...TIMING_KEYS, 'connectIp', 'bindTo', 'connectTimeoutMs'];

function hex(value: unknown, field: string, wildcards: boolean): string {
  const re = wildcards ? /^(?:[0-9a-fx]{2})+$/ : /^(?:[0-9a-f]{2})+$/;
  if (typeof value !== 'string' || !re.test(value)) {
    throw new CheckConfigError(field, value, `must be lowercase hex, two digits a byte${wildcards ? ' (x: a nibble not compared)' : ''}`);
  }
  return value;
}

function smtpCheck(spec: SmtpCheckSpec, ctx: CheckContext, field: string): CheckConfig {
  knownKeys(spec, SMTP_KEYS, field);
  const helo = spec.heloName ?? CHECK_DEFAULTS.smtpHeloName;
  if (typeof helo !== 'string' || helo === '' || /[\r\n]/.test(helo)) throw new CheckConfigError(`${field}.heloName`, helo, 'must be a non-empty name without line breaks');
  return { kind: 'SMTP_CHECK', ...timing(spec, ctx, field), ...target(spec, ctx, field), heloName: helo };
}

function udpCheck(spec: UdpCheckSpec, ctx: CheckContext, field: string): CheckConfig {
  knownKeys(spec, UDP_KEYS, field);
  const minReplyBytes = integer(spec.minReplyBytes ?? 0, `${field}.minReplyBytes`, 0, 65535);
  const maxReplyBytes = integer(spec.maxReplyBytes ?? CHECK_DEFAULTS.udpMaxReplyBytes, `${field}.maxReplyBytes`, 0, 65535);
  if (minReplyBytes > maxReplyBytes) throw new CheckConfigError(`${field}.minReplyBytes`, minReplyBytes, `${minReplyBytes} is above maxReplyBytes ${maxReplyBytes}: every reply would fail`);
  const config: CheckConfig = {
    kind: 'UDP_CHECK', ...timing(spec, ctx, field), ...target(spec, ctx, field),
    requireReply: spec.requireReply === true || spec.replyHex !== undefined, minReplyBytes, maxReplyBytes,
  };
  if (spec.payloadHex !== undefined) config.payloadHex = hex(spec.payloadHex, `${field}.payloadHex`, false);
  if (spec.replyHex !== undefined) config.replyHex = hex(spec.replyHex, `${field}.replyHex`, true);
  return config;
}

function dnsCheck(spec: DnsCheckSpec, ctx: CheckContext, field: string): CheckConfig {
  knownKeys(spec, DNS_KEYS, field);
  const type = spec.type ?? CHECK_DEFAULTS.dnsType;
  if (!Object.hasOwn(DNS_TYPES, type)) throw new CheckConfigError(`${field}.type`, type, `must be one of ${Object.keys(DNS_TYPES).join(', ')}`);
  const name = spec.name ?? CHECK_DEFAULTS.dnsName;
  const labels = typeof name === 'string' && name !== '.' ? name.replace(/\.$/, '').split('.') : [];
  if (typeof name !== 'string' || name === '' || name.length > 253 || labels.some((l) => l.length < 1 || l.length > 63 || !/^[\x21-\x7e]+$/.test(l))) {
    throw new CheckConfigError(`${field}.name`, name, 'must be a domain name (labels of 1..63 printable characters, at most 253 in all) or `.`');
  }
  return { kind: 'DNS_CHECK', ...timing(spec, ctx, field), ...target(spec, ctx, field), type, name };
}

function pingCheck(spec: PingCheckSpec, ctx: CheckContext, field: string): CheckConfig {
  knownKeys(spec, PING_KEYS, field);
  const ip = spec.connectIp ?? ctx.address;
  if (ip === undefined) throw new CheckConfigError(`${field}.connectIp`, ip, 'needed: no real server address to default to');
  const config: CheckConfig = {
    kind: 'PING_CHECK', ...timing(spec, ctx, field),
    connectIp: canonicalAddress(ip, `${field}.connectIp`),
    connectTimeoutMs: duration(spec.connectTimeoutMs ?? ctx.connectTimeoutMs ?? CHECK_DEFAULTS.connectTimeoutMs, `${field}.connectTimeoutMs`),
  };
  if (spec.bindTo !== undefined) {
    config.bindTo = canonicalAddress(spec.bindTo, `${field}.bindTo`);
    if (config.bindTo.includes(':') !== config.connectIp.includes(':')) throw new CheckConfigError(`${field}.bindTo`, spec.bindTo, `${config.bindTo} is not of the family of ${config.connectIp}`);
  }
  return config;
}

/**
 * Validate one checker and resolve its defaults from `ctx` (the real server's address, port and
 * inherited settings). Throws CheckConfigError naming the field.
 */
export function validateCheck(spec: CheckSpec, ctx: CheckContext = {}, field = 'check'): ResolvedChecker {
  if (spec === null || typeof spec !== 'object') throw new CheckConfigError(field, spec, 'must be an object');
  const kind = (spec as { kind?: unknown }).kind;
  if (!CHECK_KINDS.includes(kind as never)) {
    throw new CheckConfigError(`${field}.kind`, kind, `unknown checker \`${String(kind)}\` (lvskit runs ${CHECK_KINDS.join(', ')})`);
  }
  const alpha = spec.alpha ?? ctx.alpha ?? false;
  if (spec.kind === 'TCP_CHECK') {
    knownKeys(spec, ['kind', ...TIMING_KEYS, ...CONNECT_KEYS], field);
    return { config: { kind: 'TCP_CHECK', ...timing(spec, ctx, field), ...target(spec, ctx, field) }, alpha };
  }
  if (spec.kind === 'MISC_CHECK') return { config: miscCheck(spec, ctx, field), alpha };
  if (spec.kind === 'SMTP_CHECK') return { config: smtpCheck(spec, ctx, field), alpha };
  if (spec.kind === 'UDP_CHECK') return { config: udpCheck(spec, ctx, field), alpha };
  if (spec.kind === 'DNS_CHECK') return { config: dnsCheck(spec, ctx, field), alpha };
  if (spec.kind === 'PING_CHECK') return { config: pingCheck(spec, ctx, field), alpha };
  if (spec.kind === 'FILE_CHECK') return { config: fileCheck(spec, ctx, field), alpha };
  return { config: httpCheck(spec, ctx, field), alpha };
}

const DEFAULT_KEYS = ['delayLoopMs', 'retry', 'delayBeforeRetryMs', 'warmupMs', 'connectTimeoutMs', 'alpha', 'virtualhost', 'inhibitOnFailure'];
const RS_KEYS = [...DEFAULT_KEYS, 'address', 'port', 'weight', 'forward', 'upperThreshold', 'lowerThreshold', 'tunnel', 'checkers', 'notifyUp', 'notifyDown'];
const VS_KEYS = [...DEFAULT_KEYS, 'id', 'service', 'port', 'forward', 'quorum', 'hysteresis', 'quorumUp', 'quorumDown', 'sorryServer', 'sorryServerInhibit', 'omega', 'realServers'];

/**
 * The defaults `inner` hands down: its own settings where given, else those of `outer`. Only the
 * default keys are copied (a virtual server's other fields, its real servers among them, are not
 * defaults: spreading the whole object for each of 10,000 real servers was a tenth of a reload).
 */
function inherit(outer: CheckDefaultsSpec, inner: CheckDefaultsSpec): CheckDefaultsSpec {
  const out: CheckDefaultsSpec = {};
  for (let i = 0; i < DEFAULT_KEYS.length; i++) {
    const k = DEFAULT_KEYS[i] as keyof CheckDefaultsSpec;
    const v = inner[k] !== undefined ? inner[k] : outer[k];
    if (v !== undefined) (out as Obj)[k] = v;
  }
  return out;
}

function realServer<S>(vs: VirtualServerSpec<S>, rs: RealServerSpec, field: string): ResolvedRealServer {
  if (rs === null || typeof rs !== 'object') throw new CheckConfigError(field, rs, 'must be an object');
  knownKeys(rs, RS_KEYS, field);
  const address = canonicalAddress(rs.address, `${field}.address`);
  const rsPort = integer(rs.port ?? vs.port, `${field}.port`, 0, 65535);
  const destination: SinkDestination = {
    address, port: rsPort,
    weight: integer(rs.weight ?? 1, `${field}.weight`, 0, 2 ** 31 - 1),
    forward: forward(rs.forward ?? vs.forward ?? 'nat', `${field}.forward`),
  };
  if (rs.upperThreshold !== undefined) destination.upperThreshold = integer(rs.upperThreshold, `${field}.upperThreshold`, 0, 2 ** 32 - 1);
  if (rs.lowerThreshold !== undefined) destination.lowerThreshold = integer(rs.lowerThreshold, `${field}.lowerThreshold`, 0, 2 ** 32 - 1);
  if (rs.tunnel !== undefined) destination.tunnel = { ...rs.tunnel };
  const defaults = inherit(vs, rs);
  const port = rsPort > 0 ? rsPort : vs.port;
  const ctx = { ...defaults, address, ...(port !== undefined ? { port } : {}) };
  const checkers = (rs.checkers ?? []).map((c, i) => validateCheck(c, ctx, `${field}.checkers[${i}]`));
  const out: ResolvedRealServer = { id: `${address.includes(':') ? `[${address}]` : address}:${rsPort}`, destination, inhibitOnFailure: defaults.inhibitOnFailure === true, checkers };
  if (rs.notifyUp !== undefined) out.notifyUp = argv(rs.notifyUp, `${field}.notifyUp`);
  if (rs.notifyDown !== undefined) out.notifyDown = argv(rs.notifyDown, `${field}.notifyDown`);
  return out;
}

function sorryServer<S>(vs: VirtualServerSpec<S>, field: string): SinkDestination | undefined {
  const s = vs.sorryServer;
  if (s === undefined) return undefined;
  if (s === null || typeof s !== 'object') throw new CheckConfigError(field, s, 'must be an object');
  knownKeys(s, ['address', 'port', 'weight', 'forward'], field);
  return {
    address: canonicalAddress(s.address, `${field}.address`),
    port: integer(s.port ?? vs.port, `${field}.port`, 0, 65535),
    weight: integer(s.weight ?? 1, `${field}.weight`, 0, 2 ** 31 - 1),
    forward: forward(s.forward ?? vs.forward ?? 'nat', `${field}.forward`),
  };
}

/** Validate a virtual server and resolve every default. Throws CheckConfigError naming the field. */
export function validateVirtualServer<S>(spec: VirtualServerSpec<S>, field = 'virtualServer'): ResolvedVirtualServer<S> {
  if (spec === null || typeof spec !== 'object') throw new CheckConfigError(field, spec, 'must be an object');
  knownKeys(spec, VS_KEYS, field);
  if (typeof spec.id !== 'string' || spec.id === '') throw new CheckConfigError(`${field}.id`, spec.id, 'must be a non-empty string');
  if (!Array.isArray(spec.realServers)) throw new CheckConfigError(`${field}.realServers`, spec.realServers, 'must be a list');
  const quorum = integer(spec.quorum ?? 1, `${field}.quorum`, 1, 2 ** 31 - 1);
  const hysteresis = integer(spec.hysteresis ?? 0, `${field}.hysteresis`, 0, 2 ** 31 - 1);
  const realServers = spec.realServers.map((rs, i) => realServer(spec, rs, `${field}.realServers[${i}]`));
  const seen = new Map<string, number>();
  realServers.forEach((rs, i) => {
    const first = seen.get(rs.id);
    if (first !== undefined) throw new CheckConfigError(`${field}.realServers[${i}]`, rs.id, `${rs.id} is already realServers[${first}]`);
    seen.set(rs.id, i);
  });
  const sorry = sorryServer(spec, `${field}.sorryServer`);
  if (sorry && realServers.some((rs) => rs.destination.address === sorry.address && rs.destination.port === sorry.port)) {
    throw new CheckConfigError(`${field}.sorryServer`, spec.sorryServer, 'is also one of the real servers');
  }
  const out: ResolvedVirtualServer<S> = {
    id: spec.id, service: spec.service, omega: spec.omega === true, realServers,
    policy: { quorum, hysteresis, sorryServerInhibit: spec.sorryServerInhibit === true, ...(sorry ? { sorryServer: sorry } : {}) },
  };
  if (spec.quorumUp !== undefined) out.quorumUp = argv(spec.quorumUp, `${field}.quorumUp`);
  if (spec.quorumDown !== undefined) out.quorumDown = argv(spec.quorumDown, `${field}.quorumDown`);
  return out;
}
