// layer: config (pure)
// job: cross-checks over the whole model: duplicates, VRID clashes, VIPs in two instances, undefined references,
//      virtual servers without real servers, settings that cannot work together. Each message names its place.
import type { Diagnostics, SourceLocation } from './diagnostics.js';
import {
  virtualServerName, type KeepalivedConfig, type RealServer, type VirtualServer, type VirtualServerGroup, type VrrpInstance,
} from './model.js';

const first = (what: string, location: SourceLocation) => [{ message: `${what} is here`, location }];

/** Runs every cross-check; diagnostics go to `diags`. */
export function validateConfig(config: KeepalivedConfig, diags: Diagnostics): void {
  const instances = validateInstances(config, diags);
  validateSyncGroups(config, instances, diags);
  validateScripts(config, diags);
  validateProcesses(config, diags);
  validateSyncDaemon(config, instances, diags);
  validateVirtualServers(config, diags);
  validateAutoban(config, diags);
}

function uniqueByName<T extends { name: string; location: SourceLocation }>(items: readonly T[], what: string, diags: Diagnostics): Map<string, T> {
  const byName = new Map<string, T>();
  for (const item of items) {
    const prev = byName.get(item.name);
    if (prev) diags.error('duplicate', item.location, `${what} \`${item.name}\` is defined twice`, first(`the first ${what} ${item.name}`, prev.location));
    else byName.set(item.name, item);
  }
  return byName;
}

function instanceFamily(vi: VrrpInstance): 4 | 6 {
  return vi.virtualIpAddresses[0]?.family ?? 4;
}

function validateInstances(config: KeepalivedConfig, diags: Diagnostics): Map<string, VrrpInstance> {
  const byName = uniqueByName(config.vrrpInstances, 'vrrp_instance', diags);
  const scripts = new Set(config.vrrpScripts.map((s) => s.name));
  const vrids = new Map<string, VrrpInstance>();
  const vips = new Map<string, { instance: string; location: SourceLocation }>();
  const version = config.globalDefs.vrrpVersion ?? 2;
  for (const vi of config.vrrpInstances) {
    const name = `vrrp_instance ${vi.name}`;
    if (vi.virtualRouterId === undefined) diags.error('missing-setting', vi.location, `${name} has no virtual_router_id (1..255): it must be set`);
    if (vi.interface === undefined && vi.unicastPeers.length === 0) diags.error('missing-setting', vi.location, `${name} has no interface (only unicast instances may omit it)`);
    if (vi.virtualIpAddresses.length === 0 && vi.virtualIpAddressesExcluded.length === 0) diags.warning('missing-setting', vi.location, `${name} has no virtual_ipaddress`);
    const family = instanceFamily(vi);
    const mixed = vi.virtualIpAddresses.find((v) => v.family !== family);
    if (mixed) diags.error('conflict', mixed.location, `${name}: virtual_ipaddress mixes IPv4 and IPv6 (put the other family in virtual_ipaddress_excluded)`);
    if (family === 6 && vi.version === 2) diags.error('conflict', vi.location, `${name}: IPv6 instances use VRRP version 3, not version 2`);
    const v = family === 6 ? 3 : vi.version ?? version;
    if (v === 2 && vi.advertIntervalMs !== undefined && vi.advertIntervalMs % 1000 !== 0) {
      diags.warning('conflict', vi.location, `${name}: VRRPv2 advertises whole seconds; advert_int ${vi.advertIntervalMs / 1000} is rounded as keepalived rounds it`);
    }
    if (v === 3 && vi.authentication) diags.warning('conflict', vi.location, `${name}: VRRPv3 has no authentication; the authentication block is ignored`);
    if (vi.unicastTtl !== undefined && vi.unicastPeers.length === 0) {
      diags.error('conflict', vi.keywordLocations?.['unicast_ttl'] ?? vi.location, `${name}: unicast_ttl without unicast_peer (keepalived -t refuses it)`);
    }
    if (vi.nopreempt && vi.state === 'MASTER') diags.warning('conflict', vi.location, `${name}: nopreempt needs the initial state BACKUP (keepalived ignores nopreempt with state MASTER)`);
    for (const t of vi.trackScripts) {
      if (!scripts.has(t.name)) diags.error('undefined-reference', t.location, `${name} tracks vrrp_script \`${t.name}\`, which is not defined`);
    }
    trackedFiles(config, name, vi.trackFiles, diags);
    trackedProcesses(config, name, vi.trackProcesses, diags);
    for (const t of vi.trackInterfaces) {
      if (t.name === vi.interface) diags.warning('conflict', t.location, `${name} tracks its own interface ${t.name}, which it always does; keepalived ignores this entry`);
      else if (t.name.includes(':')) diags.warning('conflict', t.location, `${t.name} is an address label, not an interface; it cannot be tracked (keepalived: "tracked interface ${t.name} doesn't exist")`);
    }
    checkVrid(vi, family, vrids, diags);
    for (const vip of [...vi.virtualIpAddresses, ...vi.virtualIpAddressesExcluded]) {
      const prev = vips.get(vip.address);
      if (!prev) {
        vips.set(vip.address, { instance: vi.name, location: vip.location });
      } else if (prev.instance === vi.name) {
        diags.warning('duplicate', vip.location, `${vip.address} is listed twice in ${name}`, first(`the first ${vip.address}`, prev.location));
      } else {
        diags.error('duplicate', vip.location, `${vip.address} is a virtual address of both vrrp_instance ${prev.instance} and ${vi.name}`,
          first(`${vip.address} of ${prev.instance}`, prev.location));
      }
      const dev = vip.device ?? vi.interface;
      if (vip.label !== undefined && dev !== undefined && !vip.label.startsWith(dev)) {
        diags.error('conflict', vip.location, `label ${vip.label} must begin with the interface name ${dev} (e.g. ${dev}:1)`);
      }
    }
  }
  return byName;
}

