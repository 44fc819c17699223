// layer: kernel client (ipset)
// job: the `static_blacklist` file: one address or CIDR per line, `#` comments; parsed with file:line:column, written atomically (src/safe-file.ts).
import fs from 'node:fs/promises';
import { isIPv4, isIPv6 } from 'node:net';
import { encodeAddress, formatIPv4, formatIPv6 } from '../bytes.js';
import { writeFileAtomic } from '../safe-file.js';
import { entryMismatch, formatEntry, toWireEntry, type IpsetEntry, type IpsetMember } from './entry.js';

/** One address or network from the file, normalized (network address, RFC 5952 IPv6). */
export interface BlacklistEntry extends IpsetEntry {
  /** 1-based line it came from. */
  line: number;
}

/** A line that is not an address or CIDR, or does not fit the set. */
export interface BlacklistProblem {
  file: string;
  line: number;
  /** 1-based column of the offending text. */
  column: number;
  /** The offending text. */
  text: string;
  reason: string;
}

/** What a file holds: the entries, and the lines that could not be used. */
export interface ParsedBlacklist {
  file: string;
  entries: BlacklistEntry[];
  problems: BlacklistProblem[];
}

/** `file:line:column: reason (text)`, as compilers print it. */
export function formatProblem(p: BlacklistProblem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.reason}: ${JSON.stringify(p.text)}`;
}

/** A blacklist file has lines that cannot be used; nothing was changed. Every problem is listed. */
export class BlacklistFileError extends Error {
  override name = 'BlacklistFileError';
  readonly code = 'ERR_BLACKLIST_FILE';

  constructor(readonly file: string, readonly problems: readonly BlacklistProblem[]) {
    const shown = problems.slice(0, 10).map(formatProblem);
    const more = problems.length > shown.length ? [`… and ${problems.length - shown.length} more`] : [];
    super([`${file}: ${problems.length} invalid line${problems.length === 1 ? '' : 's'}; nothing changed (use --skip-invalid to load the rest)`, ...shown, ...more].join('\n'));
  }
}

/** The network of `address/cidr` (host bits cleared), as text. */
function networkOf(address: string, cidr: number): string {
  const bytes = encodeAddress(address);
  for (let bit = cidr; bit < bytes.length * 8; bit++) bytes[bit >> 3] = (bytes[bit >> 3] as number) & ~(0x80 >> (bit & 7));
  return bytes.length === 4 ? formatIPv4(bytes) : formatIPv6(bytes);
}

/** Parse one token: an address or CIDR, or the reason it is not. */
export function parseBlacklistToken(token: string): IpsetEntry | string {
  const slash = token.indexOf('/');
  const address = slash < 0 ? token : token.slice(0, slash);
  const v4 = isIPv4(address);
  if (!v4 && !(isIPv6(address) && !address.includes('%'))) return 'not an IPv4 or IPv6 address or CIDR';
  const full = v4 ? 32 : 128;
  if (slash < 0) return { address: networkOf(address, full) };
  const prefix = token.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > full) return `prefix length must be 1…${full}`;
  const cidr = Number(prefix);
  if (cidr === 0) return 'prefix length 0 would match every address';
  const network = networkOf(address, cidr);
  return cidr === full ? { address: network } : { address: network, cidr };
}

/**
 * Parse a blacklist: one IPv4/IPv6 address or CIDR per line; `#` starts a comment (whole line or
 * after the entry); blank lines are ignored. Host bits of a CIDR are cleared (10.1.2.3/8 →
 * 10.0.0.0/8) and /32 (/128) is a single address. Pure: no I/O.
 */
export function parseBlacklist(text: string, file = '<input>'): ParsedBlacklist {
  const entries: BlacklistEntry[] = [];
  const problems: BlacklistProblem[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = i + 1;
    const hash = raw.indexOf('#');
    const content = (hash < 0 ? raw : raw.slice(0, hash)).replace(/\r$/, '');
    const tokens = [...content.matchAll(/\S+/g)];
    const [first, second] = tokens;
    if (!first) return;
    if (second) {
      problems.push({ file, line, column: (second.index ?? 0) + 1, text: second[0], reason: 'one address or CIDR per line; unexpected text after it' });
      return;
    }
    const parsed = parseBlacklistToken(first[0]);
    if (typeof parsed === 'string') problems.push({ file, line, column: (first.index ?? 0) + 1, text: first[0], reason: parsed });
    else entries.push({ ...parsed, line });
  });
  return { file, entries, problems };
}

/** Read and parse a blacklist file (symbolic links are followed for reading). */
export async function readBlacklistFile(file: string): Promise<ParsedBlacklist> {
  return parseBlacklist(await fs.readFile(file, 'utf8'), file);
}

/**
 * Move the entries that cannot go into a set of `type` and `family` to the problems: addresses
 * of the other family, networks in a hash:ip set. Pure.
 */
export function fitBlacklist(parsed: ParsedBlacklist, target: { type: string; family: string }): ParsedBlacklist {
  const entries: BlacklistEntry[] = [];
  const problems = [...parsed.problems];
  for (const entry of parsed.entries) {
    const mismatch = entryMismatch(target.type, target.family, toWireEntry(entry));
    if (!mismatch) entries.push(entry);
    else problems.push({ file: parsed.file, line: entry.line, column: 1, text: formatEntry(entry), reason: mismatch.why });
  }
  problems.sort((a, b) => a.line - b.line || a.column - b.column);
  return { file: parsed.file, entries, problems };
}

/** Blacklist text: optional `# ` header lines, then one entry per line. */
export function formatBlacklist(entries: Iterable<IpsetEntry | IpsetMember>, header: readonly string[] = []): string {
  const lines = header.map((h) => `# ${h}`);
  for (const entry of entries) lines.push(formatEntry(entry));
  return `${lines.join('\n')}\n`;
}

/**
 * Write a blacklist file atomically with mode 0644, never through a symbolic link (safe-file's
 * writeFileAtomic: temporary file, fsync, rename, directory fsync; a link at `file` refused with ELOOP).
 */
export function writeBlacklistFile(file: string, entries: Iterable<IpsetEntry | IpsetMember>, header: readonly string[] = []): Promise<void> {
  return writeFileAtomic(file, formatBlacklist(entries, header), 0o644);
}
