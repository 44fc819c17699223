// layer: behaviour (check)
// job: the health checkers' settings (as given, and resolved with keepalived's defaults) and the result of one attempt.
import type { AttemptSignal } from './signal.js';

/** The checker keywords lvskit runs (keepalived's names). */
export const CHECK_KINDS = ['TCP_CHECK', 'HTTP_GET', 'SSL_GET', 'MISC_CHECK', 'SMTP_CHECK', 'UDP_CHECK', 'DNS_CHECK', 'PING_CHECK', 'FILE_CHECK'] as const;
/** The checker kinds lvskit runs, with keepalived's names. */
export type CheckKind = (typeof CHECK_KINDS)[number];

/** When a checker runs and how it decides (keepalived's names in the doc comments). */
export interface CheckTiming {
  /** `delay_loop`: time between checks, from the end of one to the start of the next. */
  delayLoopMs: number;
  /** `retry` (`nb_get_retry`): further attempts after a failure before an UP checker turns DOWN. */
  retry: number;
  /** `delay_before_retry`: time between those attempts. */
  delayBeforeRetryMs: number;
  /** `warmup`: the first check starts at a random time in [0, warmupMs). 0: spread by the jitter. */
  warmupMs: number;
}

/** Where a connecting checker connects, and from where. */
export interface ConnectTarget {
  /** `connect_ip` (default: the real server's address). */
  connectIp: string;
  /** `connect_port` (default: the real server's port). */
  connectPort: number;
  /** `bindto`: local source address. */
  bindTo?: string;
  /** `bind_port`: local source port. */
  bindPort?: number;
  /** `connect_timeout`: the TCP (and TLS) handshake must end within this. */
  connectTimeoutMs: number;
}

/** `TCP_CHECK`: success = the connection is established (then closed at once). */
export interface TcpCheckConfig extends CheckTiming, ConnectTarget {
  kind: 'TCP_CHECK';
}

/** An inclusive range of HTTP status codes (`status_code 200-299`). */
export interface StatusRange {
  from: number;
  to: number;
}

/** One `url { ... }` block: every url of a checker must pass. */
export interface HttpUrlCheck {
  /** `path`, e.g. `/health`. */
  path: string;
  /** `status_code`; default 200-299. */
  statusCodes: StatusRange[];
  /** `digest`: MD5 of the response body as 32 lowercase hex digits (what keepalived's genhash prints). */
  digest?: string;
  /** `virtualhost` of this url (overrides the checker's). */
  virtualhost?: string;
}

/** `HTTP_GET` / `SSL_GET`. */
export interface HttpCheckConfig extends CheckTiming, ConnectTarget {
  kind: 'HTTP_GET' | 'SSL_GET';
  urls: HttpUrlCheck[];
  /** `virtualhost`: the Host header (default `connect_ip:connect_port`). */
  virtualhost?: string;
  /** SSL_GET `enable_sni`: send the virtualhost as TLS server name. */
  enableSni?: boolean;
  /** Verify the server's certificate chain (and name, when SNI is on). Default false, as keepalived. */
  verifyCertificate?: boolean;
  /** PEM: trusted CA (SSL `ca`), client certificate and key (SSL `certificate`, `key`). */
  ca?: string;
  certificate?: string;
  key?: string;
  /** Bytes of body read at most; with a digest a longer body fails, without one the rest is not read. */
  maxBodyBytes: number;
  /** The whole attempt (every url) must end within this; a server that trickles bytes fails with `deadline`. */
  attemptTimeoutMs: number;
}

/** `MISC_CHECK`: run a program (never through a shell); exit 0 = success. */
export interface MiscCheckConfig extends CheckTiming {
  kind: 'MISC_CHECK';
  /** `misc_path` split into program and arguments. */
  argv: string[];
  /** `misc_timeout`: the process group is killed (SIGKILL) after this. Default: delay_loop. */
  timeoutMs: number;
  /** `misc_dynamic`: exit 2..255 is success with weight = code − 2; exit 1 failure; exit 0 success. */
  dynamic: boolean;
  /** Run as this user / group id (`user`). */
  uid?: number;
  gid?: number;
  /** Environment (default: the parent's). */
  env?: Record<string, string>;
  /** Output (stdout and stderr) kept for the failure message; the rest is read and dropped. */
  maxOutputBytes: number;
}

