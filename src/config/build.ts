// layer: config (pure)
// job: the node tree → the typed model through the keyword tables: statements (one or several per line), arity,
//      blocks, unknown and unsupported keywords, typed argument values.
import type { Diagnostics, SourceLocation } from './diagnostics.js';
import { splitCommand, tokenLocation, type Token } from './lexer.js';
import type { AddressFamily, ScriptCommand } from './model.js';
import type { ConfigNode } from './parser.js';
import type { BuildContext, Keyword, KeywordTable, ListEntry, ListSpec, Statement } from './keywords/types.js';
import { TOP_LEVEL } from './keywords/types.js';
import { systemRouteTables } from './rt-tables.js';
import { parseAddress, parseAddressPrefix, parseBool, parseInteger, parseSeconds, secondsToMs } from './values.js';

const quote = (s: string): string => `\`${s}\``;

/** Builds model objects from nodes; one per parse (it remembers which lines it already warned about). */
export class Builder implements BuildContext {
  private lastCompatLine = '';

  #routeTables: ReadonlyMap<string, number> | undefined;

  /** `routeTables`: table names for routes and rules (default: the system's, read on first use). */
  constructor(private readonly diags: Diagnostics, private readonly loadRouteTables: () => ReadonlyMap<string, number> = systemRouteTables) {}

  routeTables(): ReadonlyMap<string, number> {
    this.#routeTables ??= this.loadRouteTables();
    return this.#routeTables;
  }

  /** Reads `nodes` (the contents of one block) into `target` with `table`. */
  readNodes<T>(nodes: readonly ConfigNode[], table: KeywordTable<T>, target: T): void {
    for (const node of nodes) {
      // The common line: one keyword and its arguments, handed on as it is (the node is the statement),
      // with one look-up of the keyword.
      const first = node.keyword;
      const args = node.args;
      const named = table.byName.get(first.text);
      const found = first.quoted ? undefined : named;
      let end = named?.min ?? 0;
      while (end < args.length && !isKeyword(args[end] as Token, table)) end++;
      if (end >= args.length) {
        if (found) this.apply(found, node, table, target);
        else this.unknown(node, table);
        continue;
      }
      const statements = this.split(node.words, table);
      const last = statements[statements.length - 1];
      if (last && node.block) last.block = node.block;
      for (const st of statements) this.dispatch(st, table, target);
    }
  }

  /**
   * Splits one line's words into statements. keepalived reads one keyword per line and ignores the
   * rest; lvskit also reads keywords that follow on the same line (the one-line form of blocks), once
   * the keyword before has its minimum arguments. That differs from keepalived, so it is a warning.
   */
  private split<T>(words: readonly Token[], table: KeywordTable<T>): Statement[] {
    const out: Statement[] = [];
    let i = 0;
    while (i < words.length) {
      const keyword = words[i] as Token;
      const min = table.byName.get(keyword.text)?.min ?? 0;
      let j = i + 1 + min;
      while (j < words.length && !isKeyword(words[j] as Token, table)) j++;
      out.push({ keyword, args: words.slice(i + 1, j) });
      i = j;
    }
    if (out.length > 1) {
      const names = out.map((s) => s.keyword.text);
      this.compat(out[1]?.keyword as Token, `${names.length} keywords on one line (${names.slice(0, 4).join(', ')}${names.length > 4 ? ', …' : ''}): ` +
        `lvskit reads each; keepalived 2.2 reads only ${quote(names[0] as string)} and ignores the rest of the line`);
    }
    return out;
  }

  private compat(tok: Token, message: string): void {
    const key = `${tok.file}:${tok.line}`;
    if (key === this.lastCompatLine) return;
    this.lastCompatLine = key;
    this.diags.warning('keepalived-compat', tokenLocation(tok), message);
  }

  private dispatch<T>(st: Statement, table: KeywordTable<T>, target: T): void {
    const kw = st.keyword.quoted ? undefined : table.byName.get(st.keyword.text);
    if (kw) this.apply(kw, st, table, target);
    else this.unknown(st, table);
  }

