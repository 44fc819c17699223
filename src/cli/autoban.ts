// layer: cli (composition only)
// job: `lvskit autoban`: ban clients holding too many ESTABLISHED connections, into an ipset, from procfs scans or the sync stream.
import { Option, type Command } from 'commander';
import fs from 'node:fs';
import type { CountSource } from '../autoban/sources.js';
import type { AutobanRunnerOptions } from '../autoban/runner.js';
import type { AutobanPolicyConfig } from '../autoban/policy.js';
import type { AutobanSettings } from '../daemon/convert.js';
import type { LiveConnTable } from '../conns/live.js';
import { readConverted } from './config-input.js';
import { addSyncOptions, liveOptions, type SyncCliOptions } from './conns.js';
import { configFileOption, configIdOption, netnsOption, renamedOption, secondsAsMs, tableFileOption, wholeNumber } from './options.js';

interface AutobanCliOptions extends SyncCliOptions {
  set?: string;
  set6?: string;
  file?: string;
  configId?: string;
  threshold?: number;
  whitelist?: string[];
  source?: 'procfs' | 'sync';
  tableFile?: string;
  once?: boolean;
  watch?: boolean;
  interval?: number;
  banTimeout?: number;
  maxBansPerMinute?: number;
  staticBlacklist?: string;
  dryRun?: boolean;
  perService?: boolean;
  json?: boolean;
}

/** A file in the /proc/net/ip_vs_conn format (its header line), given where a configuration is expected. */
function looksLikeConnTable(file: string): boolean {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const head = Buffer.alloc(64);
      return head.subarray(0, fs.readSync(fd, head, 0, 64, 0)).toString('latin1').startsWith('Pro FromIP');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}

/** lvskit_autoban from a configuration file, or nothing; exits with status 1 on errors in it. */
async function fromConfig(file: string | undefined, configId: string | undefined): Promise<AutobanSettings | undefined> {
  if (file === undefined) {
    if (configId !== undefined) throw new Error('-i/--config-id selects the @ID lines of the configuration given with -f FILE; without -f it means nothing (the sync interface is --interface)');
    return undefined;
  }
  // lvskit 0.1's `autoban --file TABLE`: say so rather than report a connection table's lines as keepalived.conf errors.
  if (looksLikeConnTable(file)) throw new Error(`-f/--file ${file}: that is a connection table, not a keepalived configuration; give it with --table-file (renamed in 0.2.0, see CHANGELOG.md)`);
  const { autobanSettings } = await import('../daemon/convert.js');
  const conversion = readConverted(file, configId, (config) => autobanSettings(config));
  if (!conversion.settings) throw new Error(`${file}: no lvskit_autoban block with a threshold and an ipset`);
  return conversion.settings;
}

/** Settings: the configuration's, with every option given on the command line taking precedence. */
async function settingsFrom(opts: AutobanCliOptions): Promise<{ set: string; policy: Partial<AutobanPolicyConfig>; source: 'procfs' | 'sync'; sync: SyncCliOptions; staticBlacklist?: string; intervalMs?: number }> {
  const base = await fromConfig(opts.file, opts.configId);
  const set = opts.set ?? base?.set;
  if (set === undefined) throw new Error('--set NAME is required (or -f with a lvskit_autoban block)');
  const policy: Partial<AutobanPolicyConfig> = { ...base?.policy };
  if (opts.threshold !== undefined) policy.threshold = opts.threshold;
  if (opts.whitelist !== undefined) policy.whitelist = opts.whitelist;
  if (opts.banTimeout !== undefined) policy.banTimeoutSec = opts.banTimeout;
  if (opts.maxBansPerMinute !== undefined) policy.maxBansPerMinute = opts.maxBansPerMinute;
  if (opts.dryRun) policy.dryRun = true;
  const source = opts.source ?? (opts.once ? 'procfs' : undefined) ?? base?.source ?? (opts.interface !== undefined ? 'sync' : 'procfs');
  const sync: SyncCliOptions = { ...base?.sync, ...definedOnly(opts), role: opts.role };
  const staticBlacklist = opts.staticBlacklist ?? base?.staticBlacklist;
  const intervalMs = opts.interval ?? base?.intervalMs;
  return { set, policy, source, sync, ...(staticBlacklist === undefined ? {} : { staticBlacklist }), ...(intervalMs === undefined ? {} : { intervalMs }) };
}

function definedOnly(opts: AutobanCliOptions): Partial<SyncCliOptions> {
  const out: Partial<SyncCliOptions> = {};
  for (const key of ['interface', 'syncId', 'group', 'port', 'ports', 'netns'] as const) if (opts[key] !== undefined) (out as Record<string, unknown>)[key] = opts[key];
  return out;
}

