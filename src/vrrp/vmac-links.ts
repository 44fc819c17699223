// layer: behaviour (vrrp)
// job: the VMAC (macvlan) and ipvlan links of a runner's instances, as keepalived's vrrp_vmac.c makes them: created or adopted, the sysctls it sets, brought up; removed again, the base's settings restored.
import { isErrnoError } from '../errors.js';
import type { RtnlClient } from '../rtnl/client.js';
import { IFA_F_NODAD, type Ipv4ConfName } from '../rtnl/constants.js';
import type { Link } from '../rtnl/link.js';
import { confSysctl, writeSysctl } from '../sysctl/sysctl.js';
import { isLinkLocalIPv6 } from './address.js';
import type { ResolvedInstance, ResolvedVmac } from './instance.js';
import { VrrpConfigError } from './validate.js';

/** What keepalived sets on an IPv4 VMAC (vrrp_if_config.c, vmac_sysctl). */
export const VMAC_IPV4_CONF: Partial<Record<Ipv4ConfName, number>> = { arp_ignore: 1, accept_local: 1, rp_filter: 0, promote_secondaries: 1 };
/** What keepalived sets on the base interface of an IPv4 VMAC while one is there (parent_sysctl), restored after. */
export const VMAC_BASE_CONF: Partial<Record<Ipv4ConfName, number>> = { arp_ignore: 1, arp_filter: 1 };

interface Ours { index: number; base: number; vmac: ResolvedVmac; family: 4 | 6 }

/** Whether `link` is the VMAC/ipvlan `vmac` describes, on `base`. */
export function vmacMatches(link: Link, vmac: ResolvedVmac, base: number): boolean {
  if (link.kind !== vmac.kind || link.parent !== base) return false;
  return vmac.kind === 'macvlan' ? link.macvlanMode === 'private' && link.mac === vmac.mac : link.ipvlanFlags === vmac.ipvlanFlags;
}

/**
 * The VMAC and ipvlan links a runner made, by name. `ensure()` makes one as keepalived does: a link
 * of that name that matches (kind, base, mode, MAC) is adopted; a macvlan/ipvlan that does not is
 * deleted and made again; any other link of that name is a VrrpConfigError. `remove()` deletes
 * one; the base's arp_ignore/arp_filter come back when its last VMAC goes. `procSys`: write
 * disable_ipv6 through /proc/sys (only when the calling thread is in the runner's namespace).
 */
export class VmacLinks {
  readonly #rtnl: RtnlClient;
  readonly #procSys: boolean;
  readonly #ours = new Map<string, Ours>();
  /** Base links' settings from before their first VMAC, and how many VMACs they carry. */
  readonly #saved = new Map<number, { values: Partial<Record<Ipv4ConfName, number>>; count: number }>();

  constructor(rtnl: RtnlClient, options: { procSys: boolean }) {
    this.#rtnl = rtnl;
    this.#procSys = options.procSys;
  }