/**
 * `FILE_CHECK`: the number a file holds (a `track_file`'s, read as keepalived reads it) moves the
 * real server's weight: UP with weight realServerWeight + value × weight (× −1 reversed, kept in
 * 0..2³¹−1); weight 0: DOWN while the value is non-zero (reversed: while it is zero).
 */
export interface FileCheckConfig extends CheckTiming {
  kind: 'FILE_CHECK';
  /** The tracked file. */
  path: string;
  /** The multiplier of the file's value (keepalived: FILE_CHECK's `weight`, else the track_file's, default 1). */
  weight: number;
  reverse: boolean;
  /** The real server's configured weight, which the value moves. */
  realServerWeight: number;
  /** The `track_file`'s name (for messages). */
  trackFile?: string;
}

/** `SMTP_CHECK`: connect, read the 220 greeting, `HELO helo_name` → 250, `QUIT` → any reply. */
export interface SmtpCheckConfig extends CheckTiming, ConnectTarget {
  kind: 'SMTP_CHECK';
  /** `helo_name` (keepalived's default `smtpchecker.keepalived.org`). */
  heloName: string;
}

/**
 * `UDP_CHECK`: send `payload` on a connected UDP socket. An ICMP error (port, host or network
 * unreachable) fails; with `requireReply` a reply must come within connect_timeout (and match
 * `reply` and the length bounds); without it silence is success.
 */
export interface UdpCheckConfig extends CheckTiming, ConnectTarget {
  kind: 'UDP_CHECK';
  /** `payload` as lowercase hex (default: 16 random bytes per attempt, keepalived sends random data). */
  payloadHex?: string;
  /** `require_reply`. */
  requireReply: boolean;
  /** `require_reply <HEX_STR>`: lowercase hex where `x` is a nibble that is not compared. */
  replyHex?: string;
  /** `min_reply_length` (default 0) and `max_reply_length` (default 255): bytes, checked when a reply is required. */
  minReplyBytes: number;
  maxReplyBytes: number;
}

/** DNS query types DNS_CHECK sends (keepalived's list) and their numbers (RFC 1035, RFC 3596). */
export const DNS_TYPES = { A: 1, NS: 2, CNAME: 5, SOA: 6, MX: 15, TXT: 16, AAAA: 28 } as const;
/** A DNS_CHECK query type (keepalived's `type`). */
export type DnsType = keyof typeof DNS_TYPES;

/** `DNS_CHECK`: one query over UDP; a reply with the query's id and RCODE NOERROR is success. */
export interface DnsCheckConfig extends CheckTiming, ConnectTarget {
  kind: 'DNS_CHECK';
  /** `type` (default SOA). */
  type: DnsType;
  /** `name` (default `.`). */
  name: string;
}

/** `PING_CHECK`: one ICMP (ICMPv6) echo request over a raw socket; the matching echo reply within connect_timeout is success. */
export interface PingCheckConfig extends CheckTiming {
  kind: 'PING_CHECK';
  connectIp: string;
  bindTo?: string;
  connectTimeoutMs: number;
}

/** A resolved checker: every default filled in, validated. */
export type CheckConfig = TcpCheckConfig | HttpCheckConfig | MiscCheckConfig | SmtpCheckConfig | UdpCheckConfig | DnsCheckConfig | PingCheckConfig | FileCheckConfig;

/** Timing as a user gives it: anything left out comes from the real server, the virtual server, or keepalived's default. */
export interface TimingSpec {
  delayLoopMs?: number;
  retry?: number;
  delayBeforeRetryMs?: number;
  warmupMs?: number;
  /** keepalived `alpha`: the checker counts as DOWN until its first success. */
  alpha?: boolean;
}

/** Connection settings as a user gives them; connectIp/connectPort default to the real server. */
export interface ConnectSpec {
  connectIp?: string;
  connectPort?: number;
  bindTo?: string;
  bindPort?: number;
  connectTimeoutMs?: number;
}

