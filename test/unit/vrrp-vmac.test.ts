// layer: tests (unit)
// job: use_vmac / vmac_xmit_base / use_ipvlan from keepalived.conf to the resolved VMAC: keywords as keepalived reads them, refusals located, defaults (vrrp.VRID, 00:00:5e:00:0{1,2}:VRID), VIPs on the VMAC, the dump; the RTM_NEWLINK bytes iproute2 sends for the same link; a VMAC gone and made again (VmacKeeper).
import test from 'ava';
import { dumpConfig } from '../../src/config/dump.js';
import { parseConfigText } from '../../src/config/index.js';
import { convertVrrp } from '../../src/daemon/convert/vrrp.js';
import { decodeLink } from '../../src/rtnl/link.js';
import { encodeAddrGenModeNone, encodeNewLink, encodeSetIpv4Conf, encodeSetLinkUp } from '../../src/rtnl/link-create.js';
import { validateInstance, validateVrrpConfig, VrrpConfigError } from '../../src/vrrp/validate.js';
import type { VrrpInstanceConfig } from '../../src/vrrp/instance.js';
import { VmacKeeper } from '../../src/vrrp/vmac-keeper.js';
import { vmacMatches, type VmacLinks } from '../../src/vrrp/vmac-links.js';
import type { InstanceDriver } from '../../src/vrrp/driver.js';
import type { Link } from '../../src/rtnl/link.js';
import { until } from '../helpers/until.js';
import { messages, parse } from '../helpers/config.js';

const instance = (body: string, vip = '10.0.0.1/24'): string =>
  `vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n${body}  virtual_ipaddress {\n    ${vip}\n  }\n}\n`;

/**
 * The payloads (after the 16-byte nlmsghdr) iproute2 6.x sent, captured with `strace -e write=3`,
 * with one difference: lvskit sets NLA_F_NESTED (0x8000) on a nest's type, as every lvskit nest
 * (`1280` where iproute2 wrote `1200`); the kernel masks it off.
 */
const IP_LINK_ADD_MACVLAN = // ip link add vt1 link eth0(3) address 00:00:5e:00:01:33 type macvlan mode private
  '00000000000000000000000000000000' + '0a000100' + '00005e000133' + '0000' + '08000500' + '03000000' + '08000300' + '76743100'
  + '1c001280' + '0b000100' + '6d6163766c616e00' + '0c000280' + '08000100' + '01000000';
const IP_LINK_ADD_IPVLAN = // ip link add vt2 link eth0(3) type ipvlan mode l2 private
  '00000000000000000000000000000000' + '08000500' + '03000000' + '08000300' + '76743200'
  + '24001280' + '0a000100' + '6970766c616e0000' + '14000280' + '06000100' + '00000000' + '06000200' + '01000000';
const IP_LINK_SET_UP = '00000000' + '03000000' + '01000000' + '01000000'; // ip link set eth0(3) up

test('RTM_NEWLINK for a macvlan / an ipvlan / link up: the bytes `ip link` sends', (t) => {
  t.is(encodeNewLink({ name: 'vt1', parent: 3, mac: '00:00:5e:00:01:33', kind: 'macvlan', mode: 'private' }).toString('hex'), IP_LINK_ADD_MACVLAN);
  t.is(encodeNewLink({ name: 'vt2', parent: 3, kind: 'ipvlan', flags: 'private' }).toString('hex'), IP_LINK_ADD_IPVLAN);
  t.is(encodeSetLinkUp(3, true).toString('hex'), IP_LINK_SET_UP);
  t.throws(() => encodeNewLink({ name: 'a/b', parent: 3, kind: 'macvlan', mode: 'private' }), { message: /^name: "a\/b" is not an interface name/ });
  t.throws(() => encodeNewLink({ name: 'v', parent: 3, mac: '00:00:5e', kind: 'macvlan', mode: 'private' }), { message: /^mac: "00:00:5e" is not a MAC address/ });
  t.throws(() => encodeNewLink({ name: 'v', parent: 0, kind: 'macvlan', mode: 'private' }), { message: /^parent: 0 is not a link index/ });
});

