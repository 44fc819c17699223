// layer: test helpers (kernel tier)
// job: the `ipset` command inside a test namespace as the oracle, and an IpsetClient closed in teardown.
import type { ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { IpsetClient } from '../../src/ipset/client.js';
import type { Netns } from './netns.js';

/** A set as `ipset list NAME` prints it. */
export interface OracleSet {
  name: string;
  type: string;
  revision: number;
  /** The text after `Header: `. */
  header: string;
  references: number;
  entries: number;
  /** Member lines, in the kernel's order. */
  members: string[];
  /** The whole output, trimmed. */
  text: string;
}

/** `ipset list NAME` (or `-t`) inside `ns`, parsed. */
export async function oracleList(ns: Netns, name: string, headerOnly = false): Promise<OracleSet> {
  const text = (await ns.exec(['ipset', 'list', ...(headerOnly ? ['-t'] : []), name])).trimEnd();
  const field = (key: string): string => {
    const line = text.split('\n').find((l) => l.startsWith(`${key}: `));
    if (line === undefined) throw new Error(`ipset list ${name}: no "${key}:" line in\n${text}`);
    return line.slice(key.length + 2);
  };
  const lines = text.split('\n');
  const membersAt = lines.indexOf('Members:');
  return {
    name: field('Name'), type: field('Type'), revision: Number(field('Revision')), header: field('Header'),
    references: Number(field('References')), entries: Number(field('Number of entries')),
    members: membersAt < 0 ? [] : lines.slice(membersAt + 1).filter((l) => l !== ''), text,
  };
}

/** Member lines of a set, sorted (the kernel's hash order is not meaningful). */
export async function oracleMembers(ns: Netns, name: string): Promise<string[]> {
  return (await oracleList(ns, name)).members.sort();
}

/** Set names (`ipset list -n`), sorted. */
export async function oracleNames(ns: Netns): Promise<string[]> {
  return (await ns.exec(['ipset', 'list', '-n'])).split('\n').filter((l) => l !== '').sort();
}

/** `ipset test NAME ENTRY` inside `ns`: true when it exits 0. */
export async function oracleTest(ns: Netns, name: string, entry: string): Promise<boolean> {
  try {
    await ns.exec(['ipset', 'test', name, entry]);
    return true;
  } catch {
    return false;
  }
}

/** An IpsetClient inside `ns`, closed when the test ends (before the namespace goes). */
export async function openClient(t: ExecutionContext, ns: Netns): Promise<IpsetClient> {
  const client = await IpsetClient.open({ netns: ns.name });
  t.teardown(() => client.close());
  return client;
}

/** `count` distinct IPv4 addresses in 10.0.0.0/8, in a fixed order. */
export function addresses(count: number, offset = 0): string[] {
  const out: string[] = [];
  for (let i = offset; i < offset + count; i++) out.push(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  return out;
}

/** `ipset save [NAME]` inside `ns` (output of any size). */
export async function oracleSave(ns: Netns, name?: string): Promise<string> {
  const argv = ['netns', 'exec', ns.name, 'ipset', 'save', ...(name !== undefined ? [name] : [])];
  return (await promisify(execFile)('ip', argv, { maxBuffer: 256 << 20 })).stdout;
}
