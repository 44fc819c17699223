// layer: config (pure core, file access through an injectable reader)
// job: loadConfig()'s work, in a module of its own: the CLI reads a file through it without loading the rest of the
//      public entry (the dump writer).
import { Builder } from './build.js';
import { Diagnostics, promoteWarnings } from './diagnostics.js';
import { DEFAULT_LIMITS } from './includes.js';
import type { ParseOptions, ParseResult } from './index.js';
import { ROOT } from './keywords/root.js';
import { emptyConfig } from './model.js';
import { TreeParser } from './parser.js';
import { preprocess } from './preprocess.js';
import { fileSystemReader } from './reader.js';
import { BUILTIN_ROUTE_TABLES } from './rt-tables.js';
import { validateConfig } from './validate.js';

/** loadConfig() (src/config/index.ts, the public entry, documents it). */
export function loadConfigFile(file: string, options: ParseOptions = {}): ParseResult {
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
