// layer: behaviour (check)
// job: the sink over the IPVS client: health-check decisions become IPVS_CMD_NEW_DEST / SET_DEST / DEL_DEST, idempotently.
import type { IpvsClient } from '../ipvs/client.js';
import type { ServiceKey } from '../ipvs/model.js';
import type { DestinationSink, SinkDestination } from './sink.js';

/** The three IpvsClient methods the sink uses (a client, or anything shaped like one). */
export type IpvsDestinationClient = Pick<IpvsClient, 'addDestination' | 'editDestination' | 'deleteDestination'>;

function errnoOf(error: unknown): string | undefined {
  return (error as { code?: unknown }).code as string | undefined;
}

/**
 * A DestinationSink that drives the kernel through `client`. It keeps the sink contract: adding a
 * real server that exists edits it (EEXIST), editing one that vanished (someone ran `ipvsadm -d`)
 * adds it back (ENOENT), removing one already gone succeeds (ENOENT). Every other refusal (ESRCH:
 * no such service; EINVAL, ...) rejects with the client's IpvsError.
 */
export function ipvsSink(client: IpvsDestinationClient): DestinationSink<ServiceKey> {
  return {
    async addDestination(service: ServiceKey, destination: SinkDestination): Promise<void> {
      try {
        await client.addDestination(service, destination);
      } catch (error) {
        if (errnoOf(error) !== 'EEXIST') throw error;
        await client.editDestination(service, destination);
      }
    },
    async setWeight(service: ServiceKey, destination: SinkDestination): Promise<void> {
      try {
        await client.editDestination(service, destination);
      } catch (error) {
        if (errnoOf(error) !== 'ENOENT') throw error;
        await client.addDestination(service, destination);
      }
    },
    async removeDestination(service: ServiceKey, destination: { address: string; port: number }): Promise<void> {
      try {
        await client.deleteDestination(service, destination);
      } catch (error) {
        if (errnoOf(error) !== 'ENOENT') throw error;
      }
    },
  };
}
