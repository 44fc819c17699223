// layer: example (an embedder's program)
// job: a small load-balancer daemon that embeds lvskit's Balancer: one VRRP instance and one DR service whose real servers are
//      health-checked, defined in code from the program's own settings file; events logged; SIGHUP re-reads it, SIGTERM stops.
//
//   node dist/examples/balancer.js settings.json
//   settings.json: { "interface": "eth0", "vip": "10.0.0.100", "priority": 150, "port": 80, "realServers": ["10.0.1.1", "10.0.1.2"] }
import fs from 'node:fs';
import { Balancer, type BalancerSpec } from 'lvskit';
import * as daemon from 'lvskit/daemon';

/** The program's own settings (here a small JSON file; lvskit does not care where they come from). */
interface Settings { interface: string; vip: string; priority: number; port: number; realServers: string[]; netns?: string }

function readSettings(file: string): Settings {
  const s = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Settings>;
  if (!s.vip || !Array.isArray(s.realServers) || s.realServers.length === 0) throw new Error(`${file}: needs "vip" and "realServers"`);
  return { interface: s.interface ?? 'eth0', vip: s.vip, priority: s.priority ?? 100, port: s.port ?? 80, realServers: s.realServers, ...(s.netns ? { netns: s.netns } : {}) };
}

/** The whole balancer as data: what keepalived.conf would say, in lvskit's own types. */
export function balancerSpec(s: Settings): BalancerSpec {
  return {
    instances: [{
      name: 'web', interface: s.interface, vrid: 51, priority: s.priority, advertIntervalMs: 1000,
      virtualAddresses: [{ address: `${s.vip}/32`, dev: s.interface, label: `${s.interface}:1` }],
    }],
    syncDaemon: { interface: s.interface, instance: 'web', syncId: 51 },
    services: [{
      id: 'web', service: { protocol: 'tcp', address: s.vip, port: s.port }, scheduler: 'rr', forward: 'dr', delayLoopMs: 2000,
      realServers: s.realServers.map((address) => ({
        address, weight: 10, inhibitOnFailure: true, checkers: [{ kind: 'TCP_CHECK', connectTimeoutMs: 1000 }],
      })),
    }],
  };
}

async function main(file: string): Promise<void> {
  const first = readSettings(file);
  const balancer = await Balancer.open({ spec: balancerSpec(first), ...(first.netns ? { netns: first.netns } : {}) });
  const events = (async () => {
    for await (const event of balancer.events()) {
      const line = daemon.describeEvent(event);
      if (line.level !== 'debug') console.log(JSON.stringify({ level: line.level, message: line.message, source: event.source, type: event.type }));
    }
  })();
  process.on('SIGHUP', () => {
    Promise.resolve().then(() => balancer.reload({ source: { spec: balancerSpec(readSettings(file)) } }))
      .then((r) => console.log(JSON.stringify({ level: 'info', message: daemon.reloadSummary(r) })))
      .catch((error: Error) => console.log(JSON.stringify({ level: 'error', message: `reload refused: ${error.message}` })));
  });
  const stopped = new Promise<void>((resolve) => {
    const stop = (): void => { balancer.stop().then(resolve, resolve); };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  await balancer.start();
  await balancer.releaseOnSignal(['SIGTERM', 'SIGINT']);
  const status = await balancer.status();
  console.log(JSON.stringify({ level: 'info', message: 'running', instances: status.instances.map((i) => `${i.name} ${i.state}`), services: status.services.length }));
  await stopped;
  await events;
}

if (process.argv[1]?.endsWith('balancer.js')) {
  main(process.argv[2] ?? 'settings.json').catch((error: Error) => {
    console.error(`balancer: ${error.message}`);
    process.exit(1);
  });
}