  /** Checks a statement of the known keyword `kw` (arity, block) and hands it to the keyword's table entry. */
  private apply<T>(kw: Keyword<T>, statement: Statement, table: KeywordTable<T>, target: T): void {
    let st = statement;
    const name = st.keyword.text;
    if (kw.deprecated) this.warning(st.keyword, kw.deprecated, 'deprecated');
    if (st.args.length < kw.min) {
      this.diags.error('missing-argument', tokenLocation(st.keyword),
        `${quote(name)} needs ${kw.min === kw.max ? '' : 'at least '}${kw.min} argument${kw.min === 1 ? '' : 's'} (${name} ${kw.syntax}); ignored`);
      return;
    }
    if (st.args.length > kw.max) {
      const extra = st.args[kw.max] as Token;
      const takes = kw.max === 0 ? 'no arguments' : `${kw.min === kw.max ? '' : 'at most '}${kw.max} argument${kw.max === 1 ? '' : 's'}`;
      this.warning(extra, `${quote(name)} takes ${takes}; ${quote(extra.text)}${st.args.length > kw.max + 1 ? ' and what follows are' : ' is'} ignored, ` +
        'as keepalived ignores them', 'extra-argument');
      // A new statement: `statement` may be a node of the tree, which is left as it was read.
      st = st.block ? { keyword: st.keyword, args: st.args.slice(0, kw.max), block: st.block } : { keyword: st.keyword, args: st.args.slice(0, kw.max) };
    }
    const rule = kw.block ?? 'none';
    if (rule === 'none' && st.block) {
      this.diags.error('unexpected-block', st.block.open, `${quote(name)} takes no { } block; the block is ignored`);
      st = { keyword: st.keyword, args: st.args };
    } else if (rule === 'required' && !st.block) {
      this.diags.error('missing-block', tokenLocation(st.keyword), `${quote(name)} needs a { } block`);
    }
    kw.apply(target, st, this);
    // Blocks that keep where each keyword was written (for messages found after reading, e.g. a missing interface).
    if (table.keepsLocations) {
      const at = (target as { keywordLocations?: Partial<Record<string, SourceLocation>> }).keywordLocations;
      if (at) at[kw.name] = tokenLocation(st.keyword);
    }
  }

  private unknown<T>(st: Statement, table: KeywordTable<T>): void {
    const name = st.keyword.text;
    const unsupported = st.keyword.quoted ? undefined : table.unsupportedByName.get(name);
    const skipped = st.block ? ' (with its block)' : '';
    if (unsupported?.effect === 'error') {
      this.diags.error('unsupported-keyword', tokenLocation(st.keyword), `${quote(name)} is not supported by lvskit (${unsupported.reason})`);
    } else if (unsupported) {
      this.diags.warning('unsupported-keyword', tokenLocation(st.keyword),
        `${quote(name)} is ignored by lvskit${skipped} (${unsupported.reason})`);
    } else {
      const guess = suggest(name, [...table.byName.keys()]);
      this.diags.warning('unknown-keyword', tokenLocation(st.keyword),
        `unknown keyword ${quote(name)} ${table.name === TOP_LEVEL ? "at top level" : `in ${table.name}`}${guess ? ` (did you mean ${quote(guess)}?)` : ''}; ignored${skipped}`);
    }
  }

  // ---- BuildContext ------------------------------------------------------------------------

  loc(tok: Token): SourceLocation {
    return tokenLocation(tok);
  }

  error(tok: Token, message: string, code: 'invalid-value' | 'out-of-range' | 'missing-argument' | 'conflict' = 'invalid-value'): void {
    this.diags.error(code, tokenLocation(tok), message);
  }

  warning(tok: Token, message: string, code: 'deprecated' | 'keepalived-compat' | 'extra-argument' | 'invalid-value' = 'invalid-value'): void {
    this.diags.warning(code, tokenLocation(tok), message);
  }

  private number(st: Statement, index: number, min: number, max: number, signed: boolean): number | undefined {
    const tok = st.args[index];
    if (!tok) return undefined;
    const n = parseInteger(tok.text, signed);
    if (n === undefined) {
      this.error(tok, `${quote(st.keyword.text)} expects a whole number from ${min} to ${max}, not ${quote(tok.text)}`);
      return undefined;
    }
    if (n < min || n > max) {
      this.error(tok, `${quote(st.keyword.text)} ${n} is outside ${min}..${max}`, 'out-of-range');
      return undefined;
    }
    return n;
  }

  uint(st: Statement, index: number, min: number, max: number): number | undefined {
    return this.number(st, index, min, max, false);
  }

  int(st: Statement, index: number, min: number, max: number): number | undefined {
    return this.number(st, index, min, max, true);
  }

  seconds(st: Statement, index: number, minSec: number, maxSec: number): number | undefined {
    const tok = st.args[index];
    if (!tok) return undefined;
    const s = parseSeconds(tok.text);
    if (s === undefined) {
      this.error(tok, `${quote(st.keyword.text)} expects a time in seconds (e.g. 3 or 0.5), not ${quote(tok.text)}`);
      return undefined;
    }
    if (s < minSec || s > maxSec) {
      this.error(tok, `${quote(st.keyword.text)} ${tok.text} s is outside ${minSec}..${maxSec} s`, 'out-of-range');
      return undefined;
    }
    return secondsToMs(s);
  }

  bool(st: Statement, index: number): boolean | undefined {
    const tok = st.args[index];
    if (!tok) return true;
    const v = parseBool(tok.text);
    if (v === undefined) this.error(tok, `${quote(st.keyword.text)} expects on|off|true|false|yes|no, not ${quote(tok.text)}`);
    return v;
  }

  oneOf<V extends string>(st: Statement, index: number, values: readonly V[], ignoreCase = false): V | undefined {
    const tok = st.args[index];
    if (!tok) return undefined;
    const found = values.find((v) => (ignoreCase ? v.toLowerCase() === tok.text.toLowerCase() : v === tok.text));
    if (found === undefined) this.error(tok, `${quote(st.keyword.text)} expects ${values.join('|')}, not ${quote(tok.text)}`);
    return found;
  }

