// layer: config (pure, over an injected reader)
// job: keepalived's read_line(): lines of the main file and its includes → comment-free segments and braces, after
//      conditionals, definitions and substitution, with every piece's file:line:col.
import path from 'node:path';
import { selectConditional } from './conditionals.js';
import { Definitions, parseDefinitionLine } from './defines.js';
import type { Diagnostics, SourceLocation } from './diagnostics.js';
import { INCLUDE_KEYWORDS, IncludeReader, type ConfigLimits, type SourceFile } from './includes.js';
import { decommentRange, findBrace, locationAt, sliceLine, SpecialChars, tokenize, trimRange, type Decommented, type LineText } from './lexer.js';
import type { ConfigReader } from './reader.js';

/** A brace, with its place. */
export interface BracePiece {
  kind: 'open' | 'close';
  location: SourceLocation;
}

/** A text segment (one keepalived "line": the text between line ends and braces), or a brace. */
export type Piece = LineText | BracePiece;

export function isBrace(p: Piece): p is BracePiece {
  return 'kind' in p;
}

export interface PreprocessOptions {
  /** The config id `@ID` lines are compared with (keepalived's `-i`); undefined matches no `@ID` line. */
  configId?: string;
  /** Random source for `${_RANDOM}` (default Math.random). */
  random?: () => number;
  limits: ConfigLimits;
}

export interface Preprocessed {
  /** Every file read, in the order first read. */
  files: string[];
  /** Comments that hold a brace: the likely cause when braces do not balance. */
  braceComments: SourceLocation[];
}

type Source =
  /** `index`: lines read so far; `pos`: where the next one starts in the file's text. */
  | { kind: 'file'; file: SourceFile; index: number; pos: number; special: SpecialChars }
  | { kind: 'pending'; paths: string[]; index: number; at: SourceLocation }
  | { kind: 'value'; lines: string[]; index: number; at: SourceLocation };

const MAX_RECHECKS = 8;
const MAX_BRACE_COMMENTS = 100;

/** Reads `entry` and everything it includes, handing each piece to `sink` in order; problems go to `diags`. */
export function preprocess(entry: string, reader: ConfigReader, options: PreprocessOptions, diags: Diagnostics, sink: (piece: Piece) => void): Preprocessed {
  return new Preprocessor(reader, options, diags, sink).run(entry);
}

class Preprocessor {
  private readonly files: string[] = [];
  private readonly seenFiles = new Set<string>();
  private readonly braceComments: SourceLocation[] = [];
  private readonly stack: Source[] = [];
  private readonly includes: IncludeReader;
  private readonly defs: Definitions;
  /** `${_PWD}` of each directory files were read from (thousands of files share one or two). */
  private readonly absoluteDirs = new Map<string, string>();
  private defining: { name: string; parts: string[] } | undefined;
  /** Where the comment and the code of the line being read are (one object for every line). */
  private readonly decommented: Decommented = { start: 0, end: 0, commentAt: -1, openQuoteAt: -1 };

  constructor(
    private readonly reader: ConfigReader, private readonly options: PreprocessOptions, private readonly diags: Diagnostics,
    private readonly sink: (piece: Piece) => void,
  ) {
    this.includes = new IncludeReader(reader, options.limits, diags);
    this.defs = new Definitions({ instance: options.configId ?? '', random: options.random ?? Math.random });
  }

  run(entry: string): Preprocessed {
    this.openFile(entry);
    while (this.stack.length > 0) {
      const line = this.nextLine();
      if (line) this.process(line);
    }
    this.endDefinition();
    return { files: this.files, braceComments: this.braceComments };
  }

  private openFile(file: string, at?: SourceLocation): void {
    const src = this.includes.open(file, at);
    if (!src) return;
    if (!this.seenFiles.has(file)) {
      this.seenFiles.add(file);
      this.files.push(file);
    }
    this.stack.push({ kind: 'file', file: src, index: 0, pos: 0, special: new SpecialChars(src.text) });
    this.defs.pwd = this.absoluteDir(file);
  }

  private absoluteDir(file: string): string {
    const dir = path.dirname(file);
    let abs = this.absoluteDirs.get(dir);
    if (abs === undefined) this.absoluteDirs.set(dir, abs = this.reader.absolute(dir));
    return abs;
  }

  /** The next line to process from the innermost source, or undefined (a source ended, or the line was used up). */
  private nextLine(): LineText | undefined {
    const top = this.stack[this.stack.length - 1] as Source;
    if (top.kind === 'pending') {
      const next = top.paths[top.index++];
      if (next === undefined) this.stack.pop();
      else this.openFile(next, top.at);
      return undefined;
    }
    if (top.kind === 'value') {
      const text = top.lines[top.index++];
      if (text === undefined) {
        this.stack.pop();
        return undefined;
      }
      const line: LineText = { text, file: top.at.file, line: top.at.line, base: top.at.column, columns: new Array<number>(text.length).fill(top.at.column) };
      return this.continueDefinition(text) ? undefined : line;
    }
    const text = top.file.text;
    if (top.pos >= text.length) {
      this.stack.pop();
      this.includes.close();
      const outer = this.stack.findLast((s): s is Extract<Source, { kind: 'file' }> => s.kind === 'file');
      if (outer) this.defs.pwd = this.absoluteDir(outer.file.path);
      return undefined;
    }
    // The line is read in place: its code part is the one string made of it.
    const lineStart = top.pos;
    let newline = text.indexOf('\n', lineStart);
    if (newline < 0) newline = text.length;
    top.pos = newline + 1;
    top.index++;
    const lineEnd = newline > lineStart && text.charCodeAt(newline - 1) === 13 /* \r */ ? newline - 1 : newline;
    // Most lines hold no quote, backslash or comment: then only their blanks are trimmed.
    const dc = top.special.next(lineStart) >= lineEnd ? trimRange(text, lineStart, lineEnd, this.decommented)
      : decommentRange(text, lineStart, lineEnd, this.decommented);
    if (dc.commentAt >= 0 && this.braceComments.length < MAX_BRACE_COMMENTS && /[{}]/.test(text.slice(dc.commentAt, lineEnd))) {
      this.braceComments.push({ file: top.file.path, line: top.index, column: dc.commentAt - lineStart + 1 });
    }
    const code = text.slice(dc.start, dc.end);
    if (this.continueDefinition(code)) return undefined;
    return code === '' ? undefined : { text: code, file: top.file.path, line: top.index, base: dc.start - lineStart + 1 };
  }

