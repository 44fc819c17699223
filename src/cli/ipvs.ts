// layer: cli (composition only)
// job: `lvskit ipvs list` (as ipvsadm -Ln [--stats|--rate|-c] [-t|-u|-f SERVICE], or JSON) and `lvskit ipvs apply [FILE] [--dry-run]` (FILE: JSON, or keepalived.conf through src/config).
import { InvalidArgumentError, Option, type Command } from 'commander';
import fs from 'node:fs';
import type { IpvsClient } from '../ipvs/client.js';
import type { PlanOptions } from '../ipvs/plan.js';
import type { ServiceKey, ServiceState, VirtualService } from '../ipvs/model.js';
import { isJsonInput, readConverted } from './config-input.js';
import { configFileOf, configIdOption, configFileOption, netnsOption } from './options.js';
import { progressBar } from './progress.js';

/** JSON with 64-bit counters as numbers when exact, else as decimal strings. */
function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()) : v), 2);
}

/** The services of a desired-state file: `{ "services": [...] }` (see docs/ipvs.md). */
async function readJson(file: string, text: string): Promise<unknown> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const { IpvsValidationError } = await import('../ipvs/validate.js');
  if (typeof data !== 'object' || data === null || !('services' in data)) throw new IpvsValidationError(`${file}`, 'expected an object with a "services" array');
  return (data as { services: unknown }).services;
}

interface Desired { services: readonly VirtualService[]; options: PlanOptions }

/**
 * A JSON desired state, or a keepalived.conf read as `lvskit check` reads it and converted as the
 * daemon would at start (real servers with checkers start as keepalived starts them; without
 * lvs_flush, services the file does not declare are left alone). Validated whole, before any
 * kernel access: diagnostics go to stderr, and with an error nothing is applied.
 */
async function readDesired(file: string, opts: { keepUnlisted?: boolean; configId?: string }): Promise<Desired> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  const keep: PlanOptions = { owns: { service: () => false } };
  const { validateServices } = await import('../ipvs/validate.js');
  if (isJsonInput(file, text)) {
    const services = validateServices(await readJson(file, text), `${file}: services`);
    return { services, options: opts.keepUnlisted ? keep : {} };
  }
  const { convertIpvs, ipvsPlanOptions } = await import('../daemon/convert.js');
  const converted = readConverted(file, opts.configId, (config) => convertIpvs(config));
  return { services: validateServices(converted.services), options: opts.keepUnlisted ? keep : ipvsPlanOptions(converted) };
}

async function openClient(netns: string | undefined): Promise<IpvsClient> {
  const { IpvsClient } = await import('../ipvs/client.js');
  return IpvsClient.open(netns !== undefined ? { netns } : {});
}

/** Why the IPVS table cannot be read here (no IPVS in this kernel, or not allowed to), or undefined for any other error. */
function tableUnreadable(error: unknown): string | undefined {
  const e = error as { code?: string; syscall?: string };
  if (e.code === 'ENOENT' && e.syscall === 'CTRL_CMD_GETFAMILY') return 'no IPVS in this kernel (is the ip_vs module loaded?)';
  if (e.code === 'EPERM' || e.code === 'EACCES') return 'the IPVS table cannot be read without CAP_NET_ADMIN';
  return undefined;
}

/** `ADDR:PORT`, `[V6]:PORT` or `ADDR` (port 0, a persistent service's) as ipvsadm's -t/-u take them. */
function serviceAddress(protocol: 'tcp' | 'udp' | 'sctp'): (text: string) => ServiceKey {
  return (text) => {
    const m = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(text) ?? /^([0-9.]+)(?::(\d+))?$/.exec(text) ?? /^([0-9a-fA-F:]*:[0-9a-fA-F:]*)$/.exec(text);
    const port = m?.[2] === undefined ? 0 : Number(m[2]);
    if (!m || port > 65535) throw new InvalidArgumentError('not ADDRESS:PORT (an IPv6 address in brackets: [2001:db8::1]:80)');
    return { protocol, address: m[1] as string, port };
  };
}

function fwmarkService(text: string): ServiceKey {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 0xffffffff) throw new InvalidArgumentError('not a firewall mark (1..4294967295)');
  return { fwmark: Number(text), family: 4 };
}

interface ListOptions {
  netns?: string; json?: boolean; stats?: boolean; rate?: boolean; exact?: boolean; connection?: boolean;
  tcpService?: ServiceKey; udpService?: ServiceKey; sctpService?: ServiceKey; fwmarkService?: ServiceKey;
}

/** The service named by -t/-u/--sctp-service/-f (at most one). */
function selectedService(opts: ListOptions): ServiceKey | undefined {
  const given = [opts.tcpService, opts.udpService, opts.sctpService, opts.fwmarkService].filter((s) => s !== undefined);
  if (given.length > 1) throw new Error('-t, -u, --sctp-service and -f each name a service: give one');
  return given[0];
}

/** Every connection, as `ipvsadm -Lnc` (which takes no service filter either). */
async function listConnections(opts: ListOptions): Promise<void> {
  const { readConnections } = await import('../conns/rows.js');
  const { CONNECTION_HEADER, CONNECTION_TITLE, formatConnectionRow } = await import('../conns/format.js');
  const out: string[] = opts.json ? [] : [CONNECTION_TITLE, CONNECTION_HEADER];
  for await (const r of readConnections(opts.netns === undefined ? {} : { netns: opts.netns })) {
    out.push(opts.json ? JSON.stringify(r) : formatConnectionRow(r));
    if (out.length >= 4096) process.stdout.write(`${out.splice(0).join('\n')}\n`);
  }
  if (out.length > 0) process.stdout.write(`${out.join('\n')}\n`);
}

