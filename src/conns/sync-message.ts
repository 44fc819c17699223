// layer: kernel client (IPVS connections)
// job: the IPVS sync protocol's message model, layout constants and the typed decode error (net/netfilter/ipvs/ip_vs_sync.c).

/** SYNC_PROTO_VER: the version byte of a v1 message header. */
export const SYNC_PROTO_VER = 1;
/** sizeof(struct ip_vs_sync_mesg): reserved u8, syncid u8, size be16, nr_conns u8, version s8, spare u16. */
export const SYNC_HEADER_V1_BYTES = 8;
/** sizeof(struct ip_vs_sync_mesg_v0): nr_conns u8, syncid u8, size be16. */
export const SYNC_HEADER_V0_BYTES = 4;
/** sizeof(struct ip_vs_sync_v4). */
export const SYNC_CONN_V4_BYTES = 36;
/** sizeof(struct ip_vs_sync_v6). */
export const SYNC_CONN_V6_BYTES = 72;
/** SIMPLE_CONN_SIZE: sizeof(struct ip_vs_sync_conn_v0). */
export const SYNC_CONN_V0_BYTES = 24;
/** sizeof(struct ip_vs_sync_conn_options): two struct ip_vs_seq of three be32 each. */
export const SYNC_SEQ_OPTION_BYTES = 24;
/** STYPE_F_INET6: bit 0 of a v1 connection's type byte. */
export const STYPE_F_INET6 = 1;
/** SVER_SHIFT / SVER_MASK: a v1 connection's ver_size is 4 bits of version and 12 bits of size. */
export const SVER_SHIFT = 12;
/** SVER_MASK: the size bits of a v1 connection's ver_size. */
export const SVER_MASK = 0x0fff;
/** IPVS_OPT_SEQ_DATA, IPVS_OPT_PE_DATA, IPVS_OPT_PE_NAME: v1 option types. */
export const IPVS_OPT_SEQ_DATA = 1;
/** IPVS_OPT_PE_DATA: a v1 option carrying persistence-engine data. */
export const IPVS_OPT_PE_DATA = 2;
/** IPVS_OPT_PE_NAME: a v1 option carrying the persistence engine's name. */
export const IPVS_OPT_PE_NAME = 3;
/** IPVS_OPT_F_PARAM: an option type with this bit set may be skipped when unknown; without it, it is mandatory. */
export const IPVS_OPT_F_PARAM = 1 << (7 - 1);

/** struct ip_vs_seq: TCP sequence adjustment (NAT with application helpers). Host-order numbers. */
export interface SyncSeq {
  initSeq: number;
  delta: number;
  previousDelta: number;
}

/** One connection (or persistence template) as the master describes it. */
export interface SyncConn {
  /** Family of all three addresses (the kernel syncs only pools of one family). */
  family: 'inet' | 'inet6';
  /** IPPROTO_* number. */
  protocol: number;
  /** IP_VS_CONN_F_* bits as sent (host order; v0 carries only 16 bits). */
  flags: number;
  /** The kernel's state number for the protocol (IP_VS_TCP_S_*, ...); for templates IP_VS_CTPL_S_*. */
  state: number;
  clientAddress: string;
  clientPort: number;
  virtualAddress: string;
  virtualPort: number;
  destAddress: string;
  destPort: number;
  /** Firewall mark of the service (v1; 0 in v0). */
  fwmark: number;
  /** The entry's timeout in seconds (v1); 0 = the receiver's default for the state (always 0 in v0). */
  timeoutSec: number;
  /** Sequence adjustment data (IPVS_OPT_SEQ_DATA, or v0's trailing options). */
  inSeq?: SyncSeq;
  outSeq?: SyncSeq;
  /** Persistence-engine data and name (IPVS_OPT_PE_DATA / IPVS_OPT_PE_NAME), e.g. a SIP Call-ID and `sip`. */
  peData?: Buffer;
  peName?: string;
}

/** Why a single connection of a message was skipped (the kernel does the same and goes on with the next). */
export type SyncConnRejection =
  | 'unknown-mandatory-option'
  | 'unsupported-protocol'
  | 'bad-state'
  | 'pe-data-without-name';

/** A decoded datagram. */
export interface SyncMessage {
  version: 0 | 1;
  syncId: number;
  /** The connections the kernel would apply. */
  conns: SyncConn[];
  /** Connections skipped, by index in the message. */
  rejected: { index: number; reason: SyncConnRejection }[];
  /** Optional (IPVS_OPT_F_PARAM) options of unknown type that were skipped. */
  skippedOptions: number;
}

/** Why a whole datagram was dropped. */
export type SyncDropReason =
  /** Shorter than a header, or than the size it announces, or a connection or option cut short. */
  | 'truncated'
  /** Longer than the size it announces. */
  | 'length-mismatch'
  /** A v1 header whose version is not 1 or whose spare bytes are not zero, or a connection version other than 0. */
  | 'wrong-version'
  /** A connection or option length reaching past the end of the message. */
  | 'length-past-end'
  /** A connection type byte that is neither IPv4 (0) nor IPv6 (1). */
  | 'bad-conn-type'
  /** A malformed known option: wrong length, repeated, too long. */
  | 'bad-option'
  /** A sync id other than the one expected. */
  | 'sync-id';

/** A datagram that is not a sync message the kernel would accept. Carries the reason and the byte offset. */
export class SyncDecodeError extends Error {
  override name = 'SyncDecodeError';
  readonly code = 'ERR_IPVS_SYNC_DECODE';

  constructor(readonly reason: SyncDropReason, readonly offset: number, detail: string) {
    super(`IPVS sync message dropped (${reason}) at byte ${offset}: ${detail}`);
  }
}
