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

  error(location: SourceLocation, message: string, code: DiagnosticCode = 'unsupported-keyword'): void {
    this.diagnostics.push({ severity: 'error', code, message, location });
  }

  warning(location: SourceLocation, message: string, code: DiagnosticCode = 'unsupported-keyword'): void {
    this.diagnostics.push({ severity: 'warning', code, message, location });
  }

  /** Records that library field `field` (and everything under it, unless recorded more precisely) comes from `location`. */
  at(field: string, location: SourceLocation): void {
    this.#locations.set(field, location);
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
   * A library validator's refusal as a located error (`VRRP: instances[0].vrid: ...`); anything else is rethrown.
   * `fallback` is used when the field has no recorded location.
   */
  refused(library: string, error: unknown, fallback: SourceLocation): void {
    if (!isFieldError(error)) throw error;
    this.error(this.locate(error.field) ?? fallback, `${library} refuses ${error.message}`, 'invalid-value');
  }

  /** Every recorded field path and its location. */
  entries(): [string, SourceLocation][] {
    return [...this.#locations];
  }

  result(): ConversionResult {
    return { diagnostics: this.diagnostics, ok: !this.diagnostics.some((d) => d.severity === 'error'), locate: (f) => this.locate(f) };
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
    for (const [f, l] of sub.entries()) log.at(f, l);
    entry = { field, value, diagnostics: sub.diagnostics };
  }
  log.diagnostics.push(...entry.diagnostics);
  if (key !== undefined) memo?.next.set(key, entry);
  return entry.value;
}
