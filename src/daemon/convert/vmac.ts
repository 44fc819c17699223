// layer: config (pure)
// job: a vrrp_instance's use_vmac / vmac_xmit_base / use_ipvlan → VrrpInstanceConfig's `vmac`, with keepalived's complaints as located diagnostics.
import type { VrrpInstance } from '../../config/model.js';
import type { VirtualMacConfig } from '../../vrrp/instance.js';
import type { ConversionLog } from './common.js';

/**
 * The instance's VMAC or ipvlan, or undefined. keepalived's own complaints carried over:
 * vmac_xmit_base without use_vmac is ignored (a warning, as keepalived clears it); use_vmac and
 * use_ipvlan together, and an IPv4 use_ipvlan without its address, are errors (keepalived puts the
 * instance in FAULT for the latter). `f` is the instance's field path (`instances[2]`).
 */
export function vmacConfig(log: ConversionLog, vi: VrrpInstance, family: 4 | 6, f: string): VirtualMacConfig | undefined {
  const name = `vrrp_instance ${vi.name}`;
  const at = (keyword: string) => vi.keywordLocations?.[keyword] ?? vi.location;
  if (vi.vmacXmitBase && !vi.useVmac) log.warning(at('vmac_xmit_base'), `${name}: vmac_xmit_base is only valid with use_vmac; ignored (as keepalived)`, 'invalid-value');
  if (vi.useVmac && vi.useIpvlan) {
    log.error(at('use_ipvlan'), `${name}: use_vmac and use_ipvlan together: an instance has one VMAC or one ipvlan`, 'invalid-value');
    return undefined;
  }
  if (vi.useVmac) {
    log.at(`${f}.vmac`, at('use_vmac'));
    if (vi.vmacXmitBase) log.at(`${f}.vmac.xmitBase`, at('vmac_xmit_base'));
    return {
      kind: 'macvlan', ...(vi.useVmac.name !== undefined ? { name: vi.useVmac.name } : {}), ...(vi.useVmac.mac !== undefined ? { mac: vi.useVmac.mac } : {}),
      ...(vi.vmacXmitBase ? { xmitBase: true } : {}),
    };
  }
  if (!vi.useIpvlan) return undefined;
  log.at(`${f}.vmac`, at('use_ipvlan'));
  const ipvlan = vi.useIpvlan;
  if (family === 4 && ipvlan.address === undefined) {
    log.error(at('use_ipvlan'), `${name}: use_ipvlan on an IPv4 instance needs the ipvlan's address (the advert source); keepalived puts the instance in FAULT without one`, 'missing-setting');
    return undefined;
  }
  return {
    kind: 'ipvlan', ...(ipvlan.name !== undefined ? { name: ipvlan.name } : {}), ...(ipvlan.address !== undefined ? { address: ipvlan.address } : {}),
    ...(ipvlan.mode !== undefined ? { ipvlanFlags: ipvlan.mode } : {}),
  };
}
