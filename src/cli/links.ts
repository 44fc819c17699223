// layer: cli (composition only)
// job: `lvskit links` and `lvskit addrs`: interfaces and addresses through the rtnetlink client.
import { Option, type Command } from 'commander';
import type { RtnlClient } from '../rtnl/client.js';
import { formatAddresses, formatLinks } from './format.js';
import { netnsOption, renamedOption } from './options.js';

async function openClient(netns: string | undefined): Promise<RtnlClient> {
  const { RtnlClient: Client } = await import('../rtnl/client.js');
  return Client.open(netns !== undefined ? { netns } : {});
}

export function registerLinkCommands(program: Command): void {
  program.command('links')
    .description('list network interfaces (rtnetlink)')
    .addOption(netnsOption())
    .option('--json', 'print JSON')
    .action(async (opts: { netns?: string; json?: boolean }) => {
      const rtnl = await openClient(opts.netns);
      try {
        const links = await rtnl.listLinks();
        console.log(opts.json ? JSON.stringify(links, null, 2) : formatLinks(links));
      } finally {
        rtnl.close();
      }
    });

  const addrs = program.command('addrs')
    .description('list interface addresses with their labels (rtnetlink)')
    .addOption(netnsOption())
    .addOption(new Option('--family <family>', 'only this family').choices(['4', '6', 'inet', 'inet6']))
    .addOption(new Option('-4', 'only IPv4 (as ip -4)').conflicts(['family', '6']))
    .addOption(new Option('-6', 'only IPv6 (as ip -6)').conflicts(['family']))
    .option('--json', 'print JSON');
  renamedOption(addrs, '-f <family>', 'the family is --family 4|6 (or -4, -6 as ip takes them); -f is a keepalived configuration wherever one is read')
    .action(async (opts: { netns?: string; family?: '4' | '6' | 'inet' | 'inet6'; 4?: boolean; 6?: boolean; json?: boolean }) => {
      const family = opts[4] || opts.family === '4' || opts.family === 'inet' ? 4 : opts[6] || opts.family === '6' || opts.family === 'inet6' ? 6 : undefined;
      const rtnl = await openClient(opts.netns);
      try {
        const [links, addrs] = await Promise.all([
          rtnl.listLinks(),
          rtnl.listAddresses(family ? { family } : {}),
        ]);
        console.log(opts.json ? JSON.stringify(addrs, null, 2) : formatAddresses(addrs, links));
      } finally {
        rtnl.close();
      }
    });
}
