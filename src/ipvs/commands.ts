// layer: kernel client (IPVS)
// job: the commands that change services and real servers, encoded (what IpvsClient.send and sendBatch take; apply() builds them).
import { copyInto } from '../bytes.js';
import type { PayloadWriter } from '../netlink/engine.js';
import { encodeServiceKeyNest, serviceNestBytes, writeServiceNest } from './codec.js';
import { DEST_NEST_BYTES, encodeDestinationKeyNest, writeDestinationNest } from './codec-dest.js';
import * as K from './constants.js';
import { destinationName, serviceName, type Destination, type ServiceKey, type ServiceSettings } from './model.js';

/** One IPVS command, encoded: what `IpvsClient.send` takes (apply() builds these). */
export interface IpvsCommand {
  cmd: number;
  /** Attribute bytes after the genl header: whole, in parts, or written in place into the datagram. */
  attrs?: Buffer | readonly Buffer[] | PayloadWriter;
  /** What the command is about, for errors (`TCP 10.0.0.1:80 -> 10.0.1.1:80`); computed only when needed. */
  target: string | (() => string);
}

/** `TCP 10.0.0.1:80 -> 10.0.1.1:80`: a real server within its service, as errors name it. */
export function destinationTarget(key: ServiceKey, dest: { address: string; port: number }): string {
  return `${serviceName(key)} -> ${destinationName(dest)}`;
}

/** A command's attribute bytes as one buffer, however they are held (for tests and inspection). */
export function attrsBytes(attrs: IpvsCommand['attrs']): Buffer {
  if (attrs === undefined) return Buffer.alloc(0);
  if (Buffer.isBuffer(attrs)) return attrs;
  if (Array.isArray(attrs)) return Buffer.concat(attrs as readonly Buffer[]);
  const writer = attrs as PayloadWriter;
  const out = Buffer.alloc(writer.length);
  writer.write(out, 0);
  return out;
}

/**
 * A new/set real-server command: the service's identity nest then the real server's, written in
 * place (no buffer per real server). A class, not closures: apply() makes thousands of these, and
 * each is then one object.
 */
class DestinationCommand implements IpvsCommand, PayloadWriter {
  constructor(readonly cmd: number, private readonly key: ServiceKey, private readonly dest: Destination, private readonly keyNest: Buffer) {}
  get attrs(): PayloadWriter { return this; }
  get length(): number { return this.keyNest.length + DEST_NEST_BYTES; }
  write(buf: Buffer, at: number): void {
    copyInto(this.keyNest, buf, at);
    writeDestinationNest(buf, at + this.keyNest.length, this.dest);
  }
  target(): string { return destinationTarget(this.key, this.dest); }
}

/** A new/set service command: the service's nest written in place. */
class ServiceCommand implements IpvsCommand, PayloadWriter {
  readonly length: number;
  constructor(readonly cmd: number, private readonly svc: ServiceKey & ServiceSettings) {
    this.length = serviceNestBytes(svc);
  }
  get attrs(): PayloadWriter { return this; }
  write(buf: Buffer, at: number): void { writeServiceNest(buf, at, this.svc); }
  target(): string { return serviceName(this.svc); }
}

/**
 * Encoders of the commands that change services and real servers (inputs already validated).
 * The destination commands take the service's identity nest, so that a caller sending many
 * commands for one service (apply) encodes it once.
 */
export const commands = {
  addService: (svc: ServiceKey & ServiceSettings): IpvsCommand => new ServiceCommand(K.IPVS_CMD_NEW_SERVICE, svc),
  editService: (svc: ServiceKey & ServiceSettings): IpvsCommand => new ServiceCommand(K.IPVS_CMD_SET_SERVICE, svc),
  deleteService: (key: ServiceKey, keyNest = encodeServiceKeyNest(key)): IpvsCommand =>
    ({ cmd: K.IPVS_CMD_DEL_SERVICE, attrs: keyNest, target: () => serviceName(key) }),
  addDestination: (key: ServiceKey, dest: Destination, keyNest = encodeServiceKeyNest(key)): IpvsCommand =>
    new DestinationCommand(K.IPVS_CMD_NEW_DEST, key, dest, keyNest),
  editDestination: (key: ServiceKey, dest: Destination, keyNest = encodeServiceKeyNest(key)): IpvsCommand =>
    new DestinationCommand(K.IPVS_CMD_SET_DEST, key, dest, keyNest),
  deleteDestination: (key: ServiceKey, dest: { address: string; port: number }, keyNest = encodeServiceKeyNest(key)): IpvsCommand =>
    ({ cmd: K.IPVS_CMD_DEL_DEST, attrs: [keyNest, encodeDestinationKeyNest(dest)], target: () => destinationTarget(key, dest) }),
};
