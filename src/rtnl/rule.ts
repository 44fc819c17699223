// layer: kernel client (rtnetlink)
// job: struct fib_rule_hdr + FRA_* codec: policy-routing rule requests (add/delete) and the Rule a dump returns.
import { isIPv4, isIPv6 } from 'node:net';
import { readU32Host, writeU32Host } from '../bytes.js';
import { AttrWriter } from '../netlink/attr.js';
import { NetlinkDecodeError } from '../netlink/errors.js';
import { parseAttrs, type Policy } from '../netlink/policy.js';
import {
  AF_INET, AF_INET6, FIB_RULE_INVERT, FRA_DST, FRA_FWMARK, FRA_FWMASK, FRA_GOTO, FRA_IIFNAME, FRA_OIFNAME, FRA_PRIORITY,
  FRA_PROTOCOL, FRA_SRC, FRA_TABLE, IFNAME_MAX, RT_TABLE_MAIN, RT_TABLE_UNSPEC, RULE_ACTIONS, type RuleAction,
} from './constants.js';

/** sizeof(struct fib_rule_hdr). */
export const FIB_RULE_HDR_LEN = 12;

/** struct fib_rule_hdr. */
export interface FibRuleHdr {
  family: number;
  dstLength: number;
  srcLength: number;
  tos: number;
  table: number;
  action: number;
  flags: number;
}

/** A rule as lvskit adds, deletes and reads it (`ip rule add from A/N to B/M iif I oif O fwmark M/K table T priority P`). */
export interface RuleSpec {
  family: 4 | 6;
  /** Source network (`from`). */
  from?: string;
  fromLength?: number;
  /** Destination network (`to`). */
  to?: string;
  toLength?: number;
  /** Default `table` (to table `table`, default main). */
  action?: RuleAction;
  /** For action `table`. */
  table?: number;
  /** For action `goto`: the priority of the rule to go to. */
  goto?: number;
  /** FRA_PRIORITY (`priority`, `preference`, `order`). */
  priority?: number;
  iif?: string;
  oif?: string;
  fwmark?: number;
  fwmask?: number;
  tos?: number;
  /** `not`: FIB_RULE_INVERT. */
  invert?: boolean;
  /** FRA_PROTOCOL (RTPROT_*); not sent when absent. */
  protocol?: number;
}

export function encodeFibRuleHdr(h: FibRuleHdr): Buffer {
  const buf = Buffer.alloc(FIB_RULE_HDR_LEN);
  buf.writeUInt8(h.family, 0);
  buf.writeUInt8(h.dstLength, 1);
  buf.writeUInt8(h.srcLength, 2);
  buf.writeUInt8(h.tos, 3);
  buf.writeUInt8(h.table, 4);
  buf.writeUInt8(h.action, 7);
  writeU32Host(buf, h.flags, 8);
  return buf;
}

export function decodeFibRuleHdr(payload: Buffer): FibRuleHdr {
  if (payload.length < FIB_RULE_HDR_LEN) {
    throw new NetlinkDecodeError(0, `fib_rule_hdr needs ${FIB_RULE_HDR_LEN} bytes, got ${payload.length}`, { expected: FIB_RULE_HDR_LEN, actual: payload.length });
  }
  return {
    family: payload.readUInt8(0), dstLength: payload.readUInt8(1), srcLength: payload.readUInt8(2), tos: payload.readUInt8(3),
    table: payload.readUInt8(4), action: payload.readUInt8(7), flags: readU32Host(payload, 8),
  };
}

const isFamily = (address: string, family: 4 | 6): boolean => (family === 4 ? isIPv4(address) : isIPv6(address) && !address.includes('%'));

/** Check a RuleSpec before anything is sent; throws TypeError/RangeError naming the field. */
export function validateRuleSpec(spec: RuleSpec): void {
  const max = spec.family === 4 ? 32 : 128;
  for (const [field, address, length] of [['from', spec.from, spec.fromLength], ['to', spec.to, spec.toLength]] as const) {
    if (address === undefined) continue;
    if (!isFamily(address, spec.family)) throw new TypeError(`${field}: ${JSON.stringify(address)} is not an IPv${spec.family} address`);
    if (length !== undefined && (!Number.isInteger(length) || length < 0 || length > max)) throw new RangeError(`${field}Length: ${length} is outside 0..${max}`);
  }
  if (spec.action !== undefined && !Object.hasOwn(RULE_ACTIONS, spec.action)) throw new TypeError(`action: unknown rule action ${JSON.stringify(spec.action)}`);
  if ((spec.action ?? 'table') === 'goto' && spec.goto === undefined) throw new TypeError('goto: a goto rule needs the priority to go to');
  for (const [field, name] of [['iif', spec.iif], ['oif', spec.oif]] as const) {
    if (name !== undefined && (name === '' || Buffer.byteLength(name) > IFNAME_MAX)) throw new RangeError(`${field}: ${JSON.stringify(name)} must be 1..${IFNAME_MAX} bytes`);
  }
  for (const [field, v] of [['table', spec.table], ['priority', spec.priority], ['goto', spec.goto], ['fwmark', spec.fwmark], ['fwmask', spec.fwmask]] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 0xffffffff)) throw new RangeError(`${field}: ${v} is outside 0..4294967295`);
  }
}