/** Two instances may share a VRID on an interface only with different multicast groups or disjoint unicast peers. */
function checkVrid(vi: VrrpInstance, family: 4 | 6, seen: Map<string, VrrpInstance>, diags: Diagnostics): void {
  if (vi.virtualRouterId === undefined || vi.interface === undefined) return;
  const key = `${vi.interface}\0${vi.virtualRouterId}\0${family}`;
  const prev = seen.get(key);
  if (!prev) {
    seen.set(key, vi);
    return;
  }
  const unicast = vi.unicastPeers.length > 0 && prev.unicastPeers.length > 0;
  const overlap = unicast && vi.unicastPeers.some((p) => prev.unicastPeers.some((q) => q.address === p.address));
  const differentGroup = !unicast && (vi.mcastDestination ?? '') !== (prev.mcastDestination ?? '');
  if ((unicast && !overlap) || differentGroup) return;
  diags.error('duplicate', vi.location,
    `vrrp_instance ${vi.name} uses virtual_router_id ${vi.virtualRouterId} on ${vi.interface}, as vrrp_instance ${prev.name} does (IPv${family})`,
    first(`vrrp_instance ${prev.name}`, prev.location));
}

function validateSyncGroups(config: KeepalivedConfig, instances: Map<string, VrrpInstance>, diags: Diagnostics): void {
  uniqueByName(config.vrrpSyncGroups, 'vrrp_sync_group', diags);
  const scripts = new Set(config.vrrpScripts.map((s) => s.name));
  const member = new Map<string, string>();
  for (const g of config.vrrpSyncGroups) {
    if (g.group.length === 0) diags.error('missing-setting', g.location, `vrrp_sync_group ${g.name} has no group { } of instances`);
    else if (g.group.length === 1) diags.warning('missing-setting', g.location, `vrrp_sync_group ${g.name} has only one instance; a sync group of one synchronises nothing`);
    for (const m of g.group) {
      if (!instances.has(m.name)) diags.error('undefined-reference', m.location, `vrrp_sync_group ${g.name} names vrrp_instance \`${m.name}\`, which is not defined`);
      const other = member.get(m.name);
      if (other !== undefined) diags.error('conflict', m.location, `vrrp_instance ${m.name} is in vrrp_sync_group ${other} already; an instance belongs to one group`);
      else member.set(m.name, g.name);
    }
    for (const t of g.trackScripts) {
      if (!scripts.has(t.name)) diags.error('undefined-reference', t.location, `vrrp_sync_group ${g.name} tracks vrrp_script \`${t.name}\`, which is not defined`);
    }
    trackedFiles(config, `vrrp_sync_group ${g.name}`, g.trackFiles, diags);
    trackedProcesses(config, `vrrp_sync_group ${g.name}`, g.trackProcesses, diags);
  }
}

