// layer: tests (IPVS tier)
// job: `lvskit run` with keepalived.conf's FILE_CHECK: a track_file's number moves a real server's weight in the kernel (value × weight added to its weight), and with weight 0 a non-zero value takes a real server DOWN to weight 0 (inhibit_on_failure) with reason file-value in `lvskit status --json`; both come back.
import test from 'ava';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BalancerStatus } from '../../src/daemon/events.js';
import { daemonFiles, logged, startDaemon } from '../helpers/daemon-procs.js';
import { ipvsNetns } from '../helpers/ipvs.js';
import { until } from '../helpers/until.js';

const WAIT_MS = 30_000;

test.serial('lvskit run: FILE_CHECK moves a real server\'s kernel weight by the file\'s value, and with weight 0 takes it DOWN while the value is non-zero', async (t) => {
  const x = await ipvsNetns(t);
  t.timeout(180_000);
  const files = daemonFiles(t, {});
  const maint = path.join(files.dir, 'maint');
  const load = path.join(files.dir, 'load');
  writeFileSync(maint, '0\n');
  writeFileSync(load, '2\n');
  files.write('keepalived.conf', `track_file maint {
  file ${maint}
  weight 0
}
track_file load {
  file ${load}
  weight 5
}
virtual_server 10.0.0.1 80 {
  delay_loop 1
  lb_algo wrr
  lb_kind DR
  protocol TCP
  real_server 10.0.1.1 80 {
    weight 10
    inhibit_on_failure
    FILE_CHECK {
      track_file maint
    }
  }
  real_server 10.0.1.2 80 {
    weight 3
    FILE_CHECK {
      track_file load
    }
  }
}
`);
  const daemon = startDaemon(t, x.ns, files);
  await daemon.waitFor(logged('daemon', 'started'), 30_000);
  const status = async (): Promise<BalancerStatus> => {
    const out = await daemon.cli('status', '--json');
    if (out.code !== 0) throw new Error(`lvskit status --json: exit ${out.code}: ${out.stderr}`);
    return JSON.parse(out.stdout) as BalancerStatus;
  };
  const weights = async (): Promise<string> => {
    const text = await x.ipvsadm('-Ln');
    return [...text.matchAll(/-> (10\.0\.1\.\d):80 +Route +(\d+)/g)].map((m) => `${m[1]} ${m[2]}`).join(', ');
  };
  await until('maint 0: weight 10; load 2: 3 + 2 × 5 = 13', async () => (await weights()) === '10.0.1.1 10, 10.0.1.2 13', WAIT_MS, 200);
  t.like((await status()).services[0]?.realServers[0], { up: true, kernelWeight: 10 });

  writeFileSync(maint, '1\n');
  writeFileSync(load, '-1\n');
  await until('maint 1: DOWN at 0; load -1: 3 − 5 → 0, still UP', async () => (await weights()) === '10.0.1.1 0, 10.0.1.2 0', WAIT_MS, 200);
  const [rs1, rs2] = (await status()).services[0]?.realServers ?? [];
  t.like(rs1, { up: false, kernelWeight: 0 });
  t.regex(rs1?.downReason?.checker ?? '', /^FILE_CHECK /);
  t.like(rs1?.downReason?.failure, { reason: 'file-value', message: `${maint} holds 1` });
  t.like(rs2, { up: true, kernelWeight: 0 });
  t.regex((await daemon.cli('status')).stdout, /FILE_CHECK: .*maint holds 1/, 'lvskit status says why');

  writeFileSync(maint, '0\n');
  rmSync(load);
  await until('maint 0 again: UP at 10; load gone (0): back to 3', async () => (await weights()) === '10.0.1.1 10, 10.0.1.2 3', WAIT_MS, 200);
  t.is(daemon.child.exitCode, null);
});