  /** Feeds a line to a multi-line definition being read; true when the line belonged to it. */
  private continueDefinition(code: string): boolean {
    const def = this.defining;
    if (!def) return false;
    if (code === '') {
      this.endDefinition();
      return true;
    }
    if (code.endsWith('\\')) {
      const part = code.slice(0, -1).replace(/[ \t]+$/, '');
      if (part !== '') def.parts.push(part);
      return true;
    }
    def.parts.push(code);
    this.endDefinition();
    return true;
  }

  private endDefinition(): void {
    if (!this.defining) return;
    this.defs.set(this.defining.name, this.defining.parts.join('\n'));
    this.defining = undefined;
  }

  /** One line: conditionals, definitions, substitution, include; then split at braces, each rest processed again. */
  private process(first: LineText): void {
    let cur: LineText | undefined = first;
    while (cur) {
      cur = this.expand(trim(cur));
      if (!cur || cur.text === '') return;
      if (cur.text.startsWith('include') && this.include(cur)) return;
      const b = findBrace(cur.text);
      if (b < 0) {
        this.sink(cur);
        return;
      }
      let end = b;
      while (end > 0 && (cur.text[end - 1] === ' ' || cur.text[end - 1] === '\t')) end--;
      if (end > 0) this.sink(sliceLine(cur, 0, end));
      this.sink({ kind: cur.text[b] === '{' ? 'open' : 'close', location: locationAt(cur, b) });
      cur = b + 1 < cur.text.length ? sliceLine(cur, b + 1) : undefined;
    }
  }

  /** Applies `@ID`, `$NAME=`, `~SEQ` and substitution; undefined when the line is used up or not selected. */
  private expand(line: LineText): LineText | undefined {
    // Most lines: nothing to select, define or substitute (the loop below would find the same).
    const first = line.text.charCodeAt(0);
    if (first !== 64 /* @ */ && first !== 126 /* ~ */ && line.text.indexOf('$') < 0) return line;
    let cur = line;
    for (let pass = 0; pass < MAX_RECHECKS; pass++) {
      if (cur.text.startsWith('@')) {
        const sel = selectConditional(cur.text, this.options.configId);
        if (!sel) return undefined;
        cur = sliceLine(cur, sel.offset);
      }
      if (cur.text.startsWith('$')) {
        const def = parseDefinitionLine(cur.text);
        if (def) {
          if (def.continued) this.defining = { name: def.name, parts: def.value === '' ? [] : [def.value] };
          else this.defs.set(def.name, def.value);
          return undefined;
        }
      }
      if (cur.text.startsWith('~SEQ') || cur.text.startsWith('~LST')) {
        this.diags.error('preprocessor', locationAt(cur, 0), `${cur.text.slice(0, 4)} sequence blocks are not supported by lvskit; line ignored`);
        return undefined;
      }
      const sub = cur.text.includes('$') ? this.defs.substitute(cur, this.diags) : undefined;
      if (!sub) return cur;
      cur = trim(sub.line);
      if (sub.moreLines) this.stack.push({ kind: 'value', lines: sub.moreLines, index: 0, at: locationAt(cur, 0) });
      if (!cur.text.startsWith('@') && !cur.text.startsWith('$')) return cur;
    }
    return cur;
  }

  /** Handles an include line (keyword and exactly one pattern, as keepalived's check_include); false when the line is not one. */
  private include(line: LineText): boolean {
    const words = tokenize(line, this.diags);
    const keyword = words[0];
    const pattern = words[1];
    if (!keyword || keyword.quoted || !INCLUDE_KEYWORDS.has(keyword.text) || words.length !== 2 || !pattern) return false;
    const at = locationAt(line, 0);
    const top = this.stack.findLast((s): s is Extract<Source, { kind: 'file' }> => s.kind === 'file');
    const from = top ? top.file.path : line.file;
    const paths = this.includes.resolve(keyword.text, pattern.text, from, at);
    if (paths.length > 0) this.stack.push({ kind: 'pending', paths, index: 0, at });
    return true;
  }
}

function trim(t: LineText): LineText {
  const text = t.text;
  let start = 0;
  let end = text.length;
  while (start < end && (text[start] === ' ' || text[start] === '\t')) start++;
  while (end > start && (text[end - 1] === ' ' || text[end - 1] === '\t')) end--;
  return start === 0 && end === text.length ? t : sliceLine(t, start, end);
}
