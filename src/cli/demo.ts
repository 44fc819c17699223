// layer: cli (composition only)
// job: `lvskit demo`: refuse without root, then run the demo site here (src/demo/run.ts) or, when this kernel has no IPVS, inside user-mode Linux (src/demo/uml.ts); Ctrl-C stops it and cleans up.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Option, type Command } from 'commander';

interface DemoCliOptions {
  interactive: boolean;
  insideUml?: boolean;
  workDir?: string;
}

/** Exit status when the demo cannot run at all for want of root (as a usage error). */
export const NOT_ROOT_STATUS = 2;

export const NOT_ROOT_MESSAGE = 'lvskit demo: needs root: it creates network namespaces, runs `lvskit run` in them and changes IPVS state there. Run it as `sudo npx lvskit demo`.';

async function demo(opts: DemoCliOptions): Promise<number> {
  if (process.getuid?.() !== 0) {
    console.error(NOT_ROOT_MESSAGE);
    return NOT_ROOT_STATUS;
  }
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const interactive = opts.interactive && (opts.insideUml === true || process.stdout.isTTY === true);
  const write = (text: string): void => { process.stdout.write(text); };
  const { hostHasIpvs, runDemoInUml, umlUnavailable } = await import('../demo/uml.js');
  if (opts.insideUml || hostHasIpvs()) {
    const { runDemo } = await import('../demo/run.js');
    return runDemo({ interactive, signal: abort.signal, write }, opts.workDir);
  }
  const missing = umlUnavailable();
  if (missing) {
    console.error(`lvskit demo: ${missing}`);
    return 1;
  }
  console.log('this kernel has no IPVS: booting user-mode Linux (linux.uml) with this machine\'s root, as the IPVS test tier does');
  const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const guest = await runDemoInUml({ repo, args: interactive ? [] : ['--no-interactive'], onOutput: write, signal: abort.signal });
  if (abort.signal.aborted) {
    console.log('interrupted: user-mode Linux stopped, and everything the demo made inside it with it');
    return 130;
  }
  if (guest.status === undefined) console.error(`lvskit demo: user-mode Linux ended without a result; its console:\n${guest.console.split('\n').slice(-30).join('\n')}`);
  return guest.status ?? 1;
}

export function registerDemoCommand(program: Command): void {
  program.command('demo')
    .description('build a two-balancer site in network namespaces (lvskit run on lb1 and lb2, three DR real servers, a client) and show it working through a master failure, a real-server failure and a reload; needs root')
    .option('--no-interactive', 'print the phases and the summary without a live view (also when stdout is not a terminal)')
    .addOption(new Option('--inside-uml', 'running inside user-mode Linux (set by the demo itself)').hideHelp())
    .addOption(new Option('--work-dir <dir>', 'where the lab\'s files go (default /var/tmp)').hideHelp())
    .action(async (opts: DemoCliOptions) => { process.exitCode = await demo(opts); });
}
