// layer: config (pure)
// job: keyword tables of vrrp_script, vrrp_sync_group and vrrp_instance (with authentication and the address lists).
import type { TrackFile, TrackProcess, VirtualIpAddress, VrrpAuthentication, VrrpInstance, VrrpScript, VrrpSyncGroup } from '../model.js';
import { parseAddress } from '../values.js';
import { notifyKeywords, trackFileSpec, trackInterfaceSpec, trackProcessSpec, trackScriptSpec } from './common.js';
import { routeBlock } from './routes.js';
import { ruleBlock } from './rules.js';
import { VMAC_KEYWORDS } from './vmac.js';
import { arg, flag, keywordTable, kw, unsupported, type BuildContext, type ListEntry, type ListSpec, type Statement } from './types.js';

export const VRRP_SCRIPT = keywordTable<VrrpScript>('vrrp_script', [
  kw('script', 1, Infinity, '<PATH>|"<PATH ARGS>" [user [group]]', (s, st, cx) => {
    const c = cx.script(st, 0);
    if (c) s.script = c;
  }),
  kw('interval', 1, 1, '<SECONDS>', (s, st, cx) => {
    const v = cx.seconds(st, 0, 0.000001, 86400);
    if (v !== undefined) s.intervalMs = v;
  }),
  kw('timeout', 1, 1, '<SECONDS>', (s, st, cx) => {
    const v = cx.seconds(st, 0, 0.000001, 86400);
    if (v !== undefined) s.timeoutMs = v;
  }),
  kw('weight', 1, 2, '<-253..253> [reverse]', (s, st, cx) => {
    const v = cx.int(st, 0, -253, 253);
    if (v !== undefined) s.weight = v;
    // Only a valid `weight N reverse` sets it: a refused weight or word leaves nothing behind (the dump has no place for it).
    if (st.args[1] && cx.oneOf(st, 1, ['reverse'] as const) === 'reverse' && v !== undefined) s.weightReverse = true;
  }),
  kw('rise', 1, 1, '<1..>', (s, st, cx) => {
    const v = cx.uint(st, 0, 1, 2 ** 31 - 1);
    if (v !== undefined) s.rise = v;
  }),
  kw('fall', 1, 1, '<1..>', (s, st, cx) => {
    const v = cx.uint(st, 0, 1, 2 ** 31 - 1);
    if (v !== undefined) s.fall = v;
  }),
  kw('user', 1, 2, '<USER> [<GROUP>]', (s, st) => {
    s.user = arg(st, 0).text;
    if (st.args[1]) s.group = st.args[1].text;
  }),
  flag('init_fail', (s, v) => { s.initFail = v; }),
]);

export const TRACK_FILE = keywordTable<TrackFile>('track_file', [
  kw('file', 1, 1, '<PATH>', (f, st) => { f.file = arg(st, 0).text; }),
  kw('weight', 1, 2, '<-254..254> [reverse]', (f, st, cx) => {
    const v = cx.int(st, 0, -254, 254);
    if (v !== undefined) f.weight = v;
    if (st.args[1]) f.weightReverse = cx.oneOf(st, 1, ['reverse'] as const) === 'reverse';
  }),
  kw('init_file', 0, 2, '[VALUE] [overwrite]', (f, st, cx) => {
    const init = { value: 0, overwrite: false };
    for (const [i, a] of st.args.entries()) {
      if (a.text === 'overwrite') init.overwrite = true;
      else {
        const v = cx.int(st, i, -254, 254);
        if (v === undefined) return;
        init.value = v;
      }
    }
    f.initFile = init;
  }),
]);

/** keepalived's bounds of a vrrp_track_process delay: 1 µs .. 3600 s. */
const processDelay = (set: (p: TrackProcess, ms: number) => void) => (p: TrackProcess, st: Statement, cx: BuildContext): void => {
  const v = cx.seconds(st, 0, 0.000001, 3600);
  if (v !== undefined) set(p, v);
};

/** The kernel keeps 15 characters of a process's name (TASK_COMM_LEN 16). */
const COMM_MAX = 15;

