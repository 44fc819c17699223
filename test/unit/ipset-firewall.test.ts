// layer: tests (unit)
// job: finding the rule that drops a set's sources in iptables-save and nft -j output (captured in a namespace).
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { checkFirewall, describeNftRuleset, findIptablesSetRules } from '../../src/ipset/firewall-check.js';
import { FIXTURES } from '../helpers/ipset-fixtures.js';
import { systemTool } from '../../src/system-tools.js';

const read = (name: string): string => fs.readFileSync(path.join(FIXTURES, 'firewall', name), 'utf8');

test('a DROP or REJECT rule matching the set by source is found, with its table and chain', (t) => {
  const save = read('iptables-save.txt');
  t.deepEqual(findIptablesSetRules(save, 'static_blacklist'), [
    { tool: 'iptables', table: 'filter', chain: 'INPUT', verdict: 'DROP', rule: '-A INPUT -m set --match-set static_blacklist src -j DROP' },
  ]);
  t.deepEqual(findIptablesSetRules(save, 'rej').map((r) => r.verdict), ['REJECT']);
  // src,dst: the first dimension is the source; the comment's quoted words do not confuse the parser.
  t.deepEqual(findIptablesSetRules(save, 'fm').map((r) => `${r.table} ${r.chain}`), ['filter INPUT']);
});

test('negated matches, destination matches, other verdicts and other sets do not count', (t) => {
  const save = read('iptables-save.txt');
  t.deepEqual(findIptablesSetRules(save, 'other'), [], 'dst match');
  t.deepEqual(findIptablesSetRules(save, 'nope'), []);
  const onlyAccept = '*filter\n-A INPUT -m set --match-set s src -j ACCEPT\n-A INPUT -m set ! --match-set s src -j DROP\nCOMMIT\n';
  t.deepEqual(findIptablesSetRules(onlyAccept, 's'), []);
  t.deepEqual(findIptablesSetRules(read('ip6tables-save.txt'), 'bl6', 'ip6tables').map((r) => r.tool), ['ip6tables']);
});

test('nft output: a native @set rule is named as an nft set, iptables-nft rules as compat rules', (t) => {
  const notes = describeNftRuleset(read('nft-ruleset.json'), 'fm');
  t.true(notes.some((n) => n === 'nft rule in inet t c drops sources in @fm: an nftables set of that name, not the ipset (nftables cannot read ipsets)'));
  t.true(notes.some((n) => n.startsWith('nft rule in ip filter INPUT is an iptables-nft "-m set" rule')));
  t.deepEqual(describeNftRuleset('not json', 'fm').length, 1);
});

test('checkFirewall runs iptables-save (ip6tables-save for inet6) and nft inside the namespace; a missing tool is a note', async (t) => {
  const ran: string[] = [];
  const check = await checkFirewall('static_blacklist', {
    netns: 'lb1',
    run: async (argv) => {
      ran.push(argv.join(' '));
      if (argv.some((a) => a.endsWith('nft'))) throw new Error('spawn nft ENOENT');
      return read('iptables-save.txt');
    },
  });
  t.deepEqual(ran, [`ip netns exec lb1 ${systemTool('iptables-save')}`, `ip netns exec lb1 ${systemTool('nft')} -j list ruleset`]);
  t.true(check.ok);
  t.is(check.rules.length, 1);
  t.deepEqual(check.notes, ['nft -j list ruleset could not be read: spawn nft ENOENT']);
  const v6 = await checkFirewall('static_blacklist', { family: 'inet6', run: async (argv) => (argv[0] === 'ip6tables-save' ? read('ip6tables-save.txt') : '{}') });
  t.false(v6.ok);
  t.deepEqual(v6.notes, []);
});

test('system tools are run by absolute path: node_modules/.bin (first in PATH under npm) has an `nft` of its own', (t) => {
  t.regex(systemTool('nft'), /^\/(usr\/)?(local\/)?s?bin\/nft$/);
  t.is(systemTool('./relative/tool'), './relative/tool');
  t.is(systemTool('no-such-tool-lvskit'), 'no-such-tool-lvskit');
});
