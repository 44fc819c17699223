// layer: config (pure)
// job: keyword table of the top level: the blocks a configuration is made of.
import type { AutobanConfig, KeepalivedConfig, SslContext, TrackFile, TrackProcess, VirtualServer, VirtualServerGroup, VrrpInstance, VrrpScript, VrrpSyncGroup } from '../model.js';
import { SSL } from './checkers.js';
import { GLOBAL_DEFS } from './global.js';
import { LVSKIT_AUTOBAN } from './lvskit.js';
import { VIRTUAL_SERVER, VSG_ENTRIES, virtualServerKey } from './lvs.js';
import { arg, keywordTable, kw, TOP_LEVEL, unsupported } from './types.js';
import { routeBlock } from './routes.js';
import { ruleBlock } from './rules.js';
import { processNameWarning, STATIC_ADDRESSES, TRACK_FILE, TRACK_PROCESS, VRRP_INSTANCE, VRRP_SCRIPT, VRRP_SYNC_GROUP } from './vrrp.js';

export const ROOT = keywordTable<KeepalivedConfig>(TOP_LEVEL, [
  kw('global_defs', 0, 0, '{ ... }', (c, st, cx) => cx.block(st, GLOBAL_DEFS, c.globalDefs), { block: 'required' }),
  kw('vrrp_script', 1, 1, '<NAME> { ... }', (c, st, cx) => {
    const s: VrrpScript = { name: arg(st, 0).text, location: cx.loc(st.keyword) };
    cx.block(st, VRRP_SCRIPT, s);
    c.vrrpScripts.push(s);
  }, { block: 'required' }),
  kw('track_file', 1, 1, '<NAME> { file PATH  weight N [reverse]  init_file [VALUE] [overwrite] }', (c, st, cx) => {
    const f: TrackFile = { name: arg(st, 0).text, location: cx.loc(st.keyword) };
    cx.block(st, TRACK_FILE, f);
    (c.trackFiles ??= []).push(f);
  }, { block: 'required', aliases: ['vrrp_track_file'] }),
  kw('vrrp_track_process', 1, 1, '<NAME> { process NAME [PARAMS]  param_match [initial|partial]  weight N [reverse]  quorum N  quorum_max N  delay S  fork_delay S  terminate_delay S  full_command }', (c, st, cx) => {
    const p: TrackProcess = { name: arg(st, 0).text, location: cx.loc(st.keyword) };
    cx.block(st, TRACK_PROCESS, p);
    processNameWarning(p, st, cx);
    (c.trackProcesses ??= []).push(p);
  }, { block: 'required' }),
  kw('vrrp_sync_group', 1, 1, '<NAME> { ... }', (c, st, cx) => {
    const g: VrrpSyncGroup = { name: arg(st, 0).text, group: [], trackInterfaces: [], trackScripts: [], location: cx.loc(st.keyword) };
    cx.block(st, VRRP_SYNC_GROUP, g);
    c.vrrpSyncGroups.push(g);
  }, { block: 'required' }),
  kw('vrrp_instance', 1, 1, '<NAME> { ... }', (c, st, cx) => {
    const vi: VrrpInstance = {
      name: arg(st, 0).text, virtualIpAddresses: [], virtualIpAddressesExcluded: [], trackInterfaces: [], trackScripts: [],
      unicastPeers: [], location: cx.loc(st.keyword),
    };
    // Not enumerable: the model's JSON (`lvskit check --json`) and comparisons stay as they were.
    Object.defineProperty(vi, 'keywordLocations', { value: {}, enumerable: false });
    cx.block(st, VRRP_INSTANCE, vi);
    c.vrrpInstances.push(vi);
  }, { block: 'required' }),
  kw('virtual_server_group', 1, 1, '<NAME> { ADDR[-END|/LEN] [PORT] | fwmark N [inet|inet6] ... }', (c, st, cx) => {
    const g: VirtualServerGroup = { name: arg(st, 0).text, entries: [], location: cx.loc(st.keyword) };
    cx.list(st, VSG_ENTRIES, g);
    c.virtualServerGroups.push(g);
  }, { block: 'required' }),
  kw('virtual_server', 1, 2, '<IPADDR> [<PORT>] | fwmark <MARK> | group <NAME> { ... }', (c, st, cx) => {
    const key = virtualServerKey(st, cx);
    const vs: VirtualServer = { key: key ?? { kind: 'group', group: '' }, schedulerFlags: [], realServers: [], location: cx.loc(st.keyword) };
    cx.block(st, VIRTUAL_SERVER, vs);
    if (key) c.virtualServers.push(vs);
  }, { block: 'required' }),
  kw('SSL', 0, 0, '{ password ca certificate key }', (c, st, cx) => {
    const s: SslContext = { location: cx.loc(st.keyword) };
    cx.block(st, SSL, s);
    c.ssl = s;
  }, { block: 'required' }),
  kw('lvskit_autoban', 0, 0, '{ threshold N ipset NAME whitelist { ... } static_blacklist FILE ... }', (c, st, cx) => {
    const a: AutobanConfig = { whitelist: [], location: cx.loc(st.keyword) };
    cx.block(st, LVSKIT_AUTOBAN, a);
    c.autoban = a;
  }, { block: 'required' }),
  // An include line with one pattern never gets here (the reader follows it); one with more or none does.
  ...['include', 'includer', 'includem', 'includew', 'includeb', 'includea'].map((name) => kw<KeepalivedConfig>(name, 0, Infinity, '<FILE|PATTERN>', (c, st, cx) => {
    cx.error(st.keyword, `\`${name}\` takes exactly one file name or pattern (quote a name with blanks); line ignored`, 'missing-argument');
  })),
  kw('static_ipaddress', 0, 0, '{ ADDR[/LEN] dev IF [label L] [scope S] [brd B] ... }', (c, st, cx) => {
    const list = c.staticIpAddresses ?? [];
    cx.list(st, STATIC_ADDRESSES, list);
    c.staticIpAddresses = list;
  }, { block: 'required' }),
  routeBlock<KeepalivedConfig>('static_routes', (c, routes) => { c.staticRoutes = [...(c.staticRoutes ?? []), ...routes]; }),
  ruleBlock<KeepalivedConfig>('static_rules', (c, rules) => { c.staticRules = [...(c.staticRules ?? []), ...rules]; }),
  kw('net_namespace', 1, 1, '<NAME>', (c, st) => { c.globalDefs.netNamespace = arg(st, 0).text; }),
  kw('net_namespace_ipvs', 0, 1, '[<NAME>]', (c, st) => { c.globalDefs.netNamespaceIpvs = st.args[0]?.text ?? ''; }),
], [
  ...unsupported('error', 'lvskit has no BFD', 'bfd_instance'),
  ...unsupported('ignored', 'only used with static addresses, routes and rules', 'track_group'),
  ...unsupported('ignored', 'interface polling and gratuitous ARP pacing per interface group are not provided',
    'linkbeat_interfaces', 'garp_group', 'interface_up_down_delays', 'linkbeat_use_polling'),
  ...unsupported('ignored', 'process naming and pid files of keepalived\'s own processes', 'instance', 'use_pid_dir', 'child_wait_time', 'namespace_with_ipsets'),
]);
