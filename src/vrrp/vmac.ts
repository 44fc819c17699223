// layer: behaviour (vrrp)
// job: keepalived's use_vmac / use_ipvlan settings checked and completed (name vrrp.VRID, the RFC 5798 virtual router MAC), pure.
import { IPVLAN_FLAGS } from '../rtnl/constants.js';
import { parseAddressWithPrefix } from './address.js';
import type { ResolvedVmac, VirtualMacConfig } from './instance.js';
import type { IpFamily } from './packet.js';

/** A refused setting: the field under the instance (`vmac.mac`) and why. */
export class VmacFieldError extends Error {
  constructor(readonly field: string, detail: string) { super(detail); }
}

/** The virtual router MAC of RFC 3768 §7.3 / RFC 5798 §7.3: 00:00:5e:00:01:VRID (IPv4), 00:00:5e:00:02:VRID (IPv6). */
export function virtualRouterMac(vrid: number, family: IpFamily): string {
  return `00:00:5e:00:0${family === 4 ? 1 : 2}:${vrid.toString(16).padStart(2, '0')}`;
}

/** keepalived's default VMAC name: `vrrp.VRID`. */
export function defaultVmacName(vrid: number): string {
  return `vrrp.${vrid}`;
}

/** A configured MAC: six octets, or five with the VRID appended (keepalived's rule); not multicast, not the RFC 5798 prefix. */
function configuredMac(text: unknown, vrid: number): string {
  if (typeof text !== 'string') throw new VmacFieldError('mac', `${JSON.stringify(text)} is not a MAC address`);
  const octets = text.replace(/:$/, '').split(':');
  if ((octets.length !== 5 && octets.length !== 6) || !octets.every((o) => /^[0-9a-f]{1,2}$/i.test(o))) {
    throw new VmacFieldError('mac', `${JSON.stringify(text)} is not a MAC address (six hex octets, or five and the VRID is the sixth)`);
  }
  const bytes = octets.map((o) => parseInt(o, 16));
  if (bytes.length === 5) bytes.push(vrid);
  if ((bytes[0]! & 1) !== 0) throw new VmacFieldError('mac', `${text} is a multicast address`);
  if (bytes[0] === 0 && bytes[1] === 0 && bytes[2] === 0x5e && bytes[3] === 0 && (bytes[4] === 1 || bytes[4] === 2)) {
    throw new VmacFieldError('mac', `${text} is an RFC 5798 virtual router address; leave the MAC out to get the instance's own`);
  }
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/**
 * The VMAC (or ipvlan) of an instance on `base`, with keepalived's defaults. Throws VmacFieldError
 * naming the field under `vmac`: a bad MAC, `xmitBase` on an ipvlan, an IPv4 ipvlan without its
 * address (keepalived puts such an instance in FAULT for good), an address of the other family.
 */
export function resolveVmac(c: VirtualMacConfig, base: string, vrid: number, family: IpFamily, checkName: (field: string, name: unknown) => string): ResolvedVmac {
  if (typeof c !== 'object' || c === null) throw new VmacFieldError('', 'must be an object');
  const kind = c.kind ?? 'macvlan';
  if (kind !== 'macvlan' && kind !== 'ipvlan') throw new VmacFieldError('kind', `${JSON.stringify(kind)} is not macvlan or ipvlan`);
  const name = c.name === undefined ? defaultVmacName(vrid) : checkName('name', c.name);
  if (name === base) throw new VmacFieldError('name', `${name} is the instance's own interface; the ${kind} needs a name of its own`);
  const xmitBase = c.xmitBase ?? false;
  if (typeof xmitBase !== 'boolean') throw new VmacFieldError('xmitBase', 'must be true or false');
  const ipvlanFlags = c.ipvlanFlags ?? 'bridge';
  if (!Object.hasOwn(IPVLAN_FLAGS, ipvlanFlags)) throw new VmacFieldError('ipvlanFlags', `${JSON.stringify(ipvlanFlags)} is not one of ${Object.keys(IPVLAN_FLAGS).join(', ')}`);
  const out: ResolvedVmac = { kind, name, base, xmitBase, ipvlanFlags };
  if (kind === 'macvlan') {
    if (c.address !== undefined) throw new VmacFieldError('address', 'only an ipvlan takes an address (a VMAC sends from its base interface\'s address)');
    out.mac = c.mac === undefined ? virtualRouterMac(vrid, family) : configuredMac(c.mac, vrid);
    return out;
  }
  if (xmitBase) throw new VmacFieldError('xmitBase', 'vmac_xmit_base is only valid with a VMAC (use_vmac), not an ipvlan');
  if (c.mac !== undefined) throw new VmacFieldError('mac', 'an ipvlan has its base interface\'s MAC; only a VMAC takes one');
  if (c.address === undefined) {
    if (family === 4) throw new VmacFieldError('address', 'an IPv4 ipvlan needs its address (the advert source); keepalived puts the instance in FAULT without one');
    return out;
  }
  let parsed: ReturnType<typeof parseAddressWithPrefix>;
  try {
    parsed = parseAddressWithPrefix(c.address, 'address');
  } catch (error) {
    throw new VmacFieldError('address', (error as Error).message.replace(/^address: /, ''));
  }
  if (parsed.family !== family) throw new VmacFieldError('address', `${parsed.address} is IPv${parsed.family} but the instance is IPv${family}`);
  out.address = { address: parsed.address, prefixLength: parsed.prefixLength };
  return out;
}
