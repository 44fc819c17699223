// layer: tests (IPVS tier)
// job: `lvskit run` with keepalived.conf's DNS_CHECK and UDP_CHECK (require_reply) on a UDP service: real servers UP with their weights in the kernel, then DOWN at weight 0 (inhibit_on_failure) with the new failure reasons in `lvskit status --json` and /metrics, then UP again.
import test, { type ExecutionContext } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import type { BalancerStatus } from '../../src/daemon/events.js';
import { daemonFiles, logged, startDaemon } from '../helpers/daemon-procs.js';
import { ipvsNetns, type IpvsNs } from '../helpers/ipvs.js';

const LISTEN = '127.0.0.1:19117';

/** GET /metrics from inside the namespace. */
async function scrape(x: IpvsNs): Promise<string> {
  return x.ns.exec([process.execPath, '-e', `fetch('http://${LISTEN}/metrics').then(async (r) => process.stdout.write(await r.text()))`]);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const CONF = `virtual_server 10.0.0.1 53 {
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  protocol UDP
  real_server 10.0.1.1 5353 {
    weight 3
    inhibit_on_failure
    DNS_CHECK {
      type A
      name www.example.test
      connect_timeout 1
      retry 0
    }
  }
  real_server 10.0.1.2 7 {
    weight 2
    inhibit_on_failure
    UDP_CHECK {
      payload 70 69 6e 67
      require_reply 70 69 6e 67
      connect_timeout 1
      retry 0
    }
  }
}
`;

/** A DNS responder (NOERROR to every query) on 10.0.1.1:5353 and a UDP echo on 10.0.1.2:7, in the namespace. */
const SERVERS = `
const dgram = require('node:dgram');
const dns = dgram.createSocket('udp4');
dns.on('message', (m, r) => { const a = Buffer.from(m); a[2] |= 0x80; a[3] &= 0xf0; dns.send(a, r.port, r.address); });
dns.bind(5353, '10.0.1.1');
const echo = dgram.createSocket('udp4');
echo.on('message', (m, r) => echo.send(m, r.port, r.address));
echo.bind(7, '10.0.1.2', () => console.log('ready'));`;

function startServers(t: ExecutionContext, x: IpvsNs): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', x.ns.name, process.execPath, '-e', SERVERS], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => { child.kill('SIGKILL'); });
  return new Promise((resolve) => child.stdout!.setEncoding('utf8').once('data', () => resolve(child)));
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(200);
  }
}

test.serial('lvskit run: DNS_CHECK and UDP_CHECK drive the real servers\' weights; lvskit status --json names why they are DOWN', async (t) => {
  const x = await ipvsNetns(t);
  t.timeout(180_000);
  for (const a of ['10.0.1.1/32', '10.0.1.2/32']) await x.ns.ip('addr', 'add', a, 'dev', 'lo');
  const servers = await startServers(t, x);
  const files = daemonFiles(t, { 'keepalived.conf': CONF });
  const daemon = startDaemon(t, x.ns, files, ['--metrics-listen', LISTEN]);
  await daemon.waitFor(logged('daemon', 'started'), 30_000);
  const status = async (): Promise<BalancerStatus> => {
    const out = await daemon.cli('status', '--json');
    if (out.code !== 0) throw new Error(`lvskit status --json: exit ${out.code}: ${out.stderr}`);
    return JSON.parse(out.stdout) as BalancerStatus;
  };
  const realServers = async () => (await status()).services[0]?.realServers ?? [];
  await until('both UP at their weights', async () => {
    const rs = await realServers();
    return rs[0]?.up === true && rs[0].kernelWeight === 3 && rs[1]?.up === true && rs[1].kernelWeight === 2;
  });
  t.regex(await x.ipvsadm('-Ln'), /UDP {2}10\.0\.0\.1:53 rr\n {2}-> 10\.0\.1\.1:5353 +Masq +3[\s\S]*-> 10\.0\.1\.2:7 +Masq +2/);
  servers.kill('SIGKILL');
  await until('both DOWN at weight 0', async () => {
    const rs = await realServers();
    return rs[0]?.up === false && rs[0].kernelWeight === 0 && rs[1]?.up === false && rs[1].kernelWeight === 0;
  });
  const [dns, udp] = await realServers();
  t.regex(dns?.downReason?.checker ?? '', /^DNS_CHECK /);
  t.like(dns?.downReason?.failure, { reason: 'port-unreachable', message: 'DNS 10.0.1.1:5353: ICMP port unreachable (ECONNREFUSED)' });
  t.regex(udp?.downReason?.checker ?? '', /^UDP_CHECK /);
  t.like(udp?.downReason?.failure, { reason: 'port-unreachable', message: 'UDP 10.0.1.2:7: ICMP port unreachable (ECONNREFUSED)' });
  const text = await daemon.cli('status');
  t.log(text.stdout);
  t.regex(text.stdout, /UDP_CHECK: UDP 10\.0\.1\.2:7: ICMP port unreachable/, 'lvskit status says why');
  const metrics = await scrape(x);
  t.regex(metrics, /^lvskit_check_results_total\{result="port-unreachable"\} [1-9]/m);
  t.regex(metrics, /^lvskit_check_failures_total\{[^}]*real_server="10\.0\.1\.2:7"[^}]*reason="port-unreachable"[^}]*\} [1-9]/m);
  await startServers(t, x);
  await until('both UP again', async () => (await realServers()).every((r) => r.up === true && r.kernelWeight === (r.port === 5353 ? 3 : 2)));
});
