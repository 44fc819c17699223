// layer: cli (composition only)
// job: `lvskit conns top|list|track`: who holds how many connections, from /proc/net/ip_vs_conn or the live sync stream.
import { Option, type Command } from 'commander';
import { LiveConnTable, type SyncRole } from '../conns/live.js';
import { scanConnections, type ClientCount, type ConnScanResult } from '../conns/procfs.js';
import { readConnections } from '../conns/rows.js';
import { table } from './format.js';
import { netnsOption } from './options.js';

/** A whole number ≥ 0 from the command line. */
export function wholeNumber(text: string): number {
  if (!/^\d+$/.test(text)) throw new Error(`not a whole number: ${text}`);
  return Number(text);
}

/** Seconds (decimals allowed) from the command line, as milliseconds. */
export function secondsAsMs(text: string): number {
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || n <= 0) throw new Error(`not a positive number of seconds: ${text}`);
  return Math.round(n * 1000);
}

/** The sync-stream options shared by `conns track` and `autoban`. */
export function addSyncOptions(cmd: Command): Command {
  return cmd
    .option('-i, --interface <name>', 'the sync interface (lvs_sync_daemon / --mcast-interface)')
    .option('--sync-id <id>', 'only messages of this sync id (default: any)', wholeNumber)
    .option('--group <address>', 'sync multicast group (default 224.0.0.81)')
    .option('--port <port>', 'first sync port (default 8848)', wholeNumber)
    .option('--ports <n>', 'sync threads, net.ipv4.vs.sync_ports (default 1)', wholeNumber)
    .addOption(new Option('--role <role>', 'follow what this host sends (master), receives (backup), or both').choices(['master', 'backup', 'both']).default('both'));
}

export interface SyncCliOptions { interface?: string; syncId?: number; group?: string; port?: number; ports?: number; role: 'master' | 'backup' | 'both'; netns?: string }

/** LiveTableOptions from the command line. */
export function liveOptions(opts: SyncCliOptions, threshold: number | undefined, perService = false): Parameters<typeof LiveConnTable.open>[0] {
  if (opts.interface === undefined) throw new Error('--interface is required to follow the sync stream');
  const roles: SyncRole[] = opts.role === 'both' ? ['master', 'backup'] : [opts.role];
  return {
    interface: opts.interface, roles, perService,
    ...(opts.netns === undefined ? {} : { netns: opts.netns }), ...(opts.syncId === undefined ? {} : { syncId: opts.syncId }),
    ...(opts.group === undefined ? {} : { group: opts.group }), ...(opts.port === undefined ? {} : { port: opts.port }),
    ...(opts.ports === undefined ? {} : { ports: opts.ports }), ...(threshold === undefined ? {} : { threshold }),
  };
}

/** Clients as a table: CLIENT, the counted state, TOTAL (and SERVICE). */
export function formatClients(clients: ClientCount[], state: string): string {
  const service = clients.some((c) => c.service);
  const rows = [['CLIENT', state, 'TOTAL', ...(service ? ['SERVICE'] : [])]];
  for (const c of clients) {
    const svc = c.service ? `${c.service.protocol} ${c.service.address.includes(':') ? `[${c.service.address}]` : c.service.address}:${c.service.port}` : '';
    rows.push([c.address, String(c.count), String(c.total), ...(service ? [svc] : [])]);
  }
  return table(rows);
}

function summary(r: ConnScanResult): string {
  const malformed = r.malformed.total > 0
    ? `; ${r.malformed.total} malformed line(s): ${Object.entries(r.malformed.byProblem).map(([p, n]) => `${p} ${n}`).join(', ')}` : '';
  return `# ${r.file}: ${r.rows} rows, ${r.clients} clients, ${Object.entries(r.byState).map(([s, n]) => `${s} ${n}`).join(', ') || 'no rows'}` +
    `${malformed}${r.truncated ? ' (ended inside a row)' : ''}; ${r.elapsedMs.toFixed(1)} ms, ${r.reads} reads`;
}

interface TopOptions { netns?: string; file?: string; state: string; limit: number; threshold?: number; perService?: boolean; json?: boolean }

