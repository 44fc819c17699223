// layer: cli (composition only)
// job: which module defines each top-level command, so that `lvskit CMD` loads that module alone (and `lvskit --help` or completion all of them).
import type { Command } from 'commander';

type Register = (program: Command) => void;

/** Command groups in the order `lvskit --help` lists them: the commands each defines, and how to load it. */
const GROUPS: readonly { commands: readonly string[]; load: () => Promise<Register> }[] = [
  { commands: ['run'], load: async () => (await import('./run.js')).registerRunCommand },
  { commands: ['status', 'reload', 'stop'], load: async () => (await import('./daemon-control.js')).registerDaemonControlCommands },
  { commands: ['top'], load: async () => (await import('./top.js')).registerTopCommand },
  { commands: ['links', 'addrs'], load: async () => (await import('./links.js')).registerLinkCommands },
  { commands: ['ipvs'], load: async () => (await import('./ipvs.js')).registerIpvsCommands },
  { commands: ['ipset'], load: async () => (await import('./ipset.js')).registerIpsetCommands },
  { commands: ['check', 'config'], load: async () => (await import('./check.js')).registerConfigCommands },
  { commands: ['vrrp'], load: async () => (await import('./vrrp.js')).registerVrrpCommands },
  { commands: ['conns'], load: async () => (await import('./conns.js')).registerConnsCommands },
  { commands: ['autoban'], load: async () => (await import('./autoban.js')).registerAutobanCommands },
  { commands: ['realserver'], load: async () => (await import('./realserver.js')).registerRealServerCommand },
  { commands: ['demo'], load: async () => (await import('./demo.js')).registerDemoCommand },
  { commands: ['completion'], load: async () => (await import('./completion.js')).registerCompletionCommand },
];

/**
 * The command `argv` (process.argv without node and the script) names: its first word that is not
 * an option (the program's own options, --version and --help, take no value), or the command after
 * `help`. Undefined when there is none.
 */
export function commandOf(argv: readonly string[]): string | undefined {
  const words = argv.filter((a) => !a.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}

/** Register the group that defines `command`; every group when `command` is undefined or unknown. Returns whether one group sufficed. */
export async function registerCommands(program: Command, command?: string): Promise<boolean> {
  const group = command === undefined ? undefined : GROUPS.find((g) => g.commands.includes(command));
  if (group) {
    (await group.load())(program);
    return true;
  }
  for (const register of await Promise.all(GROUPS.map((g) => g.load()))) register(program);
  return false;
}

/** Every command group registered (for completion and help): the whole program. */
export async function registerAll(program: Command): Promise<void> {
  const known = new Set(program.commands.map((c) => c.name()));
  for (const g of GROUPS) {
    if (g.commands.every((c) => known.has(c))) continue;
    (await g.load())(program);
  }
}
