// layer: netlink (codec)
// job: validate and decode a run of attributes against a policy table into a typed object.
import {
  type Attr, attrAddress, attrBe16, attrBe32, attrBe64, attrBytes, attrFlag, attrNested, attrS32, attrString,
  attrU16, attrU32, attrU64, attrU8, decodeAttrs,
} from './attr.js';

/** How an attribute's payload is decoded. */
export type AttrKind =
  | 'u8' | 'u16' | 'u32' | 's32' | 'u64' | 'be16' | 'be32'
  | 'string' | 'binary' | 'flag' | 'address' | 'nested' | 'nestedArray';

/** The policy entry for one attribute type. */
export interface AttrSpec {
  /** Property name in the parsed result (`unknown` is reserved). */
  readonly name: string;
  readonly kind: AttrKind;
  /** For `nested` and `nestedArray`: the policy of the nested attributes. */
  readonly policy?: Policy;
  /** Collect every occurrence into an array (otherwise the last occurrence wins, as in the kernel). */
  readonly multi?: true;
}

/** A policy table: attribute type → spec. Declare with `as const satisfies Policy` for typed results. */
export type Policy = { readonly [type: number]: AttrSpec };

/** The decoded value type of one kind. */
export interface KindValues {
  u8: number; u16: number; u32: number; s32: number; u64: bigint; be16: number; be32: number;
  string: string; binary: Buffer; flag: true; address: string;
}

type SpecValue<S extends AttrSpec> =
  S['kind'] extends keyof KindValues ? KindValues[S['kind']]
    : S['kind'] extends 'nested' ? ParsedAttrs<NestedPolicy<S>>
      : S['kind'] extends 'nestedArray' ? ParsedAttrs<NestedPolicy<S>>[]
        : never;

type NestedPolicy<S extends AttrSpec> = S['policy'] extends Policy ? S['policy'] : Record<never, never>;

type FieldValue<S extends AttrSpec> = S extends { readonly multi: true } ? SpecValue<S>[] : SpecValue<S>;

/**
 * The typed result of parseAttrs for policy `P`: one optional property per spec, named by
 * `name`, plus `unknown`, the attributes the policy does not list (kept, not dropped).
 */
export type ParsedAttrs<P extends Policy> = {
  -readonly [K in keyof P as P[K] extends AttrSpec ? P[K]['name'] : never]?: P[K] extends AttrSpec ? FieldValue<P[K]> : never;
} & { unknown: Attr[] };

/**
 * Decode one attribute by kind. u16/u32/u64 honour NLA_F_NET_BYTEORDER (read big-endian when it
 * is set, as ipset sends them); be16/be32 are always big-endian.
 */
export function decodeAttrValue(attr: Attr, spec: AttrSpec): unknown {
  switch (spec.kind) {
    case 'u8': return attrU8(attr);
    case 'u16': return attr.netByteOrder ? attrBe16(attr) : attrU16(attr);
    case 'u32': return attr.netByteOrder ? attrBe32(attr) : attrU32(attr);
    case 's32': return attrS32(attr);
    case 'u64': return attr.netByteOrder ? attrBe64(attr) : attrU64(attr);
    case 'be16': return attrBe16(attr);
    case 'be32': return attrBe32(attr);
    case 'string': return attrString(attr);
    case 'binary': return attrBytes(attr);
    case 'flag': return attrFlag(attr);
    case 'address': return attrAddress(attr);
    case 'nested': return parseAttrs(attrNested(attr), spec.policy ?? {});
    case 'nestedArray': return attrNested(attr).map((item) => parseAttrs(attrNested(item), spec.policy ?? {}));
  }
}

/**
 * Validate and decode attributes (a buffer of them, or already decoded ones) against `policy`.
 * Every listed attribute must have the size its kind needs, else NetlinkDecodeError naming the
 * type and the expected and actual sizes. Attributes not in the policy go to `unknown`.
 *
 * @example
 * const policy = { 1: { name: 'address', kind: 'address' }, 3: { name: 'label', kind: 'string' } } as const satisfies Policy;
 * const { address, label } = parseAttrs(buf, policy); // address: string | undefined
 */
export function parseAttrs<const P extends Policy>(input: Buffer | readonly Attr[], policy: P): ParsedAttrs<P> {
  const attrs = Buffer.isBuffer(input) ? decodeAttrs(input) : input;
  const out: Record<string, unknown> = {};
  const unknown: Attr[] = [];
  for (const attr of attrs) {
    const spec: AttrSpec | undefined = Object.hasOwn(policy, attr.type) ? policy[attr.type] : undefined;
    if (!spec) {
      unknown.push(attr);
      continue;
    }
    if (spec.name === 'unknown') throw new TypeError(`policy for attribute type ${attr.type} uses the reserved name "unknown"`);
    const value = decodeAttrValue(attr, spec);
    if (spec.multi) {
      const list = (out[spec.name] ??= []) as unknown[];
      list.push(value);
    } else {
      out[spec.name] = value;
    }
  }
  out['unknown'] = unknown;
  return out as ParsedAttrs<P>;
}
