// layer: config (pure)
// job: what every conversion shares: located diagnostics, library field paths → config locations, scripts as argv, forwarding methods.
import type { Diagnostic, DiagnosticCode, SourceLocation } from '../../config/diagnostics.js';
import type { ForwardingMethod as ModelMethod, GlobalDefs, ScriptCommand } from '../../config/model.js';

/** What every conversion returns besides its library input. */
export interface ConversionResult {
  /** What could not be represented in the library's input, and what the library refused, each with its config location. */
  diagnostics: Diagnostic[];
  /** No error among the diagnostics. */
  ok: boolean;
  /** The config location a library field path (`instances[0].virtualAddresses[1]`, `services[3].destinations[0].weight`) came from. */
  locate(field: string): SourceLocation | undefined;
  /**
   * A library's refusal found later (VRRP's `instances[0].interface: no such link`) in the
   * configuration's words, at its location: `VI_WEB: interface v0 does not exist`; undefined
   * when `error` names no field the configuration wrote.
   */
  explain(error: unknown): { location: SourceLocation; message: string } | undefined;
}

/** The keepalived keyword each library field comes from (the last words of a field path: `trackInterfaces[0].weight` → `track_interface weight`). */
const FIELD_KEYWORDS: Readonly<Record<string, string>> = {
  // VRRP
  vrid: 'virtual_router_id', advertIntervalMs: 'advert_int', virtualAddresses: 'virtual_ipaddress', trackInterfaces: 'track_interface',
  unicastPeers: 'unicast_peer', unicastSourceAddress: 'unicast_src_ip', preemptDelayMs: 'preempt_delay', preempt: 'nopreempt',
  acceptMode: 'accept', authPass: 'auth_pass', version: 'vrrp_version', garpMasterDelayMs: 'garp_master_delay',
  garpMasterRepeat: 'garp_master_repeat', garpMasterRefreshMs: 'garp_master_refresh', garpMasterRefreshRepeat: 'garp_master_refresh_repeat',
  members: 'group', lvsSyncDaemonInterface: 'lvs_sync_daemon_interface',
  // IPVS and health checks
  scheduler: 'lb_algo', schedulerFlags: 'lb_algo flags', forward: 'lb_kind', persistence: '', timeoutSec: 'persistence_timeout',
  prefixLength: 'persistence_granularity', netmask: 'persistence_granularity', engine: 'persistence_engine', address: '',
  destinations: 'real_server', realServers: 'real_server', sorryServer: 'sorry_server', connectPort: 'connect_port',
  connectTimeoutMs: 'connect_timeout', delayLoopMs: 'delay_loop', upperThreshold: 'uthreshold', lowerThreshold: 'lthreshold',
};

/** `instances[0].trackInterfaces[1].weight` → `track_interface weight` (indexes dropped, known fields in keepalived's words). */
function keywordsOf(path: string): string {
  return path.split('.').map((part) => part.replace(/\[\d+\]/g, '')).filter(Boolean).map((name) => FIELD_KEYWORDS[name] ?? name).filter(Boolean).join(' ');
}

/** The detail starts with the value it is about (`v0 does not exist`, `300 is not an integer ...`): it then reads on from the keyword. */
function startsWithValue(detail: string): boolean {
  return /^("[^"]*"|\S+) (is|are|does|do|has|must|cannot)\b/.test(detail) && !/^(an?|the|it|this) /i.test(detail);
}

/** A library's refusal: `field` is its path in the input (VrrpConfigError, IpvsValidationError, CheckConfigError). */
interface FieldError {
  field: string;
  message: string;
}

function isFieldError(error: unknown): error is FieldError {
  return error instanceof Error && typeof (error as { field?: unknown }).field === 'string';
}

/** Collects one conversion's diagnostics and the locations of the fields it writes. */
export class ConversionLog {
  readonly diagnostics: Diagnostic[] = [];
  readonly #locations = new Map<string, SourceLocation>();
  readonly #labels = new Map<string, string>();

