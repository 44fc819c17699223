// layer: kernel client (IPVS)
// job: IpvsClient: one-line methods for every IPVS generic netlink command, over one pipelining socket.
import { copyInto } from '../bytes.js';
import { GenlSocket } from '../genl/client.js';
import { decodeGenl, encodeGenl, type GenlFamily } from '../genl/codec.js';
import { AttrWriter, decodeAttrs, type Attr } from '../netlink/attr.js';
import { addEngineStats, type NetlinkEngineStats, type NetlinkRequest, type PayloadWriter } from '../netlink/engine.js';
import type { NlMessage } from '../netlink/message.js';
import { decodeService, decodeServiceReply, encodeServiceKeyNest, findAttr, findNest, type DecodeOptions } from './codec.js';
import { decodeDestination } from './codec-dest.js';
import { DumpInterruptedError, NetlinkDecodeError, NetlinkError } from '../netlink/errors.js';
import { decodeDaemon, decodeInfo, decodeTimeouts, encodeDaemon, encodeDaemonState, encodeTimeouts } from './codec-config.js';
import * as K from './constants.js';
import { commands, type IpvsCommand } from './commands.js';
import { ipvsErrorFrom } from './errors.js';
import {
  serviceFamily, serviceName, type Destination, type DestinationState, type IpvsInfo, type ServiceKey,
  type ServiceSettings, type ServiceState, type SyncDaemon, type Timeouts, type VirtualService,
} from './model.js';
import {
  validateDaemon, validateDestinationKey, validateDestination, validateService, validateServiceKey, validateServiceSettings,
  validateTimeouts,
} from './validate.js';

export { attrsBytes, commands, destinationTarget, type IpvsCommand } from './commands.js';

/** Where and how to open the IPVS socket. */
export interface IpvsClientOptions {
  /** Network namespace: a name under /var/run/netns or a path such as /proc/PID/ns/net. */
  netns?: string;
  /**
   * Requests in flight at most on the socket (the netlink engine's window). Default 4096: batches
   * are fenced (one ACK per datagram), so a wide window cannot overflow the receive buffer.
   */
  maxInFlight?: number;
  /** Largest datagram of packed commands. Default 128 KiB (below the socket's 208 KiB send buffer). */
  maxBatchBytes?: number;
  /**
   * Sockets that dump real servers in parallel in dumpTable() (the kernel runs one dump per
   * socket at a time, and a table needs one real-server dump per service). Default 4.
   */
  dumpSockets?: number;
}

/** Commands made on demand, for sendBatch: `at(i)` gives command i (an equal one each time it is asked). */
export interface CommandSource {
  readonly length: number;
  at(index: number): IpvsCommand;
}

function commandSource(commands: Iterable<IpvsCommand> | CommandSource): CommandSource {
  const list = Array.isArray(commands) ? commands as readonly IpvsCommand[]
    : Symbol.iterator in commands ? [...commands as Iterable<IpvsCommand>] : undefined;
  return list ? { length: list.length, at: (i) => list[i] as IpvsCommand } : commands as CommandSource;
}

/** A genl header, then attributes from a writer, written in place. */
class GenlPayload implements PayloadWriter {
  constructor(private readonly genl: Buffer, private readonly attrs: PayloadWriter) {}
  get length(): number { return this.genl.length + this.attrs.length; }
  write(buf: Buffer, at: number): void {
    copyInto(this.genl, buf, at);
    this.attrs.write(buf, at + this.genl.length);
  }
}

/** A fenced request that is its own payload: sendBatch makes thousands, each one object. */
class WrittenRequest extends GenlPayload implements NetlinkRequest {
  readonly fenced = true;
  constructor(readonly type: number, readonly op: string, genl: Buffer, attrs: PayloadWriter) { super(genl, attrs); }
  get payload(): PayloadWriter { return this; }
}

