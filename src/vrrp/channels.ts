// layer: behaviour (vrrp)
// job: the runner's shared raw sockets: where each instance sends from (its link or VMAC, and source address), one channel per interface, family and mode, opened when needed, closed when unused.
import type { RtnlClient } from '../rtnl/client.js';
import { IFA_F_SECONDARY, IFA_F_TENTATIVE } from '../rtnl/constants.js';
import type { Link } from '../rtnl/link.js';
import { isLinkLocalIPv6, sameAddress } from './address.js';
import { VrrpChannel, channelKey, type ChannelInput } from './channel.js';
import type { Clock } from './clock.js';
import type { ResolvedInstance } from './instance.js';
import { emptyDropCounters, type DropCounters } from './receive.js';
import { VrrpConfigError } from './validate.js';

/** Where an instance speaks: its link, its advert source and the key of its channel. */
export interface Placement { instance: ResolvedInstance; link: Link; source: string; key: string }

/** What a ChannelSet needs from its runner. */
export interface ChannelSetDeps {
  netns?: string;
  clock: Clock;
  rtnl: RtnlClient;
  linkByName(name: string): Link | undefined;
  onInput(channel: VrrpChannel, input: ChannelInput): void;
  onError(channel: VrrpChannel, error: Error): void;
}

/**
 * keepalived's source: the interface's first (primary) IPv4 address, or its IPv6 link-local — never
 * one of `vips`. Throws VrrpConfigError naming `field` when there is none.
 */
export async function primaryAddress(rtnl: RtnlClient, r: ResolvedInstance, ifindex: number, vips: readonly string[], field: string): Promise<string> {
  const addresses = (await rtnl.listAddresses({ family: r.family, ifindex }))
    .filter((a) => !vips.some((v) => sameAddress(v, a.address)));
  const pick = r.family === 4
    ? addresses.find((a) => (a.flags & IFA_F_SECONDARY) === 0)
    : addresses.filter((a) => isLinkLocalIPv6(a.address)).sort((a, b) => (a.flags & IFA_F_TENTATIVE) - (b.flags & IFA_F_TENTATIVE))[0];
  if (!pick) {
    throw new VrrpConfigError(field, `${r.interface} has no ${r.family === 4 ? 'IPv4 address' : 'IPv6 link-local address'} to send adverts from (set unicastSourceAddress or add one)`);
  }
  return pick.address;
}

/** The channels of one runner, by `channelKey`, with the drops of datagrams no instance could take. */
export class ChannelSet {
  readonly #channels = new Map<string, VrrpChannel>();
  readonly #drops = new Map<string, DropCounters>();
  readonly #deps: ChannelSetDeps;

  constructor(deps: ChannelSetDeps) { this.#deps = deps; }

  /**
   * Where each of `instances` would speak, read from the kernel and changing nothing. Throws
   * VrrpConfigError (`instances[i].interface`, i from `indexOf`) for a missing link or address.
   * `vips`: every configured VIP, never taken for a source. `vmacs`: the links the runner made for
   * use_vmac / use_ipvlan, by name (the link watcher may not have seen them yet).
   */
  async place(instances: readonly ResolvedInstance[], indexOf: (r: ResolvedInstance) => number, vips: readonly string[], vmacs: ReadonlyMap<string, Link> = new Map()): Promise<Placement[]> {
    const out: Placement[] = [];
    for (const r of instances) {
      const field = `instances[${indexOf(r)}].interface`;
      const base = this.#deps.linkByName(r.interface);
      if (!base) throw new VrrpConfigError(field, `${r.interface} does not exist${this.#deps.netns ? ` in network namespace ${this.#deps.netns}` : ''}`);
      // use_vmac / use_ipvlan: adverts leave from the VMAC (vmacs: made by the runner) unless vmac_xmit_base; the source stays the base's address.
      const link = r.vmac && !r.vmac.xmitBase ? vmacs.get(r.vmac.name) : base;
      if (!link) throw new VrrpConfigError(`instances[${indexOf(r)}].vmac`, `${r.vmac!.name} was not made`);
      const unicast = r.unicastPeers.length > 0;
      const source = r.unicastSourceAddress ?? r.vmac?.address?.address ?? await primaryAddress(this.#deps.rtnl, r, base.index, vips, field);
      out.push({ instance: r, link, source, key: channelKey(r.family, link.index, unicast ? source : undefined) });
    }
    return out;
  }

  /**
   * Open the channels `placements` need that are not open yet, all or none: if one fails, those
   * opened here are closed again and the error is thrown.
   */
  openFor(placements: readonly Placement[]): void {
    const opened: string[] = [];
    try {
      for (const p of placements) {
        if (this.#channels.has(p.key)) continue;
        const r = p.instance;
        const channel = VrrpChannel.open({
          ...(this.#deps.netns !== undefined ? { netns: this.#deps.netns } : {}), family: r.family, dev: p.link.name,
          ifindex: p.link.index, source: p.source, unicast: r.unicastPeers.length > 0,
        });
        this.#channels.set(p.key, channel);
        this.#drops.set(p.key, emptyDropCounters());
        opened.push(p.key);
        channel.listen(this.#deps.clock, (input) => this.#deps.onInput(channel, input), (error) => this.#deps.onError(channel, error));
      }
    } catch (error) {
      for (const key of opened) this.#remove(key);
      throw error;
    }
  }

  /** The open channel of `key` (openFor first). */
  get(key: string): VrrpChannel {
    const channel = this.#channels.get(key);
    if (!channel) throw new Error(`no channel ${key} (openFor was not called)`);
    return channel;
  }

  /** The drop counters of a channel. */
  drops(channel: VrrpChannel): DropCounters { return this.#drops.get(channel.key)!; }

  /** Close every channel not in `used`. */
  closeUnused(used: ReadonlySet<VrrpChannel>): void {
    for (const [key, channel] of this.#channels) if (!used.has(channel)) this.#remove(key);
  }

  /** Drops per channel `family/ifindex/mode`. */
  dropCounts(): Record<string, DropCounters> {
    return Object.fromEntries([...this.#drops].map(([k, v]) => [k, { ...v }]));
  }

  close(): void {
    for (const channel of this.#channels.values()) channel.close();
  }

  #remove(key: string): void {
    this.#channels.get(key)?.close();
    this.#channels.delete(key);
    this.#drops.delete(key);
  }
}
