// layer: cli (composition only)
// job: `lvskit ipvs list` (ipvsadm -Ln comparable, or JSON) and `lvskit ipvs apply FILE [--dry-run]` (FILE: JSON, or keepalived.conf through src/config).
import type { Command } from 'commander';
import fs from 'node:fs';
import { apply } from '../ipvs/apply.js';
import { IpvsClient } from '../ipvs/client.js';
import { describeOp, formatTable } from '../ipvs/format.js';
import { plan, type PlanOptions } from '../ipvs/plan.js';
import { IpvsValidationError } from '../ipvs/validate.js';
import type { VirtualService } from '../ipvs/model.js';
import { convertIpvs, ipvsPlanOptions } from '../daemon/convert.js';
import { isJsonInput, readConverted } from './config-input.js';
import { netnsOption } from './options.js';

/** JSON with 64-bit counters as numbers when exact, else as decimal strings. */
function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()) : v), 2);
}

/** The services of a desired-state file: `{ "services": [...] }` (see docs/ipvs.md). */
function readJson(file: string, text: string): unknown {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof data !== 'object' || data === null || !('services' in data)) throw new IpvsValidationError(`${file}`, 'expected an object with a "services" array');
  return (data as { services: unknown }).services;
}

interface Desired { services: unknown; options: PlanOptions }

/**
 * A JSON desired state, or a keepalived.conf read as `lvskit check` reads it and converted as the
 * daemon would at start (real servers with checkers start as keepalived starts them; without
 * lvs_flush, services the file does not declare are left alone). Diagnostics go to stderr; with
 * an error, nothing is applied.
 */
function readDesired(file: string, opts: { keepUnlisted?: boolean; configId?: string }): Desired {
  const text = fs.readFileSync(file, 'utf8');
  const keep: PlanOptions = { owns: { service: () => false } };
  if (isJsonInput(file, text)) return { services: readJson(file, text), options: opts.keepUnlisted ? keep : {} };
  const converted = readConverted(file, opts.configId, (config) => convertIpvs(config));
  const services: readonly VirtualService[] = converted.services;
  return { services, options: opts.keepUnlisted ? keep : ipvsPlanOptions(converted) };
}

export function registerIpvsCommands(program: Command): void {
  const ipvs = program.command('ipvs').description('IPVS virtual services and real servers (generic netlink, no ipvsadm)');

  ipvs.command('list')
    .description('list the IPVS table, line for line as `ipvsadm -Ln` prints it')
    .addOption(netnsOption())
    .option('--json', 'print JSON (services with real servers and statistics)')
    .action(async (opts: { netns?: string; json?: boolean }) => {
      const client = IpvsClient.open(opts.netns !== undefined ? { netns: opts.netns } : {});
      try {
        const [info, table] = await Promise.all([client.getInfo(), client.dumpTable()]);
        console.log(opts.json ? toJson({ info, services: table }) : formatTable(info, table));
      } finally {
        client.close();
      }
    });

  ipvs.command('apply')
    .description('make the IPVS table match FILE: print the plan, then carry it out (only the difference)')
    .argument('<file>', 'desired state: JSON { "services": [ ... ] } (docs/ipvs.md), or keepalived.conf (its virtual_server blocks)')
    .addOption(netnsOption())
    .option('--dry-run', 'print the plan only')
    .option('--keep-unlisted', 'never delete services absent from FILE (only real servers within listed services); keepalived.conf without lvs_flush always does this')
    .option('-i, --config-id <id>', 'keepalived.conf: config id for @ID conditional lines (default: the host name\'s first label)')
    .action(async (file: string, opts: { netns?: string; dryRun?: boolean; keepUnlisted?: boolean; configId?: string }) => {
      const desired = readDesired(file, opts);
      const client = IpvsClient.open(opts.netns !== undefined ? { netns: opts.netns } : {});
      try {
        const ops = plan(await client.dumpTable({ stats: false }), desired.services as never, desired.options);
        for (const op of ops) console.log(describeOp(op));
        if (ops.length === 0) console.log('nothing to do: the table matches');
        if (opts.dryRun || ops.length === 0) return;
        const result = await apply(client, ops);
        if (result.ok) {
          console.log(`applied ${result.applied.length} operation${result.applied.length === 1 ? '' : 's'}`);
          return;
        }
        const notApplied = result.results.length - result.applied.length - 1;
        console.error(`applied ${result.applied.length}, then refused: ${describeOp(result.failed?.op ?? ops[0]!)}`);
        for (const f of result.revertFailures) console.error(`could not undo ${describeOp(f.op)}: ${f.error.message}`);
        console.error(`${notApplied} later operation${notApplied === 1 ? '' : 's'} not applied`);
        throw result.failed?.error ?? new Error('apply failed');
      } finally {
        client.close();
      }
    });
}