/**
 * IPVS over generic netlink, in this namespace or another. Every method validates its input
 * before sending anything (IpvsValidationError naming the field); kernel refusals reject with
 * IpvsError (errno, the command, its target, the kernel's message). Many calls may be in flight
 * at once: they are pipelined on the one socket.
 *
 * @example
 * const ipvs = IpvsClient.open({ netns: 'lb1' });
 * await ipvs.addService({ protocol: 'tcp', address: '123.30.175.40', port: 80, scheduler: 'rr',
 *   destinations: [{ address: '172.16.16.37', port: 80, forward: 'dr', weight: 10 }] });
 * console.log(await ipvs.dumpTable());
 */
export class IpvsClient {
  private resolved?: GenlFamily;
  private readonly headers = new Map<number, Buffer>();
  /** Extra sockets for parallel real-server dumps, opened on first use. */
  private readonly dumpers: GenlSocket[] = [];

  private constructor(private readonly genl: GenlSocket, private readonly options: IpvsClientOptions) {}

  /** Open a client on its own generic netlink socket. */
  static open(options: IpvsClientOptions = {}): IpvsClient {
    return new IpvsClient(GenlSocket.open({
      ...options, maxInFlight: options.maxInFlight ?? 4096, maxBatchBytes: options.maxBatchBytes ?? 128 * 1024,
    }), options);
  }

  /** Resolve the IPVS family (once); rejects with ErrnoError ENOENT when ip_vs is not loaded. */
  async ready(): Promise<GenlFamily> {
    this.resolved ??= await this.genl.family(K.IPVS_GENL_NAME);
    return this.resolved;
  }

  /**
   * Send one encoded command and resolve with its reply messages. Once `ready()` has resolved,
   * the request is handed to the engine synchronously, so commands sent in one tick share a
   * datagram.
   */
  send(command: IpvsCommand, options: { dump?: boolean; via?: GenlSocket } = {}): Promise<NlMessage[]> {
    const family = this.resolved;
    if (!family) return this.ready().then(() => this.send(command, options));
    const payload = this.payloadOf(command);
    return (options.via ?? this.genl).engine.request({
      type: family.id, payload, dump: options.dump ?? false, op: K.IPVS_CMD_NAMES[command.cmd] ?? `IPVS cmd ${command.cmd}`,
    }).catch((err: unknown) => {
      throw ipvsErrorFrom(err, command.cmd, typeof command.target === 'function' ? command.target() : command.target);
    });
  }

  /**
   * Send many commands in order, pipelined and packed into datagrams without per-command ACKs:
   * the engine closes each datagram with one acknowledged NLMSG_NOOP fence (see the engine's
   * `fenced` requests). Resolves with one entry per command: undefined = carried out, IpvsError =
   * refused by the kernel. Every command is sent, whatever happens to the others. Rejects when an
   * outcome is unknown (receive buffer overrun, timeout, closed).
   *
   * `commands` may be a CommandSource: then each command is made when it is sent, and again only
   * to name it in an error, so thousands of them need not all be held.
   */
  async sendBatch(commands: Iterable<IpvsCommand> | CommandSource): Promise<(Error | undefined)[]> {
    const family = await this.ready();
    const source = commandSource(commands);
    const outcomes = await this.genl.engine.requestAll({ length: source.length, at: (i) => this.fencedRequest(family.id, source.at(i)) });
    const unknown = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected' && !(o.reason instanceof NetlinkError));
    if (unknown) throw unknown.reason;
    const errors = new Array<Error | undefined>(outcomes.length).fill(undefined);
    for (let i = 0; i < outcomes.length; i++) {
      const o = outcomes[i] as PromiseSettledResult<NlMessage[]>;
      if (o.status === 'fulfilled') continue;
      const command = source.at(i);
      errors[i] = ipvsErrorFrom(o.reason, command.cmd, typeof command.target === 'function' ? command.target() : command.target) as Error;
    }
    return errors;
  }