export const TRACK_PROCESS = keywordTable<TrackProcess>('vrrp_track_process', [
  kw('process', 1, Infinity, '<NAME|PATH> [PARAMS...]', (p, st, cx) => {
    if (p.process !== undefined) {
      cx.error(st.keyword, `vrrp_track_process ${p.name}: process is set already (${JSON.stringify(p.process)}); this line is ignored`, 'conflict');
      return;
    }
    p.process = arg(st, 0).text;
    if (st.args.length > 1) p.params = st.args.slice(1).map((a) => a.text);
  }),
  kw('param_match', 0, 1, '[initial|partial]', (p, st, cx) => {
    if (st.args.length === 0) p.paramMatch = 'exact';
    else {
      const m = cx.oneOf(st, 0, ['initial', 'partial'] as const);
      if (m) p.paramMatch = m;
    }
  }),
  kw('weight', 1, 2, '<-254..254> [reverse]', (p, st, cx) => {
    const v = cx.int(st, 0, -254, 254);
    if (v !== undefined) p.weight = v;
    if (st.args[1] && cx.oneOf(st, 1, ['reverse'] as const) === 'reverse' && v !== undefined) p.weightReverse = true;
  }),
  kw('quorum', 1, 1, '<1..65535>', (p, st, cx) => {
    const v = cx.uint(st, 0, 1, 65535);
    if (v !== undefined) p.quorum = v;
  }),
  kw('quorum_max', 1, 1, '<0..65535>', (p, st, cx) => {
    const v = cx.uint(st, 0, 0, 65535);
    if (v !== undefined) p.quorumMax = v;
  }),
  kw('delay', 1, 1, '<SECONDS>', processDelay((p, ms) => { p.forkDelayMs = ms; p.terminateDelayMs = ms; })),
  kw('fork_delay', 1, 1, '<SECONDS>', processDelay((p, ms) => { p.forkDelayMs = ms; })),
  kw('terminate_delay', 1, 1, '<SECONDS>', processDelay((p, ms) => { p.terminateDelayMs = ms; })),
  flag('full_command', (p, v) => { p.fullCommand = v; }),
]);

/** A warning where a process name can never match: the kernel's name is at most 15 characters. */
export function processNameWarning(p: TrackProcess, st: Statement, cx: BuildContext): void {
  if (p.process !== undefined && !p.fullCommand && p.params === undefined && p.paramMatch === undefined && p.process.length > COMM_MAX) {
    cx.warning(st.keyword, `vrrp_track_process ${p.name}: a process name (comm) has at most ${COMM_MAX} characters, so ${JSON.stringify(p.process)} never matches; add full_command to match the command line`, 'invalid-value');
  }
}

const SYNC_MEMBERS: ListSpec<VrrpSyncGroup> = {
  name: 'group',
  options: {},
  entry: (g, e, cx) => g.group.push({ name: e.head.text, location: cx.loc(e.head) }),
};

const TRACKING_UNSUPPORTED = 'lvskit has no BFD; a tracked object it ignored would never put the instance in FAULT';

