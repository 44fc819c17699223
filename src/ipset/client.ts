// layer: kernel client (ipset)
// job: IpsetClient: one-line methods over the ipset codec on an nfnetlink socket; kernel refusals become IpsetError.
import { constants } from 'node:os';
import { NLM_F_CREATE, NLM_F_EXCL } from '../netlink/constants.js';
import { NetlinkEngine, type NetlinkEngineOptions, type NetlinkEngineStats, type NetlinkTransport } from '../netlink/engine.js';
import { NetlinkDecodeError } from '../netlink/errors.js';
import type { NlMessage } from '../netlink/message.js';
import { openNetlink, type NetlinkSocketOptions } from '../netlink/socket.js';
import { bulkAdt, type BulkOptions, type BulkResult, type IpsetChannel } from './bulk.js';
import {
  checkSetName, decodeHeaderReply, decodeListMessage, decodeProtocolReply, decodeTypeReply, encodeCreateRequest,
  encodeEntryRequest, encodeNameRequest, encodeProtocolRequest, encodeTwoNameRequest, encodeTypeRequest,
  type IpsetFamily, type IpsetListing, type IpsetSetHeader, type IpsetSetInfo, type IpsetType, type IpsetTypeInfo,
  type ProtocolRange,
} from './codec.js';
import {
  IPSET_CMD_ADD, IPSET_CMD_CREATE, IPSET_CMD_DEL, IPSET_CMD_DESTROY, IPSET_CMD_FLUSH, IPSET_CMD_HEADER, IPSET_CMD_LIST,
  IPSET_CMD_NAMES, IPSET_CMD_PROTOCOL, IPSET_CMD_RENAME, IPSET_CMD_SAVE, IPSET_CMD_SWAP, IPSET_CMD_TEST, IPSET_CMD_TYPE,
  IPSET_ERR_EXIST, IPSET_ERR_PROTOCOL, NETLINK_NETFILTER, IPSET_ERR_TYPE_MISMATCH, IPSET_FLAG_LIST_HEADER, IPSET_FLAG_LIST_SETNAME, IPSET_PROTOCOL, IPSET_PROTOCOL_MIN,
  ipsetMessageType,
} from './constants.js';
import { entryMismatch, formatEntry, parseEntry, toWireEntry, type IpsetEntry, type WireEntry } from './entry.js';
import { IpsetError, toIpsetError, type IpsetErrorFacts } from './errors.js';
import { replaceSet, type ReplaceOptions, type ReplaceResult } from './replace.js';

/** How to open an IpsetClient. */
export interface IpsetClientOptions {
  /** Network namespace: a name under /var/run/netns or a path such as /proc/PID/ns/net. */
  netns?: string;
  /** Requests in flight at most (the engine's window). Default 256. */
  maxInFlight?: number;
  /** Default per-request timeout; none by default. */
  timeoutMs?: number;
}

/** Options of a new set. */
export interface CreateOptions {
  type: IpsetType;
  /** Default `inet`. */
  family?: IpsetFamily;
  /** Initial hash size (the kernel rounds to a power of two). Kernel default 1024. */
  hashSize?: number;
  /** Maximal number of elements. Kernel default 65536. */
  maxElements?: number;
  /** Default timeout of entries in seconds; 0 = entries may carry a timeout, none by default. */
  timeoutSec?: number;
  /** Per-element packet and byte counters. */
  counters?: boolean;
  /** Per-element comments. */
  comment?: boolean;
  /** Type revision. Default: the newest the kernel has (IPSET_CMD_TYPE). */
  revision?: number;
  /** No error when an identical set exists (a set of the same name but other options still fails). */
  exist?: boolean;
}

/** Options of add and del. */
export interface EntryOptions {
  /** add: an element already there is updated (timeout, comment) instead of an error; del: a missing one is not an error. */
  exist?: boolean;
}

const { EPROTONOSUPPORT } = constants.errno;

/**
 * ipset over nfnetlink (NFNL_SUBSYS_IPSET), without the `ipset` command. Every kernel refusal
 * rejects with IpsetError: errno (a plain errno or an IPSET_ERR_* code), `code`, ipset's sentence
 * in `reason`, and `kind` (`no-such-set`, `set-full`, `wrong-family`, `wrong-type`, ...).
 * Single operations send one message each; addMany/delMany pack many elements per message.
 */
export class IpsetClient {
  private readonly types = new Map<string, Promise<IpsetTypeInfo>>();
  private readonly channel: IpsetChannel;

  private constructor(private readonly engine: NetlinkEngine,
    /** The kernel's protocol range. */ readonly kernelProtocol: ProtocolRange,
    /** The protocol version this client speaks with the kernel. */ readonly protocol: number) {
    this.channel = { engine, protocol };
  }

