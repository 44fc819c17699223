// layer: daemon (the shell of preflight)
// job: read the snapshot preflight needs from the live system — links over rtnetlink, sysctls from /proc/sys, IPVS through generic netlink, the firewall — and fix strict rp_filter when asked.
import { existsSync } from 'node:fs';
import type { Diagnostic } from '../config/diagnostics.js';
import type { KeepalivedConfig } from '../config/model.js';
import { GenlSocket } from '../genl/client.js';
import { checkFirewall } from '../ipset/firewall-check.js';
import { RtnlClient } from '../rtnl/client.js';
import { readSysctlNumber, writeSysctl } from '../sysctl/sysctl.js';
import { evaluatePreflight, rpFilterFixes, snapshotRequest, type SnapshotRequest, type SystemSnapshot } from './preflight.js';
import { preflightNeeds } from './preflight-needs.js';

/** Where and how to look; the defaults are the live system. */
export interface PreflightOptions {
  /** Sysctl root (default /proc/sys). */
  sysctlRoot?: string;
  /** Set each sysctl that makes rp_filter strict on a needed link to 0 (lvskit run --fix-rp-filter). */
  fixRpFilter?: boolean;
}

/** What preflight found, and what it changed (only with fixRpFilter). */
export interface PreflightResult {
  diagnostics: Diagnostic[];
  fixed: { name: string; from: number; to: 0 }[];
}

/**
 * IPVS is there when /proc/net/ip_vs is, or when generic netlink knows the family IPVS (asking
 * loads the module where it can be loaded, as the IPVS client's first request would).
 */
async function ipvsPresent(): Promise<boolean> {
  if (existsSync('/proc/net/ip_vs')) return true;
  const genl = GenlSocket.open();
  try {
    await genl.family('IPVS');
    return true;
  } catch {
    return false;
  } finally {
    genl.close();
  }
}

/**
 * The system as `request` needs it, in the namespace of the calling thread: run it after
 * `enterNetns()` for another namespace (sysctls and /proc/net follow the thread; the firewall tools
 * inherit it).
 */
export async function readSystemSnapshot(request: SnapshotRequest, options: Pick<PreflightOptions, 'sysctlRoot'> = {}): Promise<SystemSnapshot> {
  const rtnl = RtnlClient.open();
  let links: string[];
  try {
    links = (await rtnl.listLinks()).map((l) => l.name);
  } finally {
    rtnl.close();
  }
  const sysctls: Record<string, number | undefined> = {};
  for (const name of request.sysctls) sysctls[name] = readSysctlNumber(name, options.sysctlRoot);
  const snapshot: SystemSnapshot = { links, sysctls };
  if (request.ipvs) snapshot.ipvs = await ipvsPresent();
  if (request.firewallSet !== undefined) {
    const check = await checkFirewall(request.firewallSet);
    snapshot.firewall = { ok: check.ok, notes: check.notes };
  }
  return snapshot;
}

/**
 * Preflight of a configuration against the live system. With `fixRpFilter`, each sysctl that makes
 * rp_filter strict on a VIP's or the sync daemon's link is set to 0 first, then the system is read
 * again (so a write the kernel ignored is still reported).
 */
export async function preflight(config: KeepalivedConfig, options: PreflightOptions = {}): Promise<PreflightResult> {
  const needs = preflightNeeds(config);
  const request = snapshotRequest(needs);
  let snapshot = await readSystemSnapshot(request, options);
  const fixed: PreflightResult['fixed'] = [];
  if (options.fixRpFilter) {
    for (const f of rpFilterFixes(needs, snapshot)) {
      writeSysctl(f.name, 0, options.sysctlRoot);
      fixed.push({ ...f, to: 0 });
    }
    if (fixed.length > 0) snapshot = await readSystemSnapshot(request, options);
  }
  return { diagnostics: evaluatePreflight(needs, snapshot), fixed };
}
