#!/usr/bin/env node
// layer: cli (composition only)
// job: the `lvskit` command: parse arguments, call the library, print.
import { Command, Option } from 'commander';
import { createRequire } from 'node:module';
import { isErrnoError } from '../errors.js';
import { RtnlClient } from '../rtnl/client.js';
import { formatAddresses, formatLinks } from './format.js';

const { version } = createRequire(import.meta.url)('../../../package.json') as { version: string };

const program = new Command('lvskit')
  .description('IPVS load balancer toolkit: VRRP, IPVS, ipset and health checks without keepalived')
  .version(version)
  .showHelpAfterError();

const netnsOption = new Option('-n, --netns <name>', 'network namespace (name under /var/run/netns, or a path)');

program.command('links')
  .description('list network interfaces (rtnetlink)')
  .addOption(netnsOption)
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
  .addOption(netnsOption)
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

try {
  await program.parseAsync();
} catch (err) {
  // Kernel and syscall errors carry their facts; print them without a stack trace.
  const facts = isErrnoError(err) ? ` [${err.code}${err.syscall ? `, ${err.syscall}` : ''}]` : '';
  console.error(`lvskit: ${err instanceof Error ? err.message : String(err)}${facts}`);
  process.exitCode = 1;
}
