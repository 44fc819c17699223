// layer: example (an embedder's program)
// job: a small load-balancer daemon that embeds lvskit's Balancer: one VRRP instance and one DR service whose real servers are
//      health-checked, defined in code; events logged; SIGHUP re-reads the real servers from the environment, SIGTERM stops.
//
//   LB_INTERFACE=eth0 LB_VIP=10.0.0.100 LB_PRIORITY=150 LB_REAL_SERVERS=10.0.1.1,10.0.1.2 node dist/examples/balancer.js
import { Balancer, daemon, type BalancerSpec } from 'lvskit';

/** Settings from the environment (a real program would read its own configuration format). */
function settings(env: NodeJS.ProcessEnv): { iface: string; vip: string; priority: number; realServers: string[]; port: number } {
  const realServers = (env.LB_REAL_SERVERS ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (!env.LB_VIP || realServers.length === 0) throw new Error('set LB_VIP and LB_REAL_SERVERS (comma-separated addresses)');
  return {
    iface: env.LB_INTERFACE ?? 'eth0', vip: env.LB_VIP, priority: Number(env.LB_PRIORITY ?? 100),
    realServers, port: Number(env.LB_PORT ?? 80),
  };
}

/** The whole balancer as data: what keepalived.conf would say, in lvskit's own types. */
export function balancerSpec(env: NodeJS.ProcessEnv): BalancerSpec {
  const s = settings(env);
  return {
    instances: [{
      name: 'web', interface: s.iface, vrid: 51, priority: s.priority, advertIntervalMs: 1000,
      virtualAddresses: [{ address: `${s.vip}/32`, dev: s.iface, label: `${s.iface}:1` }],
    }],
    syncDaemon: { interface: s.iface, instance: 'web', syncId: 51 },
    services: [{
      id: 'web', service: { protocol: 'tcp', address: s.vip, port: s.port }, scheduler: 'rr', forward: 'dr', delayLoopMs: 2000,
      realServers: s.realServers.map((address) => ({
        address, weight: 10, inhibitOnFailure: true, checkers: [{ kind: 'TCP_CHECK', connectTimeoutMs: 1000 }],
      })),
    }],
  };
}

async function main(): Promise<void> {
  const balancer = await Balancer.open({ spec: balancerSpec(process.env), ...(process.env.LB_NETNS ? { netns: process.env.LB_NETNS } : {}) });
  const events = (async () => {
    for await (const event of balancer.events()) {
      const line = daemon.describeEvent(event);
      if (line.level !== 'debug') console.log(JSON.stringify({ level: line.level, message: line.message, source: event.source, type: event.type }));
    }
  })();
  process.on('SIGHUP', () => {
    balancer.reload({ source: { spec: balancerSpec(process.env) } })
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
  main().catch((error: Error) => {
    console.error(`balancer: ${error.message}`);
    process.exit(1);
  });
}
