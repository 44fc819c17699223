// layer: kernel client (ipset)
// job: typed ipset errors: the kernel's errno or IPSET_ERR_* code, its meaning as ipset words it, and what it means for the caller.
import { constants } from 'node:os';
import { ErrnoError, errnoCode } from '../errors.js';
import { NetlinkError, type ExtAck } from '../netlink/errors.js';
import {
  IPSET_CMD_ADD, IPSET_CMD_CREATE, IPSET_CMD_DEL, IPSET_CMD_DESTROY, IPSET_CMD_NAMES, IPSET_CMD_RENAME, IPSET_CMD_SWAP,
  IPSET_CMD_TEST, IPSET_CMD_TYPE,
} from './constants.js';

const { ENOENT, EEXIST, EMSGSIZE, ERANGE, EINVAL } = constants.errno;

/** What an ipset error means for the caller, whatever code the kernel used to say it. */
export type IpsetErrorKind =
  /** The named set does not exist (ENOENT; the second set of a swap). */
  | 'no-such-set'
  /** A set of that name already exists (create, rename). */
  | 'set-exists'
  /** add: the element is already in the set (without `exist`). */
  | 'element-exists'
  /** del: the element is not in the set (without `exist`). */
  | 'element-missing'
  /** The set reached maxelem (IPSET_ERR_HASH_FULL). */
  | 'set-full'
  /** An IPv6 entry for an inet set or the reverse; a family the type does not support. */
  | 'wrong-family'
  /** The set is of another type than the operation needs (swap, replace, an entry of the wrong shape). */
  | 'wrong-type'
  /** The kernel has no such set type or revision. */
  | 'unknown-type'
  /** The set is referenced by a kernel component, e.g. an iptables rule. */
  | 'in-use'
  /** Timeout, counters or comment given to a set created without them. */
  | 'unsupported-option'
  /** The entry itself is not valid (prefix length, protocol, range; or rejected before sending). */
  | 'invalid-entry'
  /** The kernel found the message malformed (IPSET_ERR_PROTOCOL). */
  | 'protocol'
  /** Anything else the kernel said. */
  | 'kernel';

interface Meaning { kind: IpsetErrorKind; reason: string }

const any = (kind: IpsetErrorKind, reason: string): Meaning => ({ kind, reason });

/** ipset's own words (libipset errcode.c) for codes whose meaning does not depend on the command. */
const GENERIC: Readonly<Record<number, Meaning>> = {
  [ENOENT]: any('no-such-set', 'The set with the given name does not exist'),
  [EMSGSIZE]: any('kernel', 'Kernel error received: message could not be created'),
  [ERANGE]: any('invalid-entry', 'The specified range is too large, split it up into smaller ranges'),
  4097: any('protocol', 'Kernel error received: ipset protocol error'),
  4098: any('unknown-type', 'Kernel error received: set type not supported'),
  4099: any('kernel', 'Kernel error received: maximal number of sets reached, cannot create more.'),
  4100: any('in-use', 'Set cannot be destroyed: it is in use by a kernel component'),
  4102: any('wrong-type', 'The sets cannot be swapped: their type does not match'),
  4104: any('invalid-entry', 'The value of the CIDR parameter of the IP address is invalid'),
  4105: any('invalid-entry', 'The value of the netmask parameter is invalid'),
  4106: any('wrong-family', 'Protocol family not supported by the set type'),
  4107: any('unsupported-option', 'Timeout cannot be used: set was created without timeout support'),
  4108: any('in-use', 'Set cannot be renamed: it is in use by another system'),
  4109: any('wrong-family', 'An IPv4 address is expected, but not received'),
  4110: any('wrong-family', 'An IPv6 address is expected, but not received'),
  4111: any('unsupported-option', 'Packet/byte counters cannot be used: set was created without counter support'),
  4112: any('unsupported-option', 'Comment cannot be used: set was created without comment support'),
  4113: any('invalid-entry', 'The value of the markmask parameter is invalid'),
  4114: any('unsupported-option', 'Skbinfo mapping cannot be used: set was created without skbinfo support'),
  4352: any('set-full', 'Hash is full, cannot add more elements'),
  4353: any('invalid-entry', 'Null-valued element, cannot be stored in a hash type of set'),
  4354: any('invalid-entry', 'Invalid protocol specified'),
  4355: any('invalid-entry', 'Protocol missing, but must be specified'),
  4356: any('invalid-entry', 'Range is not supported in the "net" component of the element'),
  4357: any('invalid-entry', 'Invalid range, covers the whole address space'),
};