export const VRRP_SYNC_GROUP = keywordTable<VrrpSyncGroup>('vrrp_sync_group', [
  kw('group', 0, 0, '{ VRRP_INSTANCE ... }', (g, st, cx) => cx.list(st, SYNC_MEMBERS, g), { block: 'required' }),
  kw('track_interface', 0, 0, '{ IF [weight N [reverse]] ... }', (g, st, cx) => cx.list(st, trackInterfaceSpec<VrrpSyncGroup>(), g), { block: 'required' }),
  kw('track_script', 0, 0, '{ SCRIPT [weight N [reverse|noreverse]] ... }', (g, st, cx) => cx.list(st, trackScriptSpec<VrrpSyncGroup>(), g), { block: 'required' }),
  kw('track_file', 0, 0, '{ NAME [weight -254..254 [reverse|noreverse]] ... }', (g, st, cx) => cx.list(st, trackFileSpec<VrrpSyncGroup>(), g), { block: 'required' }),
  kw('track_process', 0, 0, '{ NAME [weight -254..254 [reverse|noreverse]] ... }', (g, st, cx) => cx.list(st, trackProcessSpec<VrrpSyncGroup>(), g), { block: 'required' }),
  ...notifyKeywords<VrrpSyncGroup>(),
  flag('smtp_alert', (g, v) => { g.smtpAlert = v; }),
  flag('global_tracking', (g, v) => { g.globalTracking = v; }, { deprecated: '`global_tracking` is deprecated by keepalived: track on the vrrp_sync_group instead' }),
  flag('sync_group_tracking_weight', (g, v) => { g.syncGroupTrackingWeight = v; }),
], [
  ...unsupported('error', TRACKING_UNSUPPORTED, 'track_bfd'),
  ...unsupported('ignored', 'FIFO notifications and DELETED notifies are not provided', 'notify_priority_changes', 'notify_deleted'),
]);

const AUTHENTICATION = keywordTable<VrrpAuthentication>('authentication', [
  kw('auth_type', 1, 1, 'PASS|AH', (a, st, cx) => {
    const t = cx.oneOf(st, 0, ['PASS', 'AH'] as const);
    if (t) a.type = t;
  }),
  kw('auth_pass', 1, 1, '<PASSWORD>', (a, st, cx) => {
    const tok = arg(st, 0);
    if (tok.text.length > 8) cx.warning(tok, 'auth_pass is longer than 8 characters; only the first 8 are used (keepalived truncates too)');
    a.password = tok.text.slice(0, 8);
  }),
]);

/** Options of a virtual_ipaddress entry and how many arguments each takes. */
const VIP_OPTIONS = {
  brd: 1, broadcast: 1, dev: 1, scope: 1, label: 1, peer: 1, home: 0, '-nodad': 0, nodad: 0, mngtmpaddr: 0,
  noprefixroute: 0, autojoin: 0, no_track: 0, preferred_lft: 1, use_vmac: 0, track_group: 1,
} as const;

const SCOPE_NAMES = ['global', 'site', 'link', 'host', 'nowhere'];

function virtualIp(e: ListEntry, cx: BuildContext): VirtualIpAddress | undefined {
  const a = cx.ipPrefix(e.head, 'an IP address[/prefix]');
  if (!a) return undefined;
  const v: VirtualIpAddress = { address: a.address, family: a.family, location: cx.loc(e.head) };
  if (a.prefixLength !== undefined) v.prefixLength = a.prefixLength;
  for (const { name, args } of e.options) {
    const value = args[0];
    switch (name.text) {
      case 'brd': case 'broadcast':
        if (value && (value.text === '+' || value.text === '-' || cx.ip(value, 'a broadcast address, + or -'))) v.broadcast = parseAddress(value.text)?.address ?? value.text;
        break;
      case 'dev': v.device = value?.text; break;
      case 'label': v.label = value?.text; break;
      case 'scope':
        if (value && (SCOPE_NAMES.includes(value.text) || /^\d+$/.test(value.text) && Number(value.text) <= 255)) v.scope = value.text;
        else if (value) cx.error(value, `scope expects ${SCOPE_NAMES.join('|')} or 0..255, not \`${value.text}\``);
        break;
      case 'peer': {
        const p = value && cx.ip(value, 'a peer address');
        if (p) v.peer = p.address;
        break;
      }
      case 'home': v.home = true; break;
      case '-nodad': case 'nodad': v.noDad = true; break;
      case 'mngtmpaddr': v.mngTmpAddr = true; break;
      case 'noprefixroute': v.noPrefixRoute = true; break;
      case 'autojoin': v.autoJoin = true; break;
      case 'no_track': v.noTrack = true; break;
      case 'preferred_lft':
        if (value?.text === 'forever') v.preferredLifetimeSec = 0xffffffff;
        else if (value && /^\d+$/.test(value.text) && Number(value.text) <= 0xffffffff) v.preferredLifetimeSec = Number(value.text);
        else if (value) cx.error(value, `preferred_lft expects a number of seconds or forever, not \`${value.text}\``);
        break;
      case 'use_vmac': cx.error(name, 'use_vmac (per address) is not supported by lvskit: it makes one VMAC per instance (use_vmac in the vrrp_instance)'); break;
      case 'track_group': cx.warning(name, 'track_group only applies to static addresses; ignored'); break;
    }
  }
  return v;
}

