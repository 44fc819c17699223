// layer: cli (composition only)
// job: reading keepalived.conf for a command as `lvskit check` reads it: the config id, JSON or keepalived.conf, diagnostics on stderr, nothing done on an error.
import os from 'node:os';
import { formatDiagnostic, type Diagnostic } from '../config/diagnostics.js';
import type { ParseResult } from '../config/index.js';
import { loadConfigFile } from '../config/load.js';

/** keepalived's default config id: the first label of the node name. */
export function defaultConfigId(): string {
  return os.hostname().split('.')[0] ?? '';
}

/** Reads a configuration as `lvskit check` does (config id default: the host name's first label). */
export function readConfig(opts: { file: string; strict?: boolean; configId?: string }): ParseResult {
  return loadConfigFile(opts.file, { configId: opts.configId ?? defaultConfigId(), ...(opts.strict ? { strict: true } : {}) });
}

/** A desired-state file given as JSON rather than keepalived.conf: named `.json`, or starting with `{`. */
export function isJsonInput(file: string, text: string): boolean {
  return file.endsWith('.json') || text.trimStart().startsWith('{');
}

/**
 * keepalived.conf read as `lvskit check` reads it and handed to `convert`. Every diagnostic (the
 * reader's and the conversion's) goes to stderr as `file:line:col: ...`; with any error it throws
 * and the caller does nothing.
 */
export function readConverted<T extends { diagnostics: readonly Diagnostic[] }>(
  file: string, configId: string | undefined, convert: (config: ParseResult['config']) => T,
): T {
  const result = readConfig({ file, ...(configId !== undefined ? { configId } : {}) });
  const converted = result.ok ? convert(result.config) : undefined;
  const diagnostics = [...result.diagnostics, ...(converted?.diagnostics ?? [])];
  for (const d of diagnostics) console.error(formatDiagnostic(d));
  const errors = diagnostics.filter((d) => d.severity === 'error').length + result.droppedDiagnostics;
  if (!converted || errors > 0) throw new Error(`${file}: ${errors} error${errors === 1 ? '' : 's'}; nothing was done`);
  return converted;
}
