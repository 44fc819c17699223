// layer: test helpers (site scenario)
// job: the scenario's first phases: steady rr traffic, the master's death and return, a real server's death and return, each with its oracle.
import { SLACK_MS, balancerSpec, checkFailBoundMs, checkRecoverBoundMs, masterDownIntervalMs, REAL_SERVERS } from './site-model.js';
import { ipvsTable, rrSpread, waitForTable, weightOf } from './site-oracles.js';
import { lbOf, ms, noFailures, vipHolder, type PhaseRecorder, type PhaseSpec, type ScenarioContext } from './site-phase.js';
import { monoMs, poll, sleep } from './site-procs.js';

/** How long the steady window lasts: about 80 requests at one per 50 ms. */
const STEADY_MS = 4000;
/** Traffic watched after each event, so its window shows what followed. */
const TAIL_MS = 2000;
/** The real server that dies and returns. */
const VICTIM = 'rs2';

async function steady(ctx: ScenarioContext, phase: PhaseRecorder): Promise<void> {
  await sleep(STEADY_MS);
  phase.afterTraffic((stats) => {
    const spread = rrSpread(stats.byServer, REAL_SERVERS);
    phase.fact('rrSpread', spread);
    phase.check('rr is exact: every real server answered the same number of new connections ±1', spread <= 1 && stats.requests >= 3 * REAL_SERVERS.length,
      `${JSON.stringify(stats.byServer)} of ${stats.requests} requests`);
  });
  noFailures(phase, 'no failed request');
}

/** lb1's eth0 down and every keepalived/lvskit process of it SIGKILLed: lb2 must take over within Master_Down_Interval. */
async function masterDies(ctx: ScenarioContext, phase: PhaseRecorder): Promise<void> {
  const { lab, site, traffic } = ctx;
  const bound = masterDownIntervalMs(site, balancerSpec(site, 'lb2').priority);
  // Right after one of lb1's adverts: every implementation's backup then waits the same Master_Down_Interval.
  await lab.observer.waitForAdvert('lb1', monoMs(), 10_000);
  const t0 = monoMs();
  await lab.linkDown('lb1');
  // From here on no frame of lb1 reaches the segment (requests sent while `ip` was still running may have got through).
  const down = monoMs();
  await ctx.driver.kill(lbOf(ctx, 'lb1'));
  const lastLb1 = lab.observer.adverts(0, down).filter((f) => f.node === 'lb1').at(-1);
  const firstLb2 = await lab.observer.waitForAdvert('lb2', t0, bound + 30_000);
  const resumed = await traffic.firstSuccess(down, bound + 30_000);
  const takeoverMs = firstLb2.atMs - (lastLb1?.atMs ?? t0);
  phase.fact('masterDownIntervalMs', bound);
  phase.fact('takeoverMs', takeoverMs);
  phase.check('lb2 advertises within Master_Down_Interval of lb1\'s last advert', takeoverMs <= bound + SLACK_MS,
    `${ms(takeoverMs)} (Master_Down_Interval ${ms(bound)} + ${ms(SLACK_MS)})`);
  const garp = lab.observer.garps(site.vip, t0, Infinity, 'lb2')[0];
  phase.check('lb2 sends a gratuitous ARP for the VIP', garp !== undefined, garp ? `${ms(garp.atMs - firstLb2.atMs)} after its first advert` : 'none seen');
  if (resumed) phase.fact('resumedMs', resumed.doneMs - down);
  phase.check('traffic resumes within Master_Down_Interval (+ gratuitous ARP)', resumed !== undefined && resumed.doneMs - down <= bound + SLACK_MS,
    resumed ? `first answer to a request sent after the link went down: ${ms(resumed.doneMs - down)} after it` : 'no answer');
  await sleep(TAIL_MS);
  noFailures(phase, 'no failed request once traffic resumed', resumed?.sentMs ?? Infinity);
  phase.afterTraffic((stats) => phase.fact('outageMs', stats.outageMs));
}

/** lb1 reboots (kernel state gone), its daemon starts and, with the higher priority, takes the VIP back. */
async function masterReturns(ctx: ScenarioContext, phase: PhaseRecorder): Promise<void> {
  const { lab, site } = ctx;
  await lab.reboot('lb1');
  const started = monoMs();
  await ctx.driver.start(lbOf(ctx, 'lb1'));
  phase.fact('startMs', monoMs() - started);
  // From its start: up to one Master_Down_Interval of listening (keepalived starts as backup), then a takeover.
  const bound = masterDownIntervalMs(site, balancerSpec(site, 'lb1').priority) + SLACK_MS;
  const back = await poll(async () => (await vipHolder(ctx)) === 'lb1' ? monoMs() : undefined, bound + 30_000);
  phase.check('lb1 is master again (the VIP on lb1 only)', back !== undefined, back ? `${ms(back - started)} after its daemon was started` : 'not within 30 s');
  if (back !== undefined) phase.fact('preemptMs', back - started);
  phase.fact('transitions', lab.observer.transitions(started));
  await sleep(TAIL_MS);
  phase.afterTraffic((stats) => phase.fact('outageMs', stats.outageMs));
}

