// layer: behaviour (check)
// job: the sink over the IPVS client: health-check decisions become IPVS_CMD_NEW_DEST / SET_DEST / DEL_DEST, idempotently; a dump's real servers as the sink describes them.
import type { IpvsClient } from '../ipvs/client.js';
import type { DestinationState, ServiceKey } from '../ipvs/model.js';
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

/**
 * The real servers the kernel holds for a service (`destinations` of an `IpvsClient.dumpTable()`
 * entry, or `listDestinations()`) as the sink describes them: what `add(spec, { present })`,
 * `replace(spec, { present })` and `reconcile()` take. Counters are dropped; a threshold of 0 (no
 * limit) is left out, the tunnel kept only for `tun`. The kernel reports `local` and `bypass`,
 * which cannot be asked for; they are given as `dr`.
 */
export function sinkDestinations(destinations: readonly DestinationState[]): SinkDestination[] {
  return destinations.map((d) => {
    const out: SinkDestination = { address: d.address, port: d.port, weight: d.weight, forward: d.forward === 'nat' || d.forward === 'tun' ? d.forward : 'dr' };
    if (d.upperThreshold) out.upperThreshold = d.upperThreshold;
    if (d.lowerThreshold) out.lowerThreshold = d.lowerThreshold;
    if (d.forward === 'tun' && d.tunnel) out.tunnel = { ...d.tunnel };
    return out;
  });
}