/** Codes whose meaning depends on the command, as ipset words them. */
const PER_COMMAND: Readonly<Record<number, Readonly<Record<number, Meaning>>>> = {
  [EEXIST]: { [IPSET_CMD_CREATE]: any('set-exists', 'Set cannot be created: set with the same name already exists') },
  4101: {
    [IPSET_CMD_RENAME]: any('set-exists', 'Set cannot be renamed: a set with the new name already exists'),
    [IPSET_CMD_SWAP]: any('no-such-set', 'Sets cannot be swapped: the second set does not exist'),
  },
  4103: {
    [IPSET_CMD_CREATE]: any('set-exists', 'Set cannot be created: set with the same name already exists'),
    [IPSET_CMD_ADD]: any('element-exists', "Element cannot be added to the set: it's already added"),
    [IPSET_CMD_DEL]: any('element-missing', "Element cannot be deleted from the set: it's not added"),
    [IPSET_CMD_TEST]: any('element-missing', 'Element is not in the set'),
  },
  4098: { [IPSET_CMD_TYPE]: any('unknown-type', 'Kernel error received: set type does not supported') },
  4100: { [IPSET_CMD_DESTROY]: any('in-use', 'Set cannot be destroyed: it is in use by a kernel component') },
};

const IPSET_ERR_NAMES: Readonly<Record<number, string>> = {
  4097: 'IPSET_ERR_PROTOCOL', 4098: 'IPSET_ERR_FIND_TYPE', 4099: 'IPSET_ERR_MAX_SETS', 4100: 'IPSET_ERR_BUSY',
  4101: 'IPSET_ERR_EXIST_SETNAME2', 4102: 'IPSET_ERR_TYPE_MISMATCH', 4103: 'IPSET_ERR_EXIST',
  4104: 'IPSET_ERR_INVALID_CIDR', 4105: 'IPSET_ERR_INVALID_NETMASK', 4106: 'IPSET_ERR_INVALID_FAMILY',
  4107: 'IPSET_ERR_TIMEOUT', 4108: 'IPSET_ERR_REFERENCED', 4109: 'IPSET_ERR_IPADDR_IPV4', 4110: 'IPSET_ERR_IPADDR_IPV6',
  4111: 'IPSET_ERR_COUNTER', 4112: 'IPSET_ERR_COMMENT', 4113: 'IPSET_ERR_INVALID_MARKMASK', 4114: 'IPSET_ERR_SKBINFO',
  4352: 'IPSET_ERR_HASH_FULL', 4353: 'IPSET_ERR_HASH_ELEM', 4354: 'IPSET_ERR_INVALID_PROTO',
  4355: 'IPSET_ERR_MISSING_PROTO', 4356: 'IPSET_ERR_HASH_RANGE_UNSUPPORTED', 4357: 'IPSET_ERR_HASH_RANGE',
};

/** The symbolic name of an ipset error code or errno: 4352 → `IPSET_ERR_HASH_FULL`, 2 → `ENOENT`. */
export function ipsetErrorCode(errno: number): string {
  return IPSET_ERR_NAMES[errno] ?? errnoCode(errno);
}