function validateScripts(config: KeepalivedConfig, diags: Diagnostics): void {
  uniqueByName(config.vrrpScripts, 'vrrp_script', diags);
  for (const s of config.vrrpScripts) {
    if (!s.script) diags.error('missing-setting', s.location, `vrrp_script ${s.name} has no script`);
  }
  uniqueByName(config.trackFiles ?? [], 'track_file', diags);
  for (const f of config.trackFiles ?? []) {
    if (f.file === undefined) diags.error('missing-setting', f.location, `track_file ${f.name} has no file`);
  }
}

/** vrrp_track_process blocks: each names a process; quorum within quorum_max (keepalived refuses the later of the two lines). */
function validateProcesses(config: KeepalivedConfig, diags: Diagnostics): void {
  uniqueByName(config.trackProcesses ?? [], 'vrrp_track_process', diags);
  for (const p of config.trackProcesses ?? []) {
    if (p.process === undefined) diags.error('missing-setting', p.location, `vrrp_track_process ${p.name} has no process (keepalived: "process name not specified")`);
    if (p.quorum !== undefined && p.quorumMax !== undefined && p.quorum > p.quorumMax) {
      diags.error('conflict', p.location, `vrrp_track_process ${p.name}: quorum ${p.quorum} is above quorum_max ${p.quorumMax}; no number of processes could be OK`);
    }
  }
}

/** A FILE_CHECK names a track_file that is defined (keepalived: "FILE_CHECK has no track_file specified", "track_file NAME not found"). */
function fileCheckFile(config: KeepalivedConfig, c: { trackFile?: string; location: SourceLocation }, address: string, diags: Diagnostics): void {
  if (c.trackFile === undefined) diags.error('missing-setting', c.location, `FILE_CHECK of real_server ${address} has no track_file`);
  else if (!(config.trackFiles ?? []).some((f) => f.name === c.trackFile)) diags.error('undefined-reference', c.location, `FILE_CHECK of real_server ${address} names track_file \`${c.trackFile}\`, which is not defined`);
}

/** An instance's or sync group's track_file (or track_process) entries: each names a defined block, once. */
function trackedFiles(config: KeepalivedConfig, owner: string, entries: readonly { name: string; location: SourceLocation }[] | undefined, diags: Diagnostics,
  block = 'track_file', defined: readonly { name: string }[] = config.trackFiles ?? []): void {
  const names = new Set(defined.map((f) => f.name));
  const seen = new Set<string>();
  for (const t of entries ?? []) {
    if (!names.has(t.name)) diags.error('undefined-reference', t.location, `${owner} tracks ${block} \`${t.name}\`, which is not defined`);
    else if (seen.has(t.name)) diags.error('conflict', t.location, `${owner} tracks ${block} ${t.name} twice`);
    seen.add(t.name);
  }
}

/** An instance's or sync group's track_process entries: each names a vrrp_track_process, once. */
function trackedProcesses(config: KeepalivedConfig, owner: string, entries: readonly { name: string; location: SourceLocation }[] | undefined, diags: Diagnostics): void {
  trackedFiles(config, owner, entries, diags, 'vrrp_track_process', config.trackProcesses ?? []);
}

function validateSyncDaemon(config: KeepalivedConfig, instances: Map<string, VrrpInstance>, diags: Diagnostics): void {
  const global = config.globalDefs.lvsSyncDaemon;
  if (global?.instance !== undefined && !instances.has(global.instance)) {
    diags.error('undefined-reference', global.location, `lvs_sync_daemon names vrrp_instance \`${global.instance}\`, which is not defined`);
  }
  const legacy = config.vrrpInstances.filter((vi) => vi.lvsSyncDaemonInterface !== undefined);
  const firstLegacy = legacy[0];
  for (const vi of legacy) {
    if (global) {
      diags.warning('conflict', vi.location, `vrrp_instance ${vi.name}: lvs_sync_daemon_interface is overridden by global_defs lvs_sync_daemon`,
        first('lvs_sync_daemon', global.location));
    } else if (firstLegacy && vi !== firstLegacy) {
      diags.warning('conflict', vi.location, `vrrp_instance ${vi.name}: the IPVS sync daemon runs once; vrrp_instance ${firstLegacy.name} already drives it, so this lvs_sync_daemon_interface is ignored`,
        first(`vrrp_instance ${firstLegacy.name}`, firstLegacy.location));
    }
  }
}

