// layer: config (pure)
// job: the vrrp_instance keywords of keepalived's VMAC and ipvlan interfaces: use_vmac [NAME] [MAC], vmac_xmit_base, use_ipvlan [NAME] [ADDRESS] [bridge|private|vepa].
import type { VrrpInstance } from '../model.js';
import { parseAddressPrefix } from '../values.js';
import { flag, kw, type BuildContext, type Keyword } from './types.js';
import type { Token } from '../lexer.js';

/** keepalived's dev_name_valid: 1..15 bytes, no whitespace, `/` or `:`. */
function interfaceName(cx: BuildContext, tok: Token, what: string): string | undefined {
  if (Buffer.byteLength(tok.text) > 15 || /[\s/:]/.test(tok.text) || tok.text === '.' || tok.text === '..') {
    cx.error(tok, `${what} interface name \`${tok.text}\` is too long or has invalid characters (at most 15 bytes, no \`/\`, \`:\` or spaces)`);
    return undefined;
  }
  return tok.text;
}

/** A VMAC's MAC as keepalived reads it: six hex octets, or five (the VRID is the sixth); not multicast, not the RFC 5798 prefix. */
function vmacAddress(cx: BuildContext, tok: Token): string | undefined {
  const octets = tok.text.replace(/:$/, '').split(':');
  if ((octets.length !== 5 && octets.length !== 6) || !octets.every((o) => /^[0-9a-f]{1,2}$/i.test(o))) {
    cx.error(tok, `VMAC MAC address \`${tok.text}\` is not six hex octets (or five, the VRID then being the sixth)`);
    return undefined;
  }
  const bytes = octets.map((o) => parseInt(o, 16));
  if ((bytes[0]! & 1) !== 0) {
    cx.error(tok, `VMAC MAC address ${tok.text} is a multicast address`);
    return undefined;
  }
  if (bytes[0] === 0 && bytes[1] === 0 && bytes[2] === 0x5e && bytes[3] === 0 && (bytes[4] === 1 || bytes[4] === 2)) {
    cx.error(tok, `VMAC MAC address ${tok.text} is an RFC 5798 virtual router address; leave it out to get the instance's own`);
    return undefined;
  }
  return octets.map((o) => o.padStart(2, '0').toLowerCase()).join(':');
}

const IPVLAN_MODES = ['bridge', 'private', 'vepa'] as const;

/** `use_vmac`, `vmac_xmit_base` and `use_ipvlan` of a vrrp_instance. */
export const VMAC_KEYWORDS: Keyword<VrrpInstance>[] = [
  kw('use_vmac', 0, 2, '[<IFNAME>] [<MAC>]', (vi, st, cx) => {
    const v: NonNullable<VrrpInstance['useVmac']> = {};
    for (const tok of st.args) {
      // As keepalived: a word with `:` is the MAC (interface names cannot hold one), any other the name.
      if (tok.text.includes(':')) {
        if (v.mac !== undefined) cx.error(tok, 'the VMAC\'s MAC address is already given');
        else {
          const mac = vmacAddress(cx, tok);
          if (mac !== undefined) v.mac = mac;
        }
      } else if (v.name !== undefined) cx.error(tok, 'the VMAC\'s interface name is already given');
      else {
        const name = interfaceName(cx, tok, 'VMAC');
        if (name !== undefined) v.name = name;
      }
    }
    vi.useVmac = v;
  }),
  flag('vmac_xmit_base', (vi, v) => { vi.vmacXmitBase = v; }),
  kw('use_ipvlan', 0, 3, '[<IFNAME>] [<ADDRESS>[/<LEN>]] [bridge|private|vepa]', (vi, st, cx) => {
    const v: NonNullable<VrrpInstance['useIpvlan']> = {};
    for (const tok of st.args) {
      const mode = IPVLAN_MODES.find((m) => m === tok.text);
      const addr = mode ? undefined : parseAddressPrefix(tok.text);
      if (mode) {
        if (v.mode !== undefined) cx.error(tok, `the ipvlan type is already given (${v.mode})`);
        else v.mode = mode;
      } else if (addr !== undefined) {
        if (addr === 'bad-prefix') cx.error(tok, `\`${tok.text}\`: the prefix length must be 0..32 for IPv4 and 0..128 for IPv6`, 'out-of-range');
        else if (v.address !== undefined) cx.error(tok, 'the ipvlan address is already given');
        else v.address = addr.prefixLength === undefined ? addr.address : `${addr.address}/${addr.prefixLength}`;
      } else if (v.name !== undefined) cx.error(tok, 'the ipvlan interface name is already given');
      else {
        const name = interfaceName(cx, tok, 'ipvlan');
        if (name !== undefined) v.name = name;
      }
    }
    vi.useIpvlan = v;
  }),
];
