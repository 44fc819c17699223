// layer: behaviour (vrrp)
// job: the numbers VRRP v2 (RFC 3768) and v3 (RFC 5798, RFC 9568) fix on the wire, and keepalived's defaults.

/** IP protocol number of VRRP (IPPROTO_VRRP). */
export const IPPROTO_VRRP = 112;
/** RFC 5798 §5.1.1.2: the IPv4 multicast group of VRRP. */
export const VRRP_GROUP_IPV4 = '224.0.0.18';
/** RFC 5798 §5.1.2.2: the IPv6 multicast group of VRRP. */
export const VRRP_GROUP_IPV6 = 'ff02::12';
/** RFC 3768 §5.2.3, RFC 5798 §5.1.1.3: TTL / hop limit of every advertisement; receivers drop others. */
export const VRRP_TTL = 255;
/** RFC 5798 §5.2.2: the only packet type, ADVERTISEMENT. */
export const VRRP_TYPE_ADVERTISEMENT = 1;

/** RFC 3768 §5.3.4 / RFC 5798 §5.2.4: priority of the router that owns the addresses. */
export const PRIORITY_OWNER = 255;
/** RFC 3768 §5.3.4 / RFC 5798 §5.2.4: priority 0, "stop participating": the backup takes over after Skew_Time. */
export const PRIORITY_STOP = 0;

/** VRRP header without addresses: version/type, VRID, priority, count, (auth type, adver int | rsvd/max adver int), checksum. */
export const VRRP_HEADER_BYTES = 8;
/** RFC 3768 §5.3.10: the v2 Authentication Data field. */
export const VRRP_AUTH_DATA_BYTES = 8;
/** struct iphdr without options, as keepalived writes it with IP_HDRINCL. */
export const IPV4_HEADER_BYTES = 20;
/** Offset of the checksum in the VRRP header (for IPV6_CHECKSUM). */
export const VRRP_CHECKSUM_OFFSET = 6;

/** RFC 3768 §5.3.6 Auth Type: none. */
export const AUTH_NONE = 0;
/** RFC 2338 §5.3.6 Auth Type 1: simple text password (keepalived `auth_type PASS`). */
export const AUTH_PASS = 1;
/** RFC 2338 §5.3.6 Auth Type 2: IP Authentication Header (keepalived `auth_type AH`; not supported here). */
export const AUTH_AH = 2;

/** IPv4 TOS keepalived sets on adverts: precedence "internetwork control". */
export const TOS_NETWORK_CONTROL = 0xc0;
/** IPV6_TCLASS (linux/in6.h); absent from the addon's constant table, so named here. */
export const IPV6_TCLASS = 67;

/** RFC 3768 §5.3.7: v2 Adver Int is whole seconds in 8 bits. */
export const V2_MAX_ADVERT_INTERVAL_S = 255;
/** RFC 5798 §5.2.7: v3 Max Adver Int is centiseconds in 12 bits. */
export const V3_MAX_ADVERT_INTERVAL_CS = 4095;

/** keepalived defaults for gratuitous ARP / unsolicited NA after becoming MASTER. */
export const GARP_DEFAULTS = {
  /** `garp_master_delay`: a second round this long after the transition (0: none). */
  masterDelayMs: 5000,
  /** `garp_master_repeat`: messages per address in each round. */
  masterRepeat: 5,
  /** `garp_master_refresh`: a round every this long while MASTER (0: off). */
  masterRefreshMs: 0,
  /** `garp_master_refresh_repeat`: messages per address in each refresh round. */
  masterRefreshRepeat: 1,
} as const;
