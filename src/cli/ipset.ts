// layer: cli (composition only)
// job: `lvskit ipset list|load|save`: ban lists through the ipset nfnetlink client, without the ipset command.
import { Option, type Command } from 'commander';
import type { LoadBlacklistOptions } from '../ipset/blacklist-load.js';
import type { IpsetClient } from '../ipset/client.js';
import { existingFile, netnsOption } from './options.js';
import { progressBar } from './progress.js';

interface NetnsOpts { netns?: string }

async function withClient<T>(opts: NetnsOpts, fn: (client: IpsetClient) => Promise<T>): Promise<T> {
  const { IpsetClient: Client } = await import('../ipset/client.js');
  const client = await Client.open(opts.netns !== undefined ? { netns: opts.netns } : {});
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

/** JSON with 64-bit counters as numbers when exact, strings otherwise. */
function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : String(v)) : v), 2);
}

function positiveInt(text: string): number {
  if (!/^\d+$/.test(text)) throw new Error(`not a non-negative integer: ${text}`);
  return Number(text);
}

export function registerIpsetCommands(program: Command): void {
  const ipset = program.command('ipset').description('ipset ban lists over nfnetlink (no ipset command needed)');

  ipset.command('list')
    .description('list one set or all, as `ipset list` prints them')
    .argument('[name]', 'set name (default: all sets)')
    .addOption(netnsOption())
    .option('-t, --terse', 'headers only, no members')
    .option('--names', 'set names only')
    .option('--json', 'print JSON')
    .action(async (name: string | undefined, opts: NetnsOpts & { terse?: boolean; names?: boolean; json?: boolean }) => {
      const { formatListing, formatListings } = await import('../ipset/format.js');
      await withClient(opts, async (client) => {
        if (opts.names) {
          const names = await client.listNames();
          console.log(opts.json ? toJson(names) : names.join('\n'));
          return;
        }
        const headerOnly = opts.terse ?? false;
        if (name !== undefined) {
          const listing = headerOnly ? await client.describe(name) : await client.list(name);
          console.log(opts.json ? toJson(listing) : formatListing(listing, { headerOnly }));
          return;
        }
        const listings = await client.listAll({ headersOnly: headerOnly });
        if (opts.json) console.log(toJson(listings));
        else if (listings.length > 0) console.log(formatListings(listings, { headerOnly }));
      });
    });

  ipset.command('load')
    .description('make a set hold exactly the addresses/CIDRs of a static_blacklist file, with no gap (temporary set + swap)')
    .argument('<name>', 'set name')
    .argument('<file>', 'one address or CIDR per line, # comments', existingFile('FILE'))
    .addOption(netnsOption())
    .option('--skip-invalid', 'load the valid lines and report the others (default: any invalid line changes nothing)')
    .addOption(new Option('--create <type>', 'create the set when it does not exist').choices(['hash:ip', 'hash:net']))
    .addOption(new Option('--family <family>', 'family of a set made by --create').choices(['inet', 'inet6']).default('inet'))
    .option('--maxelem <n>', 'maxelem of a set made by --create', positiveInt)
    .option('--timeout <seconds>', 'default entry timeout of a set made by --create', positiveInt)
    .option('--check-firewall', 'warn when no iptables rule drops traffic from the set')
    .action(async (name: string, file: string, opts: NetnsOpts & { skipInvalid?: boolean; create?: 'hash:ip' | 'hash:net';
      family: 'inet' | 'inet6'; maxelem?: number; timeout?: number; checkFirewall?: boolean }) => {
      const options: LoadBlacklistOptions = { skipInvalid: opts.skipInvalid ?? false };
      if (opts.create) {
        options.create = { type: opts.create, family: opts.family };
        if (opts.maxelem !== undefined) options.create.maxElements = opts.maxelem;
        if (opts.timeout !== undefined) options.create.timeoutSec = opts.timeout;
      }
      const started = performance.now();
      const [{ loadBlacklist }, { formatProblem }] = await Promise.all([import('../ipset/blacklist-load.js'), import('../ipset/blacklist-file.js')]);
      // A bar for a load that takes a while (10,000 entries or more, shown once their count is known).
      let bar: ReturnType<typeof progressBar>;
      options.onProgress = (p) => {
        if (bar === undefined && p.total !== undefined && p.total >= 10_000) bar = progressBar({ total: p.total, unit: 'entries' });
        bar?.update(p.done);
      };
      const result = await withClient(opts, (client) => loadBlacklist(client, name, file, options)).finally(() => bar?.stop());
      for (const problem of result.skipped) console.error(`skipped ${formatProblem(problem)}`);
      const ms = Math.round(performance.now() - started);
      const skipped = result.skipped.length > 0 ? `; ${result.skipped.length} invalid line${result.skipped.length === 1 ? '' : 's'} skipped` : '';
      console.log(`${result.created ? 'created and loaded' : 'loaded'} ${result.loaded} entries into ${name} (${result.type} ${result.family}) in ${ms} ms${skipped}`);
      if (opts.checkFirewall) await warnWithoutRule(name, result.family, opts.netns);
    });

  ipset.command('save')
    .description('write a set\'s members into a static_blacklist file (atomically, mode 0644)')
    .argument('<name>', 'set name')
    .argument('<file>', 'file to write')
    .addOption(netnsOption())
    .action(async (name: string, file: string, opts: NetnsOpts) => {
      const { saveBlacklist } = await import('../ipset/blacklist-load.js');
      const count = await withClient(opts, (client) => saveBlacklist(client, name, file));
      console.log(`saved ${count} entries of ${name} to ${file}`);
    });
}

async function warnWithoutRule(name: string, family: string, netns: string | undefined): Promise<void> {
  const { checkFirewall } = await import('../ipset/firewall-check.js');
  const check = await checkFirewall(name, { family: family === 'inet6' ? 'inet6' : 'inet', ...(netns !== undefined ? { netns } : {}) });
  for (const rule of check.rules) console.log(`firewall: ${rule.tool} -t ${rule.table} ${rule.rule}`);
  for (const note of check.notes) console.error(`firewall: ${note}`);
  if (!check.ok) {
    const tool = family === 'inet6' ? 'ip6tables' : 'iptables';
    console.error(`warning: no ${tool} rule drops traffic from ${name}; e.g. ${tool} -I INPUT -m set --match-set ${name} src -j DROP`);
  }
}