export function registerConnsCommands(program: Command): void {
  const conns = program.command('conns').description('the IPVS connection table: counts per client, without ipvsadm -lnc');

  conns.command('top')
    .description('clients with the most connections in a state, from one streaming pass over /proc/net/ip_vs_conn')
    .addOption(netnsOption())
    .option('--file <path>', 'a file in the /proc/net/ip_vs_conn format (default: the table itself)')
    .option('--state <name>', 'the state counted', 'ESTABLISHED')
    .option('--limit <n>', 'how many clients to show', wholeNumber, 20)
    .option('--threshold <n>', 'show every client holding more than N (as well)', wholeNumber)
    .option('--per-service', 'count per client and virtual service')
    .option('--json', 'print JSON')
    .action(async (opts: TopOptions) => {
      const result = await scanConnections({
        states: [opts.state], limit: opts.limit, perService: opts.perService ?? false,
        ...(opts.threshold === undefined ? {} : { threshold: opts.threshold }),
        ...(opts.netns === undefined ? {} : { netns: opts.netns }), ...(opts.file === undefined ? {} : { file: opts.file }),
      });
      if (opts.json) return console.log(JSON.stringify(result, null, 2));
      const shown = opts.threshold === undefined ? result.top : mergeRanked(result.top, result.overThreshold);
      if (shown.length > 0) console.log(formatClients(shown, opts.state));
      console.log(summary(result));
    });

  conns.command('list')
    .description('every row, as `ipvsadm -lnc` shows them (parsed natively in batches)')
    .addOption(netnsOption())
    .option('--file <path>', 'a file in the /proc/net/ip_vs_conn format')
    .option('--json', 'one JSON object per row')
    .action(async (opts: { netns?: string; file?: string; json?: boolean }) => {
      const reader = readConnections({ ...(opts.netns === undefined ? {} : { netns: opts.netns }), ...(opts.file === undefined ? {} : { file: opts.file }) });
      const out: string[] = opts.json ? [] : ['pro expire state       source                 virtual                destination'];
      const hostPort = (family: 4 | 6, a: string, p: number): string => (family === 6 ? `[${a}]:${p}` : `${a}:${p}`);
      for await (const r of reader) {
        if (opts.json) out.push(JSON.stringify(r));
        else out.push(`${r.protocol.padEnd(3)} ${clock(r.expiresSec)}  ${r.state.padEnd(11)} ${hostPort(r.family, r.clientAddress, r.clientPort).padEnd(22)} ` +
          `${hostPort(r.family, r.virtualAddress, r.virtualPort).padEnd(22)} ${hostPort(r.destFamily, r.destAddress, r.destPort)}`);
        if (out.length >= 4096) process.stdout.write(`${out.splice(0).join('\n')}\n`);
      }
      if (out.length > 0) process.stdout.write(`${out.join('\n')}\n`);
      if (reader.malformed.total > 0) console.error(`# ${reader.malformed.total} malformed line(s) skipped`);
    });

  addSyncOptions(conns.command('track')
    .description('follow the IPVS sync stream and print the clients with the most ESTABLISHED connections')
    .addOption(netnsOption())
    .option('--limit <n>', 'how many clients to show', wholeNumber, 20)
    .option('--threshold <n>', 'report clients crossing N as it happens', wholeNumber)
    .option('--every <seconds>', 'print the table this often', secondsAsMs, 5000)
    .option('--duration <seconds>', 'stop after this long (default: until interrupted)', secondsAsMs)
    .option('--json', 'print JSON lines'))
    .action(async (opts: SyncCliOptions & { limit: number; threshold?: number; every: number; duration?: number; json?: boolean }) => {
      const live = await LiveConnTable.open(liveOptions(opts, opts.threshold));
      const { tracker } = live;
      tracker.on('over', (c) => console.log(opts.json ? JSON.stringify({ event: 'over', ...c }) : `# ${c.address} crossed ${opts.threshold}: ${c.count} ESTABLISHED`));
      const print = (): void => {
        const top = tracker.top(opts.limit);
        const streams = Object.fromEntries([...live.streams].map(([role, s]) => [role, s.counters]));
        if (opts.json) console.log(JSON.stringify({ entries: tracker.size, clients: tracker.clients, top, counters: tracker.counters, streams }));
        else console.log(`${formatClients(top, 'ESTABLISHED')}\n# ${tracker.size} entries, ${tracker.clients} clients; ` +
          `${[...live.streams].map(([role, s]) => `${role}: ${s.counters.messages} messages, ${s.droppedTotal} dropped`).join('; ')}`);
      };
      const timer = setInterval(print, opts.every);
      await new Promise<void>((resolve) => {
        const stop = (): void => resolve();
        process.once('SIGINT', stop).once('SIGTERM', stop);
        if (opts.duration !== undefined) setTimeout(stop, opts.duration).unref();
      });
      clearInterval(timer);
      print();
      live.close();
    });
}

/** Seconds as `mm:ss`, as ipvsadm prints the expiry. */
function clock(seconds: number): string {
  return `${String(Math.floor(seconds / 60)).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}`;
}

/** The top list and the over-threshold list together, each client once, ranked. */
function mergeRanked(a: ClientCount[], b: ClientCount[]): ClientCount[] {
  const seen = new Map<string, ClientCount>();
  for (const c of [...a, ...b]) seen.set(`${c.address}|${c.service?.protocol ?? ''}|${c.service?.address ?? ''}|${c.service?.port ?? ''}`, c);
  return [...seen.values()].sort((x, y) => y.count - x.count || y.total - x.total);
}