test('IPv4 devconf over rtnetlink (keepalived\'s netlink_set_interface_flags) and addrgenmode none: their attribute nesting, read back by decodeLink', (t) => {
  const conf = encodeSetIpv4Conf(7, { arp_ignore: 1, rp_filter: 0 });
  // ifinfomsg(index 7) | IFLA_AF_SPEC { AF_INET { IFLA_INET_CONF { 19: 1, 8: 0 } } }
  t.is(conf.subarray(16).toString('hex'), '1c001a80' + '18000280' + '14000180' + '08001300' + '01000000' + '08000800' + '00000000');
  t.is(encodeAddrGenModeNone(7).subarray(16).toString('hex'), '10001a80' + '0c000a80' + '05000800' + '01000000');
  t.throws(() => encodeSetIpv4Conf(7, {}), { message: /no IPv4 setting/ });
  // A dump of a VMAC: the devconf array (u32 per IPV4_DEVCONF_* from 1) and the macvlan mode are decoded.
  const devconf = Buffer.alloc(33 * 4);
  devconf.writeUInt32LE(1, (19 - 1) * 4); // arp_ignore
  devconf.writeUInt32LE(1, (23 - 1) * 4); // accept_local
  devconf.writeUInt32LE(2, (8 - 1) * 4); // rp_filter
  const name = Buffer.from('0c000300767272702e35310000', 'hex').subarray(0, 12); // IFLA_IFNAME "vrrp.51\0"
  const linkinfo = Buffer.from(IP_LINK_ADD_MACVLAN, 'hex').subarray(16 + 12 + 8 + 8); // IFLA_LINKINFO as sent (after ADDRESS, LINK, IFNAME)
  const afspec = Buffer.concat([Buffer.from([0x90, 0, 0x1a, 0, 0x8c, 0, 2, 0, 0x88, 0, 1, 0]), devconf]);
  const payload = Buffer.concat([Buffer.from('00000100' + '0e000000' + '43100100' + '00000000', 'hex'), name, linkinfo, afspec]);
  const link = decodeLink(payload);
  t.like(link, { name: 'vrrp.51', kind: 'macvlan', macvlanMode: 'private', ipv4Conf: { arp_ignore: 1, accept_local: 1, rp_filter: 2, arp_filter: 0, promote_secondaries: 0 } });
  t.true(vmacMatches({ ...link, parent: 3, mac: '00:00:5e:00:01:33' }, { kind: 'macvlan', name: 'vrrp.51', base: 'eth0', mac: '00:00:5e:00:01:33', xmitBase: false, ipvlanFlags: 'bridge' }, 3));
  t.false(vmacMatches({ ...link, parent: 4, mac: '00:00:5e:00:01:33' }, { kind: 'macvlan', name: 'vrrp.51', base: 'eth0', mac: '00:00:5e:00:01:33', xmitBase: false, ipvlanFlags: 'bridge' }, 3));
});

test('use_vmac, vmac_xmit_base, use_ipvlan read as keepalived reads them, and dumped back', (t) => {
  const r = parse([
    instance('  use_vmac vmac1 02:11:22:33:44:55\n  vmac_xmit_base\n'),
    instance('  use_ipvlan 10.0.0.9/24 ipv1 private\n', '10.0.0.2/24').replace('VI_1', 'VI_2').replace('51', '52'),
    instance('  use_vmac 02:11:22:33:44\n', '10.0.0.3/24').replace('VI_1', 'VI_3').replace('51', '53'),
  ].join(''));
  t.deepEqual(messages(r), []);
  const [a, b, c] = r.config.vrrpInstances;
  t.deepEqual(a?.useVmac, { name: 'vmac1', mac: '02:11:22:33:44:55' });
  t.true(a?.vmacXmitBase);
  t.deepEqual(b?.useIpvlan, { name: 'ipv1', address: '10.0.0.9/24', mode: 'private' });
  t.deepEqual(c?.useVmac, { mac: '02:11:22:33:44' });
  const text = dumpConfig(r.config);
  t.regex(text, /use_vmac vmac1 02:11:22:33:44:55\n {4}vmac_xmit_base\n/);
  t.regex(text, /use_ipvlan ipv1 10\.0\.0\.9\/24 private\n/);
  t.deepEqual(parseConfigText(text, { validate: false }).config.vrrpInstances.map((v) => [v.useVmac, v.useIpvlan]), [[a!.useVmac, undefined], [undefined, b!.useIpvlan], [c!.useVmac, undefined]]);
  // keepalived's refusals: a multicast MAC, the RFC 5798 prefix, a second name, a bad ipvlan type word read as a name.
  const bad = parse(instance('  use_vmac 01:00:5e:00:00:01\n') + instance('  use_vmac 00:00:5e:00:01:07 a\n').replace('VI_1', 'VI_2')
    + instance('  use_vmac a b\n').replace('VI_1', 'VI_3') + instance('  use_ipvlan x y\n').replace('VI_1', 'VI_4'), { validate: false });
  t.deepEqual(messages(bad).filter((m) => m.includes('error')), [
    'keepalived.conf:4:12: error: VMAC MAC address 01:00:5e:00:00:01 is a multicast address',
    'keepalived.conf:12:12: error: VMAC MAC address 00:00:5e:00:01:07 is an RFC 5798 virtual router address; leave it out to get the instance\'s own',
    'keepalived.conf:20:14: error: the VMAC\'s interface name is already given',
    'keepalived.conf:28:16: error: the ipvlan interface name is already given',
  ]);
});

