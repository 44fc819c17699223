// layer: tests (IPVS tier)
// job: the IPVS generic netlink family resolves and answers through our own netlink core, in a fresh namespace.
import test from 'ava';
import { attrU32, decodeAttrs } from '../../src/netlink/attr.js';
import { GenlSocket, decodeGenl } from '../../src/genl/index.js';
import { createNetns } from '../helpers/netns.js';

/** From linux/ip_vs.h; the IPVS client proper belongs to src/ipvs/. */
const IPVS_CMD_GET_INFO = 15;
const IPVS_INFO_ATTR_VERSION = 1;
const IPVS_INFO_ATTR_CONN_TAB_SIZE = 2;

test('the IPVS family resolves and IPVS_CMD_GET_INFO agrees with /proc/net/ip_vs', async (t) => {
  const ns = await createNetns(t);
  const genl = GenlSocket.open({ netns: ns.name });
  t.teardown(() => genl.close());

  const family = await genl.family('IPVS');
  t.is(family.name, 'IPVS');
  t.true(family.id >= 0x10, `family id ${family.id}`);
  t.true(family.ops.some((op) => op.id === IPVS_CMD_GET_INFO), 'GET_INFO among the family ops');

  const [reply] = await genl.request(family, { cmd: IPVS_CMD_GET_INFO, op: 'IPVS_CMD_GET_INFO' });
  if (!reply) return t.fail('no reply to IPVS_CMD_GET_INFO');
  const attrs = decodeAttrs(decodeGenl(reply.payload).attrs);
  const get = (type: number): number => {
    const attr = attrs.find((a) => a.type === type);
    if (!attr) throw new Error(`IPVS info attribute ${type} missing`);
    return attrU32(attr);
  };
  const version = get(IPVS_INFO_ATTR_VERSION);
  const size = get(IPVS_INFO_ATTR_CONN_TAB_SIZE);
  const dotted = `${version >> 16}.${(version >> 8) & 0xff}.${version & 0xff}`;

  const proc = await ns.exec(['cat', '/proc/net/ip_vs']);
  t.regex(proc, new RegExp(`^IP Virtual Server version ${dotted.replaceAll('.', '\\.')} \\(size=${size}\\)`));
});
