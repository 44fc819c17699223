// layer: kernel client (ipset)
// job: a blacklist file into a set (parse, check against the set, replace with no gap) and a set back into a file.
import { constants } from 'node:os';
import {
  BlacklistFileError, fitBlacklist, readBlacklistFile, writeBlacklistFile, type BlacklistProblem,
} from './blacklist-file.js';
import type { BulkProgress } from './bulk.js';
import type { IpsetClient } from './client.js';
import type { IpsetFamily } from './codec.js';
import { IPSET_CMD_HEADER, IPSET_CMD_SWAP, IPSET_ERR_TYPE_MISMATCH } from './constants.js';
import { IpsetError } from './errors.js';

/** Set types that can hold a blacklist. */
export type BlacklistSetType = 'hash:ip' | 'hash:net';

/** Options of loadBlacklist. */
export interface LoadBlacklistOptions {
  /** Load the usable lines and report the others; default: any invalid line changes nothing. */
  skipInvalid?: boolean;
  /** Create the set when it does not exist (else `no-such-set`). */
  create?: { type: BlacklistSetType; family?: IpsetFamily; maxElements?: number; timeoutSec?: number };
  onProgress?: (progress: BulkProgress) => void;
}

/** Outcome of loadBlacklist. */
export interface LoadBlacklistResult {
  /** Entries from the file now in the set. */
  loaded: number;
  /** Lines left out (only with skipInvalid). */
  skipped: BlacklistProblem[];
  created: boolean;
  type: string;
  family: string;
}

/**
 * Make the set hold exactly the file's entries, atomically (replaceSet): the set never appears
 * empty or half-loaded. Lines that are not addresses/CIDRs, addresses of the other family, and
 * networks for a hash:ip set are problems with file:line:column; unless `skipInvalid`, any
 * problem throws BlacklistFileError before anything changes.
 */
export async function loadBlacklist(client: IpsetClient, setName: string, file: string,
  options: LoadBlacklistOptions = {}): Promise<LoadBlacklistResult> {
  const parsed = await readBlacklistFile(file);
  const exists = await client.exists(setName);
  if (!exists && !options.create) throw new IpsetError(constants.errno.ENOENT, IPSET_CMD_HEADER, { setName });
  const target = exists ? await client.header(setName) : { type: options.create?.type as string, family: options.create?.family ?? 'inet' };
  if (target.type !== 'hash:ip' && target.type !== 'hash:net') {
    throw new IpsetError(IPSET_ERR_TYPE_MISMATCH, IPSET_CMD_SWAP, { setName, kind: 'wrong-type',
      reason: `A blacklist goes into a hash:ip or hash:net set; ${setName} is ${target.type}` });
  }
  const fitted = fitBlacklist(parsed, target);
  if (fitted.problems.length > 0 && !options.skipInvalid) throw new BlacklistFileError(file, fitted.problems);
  const replaceOptions: Parameters<IpsetClient['replace']>[2] = {};
  if (options.create) replaceOptions.create = { ...options.create, family: options.create.family ?? 'inet' };
  if (options.onProgress) replaceOptions.onProgress = options.onProgress;
  const result = await client.replace(setName, fitted.entries, replaceOptions);
  return { loaded: fitted.entries.length, skipped: fitted.problems, created: result.created, type: result.type, family: result.family };
}

/** Write a set's members into a blacklist file, atomically, with a header naming the set. */
export async function saveBlacklist(client: IpsetClient, setName: string, file: string): Promise<number> {
  const listing = await client.list(setName);
  const header = [`ipset ${setName} (${listing.type} ${listing.family}), ${listing.members.length} entries, saved by lvskit`];
  await writeBlacklistFile(file, listing.members, header);
  return listing.members.length;
}