  /** The genl header of `cmd` (encoded once per command type). */
  private headerOf(cmd: number): Buffer {
    let header = this.headers.get(cmd);
    if (!header) {
      header = encodeGenl({ cmd, version: K.IPVS_GENL_VERSION });
      this.headers.set(cmd, header);
    }
    return header;
  }

  /** A fenced request for sendBatch: one object per command when its attributes are a writer. */
  private fencedRequest(type: number, command: IpvsCommand): NetlinkRequest {
    const attrs = command.attrs;
    const op = K.IPVS_CMD_NAMES[command.cmd] ?? `IPVS cmd ${command.cmd}`;
    if (attrs !== undefined && !Buffer.isBuffer(attrs) && !Array.isArray(attrs)) {
      return new WrittenRequest(type, op, this.headerOf(command.cmd), attrs as PayloadWriter);
    }
    return { type, payload: this.payloadOf(command), fenced: true, op };
  }

  private payloadOf(command: IpvsCommand): Buffer[] | PayloadWriter {
    const header = this.headerOf(command.cmd);
    const attrs = command.attrs;
    if (attrs === undefined) return [header];
    if (Buffer.isBuffer(attrs)) return [header, attrs];
    if (Array.isArray(attrs)) return [header, ...(attrs as readonly Buffer[])];
    return new GenlPayload(header, attrs as PayloadWriter);
  }

  /** Top-level attributes of each reply of the IPVS family. */
  private async replies(command: IpvsCommand, dump = false): Promise<Attr[][]> {
    const family = await this.ready();
    const messages = await this.send(command, { dump });
    return messages.filter((m) => m.header.type === family.id).map((m) => decodeAttrs(decodeGenl(m.payload).attrs));
  }

  /** IPVS version and connection table size (IPVS_CMD_GET_INFO). */
  async getInfo(): Promise<IpvsInfo> {
    const [attrs] = await this.replies({ cmd: K.IPVS_CMD_GET_INFO, target: 'info' });
    if (!attrs) throw new Error('IPVS_CMD_GET_INFO: acknowledged without an answer');
    return decodeInfo(attrs);
  }

  /** Payloads of the replies of the IPVS family. */
  private async payloads(command: IpvsCommand, dump: boolean, via?: GenlSocket): Promise<Buffer[]> {
    const family = await this.ready();
    return (await this.send(command, via ? { dump, via } : { dump })).filter((m) => m.header.type === family.id).map((m) => m.payload);
  }

  /** The socket for the `n`th of many parallel dumps. */
  private dumper(n: number): GenlSocket {
    const count = Math.max(1, this.options.dumpSockets ?? 4);
    const i = n % count;
    if (i === 0) return this.genl;
    while (this.dumpers.length < i) this.dumpers.push(GenlSocket.open(this.options.netns !== undefined ? { netns: this.options.netns } : {}));
    return this.dumpers[i - 1] as GenlSocket;
  }

  /**
   * Every virtual service, without real servers (IPVS_CMD_GET_SERVICE dump). The kernel resumes a
   * service dump that spans several datagrams by a position counted over the services of every
   * namespace, so services added or removed meanwhile in another namespace can make a dump repeat
   * or skip one of ours. A repeated service is dropped (identities are unique in a namespace), and
   * the dump is repeated until two in a row agree (up to 5 times; then DumpInterruptedError).
   */
  async listServices(options: DecodeOptions = {}): Promise<ServiceState[]> {
    let previous = await this.serviceDump(options);
    for (let attempt = 2; attempt <= 5; attempt++) {
      const next = await this.serviceDump(options);
      if (identities(next) === identities(previous)) return next;
      previous = next;
    }
    throw new DumpInterruptedError('IPVS_CMD_GET_SERVICE', 5);
  }

