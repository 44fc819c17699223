// layer: tests (unit)
// job: docs/configuration.md lists every keyword the tables read and every keepalived keyword they refuse, with its effect.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DNS_CHECK, FILE_CHECK, HTTP_GET, HTTP_URL, MISC_CHECK, PING_CHECK, SMTP_CHECK, SMTP_HOST, SSL, SSL_GET, TCP_CHECK, UDP_CHECK } from '../../src/config/keywords/checkers.js';
import { GLOBAL_DEFS } from '../../src/config/keywords/global.js';
import { REAL_SERVER, VIRTUAL_SERVER } from '../../src/config/keywords/lvs.js';
import { LVSKIT_AUTOBAN } from '../../src/config/keywords/lvskit.js';
import { ROOT } from '../../src/config/keywords/root.js';
import type { KeywordTable } from '../../src/config/keywords/types.js';
import { TRACK_FILE, TRACK_PROCESS, VRRP_INSTANCE, VRRP_SCRIPT, VRRP_SYNC_GROUP } from '../../src/config/keywords/vrrp.js';

const DOC = fs.readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'docs', 'configuration.md'), 'utf8');
const TABLES: KeywordTable<never>[] = [ROOT, GLOBAL_DEFS, VRRP_SCRIPT, TRACK_FILE, TRACK_PROCESS, VRRP_SYNC_GROUP, VRRP_INSTANCE, VIRTUAL_SERVER, REAL_SERVER,
  TCP_CHECK, HTTP_GET, SSL_GET, HTTP_URL, MISC_CHECK, FILE_CHECK, SMTP_CHECK, SMTP_HOST, UDP_CHECK, DNS_CHECK, PING_CHECK, SSL, LVSKIT_AUTOBAN] as unknown as KeywordTable<never>[];

test('every supported keyword has a row in its block\'s table', (t) => {
  for (const table of TABLES) {
    const heading = DOC.indexOf(`\n### ${table.name === 'top level' ? 'top level' : table.name === 'url' ? 'url (in HTTP_GET, SSL_GET)' : table.name === 'host' ? 'host (in SMTP_CHECK)' : table.name}\n`);
    t.true(heading >= 0, `no section for ${table.name}`);
    const next = DOC.indexOf('\n### ', heading + 5);
    const section = DOC.slice(heading, next < 0 ? undefined : next);
    for (const k of table.keywords) t.true(section.includes(`\n| \`${k.name}\` |`), `${table.name}: ${k.name} is not documented`);
  }
});

test('every unsupported keepalived keyword has a row saying what happens', (t) => {
  let rows = 0;
  for (const table of TABLES) {
    for (const u of table.unsupported) {
      const effect = u.effect === 'error' ? '**error**' : 'warning, ignored';
      t.true(DOC.includes(`| \`${u.name}\` | ${table.name} | ${effect} |`), `${table.name}: ${u.name} (${u.effect}) is not documented`);
      rows++;
    }
  }
  t.true(rows > 50); // the loop ran over the tables (the list shrinks as keywords are implemented: 100 after use_vmac, vmac_xmit_base, use_ipvlan)
});