  /** Whether `name` is one of ours. */
  has(name: string): boolean { return this.#ours.has(name); }

  /** Make (or adopt) `r`'s VMAC and bring it up; `field` names the instance (`instances[2]`) in errors. Returns the link. */
  async ensure(r: ResolvedInstance, field: string): Promise<Link> {
    const vmac = r.vmac!;
    const base = await this.#link(r.interface);
    if (!base) throw new VrrpConfigError(`${field}.interface`, `${r.interface} does not exist: the base of ${vmac.kind} ${vmac.name} is needed to make it`);
    const existing = await this.#link(vmac.name);
    if (existing && this.#ours.get(vmac.name)?.index === existing.index && vmacMatches(existing, vmac, base.index)) return existing;
    if (existing && !vmacMatches(existing, vmac, base.index)) {
      if (existing.kind !== 'macvlan' && existing.kind !== 'ipvlan') {
        throw new VrrpConfigError(`${field}.vmac.name`, `${vmac.name} already exists as ${existing.kind ?? 'a physical'} link, not a ${vmac.kind}; name the ${vmac.kind} otherwise`);
      }
      await this.#rtnl.deleteLink(existing.index); // keepalived: "Removing old VMAC interface ... due to conflicting interface"
    }
    let link = existing && vmacMatches(existing, vmac, base.index) ? existing : undefined;
    if (!link) {
      await this.#rtnl.addLink(vmac.kind === 'macvlan'
        ? { name: vmac.name, parent: base.index, mac: vmac.mac!, kind: 'macvlan', mode: 'private' }
        : { name: vmac.name, parent: base.index, kind: 'ipvlan', flags: vmac.ipvlanFlags });
      link = await this.#rtnl.getLink(vmac.name);
    }
    this.#ours.set(vmac.name, { index: link.index, base: base.index, vmac, family: r.family });
    if (vmac.kind === 'macvlan' && r.family === 4) await this.#setIpv4(link.index, base);
    if (r.family === 4 && this.#procSys) this.#disableIpv6(vmac.name);
    if (vmac.kind === 'macvlan') await this.#rtnl.setAddrGenModeNone(link.index);
    await this.#rtnl.setLinkUp(link.index);
    if (vmac.kind === 'macvlan' && r.family === 6 && !vmac.xmitBase) await this.#linkLocal(link.index, base.index);
    if (vmac.address) {
      await this.#rtnl.addAddress({ ifindex: link.index, address: vmac.address.address, prefixLength: vmac.address.prefixLength }, { replace: true });
    }
    return this.#rtnl.getLink(link.index);
  }

  /** Delete our link `name` (gone already is fine); the base's settings restored after its last VMAC. */
  async remove(name: string): Promise<void> {
    const ours = this.#ours.get(name);
    if (!ours) return;
    this.#ours.delete(name);
    try {
      await this.#rtnl.deleteLink(ours.index);
    } catch (error) {
      if (!isErrnoError(error) || error.code !== 'ENODEV') throw error;
    }
    if (ours.vmac.kind === 'macvlan' && ours.family === 4) await this.#release(ours.base);
  }

  /** Forget `name` without deleting it (it is gone already, e.g. with its base link); its base's count drops. */
  forget(name: string): void {
    const ours = this.#ours.get(name);
    if (!ours) return;
    this.#ours.delete(name);
    const saved = this.#saved.get(ours.base);
    if (saved && ours.vmac.kind === 'macvlan' && ours.family === 4 && --saved.count === 0) this.#saved.delete(ours.base);
  }

  /** Remove every link of ours. */
  async removeAll(): Promise<void> {
    for (const name of [...this.#ours.keys()]) await this.remove(name);
  }

  async #link(which: string | number): Promise<Link | undefined> {
    try {
      return await this.#rtnl.getLink(which);
    } catch (error) {
      if (isErrnoError(error) && error.code === 'ENODEV') return undefined;
      throw error;
    }
  }

  async #setIpv4(index: number, base: Link): Promise<void> {
    await this.#rtnl.setIpv4Conf(index, VMAC_IPV4_CONF);
    const saved = this.#saved.get(base.index);
    if (saved) {
      saved.count++;
      return;
    }
    const before = base.ipv4Conf ?? {};
    this.#saved.set(base.index, { values: { arp_ignore: before.arp_ignore ?? 0, arp_filter: before.arp_filter ?? 0 }, count: 1 });
    if (before.arp_ignore !== 1 || before.arp_filter !== 1) await this.#rtnl.setIpv4Conf(base.index, VMAC_BASE_CONF);
  }

  async #release(base: number): Promise<void> {
    const saved = this.#saved.get(base);
    if (!saved || --saved.count > 0) return;
    this.#saved.delete(base);
    try {
      await this.#rtnl.setIpv4Conf(base, saved.values);
    } catch (error) {
      if (!isErrnoError(error) || error.code !== 'ENODEV') throw error;
    }
  }

  /** keepalived's link_set_ipv6(ifp, false): no IPv6 on an IPv4 instance's VMAC. */
  #disableIpv6(name: string): void {
    writeSysctl(confSysctl(name, 'disable_ipv6', 6), 1);
  }

  /**
   * keepalived's set_link_local_address: the base's link-local address on the VMAC, so adverts leave
   * from a non-VIP address with the VRRP MAC; deprecated (preferred lifetime 0) as keepalived 2.2.7
   * adds it, so the kernel never picks it as a source for other traffic.
   */
  async #linkLocal(index: number, base: number): Promise<void> {
    const ll = (await this.#rtnl.listAddresses({ family: 6, ifindex: base })).find((a) => isLinkLocalIPv6(a.address));
    if (!ll) return;
    await this.#rtnl.addAddress({ ifindex: index, address: ll.address, prefixLength: 64, scope: 'link', flags: IFA_F_NODAD, preferredLifetimeS: 0 }, { replace: true });
  }
}
