// layer: config (pure)
// job: keyword table of `global_defs` (and the lvs_sync_daemon / lvs_timeouts argument forms).
import type { GlobalDefs, LvsSyncDaemon, LvsTimeouts, NotifyFifoConfig } from '../model.js';
import { arg, flag, keywordTable, kw, unsupported, type BuildContext, type ListSpec, type Statement } from './types.js';

const notificationEmail: ListSpec<GlobalDefs> = {
  name: 'notification_email',
  options: {},
  entry: (g, e, cx) => {
    if (!/^[^@\s]+@[^@\s]+$/.test(e.head.text) && !/^[\w.+-]+$/.test(e.head.text)) cx.warning(e.head, `\`${e.head.text}\` does not look like an e-mail address`);
    g.notificationEmail.push(e.head.text);
  },
};

/** `lvs_sync_daemon IF [[inst] VI] [id N] [maxlen N] [port N] [ttl N] [group ADDR]`. */
function lvsSyncDaemon(st: Statement, cx: BuildContext): LvsSyncDaemon {
  const d: LvsSyncDaemon = { interface: arg(st, 0).text, location: cx.loc(st.keyword) };
  const numeric = { id: ['syncId', 0, 255], maxlen: ['maxLength', 1, 65507], port: ['port', 1, 65535], ttl: ['ttl', 1, 255] } as const;
  for (let i = 1; i < st.args.length; i++) {
    const word = arg(st, i).text;
    if (Object.hasOwn(numeric, word)) { // own keys only: `toString` and the like are unknown options
      const [key, min, max] = numeric[word as keyof typeof numeric];
      const v = cx.uint(st, ++i, min, max);
      if (v !== undefined) d[key] = v;
      else if (st.args[i] === undefined) cx.error(arg(st, i - 1), `lvs_sync_daemon: \`${word}\` needs a value`, 'missing-argument');
    } else if (word === 'group') {
      const tok = st.args[++i];
      const a = tok && cx.ip(tok, 'a multicast group address');
      if (a) d.group = a.address;
    } else if (word === 'inst') {
      const tok = st.args[++i];
      if (tok) d.instance = tok.text;
    } else if (i === 1) {
      d.instance = word;
    } else {
      cx.error(arg(st, i), `lvs_sync_daemon: unknown option \`${word}\` (inst, id, maxlen, port, ttl, group)`);
    }
  }
  return d;
}

/** `lvs_timeouts [tcp S] [tcpfin S] [udp S]`. */
function lvsTimeouts(st: Statement, cx: BuildContext): LvsTimeouts {
  const t: LvsTimeouts = {};
  const keys = { tcp: 'tcpSec', tcpfin: 'tcpFinSec', udp: 'udpSec' } as const;
  for (let i = 0; i < st.args.length; i += 2) {
    const word = arg(st, i).text;
    const key = Object.hasOwn(keys, word) ? keys[word as keyof typeof keys] : undefined;
    if (!key) {
      cx.error(arg(st, i), `lvs_timeouts: unknown protocol \`${word}\` (tcp, tcpfin, udp)`);
      continue;
    }
    const v = cx.uint(st, i + 1, 1, 86400 * 31);
    if (v !== undefined) t[key] = v;
  }
  return t;
}

const garp = (name: string, key: 'vrrpGarpMasterDelayMs' | 'vrrpGarpLowerPrioDelayMs' | 'vrrpGarpMasterRefreshMs' | 'vrrpGarpIntervalMs' | 'vrrpGnaIntervalMs', max: number,
  min = 0) =>
  kw<GlobalDefs>(name, 1, 1, `<SECONDS ${min}..${max}>`, (g, st, cx) => {
    const v = cx.seconds(st, 0, min, max);
    if (v !== undefined) g[key] = v;
  });

/** keepalived -t refuses 0 for the master repeats ("must be greater than 0"), not for the lower-priority one. */
const repeat = (name: string, key: 'vrrpGarpMasterRepeat' | 'vrrpGarpLowerPrioRepeat' | 'vrrpGarpMasterRefreshRepeat', min: 0 | 1) =>
  kw<GlobalDefs>(name, 1, 1, `<${min}..255>`, (g, st, cx) => {
    const v = cx.uint(st, 0, min, 255);
    if (v !== undefined) g[key] = v;
  });

