// layer: generic netlink
// job: a generic netlink socket that resolves each family (id, version, groups) once and sends its commands.
import { constants } from 'node:os';
import { ErrnoError } from '../errors.js';
import type { NetlinkEngine } from '../netlink/engine.js';
import { NetlinkError } from '../netlink/errors.js';
import type { NlMessage } from '../netlink/message.js';
import { openNetlink, type NetlinkSocketOptions } from '../netlink/socket.js';
import { GENL_ID_CTRL, NETLINK_GENERIC, decodeFamily, encodeGenl, encodeGetFamily, type GenlFamily } from './codec.js';

/** A generic netlink command to a resolved family. */
export interface GenlRequest {
  cmd: number;
  /** Attribute bytes after genlmsghdr (and after the family header, if it has one). */
  attrs?: Buffer;
  /** Defaults to the version the family reports. */
  version?: number;
  flags?: number;
  dump?: boolean;
  /** Name for errors, e.g. `IPVS_CMD_NEW_SERVICE`. */
  op?: string;
  timeoutMs?: number;
}

/**
 * One generic netlink socket. `family(name)` asks the controller once per name and caches the
 * answer for the life of the socket; a refusal is not cached (the module may be loaded later).
 */
export class GenlSocket {
  private readonly families = new Map<string, Promise<GenlFamily>>();

  constructor(readonly engine: NetlinkEngine) {}

  /** Open a generic netlink socket, optionally inside a network namespace. */
  static open(options: { netns?: string; maxInFlight?: number; maxBatchBytes?: number } = {}): GenlSocket {
    const socketOptions: NetlinkSocketOptions = { protocol: NETLINK_GENERIC };
    if (options.netns !== undefined) socketOptions.netns = options.netns;
    if (options.maxInFlight !== undefined) socketOptions.maxInFlight = options.maxInFlight;
    if (options.maxBatchBytes !== undefined) socketOptions.maxBatchBytes = options.maxBatchBytes;
    return new GenlSocket(openNetlink(socketOptions));
  }

  /**
   * The family called `name`. Rejects with ErrnoError ENOENT (syscall `CTRL_CMD_GETFAMILY`) when
   * the kernel has no such family, e.g. because its module is not loaded.
   */
  family(name: string): Promise<GenlFamily> {
    let cached = this.families.get(name);
    if (!cached) {
      cached = this.resolve(name);
      this.families.set(name, cached);
      cached.catch(() => this.families.delete(name));
    }
    return cached;
  }

  /** Send `req` to `family` and return the reply messages. */
  async request(family: string | GenlFamily, req: GenlRequest): Promise<NlMessage[]> {
    const f = typeof family === 'string' ? await this.family(family) : family;
    const payload = encodeGenl({ cmd: req.cmd, version: req.version ?? f.version }, req.attrs);
    return this.engine.request({
      type: f.id, flags: req.flags ?? 0, payload, dump: req.dump ?? false,
      op: req.op ?? `${f.name} cmd ${req.cmd}`, ...(req.timeoutMs !== undefined ? { timeoutMs: req.timeoutMs } : {}),
    });
  }

  close(): void {
    this.engine.close();
  }

  private async resolve(name: string): Promise<GenlFamily> {
    let replies: NlMessage[];
    try {
      replies = await this.engine.request({ type: GENL_ID_CTRL, payload: encodeGetFamily(name), op: 'CTRL_CMD_GETFAMILY' });
    } catch (err) {
      if (err instanceof NetlinkError && err.errno === constants.errno.ENOENT) {
        throw new ErrnoError(err.errno, 'CTRL_CMD_GETFAMILY', `generic netlink family ${JSON.stringify(name)} is not registered; is its module loaded?`);
      }
      throw err;
    }
    const reply = replies.find((m) => m.header.type === GENL_ID_CTRL);
    if (!reply) throw new Error(`CTRL_CMD_GETFAMILY ${name}: acknowledged without a family description`);
    return decodeFamily(reply.payload);
  }
}
