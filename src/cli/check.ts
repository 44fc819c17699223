// layer: cli (composition only)
// job: `lvskit check`, `lvskit config dump|show`: read keepalived.conf as keepalived would; print diagnostics, the model, canonical text or what lvskit would do with it.
import type { Command } from 'commander';
import fs from 'node:fs';
import type { ConfigConversion, HealthCheckConvertOptions, UserLookup } from '../daemon/convert.js';
import { formatDiagnostic, promoteWarnings, type Diagnostic } from '../config/diagnostics.js';
import type { ParseResult } from '../config/index.js';
import { readConfig } from './config-input.js';
import { configFileOf, configFileOption, configIdOption, netnsOption } from './options.js';

export { DEFAULT_CONFIG_FILE } from './options.js';

interface CheckOptions {
  file?: string;
  strict?: boolean;
  dump?: boolean;
  json?: boolean;
  plan?: boolean;
  configId?: string;
  preflight?: boolean;
  netns?: string;
}

interface ShowOptions extends CheckOptions {
  vrrp?: boolean;
  ipvs?: boolean;
  checks?: boolean;
  autoban?: boolean;
}

/** The system's users and groups (for MISC_CHECK `user`), read once. */
async function systemUsers(): Promise<UserLookup> {
  const { passwdLookup } = await import('../daemon/convert.js');
  const read = (file: string): string => {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  };
  return passwdLookup(read('/etc/passwd'), read('/etc/group'));
}

/** Conversion options for a configuration read from the file system. */
export async function conversionOptions(): Promise<HealthCheckConvertOptions> {
  const { miscRefusal } = await import('../daemon/script-security.js');
  return { users: await systemUsers(), miscRefusal };
}

/** The conversions of a configuration without errors (undefined otherwise: they would mislead); loaded only when asked for. */
async function convert(result: ParseResult): Promise<ConfigConversion | undefined> {
  if (!result.ok) return undefined;
  const { convertConfig } = await import('../daemon/convert.js');
  return convertConfig(result.config, await conversionOptions());
}

/** Diagnostics (and a summary) on stderr; exit status 1 when there are errors. */
function report(result: ParseResult, file: string, converted: readonly Diagnostic[] = [], strict = false): void {
  const extra = strict ? promoteWarnings(converted) : converted;
  for (const d of [...result.diagnostics, ...extra]) console.error(formatDiagnostic(d));
  if (result.droppedDiagnostics > 0) console.error(`… and ${result.droppedDiagnostics} more`);
  const errors = result.errorCount + extra.filter((d) => d.severity === 'error').length;
  const warnings = result.warningCount + extra.filter((d) => d.severity === 'warning').length;
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  console.error(`${file}: ${plural(errors, 'error')}, ${plural(warnings, 'warning')}; ${plural(result.files.length, 'file')} read`);
  if (errors > 0) process.exitCode = 1;
}

/** Library inputs without secrets (auth_pass, SSL keys), for printing. */
function printable(c: ConfigConversion, opts: ShowOptions): Record<string, unknown> {
  const all = !opts.vrrp && !opts.ipvs && !opts.checks && !opts.autoban;
  const out: Record<string, unknown> = {};
  if (all || opts.vrrp) {
    out['vrrp'] = {
      instances: c.vrrp.instances.map((i) => (i.authPass === undefined ? i : { ...i, authPass: '(hidden)' })),
      syncGroups: c.vrrp.syncGroups, ...(c.vrrp.syncDaemon ? { syncDaemon: c.vrrp.syncDaemon } : {}),
    };
  }
  if (all || opts.ipvs) {
    const { services, flush, flushOnStop, syncDaemon, daemons, timeouts } = c.ipvs;
    out['ipvs'] = { services, flush, flushOnStop, syncDaemon, daemons, timeouts };
  }
  if (all || opts.checks) {
    const pem = (v: unknown): unknown => (typeof v === 'string' ? `(PEM, ${v.length} bytes)` : v);
    out['checks'] = {
      virtualServers: c.checks.virtualServers.map((vs) => ({
        ...vs,
        realServers: vs.realServers.map((rs) => ({
          ...rs, ...(rs.checkers ? { checkers: rs.checkers.map((ch) => ('key' in ch ? { ...ch, ca: pem(ch.ca), certificate: pem(ch.certificate), key: pem(ch.key) } : ch)) } : {}),
        })),
      })),
    };
  }
  if ((all || opts.autoban) && c.autoban.settings) out['autoban'] = c.autoban.settings;
  return out;
}

/** The autoban's settings as `lvskit config show` prints them. */
function formatAutoban(c: ConfigConversion): string {
  const a = c.autoban.settings;
  if (!a) return 'no lvskit_autoban block';
  const p = a.policy;
  const from = a.source === 'sync' && a.sync
    ? `the sync stream on ${a.sync.interface}${a.sync.syncId !== undefined ? ` (syncid ${a.sync.syncId})` : ''}`
    : '/proc/net/ip_vs_conn';
  return [
    `ban clients with more than ${p.threshold} ESTABLISHED connections into ipset ${a.set}, counted from ${from}`,
    `  ban timeout ${p.banTimeoutSec ? `${p.banTimeoutSec} s` : 'none (until removed)'}${p.dryRun ? '; dry run' : ''}`,
    ...(p.whitelist && p.whitelist.length > 0 ? [`  never: ${p.whitelist.join(', ')}`] : []),
    ...(a.staticBlacklist !== undefined ? [`  static_blacklist ${a.staticBlacklist} kept in step`] : []),
  ].join('\n');
}

