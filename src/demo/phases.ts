// layer: demo (the scenario)
// job: the demo's phases in order — steady traffic, the master killed and brought back, a real server killed and brought back, a changed config reloaded — each with what must be seen for it to have behaved.
import type { BalancerStatus } from '../daemon/events.js';
import type { DemoLab } from './lab.js';
import { until } from './lab.js';
import { sleep } from './procs.js';
import { siteAfterReload, type BalancerName, type SiteSpec } from './site.js';

/** One thing a phase waited for: what, whether it happened, and how long it took. */
export interface PhaseCheck {
  ok: boolean;
  text: string;
}

export interface DemoContext {
  lab: DemoLab;
  /** The site as configured now (the reload changes it). */
  site: SiteSpec;
  log(line: string): void;
}

export interface DemoPhase {
  id: string;
  title: string;
  /** The phase must cost no request (otherwise its failures are reported, not judged). */
  lossless: boolean;
  run(ctx: DemoContext): Promise<PhaseCheck[]>;
}

/** How long each phase watches the traffic after what it waited for. */
const TAIL_MS = 3000;
/** How long an awaited change may take (node is slow inside user-mode Linux). */
const WAIT_MS = 45_000;
const VICTIM = 'rs2';

export function vrrpState(status: BalancerStatus | undefined): string {
  return status?.instances[0]?.state ?? 'DOWN';
}

/** The kernel weight `lb` shows for `address` on port `port`, or undefined. */
export function kernelWeight(status: BalancerStatus | undefined, address: string, port: number): number | undefined {
  for (const s of status?.services ?? []) {
    if (!s.name.endsWith(`:${port}`)) continue; // `TCP 10.0.0.1:80`
    const rs = s.realServers.find((r) => r.address === address);
    if (rs) return rs.kernelWeight;
  }
  return undefined;
}

async function waitFor(ctx: DemoContext, text: string, probe: () => Promise<boolean>): Promise<PhaseCheck> {
  const t0 = Date.now();
  const ok = await until(probe, WAIT_MS);
  const check = { ok, text: ok ? `${text} after ${((Date.now() - t0) / 1000).toFixed(1)} s` : `${text}: not within ${WAIT_MS / 1000} s` };
  ctx.log(`  ${ok ? 'ok' : 'FAILED'}: ${check.text}`);
  return check;
}

const stateIs = (ctx: DemoContext, lb: BalancerName, state: string) => async (): Promise<boolean> => vrrpState(await ctx.lab.status(lb)) === state;

function victim(ctx: DemoContext): { address: string; weight: number } {
  return ctx.site.services[0]!.realServers.find((r) => r.name === VICTIM)!;
}

export const DEMO_PHASES: readonly DemoPhase[] = [
  {
    id: 'steady', title: 'steady traffic through lb1 (MASTER), rr over rs1..rs3', lossless: true,
    run: async () => { await sleep(5000); return []; },
  },
  {
    id: 'master-dies', title: 'the master dies: lb1 off the network and its lvskit SIGKILLed', lossless: false,
    run: async (ctx) => {
      await ctx.lab.killMaster('lb1');
      const checks = [await waitFor(ctx, 'lb2 is MASTER', stateIs(ctx, 'lb2', 'MASTER'))];
      await sleep(TAIL_MS);
      return checks;
    },
  },
  {
    id: 'master-returns', title: 'lb1 comes back (rebooted, lvskit started) and takes the VIP back', lossless: false,
    run: async (ctx) => {
      await ctx.lab.bringBack('lb1');
      const checks = [await waitFor(ctx, 'lb1 is MASTER again, lb2 BACKUP', async () => await stateIs(ctx, 'lb1', 'MASTER')() && await stateIs(ctx, 'lb2', 'BACKUP')())];
      await sleep(TAIL_MS);
      return checks;
    },
  },
  {
    id: 'server-dies', title: `a real server dies: ${VICTIM}'s HTTP server SIGKILLed`, lossless: false,
    run: async (ctx) => {
      const rs = victim(ctx);
      await ctx.lab.killServer(VICTIM);
      const checks = [await waitFor(ctx, `TCP_CHECK set ${VICTIM}'s weight to 0 on lb1 (inhibit_on_failure)`, async () => kernelWeight(await ctx.lab.status('lb1'), rs.address, 80) === 0)];
      await sleep(TAIL_MS);
      return checks;
    },
  },
  {
    id: 'server-returns', title: `${VICTIM} comes back`, lossless: true,
    run: async (ctx) => {
      const rs = victim(ctx);
      await ctx.lab.startServer(VICTIM);
      const checks = [await waitFor(ctx, `${VICTIM}'s weight is ${rs.weight} again on lb1`, async () => kernelWeight(await ctx.lab.status('lb1'), rs.address, 80) === rs.weight)];
      await sleep(TAIL_MS);
      return checks;
    },
  },
  {
    id: 'reload', title: 'a changed config reloaded: rs3 weight 10 → 20, a service on :8080 added', lossless: true,
    run: async (ctx) => {
      const after = siteAfterReload(ctx.site);
      const rs3 = after.services[0]!.realServers.find((r) => r.name === 'rs3')!;
      for (const lb of ['lb1', 'lb2'] as const) {
        ctx.lab.writeConfig(lb, after);
        await ctx.lab.reload(lb);
      }
      ctx.site = after;
      const checks: PhaseCheck[] = [];
      for (const lb of ['lb1', 'lb2'] as const) {
        checks.push(await waitFor(ctx, `${lb} has rs3 at weight 20 and the :8080 service`, async () => {
          const status = await ctx.lab.status(lb);
          return kernelWeight(status, rs3.address, 80) === rs3.weight && kernelWeight(status, rs3.address, 8080) === 10;
        }));
      }
      checks.push({ ok: vrrpState(await ctx.lab.status('lb1')) === 'MASTER', text: 'lb1 stayed MASTER through the reload' });
      await sleep(TAIL_MS);
      return checks;
    },
  },
];
