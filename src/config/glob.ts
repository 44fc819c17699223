// layer: config (pure, over an injected reader)
// job: glob(3) as keepalived calls it for `include` (GLOB_MARK | GLOB_BRACE): braces, `*`, `?`, `[...]`; sorted.
import type { ConfigReader } from './reader.js';

/** Most brace alternatives one pattern may expand to. */
export const MAX_BRACE_EXPANSIONS = 1024;
/** Most paths one pattern may match. */
export const MAX_GLOB_MATCHES = 100_000;

export class GlobLimitError extends Error {
  override name = 'GlobLimitError';
}

/** True when `pattern` has wildcard characters (`*`, `?`, `[`) outside escapes. */
export function hasWildcards(pattern: string): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') i++;
    else if (c === '*' || c === '?' || c === '[') return true;
  }
  return false;
}

/** Expands csh-style braces: `a{b,c{d,e}}f` → `abf acdf acef`. Unbalanced braces are literal. */
export function expandBraces(pattern: string): string[] {
  const out: string[] = [];
  const work = [pattern];
  while (work.length > 0) {
    const p = work.pop() as string;
    const span = firstBraceGroup(p);
    if (!span) {
      out.push(p);
    } else {
      const [open, close, commas] = span;
      const parts: string[] = [];
      let from = open + 1;
      for (const comma of [...commas, close]) {
        parts.push(p.slice(from, comma));
        from = comma + 1;
      }
      for (let i = parts.length - 1; i >= 0; i--) work.push(p.slice(0, open) + parts[i] + p.slice(close + 1));
    }
    if (out.length + work.length > MAX_BRACE_EXPANSIONS) {
      throw new GlobLimitError(`brace expansion of '${pattern}' gives more than ${MAX_BRACE_EXPANSIONS} patterns`);
    }
  }
  return out;
}

/** The first `{...}` group that holds a top-level comma: [open, close, comma positions]. */
function firstBraceGroup(p: string): [number, number, number[]] | undefined {
  for (let open = p.indexOf('{'); open >= 0; open = p.indexOf('{', open + 1)) {
    let depth = 0;
    const commas: number[] = [];
    for (let i = open; i < p.length; i++) {
      const c = p[i];
      if (c === '\\') i++;
      else if (c === '{') depth++;
      else if (c === ',' && depth === 1) commas.push(i);
      else if (c === '}' && --depth === 0) {
        if (commas.length > 0) return [open, i, commas];
        break;
      }
    }
  }
  return undefined;
}

/** One path segment's pattern as a RegExp (fnmatch without FNM_PERIOD's exception: a leading dot must be explicit). */
export function segmentRegExp(segment: string): RegExp {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i] as string;
    if (c === '\\' && i + 1 < segment.length) {
      re += escapeRe(segment[++i] as string);
    } else if (c === '*') {
      re += '[^/]*';
    } else if (c === '?') {
      re += '[^/]';
    } else if (c === '[') {
      const cls = bracketClass(segment, i);
      if (cls) {
        re += cls.re;
        i = cls.end;
      } else {
        re += '\\[';
      }
    } else {
      re += escapeRe(c);
    }
  }
  return new RegExp(`^${re}$`, 's');
}

function bracketClass(s: string, start: number): { re: string; end: number } | undefined {
  let i = start + 1;
  let negate = false;
  if (s[i] === '!' || s[i] === '^') {
    negate = true;
    i++;
  }
  let body = '';
  let first = true;
  for (; i < s.length; i++, first = false) {
    const c = s[i] as string;
    if (c === ']' && !first) return { re: `[${negate ? '^' : ''}${body}]`, end: i };
    if (c === '-' && !first && s[i + 1] !== ']' && i + 1 < s.length) body += '-';
    else body += c === '\\' || c === ']' || c === '[' || c === '^' || c === '-' ? `\\${c}` : c;
  }
  return undefined;
}

function escapeRe(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}

/** Removes backslash escapes from a segment without wildcards. */
function unescapeSegment(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}

/** A path a pattern matched, and what it is. */
export interface GlobMatch {
  path: string;
  kind: 'file' | 'directory' | 'other';
}

/**
 * The paths `pattern` matches, as glibc's glob(3) with GLOB_BRACE orders them: brace alternatives in
 * the order written, the matches of each sorted (byte order, the C locale). Directories are returned
 * too (the caller skips them, as keepalived does with GLOB_MARK). A pattern without wildcards is
 * returned as is when it exists.
 */
export function glob(pattern: string, reader: ConfigReader): GlobMatch[] {
  const found = new Map<string, GlobMatch>();
  for (const p of expandBraces(pattern)) {
    for (const m of globOne(p, reader).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
      if (!found.has(m.path)) found.set(m.path, m);
      if (found.size > MAX_GLOB_MATCHES) throw new GlobLimitError(`'${pattern}' matches more than ${MAX_GLOB_MATCHES} paths`);
    }
  }
  return [...found.values()];
}

function globOne(pattern: string, reader: ConfigReader): GlobMatch[] {
  if (!hasWildcards(pattern)) {
    const p = unescapeSegment(pattern);
    const st = reader.stat(p);
    return st ? [{ path: p, kind: st.kind }] : [];
  }
  const absolute = pattern.startsWith('/');
  const segments = pattern.split('/').filter((s, i) => s !== '' || i === 0);
  let current: GlobMatch[] = [{ path: absolute ? '/' : '', kind: 'directory' }];
  for (const [index, segment] of segments.entries()) {
    if (index === 0 && absolute) continue;
    const last = index === segments.length - 1;
    const next: GlobMatch[] = [];
    for (const base of current) {
      if (!hasWildcards(segment)) {
        const p = joinPath(base.path, unescapeSegment(segment));
        const st = reader.stat(p);
        if (st) next.push({ path: p, kind: st.kind });
        continue;
      }
      const re = segmentRegExp(segment);
      for (const entry of reader.readDir(base.path === '' ? '.' : base.path) ?? []) {
        if (entry.name.startsWith('.') && !segment.startsWith('.')) continue;
        if (!re.test(entry.name)) continue;
        const p = joinPath(base.path, entry.name);
        // A symbolic link (or other) is resolved only when it matters: as a directory to descend, or a final match.
        const kind = entry.kind === 'other' ? reader.stat(p)?.kind : entry.kind;
        if (kind !== undefined && (last || kind === 'directory')) next.push({ path: p, kind });
      }
    }
    current = next.filter((m) => last || m.kind === 'directory');
    if (current.length === 0) return [];
  }
  return current;
}

function joinPath(base: string, name: string): string {
  if (base === '') return name;
  return base === '/' ? `/${name}` : base.endsWith('/') ? `${base}${name}` : `${base}/${name}`;
}
