// layer: config (interim, until src/config parses keepalived.conf)
// job: read keepalived's vrrp_instance / vrrp_sync_group blocks (and global_defs vrrp_version) into typed VRRP settings, with file:line:col on errors.
import type { NotifyScripts, TrackInterfaceConfig, VirtualAddressConfig, VrrpInstanceConfig, VrrpSyncGroupConfig } from './instance.js';

/** A keepalived.conf error with its position. */
export class KeepalivedParseError extends Error {
  override name = 'KeepalivedParseError';
  constructor(readonly file: string, readonly line: number, readonly column: number, detail: string) {
    super(`${file}:${line}:${column}: ${detail}`);
  }
}

interface Token { text: string; line: number; column: number; quoted: boolean }
interface Node { keyword: Token; args: Token[]; children?: Node[] }

/** Words, quoted strings and braces; `#` and `!` start comments (keepalived's lexical rules, minus includes). */
function tokenize(text: string, file: string): Token[][] {
  const lines: Token[][] = [];
  text.split('\n').forEach((raw, i) => {
    const tokens: Token[] = [];
    const re = /"((?:[^"\\]|\\.)*)"|([{}])|([^\s{}"#!]+)|([#!].*)|(")/g;
    for (let m = re.exec(raw); m; m = re.exec(raw)) {
      if (m[4] !== undefined) break;
      if (m[5] !== undefined) throw new KeepalivedParseError(file, i + 1, m.index + 1, 'unterminated quoted string');
      const value = m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3]!);
      tokens.push({ text: value, line: i + 1, column: m.index + 1, quoted: m[1] !== undefined });
    }
    lines.push(tokens);
  });
  return lines;
}

/** Statements: `keyword args… [{ … }]`; a block may open on the keyword's line. */
function parseNodes(file: string, text: string): Node[] {
  const flat = tokenize(text, file).flatMap((line) => [...line, { text: '\n', line: 0, column: 0, quoted: true }]);
  let i = 0;
  const block = (depth: number, opener?: Token): Node[] => {
    const nodes: Node[] = [];
    for (;;) {
      const t = flat[i];
      if (!t) {
        if (depth > 0) throw new KeepalivedParseError(file, opener!.line, opener!.column, 'block is never closed');
        return nodes;
      }
      i++;
      if (t.text === '\n' && t.quoted) continue;
      if (t.text === '}' && !t.quoted) {
        if (depth === 0) throw new KeepalivedParseError(file, t.line, t.column, 'unexpected }');
        return nodes;
      }
      if (t.text === '{' && !t.quoted) throw new KeepalivedParseError(file, t.line, t.column, 'a block needs a keyword before {');
      const node: Node = { keyword: t, args: [] };
      while (flat[i] && !(flat[i]!.text === '\n' && flat[i]!.quoted) && !(flat[i]!.text === '{' && !flat[i]!.quoted) && !(flat[i]!.text === '}' && !flat[i]!.quoted)) node.args.push(flat[i++]!);
      if (flat[i]?.text === '{' && !flat[i]!.quoted) {
        const open = flat[i++]!;
        node.children = block(depth + 1, open);
      }
      nodes.push(node);
    }
  };
  return block(0);
}

/** What was read: instances, sync groups, and the keywords lvskit's VRRP ignores (with positions). */
export interface KeepalivedVrrp {
  instances: VrrpInstanceConfig[];
  syncGroups: VrrpSyncGroupConfig[];
  warnings: string[];
}

/** Keywords that change nothing here: `state` (the election decides; an owner is priority 255), logging and mail. */
const IGNORED = new Set(['state', 'debug', 'smtp_alert']);

/** Reads values out of nodes; knows the file for positions and collects warnings. */
class Reader {
  readonly warnings: string[] = [];
  constructor(readonly file: string) {}