  private async serviceDump(options: DecodeOptions): Promise<ServiceState[]> {
    const rows = await this.payloads({ cmd: K.IPVS_CMD_GET_SERVICE, target: 'services' }, true);
    const seen = new Set<string>();
    const services: ServiceState[] = [];
    for (const p of rows) {
      const nest = findNest(p, K.IPVS_CMD_ATTR_SERVICE);
      if (!nest) throw new NetlinkDecodeError(0, 'IPVS_CMD_NEW_SERVICE without IPVS_CMD_ATTR_SERVICE');
      const svc = decodeService(p, nest.start, nest.end, options);
      const name = serviceName(svc);
      if (!seen.has(name)) services.push(svc);
      seen.add(name);
    }
    return services;
  }

  /** One virtual service without real servers, or undefined when there is none. */
  async getService(key: ServiceKey): Promise<ServiceState | undefined> {
    const k = validateServiceKey(key);
    try {
      const [attrs] = await this.replies({ cmd: K.IPVS_CMD_GET_SERVICE, attrs: encodeServiceKeyNest(k), target: serviceName(k) });
      return attrs ? decodeServiceReply(attrs) : undefined;
    } catch (err) {
      if ((err as { code?: string }).code === 'ESRCH') return undefined;
      throw err;
    }
  }

  /** The real servers of one service (IPVS_CMD_GET_DEST dump). */
  async listDestinations(key: ServiceKey, options: DecodeOptions = {}): Promise<DestinationState[]> {
    const k = validateServiceKey(key);
    return this.destinationsOf(k, options);
  }

  private async destinationsOf(k: ServiceKey, options: DecodeOptions, via?: GenlSocket): Promise<DestinationState[]> {
    const rows = await this.payloads({ cmd: K.IPVS_CMD_GET_DEST, attrs: encodeServiceKeyNest(k), target: () => serviceName(k) }, true, via);
    const family = serviceFamily(k);
    return rows.map((p) => {
      const nest = findNest(p, K.IPVS_CMD_ATTR_DEST);
      if (!nest) throw new NetlinkDecodeError(0, 'IPVS_CMD_NEW_DEST without IPVS_CMD_ATTR_DEST');
      return decodeDestination(p, family, nest.start, nest.end, options);
    });
  }

  /**
   * The whole table: every service with its real servers (one service dump, then one real-server
   * dump per service, spread over `dumpSockets` sockets). `{ stats: false }` skips decoding the counters, which
   * plan() does not need and which cost most of the decoding.
   */
  async dumpTable(options: DecodeOptions = {}): Promise<ServiceState[]> {
    const services = await this.listServices(options);
    await Promise.all(services.map(async (svc, i) => { svc.destinations = await this.destinationsOf(svc, options, this.dumper(i)); }));
    return services;
  }

  /** Add a virtual service, then its `destinations` if any (pipelined; the first refusal rejects). */
  async addService(svc: VirtualService): Promise<void> {
    const v = validateService(svc);
    const keyNest = encodeServiceKeyNest(v);
    const sends = [this.send(commands.addService(v)), ...(v.destinations ?? []).map((d) => this.send(commands.addDestination(v, d, keyNest)))];
    await settleInOrder(sends);
  }

  /** Change a service's scheduler, flags or persistence (its `destinations` are not touched). */
  async editService(svc: ServiceKey & ServiceSettings): Promise<void> {
    const key = validateServiceKey(svc);
    await this.send(commands.editService({ ...key, ...validateServiceSettings(svc, key) }));
  }

  /** Delete a service and its real servers. */
  async deleteService(key: ServiceKey): Promise<void> {
    await this.send(commands.deleteService(validateServiceKey(key)));
  }

  /** Add a real server to a service. */
  async addDestination(key: ServiceKey, dest: Destination): Promise<void> {
    const k = validateServiceKey(key);
    await this.send(commands.addDestination(k, validateDestination(dest, k)));
  }

  /** Change a real server's forwarding method, weight, thresholds or tunnel, in place (connections stay). */
  async editDestination(key: ServiceKey, dest: Destination): Promise<void> {
    const k = validateServiceKey(key);
    await this.send(commands.editDestination(k, validateDestination(dest, k)));
  }

