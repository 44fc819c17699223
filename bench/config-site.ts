// layer: benchmarks
// job: the generated 5,000-service configuration in the operator's layout (keepalived.conf with the instances, one services/*.conf per virtual server), a scratch namespace with its interfaces for keepalived -t, and keepalived -t itself.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const MARKER = 'lvskit_bench_end_marker';
const VRIDS_PER_INTERFACE = 250;

export interface Layout {
  dir: string;
  main: string;
  /** The same configuration plus the end marker (an unknown keyword) after the include. */
  marked: string;
  markerLine: number;
  bytes: number;
  lines: number;
  files: number;
  interfaces: number;
}

export function generate(services: number): Layout {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvskit-bench-config-'));
  fs.mkdirSync(path.join(dir, 'services'));
  const main: string[] = ['global_defs {', '    router_id lb1', '}', ''];
  let bytes = 0;
  let lines = 0;
  for (let i = 0; i < services; i++) {
    const ifname = `eth${Math.floor(i / VRIDS_PER_INTERFACE)}`;
    const vrid = (i % VRIDS_PER_INTERFACE) + 1;
    const vip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    main.push(`vrrp_instance VI_${i} {`, '    state BACKUP', `    interface ${ifname}`, `    virtual_router_id ${vrid}`, '    priority 100',
      '    advert_int 1', '    authentication {', '        auth_type PASS', `        auth_pass p${i % 10000}`, '    }',
      '    virtual_ipaddress {', `        ${vip} dev ${ifname} label ${ifname}:${vrid}`, '    }', '}', '');
    const svc = [`# service${i}.example.com`, `virtual_server ${vip} 80 {`, '    delay_loop 6', '    lb_algo rr', '    lb_kind DR', '    protocol TCP'];
    for (let r = 0; r < 3; r++) {
      svc.push(`    real_server 172.${16 + r}.${(i >> 8) & 255}.${i & 255} 80 {`, '        weight 10', '        inhibit_on_failure',
        '        TCP_CHECK {', '            connect_timeout 3', '        }', '    }');
    }
    svc.push('}', '');
    const text = svc.join('\n');
    fs.writeFileSync(path.join(dir, 'services', `service${String(i).padStart(5, '0')}.example.com.conf`), text);
    bytes += text.length;
    lines += svc.length - 1;
  }
  main.push('include services/*.conf');
  const mainText = `${main.join('\n')}\n`;
  fs.writeFileSync(path.join(dir, 'keepalived.conf'), mainText);
  fs.writeFileSync(path.join(dir, 'keepalived-marked.conf'), `${mainText}${MARKER}\n`);
  return {
    dir, main: path.join(dir, 'keepalived.conf'), marked: path.join(dir, 'keepalived-marked.conf'), markerLine: main.length + 1,
    bytes: bytes + mainText.length, lines: lines + main.length, files: services + 1,
    interfaces: Math.ceil(services / VRIDS_PER_INTERFACE),
  };
}

/** A scratch namespace with eth0..ethN-1 when running as root, so keepalived finds its interfaces. */
export function scratchNamespace(interfaces: number): { prefix: string[]; cleanup: () => void; note: string } {
  if (process.getuid?.() !== 0) return { prefix: [], cleanup: () => undefined, note: 'not root: keepalived ran in the current namespace' };
  const ns = `lvskit-bench-${process.pid}`;
  const ip = (...args: string[]): void => {
    const r = spawnSync('ip', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
  };
  ip('netns', 'add', ns);
  try {
    for (let i = 0; i < interfaces; i++) ip('-n', ns, 'link', 'add', 'name', `eth${i}`, 'type', 'veth', 'peer', 'name', `peer${i}`);
  } catch (err) {
    ip('netns', 'del', ns);
    throw err;
  }
  return { prefix: ['ip', 'netns', 'exec', ns], cleanup: () => ip('netns', 'del', ns), note: `keepalived ran in a scratch namespace with eth0..eth${interfaces - 1}` };
}

export function keepalived(prefix: string[], file: string): { status: number | null; stderr: string } {
  const argv = [...prefix, 'keepalived', '-t', '-f', file];
  const r = spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { status: r.status, stderr: r.stderr };
}