  /**
   * Open an nfnetlink socket (in `netns`) and check the kernel speaks an ipset protocol this
   * client does (6 or 7); rejects with IpsetError EPROTONOSUPPORT otherwise.
   */
  static async open(options: IpsetClientOptions = {}): Promise<IpsetClient> {
    // Room for a failed 64 KiB batch, which ipset echoes back whole inside its NLMSG_ERROR.
    const socketOptions: NetlinkSocketOptions = { protocol: NETLINK_NETFILTER, maxDatagramBytes: 256 * 1024 };
    if (options.netns !== undefined) socketOptions.netns = options.netns;
    if (options.maxInFlight !== undefined) socketOptions.maxInFlight = options.maxInFlight;
    if (options.timeoutMs !== undefined) socketOptions.timeoutMs = options.timeoutMs;
    return IpsetClient.overEngine(openNetlink(socketOptions));
  }

  /**
   * A client over any netlink transport (tests hand in a fake kernel); the protocol check as in
   * open(). Closing the client closes the transport.
   */
  static async overTransport(transport: NetlinkTransport, options: Omit<IpsetClientOptions, 'netns'> = {}): Promise<IpsetClient> {
    const engineOptions: NetlinkEngineOptions = {};
    if (options.maxInFlight !== undefined) engineOptions.maxInFlight = options.maxInFlight;
    if (options.timeoutMs !== undefined) engineOptions.timeoutMs = options.timeoutMs;
    return IpsetClient.overEngine(new NetlinkEngine(transport, engineOptions));
  }

  /** Check the protocol over `engine` and make the client; closes the engine on failure. */
  private static async overEngine(engine: NetlinkEngine): Promise<IpsetClient> {
    try {
      const replies = await engine.request({ type: ipsetMessageType(IPSET_CMD_PROTOCOL), ack: false,
        payload: encodeProtocolRequest(IPSET_PROTOCOL), op: 'IPSET_CMD_PROTOCOL' }).catch((err: unknown) => { throw toIpsetError(err, IPSET_CMD_PROTOCOL); });
      const range = decodeProtocolReply(onlyReply(replies, IPSET_CMD_PROTOCOL).payload);
      const protocol = Math.min(IPSET_PROTOCOL, range.protocol);
      if (protocol < Math.max(IPSET_PROTOCOL_MIN, range.protocolMin)) {
        throw new IpsetError(EPROTONOSUPPORT, IPSET_CMD_PROTOCOL, { kind: 'protocol',
          reason: `the kernel speaks ipset protocol ${range.protocolMin}…${range.protocol}, lvskit ${IPSET_PROTOCOL_MIN}…${IPSET_PROTOCOL}` });
      }
      return new IpsetClient(engine, range, protocol);
    } catch (err) {
      engine.close();
      throw err;
    }
  }

  /** The revisions of a set type (IPSET_CMD_TYPE), asked once per client. */
  typeInfo(type: string, family: IpsetFamily = 'inet'): Promise<IpsetTypeInfo> {
    const key = `${type}/${family}`;
    let cached = this.types.get(key);
    if (!cached) {
      cached = this.call(IPSET_CMD_TYPE, encodeTypeRequest(this.protocol, type, family), { ack: false }, { detail: `type ${type} family ${family}` })
        .then((replies) => decodeTypeReply(onlyReply(replies, IPSET_CMD_TYPE).payload));
      this.types.set(key, cached);
      cached.catch(() => this.types.delete(key));
    }
    return cached;
  }

  /** Create a set (`ipset create NAME TYPE ...`). */
  async create(name: string, options: CreateOptions): Promise<void> {
    const family = options.family ?? 'inet';
    const revision = options.revision ?? (await this.typeInfo(options.type, family)).revision;
    const spec = { name, type: options.type, family, revision, ...pick(options, ['hashSize', 'maxElements', 'timeoutSec', 'counters', 'comment']) };
    await this.call(IPSET_CMD_CREATE, encodeCreateRequest(this.protocol, spec), { flags: NLM_F_CREATE | (options.exist ? 0 : NLM_F_EXCL) }, { setName: name });
  }

  /** Destroy a set; rejects with kind `in-use` while a firewall rule references it. */
  async destroy(name: string): Promise<void> {
    await this.call(IPSET_CMD_DESTROY, encodeNameRequest(this.protocol, name), { flags: NLM_F_EXCL }, { setName: name });
  }

  /** Remove every element of a set. */
  async flush(name: string): Promise<void> {
    await this.call(IPSET_CMD_FLUSH, encodeNameRequest(this.protocol, name), {}, { setName: name });
  }

