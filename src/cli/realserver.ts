// layer: cli (composition only)
// job: `lvskit realserver --vip ADDR …`: the real-server side of LVS-DR — each VIP on lo, the ARP sysctls — shown, applied, removed or checked.
import { Option, type Command } from 'commander';
import { enterNetns } from '../native/socket.js';
import { applyRealServer, readRealServer, RealServerApplyError } from '../realserver/host.js';
import {
  describeChange, describeMissing, planRealServer, planRealServerRemoval, type RealServerChange, type RealServerPlan,
} from '../realserver/plan.js';
import { RtnlClient } from '../rtnl/client.js';
import { netnsOption } from './options.js';

interface RealServerOptions {
  vip?: string[];
  interface?: string[];
  apply?: boolean;
  remove?: boolean;
  check?: boolean;
  netns?: string;
  json?: boolean;
}

type Action = 'plan' | 'apply' | 'remove' | 'check';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function actionOf(opts: RealServerOptions): Action {
  return opts.apply ? 'apply' : opts.remove ? 'remove' : opts.check ? 'check' : 'plan';
}

/** The text a person reads: what would change, what changed, or what is missing. */
function printText(action: Action, plan: RealServerPlan, changes: readonly RealServerChange[], vips: readonly string[]): void {
  const lines = changes.map(describeChange);
  const where = `VIP${vips.length === 1 ? '' : 's'} ${vips.join(', ')} on lo${action === 'remove' || plan.interfaces.length === 0 ? '' : `; arp_ignore and arp_announce right on ${['all', ...plan.interfaces].join(', ')}`}`;
  switch (action) {
    case 'plan':
      console.log(lines.length > 0 ? `would change (lvskit realserver --apply makes it so):\n${lines.join('\n')}` : `nothing to change: ${where}`);
      break;
    case 'apply':
      console.log(lines.length > 0 ? `changed:\n${lines.join('\n')}` : `nothing changed: ${where}`);
      break;
    case 'remove':
      console.log(lines.length > 0 ? `removed:\n${lines.join('\n')}` : `nothing to remove: no VIP of ${vips.join(', ')} is on lo`);
      console.log('arp_ignore and arp_announce left as they are (lvskit cannot know what they were; see docs/realserver.md)');
      break;
    case 'check':
      if (changes.length > 0 || plan.conflicts.length > 0) for (const c of changes) console.log(`missing: ${describeMissing(c)}`);
      else console.log(`ok: ${where}`);
      break;
  }
  for (const c of plan.conflicts) console.log(`${action === 'check' ? 'wrong' : 'warning'}: ${c}`);
}

async function realserver(opts: RealServerOptions): Promise<void> {
  const vips = opts.vip ?? [];
  if (vips.length === 0) throw new RangeError('realserver: at least one --vip ADDR is needed');
  // The whole process joins the namespace: /proc/sys/net follows the calling thread's namespace (src/sysctl).
  if (opts.netns !== undefined) enterNetns(opts.netns);
  const action = actionOf(opts);
  const wanted = { vips, ...(opts.interface ? { interfaces: opts.interface } : {}) };
  const rtnl = RtnlClient.open();
  try {
    const current = await readRealServer({ rtnl }, wanted);
    const plan = action === 'remove' ? planRealServerRemoval(current, wanted) : planRealServer(current, wanted);
    let changes = plan.changes;
    if (action === 'apply' || action === 'remove') {
      try {
        changes = await applyRealServer({ rtnl }, plan.changes);
      } catch (error) {
        if (error instanceof RealServerApplyError && error.done.length > 0) console.log(`changed before the failure:\n${error.done.map(describeChange).join('\n')}`);
        throw error;
      }
    }
    const ok = changes.length === 0 && plan.conflicts.length === 0;
    if (opts.json) console.log(JSON.stringify({ action, interfaces: plan.interfaces, changes, conflicts: plan.conflicts, ok }, null, 2));
    else printText(action, plan, changes, vips);
    if (action === 'check' && !ok) process.exitCode = 1;
  } finally {
    rtnl.close();
  }
}

export function registerRealServerCommand(program: Command): void {
  program.command('realserver')
    .description('the real-server side of LVS-DR: each VIP on lo (/32, label lo:N), arp_ignore 1 and arp_announce 2; prints what would change unless told to --apply, --remove or --check')
    .addOption(new Option('--vip <addr>', 'a VIP this real server serves (repeat for several)').argParser(collect))
    .addOption(new Option('--interface <if>', 'an interface that carries the traffic (repeat for several; default: every interface but lo that is up)').argParser(collect))
    .addOption(new Option('--apply', 'make it so, printing what changed (again: nothing changes)').conflicts(['remove', 'check']))
    .addOption(new Option('--remove', 'take the VIPs off lo (the sysctls stay: see docs/realserver.md)').conflicts(['check']))
    .addOption(new Option('--check', 'report what is missing or wrong; exit 1 if anything is (for monitoring)'))
    .addOption(netnsOption())
    .option('--json', 'print the plan as JSON: action, interfaces, changes, conflicts, ok')
    .action(async (opts: RealServerOptions) => { await realserver(opts); });
}
