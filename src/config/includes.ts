// layer: config (pure, over an injected reader)
// job: `include` as keepalived does it: globs relative to the including file, nesting, cycles, missing files; reading a file as text.
import path from 'node:path';
import type { Diagnostics, SourceLocation } from './diagnostics.js';
import { glob, GlobLimitError, hasWildcards, type GlobMatch } from './glob.js';
import type { ConfigReader, ReadResult } from './reader.js';

/** Bounds that keep hostile or broken input from exhausting memory or time. */
export interface ConfigLimits {
  /** Largest single file, in bytes (default 64 MiB). */
  maxFileBytes: number;
  /** All files together, in bytes (default 256 MiB). */
  maxTotalBytes: number;
  /** Most files read, includes counted (default 100,000). */
  maxFiles: number;
  /** Deepest include nesting (default 32). */
  maxIncludeDepth: number;
  /** Deepest `{ }` nesting (default 32; keepalived's own blocks go 4 deep). */
  maxBlockDepth: number;
}

/** The default bounds on includes, nesting and size when reading a configuration. */
export const DEFAULT_LIMITS: ConfigLimits = {
  maxFileBytes: 64 << 20,
  maxTotalBytes: 256 << 20,
  maxFiles: 100_000,
  maxIncludeDepth: 32,
  maxBlockDepth: 32,
};

/** The include keyword and its keepalived 2.2 variants (includer, includem, includew, includeb, includea). */
export const INCLUDE_KEYWORDS: ReadonlySet<string> = new Set(['include', 'includer', 'includem', 'includew', 'includeb', 'includea']);

/** A file read as text. */
export interface SourceFile {
  path: string;
  /** The file's identity (device and inode): what include cycles are detected on. */
  identity: string;
  /** The whole text: the preprocessor reads it line by line in place (no array of lines). */
  text: string;
}

const wholeFile = (file: string): SourceLocation => ({ file, line: 0, column: 0 });

/** Where a byte offset falls in text, as line:column (1-based; column counts characters). */
function locate(file: string, text: string, index: number): SourceLocation {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < index; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { file, line, column: index - lineStart + 1 };
}

/** Characters no text file has: NUL and C0 controls other than tab, newline, VT, FF and CR. */
// eslint-disable-next-line no-control-regex
const BINARY = /[\x00-\x08\x0e-\x1f]/;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes a configuration file: UTF-8, else Latin-1 with a warning (old files carry Latin-1 comments). */
export function decodeText(file: string, bytes: Uint8Array, diags: Diagnostics): string | undefined {
  let text: string;
  let latin1 = false;
  try {
    text = utf8.decode(bytes);
  } catch {
    text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
    latin1 = true;
  }
  if (checkText(file, text, diags) === undefined) return undefined;
  if (latin1) {
    const lossy = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
    diags.warning('not-text', locate(file, lossy, Math.max(lossy.indexOf('\uFFFD'), 0)), 'not valid UTF-8; the file is read as Latin-1');
  }
  return text;
}

/** `text` when it holds no character a text file lacks (BINARY), else undefined (reported). */
function checkText(file: string, text: string, diags: Diagnostics): string | undefined {
  const bad = text.search(BINARY);
  if (bad < 0) return text;
  diags.error('not-text', locate(file, text, bad),
    `not a text file: character 0x${text.charCodeAt(bad).toString(16).padStart(2, '0')} at character ${bad}; the file is skipped`);
  return undefined;
}

/** Reads and bounds-checks files and follows includes: one per parse, it holds the running totals. */
export class IncludeReader {
  private totalBytes = 0;
  private files = 0;
  /** Identities of the files being read, outermost first, with the include line that opened each. */
  private readonly stack: { identity: string; path: string; at: SourceLocation | undefined }[] = [];

  constructor(private readonly reader: ConfigReader, private readonly limits: ConfigLimits, private readonly diags: Diagnostics) {}

  get depth(): number {
    return this.stack.length;
  }

