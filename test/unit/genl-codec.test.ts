// layer: tests (unit)
// job: generic netlink codecs: the family request byte for byte as iproute2 sends it; decoding the controller's answer.
import test from 'ava';
import { AttrWriter, NetlinkDecodeError, NLM_F_ACK, NLM_F_REQUEST, encodeMessage } from '../../src/netlink/index.js';
import {
  CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME, CTRL_ATTR_HDRSIZE, CTRL_ATTR_MAXATTR, CTRL_ATTR_MCAST_GROUPS,
  CTRL_ATTR_MCAST_GRP_ID, CTRL_ATTR_MCAST_GRP_NAME, CTRL_ATTR_OPS, CTRL_ATTR_OP_FLAGS, CTRL_ATTR_OP_ID, CTRL_ATTR_VERSION,
  GENL_ID_CTRL, decodeFamily, decodeGenl, encodeGenl, encodeGetFamily,
} from '../../src/genl/codec.js';

test('CTRL_CMD_GETFAMILY is byte for byte what `genl ctrl get name nlctrl` sends', (t) => {
  // strace -e trace=sendmsg -e write=3 genl ctrl get name nlctrl
  const golden = Buffer.from('200000001000050004dd076b00000000' + '030000000b0002006e6c6374726c0000', 'hex');
  const msg = encodeMessage({ type: GENL_ID_CTRL, flags: NLM_F_REQUEST | NLM_F_ACK, seq: 0x6b07dd04 }, encodeGetFamily('nlctrl'));
  t.deepEqual(msg, golden);
});

test('a family description decodes with its ops and multicast groups', (t) => {
  const w = new AttrWriter()
    .u16(CTRL_ATTR_FAMILY_ID, 0x1b)
    .string(CTRL_ATTR_FAMILY_NAME, 'IPVS')
    .u32(CTRL_ATTR_VERSION, 1)
    .u32(CTRL_ATTR_HDRSIZE, 0)
    .u32(CTRL_ATTR_MAXATTR, 9)
    .nest(CTRL_ATTR_OPS, (n) => {
      n.nest(1, (op) => op.u32(CTRL_ATTR_OP_ID, 1).u32(CTRL_ATTR_OP_FLAGS, 0x0e));
      n.nest(2, (op) => op.u32(CTRL_ATTR_OP_ID, 2).u32(CTRL_ATTR_OP_FLAGS, 0x0c));
    })
    .nest(CTRL_ATTR_MCAST_GROUPS, (n) => n.nest(1, (g) => g.string(CTRL_ATTR_MCAST_GRP_NAME, 'events').u32(CTRL_ATTR_MCAST_GRP_ID, 7)));
  const family = decodeFamily(encodeGenl({ cmd: 1, version: 2 }, w.toBuffer()));
  t.deepEqual(family, {
    id: 0x1b, name: 'IPVS', version: 1, headerSize: 0, maxAttr: 9,
    ops: [{ id: 1, flags: 0x0e }, { id: 2, flags: 0x0c }],
    groups: new Map([['events', 7]]),
  });
});

test('a truncated genl header or a family without id is a decode error', (t) => {
  t.throws(() => decodeGenl(Buffer.alloc(3)), { instanceOf: NetlinkDecodeError });
  const noId = encodeGenl({ cmd: 1, version: 2 }, new AttrWriter().string(CTRL_ATTR_FAMILY_NAME, 'x').toBuffer());
  t.throws(() => decodeFamily(noId), { instanceOf: NetlinkDecodeError, message: /FAMILY_ID/ });
  const { cmd, version, attrs } = decodeGenl(encodeGenl({ cmd: 9, version: 4 }, Buffer.from([1, 2, 3, 4])));
  t.deepEqual({ cmd, version, attrs: [...attrs] }, { cmd: 9, version: 4, attrs: [1, 2, 3, 4] });
});