/**
 * A keyword lvskit ignores (tuning of keepalived's own processes) whose value keepalived -t still
 * checks: out of range it is an error, as there; otherwise a warning that it is ignored.
 */
const ignoredInt = (name: string, min: number, max: number) =>
  kw<GlobalDefs>(name, 1, 1, `<${min}..${max}>`, (_g, st, cx) => {
    if (cx.int(st, 0, min, max) !== undefined) cx.warning(st.keyword, `\`${name}\` is ignored by lvskit (${IGNORED_TUNING})`);
  });

const text = (name: string, key: 'routerId' | 'notificationEmailFrom' | 'smtpHeloName' | 'defaultInterface') =>
  kw<GlobalDefs>(name, 1, 1, '<STRING>', (g, st) => {
    g[key] = arg(st, 0).text;
  });

/** 224.0.0.0/4, ff00::/8. */
function isMulticast(address: string, family: 4 | 6): boolean {
  return family === 4 ? Number(address.split('.')[0]) >= 224 && Number(address.split('.')[0]) <= 239 : address.toLowerCase().startsWith('ff');
}

const mcastGroup = (name: string, key: 'vrrpMcastGroup4' | 'vrrpMcastGroup6', family: 4 | 6) =>
  kw<GlobalDefs>(name, 1, 1, family === 4 ? '<IPv4 MULTICAST>' : '<IPv6 MULTICAST>', (g, st, cx) => {
    const a = cx.ip(arg(st, 0), `an IPv${family} multicast address`);
    if (!a) return;
    if (a.family !== family) cx.error(arg(st, 0), `${name} needs an IPv${family} address`);
    else if (!isMulticast(a.address, family)) cx.error(arg(st, 0), `${name} ${a.address} is not a multicast address`, 'invalid-value');
    else g[key] = a.address;
  });

const IGNORED_TUNING = 'process, scheduling, buffer or start-up tuning of keepalived\'s own processes';
const IGNORED_NOTIFY = 'SNMP, D-Bus and FIFO notification channels are not provided';

const fifo = (name: string, key: 'notifyFifo' | 'vrrpNotifyFifo' | 'lvsNotifyFifo') => kw<GlobalDefs>(name, 1, 3, '<PATH> [<USER> [<GROUP>]]', (g, st, cx) => {
  const f: NotifyFifoConfig = { ...g[key], path: arg(st, 0).text, location: cx.loc(st.keyword) };
  if (st.args[1]) f.user = st.args[1].text;
  if (st.args[2]) f.group = st.args[2].text;
  g[key] = f;
});

/** The script of a FIFO; it may come before the FIFO's own line (the path is filled in then). */
const fifoScript = (name: string, key: 'notifyFifo' | 'vrrpNotifyFifo' | 'lvsNotifyFifo') => kw<GlobalDefs>(name, 1, Infinity, '<SCRIPT>|"<SCRIPT ARGS>" [user [group]]', (g, st, cx) => {
  const s = cx.script(st, 0);
  if (s) g[key] = { path: g[key]?.path ?? '', location: g[key]?.location ?? cx.loc(st.keyword), ...g[key], script: s };
});

const startStopScript = (name: string, key: 'startupScript' | 'shutdownScript') => kw<GlobalDefs>(name, 1, Infinity, '<SCRIPT>|"<SCRIPT ARGS>" [user [group]]', (g, st, cx) => {
  const s = cx.script(st, 0);
  if (s) g[key] = s;
});

const scriptTimeout = (name: string, key: 'startupScriptTimeoutMs' | 'shutdownScriptTimeoutMs') => kw<GlobalDefs>(name, 1, 1, '<SECONDS 1..1000>', (g, st, cx) => {
  const v = cx.uint(st, 0, 1, 1000);
  if (v !== undefined) g[key] = v * 1000;
});