  error(location: SourceLocation, message: string, code: DiagnosticCode = 'unsupported-keyword'): void {
    this.diagnostics.push({ severity: 'error', code, message, location });
  }

  warning(location: SourceLocation, message: string, code: DiagnosticCode = 'unsupported-keyword'): void {
    this.diagnostics.push({ severity: 'warning', code, message, location });
  }

  /**
   * Records that library field `field` (and everything under it, unless recorded more precisely)
   * comes from `location`; `label` names it in messages (`VI_WEB`, `real_server 10.0.0.2 80`).
   */
  at(field: string, location: SourceLocation, label?: string): void {
    this.#locations.set(field, location);
    if (label !== undefined) this.#labels.set(field, label);
  }

  /** The location of `field`, or of the nearest recorded field above it (`a[0].b[1].c` → `a[0].b[1]` → `a[0]`). */
  locate(field: string): SourceLocation | undefined {
    for (let f = field; f !== '';) {
      const hit = this.#locations.get(f);
      if (hit) return hit;
      const cut = Math.max(f.lastIndexOf('.'), f.lastIndexOf('['));
      f = cut > 0 ? f.slice(0, cut) : '';
    }
    return undefined;
  }

  /**
   * `field: detail` in the configuration's words: the labels of the blocks it is in, then the
   * keyword (`VI_WEB: interface v0 does not exist`, `TCP 10.0.0.1:80: real_server 10.0.0.2 80:
   * weight ...`). The field path is never shown.
   */
  describe(field: string, detail: string): string {
    const labels: string[] = [];
    let rest: string | undefined;
    for (let f = field; f !== '';) {
      const label = this.#labels.get(f);
      if (label !== undefined) {
        rest ??= field.slice(f.length); // what lies below the innermost labelled block
        labels.unshift(label);
      }
      const cut = Math.max(f.lastIndexOf('.'), f.lastIndexOf('['));
      f = cut > 0 ? f.slice(0, cut) : '';
    }
    rest ??= field;
    const keyword = keywordsOf(rest.replace(/^\[\d+\]/, ''));
    const text = keyword === '' ? detail : `${keyword}${startsWithValue(detail) ? ' ' : ': '}${detail}`;
    return [...labels, text].join(': ');
  }

  /** A library's refusal located and described (see ConversionResult.explain); undefined when it names no field we know. */
  explain(error: unknown): { location: SourceLocation; message: string } | undefined {
    if (!isFieldError(error)) return undefined;
    const location = this.locate(error.field);
    if (!location) return undefined;
    const detail = error.message.startsWith(`${error.field}: `) ? error.message.slice(error.field.length + 2) : error.message;
    return { location, message: this.describe(error.field, detail) };
  }

  /**
   * A library validator's refusal as a located error in the configuration's words; anything else
   * is rethrown. `fallback` is used when the field has no recorded location.
   */
  refused(library: string, error: unknown, fallback: SourceLocation): void {
    if (!isFieldError(error)) throw error;
    const explained = this.explain(error);
    this.error(explained?.location ?? fallback, explained?.message ?? `${library} refuses ${error.message}`, 'invalid-value');
  }