  /** Rename a set; rejects with kind `set-exists` when `to` exists. */
  async rename(from: string, to: string): Promise<void> {
    await this.call(IPSET_CMD_RENAME, encodeTwoNameRequest(this.protocol, from, to), {}, { setName: from, detail: `to ${to}` });
  }

  /** Exchange the contents of two sets atomically (references stay with the names). Same type and family only (`wrong-type`). */
  async swap(a: string, b: string): Promise<void> {
    await this.call(IPSET_CMD_SWAP, encodeTwoNameRequest(this.protocol, a, b), {}, { setName: a, detail: `with ${b}` });
  }

  /** A set's type, family and revision (IPSET_CMD_HEADER); kind `no-such-set` when missing. */
  async header(name: string): Promise<IpsetSetHeader> {
    const replies = await this.call(IPSET_CMD_HEADER, encodeNameRequest(this.protocol, name), { ack: false }, { setName: name });
    return decodeHeaderReply(onlyReply(replies, IPSET_CMD_HEADER).payload);
  }

  /** Whether a set of this name exists. */
  async exists(name: string): Promise<boolean> {
    try {
      await this.header(name);
      return true;
    } catch (err) {
      if (err instanceof IpsetError && err.kind === 'no-such-set') return false;
      throw err;
    }
  }

  /** A set's header with options and state, without members (`ipset list -t NAME`). */
  async describe(name: string): Promise<IpsetSetInfo> {
    const [listing] = await this.dump(IPSET_CMD_LIST, name, IPSET_FLAG_LIST_HEADER);
    if (!listing) throw new IpsetError(constants.errno.ENOENT, IPSET_CMD_LIST, { setName: name });
    const { members: _members, ...info } = listing;
    return info;
  }

  /** A set with its members (`ipset list NAME`), however many dump messages it takes. */
  async list(name: string): Promise<IpsetListing> {
    const [listing] = await this.dump(IPSET_CMD_LIST, name);
    if (!listing) throw new IpsetError(constants.errno.ENOENT, IPSET_CMD_LIST, { setName: name });
    return listing;
  }

  /** Every set with its members (`ipset list`), or with `headersOnly` without (`ipset list -t`; members are then empty). */
  listAll(options: { headersOnly?: boolean } = {}): Promise<IpsetListing[]> {
    return this.dump(IPSET_CMD_LIST, undefined, options.headersOnly ? IPSET_FLAG_LIST_HEADER : undefined);
  }

  /** The names of all sets (`ipset list -n`). */
  async listNames(): Promise<string[]> {
    const replies = await this.call(IPSET_CMD_LIST, encodeNameRequest(this.protocol, undefined, IPSET_FLAG_LIST_SETNAME), { dump: true, ack: true }, {});
    return replies.map((m) => decodeListMessage(m.payload).name);
  }

  /** Sets as IPSET_CMD_SAVE dumps them (one, or all); format with formatSave(). */
  save(name?: string): Promise<IpsetListing[]> {
    return this.dump(IPSET_CMD_SAVE, name);
  }

  /** Add one element (`ipset add`); without `exist`, kind `element-exists` when it is there. */
  async add(name: string, entry: IpsetEntry | string, options: EntryOptions = {}): Promise<void> {
    await this.entryCommand(IPSET_CMD_ADD, name, entry, options.exist ? 0 : NLM_F_EXCL, 0);
  }

  /** Delete one element (`ipset del`); without `exist`, kind `element-missing` when it is not there. */
  async del(name: string, entry: IpsetEntry | string, options: EntryOptions = {}): Promise<void> {
    await this.entryCommand(IPSET_CMD_DEL, name, entry, options.exist ? 0 : NLM_F_EXCL, 0);
  }

  /** Whether an element is in the set (`ipset test`); for hash:net, an address inside a listed network is. */
  async test(name: string, entry: IpsetEntry | string): Promise<boolean> {
    try {
      await this.entryCommand(IPSET_CMD_TEST, name, entry, 0, undefined);
      return true;
    } catch (err) {
      if (err instanceof IpsetError && err.errno === IPSET_ERR_EXIST) return false;
      throw err;
    }
  }

  /**
   * Add many elements: IPSET_ATTR_ADT messages of up to 64 KiB, several in flight. Entries that
   * do not fit the set (family, type) or do not parse fail without being sent. See BulkOptions.
   */
  addMany(name: string, entries: Iterable<IpsetEntry | string>, options: BulkOptions = {}): Promise<BulkResult> {
    return this.bulk(IPSET_CMD_ADD, name, entries, options);
  }