async function list(opts: ListOptions): Promise<void> {
  const service = selectedService(opts);
  if (opts.connection) return listConnections(opts);
  const { formatTable } = await import('../ipvs/format.js');
  const client = await openClient(opts.netns);
  try {
    let services: ServiceState[];
    if (service) {
      const one = await client.getService(service);
      if (!one) {
        const { serviceName } = await import('../ipvs/model.js');
        throw new Error(`no such service: ${serviceName(service)}`);
      }
      services = [{ ...one, destinations: await client.listDestinations(service) }];
    } else {
      services = await client.dumpTable();
    }
    const info = await client.getInfo();
    if (opts.json) return console.log(toJson(service ? { services } : { info, services }));
    console.log(formatTable(info, services, { columns: opts.stats ? 'stats' : opts.rate ? 'rate' : 'default', exact: opts.exact === true, version: service === undefined }));
  } finally {
    client.close();
  }
}

interface ApplyOptions { file?: string; netns?: string; dryRun?: boolean; keepUnlisted?: boolean; configId?: string; json?: boolean }

async function applyFile(positional: string | undefined, opts: ApplyOptions): Promise<void> {
  const file = configFileOf(positional, opts.file, null);
  const desired = await readDesired(file, opts);
  const [{ plan }, { describeOp }] = await Promise.all([import('../ipvs/plan.js'), import('../ipvs/format.js')]);
  let client: IpvsClient | undefined;
  try {
    let current: ServiceState[] = [];
    try {
      client = await openClient(opts.netns);
      current = await client.dumpTable({ stats: false });
    } catch (error) {
      const why = tableUnreadable(error);
      if (!opts.dryRun || why === undefined) throw error;
      client?.close();
      client = undefined;
      console.error(`# ${why}: the plan is from an empty table`);
    }
    const ops = plan(current, desired.services, desired.options);
    for (const op of ops) console.log(describeOp(op));
    if (ops.length === 0) console.log('nothing to do: the table matches');
    if (opts.dryRun || ops.length === 0 || !client) return;
    const { apply } = await import('../ipvs/apply.js');
    const bar = progressBar({ total: ops.length, unit: 'operations', enabled: ops.length >= 1000 && opts.json !== true });
    const result = await apply(client, ops, bar ? { onProgress: (done) => bar.update(done) } : {});
    bar?.stop();
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
    client?.close();
  }
}

export function registerIpvsCommands(program: Command): void {
  const ipvs = program.command('ipvs').description('IPVS virtual services and real servers (generic netlink, no ipvsadm)');

  ipvs.command('list')
    .description('list the IPVS table, line for line as `ipvsadm -Ln` prints it (with --stats, --rate, -c as ipvsadm\'s)')
    .addOption(netnsOption())
    .addOption(new Option('-t, --tcp-service <ADDR:PORT>', 'only this TCP service (as ipvsadm -t)').argParser(serviceAddress('tcp')))
    .addOption(new Option('-u, --udp-service <ADDR:PORT>', 'only this UDP service (as ipvsadm -u)').argParser(serviceAddress('udp')))
    .addOption(new Option('--sctp-service <ADDR:PORT>', 'only this SCTP service (as ipvsadm --sctp-service)').argParser(serviceAddress('sctp')))
    .addOption(new Option('-f, --fwmark-service <MARK>', 'only this firewall-mark service (as ipvsadm -f)').argParser(fwmarkService))
    .addOption(new Option('--stats', 'counters: connections, packets and bytes in and out (as ipvsadm --stats)').conflicts(['rate', 'connection']))
    .addOption(new Option('--rate', 'rates per second, the kernel\'s estimates (as ipvsadm --rate)').conflicts('connection'))
    .option('--exact', 'with --stats or --rate: whole numbers, not shortened to K, M, G (as ipvsadm --exact)')
    .addOption(new Option('-c, --connection', 'the connection table, as `ipvsadm -Lnc` (from /proc/net/ip_vs_conn; every connection)')
      .conflicts(['tcpService', 'udpService', 'sctpService', 'fwmarkService']))
    .option('--json', 'print JSON (services with real servers and statistics; with -c one row per line)')
    .action((opts: ListOptions) => list(opts));

  ipvs.command('apply')
    .description('make the IPVS table match FILE: print the plan, then carry it out (only the difference)')
    .argument('[FILE]', 'desired state: JSON { "services": [ ... ] } (docs/ipvs.md), or keepalived.conf (its virtual_server blocks); or -f FILE')
    .addOption(configFileOption('desired state, as [FILE]'))
    .addOption(configIdOption())
    .addOption(netnsOption())
    .option('--dry-run', 'print the plan only (where the table cannot be read, no IPVS or no privilege: the plan from an empty table)')
    .option('--keep-unlisted', 'never delete services absent from FILE (only real servers within listed services); keepalived.conf without lvs_flush always does this')
    .action((positional: string | undefined, opts: ApplyOptions) => applyFile(positional, opts));
}
