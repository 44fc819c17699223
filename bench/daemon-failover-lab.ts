// layer: benchmarks
// job: the lab of bench/daemon-failover.ts: the VRRP lab (peer, balancer, observer on one bridge), a real-server namespace answering TCP on 10,000 addresses, the configuration files, the peer MASTER (keepalived) and the loaded balancer as child processes.
import type { ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createNetns, type Netns } from '../test/helpers/netns.js';
import { createVrrpLab, type VrrpLab } from '../test/helpers/vrrp-lab.js';
import { startKeepalived, watch, type Speaker } from '../test/helpers/vrrp-procs.js';

export const SERVICES = 1000;
export const REAL_SERVERS = 10;
export const VRID = 93;
export const ADVERT_MS = 50;
export const BACKUP_PRIORITY = 100;
export const PEER_PRIORITY = 150;
/** The operator's delay_loop. */
export const DELAY_LOOP_S = 6;
const RS_PORT = 80;

/** Test helpers take an ava context for cleanup; here cleanups run at the end, last first. */
export function context(): { t: ExecutionContext; cleanup: () => Promise<void> } {
  const teardowns: Array<() => unknown> = [];
  const t = { teardown: (fn: () => unknown) => teardowns.push(fn), log: () => undefined } as unknown as ExecutionContext;
  return { t, cleanup: async () => { for (const fn of teardowns.reverse()) await fn(); } };
}

/** Real server `k` (0..9,999): 172.16.(k / 250).(k % 250 + 1), all local in the real-server namespace. */
export function realServerAddress(k: number): string {
  return `172.16.${Math.floor(k / 250)}.${(k % 250) + 1}`;
}

/** Virtual service `i` (0..999): 198.18.(i / 250).(i % 250 + 1):80. */
export function serviceAddress(i: number): string {
  return `198.18.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}

export interface DaemonLab {
  vrrp: VrrpLab;
  /** The peer MASTER's namespace and the loaded balancer's. */
  peerNs: Netns;
  lbNs: Netns;
  peerIp: string;
  lbIp: string;
  vip: string;
  /** TCP connections the real servers accepted so far (the checks that reached them). */
  accepted(): number;
}

/**
 * The VRRP lab with two balancers, and a real-server namespace behind the second one (a veth,
 * 172.16.0.0/16 routed to it, the whole /16 local there) with one listener on 0.0.0.0:80 in a
 * child process that accepts and closes, counting.
 */
export async function createDaemonLab(t: ExecutionContext): Promise<DaemonLab> {
  const vrrp = await createVrrpLab(t, 2);
  const [peer, lb] = vrrp.balancers as [typeof vrrp.balancers[0], typeof vrrp.balancers[0]];
  const rs = await createNetns(t);
  await lb.ns.ip('link', 'add', 'name', 'rs0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', rs.name);
  await lb.ns.ip('addr', 'add', '10.255.0.1/30', 'dev', 'rs0');
  await lb.ns.ip('link', 'set', 'rs0', 'up');
  await lb.ns.ip('route', 'add', '172.16.0.0/16', 'via', '10.255.0.2');
  await rs.ip('addr', 'add', '10.255.0.2/30', 'dev', 'eth0');
  await rs.ip('link', 'set', 'eth0', 'up');
  await rs.ip('route', 'add', 'local', '172.16.0.0/16', 'dev', 'lo');
  let accepted = 0;
  const code = `let n = 0; const s = require('net').createServer((c) => { n++; c.on('error', () => {}); c.destroy(); });
s.listen({ port: ${RS_PORT}, host: '0.0.0.0', backlog: 4096 }, () => console.log('ready'));
setInterval(() => console.log(n), 500);`;
  const child = spawn('ip', ['netns', 'exec', rs.name, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (c) => reject(new Error(`the real servers' listener exited (${c})`)));
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      for (const line of d.split('\n')) {
        if (line === 'ready') resolve();
        else if (/^\d+$/.test(line)) accepted = Number(line);
      }
    });
  });
  return { vrrp, peerNs: peer.ns, lbNs: lb.ns, peerIp: peer.ipv4, lbIp: lb.ipv4, vip: `${vrrp.net4}.100`, accepted: () => accepted };
}

function vrrpBlock(vip: string, priority: number): string {
  return `vrrp_instance VB {
  state BACKUP
  interface eth0
  version 3
  virtual_router_id ${VRID}
  priority ${priority}
  advert_int ${ADVERT_MS / 1000}
  virtual_ipaddress {
    ${vip} dev eth0
  }
}
`;
}

/** services/svcNNNN.conf: the operator's shape of service (rr, DR, weight 10, inhibit_on_failure, TCP_CHECK). `bump`: the real server whose weight is 11. */
export function serviceConfig(i: number, bump?: number): string {
  const rs = Array.from({ length: REAL_SERVERS }, (_, j) => `  real_server ${realServerAddress(i * REAL_SERVERS + j)} ${RS_PORT} {
    weight ${j === bump ? 11 : 10}
    inhibit_on_failure
    TCP_CHECK {
      connect_timeout 3
    }
  }
`).join('');
  return `virtual_server ${serviceAddress(i)} 80 {
  delay_loop ${DELAY_LOOP_S}
  lb_algo rr
  lb_kind DR
  protocol TCP
${rs}}
`;
}

