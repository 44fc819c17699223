// layer: tests (unit)
// job: connection rows formatted as `ipvsadm -lnc` prints them, against ipvsadm's own output of the same kernel table.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { readConnections } from '../../src/conns/rows.js';
import { CONNECTION_HEADER, CONNECTION_TITLE, formatConnectionRow } from '../../src/conns/format.js';
import { CAPTURE_DIR } from '../helpers/conns-kernel-capture.js';

test('every row of a real kernel table prints as ipvsadm 1.31 printed it (the expiry read a moment later aside)', async (t) => {
  const lines = [CONNECTION_TITLE, CONNECTION_HEADER];
  for await (const row of readConnections({ file: path.join(CAPTURE_DIR, 'ip_vs_conn.txt') })) lines.push(formatConnectionRow(row));
  const ipvsadm = fs.readFileSync(path.join(CAPTURE_DIR, 'ipvsadm-lnc.txt'), 'utf8').trimEnd().split('\n');
  t.is(lines.length, ipvsadm.length);
  // ipvsadm read the table after the capture: a countdown may be a second or two lower there.
  const expiry = /^(\S+ )(\d\d):(\d\d)/;
  const seconds = (l: string): number => { const m = expiry.exec(l); return m ? Number(m[2]) * 60 + Number(m[3]) : 0; };
  lines.forEach((line, i) => {
    const theirs = ipvsadm[i] ?? '';
    t.is(line.replace(expiry, '$1mm:ss'), theirs.replace(expiry, '$1mm:ss'), `line ${i + 1}`);
    t.true(seconds(line) - seconds(theirs) >= 0 && seconds(line) - seconds(theirs) <= 2, `line ${i + 1}: ${line} / ${theirs}`);
  });
});
