// layer: config (pure)
// job: configuration diagnostics: errors and warnings with file:line:column, their collector and text form.

/** A place in a configuration file; `line` and `column` are 1-based (0 when the message is about the whole file). */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

/** An error stops the configuration from being used; a warning does not (unless `strict`). */
export type Severity = 'error' | 'warning';

/** What kind of problem a diagnostic reports; stable, for tools and tests. */
export type DiagnosticCode =
  | 'io' | 'not-text' | 'too-large' | 'limit'
  | 'include-missing' | 'include-empty' | 'include-cycle' | 'include-skipped'
  | 'syntax' | 'unbalanced-brace' | 'definition' | 'preprocessor'
  | 'unknown-keyword' | 'unsupported-keyword' | 'deprecated'
  | 'missing-argument' | 'extra-argument' | 'invalid-value' | 'out-of-range'
  | 'missing-block' | 'unexpected-block' | 'keepalived-compat'
  | 'duplicate' | 'undefined-reference' | 'conflict' | 'missing-setting' | 'no-real-servers'
  /** The configuration against the live system (lvskit run's preflight, `lvskit check --preflight`). */
  | 'preflight'
  /** enable_script_security: a script run as root, or a configuration file, that a user other than root could change. */
  | 'script-security';

/** A related place mentioned by a diagnostic, e.g. the first definition of a duplicate. */
export interface RelatedLocation {
  message: string;
  location: SourceLocation;
}

/** One error or warning about a configuration, at its file:line:column. */
export interface Diagnostic {
  severity: Severity;
  code: DiagnosticCode;
  message: string;
  location: SourceLocation;
  related?: RelatedLocation[];
}

/** Default cap on stored diagnostics, so that garbage input cannot exhaust memory. */
export const DEFAULT_MAX_DIAGNOSTICS = 1000;

/** Collects diagnostics in the order they are found; stops storing (but keeps counting) at a cap. */
export class Diagnostics {
  readonly list: Diagnostic[] = [];
  /** Diagnostics found beyond the cap (counted, not stored). */
  dropped = 0;
  private errors = 0;

  constructor(readonly maxStored: number = DEFAULT_MAX_DIAGNOSTICS) {}

  error(code: DiagnosticCode, location: SourceLocation, message: string, related?: RelatedLocation[]): void {
    this.add({ severity: 'error', code, message, location, ...(related ? { related } : {}) });
  }

  warning(code: DiagnosticCode, location: SourceLocation, message: string, related?: RelatedLocation[]): void {
    this.add({ severity: 'warning', code, message, location, ...(related ? { related } : {}) });
  }

  add(d: Diagnostic): void {
    if (d.severity === 'error') this.errors++;
    if (this.list.length < this.maxStored) this.list.push(d);
    else this.dropped++;
  }

  /** Errors found, including any beyond the cap. */
  get errorCount(): number {
    return this.errors;
  }
}

/** `file:line:col` (or `file` alone for a whole-file message). */
export function formatLocation(loc: SourceLocation): string {
  return loc.line > 0 ? `${loc.file}:${loc.line}:${loc.column}` : loc.file;
}

/** `file:line:col: error|warning: message`, then one `note:` line per related location. */
export function formatDiagnostic(d: Diagnostic): string {
  const lines = [`${formatLocation(d.location)}: ${d.severity}: ${d.message}`];
  for (const r of d.related ?? []) lines.push(`${formatLocation(r.location)}: note: ${r.message}`);
  return lines.join('\n');
}

/** With `strict`, every warning is an error (unknown keywords included), as `lvskit check --strict` reports. */
export function promoteWarnings(list: readonly Diagnostic[]): Diagnostic[] {
  return list.map((d) => (d.severity === 'warning' ? { ...d, severity: 'error' as const } : d));
}

/** Orders diagnostics by file, line and column (stable for equal places). */
export function sortDiagnostics(list: readonly Diagnostic[]): Diagnostic[] {
  return [...list].sort((a, b) => (a.location.file < b.location.file ? -1 : a.location.file > b.location.file ? 1 : 0)
    || a.location.line - b.location.line || a.location.column - b.location.column);
}

/** Thrown by the throwing entry points when a configuration has errors; carries every diagnostic. */
export class ConfigError extends Error {
  override name = 'ConfigError';

  constructor(readonly diagnostics: readonly Diagnostic[]) {
    const errors = diagnostics.filter((d) => d.severity === 'error');
    const first = errors[0];
    super(first
      ? `${formatLocation(first.location)}: ${first.message}${errors.length > 1 ? ` (and ${errors.length - 1} more errors)` : ''}`
      : 'configuration has errors');
  }
}
