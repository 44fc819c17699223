// layer: shared (all layers)
// job: the absolute path of a system tool (nft, iptables-save, ip, ...). Under `npm test` or
//      `npx lvskit`, PATH starts with node_modules/.bin, where npm packages install commands of
//      the same names (@vercel/nft installs `nft`); a bare name would run those.

import { accessSync, constants } from 'node:fs';

/** Where Debian installs the tools lvskit runs, in the order a root shell searches them. */
export const SYSTEM_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'] as const;

const cache = new Map<string, string>();

/** The first executable `name` in SYSTEM_DIRS; `name` itself when none is (the error then names it). */
export function systemTool(name: string): string {
  if (name.includes('/')) return name;
  let path = cache.get(name);
  if (path === undefined) {
    path = name;
    for (const dir of SYSTEM_DIRS) {
      try {
        accessSync(`${dir}/${name}`, constants.X_OK);
        path = `${dir}/${name}`;
        break;
      } catch {
        // not in this directory
      }
    }
    cache.set(name, path);
  }
  return path;
}
