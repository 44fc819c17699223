#!/usr/bin/env node
// layer: cli (composition only)
// job: the `lvskit` command: build the program from each command group's register function, run it.
import { Command } from 'commander';
import { createRequire } from 'node:module';
import { isErrnoError } from '../errors.js';
import { registerAutobanCommands } from './autoban.js';
import { registerConfigCommands } from './check.js';
import { registerConnsCommands } from './conns.js';
import { registerDaemonControlCommands } from './daemon-control.js';
import { registerIpsetCommands } from './ipset.js';
import { registerIpvsCommands } from './ipvs.js';
import { registerLinkCommands } from './links.js';
import { registerRealServerCommand } from './realserver.js';
import { registerRunCommand } from './run.js';
import { registerVrrpCommands } from './vrrp.js';

const { version } = createRequire(import.meta.url)('../../../package.json') as { version: string };

const program = new Command('lvskit')
  .description('IPVS load balancer toolkit: VRRP, IPVS, ipset and health checks without keepalived')
  .version(version)
  .showHelpAfterError();

// One line per command group (src/cli/<group>.ts).
registerRunCommand(program);
registerDaemonControlCommands(program);
registerLinkCommands(program);
registerIpvsCommands(program);
registerIpsetCommands(program);
registerConfigCommands(program);
registerVrrpCommands(program);
registerConnsCommands(program);
registerAutobanCommands(program);
registerRealServerCommand(program);

try {
  await program.parseAsync();
} catch (err) {
  // Kernel and syscall errors carry their facts; print them without a stack trace.
  const facts = isErrnoError(err) ? ` [${err.code}${err.syscall ? `, ${err.syscall}` : ''}]` : '';
  console.error(`lvskit: ${err instanceof Error ? err.message : String(err)}${facts}`);
  process.exitCode = 1;
}
