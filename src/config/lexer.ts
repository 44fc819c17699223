// layer: config (pure)
// job: keepalived's lexical rules: comments (`#`, `!`), `"` quoting, braces as separators, words with file:line:col.
import type { Diagnostics, SourceLocation } from './diagnostics.js';

/** A piece of one source line, with the map back to its columns (text may come from a definition). */
export interface LineText {
  text: string;
  file: string;
  line: number;
  /** 1-based column of text[0] when `columns` is absent (then text[i] is at base + i). */
  base: number;
  /** Per-character source columns, once definitions have been substituted into the text. */
  columns?: number[];
}

/** A word of the configuration; its place is computed from the segment it was read from. */
export class Token {
  constructor(
    /** The word with its quotes removed. */
    readonly text: string,
    /** Written between double quotes (such a word is never taken for a keyword). */
    readonly quoted: boolean,
    /** The segment it was read from; script commands re-read its raw text between `start` and `end`. */
    readonly segment: LineText,
    readonly start: number,
    readonly end: number,
  ) {}

  get file(): string {
    return this.segment.file;
  }

  get line(): number {
    return this.segment.line;
  }

  get column(): number {
    return columnAt(this.segment, this.start);
  }
}

export function columnAt(t: LineText, index: number): number {
  if (t.columns) return t.columns[Math.min(index, t.columns.length - 1)] ?? t.base;
  return t.base + index;
}

export function locationAt(t: LineText, index: number): SourceLocation {
  return { file: t.file, line: t.line, column: columnAt(t, index) };
}

export function tokenLocation(tok: Token): SourceLocation {
  return { file: tok.file, line: tok.line, column: tok.column };
}

/** The part of `t` from `start` to `end` (columns follow). */
export function sliceLine(t: LineText, start: number, end: number = t.text.length): LineText {
  const out: LineText = { text: t.text.slice(start, end), file: t.file, line: t.line, base: t.base + start };
  if (t.columns) out.columns = t.columns.slice(start, end);
  return out;
}

const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);

/** Where a physical line's comment starts and whether it leaves a quote open. */
export interface Decommented {
  /** End of the code part (comment and trailing blanks removed). */
  end: number;
  /** Start of the code part (leading blanks skipped). */
  start: number;
  /** Index of the `#`/`!` that starts a comment, or -1. */
  commentAt: number;
  /** Index of an unterminated `"`, or -1. */
  openQuoteAt: number;
}

/**
 * keepalived's decomment(): a `#` or `!` outside double quotes starts a comment wherever it is;
 * `\#` and `\!` are a literal `#` and `!` (the tokenizer removes the backslash).
 */
export function decomment(text: string): Decommented {
  return decommentRange(text, 0, text.length, { start: 0, end: 0, commentAt: -1, openQuoteAt: -1 });
}

/**
 * decomment() of the line text[from, to) into `out`, its indexes into `text` (the preprocessor
 * reads a file's lines in place and reuses one `out` for every line); returns `out`.
 */
export function decommentRange(text: string, from: number, to: number, out: Decommented): Decommented {
  let quoteAt = -1;
  let commentAt = -1;
  // One pass over the line only (indexOf would search the rest of the file for what the line lacks).
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      quoteAt = quoteAt < 0 ? i : -1;
    } else if (c === 92 /* \ */) {
      i++;
    } else if ((c === 35 /* # */ || c === 33 /* ! */) && quoteAt < 0) {
      commentAt = i;
      break;
    }
  }
  let end = commentAt >= 0 ? commentAt : to;
  while (end > from && isSpace(text.charCodeAt(end - 1))) end--;
  let start = from;
  while (start < end && isSpace(text.charCodeAt(start))) start++;
  out.start = start;
  out.end = end;
  out.commentAt = commentAt;
  out.openQuoteAt = commentAt >= 0 ? -1 : quoteAt;
  return out;
}

/**
 * Where the next character that decomment() must look at (`"`, `\\`, `#`, `!`) is in a file's text, from
 * a position that only moves forward: each is found with indexOf and kept until passed, so a whole
 * file costs one search per such character, and a line before the next one needs no character loop.
 */
export class SpecialChars {
  private quote = -1;
  private backslash = -1;
  private hash = -1;
  private bang = -1;

  constructor(private readonly text: string) {}

  /** Index of the first `"`, `\\`, `#` or `!` at or after `from` (the text's length when none). */
  next(from: number): number {
    if (this.quote < from) this.quote = this.find('"', from);
    if (this.backslash < from) this.backslash = this.find('\\', from);
    if (this.hash < from) this.hash = this.find('#', from);
    if (this.bang < from) this.bang = this.find('!', from);
    return Math.min(this.quote, this.backslash, this.hash, this.bang);
  }

  private find(c: string, from: number): number {
    const at = this.text.indexOf(c, from);
    return at < 0 ? this.text.length : at;
  }
}

