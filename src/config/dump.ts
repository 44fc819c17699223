// layer: config (pure)
// job: the model → canonical keepalived.conf text (multi-line, one keyword per line, fixed order) that reads back
//      to the same model.
import type {
  AutobanConfig, CheckDefaults, Checker, CheckerCommon, ForwardingMethod, GlobalDefs, HttpUrl, KeepalivedConfig, RealServer,
  ScriptCommand, TrackedInterface, TrackedScript, VirtualIpAddress, VirtualServer, VirtualServerGroup, VrrpInstance, VrrpNotify,
  VrrpScript, VrrpSyncGroup, TrackFile, TrackProcess,
} from './model.js';
import { routeWords, ruleWords, word, type Word } from './dump-net.js';
import { msToSecondsText } from './values.js';

const CONTROL_ESCAPES: Record<string, string> = { '\n': '\\n', '\t': '\\t', '\r': '\\r', '\v': '\\v', '\f': '\\f' };

/** A script command: quoted (with escapes, as keepalived's script reader undoes them) unless it is one plain word. */
function scriptWord(command: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[^\s#!{}"'\\$@~\x00-\x1f\x7f]+$/.test(command) && !/^include[rmwba]?$/.test(command)) return command; // controls only escaped
  const escaped = command.replace(/[\\"\x00-\x1f\x7f]/g, (c) => CONTROL_ESCAPES[c] ?? (c === '\\' || c === '"' ? `\\${c}` : `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`));
  return `"${escaped}"`;
}

class Writer {
  readonly lines: string[] = [];
  private depth = 0;

  line(...words: Word[]): void {
    const present = words.filter((w): w is string | number => w !== undefined);
    this.lines.push(`${'    '.repeat(this.depth)}${present.join(' ')}`);
  }

  /** `keyword value` when the value is set. */
  opt(keyword: string, value: string | number | undefined): void {
    if (value !== undefined) this.line(keyword, typeof value === 'string' ? word(value) : value);
  }

  seconds(keyword: string, ms: number | undefined): void {
    if (ms !== undefined) this.line(keyword, msToSecondsText(ms));
  }

  /** A flag: bare when true, `off` when false. */
  flag(keyword: string, value: boolean | undefined): void {
    if (value !== undefined) this.line(keyword, value ? undefined : 'off');
  }

  /** `keyword COMMAND [USER [GROUP]]`: the whole line is read back by the script splitter, so the user and group take its escapes too. */
  script(keyword: string, s: ScriptCommand | undefined): void {
    if (s) this.line(keyword, scriptWord(s.command), s.user === undefined ? undefined : scriptWord(s.user), s.group === undefined ? undefined : scriptWord(s.group));
  }

  block(head: Word[], body: () => void): void {
    this.line(...head, '{');
    this.depth++;
    body();
    this.depth--;
    this.line('}');
  }
}

/** The canonical text of a configuration: one keyword per line, 4-space indents, a blank line between blocks. */
export function dumpConfig(config: KeepalivedConfig): string {
  const w = new Writer();
  const g = config.globalDefs;
  w.opt('net_namespace', g.netNamespace);
  if (g.netNamespaceIpvs !== undefined) w.line('net_namespace_ipvs', g.netNamespaceIpvs === '' ? undefined : word(g.netNamespaceIpvs));
  w.block(['global_defs'], () => globalDefs(w, g));
  if (config.ssl) {
    const s = config.ssl;
    w.block(['SSL'], () => {
      w.opt('password', s.password);
      w.opt('ca', s.ca);
      w.opt('certificate', s.certificate);
      w.opt('key', s.key);
    });
  }
  if (config.staticIpAddresses) w.block(['static_ipaddress'], () => config.staticIpAddresses!.forEach((v) => w.line(...vip(v))));
  if (config.staticRoutes) w.block(['static_routes'], () => config.staticRoutes!.forEach((r) => w.line(...routeWords(r))));
  if (config.staticRules) w.block(['static_rules'], () => config.staticRules!.forEach((r) => w.line(...ruleWords(r))));
  for (const s of config.vrrpScripts) w.block(['vrrp_script', word(s.name)], () => vrrpScript(w, s));
  for (const f of config.trackFiles ?? []) w.block(['track_file', word(f.name)], () => trackFile(w, f));
  for (const p of config.trackProcesses ?? []) w.block(['vrrp_track_process', word(p.name)], () => trackProcess(w, p));
  for (const vi of config.vrrpInstances) w.block(['vrrp_instance', word(vi.name)], () => vrrpInstance(w, vi));
  for (const sg of config.vrrpSyncGroups) w.block(['vrrp_sync_group', word(sg.name)], () => syncGroup(w, sg));
  for (const vg of config.virtualServerGroups) w.block(['virtual_server_group', word(vg.name)], () => serverGroup(w, vg));
  for (const vs of config.virtualServers) w.block(['virtual_server', ...vsHead(vs)], () => virtualServer(w, vs));
  if (config.autoban) w.block(['lvskit_autoban'], () => autoban(w, config.autoban as AutobanConfig));
  return `${w.lines.join('\n').replace(/\n}\n(?=\S)/g, '\n}\n\n')}\n`;
}

function globalDefs(w: Writer, g: GlobalDefs): void {
  w.opt('router_id', g.routerId);
  for (const [kw, f] of [['notify_fifo', g.notifyFifo], ['vrrp_notify_fifo', g.vrrpNotifyFifo], ['lvs_notify_fifo', g.lvsNotifyFifo]] as const) {
    if (!f) continue;
    if (f.path !== '') w.line(kw, word(f.path), f.user === undefined ? undefined : word(f.user), f.group === undefined ? undefined : word(f.group));
    w.script(`${kw}_script`, f.script);
  }
  w.script('startup_script', g.startupScript);
  if (g.startupScriptTimeoutMs !== undefined) w.line('startup_script_timeout', g.startupScriptTimeoutMs / 1000);
  w.script('shutdown_script', g.shutdownScript);
  if (g.shutdownScriptTimeoutMs !== undefined) w.line('shutdown_script_timeout', g.shutdownScriptTimeoutMs / 1000);
  if (g.notificationEmail.length > 0) w.block(['notification_email'], () => g.notificationEmail.forEach((e) => w.line(word(e))));
  w.opt('notification_email_from', g.notificationEmailFrom);
  if (g.smtpServer) w.line('smtp_server', word(g.smtpServer.host), g.smtpServer.port);
  w.opt('smtp_helo_name', g.smtpHeloName);
  if (g.smtpConnectTimeoutMs !== undefined) w.line('smtp_connect_timeout', g.smtpConnectTimeoutMs / 1000);
  w.flag('smtp_alert', g.smtpAlert);
  w.flag('smtp_alert_vrrp', g.smtpAlertVrrp);
  w.flag('smtp_alert_checker', g.smtpAlertChecker);
  w.flag('no_email_faults', g.noEmailFaults);
  w.flag('checker_log_all_failures', g.checkerLogAllFailures);
  w.opt('default_interface', g.defaultInterface);
  w.opt('vrrp_version', g.vrrpVersion);
  w.opt('vrrp_mcast_group4', g.vrrpMcastGroup4);
  w.opt('vrrp_mcast_group6', g.vrrpMcastGroup6);
  w.seconds('vrrp_garp_master_delay', g.vrrpGarpMasterDelayMs);
  w.opt('vrrp_garp_master_repeat', g.vrrpGarpMasterRepeat);
  w.seconds('vrrp_garp_lower_prio_delay', g.vrrpGarpLowerPrioDelayMs);
  w.opt('vrrp_garp_lower_prio_repeat', g.vrrpGarpLowerPrioRepeat);
  w.seconds('vrrp_garp_master_refresh', g.vrrpGarpMasterRefreshMs);
  w.opt('vrrp_garp_master_refresh_repeat', g.vrrpGarpMasterRefreshRepeat);
  w.seconds('vrrp_garp_interval', g.vrrpGarpIntervalMs);
  w.seconds('vrrp_gna_interval', g.vrrpGnaIntervalMs);
  w.flag('vrrp_min_garp', g.vrrpMinGarp);
  w.flag('vrrp_lower_prio_no_advert', g.vrrpLowerPrioNoAdvert);
  w.flag('vrrp_higher_prio_send_advert', g.vrrpHigherPrioSendAdvert);
  w.flag('vrrp_check_unicast_src', g.vrrpCheckUnicastSrc);
  w.flag('vrrp_skip_check_adv_addr', g.vrrpSkipCheckAdvAddr);
  w.flag('vrrp_strict', g.vrrpStrict);
  w.seconds('vrrp_startup_delay', g.vrrpStartupDelayMs);
  w.opt('vrrp_down_timer_adverts', g.vrrpDownTimerAdverts);
  if (g.scriptUser) w.line('script_user', word(g.scriptUser.user), g.scriptUser.group === undefined ? undefined : word(g.scriptUser.group));
  w.flag('enable_script_security', g.enableScriptSecurity);
  const d = g.lvsSyncDaemon;
  if (d) {
    w.line('lvs_sync_daemon', word(d.interface), ...(d.instance !== undefined ? ['inst', word(d.instance)] : []),
      ...(d.syncId !== undefined ? ['id', d.syncId] : []), ...(d.maxLength !== undefined ? ['maxlen', d.maxLength] : []),
      ...(d.port !== undefined ? ['port', d.port] : []), ...(d.ttl !== undefined ? ['ttl', d.ttl] : []),
      ...(d.group !== undefined ? ['group', d.group] : []));
  }
  const t = g.lvsTimeouts;
  if (t && (t.tcpSec ?? t.tcpFinSec ?? t.udpSec) !== undefined) {
    w.line('lvs_timeouts', ...(t.tcpSec !== undefined ? ['tcp', t.tcpSec] : []),
      ...(t.tcpFinSec !== undefined ? ['tcpfin', t.tcpFinSec] : []), ...(t.udpSec !== undefined ? ['udp', t.udpSec] : []));
  }
  w.flag('lvs_flush', g.lvsFlush);
  if (g.lvsFlushOnStop) w.line('lvs_flush_on_stop', g.lvsFlushOnStop === 'vs' ? 'VS' : undefined);
}

function vrrpScript(w: Writer, s: VrrpScript): void {
  w.script('script', s.script);
  w.seconds('interval', s.intervalMs);
  w.seconds('timeout', s.timeoutMs);
  if (s.weight !== undefined) w.line('weight', s.weight, s.weightReverse ? 'reverse' : undefined);
  w.opt('rise', s.rise);
  w.opt('fall', s.fall);
  if (s.user !== undefined) w.line('user', word(s.user), s.group === undefined ? undefined : word(s.group));
  w.flag('init_fail', s.initFail);
}

function trackFile(w: Writer, f: TrackFile): void {
  if (f.file !== undefined) w.line('file', word(f.file));
  if (f.weight !== undefined) w.line('weight', f.weight, f.weightReverse ? 'reverse' : undefined);
  if (f.initFile) w.line('init_file', f.initFile.value, f.initFile.overwrite ? 'overwrite' : undefined);
}

function trackProcess(w: Writer, p: TrackProcess): void {
  if (p.process !== undefined) w.line('process', word(p.process), ...(p.params ?? []).map(word));
  if (p.paramMatch === 'exact') w.line('param_match');
  else if (p.paramMatch) w.line('param_match', p.paramMatch);
  if (p.weight !== undefined) w.line('weight', p.weight, p.weightReverse ? 'reverse' : undefined);
  w.opt('quorum', p.quorum);
  w.opt('quorum_max', p.quorumMax);
  w.seconds('fork_delay', p.forkDelayMs);
  w.seconds('terminate_delay', p.terminateDelayMs);
  w.flag('full_command', p.fullCommand);
}

function tracked(w: Writer, keyword: string, list: readonly (TrackedInterface | TrackedScript)[]): void {
  if (list.length === 0) return;
  w.block([keyword], () => {
    for (const t of list) {
      w.line(word(t.name), ...(t.weight !== undefined ? ['weight', t.weight] : []),
        t.reverse === undefined ? undefined : t.reverse ? 'reverse' : 'noreverse');
    }
  });
}

function notify(w: Writer, n: VrrpNotify): void {
  w.script('notify', n.notify);
  w.script('notify_master', n.notifyMaster);
  w.script('notify_backup', n.notifyBackup);
  w.script('notify_fault', n.notifyFault);
  w.script('notify_stop', n.notifyStop);
  w.script('notify_master_rx_lower_pri', n.notifyMasterRxLowerPri);
}

function syncGroup(w: Writer, g: VrrpSyncGroup): void {
  if (g.group.length > 0) w.block(['group'], () => g.group.forEach((m) => w.line(word(m.name))));
  tracked(w, 'track_interface', g.trackInterfaces);
  tracked(w, 'track_script', g.trackScripts);
  tracked(w, 'track_file', g.trackFiles ?? []);
  tracked(w, 'track_process', g.trackProcesses ?? []);
  notify(w, g);
  w.flag('smtp_alert', g.smtpAlert);
  w.flag('global_tracking', g.globalTracking);
  w.flag('sync_group_tracking_weight', g.syncGroupTrackingWeight);
}

function vip(v: VirtualIpAddress): Word[] {
  return [
    v.prefixLength === undefined ? v.address : `${v.address}/${v.prefixLength}`,
    ...(v.broadcast !== undefined ? ['brd', v.broadcast] : []),
    ...(v.device !== undefined ? ['dev', word(v.device)] : []),
    ...(v.scope !== undefined ? ['scope', v.scope] : []),
    ...(v.label !== undefined ? ['label', word(v.label)] : []),
    ...(v.peer !== undefined ? ['peer', v.peer] : []),
    v.home ? 'home' : undefined, v.noDad ? '-nodad' : undefined, v.mngTmpAddr ? 'mngtmpaddr' : undefined,
    v.noPrefixRoute ? 'noprefixroute' : undefined, v.autoJoin ? 'autojoin' : undefined, v.noTrack ? 'no_track' : undefined,
    ...(v.preferredLifetimeSec !== undefined ? ['preferred_lft', v.preferredLifetimeSec === 0xffffffff ? 'forever' : v.preferredLifetimeSec] : []),
  ];
}

function vrrpInstance(w: Writer, vi: VrrpInstance): void {
  w.opt('state', vi.state);
  w.opt('interface', vi.interface);
  w.opt('virtual_router_id', vi.virtualRouterId);
  w.opt('priority', vi.priority);
  w.seconds('advert_int', vi.advertIntervalMs);
  w.opt('version', vi.version);
  if (vi.nopreempt !== undefined) w.line(vi.nopreempt ? 'nopreempt' : 'preempt');
  w.seconds('preempt_delay', vi.preemptDelayMs);
  const auth = vi.authentication;
  if (auth) w.block(['authentication'], () => { w.opt('auth_type', auth.type); w.opt('auth_pass', auth.password); });
  if (vi.virtualIpAddresses.length > 0) w.block(['virtual_ipaddress'], () => vi.virtualIpAddresses.forEach((v) => w.line(...vip(v))));
  if (vi.virtualIpAddressesExcluded.length > 0) w.block(['virtual_ipaddress_excluded'], () => vi.virtualIpAddressesExcluded.forEach((v) => w.line(...vip(v))));
  if (vi.virtualRoutes) w.block(['virtual_routes'], () => vi.virtualRoutes!.forEach((r) => w.line(...routeWords(r))));
  if (vi.virtualRules) w.block(['virtual_rules'], () => vi.virtualRules!.forEach((r) => w.line(...ruleWords(r))));
  tracked(w, 'track_interface', vi.trackInterfaces);
  tracked(w, 'track_script', vi.trackScripts);
  tracked(w, 'track_file', vi.trackFiles ?? []);
  tracked(w, 'track_process', vi.trackProcesses ?? []);
  w.flag('dont_track_primary', vi.dontTrackPrimary);
  w.opt('unicast_src_ip', vi.sourceAddress);
  w.opt('mcast_dst_ip', vi.mcastDestination);
  if (vi.unicastPeers.length > 0) {
    w.block(['unicast_peer'], () => vi.unicastPeers.forEach((p) => w.line(p.address,
      ...(p.minTtl !== undefined ? ['min_ttl', p.minTtl] : []), ...(p.maxTtl !== undefined ? ['max_ttl', p.maxTtl] : []))));
  }
  w.opt('unicast_ttl', vi.unicastTtl);
  w.flag('unicast_fault_no_peer', vi.unicastFaultNoPeer);
  w.flag('check_unicast_src', vi.checkUnicastSrc);
  w.flag('track_src_ip', vi.trackSrcIp);
  w.opt('lvs_sync_daemon_interface', vi.lvsSyncDaemonInterface);
  if (vi.accept !== undefined) w.line(vi.accept ? 'accept' : 'no_accept');
  w.seconds('garp_master_delay', vi.garpMasterDelayMs);
  w.opt('garp_master_repeat', vi.garpMasterRepeat);
  w.seconds('garp_lower_prio_delay', vi.garpLowerPrioDelayMs);
  w.opt('garp_lower_prio_repeat', vi.garpLowerPrioRepeat);
  w.seconds('garp_master_refresh', vi.garpMasterRefreshMs);
  w.opt('garp_master_refresh_repeat', vi.garpMasterRefreshRepeat);
  w.flag('lower_prio_no_advert', vi.lowerPrioNoAdvert);
  w.flag('higher_prio_send_advert', vi.higherPrioSendAdvert);
  w.opt('down_timer_adverts', vi.downTimerAdverts);
  w.flag('skip_check_adv_addr', vi.skipCheckAdvAddr);
  w.flag('strict_mode', vi.strictMode);
  w.flag('promote_secondaries', vi.promoteSecondaries);
  if (vi.useVmac) w.line('use_vmac', vi.useVmac.name, vi.useVmac.mac);
  w.flag('vmac_xmit_base', vi.vmacXmitBase);
  if (vi.useIpvlan) w.line('use_ipvlan', vi.useIpvlan.name, vi.useIpvlan.address, vi.useIpvlan.mode);
  notify(w, vi);
  w.flag('smtp_alert', vi.smtpAlert);
  w.opt('debug', vi.debug);
}

function serverGroup(w: Writer, g: VirtualServerGroup): void {
  for (const e of g.entries) {
    if (e.kind === 'fwmark') {
      w.line('fwmark', e.fwmark, e.family === undefined ? undefined : e.family === 4 ? 'inet' : 'inet6');
    } else {
      const addr = e.rangeEnd !== undefined ? `${e.address}-${e.rangeEnd}` : e.prefixLength !== undefined ? `${e.address}/${e.prefixLength}` : e.address;
      w.line(addr, e.port);
    }
  }
}

function vsHead(vs: VirtualServer): Word[] {
  switch (vs.key.kind) {
    case 'address': return [vs.key.address, vs.key.port];
    case 'fwmark': return ['fwmark', vs.key.fwmark];
    case 'group': return ['group', word(vs.key.group)];
  }
}

function method(w: Writer, keyword: string, m: ForwardingMethod | undefined): void {
  if (!m) return;
  w.line(keyword, m.kind, ...(m.tunnelType !== undefined ? ['type', m.tunnelType] : []),
    ...(m.tunnelPort !== undefined ? ['port', m.tunnelPort] : []), m.tunnelChecksum);
}

function checkDefaults(w: Writer, d: CheckDefaults): void {
  w.flag('alpha', d.alpha);
  w.seconds('connect_timeout', d.connectTimeoutMs);
  w.opt('retry', d.retry);
  w.seconds('delay_before_retry', d.delayBeforeRetryMs);
  w.seconds('warmup', d.warmupMs);
  w.seconds('delay_loop', d.delayLoopMs);
  w.flag('inhibit_on_failure', d.inhibitOnFailure);
  w.flag('smtp_alert', d.smtpAlert);
  w.opt('virtualhost', d.virtualhost);
}

function virtualServer(w: Writer, vs: VirtualServer): void {
  w.opt('lvs_sched', vs.scheduler);
  for (const f of vs.schedulerFlags) w.line(f);
  w.flag('ops', vs.onePacketScheduling);
  method(w, 'lvs_method', vs.method);
  w.opt('persistence_timeout', vs.persistenceTimeoutSec);
  w.opt('persistence_granularity', vs.persistenceGranularity);
  w.opt('persistence_engine', vs.persistenceEngine);
  w.opt('protocol', vs.protocol);
  w.flag('ha_suspend', vs.haSuspend);
  w.flag('omega', vs.omega);
  w.opt('quorum', vs.quorum);
  w.opt('hysteresis', vs.hysteresis);
  w.script('quorum_up', vs.quorumUp);
  w.script('quorum_down', vs.quorumDown);
  if (vs.ipFamily !== undefined) w.line('ip_family', vs.ipFamily === 4 ? 'inet' : 'inet6');
  if (vs.sorryServer) w.line('sorry_server', vs.sorryServer.address, vs.sorryServer.port);
  w.flag('sorry_server_inhibit', vs.sorryServerInhibit);
  method(w, 'sorry_server_lvs_method', vs.sorryServerMethod);
  checkDefaults(w, vs);
  for (const rs of vs.realServers) w.block(['real_server', rs.address, rs.port], () => realServer(w, rs));
}

function realServer(w: Writer, rs: RealServer): void {
  w.opt('weight', rs.weight);
  method(w, 'lvs_method', rs.method);
  w.script('notify_up', rs.notifyUp);
  w.script('notify_down', rs.notifyDown);
  w.opt('uthreshold', rs.upperThreshold);
  w.opt('lthreshold', rs.lowerThreshold);
  checkDefaults(w, rs);
  for (const c of rs.checkers) w.block([c.type], () => checker(w, c));
}

function checkerCommon(w: Writer, c: CheckerCommon, connection: boolean): void {
  if (connection) {
    w.opt('connect_ip', c.connectIp);
    w.opt('connect_port', c.connectPort);
    w.opt('bindto', c.bindTo);
    w.opt('bind_if', c.bindInterface);
    w.opt('bind_port', c.bindPort);
    w.opt('fwmark', c.fwmark);
  }
  w.flag('alpha', c.alpha);
  w.seconds('connect_timeout', c.connectTimeoutMs);
  w.opt('retry', c.retry);
  w.seconds('delay_before_retry', c.delayBeforeRetryMs);
  w.seconds('warmup', c.warmupMs);
  w.seconds('delay_loop', c.delayLoopMs);
  w.flag('log_all_failures', c.logAllFailures);
}

function url(w: Writer, u: HttpUrl): void {
  w.opt('path', u.path);
  w.opt('digest', u.digest);
  if (u.statusCodes) w.line('status_code', ...u.statusCodes.map((r) => (r.from === r.to ? String(r.from) : `${r.from}-${r.to}`)));
  w.opt('virtualhost', u.virtualhost);
  w.opt('regex', u.regex);
  w.flag('regex_no_match', u.regexNoMatch);
  if (u.regexOptions) w.line('regex_options', ...u.regexOptions.map(word));
  w.opt('regex_min_offset', u.regexMinOffset);
  w.opt('regex_max_offset', u.regexMaxOffset);
}

function checker(w: Writer, c: Checker): void {
  if (c.type !== 'FILE_CHECK') checkerCommon(w, c, c.type !== 'MISC_CHECK');
  switch (c.type) {
    case 'TCP_CHECK':
      break;
    case 'HTTP_GET':
    case 'SSL_GET':
      w.opt('http_protocol', c.httpProtocol);
      w.flag('fast_recovery', c.fastRecovery);
      w.opt('virtualhost', c.virtualhost);
      w.flag('enable_sni', c.enableSni);
      for (const u of c.urls) w.block(['url'], () => url(w, u));
      break;
    case 'MISC_CHECK':
      w.script('misc_path', c.path);
      w.seconds('misc_timeout', c.timeoutMs);
      w.flag('misc_dynamic', c.dynamic);
      if (c.user !== undefined) w.line('user', word(c.user), c.group === undefined ? undefined : word(c.group));
      break;
    case 'SMTP_CHECK':
      w.opt('helo_name', c.heloName);
      for (const h of c.hosts) w.block(['host'], () => checkerCommon(w, h, true));
      break;
    case 'UDP_CHECK':
      w.opt('payload', c.payload);
      if (c.requireReply) w.line('require_reply', c.replyPattern);
      w.opt('min_reply_length', c.minReplyLength);
      w.opt('max_reply_length', c.maxReplyLength);
      break;
    case 'DNS_CHECK':
      w.opt('type', c.queryType);
      w.opt('name', c.name);
      break;
    case 'PING_CHECK':
      break;
    case 'FILE_CHECK':
      w.opt('track_file', c.trackFile);
      if (c.weight !== undefined) w.line('weight', c.weight, c.weightReverse ? 'reverse' : undefined);
      break;
  }
}

function autoban(w: Writer, a: AutobanConfig): void {
  w.opt('threshold', a.threshold);
  w.opt('ipset', a.ipset);
  if (a.whitelist.length > 0) {
    w.block(['whitelist'], () => a.whitelist.forEach((c) => w.line(`${c.address}/${c.prefixLength}`)));
  }
  w.opt('static_blacklist', a.staticBlacklist);
  if (a.banTimeoutMs !== undefined) w.line('ban_timeout', a.banTimeoutMs / 1000);
  w.seconds('interval', a.intervalMs);
  w.opt('source', a.source);
  w.flag('dry_run', a.dryRun);
}
