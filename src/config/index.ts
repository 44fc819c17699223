// layer: config (pure core, file access through an injectable reader)
// job: the public entry points: read a keepalived.conf (and its includes) into the typed model with diagnostics.
/**
 * keepalived.conf: read a file and its includes into a typed model with diagnostics at file:line:column; write it back canonically.
 *
 * @module lvskit/config
 */
import { ConfigError, type Diagnostic } from './diagnostics.js';
import type { ConfigLimits } from './includes.js';
import { loadConfigFile } from './load.js';
import type { KeepalivedConfig } from './model.js';
import { memoryReader, type ConfigReader } from './reader.js';

/** Options of `loadConfig()` and `parseConfigText()`. */
export interface ParseOptions {
  /** The config id `@ID` lines are selected by (keepalived's `-i`; keepalived defaults it to the host name's first label). */
  configId?: string;
  /** Every warning is an error (unknown keywords included). */
  strict?: boolean;
  /** Where files come from (default: the file system). */
  reader?: ConfigReader;
  limits?: Partial<ConfigLimits>;
  /** Random source for `${_RANDOM}` (default Math.random). */
  random?: () => number;
  /** Run the cross-checks of validate.ts (default true). */
  validate?: boolean;
  /** Most diagnostics kept (default 1000; more are counted). */
  maxDiagnostics?: number;
  /** Routing-table names for `table NAME` (default: /etc/iproute2/rt_tables and the built-ins, read when a name is used). */
  routeTables?: ReadonlyMap<string, number>;
}

/** What `loadConfig()` returns: the model, every diagnostic, and the files read. */
export interface ParseResult {
  config: KeepalivedConfig;
  /** In the order found: reading and syntax first, then the cross-checks. */
  diagnostics: Diagnostic[];
  errorCount: number;
  warningCount: number;
  /** Diagnostics found beyond `maxDiagnostics` (counted, not kept). */
  droppedDiagnostics: number;
  /** Every file read, the main file first. */
  files: string[];
  /** No errors. */
  ok: boolean;
}

/** Reads `file` and what it includes as keepalived 2.2 would, into the typed model; never throws for bad input. */
export function loadConfig(file: string, options: ParseOptions = {}): ParseResult {
  return loadConfigFile(file, options);
}

/** Parses configuration text held in memory (named `file` in messages); includes resolve among `files`. */
export function parseConfigText(text: string, options: ParseOptions & { file?: string; files?: Record<string, string | Uint8Array> } = {}): ParseResult {
  const file = options.file ?? 'keepalived.conf';
  const { files, ...rest } = options;
  return loadConfig(file, { ...rest, reader: options.reader ?? memoryReader({ ...files, [file]: text }) });
}

/** Like loadConfig, but returns only the model and throws a ConfigError (with every diagnostic) when there are errors. */
export function loadConfigOrThrow(file: string, options: ParseOptions = {}): KeepalivedConfig {
  const result = loadConfig(file, options);
  if (!result.ok) throw new ConfigError(result.diagnostics);
  return result.config;
}

export { ConfigError, formatDiagnostic, formatLocation, type Diagnostic, type DiagnosticCode, type SourceLocation, type Severity } from './diagnostics.js';
export { fileSystemReader, memoryReader, type ConfigReader, type ConfigFileStat, type DirEntry, type FileKind, type ReadResult } from './reader.js';
export { DEFAULT_LIMITS, type ConfigLimits } from './includes.js';
export type * from './model.js';
export { emptyConfig, virtualServerName } from './model.js';
export { dumpConfig } from './dump.js';
export { validateConfig } from './validate.js';
