// layer: config (pure)
// job: keepalived 2.x parameter definitions: `$NAME=value` (multi-line with `\`), `$NAME` / `${NAME}` substitution.
import type { Diagnostics, SourceLocation } from './diagnostics.js';
import { columnAt, type LineText } from './lexer.js';

/** Most substitutions on one line (a definition that refers to itself never ends). */
export const MAX_SUBSTITUTIONS_PER_LINE = 1000;
/** Longest line substitution may produce. */
export const MAX_SUBSTITUTED_LENGTH = 1 << 20;

interface Definition {
  value: string;
  multiline: boolean;
  /** Built-in definitions compute their value (`${_RANDOM 1 10}` takes parameters). */
  compute?: (params: number[]) => string;
  maxParams?: number;
}

/** A `$NAME=value` line, parsed. */
export interface DefinitionLine {
  name: string;
  value: string;
  /** The value ends in `\`: the following lines continue it. */
  continued: boolean;
}

/** Parses `$NAME=value` (no space before `=`); undefined when the line is not a definition. */
export function parseDefinitionLine(text: string): DefinitionLine | undefined {
  const m = /^\$([A-Za-z_][A-Za-z0-9_]*)=[ \t]*(.*)$/s.exec(text);
  if (!m) return undefined;
  const name = m[1] as string;
  const value = m[2] as string;
  if (value.endsWith('\\')) return { name, value: value.slice(0, -1).replace(/[ \t]+$/, ''), continued: true };
  return { name, value, continued: false };
}

/** The result of substituting definitions into a line. */
export interface Substituted {
  line: LineText;
  /** A multi-line definition's further lines, to be read next (each as a line of its own). */
  moreLines?: string[];
}

export interface BuiltinValues {
  /** `${_INSTANCE}`: the config id. */
  instance: string;
  /** `${_RANDOM}`: a float in [0, 1). */
  random: () => number;
}

/** The definitions in force while reading a configuration, in file order. */
export class Definitions {
  private readonly defs = new Map<string, Definition>();
  /** Undefined `${NAME}` references already reported (a line may be substituted more than once). */
  private readonly warned = new Set<string>();
  /** `${_PWD}`: set by the reader to the directory of the file being read. */
  pwd = '';

  constructor(builtins: BuiltinValues) {
    this.defs.set('_PWD', { value: '', multiline: false, compute: () => this.pwd });
    this.defs.set('_INSTANCE', { value: builtins.instance, multiline: false });
    this.defs.set('_HASH', { value: '#', multiline: false });
    this.defs.set('_BANG', { value: '!', multiline: false });
    this.defs.set('_RANDOM', {
      value: '', multiline: false, maxParams: 2,
      compute: ([min = 0, max = 32767]) => String(min + Math.floor(builtins.random() * (max - min + 1))),
    });
  }

  /** Defines (or redefines, built-ins included) `name`; a value with newlines is a multi-line definition. */
  set(name: string, value: string): void {
    this.defs.set(name, { value, multiline: value.includes('\n') });
  }

  has(name: string): boolean {
    return this.defs.has(name);
  }

  /**
   * Replaces `$NAME` (followed by a blank, `,`, `)` or the end) and `${NAME}` with their values,
   * rescanning each replacement (so definitions may refer to others). A multi-line definition is
   * replaced only at the end of a line; its first line joins this one, the rest come back in
   * `moreLines`. Undefined names stay as written. Returns undefined when nothing was replaced.
   */
  substitute(line: LineText, diags: Diagnostics): Substituted | undefined {
    let text = line.text;
    if (!text.includes('$')) return undefined;
    let columns: number[] | undefined;
    let moreLines: string[] | undefined;
    let count = 0;
    let pos = text.indexOf('$');
    while (pos >= 0 && pos + 1 < text.length) {
      const ref = this.reference(text, pos);
      if (!ref) {
        if (text[pos + 1] === '{') this.warnUndefined(text, pos, line, columns, diags);
        pos = text.indexOf('$', pos + 1);
        continue;
      }
      let value = ref.def.compute ? ref.def.compute(ref.params) : ref.def.value;
      if (ref.def.multiline) {
        const lines = value.split('\n');
        value = lines[0] as string;
        moreLines = [...lines.slice(1), ...(moreLines ?? [])];
      }
      columns ??= Array.from({ length: text.length }, (_, i) => columnAt(line, i));
      const at = columns[pos] as number;
      columns = columns.slice(0, pos).concat(new Array<number>(value.length).fill(at), columns.slice(ref.end));
      text = text.slice(0, pos) + value + text.slice(ref.end);
      if (++count > MAX_SUBSTITUTIONS_PER_LINE || text.length > MAX_SUBSTITUTED_LENGTH) {
        diags.error('definition', { file: line.file, line: line.line, column: at },
          `substituting definitions on this line does not end (more than ${MAX_SUBSTITUTIONS_PER_LINE} substitutions` +
          ` or ${MAX_SUBSTITUTED_LENGTH} characters): does a definition refer to itself?`);
        return { line: { ...line, text: '', columns: [] } };
      }
      if (/^[ \t]*~/.test(value)) break;
      pos = text.indexOf('$', pos);
    }
    if (count === 0) return undefined;
    const out: LineText = { text, file: line.file, line: line.line, base: line.base };
    if (columns) out.columns = columns;
    return moreLines ? { line: out, moreLines } : { line: out };
  }

  private reference(text: string, pos: number): { def: Definition; end: number; params: number[] } | undefined {
    const braces = text[pos + 1] === '{';
    const nameStart = pos + (braces ? 2 : 1);
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(nameStart, nameStart + 256));
    if (!m) return undefined;
    const name = m[0];
    let end = nameStart + name.length;
    let params: number[] = [];
    if (braces) {
      const close = text.indexOf('}', end);
      if (close < 0) return undefined;
      const inner = text.slice(end, close);
      if (inner !== '') {
        if (!/^( +\d+)+$/.test(inner)) return undefined;
        params = inner.trim().split(/ +/).map(Number);
      }
      end = close + 1;
    } else {
      const next = text[end];
      if (next !== undefined && next !== ' ' && next !== '\t' && next !== ',' && next !== ')') return undefined;
    }
    const def = this.defs.get(name);
    if (!def) return undefined;
    if (params.length > (def.maxParams ?? 0)) return undefined;
    if (def.multiline && end !== text.length) return undefined;
    return { def, end, params };
  }

  private warnUndefined(text: string, pos: number, line: LineText, columns: number[] | undefined, diags: Diagnostics): void {
    const m = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}/.exec(text.slice(pos, pos + 260));
    if (!m || this.defs.has(m[1] as string)) return;
    const location: SourceLocation = { file: line.file, line: line.line, column: columns ? (columns[pos] as number) : columnAt(line, pos) };
    const key = `${location.file}:${location.line}:${location.column}:${m[1]}`;
    if (this.warned.has(key)) return;
    this.warned.add(key);
    diags.warning('definition', location, `\${${m[1]}} is not defined; it is left as written`);
  }
}