/** A TCP_CHECK as given: the server is up when a TCP connect succeeds. */
export interface TcpCheckSpec extends TimingSpec, ConnectSpec {
  kind: 'TCP_CHECK';
}

/** One URL of an HTTP checker: path, expected status codes, optional MD5 digest of the body. */
export interface HttpUrlSpec {
  /** Default `/`. */
  path?: string;
  statusCodes?: StatusRange[];
  digest?: string;
  virtualhost?: string;
}

/** An HTTP_GET or SSL_GET checker as given: URLs with expected status and digest, TLS options. */
export interface HttpCheckSpec extends TimingSpec, ConnectSpec {
  kind: 'HTTP_GET' | 'SSL_GET';
  urls: HttpUrlSpec[];
  virtualhost?: string;
  enableSni?: boolean;
  verifyCertificate?: boolean;
  ca?: string;
  certificate?: string;
  key?: string;
  maxBodyBytes?: number;
  /** Default: max(connect_timeout, delay_loop). */
  attemptTimeoutMs?: number;
}

/** A MISC_CHECK as given: a program whose exit status is the verdict (and weight, when dynamic). */
export interface MiscCheckSpec extends TimingSpec {
  kind: 'MISC_CHECK';
  argv: string[];
  /** Default: delay_loop. */
  timeoutMs?: number;
  dynamic?: boolean;
  uid?: number;
  gid?: number;
  env?: Record<string, string>;
  maxOutputBytes?: number;
}

/** SMTP_CHECK: connect, 220 greeting, HELO → 250, QUIT. */
export interface SmtpCheckSpec extends TimingSpec, ConnectSpec {
  kind: 'SMTP_CHECK';
  heloName?: string;
}

/** UDP_CHECK: a payload sent on a connected socket; ICMP errors fail it; a reply required and matched if asked. */
export interface UdpCheckSpec extends TimingSpec, ConnectSpec {
  kind: 'UDP_CHECK';
  payloadHex?: string;
  requireReply?: boolean;
  replyHex?: string;
  minReplyBytes?: number;
  maxReplyBytes?: number;
}

/** DNS_CHECK: one query over UDP; the reply must carry its id and RCODE NOERROR. */
export interface DnsCheckSpec extends TimingSpec, ConnectSpec {
  kind: 'DNS_CHECK';
  type?: DnsType;
  name?: string;
}

/** PING_CHECK: one ICMP/ICMPv6 echo per attempt over a raw socket. */
export interface PingCheckSpec extends TimingSpec {
  kind: 'PING_CHECK';
  connectIp?: string;
  bindTo?: string;
  connectTimeoutMs?: number;
}

/** FILE_CHECK as given: a file whose number moves the real server's weight. */
export interface FileCheckSpec extends TimingSpec {
  kind: 'FILE_CHECK';
  path: string;
  /** Default 1. */
  weight?: number;
  reverse?: boolean;
  /** Default 1 (keepalived's real_server weight). */
  realServerWeight?: number;
  trackFile?: string;
}

/** A checker as a user writes it (validateCheck resolves it into a CheckConfig). */
export type CheckSpec = TcpCheckSpec | HttpCheckSpec | MiscCheckSpec | SmtpCheckSpec | UdpCheckSpec | DnsCheckSpec | PingCheckSpec | FileCheckSpec;

/** keepalived's defaults (check_data.c / check_api.c), and lvskit's own bounds. */
export const CHECK_DEFAULTS = {
  delayLoopMs: 60_000,
  retry: 1,
  delayBeforeRetryMs: 1_000,
  warmupMs: 0,
  connectTimeoutMs: 5_000,
  maxBodyBytes: 1 << 20,
  maxOutputBytes: 4096,
  smtpHeloName: 'smtpchecker.keepalived.org',
  udpMaxReplyBytes: 255,
  dnsType: 'SOA' as DnsType,
  dnsName: '.',
  statusCodes: [{ from: 200, to: 299 }] as readonly StatusRange[],
} as const;