  /** Delete many elements, as addMany adds them. */
  delMany(name: string, entries: Iterable<IpsetEntry | string>, options: BulkOptions = {}): Promise<BulkResult> {
    return this.bulk(IPSET_CMD_DEL, name, entries, options);
  }

  /**
   * Make `entries` the set's whole content with no gap: fill a temporary set, swap, destroy the
   * old content (see replaceSet). With `create`, a missing set is created.
   */
  replace(name: string, entries: Iterable<IpsetEntry | string>, options: ReplaceOptions = {}): Promise<ReplaceResult> {
    return replaceSet(this, name, entries, options);
  }

  /** The netlink counters of this client's socket (requests, refusals, timeouts, ENOBUFS). */
  get netlinkStats(): Readonly<NetlinkEngineStats> {
    return this.engine.stats;
  }

  /** Close the socket; requests in flight reject with RequestCancelledError. Until then its socket keeps the process alive, also after a failed call. */
  close(): void {
    this.engine.close();
  }

  /** `using ipset = await IpsetClient.open()`: closed when the scope ends. */
  [Symbol.dispose](): void { this.close(); }

  private async bulk(cmd: number, name: string, entries: Iterable<IpsetEntry | string>, options: BulkOptions): Promise<BulkResult> {
    const target = await this.header(name);
    return bulkAdt(this.channel, cmd, name, target, entries, options);
  }

  private async entryCommand(cmd: number, name: string, entry: IpsetEntry | string, flags: number, lineno: number | undefined): Promise<void> {
    checkSetName(name);
    const wire = toWireEntry(typeof entry === 'string' ? parseEntry(entry) : entry);
    const text = typeof entry === 'string' ? entry : formatEntry(entry);
    try {
      await this.engine.request({ type: ipsetMessageType(cmd), flags, payload: encodeEntryRequest(this.protocol, name, wire, lineno), op: IPSET_CMD_NAMES[cmd] as string });
    } catch (err) {
      throw await this.explain(err, cmd, name, text, wire);
    }
  }

  /** A kernel refusal of an element as IpsetError; a protocol error is checked against the set's type (`wrong-type`). */
  private async explain(err: unknown, cmd: number, setName: string, entry: string, wire: WireEntry): Promise<unknown> {
    const facts: IpsetErrorFacts = { setName, entry };
    const error = toIpsetError(err, cmd, facts);
    if (!(error instanceof IpsetError) || error.errno !== IPSET_ERR_PROTOCOL) return error;
    const header = await this.header(setName).catch(() => undefined);
    const mismatch = header && entryMismatch(header.type, header.family, wire);
    if (!mismatch) return error;
    const kind = mismatch.errno === IPSET_ERR_TYPE_MISMATCH ? 'wrong-type' : 'wrong-family';
    return new IpsetError(error.errno, cmd, { ...facts, kind, detail: mismatch.why, cause: err });
  }

  private async call(cmd: number, payload: Buffer, req: { flags?: number; ack?: boolean; dump?: boolean }, facts: IpsetErrorFacts): Promise<NlMessage[]> {
    try {
      return await this.engine.request({ type: ipsetMessageType(cmd), payload, op: IPSET_CMD_NAMES[cmd] as string, ...req });
    } catch (err) {
      throw toIpsetError(err, cmd, facts);
    }
  }

  /** LIST/SAVE dump of one set or all, merged per set across multipart messages. */
  private async dump(cmd: number, name?: string, flags?: number): Promise<IpsetListing[]> {
    const replies = await this.call(cmd, encodeNameRequest(this.protocol, name, flags), { dump: true, ack: true }, name !== undefined ? { setName: name } : {});
    const sets = new Map<string, IpsetListing>();
    for (const m of replies) {
      const chunk = decodeListMessage(m.payload);
      let listing = sets.get(chunk.name);
      if (!listing) {
        if (!chunk.info) throw new NetlinkDecodeError(0, `${IPSET_CMD_NAMES[cmd]}: members of set ${chunk.name} arrived before its header`);
        listing = { ...chunk.info, members: [] };
        sets.set(chunk.name, listing);
      }
      for (const member of chunk.members) listing.members.push(member);
    }
    return [...sets.values()];
  }
}

function onlyReply(replies: NlMessage[], cmd: number): NlMessage {
  const reply = replies.find((m) => m.header.type === ipsetMessageType(cmd));
  if (!reply) throw new NetlinkDecodeError(0, `${IPSET_CMD_NAMES[cmd]}: the kernel answered without a reply message`);
  return reply;
}

function pick<T extends object, K extends keyof T>(obj: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (obj[key] !== undefined) out[key] = obj[key];
  return out;
}
