// layer: tests (helpers)
// job: a file system in memory for keepalived's path rule (src/path-security.ts): directories, files and symbolic links by absolute path, owners and modes.
import type { PathFacts, PathFs } from '../../src/path-security.js';

export const dir = (mode = 0o755, uid = 0, gid = 0): PathFacts => ({ uid, gid, mode, type: 'directory' });
export const file = (mode = 0o755, uid = 0, gid = 0): PathFacts => ({ uid, gid, mode, type: 'file' });
/** A symbolic link to `target` (absolute), owned by `uid`. */
export const link = (target: string, uid = 0): PathFacts & { target: string } => ({ uid, gid: 0, mode: 0o777, type: 'symlink', target });

const enoent = (p: string): Error => Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });

/** `tree` (absolute paths; `/` is added as root's 0755 unless given) as the rule reads a file system. */
export function fakePathFs(tree: Record<string, PathFacts | (PathFacts & { target: string })>): PathFs {
  const all: Record<string, PathFacts | (PathFacts & { target: string })> = { '/': dir(), ...tree };
  const realpath = (p: string, depth = 0): string => {
    if (depth > 40) throw Object.assign(new Error('ELOOP'), { code: 'ELOOP' });
    let at = '';
    const parts = p.split('/').filter((x) => x !== '');
    for (let i = 0; i < parts.length; i++) {
      at = `${at}/${parts[i]}`;
      const st = all[at];
      if (st === undefined) throw enoent(p);
      if ('target' in st) return realpath([st.target, ...parts.slice(i + 1)].join('/'), depth + 1);
    }
    return at === '' ? '/' : at;
  };
  return { lstat: (p) => { const st = all[p]; return st && { uid: st.uid, gid: st.gid, mode: st.mode, type: st.type }; }, realpath: (p) => realpath(p) };
}
