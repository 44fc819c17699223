// layer: kernel client (ipset)
// job: replace a set's whole content with no gap: fill a temporary set, swap it in, destroy the old content.
import { constants } from 'node:os';
import type { BulkOptions } from './bulk.js';
import type { CreateOptions, IpsetClient } from './client.js';
import { IPSET_CMD_HEADER, IPSET_CMD_SWAP, IPSET_ERR_TYPE_MISMATCH, IPSET_MAXNAMELEN } from './constants.js';
import type { IpsetSetInfo } from './codec.js';
import type { IpsetEntry } from './entry.js';
import { IpsetError } from './errors.js';

/** Options of replace. */
export interface ReplaceOptions extends Pick<BulkOptions, 'onProgress' | 'signal' | 'maxMessagesInFlight'> {
  /**
   * How to create the set when it does not exist (without it, a missing set is `no-such-set`).
   * When it exists, its type and family must match (`wrong-type`); its other options are kept.
   */
  create?: CreateOptions;
}

/** Outcome of replace. */
export interface ReplaceResult {
  /** Elements in the set now (duplicates in the input count once in the kernel, once each here). */
  applied: number;
  /** The set did not exist and was created. */
  created: boolean;
  /** The set's type and family. */
  type: string;
  family: string;
}

const SUFFIX = '~lvk';

/** The temporary set used to replace `name`: `name` cut to fit, plus `~lvk`. */
export function temporarySetName(name: string): string {
  const budget = IPSET_MAXNAMELEN - 1 - SUFFIX.length;
  let base = name;
  while (Buffer.byteLength(base, 'utf8') > budget) base = base.slice(0, -1);
  return `${base}${SUFFIX}`;
}

function createOptionsFrom(info: IpsetSetInfo): CreateOptions {
  const options: CreateOptions = { type: info.type as CreateOptions['type'], revision: info.revision, counters: info.counters, comment: info.comment };
  if (info.family !== 'unspec') options.family = info.family;
  if (info.hashSize !== undefined) options.hashSize = info.hashSize;
  if (info.maxElements !== undefined) options.maxElements = info.maxElements;
  if (info.timeoutSec !== undefined) options.timeoutSec = info.timeoutSec;
  return options;
}

async function describeOrUndefined(client: IpsetClient, name: string): Promise<IpsetSetInfo | undefined> {
  try {
    return await client.describe(name);
  } catch (err) {
    if (err instanceof IpsetError && err.kind === 'no-such-set') return undefined;
    throw err;
  }
}

/**
 * Make `entries` the whole content of set `name` without a moment where the set is empty or
 * half-filled: create a temporary set like it, fill it (duplicates allowed), swap it with `name`
 * (IPSET_CMD_SWAP is atomic; firewall rules keep referencing `name`), destroy the temporary set,
 * which then holds the old content. A missing set is created the same way and renamed into place.
 * On any failure the temporary set is destroyed and `name` is left as it was.
 */
export async function replaceSet(client: IpsetClient, name: string, entries: Iterable<IpsetEntry | string>,
  options: ReplaceOptions = {}): Promise<ReplaceResult> {
  const current = await describeOrUndefined(client, name);
  if (!current && !options.create) throw new IpsetError(constants.errno.ENOENT, IPSET_CMD_HEADER, { setName: name });
  const wanted = options.create;
  if (current && wanted && (wanted.type !== current.type || (wanted.family ?? 'inet') !== current.family)) {
    throw new IpsetError(IPSET_ERR_TYPE_MISMATCH, IPSET_CMD_SWAP, { setName: name, kind: 'wrong-type',
      reason: `Set ${name} is ${current.type} family ${current.family}, not ${wanted.type} family ${wanted.family ?? 'inet'}` });
  }
  const createOptions = current ? createOptionsFrom(current) : (wanted as CreateOptions);
  const temp = temporarySetName(name);
  await createFresh(client, temp, createOptions);
  let applied: number;
  try {
    const bulk: BulkOptions = { exist: true };
    if (options.onProgress) bulk.onProgress = options.onProgress;
    if (options.signal) bulk.signal = options.signal;
    if (options.maxMessagesInFlight !== undefined) bulk.maxMessagesInFlight = options.maxMessagesInFlight;
    applied = (await client.addMany(temp, entries, bulk)).applied;
    if (current) await client.swap(temp, name);
    else await client.rename(temp, name);
  } catch (err) {
    await client.destroy(temp).catch(() => undefined); // the failure above is the one to report
    throw err;
  }
  if (current) await client.destroy(temp);
  return { applied, created: !current, type: createOptions.type, family: createOptions.family ?? 'inet' };
}

/** Create `temp`; a leftover of an interrupted replace is destroyed first. */
async function createFresh(client: IpsetClient, temp: string, options: CreateOptions): Promise<void> {
  try {
    await client.create(temp, { ...options, exist: false });
  } catch (err) {
    if (!(err instanceof IpsetError && err.kind === 'set-exists')) throw err;
    await client.destroy(temp);
    await client.create(temp, { ...options, exist: false });
  }
}
