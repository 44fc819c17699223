// layer: cli (composition only)
// job: `lvskit vrrp run|check -f FILE`: VRRP instances from keepalived.conf (src/config + its VRRP conversion) or JSON, events printed until SIGTERM/SIGINT, then a graceful stop.
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import type { VrrpInstanceConfig, VrrpSyncGroupConfig } from '../vrrp/instance.js';
import type { VrrpRunnerEvent } from '../vrrp/events.js';
import { formatDiagnostic, type SourceLocation } from '../config/diagnostics.js';
import { isJsonInput, readConverted } from './config-input.js';
import { configFileOf, configFileOption, configIdOption, netnsOption } from './options.js';

interface Loaded {
  instances: VrrpInstanceConfig[];
  syncGroups: VrrpSyncGroupConfig[];
  /** keepalived.conf: a later refusal (a missing interface) at its line, in the configuration's words. */
  explain?: (error: unknown) => { location: SourceLocation; message: string } | undefined;
}

/**
 * A JSON file (`{ "instances": [...], "syncGroups": [...] }`), or a keepalived.conf read as
 * `lvskit check` reads it (includes, definitions, `@ID` lines) and converted to VRRP settings.
 * Its diagnostics go to stderr as `file:line:col: ...`; with an error, nothing is returned.
 */
async function load(file: string, configId?: string): Promise<Loaded> {
  const text = await readFile(file, 'utf8');
  if (isJsonInput(file, text)) {
    let json: { instances?: VrrpInstanceConfig[]; syncGroups?: VrrpSyncGroupConfig[] };
    try {
      json = JSON.parse(text) as typeof json;
    } catch (error) {
      throw new Error(`${file}: ${(error as Error).message}`);
    }
    return { instances: json.instances ?? [], syncGroups: json.syncGroups ?? [] };
  }
  const { convertVrrp } = await import('../daemon/convert.js');
  const converted = readConverted(file, configId, (config) => convertVrrp(config));
  return { instances: converted.instances, syncGroups: converted.syncGroups, explain: (error) => converted.explain(error) };
}

/**
 * A refusal of the loaded instances, as the user wrote them: for keepalived.conf, printed at its
 * line (`keepalived.conf:7:3: error: VI_WEB: interface v0 does not exist`) and summed up; for
 * JSON, the field path in that file (`site.json: instances[0].vrid: ...`).
 */
function refusal(file: string, loaded: Loaded, error: unknown): unknown {
  if (typeof (error as { field?: unknown }).field !== 'string') return error;
  const explained = loaded.explain?.(error);
  if (!explained) return new Error(`${file}: ${(error as Error).message}`);
  console.error(formatDiagnostic({ severity: 'error', code: 'invalid-value', ...explained }));
  return new Error(`${file}: 1 error; nothing was done`);
}

function describe(e: VrrpRunnerEvent): string {
  switch (e.type) {
    case 'transition': return `${e.instance}: ${e.from} → ${e.to} (${e.reason}, priority ${e.priority})`;
    case 'group-transition': return `group ${e.group}: ${e.to}`;
    case 'drop': return `${e.instance ?? e.interface}: dropped from ${e.src ?? '?'}: ${e.message} [${e.reason}]`;
    case 'vip': return `${e.instance}: ${e.op} ${e.address}/${e.prefixLength} dev ${e.dev}${e.label ? ` label ${e.label}` : ''}${e.error ? ` failed: ${e.error.message}` : ''}`;
    case 'net': return `${e.owner}: ${e.op} ${e.kind} ${e.what}${e.error ? ` failed: ${e.error.message}` : ''}`;
    case 'announce': return `${e.instance}: ${e.count} × ${e.kind === 'garp' ? 'gratuitous ARP' : 'unsolicited NA'} for ${e.address} on ${e.dev}${e.error ? ` failed: ${e.error.message}` : ''}`;
    case 'sync-daemon': return `${e.instance}: sync daemon ${e.role} on ${e.interface} (syncid ${e.syncId})${e.handled ? '' : ' — no IPVS client wired here; not done'}${e.error ? ` failed: ${e.error.message}` : ''}`;
    case 'script': return `${e.owner}: ${e.argv.join(' ')} → ${e.error ? e.error.message : e.timedOut ? 'timed out' : e.signal ?? `exit ${e.exitCode}`}`;
    case 'warning': return `${e.instance ?? 'vrrp'}: warning: ${e.message}`;
    case 'links-resynced': return `warning: link notifications lost (ENOBUFS × ${e.overruns}); links read again, ${e.changed} changed`;
    case 'reconfigure': {
      const list = (cs: Array<{ name: string; fields: string[] }>): string => cs.map((c) => `${c.name} (${c.fields.join(', ')})`).join(', ');
      return `reconfigured: added [${e.added.join(', ')}], removed [${e.removed.join(', ')}], replaced [${list(e.replaced)}], changed [${list(e.changed)}], unchanged [${e.unchanged.join(', ')}]`;
    }
  }
}

