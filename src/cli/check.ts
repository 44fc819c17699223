// layer: cli (composition only)
// job: `lvskit check` and `lvskit config dump`: read keepalived.conf as keepalived would, print diagnostics, model or canonical text.
import type { Command } from 'commander';
import os from 'node:os';
import { dumpConfig } from '../config/dump.js';
import { formatDiagnostic } from '../config/diagnostics.js';
import { loadConfig, type ParseResult } from '../config/index.js';

export const DEFAULT_CONFIG_FILE = '/etc/keepalived/keepalived.conf';

interface CheckOptions {
  file: string;
  strict?: boolean;
  dump?: boolean;
  json?: boolean;
  configId?: string;
}

/** keepalived's default config id: the first label of the node name. */
function defaultConfigId(): string {
  return os.hostname().split('.')[0] ?? '';
}

function read(opts: CheckOptions): ParseResult {
  return loadConfig(opts.file, { configId: opts.configId ?? defaultConfigId(), ...(opts.strict ? { strict: true } : {}) });
}

/** Diagnostics (and a summary) on stderr; exit status 1 when there are errors. */
function report(result: ParseResult, file: string): void {
  for (const d of result.diagnostics) console.error(formatDiagnostic(d));
  if (result.droppedDiagnostics > 0) console.error(`… and ${result.droppedDiagnostics} more`);
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  console.error(`${file}: ${plural(result.errorCount, 'error')}, ${plural(result.warningCount, 'warning')}; ` +
    `${plural(result.files.length, 'file')} read`);
  if (!result.ok) process.exitCode = 1;
}

export function registerConfigCommands(program: Command): void {
  program.command('check')
    .description('read a keepalived configuration as keepalived 2.2 reads it; report errors and warnings (like keepalived -t)')
    .option('-f, --file <file>', 'configuration file', DEFAULT_CONFIG_FILE)
    .option('--strict', 'treat every warning (unknown keywords included) as an error')
    .option('--dump', 'print the configuration in canonical multi-line form')
    .option('--json', 'print the parsed model as JSON')
    .option('-i, --config-id <id>', 'config id for @ID conditional lines (default: the host name\'s first label)')
    .action((opts: CheckOptions) => {
      const result = read(opts);
      if (opts.json) console.log(JSON.stringify(result.config, null, 2));
      if (opts.dump) process.stdout.write(dumpConfig(result.config));
      report(result, opts.file);
    });

  const config = program.command('config').description('keepalived configuration files');
  config.command('dump')
    .description('print a configuration (with its includes) in canonical multi-line form, one keyword per line')
    .option('-f, --file <file>', 'configuration file', DEFAULT_CONFIG_FILE)
    .option('--strict', 'treat every warning as an error')
    .option('-i, --config-id <id>', 'config id for @ID conditional lines (default: the host name\'s first label)')
    .action((opts: CheckOptions) => {
      const result = read(opts);
      process.stdout.write(dumpConfig(result.config));
      report(result, opts.file);
    });
}
