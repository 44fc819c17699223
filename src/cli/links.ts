// layer: cli (composition only)
// job: `lvskit links` and `lvskit addrs`: interfaces and addresses through the rtnetlink client.
import { Option, type Command } from 'commander';
import { RtnlClient } from '../rtnl/client.js';
import { formatAddresses, formatLinks } from './format.js';
import { netnsOption } from './options.js';

export function registerLinkCommands(program: Command): void {
  program.command('links')
    .description('list network interfaces (rtnetlink)')
    .addOption(netnsOption())
    .option('--json', 'print JSON')
    .action(async (opts: { netns?: string; json?: boolean }) => {
      const rtnl = RtnlClient.open(opts.netns !== undefined ? { netns: opts.netns } : {});
      try {
        const links = await rtnl.listLinks();
        console.log(opts.json ? JSON.stringify(links, null, 2) : formatLinks(links));
      } finally {
        rtnl.close();
      }
    });

  program.command('addrs')
    .description('list interface addresses with their labels (rtnetlink)')
    .addOption(netnsOption())
    .addOption(new Option('-f, --family <family>', 'only this family').choices(['4', '6']))
    .option('--json', 'print JSON')
    .action(async (opts: { netns?: string; family?: '4' | '6'; json?: boolean }) => {
      const rtnl = RtnlClient.open(opts.netns !== undefined ? { netns: opts.netns } : {});
      try {
        const [links, addrs] = await Promise.all([
          rtnl.listLinks(),
          rtnl.listAddresses(opts.family ? { family: Number(opts.family) as 4 | 6 } : {}),
        ]);
        console.log(opts.json ? JSON.stringify(addrs, null, 2) : formatAddresses(addrs, links));
      } finally {
        rtnl.close();
      }
    });
}
