#!/usr/bin/env node
// layer: cli (composition only)
// job: the `lvskit` command: load only the module of the command given (src/cli/commands.ts), build the program, run it; errors as one `lvskit: ...` line.
import { readFileSync } from 'node:fs';
import { commandOf, registerCommands } from './commands.js';

const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
const argv = process.argv.slice(2);
const command = commandOf(argv);

if (command === undefined && argv.length > 0 && argv.every((a) => a === '-V' || a === '--version')) {
  // The fast path: no command, no commander (see docs/benchmarks.md, "Starting the CLI").
  process.stdout.write(`${version}\n`);
} else if (command === 'conns' && argv[1] === 'top' && await plainConnsTop()) {
  // Done without commander: a plain `conns top` line (src/cli/conns-top.ts).
} else {
  if (command === 'run' && !argv.includes('--no-malloc-tuning')) {
    // Before anything else loads: glibc fixes its arena limit once the process's threads have made
    // 8 arenas, and V8's helper threads make theirs while the modules compile (src/daemon/malloc-tuning.ts).
    const [{ limitMallocArenas }, { mallocArenaMax }] = await Promise.all([import('../daemon/malloc-tuning.js'), import('../native/malloc.js')]);
    limitMallocArenas(process.env, mallocArenaMax);
  }
  if (command === 'run' && !argv.includes('--no-heap-tuning')) {
    // V8's heap grown in small steps, for both isolates (the VRRP worker starts later): src/daemon/heap-tuning.ts.
    const [{ tuneV8Heap }, v8] = await Promise.all([import('../daemon/heap-tuning.js'), import('node:v8')]);
    tuneV8Heap(process.execArgv, process.env, (flag) => v8.setFlagsFromString(flag));
  }
  const { Command } = await import('commander');
  const program = new Command('lvskit')
    .description('IPVS load balancer toolkit: VRRP, IPVS, ipset and health checks without keepalived')
    .version(version)
    // Commander's own errors (an unknown option, a missing argument, a refused value) read like ours.
    .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'lvskit: ')) })
    .showHelpAfterError('(add --help for usage)');
  try {
    await registerCommands(program, command);
    await program.parseAsync();
  } catch (err) {
    // Kernel and syscall errors carry their facts; print them without a stack trace.
    const { isErrnoError } = await import('../errors.js');
    const facts = isErrnoError(err) ? ` [${err.code}${err.syscall ? `, ${err.syscall}` : ''}]` : '';
    console.error(`lvskit: ${err instanceof Error ? err.message : String(err)}${facts}`);
    process.exitCode = 1;
  }
}

/**
 * `conns top` with only its plain options (each once, well formed) runs without loading commander:
 * the scan of a large table is most of what such a command does, and the parser a tenth of it.
 * False when the line is not plain, or when the run failed before printing anything: then commander
 * reads the line and the command runs again, reporting any error as it always does.
 */
async function plainConnsTop(): Promise<boolean> {
  const { plainTopOptions, top } = await import('./conns-top.js');
  const opts = plainTopOptions(argv);
  if (!opts) return false;
  try {
    await top(opts);
    return true;
  } catch {
    return false;
  }
}