/** Payload of an RTM_NEWRULE or RTM_DELRULE for `spec` (validated first), in iproute2's attribute order. */
export function encodeRuleRequest(spec: RuleSpec): Buffer {
  validateRuleSpec(spec);
  const action = spec.action ?? 'table';
  const table = action === 'table' ? spec.table ?? RT_TABLE_MAIN : RT_TABLE_UNSPEC;
  const max = spec.family === 4 ? 32 : 128;
  const header = encodeFibRuleHdr({
    family: spec.family === 4 ? AF_INET : AF_INET6,
    dstLength: spec.to !== undefined ? spec.toLength ?? max : 0, srcLength: spec.from !== undefined ? spec.fromLength ?? max : 0,
    tos: spec.tos ?? 0, table: table < 256 ? table : RT_TABLE_UNSPEC, action: RULE_ACTIONS[action], flags: spec.invert ? FIB_RULE_INVERT : 0,
  });
  const w = new AttrWriter();
  if (spec.from !== undefined) w.address(FRA_SRC, spec.from);
  if (spec.to !== undefined) w.address(FRA_DST, spec.to);
  if (spec.priority !== undefined) w.u32(FRA_PRIORITY, spec.priority);
  if (spec.iif !== undefined) w.string(FRA_IIFNAME, spec.iif);
  if (spec.oif !== undefined) w.string(FRA_OIFNAME, spec.oif);
  if (spec.fwmark !== undefined) w.u32(FRA_FWMARK, spec.fwmark);
  if (spec.fwmask !== undefined) w.u32(FRA_FWMASK, spec.fwmask);
  if (table >= 256) w.u32(FRA_TABLE, table);
  if (action === 'goto') w.u32(FRA_GOTO, spec.goto!);
  if (spec.protocol !== undefined) w.u8(FRA_PROTOCOL, spec.protocol);
  return Buffer.concat([header, w.toBuffer()]);
}

/** Payload of an RTM_GETRULE dump of one family (or both). */
export function encodeRuleDump(family?: 4 | 6): Buffer {
  return encodeFibRuleHdr({ family: family === 4 ? AF_INET : family === 6 ? AF_INET6 : 0, dstLength: 0, srcLength: 0, tos: 0, table: 0, action: 0, flags: 0 });
}

const rulePolicy = {
  [FRA_DST]: { name: 'dst', kind: 'address' },
  [FRA_SRC]: { name: 'src', kind: 'address' },
  [FRA_IIFNAME]: { name: 'iif', kind: 'string' },
  [FRA_OIFNAME]: { name: 'oif', kind: 'string' },
  [FRA_GOTO]: { name: 'goto', kind: 'u32' },
  [FRA_PRIORITY]: { name: 'priority', kind: 'u32' },
  [FRA_FWMARK]: { name: 'fwmark', kind: 'u32' },
  [FRA_FWMASK]: { name: 'fwmask', kind: 'u32' },
  [FRA_TABLE]: { name: 'table', kind: 'u32' },
  [FRA_PROTOCOL]: { name: 'protocol', kind: 'u8' },
} as const satisfies Policy;

/** Decode the payload of an RTM_NEWRULE / RTM_DELRULE message; undefined for families other than IPv4/IPv6. */
export function decodeRule(payload: Buffer): RuleSpec | undefined {
  const h = decodeFibRuleHdr(payload);
  if (h.family !== AF_INET && h.family !== AF_INET6) return undefined;
  const a = parseAttrs(payload.subarray(FIB_RULE_HDR_LEN), rulePolicy);
  const action = (Object.keys(RULE_ACTIONS) as RuleAction[]).find((k) => RULE_ACTIONS[k] === h.action);
  if (!action) throw new NetlinkDecodeError(7, `fib_rule_hdr action ${h.action} is not one lvskit knows`);
  const r: RuleSpec = { family: h.family === AF_INET ? 4 : 6, action };
  if (a.src !== undefined) { r.from = a.src; r.fromLength = h.srcLength; }
  if (a.dst !== undefined) { r.to = a.dst; r.toLength = h.dstLength; }
  if (action === 'table') r.table = a.table ?? h.table;
  if (a.goto !== undefined) r.goto = a.goto;
  if (a.priority !== undefined) r.priority = a.priority;
  if (a.iif !== undefined) r.iif = a.iif;
  if (a.oif !== undefined) r.oif = a.oif;
  if (a.fwmark !== undefined) r.fwmark = a.fwmark;
  if (a.fwmask !== undefined) r.fwmask = a.fwmask;
  if (h.tos !== 0) r.tos = h.tos;
  if (h.flags & FIB_RULE_INVERT) r.invert = true;
  if (a.protocol !== undefined) r.protocol = a.protocol;
  return r;
}
