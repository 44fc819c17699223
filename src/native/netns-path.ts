// layer: native boundary
// job: netnsPath(): the nsfs path (and threadInNetns(): whether the calling thread is there) of a network namespace given by name or path (apart from socket.ts, so a scan of the connection table need not load the socket layer).
import fs from 'node:fs';
import path from 'node:path';

/** `/var/run/netns/NAME` for a bare name; an absolute path is used as is. */
export function netnsPath(netns: string): string {
  if (netns.startsWith('/')) return netns;
  if (netns === '' || netns === '.' || netns === '..' || netns.includes('/')) {
    throw new TypeError(`netns must be a namespace name or an absolute path, got '${netns}'`);
  }
  return path.join('/var/run/netns', netns);
}

/** Whether the calling thread is in `netns` already (same nsfs inode), so /proc/sys/net is that namespace's. */
export function threadInNetns(netns: string): boolean {
  try {
    const here = fs.statSync('/proc/thread-self/ns/net');
    const there = fs.statSync(netnsPath(netns));
    return here.ino === there.ino && here.dev === there.dev;
  } catch {
    return false;
  }
}