test('conversion: the VMAC of an instance with its defaults; vmac_xmit_base alone is a warning, IPv4 use_ipvlan without an address an error, at their lines', (t) => {
  const conv = (body: string, vip?: string) => convertVrrp(parse(instance(body, vip)).config);
  const plain = conv('  use_vmac\n');
  t.deepEqual(plain.instances[0]?.vmac, { kind: 'macvlan' });
  t.deepEqual(plain.diagnostics, []);
  t.deepEqual(conv('  use_vmac v9 02:00:00:00:00:09\n  vmac_xmit_base\n').instances[0]?.vmac, { kind: 'macvlan', name: 'v9', mac: '02:00:00:00:00:09', xmitBase: true });
  t.deepEqual(messages(conv('  vmac_xmit_base\n').diagnostics), ['keepalived.conf:4:3: warning: vrrp_instance VI_1: vmac_xmit_base is only valid with use_vmac; ignored (as keepalived)']);
  t.deepEqual(messages(conv('  use_ipvlan ipv\n').diagnostics), [
    'keepalived.conf:4:3: error: vrrp_instance VI_1: use_ipvlan on an IPv4 instance needs the ipvlan\'s address (the advert source); keepalived puts the instance in FAULT without one',
  ]);
  t.deepEqual(conv('  use_ipvlan\n', 'fd00::1/64').instances[0]?.vmac, { kind: 'ipvlan' });
  t.deepEqual(messages(conv('  use_vmac\n  use_ipvlan 10.0.0.9\n').diagnostics), [
    'keepalived.conf:5:3: error: vrrp_instance VI_1: use_vmac and use_ipvlan together: an instance has one VMAC or one ipvlan',
  ]);
});

const base: VrrpInstanceConfig = { name: 'VI_1', interface: 'eth0', vrid: 51, virtualAddresses: ['10.0.0.1/24', { address: '10.0.0.2', dev: 'eth1' }] };