export function registerAutobanCommands(program: Command): void {
  const autoban = addSyncOptions(program.command('autoban')
    .description('ban clients holding more than a threshold of ESTABLISHED connections: entries with a timeout in an ipset, static_blacklist kept in step')
    .option('--set <name>', 'the ipset bans go into (hash:ip or hash:net; create it with `timeout 0` for timed bans)')
    .option('--set6 <name>', 'the ipset (family inet6) IPv6 clients are banned into')
    .addOption(configFileOption('read lvskit_autoban (and lvs_sync_daemon) from a keepalived configuration; options given here win'))
    .addOption(configIdOption())
    .option('--threshold <n>', 'ban a client holding more than N ESTABLISHED connections (default 100)', wholeNumber)
    .option('--whitelist <cidr...>', 'addresses/networks never banned')
    .addOption(new Option('--source <source>', 'counts from a scan of /proc/net/ip_vs_conn, or from the sync stream (needs --interface)').choices(['procfs', 'sync']))
    .addOption(tableFileOption())
    .option('--once', 'one procfs round, then exit')
    .option('--watch', 'keep running (the default)')
    .option('--interval <seconds>', 'time between full rounds (default 60 with procfs, 5 with sync)', secondsAsMs)
    .option('--ban-timeout <seconds>', 'ban duration: the ipset entry timeout (default 0: no end)', wholeNumber)
    .option('--max-bans-per-minute <n>', 'cap on new bans in any 60 s (default 60)', wholeNumber)
    .option('--static-blacklist <file>', 'keep the autoban\'s lines of this file in step with the bans (atomic rewrites)')
    .option('--per-service', 'count per client and virtual service (a client is banned when it is over the threshold on one service)')
    .option('--dry-run', 'report what would be banned, change nothing')
    .option('--json', 'print events as JSON lines')
    .addOption(netnsOption()));
  renamedOption(autoban, '--config <file>', 'the configuration is -f/--file FILE, as everywhere')
    .action(async (opts: AutobanCliOptions) => {
      const s = await settingsFrom(opts);
      if (opts.once && s.source !== 'procfs') throw new Error('--once needs --source procfs (the sync stream has no "once")');
      if (opts.tableFile !== undefined && s.source !== 'procfs') throw new Error('--table-file is read by --source procfs; the sync stream is live');
      const [{ IpsetBanSink }, { ProcfsCountSource, TrackerCountSource }, { AutobanRunner }] = await Promise.all([
        import('../autoban/sink.js'), import('../autoban/sources.js'), import('../autoban/runner.js')]);
      const banTimeoutSec = s.policy.banTimeoutSec ?? 0;
      const sink = await IpsetBanSink.open(s.set, { banTimeoutSec, ...(opts.set6 === undefined ? {} : { set6: opts.set6 }), ...(opts.netns === undefined ? {} : { netns: opts.netns }) });
      let live: LiveConnTable | undefined;
      let source: CountSource;
      if (s.source === 'sync') {
        const { LiveConnTable } = await import('../conns/live.js');
        live = await LiveConnTable.open(liveOptions(s.sync, s.policy.threshold ?? 100, opts.perService ?? false));
        source = new TrackerCountSource(live.tracker);
      } else {
        source = new ProcfsCountSource({ perService: opts.perService ?? false, ...(opts.netns === undefined ? {} : { netns: opts.netns }), ...(opts.tableFile === undefined ? {} : { file: opts.tableFile }) });
      }
      const options: AutobanRunnerOptions = { policy: s.policy, source, sink,
        ...(s.staticBlacklist === undefined ? {} : { staticBlacklist: s.staticBlacklist }), ...(s.intervalMs === undefined ? {} : { intervalMs: s.intervalMs }) };
      const runner = new AutobanRunner(options);
      const print = (text: string, json: object): void => console.log(opts.json ? JSON.stringify(json) : text);
      runner.on('decision', (e) => {
        const until = e.type === 'ban' ? (e.untilMs === undefined ? 'no end' : `until ${new Date(e.untilMs).toISOString()}`) : '';
        const text = e.type === 'ban' ? `${e.dryRun ? 'would ban' : 'ban'} ${e.address} (${e.count} ESTABLISHED) ${until}`
          : e.type === 'whitelisted' ? `not banning ${e.address} (${e.count} ESTABLISHED): whitelisted by ${e.range}`
            : e.type === 'rate-limited' ? `not banning ${e.address} (${e.count} ESTABLISHED) yet: ${e.maxBansPerMinute} bans in the last minute`
              : `ban of ${e.address} ended`;
        print(text, e);
      });
      runner.on('error', (error) => console.error(`lvskit autoban: ${error.message}`));
      try {
        if (opts.once) {
          await runner.runOnce();
        } else {
          await runner.start();
          await new Promise<void>((resolve) => { process.once('SIGINT', () => resolve()).once('SIGTERM', () => resolve()); });
          await runner.stop();
        }
      } finally {
        live?.close();
        sink.close();
      }
      if (!opts.json) console.error(`# ${runner.counters.bans} banned, ${runner.counters.dryRunBans} in dry run, ${runner.counters.whitelisted} whitelisted, ${runner.counters.rateLimited} rate-limited`);
    });
}
