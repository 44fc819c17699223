// layer: kernel client (ipset)
// job: sets as text, line for line as `ipset list` and `ipset save` print them.
import type { IpsetListing, IpsetSetInfo } from './codec.js';
import { formatEntry, type IpsetMember } from './entry.js';

/** The options part of a header, as ipset prints it after `Header:` and after `create NAME TYPE`. */
export function formatHeaderOptions(info: IpsetSetInfo): string {
  const parts = [`family ${info.family}`];
  if (info.hashSize !== undefined) parts.push(`hashsize ${info.hashSize}`);
  if (info.maxElements !== undefined) parts.push(`maxelem ${info.maxElements}`);
  if (info.netmask !== undefined) parts.push(`netmask ${info.netmask}`);
  if (info.timeoutSec !== undefined) parts.push(`timeout ${info.timeoutSec}`);
  if (info.counters) parts.push('counters');
  if (info.comment) parts.push('comment');
  if (info.skbinfo) parts.push('skbinfo');
  if (info.forceadd) parts.push('forceadd');
  if (info.bucketSize !== undefined) parts.push(`bucketsize ${info.bucketSize}`);
  if (info.initval !== undefined) parts.push(`initval 0x${info.initval.toString(16).padStart(8, '0')}`);
  return parts.join(' ');
}

/** A member as ipset prints it: the element, then timeout, nomatch, counters, comment. */
export function formatMember(member: IpsetMember): string {
  const parts = [formatEntry(member)];
  if (member.timeoutSec !== undefined) parts.push(`timeout ${member.timeoutSec}`);
  if (member.nomatch) parts.push('nomatch');
  if (member.packets !== undefined) parts.push(`packets ${member.packets}`);
  if (member.bytes !== undefined) parts.push(`bytes ${member.bytes}`);
  if (member.comment !== undefined) parts.push(`comment "${member.comment}"`);
  return parts.join(' ');
}

/** One set as `ipset list NAME` prints it; `headerOnly` as `ipset list -t NAME`. */
export function formatListing(listing: IpsetSetInfo & { members?: IpsetMember[] }, options: { headerOnly?: boolean } = {}): string {
  const lines = [
    `Name: ${listing.name}`,
    `Type: ${listing.type}`,
    `Revision: ${listing.revision}`,
    `Header: ${formatHeaderOptions(listing)}`,
    `Size in memory: ${listing.memoryBytes ?? 0}`,
    `References: ${listing.references ?? 0}`,
    `Number of entries: ${listing.entryCount ?? listing.members?.length ?? 0}`,
  ];
  if (!options.headerOnly) {
    lines.push('Members:');
    for (const member of listing.members ?? []) lines.push(formatMember(member));
  }
  return lines.join('\n');
}

/** Several sets as `ipset list` prints them: one block each, a blank line between. */
export function formatListings(listings: readonly (IpsetSetInfo & { members?: IpsetMember[] })[], options: { headerOnly?: boolean } = {}): string {
  return listings.map((l) => formatListing(l, options)).join('\n\n');
}

/** Sets as `ipset save` prints them: `create` lines and `add` lines, restorable with `ipset restore`. */
export function formatSave(listings: readonly IpsetListing[]): string {
  const lines: string[] = [];
  for (const l of listings) {
    lines.push(`create ${l.name} ${l.type} ${formatHeaderOptions(l)}`);
    for (const member of l.members) lines.push(`add ${l.name} ${formatMember(member)}`);
  }
  return lines.join('\n');
}