  /**
   * Reads `file` as text; reports and returns undefined when it cannot (missing, not a regular file,
   * executable, too big, binary, a cycle). `at` is the include line (absent for the main file).
   */
  open(file: string, at?: SourceLocation): SourceFile | undefined {
    const where = at ?? wholeFile(file);
    if (this.stack.length >= this.limits.maxIncludeDepth) {
      this.diags.error('limit', where, `includes nested deeper than ${this.limits.maxIncludeDepth} files; ${file} is not read`);
      return undefined;
    }
    if (++this.files > this.limits.maxFiles) {
      this.diags.error('limit', where, `more than ${this.limits.maxFiles} configuration files; ${file} is not read`);
      return undefined;
    }
    const maxBytes = Math.min(this.limits.maxFileBytes, this.limits.maxTotalBytes - this.totalBytes);
    let read: ReadResult;
    try {
      read = this.reader.readFile(file, maxBytes);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ENOENT') this.diags.error(at ? 'include-missing' : 'io', where, `cannot read ${file}: it does not exist`);
      else this.diags.error('io', where, `cannot read ${file}: ${code ?? (err instanceof Error ? err.message : String(err))}`);
      return undefined;
    }
    const st = read.stat;
    if (st.kind !== 'file') {
      this.diags.error('io', where, `cannot read ${file}: it is not a regular file`);
      return undefined;
    }
    if (st.executable) {
      // keepalived refuses an executable main file and skips executable includes.
      if (at) this.diags.warning('include-skipped', at, `${file} is executable; keepalived skips executable configuration files, so lvskit does too`);
      else this.diags.error('io', where, `${file} is executable; keepalived refuses executable configuration files`);
      return undefined;
    }
    // A file being read has the identity of one on the stack: a cycle, unless that one was replaced
    // meanwhile (an editor's save renames a new file over it) and its inode number reused by this one.
    const cycle = this.stack.findIndex((f) => f.identity === st.identity && this.reader.stat(f.path)?.identity === f.identity);
    if (cycle >= 0) {
      const chain = [...this.stack.slice(cycle).map((f) => f.path), file].join(' → ');
      this.diags.error('include-cycle', where, `include cycle: ${chain}; not read again`,
        this.stack.slice(cycle + 1).flatMap((f) => (f.at ? [{ message: `${f.path} is included here`, location: f.at }] : [])));
      return undefined;
    }
    if (read.text === undefined && !read.bytes) {
      this.diags.error('too-large', where, st.sizeBytes > this.limits.maxFileBytes
        ? `${file} is ${st.sizeBytes} bytes, more than the limit of ${this.limits.maxFileBytes}; not read`
        : `configuration files exceed ${this.limits.maxTotalBytes} bytes in all; ${file} is not read`);
      return undefined;
    }
    const text = read.text !== undefined ? checkText(file, read.text, this.diags) : decodeText(file, read.bytes as Uint8Array, this.diags);
    this.totalBytes += read.bytes ? read.bytes.length : st.sizeBytes;
    if (text === undefined) return undefined;
    this.stack.push({ identity: st.identity, path: file, at });
    return { path: file, identity: st.identity, text };
  }

  /** Ends reading the innermost open file. */
  close(): void {
    this.stack.pop();
  }

  /**
   * The files an include line names, in glob order: relative patterns are relative to the including
   * file's directory. A literal name that does not exist is an error; a wildcard that matches nothing
   * is a warning (an error for includew/includea, keepalived's wildcard_match check); directories
   * matched by a wildcard are skipped (open() skips executable files).
   */
  resolve(keyword: string, pattern: string, fromFile: string, at: SourceLocation): string[] {
    const full = path.posix.isAbsolute(pattern) ? pattern : path.posix.join(path.posix.dirname(fromFile), pattern);
    let matches: GlobMatch[];
    try {
      matches = glob(full, this.reader);
    } catch (err) {
      if (!(err instanceof GlobLimitError)) throw err;
      this.diags.error('limit', at, `${keyword} ${pattern}: ${err.message}`);
      return [];
    }
    const wildcard = hasWildcards(full) || /\{[^}]*,/.test(full);
    if (matches.length === 0) {
      if (!wildcard) this.diags.error('include-missing', at, `${keyword} ${pattern}: ${full} does not exist`);
      else if (keyword === 'includew' || keyword === 'includea') this.diags.error('include-empty', at, `${keyword} ${pattern}: no file matches ${full}`);
      else this.diags.warning('include-empty', at, `${keyword} ${pattern}: no file matches ${full}`);
      return [];
    }
    const files: string[] = [];
    for (const m of matches) if (!(wildcard && m.kind === 'directory')) files.push(m.path);
    return files;
  }
}
