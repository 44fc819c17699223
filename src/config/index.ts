// layer: config (pure core, file access through an injectable reader)
// job: the public entry points: read a keepalived.conf (and its includes) into the typed model with diagnostics.
/**
 * keepalived.conf: read a file and its includes into a typed model with diagnostics at file:line:column; write it back canonically.
 *
 * @module lvskit/config
 */
export { loadConfig, loadConfigOrThrow, parseConfigText, type ParseOptions, type ParseResult } from './load.js';
export { ConfigError, formatDiagnostic, formatLocation, type Diagnostic, type DiagnosticCode, type SourceLocation, type Severity } from './diagnostics.js';
export { fileSystemReader, memoryReader, type ConfigReader, type ConfigFileStat, type DirEntry, type FileKind, type ReadResult } from './reader.js';
export { DEFAULT_LIMITS, type ConfigLimits } from './includes.js';
export type * from './model.js';
export { emptyConfig, virtualServerName } from './model.js';
export { dumpConfig } from './dump.js';
export { validateConfig } from './validate.js';