test('validation: vrrp.VRID and the virtual router MAC by family, VIPs without a dev on the VMAC (an ipvlan\'s on the interface), field-named refusals', (t) => {
  const r = validateInstance({ ...base, vmac: {} });
  t.deepEqual(r.vmac, { kind: 'macvlan', name: 'vrrp.51', base: 'eth0', mac: '00:00:5e:00:01:33', xmitBase: false, ipvlanFlags: 'bridge' });
  t.deepEqual(r.vips.map((v) => v.dev), ['vrrp.51', 'eth1']);
  t.is(r.interface, 'eth0', 'the adverts\' interface stays the base (tracked); the VMAC is where they leave from');
  t.is(validateInstance({ ...base, version: 3, virtualAddresses: ['fd00::1'], vmac: {} }).vmac?.mac, '00:00:5e:00:02:33');
  t.is(validateInstance({ ...base, vmac: { mac: '02:0a:0b:0c:0d' } }).vmac?.mac, '02:0a:0b:0c:0d:33');
  const ipvlan = validateInstance({ ...base, vmac: { kind: 'ipvlan', name: 'ipv', address: '10.0.0.9/24', ipvlanFlags: 'vepa' } });
  t.deepEqual(ipvlan.vmac, { kind: 'ipvlan', name: 'ipv', base: 'eth0', xmitBase: false, ipvlanFlags: 'vepa', address: { address: '10.0.0.9', prefixLength: 24 } });
  t.deepEqual(ipvlan.vips.map((v) => v.dev), ['eth0', 'eth1'], 'use_ipvlan: VIPs without a dev stay on the interface, as keepalived 2.2.7 puts them');
  const refuse = (c: Partial<VrrpInstanceConfig>, field: string, message: RegExp) => {
    const e = t.throws(() => validateInstance({ ...base, ...c }, 'instances[0]'), { instanceOf: VrrpConfigError });
    t.is(e?.field, field);
    t.regex(e?.message ?? '', message);
  };
  refuse({ vmac: { name: 'eth0' } }, 'instances[0].vmac.name', /is the instance's own interface/);
  refuse({ vmac: { name: 'x'.repeat(16) } }, 'instances[0].vmac.name', /is not an interface name/);
  refuse({ vmac: { mac: '01:00:00:00:00:01' } }, 'instances[0].vmac.mac', /multicast/);
  refuse({ vmac: { kind: 'ipvlan' } }, 'instances[0].vmac.address', /an IPv4 ipvlan needs its address/);
  refuse({ vmac: { kind: 'ipvlan', address: 'fd00::9' } }, 'instances[0].vmac.address', /is IPv6 but the instance is IPv4/);
  refuse({ vmac: { kind: 'ipvlan', address: '10.0.0.9', xmitBase: true } }, 'instances[0].vmac.xmitBase', /only valid with a VMAC/);
  const two = t.throws(() => validateVrrpConfig([{ ...base, vmac: {} }, { ...base, name: 'VI_2', interface: 'eth1', vmac: {} }]), { instanceOf: VrrpConfigError });
  t.is(two?.field, 'instances[1].vmac.name');
});

test('VmacKeeper: our VMAC deleted → a warning at its field and FAULT; made again once its base is there, retried while that fails, reported once', async (t) => {
  const r = validateInstance({ ...base, vmac: {} });
  const driver = { name: 'VI_1', config: r } as unknown as InstanceDriver;
  const ours = new Set(['vrrp.51']);
  const links = new Map<string, Link>([['eth0', { index: 2, name: 'eth0' } as Link]]);
  const events: string[] = [];
  let failures = 1;
  let remade = 0;
  const keeper = new VmacKeeper({
    vmacs: { has: (n: string) => ours.has(n), forget: (n: string) => ours.delete(n) } as unknown as VmacLinks,
    drivers: () => new Map([['VI_1', driver]]), linkByName: (n) => links.get(n), exclusive: (work) => work(),
    remake: async () => {
      if (failures-- > 0) throw new Error('eth0 has no IPv4 address');
      remade++;
    },
    retrack: () => events.push('retrack'), emit: (e) => events.push(`${e.type === 'warning' ? `${e.field}: ${e.message}` : e.type}`), stopped: () => false,
  });
  links.delete('eth0');
  keeper.linkChanged({ kind: 'del', link: { index: 9, name: 'vrrp.51', parent: 2 } as Link });
  t.true(keeper.stale('VI_1'));
  t.deepEqual(events, ['instances[0].vmac: macvlan vrrp.51 on eth0 was deleted (with eth0, or by hand); it is made again when eth0 is there']);
  t.is(remade, 0, 'nothing is made while the base is gone');
  links.set('eth0', { index: 12, name: 'eth0' } as Link);
  keeper.linkChanged({ kind: 'new', link: { index: 12, name: 'eth0' } as Link });
  await until('made again after one failure and a retry', () => remade === 1, 3000);
  t.false(keeper.stale('VI_1'));
  t.deepEqual(events.slice(1), [
    'instances[0].vmac: making vrrp.51 again failed (retried every second): eth0 has no IPv4 address',
    'instances[0].vmac: macvlan vrrp.51 made again on eth0',
    'retrack',
  ]);
});
