// layer: kernel client (ipset) — daemon-side check, not part of the client
// job: is there a firewall rule that drops traffic whose source is in the set? Read from iptables-save and nft -j output.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { systemTool } from '../system-tools.js';

/** A rule that drops (or rejects) packets whose source is in the set. */
export interface FirewallRule {
  tool: 'iptables' | 'ip6tables';
  table: string;
  chain: string;
  /** The rule as iptables-save prints it. */
  rule: string;
  verdict: 'DROP' | 'REJECT';
}

/** What the check found. */
export interface FirewallCheck {
  setName: string;
  /** Rules matching the set by source with a DROP/REJECT verdict. */
  rules: FirewallRule[];
  /** True when at least one such rule exists. */
  ok: boolean;
  /** What else was seen or could not be read (missing tools, nft rules on nft sets of the same name). */
  notes: string[];
}

/** Split an iptables-save rule into words; "quoted strings" stay one word. */
function words(line: string): string[] {
  return [...line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '');
}

/**
 * Rules in iptables-save output that match set `setName` by source (`-m set --match-set NAME
 * src[,…]`, not negated) and jump to DROP or REJECT. Pure.
 */
export function findIptablesSetRules(saveOutput: string, setName: string, tool: FirewallRule['tool'] = 'iptables'): FirewallRule[] {
  const rules: FirewallRule[] = [];
  let table = '';
  for (const line of saveOutput.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1).trim();
    if (!line.startsWith('-A ')) continue;
    const w = words(line);
    const chain = w[1] ?? '';
    const at = w.indexOf('--match-set');
    if (at < 0 || w[at + 1] !== setName || w[at - 1] === '!') continue;
    if ((w[at + 2] ?? '').split(',')[0] !== 'src') continue;
    const verdict = w[w.indexOf('-j') + 1];
    if (w.indexOf('-j') < 0 || (verdict !== 'DROP' && verdict !== 'REJECT')) continue;
    rules.push({ tool, table, chain, rule: line, verdict });
  }
  return rules;
}

interface NftObject { rule?: { family?: string; table?: string; chain?: string; expr?: unknown[] } }

/**
 * What `nft -j list ruleset` says that matters here. nftables cannot look into an ipset: a
 * native `ip saddr @NAME drop` matches an nft set that happens to share the name, and an
 * iptables-nft rule shows only as `xt match set` (iptables-save names its set). Both are notes.
 */
export function describeNftRuleset(json: string, setName: string): string[] {
  const notes: string[] = [];
  let parsed: { nftables?: NftObject[] };
  try {
    parsed = JSON.parse(json) as { nftables?: NftObject[] };
  } catch (err) {
    return [`nft -j output is not JSON: ${(err as Error).message}`];
  }
  for (const item of parsed.nftables ?? []) {
    const rule = item.rule;
    if (!rule?.expr) continue;
    const where = `${rule.family ?? '?'} ${rule.table ?? '?'} ${rule.chain ?? '?'}`;
    const text = JSON.stringify(rule.expr);
    const drops = text.includes('{"drop":null}') || text.includes('"reject"');
    if (!drops) continue;
    if (text.includes(`"right":"@${setName}"`) && text.includes('"field":"saddr"')) {
      notes.push(`nft rule in ${where} drops sources in @${setName}: an nftables set of that name, not the ipset (nftables cannot read ipsets)`);
    } else if (text.includes('{"xt":{"type":"match","name":"set"}}')) {
      notes.push(`nft rule in ${where} is an iptables-nft "-m set" rule (nft does not show which set; iptables-save does)`);
    }
  }
  return notes;
}

/** Runs argv and returns stdout. */
export type CommandRunner = (argv: readonly string[]) => Promise<string>;

const execFileAsync = promisify(execFile);
const defaultRunner: CommandRunner = async ([cmd, ...args]) => (await execFileAsync(systemTool(cmd as string), args, { maxBuffer: 64 << 20 })).stdout;

/**
 * Check that the firewall drops traffic from the set: reads `iptables-save` (`ip6tables-save`
 * for inet6 sets; either backend, legacy or nft) and `nft -j list ruleset`, inside `netns` when
 * given (`ip netns exec`). A tool that is missing or fails becomes a note, not an error.
 */
export async function checkFirewall(setName: string, options: { family?: 'inet' | 'inet6'; netns?: string; run?: CommandRunner } = {}): Promise<FirewallCheck> {
  const run = options.run ?? defaultRunner;
  // `ip netns exec` searches PATH itself, so the tool it runs is named by its absolute path.
  const inNetns = ([cmd, ...args]: string[]): string[] => (options.netns !== undefined ? ['ip', 'netns', 'exec', options.netns, systemTool(cmd as string), ...args] : [cmd as string, ...args]);
  const tool = options.family === 'inet6' ? 'ip6tables' : 'iptables';
  const notes: string[] = [];
  let rules: FirewallRule[] = [];
  try {
    rules = findIptablesSetRules(await run(inNetns([`${tool}-save`])), setName, tool);
  } catch (err) {
    notes.push(`${tool}-save could not be read: ${(err as Error).message.split('\n')[0]}`);
  }
  try {
    notes.push(...describeNftRuleset(await run(inNetns(['nft', '-j', 'list', 'ruleset'])), setName));
  } catch (err) {
    notes.push(`nft -j list ruleset could not be read: ${(err as Error).message.split('\n')[0]}`);
  }
  return { setName, rules, ok: rules.length > 0, notes };
}
