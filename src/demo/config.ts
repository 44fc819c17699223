// layer: demo (the site lab, shared with the site test)
// job: the operator's configuration files for one balancer: keepalived.conf (instance, VIP, sync daemon, include) and services/<domain>.conf, as text.
import { balancerSpec, type BalancerName, type ServiceSpec, type SiteSpec } from './site.js';

/** Path (relative to the balancer's config directory) → file text. */
export type ConfigFiles = Record<string, string>;

export const MAIN_FILE = 'keepalived.conf';

export function serviceFile(service: ServiceSpec): string {
  return `services/${service.domain}.conf`;
}

/**
 * keepalived.conf as the operator writes it: global_defs, one vrrp_instance (MASTER 150 on lb1,
 * BACKUP 100 on lb2) with PASS authentication, track_interface, the VIP with a label and the sync
 * daemon on eth0, then `include services/*.conf`. One keyword per line: keepalived 2.2 reads only
 * the first keyword of a line.
 */
export function mainConfig(site: SiteSpec, lb: BalancerName): string {
  const b = balancerSpec(site, lb);
  return `! ${lb}: the site's VRRP instance; services are in services/
global_defs {
  router_id ${lb}
}

vrrp_instance VI_1 {
  state ${b.state}
  interface eth0
  lvs_sync_daemon_interface eth0
  virtual_router_id ${site.vrid}
  priority ${b.priority}
  advert_int ${site.advertIntervalSec}
  authentication {
    auth_type PASS
    auth_pass ${site.authPass}
  }
  track_interface {
    eth0
  }
  virtual_ipaddress {
    ${site.vip} dev eth0 label eth0:1
  }
}

include services/*.conf
`;
}

/** services/<domain>.conf: the virtual server, rr, DR, each real server with weight, inhibit_on_failure and a TCP_CHECK. */
export function serviceConfig(service: ServiceSpec): string {
  const realServers = service.realServers.map((r) => `  real_server ${r.address} ${service.port} {
    weight ${r.weight}
    inhibit_on_failure
    TCP_CHECK {
      connect_timeout ${service.connectTimeoutSec}
      retry ${service.retry}
      delay_before_retry ${service.delayBeforeRetrySec}
    }
  }
`).join('');
  return `# ${service.domain}
virtual_server ${service.vip} ${service.port} {
  delay_loop ${service.delayLoopSec}
  lb_algo rr
  lb_kind DR
  protocol TCP
${realServers}}
`;
}

/** Every file of `lb`'s configuration for `site`. */
export function siteConfigFiles(site: SiteSpec, lb: BalancerName): ConfigFiles {
  const files: ConfigFiles = { [MAIN_FILE]: mainConfig(site, lb) };
  for (const service of site.services) files[serviceFile(service)] = serviceConfig(service);
  return files;
}

/**
 * The broken edit of phase `bad-reload`: `service`'s file cut off in its second real server, as
 * an editor that died mid-save leaves it (an unclosed block, a keyword without its value).
 */
export function truncatedServiceConfig(service: ServiceSpec): string {
  const whole = serviceConfig(service);
  const second = whole.indexOf('  real_server', whole.indexOf('  real_server') + 1);
  return `${whole.slice(0, second)}  real_server ${service.realServers[1]?.address ?? service.vip} ${service.port} {\n    weight\n`;
}

/**
 * lvskit's own `lvskit_autoban` block for the site (keepalived has no autoban; lvskit reads this
 * block from keepalived.conf): the threshold, the lab's ipset, the period, the whitelist.
 */
export function lvskitAutobanConfig(site: SiteSpec): string {
  const a = site.autoban;
  return `
lvskit_autoban {
  threshold ${a.threshold}
  ipset ${a.ipset}
  interval ${a.intervalSec}
  source sync
  whitelist {
${a.whitelist.map((w) => `    ${w}`).join('\n')}
  }
}
`;
}