/** Why an attempt failed. */
export type FailureReason =
  /** RST to the SYN (nothing listens). */
  | 'refused'
  /** No route, host or network unreachable (ICMP or local routing). */
  | 'unreachable'
  /** The handshake did not finish within connect_timeout (SYN dropped, backlog full). */
  | 'connect-timeout'
  /** Any other connect error (errno in the failure). */
  | 'connect-error'
  /** The TLS handshake failed (or the certificate was rejected when verification is on). */
  | 'tls-error'
  /** Connected, then no byte for connect_timeout (half-open server, headers never sent). */
  | 'response-timeout'
  /** The whole attempt ran past its bound (the scheduler aborted it). */
  | 'deadline'
  /** The server closed or reset the connection before a complete response. */
  | 'closed'
  /** Not an HTTP response. */
  | 'protocol-error'
  /** A status code outside status_code. */
  | 'status'
  /** The body's MD5 differs from digest. */
  | 'digest'
  /** A digest is configured and the body is longer than maxBodyBytes. */
  | 'body-too-large'
  /** MISC_CHECK exited with a failing code. */
  | 'exit-code'
  /** MISC_CHECK died from a signal. */
  | 'signal'
  /** MISC_CHECK ran past misc_timeout; its process group was killed. */
  | 'misc-timeout'
  /** MISC_CHECK could not be started (ENOENT, EACCES). */
  | 'spawn-error'
  /** SMTP_CHECK: the greeting was not 220, or HELO not answered 250. */
  | 'smtp-reply'
  /** UDP_CHECK with require_reply, DNS_CHECK, PING_CHECK: no (matching) reply within connect_timeout. */
  | 'no-reply'
  /** UDP_CHECK: the reply's length or bytes differ from what require_reply / min/max_reply_length ask. */
  | 'reply-mismatch'
  /** UDP_CHECK / DNS_CHECK: an ICMP port unreachable came back (nothing listens on the port). */
  | 'port-unreachable'
  /** DNS_CHECK: the answer's RCODE is not NOERROR. */
  | 'dns-rcode'
  /** PING_CHECK: the raw ICMP socket could not be opened or sent on (errno in the failure). */
  | 'socket-error'
  /** FILE_CHECK: the file's value puts the real server down (non-zero with weight 0, reversed: zero). */
  | 'file-value'
  /** Stopped because the checker was removed or the scheduler stopped. */
  | 'aborted';

/** A passed attempt. */
export interface CheckSuccess {
  ok: true;
  /** MISC_CHECK with misc_dynamic: exit code − 2. FILE_CHECK: the weight the file's value gives. */
  weight?: number;
  /** FILE_CHECK: the number the file holds. */
  value?: number;
  /** HTTP status of the last url. */
  status?: number;
  /** PING_CHECK: round-trip time of the echo. */
  rttMs?: number;
}

/** A failed attempt, with the facts that explain it. */
export interface CheckFailure {
  ok: false;
  reason: FailureReason;
  /** One line for logs and status, e.g. `GET /health: status 503, expected 200-299`. */
  message: string;
  /** Positive errno and its code, when a syscall failed. */
  errno?: number;
  code?: string;
  /** HTTP: the url path that failed, the status seen, the body digest computed. */
  path?: string;
  status?: number;
  digest?: string;
  /** MISC_CHECK: exit code or signal, and the first bytes of its output. */
  exitCode?: number;
  signal?: string;
  /** FILE_CHECK: the number the file holds. */
  value?: number;
  output?: string;
  /** SMTP_CHECK: the reply code seen; DNS_CHECK: the RCODE. */
  replyCode?: number;
}

/** What one attempt of a checker found. */
export type CheckResult = CheckSuccess | CheckFailure;

/** One attempt: `(signal) → result`. Never rejects; resolves soon after `signal` aborts. */
export type Probe = (signal: AttemptSignal) => Promise<CheckResult>;

/** A failure for an aborted attempt; `signal.reason` says why (a string or an Error). */
export function abortedFailure(signal: AttemptSignal, fallback: FailureReason = 'aborted'): CheckFailure {
  const reason = signal.reason === 'deadline' ? 'deadline' : fallback;
  return { ok: false, reason, message: reason === 'deadline' ? 'attempt ran past its deadline' : 'attempt aborted' };
}
