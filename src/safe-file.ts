// layer: shared (files lvskit writes as root)
// job: write a small file atomically and never through a symbolic link: a temporary file beside it (O_CREAT|O_EXCL|O_NOFOLLOW), fsync, rename,
//      fsync of the directory; blocking (pid file, restart note) or not (static_blacklist).
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:os';
import { ErrnoError } from './errors.js';

/** A write refused or failed, naming the file (the errno's own error carries only the temporary's path). */
export class SafeWriteError extends ErrnoError {
  override name = 'SafeWriteError';
  constructor(errno: number, syscall: string, readonly path: string, detail: string) {
    super(errno, syscall, `${path}: ${detail}`);
  }
}

/** ELOOP (naming `file`) when `file` is a symbolic link: lvskit neither writes through one nor replaces it (CVE-2018-19044's lesson). */
export function refuseSymlink(file: string): void {
  const st = fs.lstatSync(file, { throwIfNoEntry: false });
  if (st?.isSymbolicLink()) {
    throw new SafeWriteError(constants.errno.ELOOP, 'open', file, 'is a symbolic link; refusing to write through or replace it');
  }
}

/** A name beside `file` that nothing else uses: created O_EXCL, so a planted name is never reused. */
function tempPathFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

const TEMP_FLAGS = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;

function createError(file: string, temp: string, error: unknown): SafeWriteError {
  const e = error as NodeJS.ErrnoException;
  return new SafeWriteError(-(e.errno ?? 0), 'open', file, `cannot create its temporary file ${temp}: ${e.code ?? e.message}`);
}

function writeError(file: string, error: unknown): SafeWriteError {
  const e = error as NodeJS.ErrnoException;
  return new SafeWriteError(-(e.errno ?? 0), e.syscall ?? 'write', file, `not written: ${e.code ?? e.message}`);
}

/**
 * Write `data` to `file` with `mode` (whatever the umask): a temporary file in the same directory,
 * created O_EXCL|O_NOFOLLOW (so nothing at its name is followed or reused), written, fsynced, then
 * renamed over `file`, and the directory fsynced (the rename survives a crash). A reader sees the
 * old content or the new, never a part. A `file` that is a symbolic link is refused with ELOOP
 * naming it, and left as it is. Every error is a SafeWriteError naming `file`; no temporary file
 * is left behind.
 */
export function writeFileAtomicSync(file: string, data: string | Buffer, mode: 0o600 | 0o644): void {
  refuseSymlink(file);
  const temp = tempPathFor(file);
  let fd: number;
  try {
    fd = fs.openSync(temp, TEMP_FLAGS, mode);
  } catch (error) {
    throw createError(file, temp, error);
  }
  try {
    try {
      fs.fchmodSync(fd, mode);
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, file);
  } catch (error) {
    try { fs.unlinkSync(temp); } catch { /* the write's own error is the one to report */ }
    throw writeError(file, error);
  }
  try {
    const dir = fs.openSync(path.dirname(file), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    try { fs.fsyncSync(dir); } finally { fs.closeSync(dir); }
  } catch (error) {
    throw writeError(file, error);
  }
}

/** writeFileAtomicSync without blocking the event loop: the same steps and guarantees, the same errors. */
export async function writeFileAtomic(file: string, data: string | Buffer, mode: 0o600 | 0o644): Promise<void> {
  refuseSymlink(file);
  const temp = tempPathFor(file);
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(temp, TEMP_FLAGS, mode);
  } catch (error) {
    throw createError(file, temp, error);
  }
  try {
    try {
      await handle.chmod(mode);
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsp.rename(temp, file);
  } catch (error) {
    await fsp.unlink(temp).catch(() => undefined); // the write's own error is the one to report
    throw writeError(file, error);
  }
  try {
    const dir = await fsp.open(path.dirname(file), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    try { await dir.sync(); } finally { await dir.close(); }
  } catch (error) {
    throw writeError(file, error);
  }
}
