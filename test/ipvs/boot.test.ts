// layer: tests (IPVS tier)
// job: the tier's kernel really has IPVS loaded, as the `ipvsadm` oracle sees it.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

test('ip_vs is loaded and /proc/net/ip_vs answers', (t) => {
  const text = fs.readFileSync('/proc/net/ip_vs', 'utf8');
  t.regex(text, /^IP Virtual Server version \d+\.\d+\.\d+ \(size=\d+\)/);
});

test('ipvsadm (the oracle) talks to this kernel', (t) => {
  const out = execFileSync('ipvsadm', ['-Ln'], { encoding: 'utf8' });
  t.regex(out, /^IP Virtual Server version/m);
});