export const GLOBAL_DEFS = keywordTable<GlobalDefs>('global_defs', [
  text('router_id', 'routerId'),
  fifo('notify_fifo', 'notifyFifo'),
  fifoScript('notify_fifo_script', 'notifyFifo'),
  fifo('vrrp_notify_fifo', 'vrrpNotifyFifo'),
  fifoScript('vrrp_notify_fifo_script', 'vrrpNotifyFifo'),
  fifo('lvs_notify_fifo', 'lvsNotifyFifo'),
  fifoScript('lvs_notify_fifo_script', 'lvsNotifyFifo'),
  startStopScript('startup_script', 'startupScript'),
  scriptTimeout('startup_script_timeout', 'startupScriptTimeoutMs'),
  startStopScript('shutdown_script', 'shutdownScript'),
  scriptTimeout('shutdown_script_timeout', 'shutdownScriptTimeoutMs'),
  kw('notification_email', 0, 0, '{ ADDRESS ... }', (g, st, cx) => cx.list(st, notificationEmail, g), { block: 'required' }),
  text('notification_email_from', 'notificationEmailFrom'),
  kw('smtp_server', 1, 2, '<HOST> [<PORT>]', (g, st, cx) => {
    const port = st.args[1] ? cx.uint(st, 1, 1, 65535) : undefined;
    g.smtpServer = { host: arg(st, 0).text, ...(port !== undefined ? { port } : {}) };
  }),
  text('smtp_helo_name', 'smtpHeloName'),
  kw('smtp_connect_timeout', 1, 1, '<SECONDS>', (g, st, cx) => {
    const v = cx.uint(st, 0, 1, 3600);
    if (v !== undefined) g.smtpConnectTimeoutMs = v * 1000;
  }),
  flag('smtp_alert', (g, v) => { g.smtpAlert = v; }),
  flag('smtp_alert_vrrp', (g, v) => { g.smtpAlertVrrp = v; }),
  flag('smtp_alert_checker', (g, v) => { g.smtpAlertChecker = v; }),
  flag('no_email_faults', (g, v) => { g.noEmailFaults = v; }),
  flag('checker_log_all_failures', (g, v) => { g.checkerLogAllFailures = v; }),
  text('default_interface', 'defaultInterface'),
  kw('vrrp_version', 1, 1, '2|3', (g, st, cx) => {
    const v = cx.uint(st, 0, 2, 3);
    if (v !== undefined) g.vrrpVersion = v as 2 | 3;
  }),
  mcastGroup('vrrp_mcast_group4', 'vrrpMcastGroup4', 4),
  mcastGroup('vrrp_mcast_group6', 'vrrpMcastGroup6', 6),
  garp('vrrp_garp_master_delay', 'vrrpGarpMasterDelayMs', 255),
  repeat('vrrp_garp_master_repeat', 'vrrpGarpMasterRepeat', 1),
  garp('vrrp_garp_lower_prio_delay', 'vrrpGarpLowerPrioDelayMs', 255),
  repeat('vrrp_garp_lower_prio_repeat', 'vrrpGarpLowerPrioRepeat', 0),
  garp('vrrp_garp_master_refresh', 'vrrpGarpMasterRefreshMs', 86400),
  repeat('vrrp_garp_master_refresh_repeat', 'vrrpGarpMasterRefreshRepeat', 1),
  // keepalived's range: 1 µs .. 2³² µs.
  garp('vrrp_garp_interval', 'vrrpGarpIntervalMs', 4294.967295, 0.000001),
  garp('vrrp_gna_interval', 'vrrpGnaIntervalMs', 4294.967295, 0.000001),
  flag('vrrp_min_garp', (g, v) => { g.vrrpMinGarp = v; }),
  flag('vrrp_lower_prio_no_advert', (g, v) => { g.vrrpLowerPrioNoAdvert = v; }),
  flag('vrrp_higher_prio_send_advert', (g, v) => { g.vrrpHigherPrioSendAdvert = v; }),
  flag('vrrp_check_unicast_src', (g, v) => { g.vrrpCheckUnicastSrc = v; }),
  flag('vrrp_skip_check_adv_addr', (g, v) => { g.vrrpSkipCheckAdvAddr = v; }),
  flag('vrrp_strict', (g, v) => { g.vrrpStrict = v; }),
  kw('vrrp_startup_delay', 1, 1, '<SECONDS 0.001..3600>', (g, st, cx) => {
    const v = cx.seconds(st, 0, 0.001, 3600);
    if (v !== undefined) g.vrrpStartupDelayMs = v;
  }),
  kw('vrrp_down_timer_adverts', 1, 1, '<1..100>', (g, st, cx) => {
    const v = cx.uint(st, 0, 1, 100);
    if (v !== undefined) g.vrrpDownTimerAdverts = v;
  }),
  kw('script_user', 1, 2, '<USER> [<GROUP>]', (g, st) => {
    g.scriptUser = { user: arg(st, 0).text, ...(st.args[1] ? { group: st.args[1].text } : {}) };
  }),
  flag('enable_script_security', (g, v) => { g.enableScriptSecurity = v; }),
  kw('lvs_sync_daemon', 1, 13, '<IF> [[inst] <VRRP_INSTANCE>] [id 0..255] [maxlen 1..65507] [port 1..65535] [ttl 1..255] [group <ADDR>]',
    (g, st, cx) => { g.lvsSyncDaemon = lvsSyncDaemon(st, cx); }),
  kw('lvs_timeouts', 2, 6, '[tcp <S>] [tcpfin <S>] [udp <S>]', (g, st, cx) => {
    const t = lvsTimeouts(st, cx);
    if (Object.keys(t).length > 0) g.lvsTimeouts = t; // nothing valid: an error was reported, and no empty setting is kept
  }),
  flag('lvs_flush', (g, v) => { g.lvsFlush = v; }),
  kw('lvs_flush_on_stop', 0, 1, '[VS]', (g, st, cx) => {
    if (!st.args[0]) g.lvsFlushOnStop = 'all';
    else if (cx.oneOf(st, 0, ['VS'] as const, true)) g.lvsFlushOnStop = 'vs';
  }),
  // Process nice values and the automatic real-time priority: ignored, but refused out of range as keepalived -t does.
  ignoredInt('vrrp_priority', -20, 19),
  ignoredInt('checker_priority', -20, 19),
  ignoredInt('bfd_priority', -20, 19),
  ignoredInt('max_auto_priority', -1, 99),
], [
  ...unsupported('ignored', IGNORED_TUNING,
    'tmp_config_directory', 'config_save_dir', 'process_names', 'process_name', 'vrrp_process_name', 'checker_process_name',
    'bfd_process_name', 'min_auto_priority_delay',
    'vrrp_no_swap', 'checker_no_swap', 'bfd_no_swap', 'vrrp_cpu_affinity', 'checker_cpu_affinity', 'bfd_cpu_affinity',
    'vrrp_rt_priority', 'checker_rt_priority', 'bfd_rt_priority', 'vrrp_rlimit_rttime', 'checker_rlimit_rttime',
    'bfd_rlimit_rttime', 'vrrp_netlink_cmd_rcv_bufs', 'vrrp_netlink_cmd_rcv_bufs_force', 'vrrp_netlink_monitor_rcv_bufs',
    'vrrp_netlink_monitor_rcv_bufs_force', 'lvs_netlink_cmd_rcv_bufs', 'lvs_netlink_cmd_rcv_bufs_force',
    'lvs_netlink_monitor_rcv_bufs', 'lvs_netlink_monitor_rcv_bufs_force', 'process_monitor_rcv_bufs',
    'process_monitor_rcv_bufs_force', 'vrrp_rx_bufs_policy', 'vrrp_rx_bufs_multiplier', 'umask', 'dynamic_interfaces', 'reload_check_config', 'reload_time_file', 'reload_repeat',
    'reload_file', 'data_use_instance', 'random_seed', 'include_check', 'log_unknown_vrids', 'rs_init_notifies', 'no_checker_emails', 'vrrp_notify_priority_changes',
    'fifo_write_vrrp_states_on_reload', 'disable_local_igmp', 'vrrp_garp_extra_if', 'vmac_prefix', 'vmac_addr_prefix'),
  ...unsupported('ignored', IGNORED_NOTIFY,
    'snmp_socket', 'enable_snmp_vrrp', 'enable_snmp_checker', 'enable_snmp_rfc', 'enable_snmp_rfcv2', 'enable_snmp_rfcv3',
    'enable_snmp_keepalived', 'enable_traps', 'enable_dbus', 'dbus_service_name'),
  ...unsupported('error', 'lvskit manages no nftables or iptables rules (no_accept filtering, VMAC IGMP handling, virtual server group fwmarks)',
    'nftables', 'nftables_priority', 'nftables_counters', 'nftables_ifindex', 'nftables_ipvs', 'nftables_ipvs_priority',
    'nftables_ipvs_start_fwmark', 'vrrp_iptables', 'vrrp_ipsets'),
]);