/** rs2's HTTP server killed: its weight is 0 on the active balancer within the check's bound, and nothing fails after that. */
async function serverDies(ctx: ScenarioContext, phase: PhaseRecorder): Promise<void> {
  const { lab, site } = ctx;
  const service = site.services[0]!;
  const rs = service.realServers.find((r) => r.name === VICTIM)!;
  const active = await vipHolder(ctx) ?? 'lb1';
  const bound = checkFailBoundMs(service);
  // Right after the active balancer's check reached it: every implementation then needs its next check and retry to see the death.
  await lab.killServer(VICTIM, balancerSpec(site, active).address);
  const t0 = monoMs();
  const zero = await waitForTable(lab, active, (t) => weightOf(t, service.vip, service.port, rs.address) === 0, bound + 30_000);
  phase.fact('checkBoundMs', bound);
  if (zero !== undefined) phase.fact('weightZeroMs', zero - t0);
  phase.check(`${VICTIM}'s weight is 0 on ${active} within delay_loop + connect_timeout (+ retry)`, zero !== undefined && zero - t0 <= bound + SLACK_MS,
    zero !== undefined ? `${ms(zero - t0)} (bound ${ms(bound)} + ${ms(SLACK_MS)})` : 'not within 30 s');
  await sleep(TAIL_MS);
  const backup = active === 'lb1' ? 'lb2' : 'lb1';
  phase.fact(`${backup}Weight`, weightOf(await ipvsTable(lab, backup), service.vip, service.port, rs.address) ?? 'absent');
  // What weight 0 decides is where new connections go: none may reach the dead server (refused).
  // A request that timed out reached no server: the guest or the host stalled past the request
  // timeout (most likely what failed the keepalived run once in CI: three consecutive failures, which rr does not send to one server); it stays in the phase's count.
  phase.afterTraffic((_stats, results) => {
    const after = results.filter((r) => r.sentMs >= (zero ?? Infinity));
    const reached = after.filter((r) => !r.ok && r.what !== 'timeout');
    const timedOut = after.filter((r) => !r.ok && r.what === 'timeout');
    phase.check(`no request reaches ${VICTIM} once its weight is 0`, reached.length === 0,
      `${reached.length} of ${after.length} requests refused or reset${reached.length ? ` (${reached.map((r) => `+${ms(r.sentMs - zero!)} ${r.what}`).join(', ')})` : ''}` +
      `${timedOut.length ? `; ${timedOut.length} timed out (+${timedOut.map((r) => ms(r.sentMs - zero!)).join(', +')})` : ''}`);
  });
  phase.afterTraffic((stats) => phase.fact('outageMs', stats.outageMs));
}

/** rs2's HTTP server back: its weight returns within one check, and it answers again. */
async function serverReturns(ctx: ScenarioContext, phase: PhaseRecorder): Promise<void> {
  const { lab, site } = ctx;
  const service = site.services[0]!;
  const rs = service.realServers.find((r) => r.name === VICTIM)!;
  const active = await vipHolder(ctx) ?? 'lb1';
  await lab.startServer(VICTIM);
  const up = monoMs();
  const bound = checkRecoverBoundMs(service);
  const back = await waitForTable(lab, active, (t) => weightOf(t, service.vip, service.port, rs.address) === rs.weight, bound + 30_000);
  if (back !== undefined) phase.fact('weightBackMs', back - up);
  phase.check(`${VICTIM}'s weight is back on ${active} within delay_loop + connect_timeout`, back !== undefined && back - up <= bound + SLACK_MS,
    back !== undefined ? `${ms(back - up)} after it listened again (bound ${ms(bound)} + ${ms(SLACK_MS)})` : 'not within 30 s');
  await sleep(TAIL_MS);
  phase.afterTraffic((_stats, results) => {
    const answered = results.filter((r) => r.ok && r.what === VICTIM && r.sentMs >= (back ?? Infinity)).length;
    phase.check(`${VICTIM} answers again`, answered > 0, `${answered} answers after its weight came back`);
  });
  noFailures(phase, 'no failed request');
}

export const FAILOVER_PHASES: PhaseSpec[] = [
  { id: 'steady', number: '1', title: 'steady traffic', run: steady },
  { id: 'master-dies', number: '2', title: 'lb1 dies (link down + SIGKILL)', run: masterDies },
  { id: 'master-returns', number: '2b', title: 'lb1 reboots and takes the VIP back', run: masterReturns },
  { id: 'server-dies', number: '3', title: `${VICTIM} dies`, run: serverDies },
  { id: 'server-returns', number: '4', title: `${VICTIM} returns`, run: serverReturns },
];
