// layer: config (pure)
// job: reading route and rule lines word by word as keepalived does: a cursor, networks, addresses, numbers, tables, the line's family.
import type { Token } from '../lexer.js';
import type { AddressFamily } from '../model.js';
import { lookupRouteTable } from '../rt-tables.js';
import { parseAddressPrefix } from '../values.js';
import { networkAddress } from '../../bytes.js';
import type { BuildContext } from './types.js';

export const q = (s: string): string => `\`${s}\``;

/** A cursor over one line's words with keepalived's "the next word is the value" reading. */
export class Words {
  i = 0;
  constructor(readonly words: readonly Token[], private readonly cx: BuildContext, private readonly what: string) {}
  get done(): boolean { return this.i >= this.words.length; }
  peek(): Token | undefined { return this.words[this.i]; }
  next(): Token | undefined { return this.words[this.i++]; }
  /** The value after option `opt`; an error at the option when the line ends. */
  value(opt: Token): Token | undefined {
    const v = this.next();
    if (!v) this.cx.error(opt, `${this.what}: ${q(opt.text)} needs a value`, 'missing-argument');
    return v;
  }
}

/** A network `ADDR[/LEN]` or `default`: the address must be the network's (no host bits), as the kernel requires. */
export function network(tok: Token, cx: BuildContext, what: string, family: AddressFamily | undefined): { address: string; prefixLength: number; family: AddressFamily | undefined } | undefined {
  // `default` takes the line's family, which may be given after it (`inet6`); the caller settles it at the end.
  if (tok.text === 'default' || tok.text === 'all') return { address: family === 6 ? '::' : '0.0.0.0', prefixLength: 0, family: undefined };
  const a = parseAddressPrefix(tok.text);
  if (a === 'bad-prefix') {
    cx.error(tok, `${what}: ${q(tok.text)}: the prefix length must be 0..32 for IPv4 and 0..128 for IPv6`, 'out-of-range');
    return undefined;
  }
  if (!a) {
    cx.error(tok, `${what}: expected an address[/prefix], not ${q(tok.text)}`);
    return undefined;
  }
  const prefixLength = a.prefixLength ?? (a.family === 4 ? 32 : 128);
  const net = networkAddress(a.address, prefixLength);
  if (net !== a.address) {
    cx.error(tok, `${what}: ${q(tok.text)} has host bits set; the network is ${net}/${prefixLength}`);
    return undefined;
  }
  return { address: a.address, prefixLength, family: a.family };
}

/** Records the family a word implies; an error when the line already has the other one. */
export class FamilyOf {
  family: AddressFamily | undefined;
  constructor(private readonly cx: BuildContext, private readonly what: string) {}
  set(f: AddressFamily, tok: Token): boolean {
    if (this.family === undefined || this.family === f) {
      this.family = f;
      return true;
    }
    this.cx.error(tok, `${this.what}: cannot mix IPv4 and IPv6 (${q(tok.text)})`, 'conflict');
    return false;
  }
}

export function address(tok: Token | undefined, cx: BuildContext, fam: FamilyOf, what: string): string | undefined {
  if (!tok) return undefined;
  const a = cx.ip(tok, `${what} address`);
  return a && fam.set(a.family, tok) ? a.address : undefined;
}

export function u32(tok: Token | undefined, cx: BuildContext, what: string): number | undefined {
  if (!tok) return undefined;
  if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(tok.text) || Number(tok.text) > 0xffffffff) {
    cx.error(tok, `${what} expects a whole number 0..4294967295, not ${q(tok.text)}`);
    return undefined;
  }
  return Number(tok.text);
}

export function table(tok: Token | undefined, cx: BuildContext, what: string): number | undefined {
  if (!tok) return undefined;
  const id = lookupRouteTable(tok.text, cx.routeTables());
  if (id === undefined) {
    cx.error(tok, `${what}: routing table ${q(tok.text)} not found (a number, or a name in /etc/iproute2/rt_tables: ${[...cx.routeTables().keys()].join(', ')})`);
    return undefined;
  }
  if (id === 0) {
    cx.error(tok, `${what}: table 0 is not valid`, 'out-of-range');
    return undefined;
  }
  return id;
}
