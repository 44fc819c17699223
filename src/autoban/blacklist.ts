// layer: behaviour (autoban), pure
// job: the autoban's lines in static_blacklist: written with a marker comment, recognised again after a restart; other lines kept as they are.
import { isIP } from 'node:net';
import type { BanRecord } from './policy.js';

/** The comment that marks a line as the autoban's: `ADDRESS # lvskit-autoban until=ISO|never count=N`. */
export const AUTOBAN_MARKER = 'lvskit-autoban';
const MARKED = /^\s*(\S+)\s+#\s*lvskit-autoban\s+until=(\S+)(?:\s+count=(\d+))?/;

/** A line written by the autoban, as `ADDRESS # lvskit-autoban until=… count=…`. */
export function formatBanLine(ban: BanRecord): string {
  const until = ban.untilMs === undefined ? 'never' : new Date(ban.untilMs).toISOString();
  return `${ban.address} # ${AUTOBAN_MARKER} until=${until} count=${ban.count}`;
}

/** The bans recorded in a blacklist's marked lines (whatever their end time). */
export function parseBanLines(text: string): BanRecord[] {
  const bans: BanRecord[] = [];
  for (const line of text.split('\n')) {
    const m = MARKED.exec(line);
    if (!m || isIP(m[1] as string) === 0) continue;
    const until = m[2] === 'never' ? undefined : Date.parse(m[2] as string);
    if (until !== undefined && Number.isNaN(until)) continue;
    bans.push({ address: m[1] as string, count: Number(m[3] ?? 0), sinceMs: 0, untilMs: until, dryRun: false });
  }
  return bans;
}

/**
 * The file's new text: every line that is not the autoban's kept in place (the operator's own
 * entries and comments), the autoban's old lines dropped, one marked line per ban in force
 * appended (ordered by address). Dry-run bans are never written.
 */
export function renderBlacklist(existing: string, bans: Iterable<BanRecord>): string {
  const kept = existing.split('\n').filter((line) => !MARKED.test(line));
  while (kept.length > 0 && kept[kept.length - 1] === '') kept.pop();
  const ours = [...bans].filter((b) => !b.dryRun).sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0)).map(formatBanLine);
  const lines = [...kept, ...ours];
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
