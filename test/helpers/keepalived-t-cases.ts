// layer: test helpers
// job: values `keepalived -t` refuses although keepalived itself would correct them and run (found by trying keepalived 2.2.7), in a small site; lvskit check must refuse each too.
/** The base site: one VRRP instance on eth0, one TCP virtual server with one checked real server. */
export function keepalivedTConfig(at: { g?: string; v?: string; s?: string; r?: string } = {}): string {
  return [
    'global_defs {', '  router_id lb1', `  ${at.g ?? ''}`, '}',
    'vrrp_instance VI_1 {', '  state BACKUP', '  interface eth0', '  virtual_router_id 51', '  priority 100', '  advert_int 1', `  ${at.v ?? ''}`,
    '  virtual_ipaddress {', '    10.0.0.5/32 dev eth0', '  }', '}',
    'virtual_server 10.0.0.5 80 {', '  delay_loop 6', '  lb_algo rr', '  lb_kind DR', '  protocol TCP', `  ${at.s ?? ''}`,
    '  real_server 10.0.1.1 80 {', '    weight 10', `    ${at.r ?? ''}`, '    TCP_CHECK {', '      connect_timeout 3', '    }', '  }', '}', '',
  ].join('\n');
}

export interface RefusedCase {
  /** Where the line goes: global_defs, vrrp_instance, virtual_server, real_server. */
  at: 'g' | 'v' | 's' | 'r';
  line: string;
  /** lvskit's message (after `keepalived.conf:L:C: error: `). */
  lvskit: RegExp;
}

export const REFUSED_BY_KEEPALIVED_T: readonly RefusedCase[] = [
  { at: 'g', line: 'vrrp_garp_interval 0', lvskit: /`vrrp_garp_interval` 0 s is outside 0\.000001\.\.4294\.967295 s/ },
  { at: 'g', line: 'vrrp_gna_interval 0', lvskit: /`vrrp_gna_interval` 0 s is outside/ },
  { at: 'g', line: 'vrrp_garp_master_repeat 0', lvskit: /`vrrp_garp_master_repeat` 0 is outside 1\.\.255/ },
  { at: 'g', line: 'vrrp_garp_master_refresh_repeat 0', lvskit: /`vrrp_garp_master_refresh_repeat` 0 is outside 1\.\.255/ },
  { at: 'g', line: 'vrrp_startup_delay 0', lvskit: /`vrrp_startup_delay` 0 s is outside 0\.001\.\.3600 s/ },
  { at: 'g', line: 'vrrp_priority 20', lvskit: /`vrrp_priority` 20 is outside -20\.\.19/ },
  { at: 'g', line: 'checker_priority -21', lvskit: /`checker_priority` -21 is outside -20\.\.19/ },
  { at: 'g', line: 'max_auto_priority 100', lvskit: /`max_auto_priority` 100 is outside -1\.\.99/ },
  { at: 'g', line: 'vrrp_mcast_group4 10.0.0.1', lvskit: /vrrp_mcast_group4 10\.0\.0\.1 is not a multicast address/ },
  { at: 'g', line: 'vrrp_mcast_group6 2001:db8::1', lvskit: /vrrp_mcast_group6 2001:db8::1 is not a multicast address/ },
  { at: 'v', line: 'garp_master_repeat 0', lvskit: /`garp_master_repeat` 0 is outside 1\.\.255/ },
  { at: 'v', line: 'garp_master_refresh_repeat 0', lvskit: /`garp_master_refresh_repeat` 0 is outside 1\.\.255/ },
  { at: 'v', line: 'unicast_ttl 5', lvskit: /vrrp_instance VI_1: unicast_ttl without unicast_peer/ },
  { at: 's', line: 'retry 0', lvskit: /`retry` 0 is outside 1\.\./ },
  { at: 's', line: 'ops', lvskit: /ops \(one-packet scheduling\) needs UDP/ },
  { at: 's', line: 'ip_family inet6', lvskit: /ip_family inet6 conflicts with its IPv4 address/ },
  { at: 's', line: 'hysteresis 1', lvskit: /hysteresis 1 is not below quorum 1/ },
  { at: 's', line: 'quorum 11', lvskit: /quorum 11 exceeds the total weight of its real servers, 10/ },
  { at: 'r', line: 'retry 0', lvskit: /`retry` 0 is outside 1\.\./ },
  { at: 'r', line: 'UDP_CHECK {\n      min_reply_length 10\n      max_reply_length 5\n    }', lvskit: /min_reply_length 10 is above max_reply_length 5/ },
  { at: 'r', line: 'UDP_CHECK {\n      max_reply_length 70000\n    }', lvskit: /70000/ },
  { at: 'r', line: 'UDP_CHECK {\n      payload 0g\n    }', lvskit: /payload expects a hex string/ },
  { at: 'r', line: 'UDP_CHECK {\n      require_reply 0z\n    }', lvskit: /require_reply expects a hex string/ },
  { at: 'r', line: 'DNS_CHECK {\n      type PTR\n    }', lvskit: /PTR/ },
  { at: 'r', line: 'DNS_CHECK {\n      name a..b\n    }', lvskit: /name expects a domain name/ },
  { at: 'r', line: 'SMTP_CHECK {\n      helo_name\n    }', lvskit: /helo_name/ },
];

/** Values both accept (the edges next to the refused ones). */
export const ACCEPTED_BY_KEEPALIVED_T: readonly Omit<RefusedCase, 'lvskit'>[] = [
  { at: 'g', line: '' },
  { at: 'g', line: 'vrrp_garp_interval 2' },
  { at: 'g', line: 'vrrp_garp_lower_prio_repeat 0' },
  { at: 'g', line: 'vrrp_priority -20' },
  { at: 'g', line: 'max_auto_priority -1' },
  { at: 'v', line: 'garp_lower_prio_repeat 0' },
  { at: 's', line: 'quorum 10' },
  { at: 's', line: 'hysteresis 0' },
  { at: 'r', line: 'UDP_CHECK {\n      payload 01 0a\n      require_reply 0x\n      min_reply_length 5\n      max_reply_length 5\n    }' },
  { at: 'r', line: 'DNS_CHECK {\n      type AAAA\n      name www.example.com\n    }' },
  { at: 'r', line: 'SMTP_CHECK {\n      helo_name foo.bar.com\n      host {\n        connect_ip 10.0.1.9\n      }\n    }' },
  { at: 'r', line: 'PING_CHECK {\n      retry 4\n    }' },
];