export interface DaemonFiles {
  dir: string;
  /** keepalived.conf: the instance and `include services/*.conf`. */
  full: string;
  /** vrrp.conf: the instance alone (the idle balancer, and the VRRP part of a balancer without IPVS). */
  vrrpOnly: string;
  /** services.conf: the services without the instance (the load's process when keepalived is the backup). */
  servicesOnly: string;
  /** empty.conf: neither (the load's process beside keepalived, without IPVS). */
  empty: string;
}

/** The loaded balancer's files, in the operator's layout (not under /tmp: a user-mode Linux guest hides the host's). */
export function writeDaemonFiles(t: ExecutionContext, vip: string): DaemonFiles {
  const dir = fs.mkdtempSync('/var/tmp/lvskit-daemon-failover-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'services'));
  const head = 'global_defs {\n  router_id lb2\n}\n\n';
  fs.writeFileSync(path.join(dir, 'keepalived.conf'), `${head}${vrrpBlock(vip, BACKUP_PRIORITY)}\ninclude services/*.conf\n`);
  fs.writeFileSync(path.join(dir, 'vrrp.conf'), `${head}${vrrpBlock(vip, BACKUP_PRIORITY)}`);
  fs.writeFileSync(path.join(dir, 'services.conf'), `${head}include services/*.conf\n`);
  fs.writeFileSync(path.join(dir, 'empty.conf'), head);
  for (let i = 0; i < SERVICES; i++) fs.writeFileSync(path.join(dir, 'services', `svc${String(i).padStart(4, '0')}.conf`), serviceConfig(i));
  return { dir, full: path.join(dir, 'keepalived.conf'), vrrpOnly: path.join(dir, 'vrrp.conf'), servicesOnly: path.join(dir, 'services.conf'), empty: path.join(dir, 'empty.conf') };
}

/** The peer MASTER: keepalived --vrrp, priority 150, same VRID, 50 ms adverts (SIGKILL goes to its VRRP child). */
export function startPeer(t: ExecutionContext, lab: DaemonLab): Speaker {
  const conf = `global_defs {\n  router_id lb1\n}\n${vrrpBlock(lab.vip, PEER_PRIORITY)}`;
  return startKeepalived(t, lab.peerNs, conf, `keepalived-peer-${Math.random().toString(36).slice(2, 8)}`);
}

/** keepalived --vrrp as the backup (priority 100) in the balancer's namespace: the baseline, VRRP in a process of its own. */
export function startBackupKeepalived(t: ExecutionContext, lab: DaemonLab): Speaker {
  const conf = `global_defs {\n  router_id lb2\n}\n${vrrpBlock(lab.vip, BACKUP_PRIORITY)}`;
  return startKeepalived(t, lab.lbNs, conf, `keepalived-backup-${Math.random().toString(36).slice(2, 8)}`);
}

/** What the loaded balancer runs (bench/daemon-failover-daemon.ts reads it as JSON). */
export interface DaemonOptions {
  files: DaemonFiles;
  /** false: the process has no VRRP instance (keepalived beside it is the backup). */
  vrrp: boolean;
  load: 'none' | 'full';
  /** Which parts of the load run (default all three): for finding which one a delay comes from. */
  loads?: Array<'checks' | 'scan' | 'reload'>;
  isolation: 'worker' | 'inline';
  /** A Balancer of the whole file (IPVS), or without IPVS: a Balancer of the instance, the checks and reload planning beside it. */
  ipvs: boolean;
  /** The synthetic 1,000,000-row table to scan. */
  connsFile: string;
  scanThreads: 1 | 2;
  /** null: the VRRP worker thread stays at the process's priority (BalancerOptions.vrrpThreadNice). */
  vrrpThreadNice?: null;
}

const daemonScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'daemon-failover-daemon.js');

/** The loaded balancer as a child process inside the balancer's namespace (checks connect from there); JSON lines on stdout. */
export function startLoadedBalancer(t: ExecutionContext, lab: DaemonLab, options: DaemonOptions): Speaker {
  const child = spawn('ip', ['netns', 'exec', lab.lbNs.name, process.execPath, daemonScript, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const speaker = watch('loaded balancer', child, () => child.pid, (l) => l.json?.kind === 'started');
  if (process.env['LVSKIT_BENCH_VERBOSE']) {
    child.stdout!.on('data', (d: string) => process.stderr.write(`  [balancer ${(performance.now() / 1000).toFixed(3)}] ${d}`));
    child.stderr!.on('data', (d: string) => process.stderr.write(`  [balancer] ${d}`));
  }
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await speaker.exited;
    }
  });
  return speaker;
}