  at(t: Token): string { return `${this.file}:${t.line}:${t.column}`; }
  fail(t: Token, detail: string): never { throw new KeepalivedParseError(this.file, t.line, t.column, detail); }
  one(n: Node): string { return n.args.length === 1 ? n.args[0]!.text : this.fail(n.keyword, `${n.keyword.text} takes one value`); }
  int(n: Node): number {
    const v = this.one(n);
    return /^-?\d+$/.test(v) ? Number(v) : this.fail(n.args[0]!, `${n.keyword.text}: ${JSON.stringify(v)} is not an integer`);
  }
  /** keepalived's seconds (fractions allowed) → ms. */
  seconds(n: Node): number {
    const v = this.one(n);
    return /^\d+(\.\d+)?$/.test(v) ? Math.round(Number(v) * 1000) : this.fail(n.args[0]!, `${n.keyword.text}: ${JSON.stringify(v)} is not a number of seconds`);
  }
  /** A script: one quoted argument is keepalived's "script with args" form, split on spaces. */
  script(n: Node): string[] {
    if (n.args.length === 0) this.fail(n.keyword, `${n.keyword.text} needs a script`);
    return n.args.length === 1 && n.args[0]!.quoted ? n.args[0]!.text.split(/\s+/).filter(Boolean) : n.args.map((a) => a.text);
  }
}

const NOTIFY_KEYS: Record<string, keyof NotifyScripts> = {
  notify_master: 'master', notify_backup: 'backup', notify_fault: 'fault', notify_stop: 'stop', notify: 'notify',
};

/** Instance keywords that take one value, and where it goes. */
const SIMPLE: Record<string, (r: Reader, n: Node, c: Partial<VrrpInstanceConfig>) => void> = {
  interface: (r, n, c) => { c.interface = r.one(n); },
  virtual_router_id: (r, n, c) => { c.vrid = r.int(n); },
  priority: (r, n, c) => { c.priority = r.int(n); },
  advert_int: (r, n, c) => { c.advertIntervalMs = r.seconds(n); },
  version: (r, n, c) => { c.version = r.int(n) as 2 | 3; },
  nopreempt: (_r, _n, c) => { c.preempt = false; },
  preempt: (_r, _n, c) => { c.preempt = true; },
  preempt_delay: (r, n, c) => { c.preemptDelayMs = r.seconds(n); },
  accept: (_r, _n, c) => { c.acceptMode = true; },
  no_accept: (_r, _n, c) => { c.acceptMode = false; },
  unicast_src_ip: (r, n, c) => { c.unicastSourceAddress = r.one(n); },
  unicast_peer: (_r, n, c) => { c.unicastPeers = (n.children ?? []).map((p) => p.keyword.text); },
  lvs_sync_daemon_interface: (r, n, c) => { c.lvsSyncDaemonInterface = r.one(n); },
  garp_master_delay: (r, n, c) => { c.garpMasterDelayMs = r.seconds(n); },
  garp_master_repeat: (r, n, c) => { c.garpMasterRepeat = r.int(n); },
  garp_master_refresh: (r, n, c) => { c.garpMasterRefreshMs = r.seconds(n); },
  garp_master_refresh_repeat: (r, n, c) => { c.garpMasterRefreshRepeat = r.int(n); },
  authentication: (r, n, c) => authentication(r, n, c),
  virtual_ipaddress: (r, n, c) => { c.virtualAddresses = (n.children ?? []).map((v) => vip(r, v)); },
  track_interface: (r, n, c) => { c.trackInterfaces = (n.children ?? []).map((x) => track(r, x)); },
};

function instance(r: Reader, top: Node): VrrpInstanceConfig {
  const name = top.args[0]?.text ?? r.fail(top.keyword, 'vrrp_instance needs a name');
  const c: Partial<VrrpInstanceConfig> = { name, virtualAddresses: [] };
  for (const n of top.children ?? []) {
    const key = n.keyword.text;
    const notify = NOTIFY_KEYS[key];
    if (notify) (c.notify ??= {})[notify] = r.script(n);
    else if (SIMPLE[key]) SIMPLE[key](r, n, c);
    else if (!IGNORED.has(key)) r.warnings.push(`${r.at(n.keyword)}: ${key} is not supported by lvskit's VRRP; ignored`);
  }
  if (c.interface === undefined) r.fail(top.keyword, `vrrp_instance ${name} has no interface`);
  if (c.vrid === undefined) r.fail(top.keyword, `vrrp_instance ${name} has no virtual_router_id`);
  return c as VrrpInstanceConfig;
}