/** decommentRange() of a line known to hold no `"`, `\\`, `#` or `!`: its blanks trimmed. */
export function trimRange(text: string, from: number, to: number, out: Decommented): Decommented {
  let end = to;
  while (end > from && isSpace(text.charCodeAt(end - 1))) end--;
  let start = from;
  while (start < end && isSpace(text.charCodeAt(start))) start++;
  out.start = start;
  out.end = end;
  out.commentAt = -1;
  out.openQuoteAt = -1;
  return out;
}

/** Index of the first `{` or `}` outside double quotes, or -1. */
export function findBrace(text: string): number {
  if (text.indexOf('"') < 0) {
    const open = text.indexOf('{');
    const close = text.indexOf('}');
    return open < 0 ? close : close < 0 ? open : Math.min(open, close);
  }
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) quoted = !quoted;
    else if (!quoted && (c === 123 || c === 125)) return i;
  }
  return -1;
}

/**
 * Splits a brace-free segment into words as keepalived's alloc_strvec() does: whitespace separates
 * words; a word that starts with `"` runs to the next `"` (which is removed); an unquoted word ends
 * at whitespace or at a `"`. Outside quotes `\#` and `\!` stand for `#` and `!`.
 */
export function tokenize(seg: LineText, diags: Diagnostics): Token[] {
  // Words go to a scratch array and leave as an exact-size copy: a line has a few words, and an
  // array grown by push() from empty takes room for 16 (this runs for every line of every file).
  const count = tokenizeInto(seg, diags, scratchTokens);
  return scratchTokens.slice(0, count);
}

/** tokenize() into `tokens` from index 0; returns the number of words (`tokens` keeps stale entries beyond it). */
export function tokenizeInto(seg: LineText, diags: Diagnostics, tokens: Token[]): number {
  const text = seg.text;
  const n = text.length;
  const escapes = text.indexOf('\\') >= 0;
  let count = 0;
  let i = 0;
  while (i < n) {
    while (i < n && isSpace(text.charCodeAt(i))) i++;
    if (i >= n) break;
    const start = i;
    if (text.charCodeAt(i) === 34 /* " */) {
      const close = text.indexOf('"', i + 1);
      if (close < 0) {
        diags.error('syntax', locationAt(seg, i), 'unterminated quoted string (no closing ")');
        i = n;
        tokens[count++] = new Token(text.slice(start + 1), true, seg, start, i);
      } else {
        i = close + 1;
        tokens[count++] = new Token(text.slice(start + 1, close), true, seg, start, i);
      }
      continue;
    }
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 34 || isSpace(c)) break;
      i++;
    }
    const word = text.slice(start, i);
    tokens[count++] = new Token(escapes && word.includes('\\') ? word.replace(/\\([#!])/g, '$1') : word, false, seg, start, i);
  }
  return count;
}

/** tokenize()'s scratch space (tokenize does not call itself). */
const scratchTokens: Token[] = [];

/**
 * Splits a script command as keepalived's alloc_strvec_quoted_escaped() does: unquoted whitespace
 * separates arguments; `"..."` and `'...'` keep spaces; backslash escapes (\n, \t, \xHH, \NNN, \cC, ...).
 * Returns undefined for an unterminated quote.
 */
export function splitCommand(text: string): string[] | undefined {
  const argv: string[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && isSpace(text.charCodeAt(i))) i++;
    if (i >= n) break;
    let word = '';
    let quote = '';
    while (i < n) {
      const c = text[i] as string;
      if (c === '\\') {
        const [ch, next] = unescapeAt(text, i + 1);
        word += ch;
        i = next;
      } else if (quote) {
        if (c === quote) quote = '';
        else word += c;
        i++;
      } else if (c === '"' || c === "'") {
        quote = c;
        i++;
      } else if (isSpace(text.charCodeAt(i))) {
        break;
      } else {
        word += c;
        i++;
      }
    }
    if (quote) return undefined;
    argv.push(word);
  }
  return argv;
}

const SIMPLE_ESCAPES: Record<string, string> = { a: '\x07', b: '\b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

function unescapeAt(text: string, i: number): [string, number] {
  const c = text[i];
  if (c === undefined) return ['', i];
  if (c === 'x' && /[0-9a-fA-F]/.test(text[i + 1] ?? '')) {
    let j = i + 1;
    let value = 0;
    while (j < text.length && /[0-9a-fA-F]/.test(text[j] as string)) value = ((value << 4) | parseInt(text[j++] as string, 16)) & 0xff;
    return [String.fromCharCode(value), j];
  }
  if (c === 'c' && i + 1 < text.length) return [String.fromCharCode(text.charCodeAt(i + 1) & 0x1f), i + 2];
  if (c >= '0' && c <= '7') {
    let j = i;
    let value = 0;
    while (j < i + 3 && (text[j] ?? '') >= '0' && (text[j] ?? '') <= '7') value = value * 8 + Number(text[j++]);
    return [String.fromCharCode(value & 0xff), j];
  }
  return [SIMPLE_ESCAPES[c] ?? c, i + 1];
}
