// layer: cli (composition only)
// job: `lvskit conns top|list|track`: who holds how many connections, from /proc/net/ip_vs_conn (or a saved table) or the live sync stream.
import { Option, type Command } from 'commander';
import type { LiveConnTable, SyncRole } from '../conns/live.js';
import { CONN_STATE_NAMES, formatClients, top, type TopOptions } from './conns-top.js';
import { netnsOption, oneOfOption, renamedOption, secondsAsMs, tableFileOption, wholeNumber } from './options.js';

export { secondsAsMs, wholeNumber } from './options.js';

export { CONN_STATE_NAMES, formatClients } from './conns-top.js';

/** The sync-stream options shared by `conns track` and `autoban`. */
export function addSyncOptions(cmd: Command): Command {
  return cmd
    .option('--interface <name>', 'the sync interface (lvs_sync_daemon / --mcast-interface)')
    .option('--sync-id <id>', 'only messages of this sync id (default: any)', wholeNumber)
    .option('--group <address>', 'sync multicast group (default 224.0.0.81)')
    .option('--port <port>', 'first sync port (default 8848)', wholeNumber)
    .option('--ports <n>', 'sync threads, net.ipv4.vs.sync_ports (default 1)', wholeNumber)
    .addOption(new Option('--role <role>', 'follow what this host sends (master), receives (backup), or both').choices(['master', 'backup', 'both']).default('both'));
}

export interface SyncCliOptions { interface?: string; syncId?: number; group?: string; port?: number; ports?: number; role: 'master' | 'backup' | 'both'; netns?: string }

/** LiveTableOptions from the command line. */
export function liveOptions(opts: SyncCliOptions, threshold: number | undefined, perService = false): Parameters<typeof LiveConnTable.open>[0] {
  if (opts.interface === undefined) throw new Error('--interface NAME is required to follow the sync stream');
  const roles: SyncRole[] = opts.role === 'both' ? ['master', 'backup'] : [opts.role];
  return {
    interface: opts.interface, roles, perService,
    ...(opts.netns === undefined ? {} : { netns: opts.netns }), ...(opts.syncId === undefined ? {} : { syncId: opts.syncId }),
    ...(opts.group === undefined ? {} : { group: opts.group }), ...(opts.port === undefined ? {} : { port: opts.port }),
    ...(opts.ports === undefined ? {} : { ports: opts.ports }), ...(threshold === undefined ? {} : { threshold }),
  };
}

/** 0.1's `--file` (the table) is `--table-file` now: `-f, --file` means a keepalived configuration everywhere. */
function tableFileRenamed(cmd: Command): Command {
  return renamedOption(cmd, '--file <path>', 'the connection table is --table-file FILE (-f/--file is a keepalived configuration everywhere)');
}

export function registerConnsCommands(program: Command): void {
  const conns = program.command('conns').description('the IPVS connection table: counts per client, without ipvsadm -lnc');

  tableFileRenamed(conns.command('top')
    .description('clients with the most connections in a state, from one streaming pass over /proc/net/ip_vs_conn')
    .addOption(netnsOption())
    .addOption(tableFileOption())
    .addOption(oneOfOption('--state <name>', 'the state counted, as the kernel names it', CONN_STATE_NAMES, 'a connection state').default('ESTABLISHED'))
    .option('--limit <n>', 'how many clients to show', wholeNumber, 20)
    .option('--threshold <n>', 'show every client holding more than N (as well)', wholeNumber)
    .option('--per-service', 'count per client and virtual service')
    .option('--json', 'print JSON'))
    .action((opts: TopOptions) => top(opts));

  tableFileRenamed(conns.command('list')
    .description('every row, as `ipvsadm -lnc` prints them (parsed natively in batches)')
    .addOption(netnsOption())
    .addOption(tableFileOption())
    .option('--json', 'one JSON object per row'))
    .action(async (opts: { netns?: string; tableFile?: string; json?: boolean }) => {
      const [{ readConnections }, { CONNECTION_HEADER, formatConnectionRow }] = await Promise.all([import('../conns/rows.js'), import('../conns/format.js')]);
      const reader = readConnections({ ...(opts.netns === undefined ? {} : { netns: opts.netns }), ...(opts.tableFile === undefined ? {} : { file: opts.tableFile }) });
      const out: string[] = opts.json ? [] : [CONNECTION_HEADER];
      for await (const r of reader) {
        out.push(opts.json ? JSON.stringify(r) : formatConnectionRow(r));
        if (out.length >= 4096) process.stdout.write(`${out.splice(0).join('\n')}\n`);
      }
      if (out.length > 0) process.stdout.write(`${out.join('\n')}\n`);
      if (reader.malformed.total > 0) console.error(`# ${reader.malformed.total} malformed line(s) skipped`);
    });

  const track = addSyncOptions(conns.command('track')
    .description('follow the IPVS sync stream and print the clients with the most ESTABLISHED connections')
    .addOption(netnsOption())
    .option('--limit <n>', 'how many clients to show', wholeNumber, 20)
    .option('--threshold <n>', 'report clients crossing N as it happens', wholeNumber)
    .addOption(new Option('--every <seconds>', 'print the table this often').argParser(secondsAsMs).default(5000, '5 s'))
    .option('--duration <seconds>', 'stop after this long (default: until interrupted)', secondsAsMs)
    .option('--json', 'print JSON lines'));
  renamedOption(track, '-i <name>', 'the sync interface is --interface NAME (-i is the config id wherever a configuration is read)')
    .action(async (opts: SyncCliOptions & { limit: number; threshold?: number; every: number; duration?: number; json?: boolean }) => {
      const { LiveConnTable } = await import('../conns/live.js');
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
