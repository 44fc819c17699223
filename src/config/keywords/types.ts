// layer: config (pure)
// job: the shape of keyword tables: a keyword's name, arity, block rule and how it maps into the model.
import type { SourceLocation } from '../diagnostics.js';
import type { Token } from '../lexer.js';
import type { AddressFamily, ScriptCommand } from '../model.js';
import type { ConfigBlock } from '../parser.js';

/** The name messages use for the top level of a configuration. */
export const TOP_LEVEL = 'top level';

/** A keyword and its arguments as the builder hands them to a table entry. */
export interface Statement {
  keyword: Token;
  args: Token[];
  block?: ConfigBlock;
}

/** Whether a keyword takes a `{ }` block. */
export type BlockRule = 'none' | 'required' | 'optional';

export interface Keyword<T> {
  name: string;
  /** Other names keepalived accepts (old or alternative spellings). */
  aliases?: readonly string[];
  /** Argument count bounds (max may be Infinity). Extra arguments are ignored with a warning, as keepalived ignores them. */
  min: number;
  max: number;
  block?: BlockRule;
  /** Argument synopsis for the documentation, e.g. `1..255`. */
  syntax: string;
  /** Set when keepalived deprecates the keyword: the warning text. */
  deprecated?: string;
  apply: (target: T, st: Statement, cx: BuildContext) => void;
}

/** A keyword keepalived knows that lvskit does not implement. */
export interface UnsupportedKeyword {
  name: string;
  /** `ignored`: a warning, the keyword (and its block) are skipped; `error`: lvskit would behave differently, so it is an error. */
  effect: 'ignored' | 'error';
  reason: string;
}

export interface KeywordTable<T> {
  /** The block's name in messages, e.g. `vrrp_instance`. */
  name: string;
  keywords: readonly Keyword<T>[];
  unsupported: readonly UnsupportedKeyword[];
  /** Name and alias → keyword. */
  byName: ReadonlyMap<string, Keyword<T>>;
  unsupportedByName: ReadonlyMap<string, UnsupportedKeyword>;
  /** The block's target keeps where each keyword was written (`keywordLocations`), for messages found after reading. */
  keepsLocations: boolean;
}

export function keywordTable<T>(name: string, keywords: Keyword<T>[], unsupported: UnsupportedKeyword[] = [], options: { keepsLocations?: boolean } = {}): KeywordTable<T> {
  const byName = new Map<string, Keyword<T>>();
  for (const k of keywords) {
    for (const n of [k.name, ...(k.aliases ?? [])]) {
      if (byName.has(n)) throw new Error(`keyword ${n} twice in ${name}`);
      byName.set(n, k);
    }
  }
  return { name, keywords, unsupported, byName, unsupportedByName: new Map(unsupported.map((u) => [u.name, u])), keepsLocations: options.keepsLocations === true };
}

/** One entry of a list block (`virtual_ipaddress`, `track_interface`, ...): a head word, positional words, options. */
export interface ListEntry {
  head: Token;
  positional: Token[];
  options: { name: Token; args: Token[] }[];
}

export interface ListSpec<T> {
  /** The block's name in messages. */
  name: string;
  /** Options an entry may carry, with their argument counts. */
  options: Readonly<Record<string, number>>;
  /** How many positional words may follow the head (e.g. a port). */
  positional?: (head: Token) => number;
  /** Whether a word may start a new entry when several are written on one line (default: any word). */
  canStart?: (word: Token) => boolean;
  entry: (target: T, e: ListEntry, cx: BuildContext) => void;
}

/** What keyword tables call back into while the model is built: typed values with diagnostics. */
export interface BuildContext {
  loc(tok: Token): SourceLocation;
  error(tok: Token, message: string, code?: 'invalid-value' | 'out-of-range' | 'missing-argument' | 'conflict'): void;
  warning(tok: Token, message: string, code?: 'deprecated' | 'keepalived-compat' | 'extra-argument' | 'invalid-value'): void;
  /** A whole number in [min, max]. */
  uint(st: Statement, index: number, min: number, max: number): number | undefined;
  /** A signed whole number in [min, max]. */
  int(st: Statement, index: number, min: number, max: number): number | undefined;
  /** A time in seconds (fractions allowed) in [minSec, maxSec], returned in milliseconds. */
  seconds(st: Statement, index: number, minSec: number, maxSec: number): number | undefined;
  /** on|off|true|false|yes|no; an absent argument is true. */
  bool(st: Statement, index: number): boolean | undefined;
  /** One of the given words. */
  oneOf<V extends string>(st: Statement, index: number, values: readonly V[], ignoreCase?: boolean): V | undefined;
  /** An IPv4 or IPv6 address (IPv6 in RFC 5952 form). */
  ip(tok: Token, what?: string): { address: string; family: AddressFamily } | undefined;
  /** An address with an optional `/prefix`. */
  ipPrefix(tok: Token, what?: string): { address: string; family: AddressFamily; prefixLength?: number } | undefined;
  /** A script command from argument `index` on: the command, then optional user and group. */
  script(st: Statement, index: number): ScriptCommand | undefined;
  /** Reads a keyword block into `target` with `table`. */
  block<C>(st: Statement, table: KeywordTable<C>, target: C): void;
  /** Reads a list block's entries into `target`. */
  list<C>(st: Statement, spec: ListSpec<C>, target: C): void;
  /** An entry option's single argument, by option name (last one wins). */
  option(e: ListEntry, name: string): Token | undefined;
  hasOption(e: ListEntry, name: string): boolean;
  /** Routing-table names (`table NAME` of routes and rules), read when first asked for. */
  routeTables(): ReadonlyMap<string, number>;
}

/** Shorthand for a table entry. */
export function kw<T>(name: string, min: number, max: number, syntax: string, apply: Keyword<T>['apply'], more: Partial<Keyword<T>> = {}): Keyword<T> {
  return { name, min, max, syntax, apply, ...more };
}

/** A keyword that sets a flag (optionally `<BOOL>`). */
export function flag<T>(name: string, set: (t: T, v: boolean) => void, more: Partial<Keyword<T>> = {}): Keyword<T> {
  return kw<T>(name, 0, 1, '[<BOOL>]', (t, st, cx) => {
    const v = cx.bool(st, 0);
    if (v !== undefined) set(t, v);
  }, more);
}

export function unsupported(effect: UnsupportedKeyword['effect'], reason: string, ...names: string[]): UnsupportedKeyword[] {
  return names.map((name) => ({ name, effect, reason }));
}

/** Argument `i` of a statement whose arity the builder already checked. */
export function arg(st: Statement, i: number): Token {
  const t = st.args[i];
  if (!t) throw new Error(`internal: ${st.keyword.text} has no argument ${i}`);
  return t;
}