/** What `errno` means as the answer to `cmd`: the kind and ipset's own sentence for it. */
export function ipsetErrorMeaning(errno: number, cmd: number): Meaning {
  const meaning = PER_COMMAND[errno]?.[cmd] ?? GENERIC[errno];
  if (meaning) return meaning;
  if (errno >= 4096) return any('kernel', `Undecoded error ${errno} received from kernel`);
  return any('kernel', `Kernel error received: ${errnoCode(errno)}`);
}

/** Facts an IpsetError may carry beyond the code. */
export interface IpsetErrorFacts {
  /** The set the command was about. */
  setName?: string;
  /** The entry that failed, as text (e.g. `10.1.2.3`, `10.0.0.0/8`, `10.1.2.3,tcp:80`). */
  entry?: string;
  /** Position of that entry in a bulk operation's input (0-based). */
  index?: number;
  /** The kernel's extended-ack text and offsets, when it sent them. */
  extack?: ExtAck;
  /** Overrides the kind derived from the code (e.g. `wrong-type` found by looking at the set). */
  kind?: IpsetErrorKind;
  /** Replaces ipset's sentence (for errors found before sending). */
  reason?: string;
  /** More words after ipset's sentence. */
  detail?: string;
  cause?: unknown;
}

/**
 * The kernel (or this client, before sending) refused an ipset command. `errno` is what the
 * kernel returned: a plain errno (ENOENT) or an ipset code ≥ 4096 (IPSET_ERR_*), with `code` its
 * symbolic name; `reason` is ipset's sentence for it; `kind` says what it means for the caller.
 */
export class IpsetError extends ErrnoError {
  override name = 'IpsetError';
  readonly kind: IpsetErrorKind;
  /** ipset's words for the error, as the `ipset` command would print them. */
  readonly reason: string;
  readonly setName?: string;
  readonly entry?: string;
  readonly index?: number;
  readonly extack?: ExtAck;

  constructor(errno: number, cmd: number, facts: IpsetErrorFacts = {}) {
    const derived = ipsetErrorMeaning(errno, cmd);
    const meaning = { kind: facts.kind ?? derived.kind, reason: facts.reason ?? derived.reason };
    const op = IPSET_CMD_NAMES[cmd] ?? `ipset command ${cmd}`;
    const subject = [facts.setName, facts.entry].filter((s) => s !== undefined).join(' ');
    const kernelText = facts.extack?.message;
    const detail = [meaning.reason, kernelText, facts.detail].filter((s) => s !== undefined && s !== '').join('; ');
    super(errno, subject ? `${op} ${subject}` : op, detail);
    (this as { code: string }).code = ipsetErrorCode(errno);
    this.message = `${this.syscall} failed: ${this.code} (${detail})`;
    if (facts.cause !== undefined) (this as { cause?: unknown }).cause = facts.cause;
    this.kind = meaning.kind;
    this.reason = meaning.reason;
    if (facts.setName !== undefined) this.setName = facts.setName;
    if (facts.entry !== undefined) this.entry = facts.entry;
    if (facts.index !== undefined) this.index = facts.index;
    if (facts.extack !== undefined) this.extack = facts.extack;
  }
}

/** An entry rejected before anything was sent (bad address, prefix length, port): errno EINVAL. */
export function invalidEntryError(cmd: number, setName: string, entry: string, cause: Error, index?: number): IpsetError {
  const facts: IpsetErrorFacts = { setName, entry, kind: 'invalid-entry', reason: `Syntax error: ${cause.message}`, cause };
  if (index !== undefined) facts.index = index;
  return new IpsetError(EINVAL, cmd, facts);
}

/** Turn a kernel refusal into an IpsetError; anything else (timeouts, closed socket) passes through. */
export function toIpsetError(err: unknown, cmd: number, facts: IpsetErrorFacts = {}): unknown {
  if (!(err instanceof NetlinkError)) return err;
  const all: IpsetErrorFacts = { ...facts, cause: err };
  if (err.extack !== undefined) all.extack = err.extack;
  return new IpsetError(err.errno, cmd, all);
}