const looksLikeAddress = (w: { text: string }): boolean => /^[0-9a-fA-F:.]+(\/\d+)?$/.test(w.text) && /[.:]/.test(w.text);

/** `static_ipaddress { ADDR[/LEN] dev IF ... }`: the virtual_ipaddress syntax; each address needs its `dev` (there is no instance interface). */
export const STATIC_ADDRESSES: ListSpec<VirtualIpAddress[]> = {
  name: 'static_ipaddress',
  options: VIP_OPTIONS,
  canStart: looksLikeAddress,
  entry: (list, e, cx) => {
    const v = virtualIp(e, cx);
    if (v && v.device === undefined) cx.error(e.head, `static_ipaddress ${e.head.text}: needs \`dev IF\` (a static address belongs to no instance interface)`, 'missing-argument');
    else if (v) list.push(v);
  },
};

const vipSpec = (name: string, key: 'virtualIpAddresses' | 'virtualIpAddressesExcluded'): ListSpec<VrrpInstance> => ({
  name,
  options: VIP_OPTIONS,
  canStart: looksLikeAddress,
  entry: (vi, e, cx) => {
    const v = virtualIp(e, cx);
    if (v) vi[key].push(v);
  },
});

const UNICAST_PEERS: ListSpec<VrrpInstance> = {
  name: 'unicast_peer',
  options: { min_ttl: 1, max_ttl: 1 },
  canStart: looksLikeAddress,
  entry: (vi, e, cx) => {
    const a = cx.ip(e.head, 'a unicast peer address');
    if (!a) return;
    const peer: VrrpInstance['unicastPeers'][number] = { address: a.address, location: cx.loc(e.head) };
    for (const { name, args } of e.options) {
      const ttl = cx.uint({ keyword: name, args }, 0, 0, 255);
      if (ttl !== undefined) peer[name.text === 'min_ttl' ? 'minTtl' : 'maxTtl'] = ttl;
    }
    vi.unicastPeers.push(peer);
  },
};

const garpDelay = (name: string, key: 'garpMasterDelayMs' | 'garpLowerPrioDelayMs' | 'garpMasterRefreshMs', max: number) =>
  kw<VrrpInstance>(name, 1, 1, `<SECONDS 0..${max}>`, (vi, st, cx) => {
    const v = cx.seconds(st, 0, 0, max);
    if (v !== undefined) vi[key] = v;
  });

/** keepalived -t refuses 0 for the master repeats ("must be greater than 0"), not for the lower-priority one. */
const garpRepeat = (name: string, key: 'garpMasterRepeat' | 'garpLowerPrioRepeat' | 'garpMasterRefreshRepeat', min: 0 | 1) =>
  kw<VrrpInstance>(name, 1, 1, `<${min}..255>`, (vi, st, cx) => {
    const v = cx.uint(st, 0, min, 255);
    if (v !== undefined) vi[key] = v;
  });

const sourceAddress = (name: string) => kw<VrrpInstance>(name, 1, 1, '<IPADDR>', (vi, st, cx) => {
  const a = cx.ip(arg(st, 0));
  if (a) vi.sourceAddress = a.address;
});