type Printed = VrrpRunnerEvent | { type: 'started'; pid: number; instances: string[] };

function printer(json: boolean): (e: Printed) => void {
  return (e) => {
    if (json) {
      const error = (e as { error?: Error }).error;
      console.log(JSON.stringify({ ts: Date.now(), ...e, ...(error ? { error: error.message } : {}) }));
    } else {
      console.log(`${new Date().toISOString()} ${e.type === 'started' ? `started ${e.instances.join(', ')} (pid ${e.pid})` : describe(e)}`);
    }
  };
}

const FILE_HELP = 'keepalived.conf (its vrrp_instance and vrrp_sync_group blocks), or JSON';

export function registerVrrpCommands(program: Command): void {
  const vrrp = program.command('vrrp').description('VRRP v2/v3 instances (keepalived-compatible on the wire)');

  vrrp.command('check')
    .description('validate a file of VRRP instances and print them resolved (with defaults)')
    .argument('[FILE]', `${FILE_HELP} (or -f FILE; default /etc/keepalived/keepalived.conf)`)
    .addOption(configFileOption(`${FILE_HELP} (default /etc/keepalived/keepalived.conf)`))
    .addOption(configIdOption())
    .action(async (positional: string | undefined, opts: { file?: string; configId?: string }) => {
      const file = configFileOf(positional, opts.file);
      const loaded = await load(file, opts.configId);
      const { validateVrrpConfig } = await import('../vrrp/validate.js');
      let resolved: ReturnType<typeof validateVrrpConfig>;
      try {
        resolved = validateVrrpConfig(loaded.instances, loaded.syncGroups);
      } catch (error) {
        throw refusal(file, loaded, error);
      }
      // The password stays out of the output.
      const shown = { ...resolved, instances: resolved.instances.map((r) => ({ ...r, ...(r.authData ? { authData: '(8 bytes)' } : {}) })) };
      console.log(JSON.stringify(shown, null, 2));
    });

  vrrp.command('run')
    .description('run VRRP instances until SIGTERM/SIGINT (then priority 0 and the VIPs released)')
    .addOption(configFileOption(FILE_HELP).makeOptionMandatory())
    .addOption(configIdOption())
    .addOption(netnsOption())
    .option('--json', 'print events as JSON lines')
    .action(async (opts: { file: string; configId?: string; netns?: string; json?: boolean }) => {
      const loaded = await load(opts.file, opts.configId);
      const print = printer(opts.json === true);
      const { VrrpRunner } = await import('../vrrp/runner.js');
      const runner = await VrrpRunner.open({
        instances: loaded.instances, syncGroups: loaded.syncGroups, ...(opts.netns !== undefined ? { netns: opts.netns } : {}),
      }).catch((error: unknown) => { throw refusal(opts.file, loaded, error); });
      const stream = runner.events();
      print({ type: 'started', pid: process.pid, instances: runner.status().map((s) => s.name) });
      runner.start();
      const events = (async () => { for await (const e of stream) print(e); })();
      await new Promise<void>((resolve) => {
        const stop = (): void => resolve(runner.stop());
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
        // Then (node's handler is in place) each MASTER's priority 0 leaves from the signal handler itself.
        runner.releaseOnSignal(['SIGTERM', 'SIGINT']);
      });
      await events;
      if (opts.json) console.log(JSON.stringify({ ts: Date.now(), type: 'stopped', status: runner.status() }));
    });
}