function vsFamily(vs: VirtualServer, groups: ReadonlyMap<string, VirtualServerGroup>): 4 | 6 | undefined {
  if (vs.key.kind === 'address') return vs.key.family;
  if (vs.ipFamily) return vs.ipFamily;
  if (vs.key.kind === 'group') {
    const e = groups.get(vs.key.group)?.entries.find((x) => x.kind === 'address');
    return e?.kind === 'address' ? e.family : undefined;
  }
  return undefined;
}

function validateVirtualServers(config: KeepalivedConfig, diags: Diagnostics): void {
  const groups = uniqueByName(config.virtualServerGroups, 'virtual_server_group', diags);
  const seen = new Map<string, VirtualServer>();
  for (const vs of config.virtualServers) {
    const byAddress = vs.key.kind === 'address' || (vs.key.kind === 'group' && groups.get(vs.key.group)?.entries.some((e) => e.kind === 'address') === true);
    // keepalived: an address-based service without `protocol` is UDP (the kernel's default for protocol 0).
    const name = `virtual_server ${virtualServerName(vs.key, vs.protocol ?? (byAddress ? 'UDP' : undefined))}`;
    const prev = seen.get(name);
    if (prev) diags.error('duplicate', vs.location, `${name} is defined twice`, first(`the first ${name}`, prev.location));
    else seen.set(name, vs);
    if (vs.key.kind === 'group' && !groups.has(vs.key.group)) {
      diags.error('undefined-reference', vs.location, `${name}: virtual_server_group \`${vs.key.group}\` is not defined`);
    }
    if (byAddress && vs.protocol === undefined) {
      diags.warning('missing-setting', vs.location, `${name} has no protocol; keepalived then uses UDP (write \`protocol TCP\` for TCP services)`);
    }
    if (vs.key.kind === 'fwmark' && vs.protocol !== undefined) {
      diags.warning('conflict', vs.location, `${name}: protocol is ignored for a firewall-mark service`);
    }
    // keepalived -t refuses what keepalived itself would reset: an error here.
    if (vs.onePacketScheduling && byAddress && vs.protocol !== 'UDP') {
      diags.error('conflict', vs.location, `${name}: ops (one-packet scheduling) needs UDP (keepalived -t refuses it; keepalived would reset it)`);
    }
    if (vs.haSuspend && vs.key.kind === 'fwmark') diags.warning('conflict', vs.location, `${name}: ha_suspend cannot be used with a firewall mark; keepalived clears it`);
    if (vs.key.kind === 'address' && !vs.key.port && vs.persistenceTimeoutSec === undefined) {
      diags.warning('missing-setting', vs.location, `${name} has no port; only persistent services may omit it, so keepalived makes it persistent (persistence_timeout 360)`);
    }
    if (vs.realServers.length === 0) {
      diags.warning('no-real-servers', vs.location, `${name} has no real servers${vs.sorryServer ? ' (only a sorry_server)' : ''}; keepalived ignores such a virtual server`);
    }
    const totalWeight = vs.realServers.reduce((sum, rs) => sum + (rs.weight ?? 1), 0);
    if (vs.realServers.length > 0 && (vs.quorum ?? 1) > totalWeight) {
      diags.error('conflict', vs.location, `${name}: quorum ${vs.quorum ?? 1} exceeds the total weight of its real servers, ${totalWeight} ` +
        '(keepalived -t refuses it; keepalived would lower the quorum)');
    } else if (vs.hysteresis !== undefined && vs.hysteresis >= (vs.quorum ?? 1)) {
      diags.error('conflict', vs.location, `${name}: hysteresis ${vs.hysteresis} is not below quorum ${vs.quorum ?? 1} (keepalived -t refuses it; keepalived would reset it to quorum - 1)`);
    }
    if (vs.ipFamily !== undefined && vs.key.kind === 'address' && vs.key.family !== vs.ipFamily) {
      diags.error('conflict', vs.location, `${name}: ip_family inet${vs.ipFamily === 6 ? '6' : ''} conflicts with its IPv${vs.key.family} address`);
    }
    const shFlags = vs.schedulerFlags.filter((f) => f.startsWith('sh-') || f.startsWith('mh-'));
    for (const f of shFlags) {
      if (vs.scheduler !== f.slice(0, 2)) diags.warning('conflict', vs.location, `${name}: ${f} only applies to the ${f.slice(0, 2)} scheduler`);
    }
    const family = vsFamily(vs, groups);
    if (vs.sorryServer && family !== undefined && vs.sorryServer.family !== family && (vs.sorryServerMethod ?? vs.method)?.kind !== 'TUN') {
      diags.error('conflict', vs.location, `${name}: sorry_server ${vs.sorryServer.address} is IPv${vs.sorryServer.family}, the virtual server IPv${family} (only TUN may mix)`);
    }
    validateRealServers(config, vs, name, family, diags);
  }
}