function syncGroup(r: Reader, top: Node): VrrpSyncGroupConfig {
  const name = top.args[0]?.text ?? r.fail(top.keyword, 'vrrp_sync_group needs a name');
  const group: VrrpSyncGroupConfig = { name, members: [] };
  for (const n of top.children ?? []) {
    const notify = NOTIFY_KEYS[n.keyword.text];
    if (n.keyword.text === 'group') group.members = (n.children ?? []).flatMap((c) => [c.keyword.text, ...c.args.map((a) => a.text)]);
    else if (notify) (group.notify ??= {})[notify] = r.script(n);
    else r.warnings.push(`${r.at(n.keyword)}: ${n.keyword.text} is ignored in vrrp_sync_group`);
  }
  return group;
}

function authentication(r: Reader, n: Node, c: Partial<VrrpInstanceConfig>): void {
  let type: string | undefined;
  for (const a of n.children ?? []) {
    if (a.keyword.text === 'auth_type') type = r.one(a);
    else if (a.keyword.text === 'auth_pass') c.authPass = r.one(a);
  }
  if (type !== undefined && type !== 'PASS') r.fail(n.keyword, `auth_type ${type} is not supported (PASS is)`);
}

/** `ADDR[/LEN] [dev DEV] [label LABEL] [brd B] [scope S]`. */
function vip(r: Reader, n: Node): string | VirtualAddressConfig {
  const v: VirtualAddressConfig = { address: n.keyword.text };
  for (let i = 0; i < n.args.length; i += 2) {
    const word = n.args[i]!;
    const value = n.args[i + 1] ?? r.fail(word, `${word.text} needs a value`);
    if (word.text === 'dev') v.dev = value.text;
    else if (word.text === 'label') v.label = value.text;
    else if (word.text === 'brd' || word.text === 'scope') r.warnings.push(`${r.at(word)}: ${word.text} is ignored (the kernel's default is used)`);
    else r.fail(word, `unknown virtual_ipaddress option ${word.text}`);
  }
  return v.dev === undefined && v.label === undefined ? v.address : v;
}

/** `DEV [weight W]`. */
function track(r: Reader, n: Node): string | TrackInterfaceConfig {
  if (n.args.length === 0) return n.keyword.text;
  if (n.args[0]!.text !== 'weight' || n.args.length !== 2) r.fail(n.args[0]!, 'expected "weight N"');
  const w = n.args[1]!.text;
  return { dev: n.keyword.text, weight: /^-?\d+$/.test(w) ? Number(w) : r.fail(n.args[1]!, `weight ${JSON.stringify(w)} is not an integer`) };
}

/**
 * Parse the VRRP part of a keepalived.conf text: `vrrp_instance`, `vrrp_sync_group`, and
 * `global_defs { vrrp_version }`. Other blocks (virtual_server, …) and keywords VRRP does not use
 * become warnings, not errors. Values are checked later by validateInstance (field names then).
 */
export function parseKeepalivedVrrp(text: string, file = 'keepalived.conf'): KeepalivedVrrp {
  const r = new Reader(file);
  const out: KeepalivedVrrp = { instances: [], syncGroups: [], warnings: r.warnings };
  let defaultVersion: 2 | 3 | undefined;
  for (const top of parseNodes(file, text)) {
    const k = top.keyword.text;
    if (k === 'global_defs') {
      for (const n of top.children ?? []) if (n.keyword.text === 'vrrp_version') defaultVersion = r.int(n) as 2 | 3;
    } else if (k === 'vrrp_instance') {
      out.instances.push(instance(r, top));
    } else if (k === 'vrrp_sync_group') {
      out.syncGroups.push(syncGroup(r, top));
    } else {
      r.warnings.push(`${r.at(top.keyword)}: ${k} is not VRRP; ignored here`);
    }
  }
  if (defaultVersion !== undefined) for (const i of out.instances) i.version ??= defaultVersion;
  return out;
}