  /** Remove a real server from a service. */
  async deleteDestination(key: ServiceKey, dest: { address: string; port: number }): Promise<void> {
    const k = validateServiceKey(key);
    await this.send(commands.deleteDestination(k, validateDestinationKey(dest)));
  }

  /** Start a master or backup sync daemon. */
  async startDaemon(daemon: SyncDaemon): Promise<void> {
    const d = validateDaemon(daemon);
    await this.send({ cmd: K.IPVS_CMD_NEW_DAEMON, attrs: encodeDaemon(new AttrWriter(), d).toBuffer(), target: `${d.state} sync daemon` });
  }

  /** Stop the master or the backup sync daemon (ESRCH when none runs). */
  async stopDaemon(state: SyncDaemon['state']): Promise<void> {
    const d = validateDaemon({ state, interface: 'x', syncId: 0 });
    await this.send({ cmd: K.IPVS_CMD_DEL_DAEMON, attrs: encodeDaemonState(new AttrWriter(), d.state).toBuffer(), target: `${state} sync daemon` });
  }

  /** The sync daemons running (IPVS_CMD_GET_DAEMON dump). */
  async listDaemons(): Promise<SyncDaemon[]> {
    const rows = await this.replies({ cmd: K.IPVS_CMD_GET_DAEMON, target: 'sync daemons' }, true);
    return rows.map((attrs) => findAttr(attrs, K.IPVS_CMD_ATTR_DAEMON)).filter((a): a is Attr => a !== undefined).map(decodeDaemon);
  }

  /** TCP, TCP FIN and UDP connection timeouts (IPVS_CMD_GET_CONFIG). */
  async getTimeouts(): Promise<Timeouts> {
    const [attrs] = await this.replies({ cmd: K.IPVS_CMD_GET_CONFIG, target: 'timeouts' });
    if (!attrs) throw new Error('IPVS_CMD_GET_CONFIG: acknowledged without an answer');
    return decodeTimeouts(attrs);
  }

  /** Set the timeouts given (0 or absent: unchanged), like `ipvsadm --set`. */
  async setTimeouts(timeouts: Partial<Timeouts>): Promise<void> {
    const t = validateTimeouts(timeouts);
    await this.send({ cmd: K.IPVS_CMD_SET_CONFIG, attrs: encodeTimeouts(new AttrWriter(), t).toBuffer(), target: 'timeouts' });
  }

  /** Zero the counters of one service, or of all when `key` is absent. */
  async zero(key?: ServiceKey): Promise<void> {
    const k = key === undefined ? undefined : validateServiceKey(key);
    await this.send(k ? { cmd: K.IPVS_CMD_ZERO, attrs: encodeServiceKeyNest(k), target: serviceName(k) }
      : { cmd: K.IPVS_CMD_ZERO, target: 'all services' });
  }

  /** Delete every service and real server (`ipvsadm -C`). */
  async flush(): Promise<void> {
    await this.send({ cmd: K.IPVS_CMD_FLUSH, target: 'all services' });
  }

  /** Close the sockets; requests in flight reject with RequestCancelledError. */
  /** The netlink counters of this client's sockets (the main one and the dump sockets), summed. */
  get netlinkStats(): NetlinkEngineStats {
    return addEngineStats([this.genl.engine.stats, ...this.dumpers.map((d) => d.engine.stats)]);
  }

  /** Close the sockets; requests in flight reject with RequestCancelledError. Until then its socket keeps the process alive, also after a failed call. */
  close(): void {
    for (const d of this.dumpers) d.close();
    this.genl.close();
  }

  /** `using ipvs = IpvsClient.open()`: closed when the scope ends. */
  [Symbol.dispose](): void { this.close(); }
}

/** The services' identities, sorted, as one string (duplicates kept). */
function identities(services: readonly ServiceState[]): string {
  return services.map((s) => serviceName(s)).sort().join('|');
}

/** Await promises in order and throw the first rejection (by position), after all settled. */
async function settleInOrder(promises: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
