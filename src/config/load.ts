// layer: config (pure core, file access through an injectable reader)
// job: loadConfig() and its variants without the rest of the public entry (the CLI reads a file without loading the dump writer).
import { Builder } from './build.js';
import { ConfigError, Diagnostics, promoteWarnings, type Diagnostic } from './diagnostics.js';
import { DEFAULT_LIMITS, type ConfigLimits } from './includes.js';
import { ROOT } from './keywords/root.js';
import { emptyConfig, type KeepalivedConfig } from './model.js';
import { TreeParser } from './parser.js';
import { preprocess } from './preprocess.js';
import { fileSystemReader, memoryReader, type ConfigReader } from './reader.js';
import { validateConfig } from './validate.js';
import { BUILTIN_ROUTE_TABLES } from './rt-tables.js';

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
  const diags = new Diagnostics(options.maxDiagnostics);
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const reader = options.reader ?? fileSystemReader();
  const config = emptyConfig();
  const tables = options.routeTables;
  const builder = tables ? new Builder(diags, () => new Map([...BUILTIN_ROUTE_TABLES, ...tables])) : new Builder(diags);
  // Each top-level block is built as soon as it is complete: memory stays bounded by the largest block.
  const parser = new TreeParser(diags, limits.maxBlockDepth, (node) => builder.readNodes([node], ROOT, config));
  const pre = preprocess(file, reader, {
    limits, ...(options.configId !== undefined ? { configId: options.configId } : {}), ...(options.random ? { random: options.random } : {}),
  }, diags, (piece) => parser.push(piece));
  parser.end(pre.braceComments);
  if (options.validate !== false) validateConfig(config, diags);
  const diagnostics = options.strict ? promoteWarnings(diags.list) : diags.list;
  const errorCount = options.strict ? diags.list.length + diags.dropped : diags.errorCount;
  return {
    config,
    diagnostics,
    errorCount,
    warningCount: diagnostics.length - diagnostics.filter((d) => d.severity === 'error').length,
    droppedDiagnostics: diags.dropped,
    files: pre.files,
    ok: errorCount === 0,
  };
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
