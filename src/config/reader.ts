// layer: config (the one place that touches the file system)
// job: the injectable file reader the include machinery uses: the real file system, or an in-memory map.
import fs from 'node:fs';
import path from 'node:path';

/** The kind of a path a `ConfigReader` found. */
export type FileKind = 'file' | 'directory' | 'other';

/** What a `ConfigReader` tells about a path. */
export interface ConfigFileStat {
  kind: FileKind;
  sizeBytes: number;
  /** Any execute bit set (keepalived skips such files). */
  executable: boolean;
  /** What makes the file itself unique (device and inode on a real file system): include cycles are found by it. */
  identity: string;
}

/** A directory entry; `other` (e.g. a symbolic link) is resolved with stat() when it matters. */
export interface DirEntry {
  name: string;
  kind: FileKind;
}

/**
 * A file read: what it is (described by the open file itself) and its contents, absent when it is
 * not a regular file or too big: its bytes, or its text when the reader decoded it as UTF-8 already.
 */
export interface ReadResult {
  stat: ConfigFileStat;
  bytes?: Uint8Array;
  /** The contents as UTF-8 text (only when valid UTF-8 and holding no U+FFFD; otherwise `bytes`). */
  text?: string;
}

/** What the parser needs from a file system; every path it passes is as the user wrote it, joined. */
export interface ConfigReader {
  /** The directory `${_PWD}` names for a file in `dir`. */
  absolute(dir: string): string;
  /** Undefined when nothing exists at `p`. */
  stat(p: string): ConfigFileStat | undefined;
  /** Reads a regular file of at most `maxBytes`; throws an Error with a `code` (ENOENT, EACCES, ...) when it cannot open it. */
  readFile(p: string, maxBytes: number): ReadResult;
  /** Entries of a directory, or undefined when `p` is not a readable directory. */
  readDir(p: string): DirEntry[] | undefined;
}

function describe(st: fs.Stats): ConfigFileStat {
  return {
    kind: st.isFile() ? 'file' : st.isDirectory() ? 'directory' : 'other',
    sizeBytes: st.size,
    executable: (st.mode & 0o111) !== 0,
    identity: `${st.dev}:${st.ino}`,
  };
}

/** The real file system (node:fs, synchronous: parsing is one short burst at start-up or reload). */
export function fileSystemReader(): ConfigReader {
  return {
    absolute: (dir) => path.resolve(dir),
    stat(p) {
      const st = fs.statSync(p, { throwIfNoEntry: false });
      return st ? describe(st) : undefined;
    },
    readFile(p, maxBytes) {
      // One open, one fstat, reads, one close: the checks describe the very file that is read.
      // Numeric flags: node turns a string such as 'r' into them on every call (5,001 files for a large site).
      const fd = fs.openSync(p, fs.constants.O_RDONLY);
      try {
        const stat = describe(fs.fstatSync(fd));
        if (stat.kind !== 'file' || stat.sizeBytes > maxBytes) return { stat };
        // Node reads and decodes UTF-8 in one native call: a file's text without a Buffer or a TextDecoder.
        // A U+FFFD may stand for bytes that are not UTF-8: such a file is read again as bytes, decoded by the caller.
        let text = fs.readFileSync(fd, 'utf8');
        // A byte-order mark is dropped, as TextDecoder drops it.
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        if (text.length > maxBytes) return { stat: { ...stat, sizeBytes: Buffer.byteLength(text) } };
        if (!text.includes('\uFFFD')) return { stat, text };
        const buf = Buffer.allocUnsafe(stat.sizeBytes);
        let length = 0;
        while (length < buf.length) {
          const n = fs.readSync(fd, buf, length, buf.length - length, length);
          if (n === 0) break;
          length += n;
        }
        return { stat, bytes: buf.subarray(0, length) };
      } finally {
        fs.closeSync(fd);
      }
    },
    readDir(p) {
      try {
        return fs.readdirSync(p, { withFileTypes: true }).map((d) => ({
          name: d.name, kind: d.isFile() ? 'file' : d.isDirectory() ? 'directory' : 'other',
        }));
      } catch {
        return undefined;
      }
    },
  };
}

function codeError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * An in-memory file system: keys are paths (absolute, or relative to `/`), values file contents.
 * Directories exist implicitly. Used by tests and by callers that hold configuration elsewhere.
 */
export function memoryReader(files: Record<string, string | Uint8Array>): ConfigReader {
  const norm = (p: string): string => path.posix.resolve('/', p);
  const contents = new Map<string, Uint8Array>();
  const dirs = new Map<string, Map<string, FileKind>>();
  for (const [name, body] of Object.entries(files)) {
    const full = norm(name);
    contents.set(full, typeof body === 'string' ? Buffer.from(body, 'utf8') : body);
    let child = full;
    let kind: FileKind = 'file';
    for (let dir = path.posix.dirname(full); ; dir = path.posix.dirname(dir)) {
      let entries = dirs.get(dir);
      if (!entries) dirs.set(dir, (entries = new Map()));
      entries.set(path.posix.basename(child), kind);
      if (dir === '/') break;
      child = dir;
      kind = 'directory';
    }
  }
  const stat = (p: string): ConfigFileStat | undefined => {
    const full = norm(p);
    const body = contents.get(full);
    if (body) return { kind: 'file', sizeBytes: body.length, executable: false, identity: full };
    return dirs.has(full) ? { kind: 'directory', sizeBytes: 0, executable: false, identity: full } : undefined;
  };
  return {
    absolute: norm,
    stat,
    readFile(p, maxBytes) {
      const st = stat(p);
      if (!st) throw codeError('ENOENT', `${p} does not exist`);
      const body = contents.get(norm(p));
      return body && st.sizeBytes <= maxBytes ? { stat: st, bytes: body } : { stat: st };
    },
    readDir(p) {
      const entries = dirs.get(norm(p));
      return entries ? [...entries].map(([name, kind]) => ({ name, kind })) : undefined;
    },
  };
}
