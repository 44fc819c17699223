// layer: shared (files lvskit runs or reads as root)
// job: keepalived's check_security rule (lib/notify.c), the one copy: may anyone but root change a path — the file, its link, each directory up to `/`?
import fs from 'node:fs';
import path from 'node:path';

/** What the rule reads of one path. */
export interface PathFacts {
  uid: number;
  gid: number;
  /** st_mode's permission bits, sticky and set-id bits included. */
  mode: number;
  type: 'file' | 'directory' | 'symlink' | 'other';
}

/** The file system as the rule reads it (the live one, or a fake in tests). */
export interface PathFs {
  /** lstat(2): a symbolic link is itself; undefined when nothing is there (ENOENT, ENOTDIR); other errors are thrown. */
  lstat(p: string): PathFacts | undefined;
  /** realpath(3); throws as fs.realpathSync does (ENOENT for a missing part or a dangling link). */
  realpath(p: string): string;
}

function facts(st: fs.Stats): PathFacts {
  const type = st.isFile() ? 'file' : st.isDirectory() ? 'directory' : st.isSymbolicLink() ? 'symlink' : 'other';
  return { uid: st.uid, gid: st.gid, mode: st.mode & 0o7777, type };
}

const absent = (error: unknown): boolean => ['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '');

/** The live file system. */
export const livePathFs: PathFs = {
  lstat: (p) => {
    try {
      return facts(fs.lstatSync(p));
    } catch (error) {
      if (absent(error)) return undefined;
      throw error;
    }
  },
  realpath: (p) => fs.realpathSync(p),
};

/** `p`'s real path; undefined when it (or a link's target) is not there. */
function realOf(p: string, fsys: PathFs): string | undefined {
  try {
    return fsys.realpath(p);
  } catch (error) {
    if (absent(error)) return undefined;
    throw error;
  }
}

/** stat(2) through `fsys`: what `p` names once its links are followed; undefined when it (or a link's target) is not there. */
export function statPath(p: string, fsys: PathFs = livePathFs): PathFacts | undefined {
  const real = realOf(p, fsys);
  return real === undefined ? undefined : fsys.lstat(real);
}

/** A set-user-id root or set-group-id root program: it runs with root's rights whoever starts it (keepalived checks those too). */
export function setIdRoot(st: PathFacts | undefined): boolean {
  return st !== undefined && st.type === 'file' && ((st.uid === 0 && (st.mode & 0o4100) === 0o4100) || (st.gid === 0 && (st.mode & 0o2010) === 0o2010));
}

const octal = (mode: number): string => (mode & 0o7777).toString(8).padStart(4, '0');

/** Why one path part fails the rule, in words that name it with its owner and mode; undefined when it passes. */
function partFault(p: string, st: PathFacts): string | undefined {
  const named = `${p} (uid ${st.uid}, gid ${st.gid}, mode ${octal(st.mode)})`;
  if (st.uid !== 0) return `${named} is not owned by root`;
  // A symbolic link's own mode means nothing; a directory with the sticky bit (/tmp) may be writable by all.
  const checked = st.type === 'file' || (st.type === 'directory' && (st.mode & 0o1000) === 0);
  if (checked && (st.mode & 0o002) !== 0) return `${named} is writable by others`;
  if (checked && st.gid !== 0 && (st.mode & 0o020) !== 0) return `${named} is writable by group ${st.gid}`;
  return undefined;
}

function walk(file: string, fsys: PathFs): string | undefined {
  const parts = file.split('/').filter((p) => p !== '');
  for (let i = 0; i <= parts.length; i++) {
    const at = `/${parts.slice(0, i).join('/')}`;
    const st = fsys.lstat(at);
    if (st === undefined) return undefined;
    const fault = partFault(at, st);
    if (fault !== undefined) return fault;
  }
  return undefined;
}

/**
 * keepalived's check_security, applied to `file` (made absolute) and, where links lead elsewhere,
 * to its real path too: `/`, each directory on the way and the file itself owned by root and not
 * writable by a group other than root or by others — a directory with the sticky bit, like /tmp,
 * may be; a symbolic link must be root's. Returns the first part that fails, named with its owner
 * and mode and why (`/srv (uid 0, gid 0, mode 0777) is writable by others`); undefined when only
 * root can change it. A missing path is not this rule's to report (undefined).
 */
export function unsafePathPart(file: string, fsys: PathFs = livePathFs): string | undefined {
  const absolute = path.resolve(file);
  const fault = walk(absolute, fsys);
  if (fault !== undefined) return fault;
  const real = realOf(absolute, fsys);
  return real !== undefined && real !== absolute ? walk(real, fsys) : undefined;
}
