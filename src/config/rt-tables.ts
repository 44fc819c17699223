// layer: config (pure parsing; the system reader is the one file access)
// job: routing-table names as iproute2 and keepalived read them (/etc/iproute2/rt_tables and rt_tables.d/*.conf), for `table NAME`.
import { readdirSync, readFileSync } from 'node:fs';

/** The names every system has (iproute2's built-ins). */
export const BUILTIN_ROUTE_TABLES: ReadonlyMap<string, number> = new Map([['default', 253], ['main', 254], ['local', 255]]);

/** Lines `NUMBER NAME` (comments after `#`), as in /etc/iproute2/rt_tables; later lines win. */
export function parseRtTables(text: string, into = new Map<string, number>()): Map<string, number> {
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    const m = /^(0x[0-9a-fA-F]+|\d+)\s+(\S+)/.exec(line);
    if (!m) continue;
    const id = Number(m[1]);
    if (id >= 0 && id <= 0xffffffff) into.set(m[2] as string, id);
  }
  return into;
}

/** The directories iproute2 reads, in its order (older releases: /etc; newer also /usr/share and /usr/lib). */
const DIRS = ['/usr/share/iproute2', '/usr/lib/iproute2', '/etc/iproute2'];

/** The system's table names: the built-ins, then each rt_tables file and rt_tables.d/*.conf that exists. */
export function systemRouteTables(dirs: readonly string[] = DIRS): Map<string, number> {
  const out = new Map(BUILTIN_ROUTE_TABLES);
  for (const dir of dirs) {
    const files = [`${dir}/rt_tables`];
    try {
      files.push(...readdirSync(`${dir}/rt_tables.d`).filter((f) => f.endsWith('.conf')).sort().map((f) => `${dir}/rt_tables.d/${f}`));
    } catch { /* no such directory */ }
    for (const f of files) {
      try {
        parseRtTables(readFileSync(f, 'utf8'), out);
      } catch { /* no such file */ }
    }
  }
  return out;
}

/** `NAME` or a number (decimal or 0x hex) → the table id, or undefined when the name is unknown. */
export function lookupRouteTable(text: string, tables: ReadonlyMap<string, number>): number | undefined {
  if (/^(0x[0-9a-fA-F]+|\d+)$/.test(text)) {
    const n = Number(text);
    return n <= 0xffffffff ? n : undefined;
  }
  return tables.get(text);
}
