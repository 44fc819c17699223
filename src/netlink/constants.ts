// layer: netlink (codec)
// job: the netlink constants of <linux/netlink.h>, under the kernel's own names, plus alignment helpers.

// ---- struct nlmsghdr layout -------------------------------------------------------------

/** NLMSG_ALIGNTO: netlink messages start on 4-byte boundaries. */
export const NLMSG_ALIGNTO = 4;
/** NLMSG_HDRLEN: size of struct nlmsghdr (len u32, type u16, flags u16, seq u32, pid u32). */
export const NLMSG_HDRLEN = 16;

/** NLMSG_ALIGN(len): `len` rounded up to the next multiple of NLMSG_ALIGNTO. */
export function nlmsgAlign(length: number): number {
  // nlmsg_len is a u32: from 2^31 on, the bit trick's 32-bit arithmetic would wrap to a negative number.
  if (length > 0x7ffffff0) return Math.ceil(length / NLMSG_ALIGNTO) * NLMSG_ALIGNTO;
  return (length + NLMSG_ALIGNTO - 1) & ~(NLMSG_ALIGNTO - 1);
}

// ---- control message types (nlmsg_type < NLMSG_MIN_TYPE) -------------------------------

/** NLMSG_NOOP: nothing; to be ignored. */
export const NLMSG_NOOP = 0x1;
/** NLMSG_ERROR: error or acknowledgement (struct nlmsgerr, error 0 = ACK). */
export const NLMSG_ERROR = 0x2;
/** NLMSG_DONE: end of a multipart (dump) reply. */
export const NLMSG_DONE = 0x3;
/** NLMSG_OVERRUN: data lost. */
export const NLMSG_OVERRUN = 0x4;
/** NLMSG_MIN_TYPE: types below this are reserved control messages. */
export const NLMSG_MIN_TYPE = 0x10;

// ---- nlmsg_flags: standard ---------------------------------------------------------------

/** NLM_F_REQUEST: it is a request message. */
export const NLM_F_REQUEST = 0x01;
/** NLM_F_MULTI: multipart message, terminated by NLMSG_DONE. */
export const NLM_F_MULTI = 0x02;
/** NLM_F_ACK: reply with an ACK, with zero or an error code. */
export const NLM_F_ACK = 0x04;
/** NLM_F_ECHO: echo this request (receive the resulting notifications). */
export const NLM_F_ECHO = 0x08;
/** NLM_F_DUMP_INTR: the dump was inconsistent because the dumped set changed meanwhile. */
export const NLM_F_DUMP_INTR = 0x10;
/** NLM_F_DUMP_FILTERED: the dump was filtered as requested. */
export const NLM_F_DUMP_FILTERED = 0x20;

// ---- nlmsg_flags: modifiers to GET requests -----------------------------------------------

/** NLM_F_ROOT: specify tree root. */
export const NLM_F_ROOT = 0x100;
/** NLM_F_MATCH: return all matching. */
export const NLM_F_MATCH = 0x200;
/** NLM_F_ATOMIC: atomic GET. */
export const NLM_F_ATOMIC = 0x400;
/** NLM_F_DUMP: NLM_F_ROOT | NLM_F_MATCH. */
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;

// ---- nlmsg_flags: modifiers to NEW requests -----------------------------------------------

/** NLM_F_REPLACE: override existing. */
export const NLM_F_REPLACE = 0x100;
/** NLM_F_EXCL: do not touch, if it exists. */
export const NLM_F_EXCL = 0x200;
/** NLM_F_CREATE: create, if it does not exist. */
export const NLM_F_CREATE = 0x400;
/** NLM_F_APPEND: add to end of list. */
export const NLM_F_APPEND = 0x800;

// ---- nlmsg_flags: modifiers to DELETE requests --------------------------------------------

/** NLM_F_NONREC: do not delete recursively. */
export const NLM_F_NONREC = 0x100;
/** NLM_F_BULK: delete multiple objects. */
export const NLM_F_BULK = 0x200;

// ---- nlmsg_flags: on NLMSG_ERROR (acknowledgement) messages --------------------------------

/** NLM_F_CAPPED: the request was capped; only its header follows the error code. */
export const NLM_F_CAPPED = 0x100;
/** NLM_F_ACK_TLVS: extended ACK TLVs (enum nlmsgerr_attrs) were included. */
export const NLM_F_ACK_TLVS = 0x200;

// ---- enum nlmsgerr_attrs: extended ACK TLVs ------------------------------------------------

/** NLMSGERR_ATTR_UNUSED. */
export const NLMSGERR_ATTR_UNUSED = 0;
/** NLMSGERR_ATTR_MSG: error message string. */
export const NLMSGERR_ATTR_MSG = 1;
/** NLMSGERR_ATTR_OFFS: u32 offset of the invalid attribute in the original message, from its header. */
export const NLMSGERR_ATTR_OFFS = 2;
/** NLMSGERR_ATTR_COOKIE: binary cookie identifying a created object or operation. */
export const NLMSGERR_ATTR_COOKIE = 3;
/** NLMSGERR_ATTR_POLICY: nested policy description of a rejected attribute. */
export const NLMSGERR_ATTR_POLICY = 4;
/** NLMSGERR_ATTR_MISS_TYPE: u32 type of a missing required attribute. */
export const NLMSGERR_ATTR_MISS_TYPE = 5;
/** NLMSGERR_ATTR_MISS_NEST: u32 offset of the nest in which an attribute was missing. */
export const NLMSGERR_ATTR_MISS_NEST = 6;

// ---- struct nlattr --------------------------------------------------------------------------

/** NLA_F_NESTED: the attribute's payload is a set of attributes. */
export const NLA_F_NESTED = 1 << 15;
/** NLA_F_NET_BYTEORDER: the attribute's payload is in network byte order. */
export const NLA_F_NET_BYTEORDER = 1 << 14;
/** NLA_TYPE_MASK: ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER), as a 16-bit mask. */
export const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;
/** NLA_ALIGNTO: attributes start on 4-byte boundaries. */
export const NLA_ALIGNTO = 4;
/** NLA_HDRLEN: size of struct nlattr (nla_len u16, nla_type u16). */
export const NLA_HDRLEN = 4;

/** NLA_ALIGN(len): `len` rounded up to the next multiple of NLA_ALIGNTO. */
export function nlaAlign(length: number): number {
  return (length + NLA_ALIGNTO - 1) & ~(NLA_ALIGNTO - 1);
}