export const VRRP_INSTANCE = keywordTable<VrrpInstance>('vrrp_instance', [
  kw('state', 1, 1, 'MASTER|BACKUP', (vi, st, cx) => {
    const s = cx.oneOf(st, 0, ['MASTER', 'BACKUP'] as const);
    if (s) vi.state = s;
  }),
  kw('interface', 1, 1, '<IF>', (vi, st, cx) => {
    vi.interface = arg(st, 0).text;
    vi.interfaceLocation = cx.loc(arg(st, 0));
  }),
  kw('virtual_router_id', 1, 1, '<1..255>', (vi, st, cx) => {
    const v = cx.uint(st, 0, 1, 255);
    if (v !== undefined) vi.virtualRouterId = v;
  }),
  kw('priority', 1, 1, '<1..255>', (vi, st, cx) => {
    const v = cx.uint(st, 0, 1, 255);
    if (v !== undefined) vi.priority = v;
  }),
  kw('advert_int', 1, 1, '<SECONDS>', (vi, st, cx) => {
    const v = cx.seconds(st, 0, 0.01, 255);
    if (v !== undefined) vi.advertIntervalMs = v;
  }),
  flag('nopreempt', (vi, v) => { vi.nopreempt = v; }),
  kw('preempt', 0, 0, '', (vi) => { vi.nopreempt = false; }),
  kw('preempt_delay', 1, 1, '<SECONDS 0..1000>', (vi, st, cx) => {
    const v = cx.seconds(st, 0, 0, 1000);
    if (v !== undefined) vi.preemptDelayMs = v;
  }),
  kw('authentication', 0, 0, '{ auth_type PASS|AH  auth_pass <PASSWORD> }', (vi, st, cx) => {
    const a: VrrpAuthentication = { type: 'PASS' };
    cx.block(st, AUTHENTICATION, a);
    vi.authentication = a;
  }, { block: 'required' }),
  kw('virtual_ipaddress', 0, 0, '{ ADDR[/LEN] [dev IF] [label L] [scope S] [brd B] ... }',
    (vi, st, cx) => cx.list(st, vipSpec('virtual_ipaddress', 'virtualIpAddresses'), vi), { block: 'required' }),
  kw('virtual_ipaddress_excluded', 0, 0, '{ ADDR[/LEN] [dev IF] ... }',
    (vi, st, cx) => cx.list(st, vipSpec('virtual_ipaddress_excluded', 'virtualIpAddressesExcluded'), vi), { block: 'required' }),
  routeBlock<VrrpInstance>('virtual_routes', (vi, routes) => { vi.virtualRoutes = [...(vi.virtualRoutes ?? []), ...routes]; }),
  ruleBlock<VrrpInstance>('virtual_rules', (vi, rules) => { vi.virtualRules = [...(vi.virtualRules ?? []), ...rules]; }),
  kw('track_interface', 0, 0, '{ IF [weight -253..253 [reverse]] ... }', (vi, st, cx) => cx.list(st, trackInterfaceSpec<VrrpInstance>(), vi), { block: 'required' }),
  kw('track_script', 0, 0, '{ SCRIPT [weight -253..253 [reverse|noreverse]] ... }', (vi, st, cx) => cx.list(st, trackScriptSpec<VrrpInstance>(), vi), { block: 'required' }),
  kw('track_file', 0, 0, '{ NAME [weight -254..254 [reverse|noreverse]] ... }', (vi, st, cx) => cx.list(st, trackFileSpec<VrrpInstance>(), vi), { block: 'required' }),
  kw('track_process', 0, 0, '{ NAME [weight -254..254 [reverse|noreverse]] ... }', (vi, st, cx) => cx.list(st, trackProcessSpec<VrrpInstance>(), vi), { block: 'required' }),
  flag('dont_track_primary', (vi, v) => { vi.dontTrackPrimary = v; }),
  sourceAddress('mcast_src_ip'),
  sourceAddress('unicast_src_ip'),
  kw('mcast_dst_ip', 1, 1, '<MULTICAST ADDR>', (vi, st, cx) => {
    const a = cx.ip(arg(st, 0), 'a multicast address');
    if (a) vi.mcastDestination = a.address;
  }),
  kw('unicast_peer', 0, 0, '{ ADDR [min_ttl N] [max_ttl N] ... }', (vi, st, cx) => cx.list(st, UNICAST_PEERS, vi), { block: 'required' }),
  kw('unicast_ttl', 1, 1, '<0..255>', (vi, st, cx) => {
    const v = cx.uint(st, 0, 0, 255);
    if (v !== undefined) vi.unicastTtl = v;
  }),
  flag('unicast_fault_no_peer', (vi, v) => { vi.unicastFaultNoPeer = v; }),
  flag('check_unicast_src', (vi, v) => { vi.checkUnicastSrc = v; }),
  flag('track_src_ip', (vi, v) => { vi.trackSrcIp = v; }),
  kw('lvs_sync_daemon_interface', 1, 1, '<IF>', (vi, st, cx) => {
    vi.lvsSyncDaemonInterface = arg(st, 0).text;
    vi.lvsSyncDaemonInterfaceLocation = cx.loc(arg(st, 0));
  },
    { deprecated: '`lvs_sync_daemon_interface` in a vrrp_instance is deprecated by keepalived 2 (use global_defs lvs_sync_daemon IF INSTANCE); lvskit reads it the same way' }),
  kw('version', 1, 1, '2|3', (vi, st, cx) => {
    const v = cx.uint(st, 0, 2, 3);
    if (v !== undefined) vi.version = v as 2 | 3;
  }),
  kw('accept', 0, 0, '', (vi) => { vi.accept = true; }),
  kw('no_accept', 0, 0, '', (vi) => { vi.accept = false; }),
  garpDelay('garp_master_delay', 'garpMasterDelayMs', 255),
  garpRepeat('garp_master_repeat', 'garpMasterRepeat', 1),
  garpDelay('garp_lower_prio_delay', 'garpLowerPrioDelayMs', 255),
  garpRepeat('garp_lower_prio_repeat', 'garpLowerPrioRepeat', 0),
  garpDelay('garp_master_refresh', 'garpMasterRefreshMs', 86400),
  garpRepeat('garp_master_refresh_repeat', 'garpMasterRefreshRepeat', 1),
  flag('lower_prio_no_advert', (vi, v) => { vi.lowerPrioNoAdvert = v; }),
  flag('higher_prio_send_advert', (vi, v) => { vi.higherPrioSendAdvert = v; }),
  kw('down_timer_adverts', 1, 1, '<1..100>', (vi, st, cx) => {
    const v = cx.uint(st, 0, 1, 100);
    if (v !== undefined) vi.downTimerAdverts = v;
  }),
  flag('skip_check_adv_addr', (vi, v) => { vi.skipCheckAdvAddr = v; }),
  flag('strict_mode', (vi, v) => { vi.strictMode = v; }),
  flag('promote_secondaries', (vi, v) => { vi.promoteSecondaries = v; }),
  ...notifyKeywords<VrrpInstance>(),
  flag('smtp_alert', (vi, v) => { vi.smtpAlert = v; }),
  kw('debug', 0, 1, '[0..4]', (vi, st, cx) => {
    if (!st.args[0]) {
      cx.warning(st.keyword, 'a bare `debug` (keepalived 1.x) is read as `debug 0`; keepalived 2.2 refuses it and needs a level 0..4', 'keepalived-compat');
      vi.debug = 0;
      return;
    }
    const v = cx.uint(st, 0, 0, 4);
    if (v !== undefined) vi.debug = v;
  }),
  ...VMAC_KEYWORDS,
  kw('native_ipv6', 0, 0, '', () => undefined, { deprecated: '`native_ipv6` is deprecated by keepalived: the addresses decide the family; ignored' }),
], [
  ...unsupported('error', 'lvskit makes one VMAC per instance (use_vmac) and has no VRFs; the addresses would be on a different interface than keepalived puts them',
    'use_vmac_addr', 'vrf'),
  ...unsupported('error', TRACKING_UNSUPPORTED, 'track_bfd'),
  ...unsupported('ignored', 'notification channels and socket tuning lvskit does not provide',
    'notify_priority_changes', 'notify_deleted', 'kernel_rx_buf_size', 'linkbeat_use_polling', 'old_unicast_checksum', 'garp_extra_if'),
], { keepsLocations: true });
