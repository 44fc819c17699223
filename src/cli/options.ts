// layer: cli (composition only)
// job: the options every command spells the same way (the configuration is keepalived's `-f FILE` and `-i ID`, the rest long names), their checks, and hints for the spellings 0.1 used.
import fs from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';

/** keepalived's default configuration file (`keepalived -f` when none is given). */
export const DEFAULT_CONFIG_FILE = '/etc/keepalived/keepalived.conf';

/** Where `ip netns` keeps its named namespaces. */
const NETNS_DIR = '/var/run/netns';

/** A network namespace: a name `ip netns add` made, or a path (/proc/PID/ns/net); refused before any kernel access when it does not exist. */
export function netnsName(value: string): string {
  if (value.includes('/')) {
    if (!fs.existsSync(value)) throw new InvalidArgumentError(`${value} does not exist`);
    return value;
  }
  if (value === '' || value === '.' || value === '..' || /\s/.test(value)) throw new InvalidArgumentError('not a network namespace name');
  if (!fs.existsSync(`${NETNS_DIR}/${value}`)) throw new InvalidArgumentError(`there is no network namespace ${value} (\`ip netns list\` shows them)`);
  return value;
}

/** `-n, --netns <name>`: run the command against another network namespace. */
export function netnsOption(): Option {
  return new Option('-n, --netns <name>', 'network namespace (name under /var/run/netns, or a path)').argParser(netnsName);
}

/** `-f, --file <FILE>`: the keepalived configuration, as keepalived's `-f`. */
export function configFileOption(description = `keepalived configuration (default ${DEFAULT_CONFIG_FILE})`): Option {
  return new Option('-f, --file <FILE>', description);
}

/** `-i, --config-id <ID>`: keepalived's `-i`, the id `@ID` lines are selected by. */
export function configIdOption(): Option {
  return new Option('-i, --config-id <ID>', 'config id for @ID conditional lines, as keepalived -i (default: the host name\'s first label)');
}

/** `--table-file <FILE>`: a connection table saved in the /proc/net/ip_vs_conn format, read instead of the kernel's. */
export function tableFileOption(): Option {
  return new Option('--table-file <FILE>', 'read a file in the /proc/net/ip_vs_conn format instead of the kernel\'s table').argParser(existingFile('--table-file'));
}

/** A file that must exist (checked when the command line is read, before anything else). */
export function existingFile(option: string): (value: string) => string {
  return (value) => {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(value);
    } catch {
      throw new InvalidArgumentError(`${value} does not exist`);
    }
    if (stat.isDirectory()) throw new InvalidArgumentError(`${value} is a directory, not a file (${option})`);
    return value;
  };
}

/**
 * The configuration file of a command that takes it as `[FILE]` or as `-f FILE` (either, not two
 * different ones); `fallback` when neither is given (null: one must be).
 */
export function configFileOf(positional: string | undefined, option: string | undefined, fallback: string | null = DEFAULT_CONFIG_FILE): string {
  if (positional !== undefined && option !== undefined && positional !== option) {
    throw new Error(`two configuration files given (${positional} and -f ${option}): give one`);
  }
  const file = positional ?? option ?? fallback;
  if (file === null) throw new Error('no file given: name it, or use -f FILE');
  return file;
}

/** A whole number ≥ 0 from the command line. */
export function wholeNumber(text: string): number {
  if (!/^\d+$/.test(text)) throw new InvalidArgumentError('not a whole number');
  return Number(text);
}

const DURATION_UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** A duration from the command line, as milliseconds: seconds (decimals allowed: `0.5`), or with a unit (`500ms`, `1s`, `1.5s`, `2m`). */
export function secondsAsMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text);
  const ms = m ? Math.round(Number(m[1]) * (DURATION_UNIT_MS[m[2] ?? 's'] ?? 1000)) : 0;
  if (ms <= 0) throw new InvalidArgumentError('not a positive number of seconds (or a duration with a unit: 500ms, 1s, 2m)');
  return ms;
}

/** An option whose value is one of `names`, checked by oneOf() (its own message) and offered by shell completion. */
export function oneOfOption(flags: string, description: string, names: readonly string[], what: string): Option {
  return Object.assign(new Option(flags, description).argParser(oneOf(names, what)), { completionValues: names });
}

/** A value among `names` (exactly as written there), or an error listing them. */
export function oneOf(names: readonly string[], what: string): (value: string) => string {
  return (value) => {
    if (names.includes(value)) return value;
    const near = names.find((n) => n.toLowerCase() === value.toLowerCase());
    throw new InvalidArgumentError(`not ${what}${near ? ` (did you mean ${near}?)` : ''}; one of ${names.join(', ')}`);
  };
}

/**
 * An option spelled differently in lvskit 0.1: still recognised (hidden from --help), and refused
 * with the new spelling, so that an old script fails loudly instead of meaning something else.
 */
export function renamedOption(cmd: Command, flags: string, hint: string): Command {
  const option = new Option(flags).hideHelp();
  cmd.addOption(option);
  return cmd.hook('preAction', (command) => {
    if (command.getOptionValue(option.attributeName()) !== undefined) command.error(`lvskit: ${option.long ?? option.short}: ${hint} (renamed in 0.2.0, see CHANGELOG.md)`);
  });
}