async function show(c: ConfigConversion, opts: ShowOptions): Promise<void> {
  const { formatHealthCheckConversion, formatIpvsConversion, formatVrrpConversion } = await import('../daemon/convert.js');
  if (opts.json) {
    console.log(JSON.stringify(printable(c, opts), null, 2));
    return;
  }
  const all = !opts.vrrp && !opts.ipvs && !opts.checks && !opts.autoban;
  const sections: string[] = [];
  if (all || opts.vrrp) sections.push(`# VRRP\n${formatVrrpConversion(c.vrrp)}`);
  if (all || opts.ipvs) sections.push(`# IPVS (from an empty table)\n${formatIpvsConversion(c.ipvs)}`);
  if (all || opts.checks) sections.push(`# health checks\n${formatHealthCheckConversion(c.checks)}`);
  if (all || opts.autoban) sections.push(`# autoban\n${formatAutoban(c)}`);
  console.log(sections.join('\n\n'));
}

/** `[FILE]` or `-f FILE`, with the options every command that reads a configuration has. */
function readsConfig(cmd: Command): Command {
  return cmd.argument('[FILE]', 'keepalived configuration (or -f FILE; default /etc/keepalived/keepalived.conf)')
    .addOption(configFileOption())
    .addOption(configIdOption());
}

/** The options with the file resolved from `[FILE]` / `-f FILE`. */
function withFile<T extends { file?: string }>(positional: string | undefined, opts: T): T & { file: string } {
  return { ...opts, file: configFileOf(positional, opts.file) };
}

export function registerConfigCommands(program: Command): void {
  readsConfig(program.command('check')
    .description('read a keepalived configuration as keepalived 2.2 reads it; report errors and warnings (like keepalived -t)'))
    .option('--strict', 'treat every warning (unknown keywords included) as an error')
    .option('--dump', 'print the configuration in canonical multi-line form')
    .option('--json', 'print the parsed model as JSON')
    .option('--plan', 'also convert it to lvskit\'s VRRP, IPVS and health-check inputs and report what they cannot represent')
    .option('--preflight', 'also check it against this system, as `lvskit run` does before it starts: interfaces, rp_filter, forwarding for NAT, IPVS, the autoban\'s firewall rule')
    .addOption(netnsOption())
    .action(async (positional: string | undefined, cli: CheckOptions) => {
      const opts = withFile(positional, cli);
      // The whole process joins the namespace: /proc/sys/net follows the calling thread's (src/sysctl).
      if (opts.netns !== undefined) (await import('../native/socket.js')).enterNetns(opts.netns);
      const result = readConfig(opts);
      if (opts.json) console.log(JSON.stringify(result.config, null, 2));
      if (opts.dump) process.stdout.write((await import('../config/dump.js')).dumpConfig(result.config));
      const preflight = opts.preflight && result.ok ? (await (await import('../daemon/preflight-live.js')).preflight(result.config)).diagnostics : [];
      // enable_script_security, as lvskit run applies it (the files' owners and modes, read now).
      const { scriptSecurityFindings } = await import('../daemon/script-security.js');
      const security = result.ok ? scriptSecurityFindings(result.config, result.files) : [];
      report(result, opts.file, [...(opts.plan ? (await convert(result))?.diagnostics ?? [] : []), ...security, ...preflight], opts.strict === true);
    });

  const config = program.command('config').description('keepalived configuration files');
  readsConfig(config.command('dump')
    .description('print a configuration (with its includes) in canonical multi-line form, one keyword per line'))
    .option('--strict', 'treat every warning as an error')
    .action(async (positional: string | undefined, cli: CheckOptions) => {
      const opts = withFile(positional, cli);
      const result = readConfig(opts);
      process.stdout.write((await import('../config/dump.js')).dumpConfig(result.config));
      report(result, opts.file);
    });

  readsConfig(config.command('show')
    .description('print what lvskit would do with a configuration: VRRP instances, the IPVS table at start, the health checks (all three unless one is chosen)'))
    .option('--vrrp', 'the VRRP instances and sync groups (VrrpRunner input), with every default resolved')
    .option('--ipvs', 'the IPVS services and real servers lvskit adds to an empty table, sync daemons, timeouts')
    .option('--checks', 'the health checks per virtual server, with inherited timing resolved')
    .option('--autoban', 'the autoban (lvskit_autoban): threshold, ipset, source, whitelist')
    .option('--json', 'print the library inputs as JSON (passwords and keys hidden)')
    .option('--strict', 'treat every warning as an error')
    .action(async (positional: string | undefined, cli: ShowOptions) => {
      const opts = withFile(positional, cli);
      const result = readConfig(opts);
      const converted = await convert(result);
      if (converted) await show(converted, opts);
      report(result, opts.file, converted?.diagnostics, opts.strict === true);
    });
}
