// layer: kernel client (procfs sysctl)
// job: read and write sysctls as the files under /proc/sys, in the network namespace of the calling thread.
//
// /proc/sys/net resolves against the namespace of the thread that opens the file (not the
// process's), so every access here is synchronous: it runs on the calling thread. An async
// fs call would run on a libuv pool thread, which stays in the namespace it was started in even
// after `enterNetns()` moved the main thread (seen on Linux 6.18: the main thread read
// all.rp_filter 2 in the namespace, a pool thread read the host's 0). A command that works in
// another namespace enters it first, for the whole process (`lvskit run --netns` does).
import fs from 'node:fs';
import path from 'node:path';
import { ErrnoError } from '../errors.js';

/** Where sysctl files live; tests hand in a directory of their own. */
export const PROC_SYS = '/proc/sys';

/** A sysctl that could not be read or written: errno, the syscall, the sysctl's name and its file. */
export class SysctlError extends ErrnoError {
  override name = 'SysctlError';

  constructor(errno: number, syscall: string, readonly sysctl: string, readonly path: string) {
    super(errno, syscall, `${sysctl}: ${path}`);
  }
}

/**
 * The file of a sysctl named as sysctl(8) names it: dots separate the levels, and a dot inside a
 * level (an interface `eth0.100`) is written `/` (`net.ipv4.conf.eth0/100.rp_filter`).
 */
export function sysctlPath(name: string, root: string = PROC_SYS): string {
  const levels = name.split('.');
  if (levels.some((l) => l === '' || l === '..' || l === '.')) throw new TypeError(`sysctl: ${JSON.stringify(name)} is not a sysctl name`);
  return path.join(root, ...levels.map((l) => l.replaceAll('/', '.')));
}

/** The per-interface IPv4 (or IPv6) sysctl `key` of `iface` (`conf.all` for `all`, `conf.default` for `default`). */
export function confSysctl(iface: string, key: string, family: 4 | 6 = 4): string {
  return `net.ipv${family}.conf.${iface.replaceAll('.', '/')}.${key}`;
}

function fail(error: unknown, name: string, file: string): never {
  const e = error as NodeJS.ErrnoException;
  if (typeof e.errno === 'number') throw new SysctlError(Math.abs(e.errno), e.syscall ?? 'open', name, file);
  throw error;
}

/** The sysctl's value as text (trimmed); undefined when it does not exist (no such interface, module not loaded). */
export function readSysctl(name: string, root: string = PROC_SYS): string | undefined {
  const file = sysctlPath(name, root);
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return fail(error, name, file);
  }
}

/** The sysctl's value as an integer; undefined when it does not exist. Throws TypeError for a value that is not one. */
export function readSysctlNumber(name: string, root: string = PROC_SYS): number | undefined {
  const text = readSysctl(name, root);
  if (text === undefined) return undefined;
  if (!/^-?\d+$/.test(text)) throw new TypeError(`sysctl ${name}: ${JSON.stringify(text)} is not an integer`);
  return Number(text);
}

/** Write the sysctl (`sysctl -w NAME=VALUE`); SysctlError when the kernel refuses it or it does not exist. */
export function writeSysctl(name: string, value: number | string, root: string = PROC_SYS): void {
  const file = sysctlPath(name, root);
  try {
    // No O_CREAT: a sysctl that is not there is an error, never a new file.
    const fd = fs.openSync(file, fs.constants.O_WRONLY);
    try {
      fs.writeSync(fd, `${value}\n`);
    } finally {
      fs.closeSync(fd);
    }
  } catch (error) {
    fail(error, name, file);
  }
}