  /** Every recorded field path, its location and its label (if it has one). */
  entries(): [string, SourceLocation, string | undefined][] {
    return [...this.#locations].map(([f, l]) => [f, l, this.#labels.get(f)]);
  }

  result(): ConversionResult {
    return {
      diagnostics: this.diagnostics, ok: !this.diagnostics.some((d) => d.severity === 'error'),
      locate: (f) => this.locate(f), explain: (e) => this.explain(e),
    };
  }
}

/** Where a whole-configuration message points when no block is at hand. */
export function fileLocation(file: string): SourceLocation {
  return { file, line: 0, column: 0 };
}

/** The user a script runs as in keepalived: its own `user`, else global_defs `script_user`. */
export function scriptUser(script: Pick<ScriptCommand, 'user' | 'group'> | undefined, globalDefs: GlobalDefs): { user?: string; group?: string } {
  if (script?.user !== undefined) return { user: script.user, ...(script.group !== undefined ? { group: script.group } : {}) };
  const g = globalDefs.scriptUser;
  return g ? { user: g.user, ...(g.group !== undefined ? { group: g.group } : {}) } : {};
}

/**
 * A notify-style script as the libraries take it (an argv, run as lvskit's own user, no shell). A
 * user other than root cannot be honoured there: a warning says so.
 */
export function scriptArgv(log: ConversionLog, script: ScriptCommand, globalDefs: GlobalDefs, location: SourceLocation, what: string): string[] {
  const { user } = scriptUser(script, globalDefs);
  if (user !== undefined && user !== 'root' && user !== '0') {
    log.warning(location, `${what} runs as lvskit's own user, not as ${user} (only MISC_CHECK scripts change user)`);
  }
  return [...script.argv];
}

/** IPVS / health-check forwarding method. */
export type Forward = 'dr' | 'nat' | 'tun';

/** IPVS tunnel settings of a TUN method. */
export interface TunnelSettings {
  type: 'ipip' | 'gue' | 'gre';
  port?: number;
  checksum?: 'none' | 'csum' | 'remcsum';
}

/** `lvs_method NAT|DR|TUN [...]` → the forwarding method and, for TUN with options, its tunnel (keepalived's default: NAT). */
export function forwardingOf(method: ModelMethod | undefined): { forward: Forward; tunnel?: TunnelSettings } {
  const kind = method?.kind ?? 'NAT';
  if (kind !== 'TUN') return { forward: kind === 'DR' ? 'dr' : 'nat' };
  if (!method?.tunnelType && !method?.tunnelChecksum) return { forward: 'tun' };
  const tunnel: TunnelSettings = { type: method.tunnelType ?? 'ipip' };
  if (method.tunnelPort !== undefined) tunnel.port = method.tunnelPort;
  if (method.tunnelChecksum) tunnel.checksum = method.tunnelChecksum === 'nocsum' ? 'none' : method.tunnelChecksum;
  return { forward: 'tun', tunnel };
}

/**
 * What converting one declared service produced: kept for the next conversion of the same
 * configuration text. Its field locations are not kept (a running daemon holds its memo: they
 * were a third of a 1,000-service configuration's heap); they serve only the conversion that
 * made them, whose refusals are diagnostics here.
 */
export interface ServiceMemo<T> {
  /** Its field path when made (`virtualServers[3]`): messages name it. */
  field: string;
  value: T;
  diagnostics: Diagnostic[];
}

/** A conversion's results per declared service, by the service's configuration text (and the globals it was converted under). */
export type ConversionMemo<T> = Map<string, ServiceMemo<T>>;

function renamed(text: string, from: string, to: string): string {
  return from === to ? text : text.split(from).join(to);
}

/**
 * Convert one declared service, or take what converting the same text gave last time (`previous`),
 * its diagnostics re-numbered to its place now (`field`). `make` converts with a log
 * of its own. Whatever is made or taken goes into `next`: the memo of this conversion. A reload of
 * 1,000 services that changed one converts one (the health checks' conversion is most of a load).
 */
export function memoized<T>(log: ConversionLog, memo: { previous?: ConversionMemo<T>; next: ConversionMemo<T> } | undefined, key: string | undefined,
  field: string, make: (sub: ConversionLog) => T): T {
  const hit = key === undefined ? undefined : memo?.previous?.get(key);
  let entry: ServiceMemo<T>;
  if (hit) {
    entry = hit.field === field ? hit : {
      field, value: hit.value, diagnostics: hit.diagnostics.map((d) => ({ ...d, message: renamed(d.message, hit.field, field) })),
    };
  } else {
    const sub = new ConversionLog();
    const value = make(sub);
    for (const [f, l, label] of sub.entries()) log.at(f, l, label);
    entry = { field, value, diagnostics: sub.diagnostics };
  }
  log.diagnostics.push(...entry.diagnostics);
  if (key !== undefined) memo?.next.set(key, entry);
  return entry.value;
}