  ip(tok: Token, what = 'an IP address'): { address: string; family: AddressFamily } | undefined {
    const a = parseAddress(tok.text);
    if (!a) this.error(tok, `expected ${what}, not ${quote(tok.text)}`);
    return a;
  }

  ipPrefix(tok: Token, what = 'an IP address[/prefix]'): { address: string; family: AddressFamily; prefixLength?: number } | undefined {
    const a = parseAddressPrefix(tok.text);
    if (a === 'bad-prefix') {
      this.error(tok, `${quote(tok.text)}: the prefix length must be 0..32 for IPv4 and 0..128 for IPv6`, 'out-of-range');
      return undefined;
    }
    if (!a) this.error(tok, `expected ${what}, not ${quote(tok.text)}`);
    return a;
  }

  script(st: Statement, index: number): ScriptCommand | undefined {
    const first = st.args[index];
    const last = st.args[st.args.length - 1];
    if (!first || !last) return undefined;
    const words = first.segment === last.segment ? splitCommand(first.segment.text.slice(first.start, last.end)) : st.args.slice(index).map((t) => t.text);
    const command = words?.[0];
    const argv = command === undefined ? undefined : splitCommand(command);
    if (!words || command === undefined || !argv || argv.length === 0) {
      this.error(first, `${quote(st.keyword.text)}: cannot read the command (unterminated quote?)`);
      return undefined;
    }
    if (words.length > 3) {
      this.warning(first, `${quote(st.keyword.text)}: only the command, a user and a group are read; quote a command that has arguments ` +
        `(keepalived reads ${quote(words[1] as string)} as the user)`, 'extra-argument');
    }
    const out: ScriptCommand = { command, argv };
    if (words[1] !== undefined) out.user = words[1];
    if (words[2] !== undefined) out.group = words[2];
    return out;
  }

  block<C>(st: Statement, table: KeywordTable<C>, target: C): void {
    if (st.block) this.readNodes(st.block.nodes, table, target);
  }

  list<C>(st: Statement, spec: ListSpec<C>, target: C): void {
    for (const node of st.block?.nodes ?? []) {
      if (node.block) this.diags.error('unexpected-block', node.block.open, `entries of ${spec.name} take no { } block; the block is ignored`);
      const entries = this.entries(node.words, spec);
      if (entries.length > 1) {
        this.compat(entries[1]?.head as Token, `${entries.length} ${spec.name} entries on one line: lvskit reads each; keepalived 2.2 reads only the first`);
      }
      for (const e of entries) spec.entry(target, e, this);
    }
  }

  private entries<C>(words: readonly Token[], spec: ListSpec<C>): ListEntry[] {
    const out: ListEntry[] = [];
    let i = 0;
    while (i < words.length) {
      const head = words[i++] as Token;
      const e: ListEntry = { head, positional: [], options: [] };
      const maxPositional = spec.positional?.(head) ?? 0;
      while (i < words.length) {
        const w = words[i] as Token;
        const count = w.quoted || !Object.hasOwn(spec.options, w.text) ? undefined : spec.options[w.text];
        if (count !== undefined) {
          const args = words.slice(i + 1, i + 1 + count);
          if (args.length < count) this.error(w, `${spec.name}: option ${quote(w.text)} needs ${count} argument${count === 1 ? '' : 's'}`, 'missing-argument');
          else e.options.push({ name: w, args });
          i += 1 + count;
        } else if (e.positional.length < maxPositional) {
          e.positional.push(w);
          i++;
        } else if (spec.canStart ? spec.canStart(w) : true) {
          break;
        } else {
          this.error(w, `${spec.name}: unknown option ${quote(w.text)} (options: ${Object.keys(spec.options).join(', ')})`);
          i++;
        }
      }
      out.push(e);
    }
    return out;
  }

  option(e: ListEntry, name: string): Token | undefined {
    let found: Token | undefined;
    for (const o of e.options) if (o.name.text === name) found = o.args[0];
    return found;
  }

  hasOption(e: ListEntry, name: string): boolean {
    return e.options.some((o) => o.name.text === name);
  }
}

function isKeyword<T>(tok: Token, table: KeywordTable<T>): boolean {
  return !tok.quoted && (table.byName.has(tok.text) || table.unsupportedByName.has(tok.text));
}

/** The closest known name within two edits, for "did you mean". */
export function suggest(name: string, known: readonly string[]): string | undefined {
  if (name.length < 4) return undefined;
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of known) {
    if (Math.abs(k.length - name.length) >= bestDistance) continue;
    const d = editDistance(name, k, bestDistance);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string, cap: number): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      rowMin = Math.min(rowMin, v);
    }
    if (rowMin >= cap) return cap;
    prev = cur;
  }
  return prev[b.length] as number;
}