function validateRealServers(config: KeepalivedConfig, vs: VirtualServer, name: string, family: 4 | 6 | undefined, diags: Diagnostics): void {
  const seen = new Map<string, RealServer>();
  for (const rs of vs.realServers) {
    const port = rs.port ?? (vs.key.kind === 'address' ? vs.key.port : undefined) ?? 0;
    const id = `${rs.address} ${port}`;
    const prev = seen.get(id);
    if (prev) diags.error('duplicate', rs.location, `${name}: real_server ${rs.address} ${port} is listed twice`, first('the first one', prev.location));
    else seen.set(id, rs);
    if (family !== undefined && rs.family !== family && (rs.method ?? vs.method)?.kind !== 'TUN') {
      diags.error('conflict', rs.location, `${name}: real_server ${rs.address} is IPv${rs.family}, the virtual server IPv${family} (only TUN real servers may differ)`);
    }
    if (rs.upperThreshold !== undefined && rs.lowerThreshold !== undefined && rs.upperThreshold !== 0 && rs.lowerThreshold > rs.upperThreshold) {
      diags.error('conflict', rs.location, `real_server ${rs.address}: lthreshold ${rs.lowerThreshold} is above uthreshold ${rs.upperThreshold}`);
    }
    for (const c of rs.checkers) {
      if ((c.type === 'HTTP_GET' || c.type === 'SSL_GET') && c.urls.length === 0) diags.error('missing-setting', c.location, `${c.type} of real_server ${rs.address} has no url { }`);
      if (c.type === 'HTTP_GET' || c.type === 'SSL_GET') {
        for (const u of c.urls) if (u.path === undefined) diags.error('missing-setting', u.location, `url of ${c.type} (real_server ${rs.address}) has no path`);
      }
      if (c.type === 'MISC_CHECK' && !c.path) diags.error('missing-setting', c.location, `MISC_CHECK of real_server ${rs.address} has no misc_path`);
      if (c.type === 'FILE_CHECK') fileCheckFile(config, c, rs.address, diags);
      if (c.type === 'UDP_CHECK' && (c.minReplyLength ?? 0) > (c.maxReplyLength ?? 255)) {
        diags.error('conflict', c.location, `UDP_CHECK of real_server ${rs.address}: min_reply_length ${c.minReplyLength ?? 0} is above max_reply_length ${c.maxReplyLength ?? 255}; every reply would fail (keepalived -t refuses it)`);
      }
    }
  }
}

function validateAutoban(config: KeepalivedConfig, diags: Diagnostics): void {
  const a = config.autoban;
  if (!a) return;
  if (a.threshold === undefined) diags.error('missing-setting', a.location, 'lvskit_autoban needs a threshold (ESTABLISHED connections per client)');
  if (a.ipset === undefined) diags.error('missing-setting', a.location, 'lvskit_autoban needs an ipset (the set whose members the firewall drops)');
}
