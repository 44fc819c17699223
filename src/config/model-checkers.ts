// layer: config (pure)
// job: the typed model of a real server's health checkers (TCP_CHECK, HTTP_GET/SSL_GET, MISC_CHECK, SMTP_CHECK, UDP_CHECK, DNS_CHECK, PING_CHECK, FILE_CHECK), as the parser builds them; re-exported by model.ts.
import type { ScriptCommand, SourceLocation } from './model.js';

/** Options every checker shares (MISC_CHECK has only those from `alpha` on). */
export interface CheckerCommon {
  connectIp?: string;
  connectPort?: number;
  bindTo?: string;
  bindInterface?: string;
  bindPort?: number;
  fwmark?: number;
  alpha?: boolean;
  connectTimeoutMs?: number;
  retry?: number;
  delayBeforeRetryMs?: number;
  warmupMs?: number;
  delayLoopMs?: number;
  logAllFailures?: boolean;
  location: SourceLocation;
}

/** A `url` block of an HTTP checker. */
export interface HttpUrl {
  path?: string;
  digest?: string;
  /** Status codes as inclusive ranges; default 200-299. */
  statusCodes?: { from: number; to: number }[];
  virtualhost?: string;
  regex?: string;
  regexNoMatch?: boolean;
  regexOptions?: string[];
  regexMinOffset?: number;
  regexMaxOffset?: number;
  location: SourceLocation;
}

/** A `TCP_CHECK` block. */
export interface TcpCheck extends CheckerCommon {
  type: 'TCP_CHECK';
}

/** An `HTTP_GET` or `SSL_GET` block. */
export interface HttpCheck extends CheckerCommon {
  type: 'HTTP_GET' | 'SSL_GET';
  urls: HttpUrl[];
  httpProtocol?: '1.0' | '1.0C' | '1.1';
  fastRecovery?: boolean;
  virtualhost?: string;
  /** SSL_GET only: send SNI. */
  enableSni?: boolean;
}

/** A `MISC_CHECK` block. */
export interface MiscCheck extends CheckerCommon {
  type: 'MISC_CHECK';
  path?: ScriptCommand;
  timeoutMs?: number;
  dynamic?: boolean;
  user?: string;
  group?: string;
}

/** An SMTP_CHECK `host { }` block (keepalived 2.2 makes each one a checker of its own). */
export type SmtpHost = CheckerCommon;

/** An SMTP_CHECK block: 220 greeting, HELO → 250, QUIT. */
export interface SmtpCheck extends CheckerCommon {
  type: 'SMTP_CHECK';
  heloName?: string;
  hosts: SmtpHost[];
}

/** A UDP_CHECK block: a datagram sent, a reply optionally required and matched. */
export interface UdpCheck extends CheckerCommon {
  type: 'UDP_CHECK';
  /** `payload` as lowercase hex. */
  payload?: string;
  requireReply?: boolean;
  /** `require_reply <HEX_STR>` as lowercase hex, `x` a nibble not compared. */
  replyPattern?: string;
  minReplyLength?: number;
  maxReplyLength?: number;
}

/** A DNS_CHECK block: one query, the reply's id and RCODE checked. */
export interface DnsCheck extends CheckerCommon {
  type: 'DNS_CHECK';
  queryType?: 'A' | 'NS' | 'CNAME' | 'SOA' | 'MX' | 'TXT' | 'AAAA';
  name?: string;
}

/** A PING_CHECK block: one ICMP or ICMPv6 echo per attempt. */
export interface PingCheck extends CheckerCommon {
  type: 'PING_CHECK';
}

/** A FILE_CHECK block: `track_file NAME` (a top-level track_file) whose number moves the real server's weight; `weight N [reverse]` (default: the track_file's). */
export interface FileCheck extends CheckerCommon {
  type: 'FILE_CHECK';
  trackFile?: string;
  weight?: number;
  weightReverse?: boolean;
}

/** One health checker of a real server (TCP_CHECK, HTTP_GET/SSL_GET, MISC_CHECK, SMTP_CHECK, UDP_CHECK, DNS_CHECK, PING_CHECK, FILE_CHECK). */
export type Checker = TcpCheck | HttpCheck | MiscCheck | SmtpCheck | UdpCheck | DnsCheck | PingCheck | FileCheck;
