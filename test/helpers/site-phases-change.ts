// layer: test helpers (site scenario)
// job: the scenario's phases of change: the sync daemon filling the backup's table, a reload, a broken reload, a restart of the backup and an upgrade restart of the master, each with its oracle.
import { serviceFile, truncatedServiceConfig } from './site-config.js';
import { SLACK_MS, balancerSpec, masterDownIntervalMs, siteAfterReload, type BalancerName } from './site-model.js';
import { hasAddress, ipvsConnections, ipvsTable, tableShape, waitForTable, weightOf, type Service } from './site-oracles.js';
import { lbOf, ms, noFailures, vipHolder, type PhaseRecorder, type PhaseSpec, type ScenarioContext } from './site-phase.js';
import { monoMs, poll, sleep } from './site-procs.js';
import { HeldConnections, requests } from './site-traffic.js';

/** Long-lived connections the client holds from phase `sync` on. */
const HELD = 12;
/** The kernel's master sync thread sends a buffer at the latest this long after it was started (IPVS_SYNC_FLUSH_TIME, 2 s) and looks every second. */
const SYNC_BOUND_MS = 3000;
/** How long a reload or restart is watched (adverts, VIP, table) after it was asked for. */
const WATCH_MS = 4000;
const TAIL_MS = 2000;

const other = (lb: BalancerName): BalancerName => (lb === 'lb1' ? 'lb2' : 'lb1');

/** The master: the balancer with the VIP (the phase cannot run when neither or both have it). */
async function master(ctx: ScenarioContext): Promise<BalancerName> {
  const holder = await vipHolder(ctx);
  if (!holder) throw new Error('no single balancer holds the VIP');
  return holder;
}

/** The held connections' entries on `lb` (`ipvsadm -lnc`, ESTABLISHED): client address:port → real server. */
async function heldEntries(ctx: ScenarioContext, lb: BalancerName): Promise<Map<string, string>> {
  const keys = new Set((ctx.held?.ports ?? []).map((p) => `${ctx.held!.localAddress}:${p}`));
  const entries = (await ipvsConnections(ctx.lab, lb)).filter((c) => c.state === 'ESTABLISHED' && keys.has(c.source));
  return new Map(entries.map((c) => [c.source, c.destination]));
}

async function sync(ctx: ScenarioContext, phase: PhaseRecorder): Promise<void> {
  const active = await master(ctx);
  const backup = other(active);
  const held = await HeldConnections.open(ctx.lab, 'client', ctx.site.clients.traffic, HELD);
  ctx.held = held;
  const opened = monoMs();
  phase.check('the client holds its long-lived connections', held.opened === HELD, `${held.opened} open, ${held.failed} failed, ${JSON.stringify(held.byServer)}`);
  const onMaster = await heldEntries(ctx, active);
  const synced = await poll(async () => {
    const entries = await heldEntries(ctx, backup);
    return entries.size === held.opened ? { atMs: monoMs(), entries } : undefined;
  }, SYNC_BOUND_MS + 30_000, 200);
  if (synced) phase.fact('syncMs', synced.atMs - opened);
  const same = synced !== undefined && [...onMaster].every(([client, rs]) => synced.entries.get(client) === rs);
  phase.check(`the backup's connection table (${backup}, ipvsadm -lnc) has the master's held connections`,
    synced !== undefined && same && synced.atMs - opened <= SYNC_BOUND_MS + SLACK_MS,
    synced ? `${synced.entries.size} of ${held.opened} after ${ms(synced.atMs - opened)}, same real servers as on ${active}: ${same}` : `not all within ${SYNC_BOUND_MS + 30_000} ms`);
  noFailures(phase, 'no failed request');
}

function hasService(services: readonly Service[], vip: string, port: number, destinations: number): boolean {
  return services.some((s) => s.address === vip && s.port === port && s.destinations.length === destinations);
}

/** Both balancers' files changed (a service added, a weight changed), each daemon asked to reload, master first. */
async function reload(ctx: ScenarioContext, phase: PhaseRecorder): Promise<void> {
  const { lab } = ctx;
  const after = siteAfterReload(ctx.site);
  const [www, api] = [after.services[0]!, after.services[1]!];
  const rs3 = www.realServers.find((r) => r.name === 'rs3')!;
  const active = await master(ctx);
  const t0 = monoMs();
  for (const lb of [active, other(active)]) {
    await ctx.driver.writeConfig(lbOf(ctx, lb), after);
    const outcome = await ctx.driver.reload(lbOf(ctx, lb));
    phase.fact(`${lb}ReloadCompleted`, outcome.completed);
    if (!outcome.running) phase.note(`the daemon on ${lb} exited on reload`);
  }
  ctx.site = after;
  const applied = (t: Service[]): boolean => hasService(t, api.vip, api.port, api.realServers.length) && weightOf(t, www.vip, www.port, rs3.address) === rs3.weight;
  for (const lb of [active, other(active)]) {
    const at = await waitForTable(lab, lb, applied, 15_000);
    phase.check(`${lb}'s table has the new service (port ${api.port}) and rs3's new weight`, at !== undefined, at !== undefined ? `${ms(at - t0)} after the first reload` : 'not within 15 s');
  }
  await sleep(WATCH_MS);
  const end = monoMs();
  stability(ctx, phase, active, t0, end);
  phase.check('the VIP is on the master after the reload', await hasAddress(lab, active, ctx.site.vip), active);
  const got = await requests(lab, 'client', ctx.site.clients.traffic, 6, api.port);
  phase.check(`the new service answers (VIP:${api.port})`, got.ok === 6, `${got.ok} of 6: ${JSON.stringify(got.byServer)}`);
  noFailures(phase, 'no failed request');
}

/** The observer's verdict on [t0, end): the VIP never left `active`, no takeover, no resignation, no advert gap as long as Master_Down_Interval. */
function stability(ctx: ScenarioContext, phase: PhaseRecorder, active: BalancerName, t0: number, end: number): void {
  const { observer } = ctx.lab;
  const flaps = observer.vipEvents(ctx.site.vip, t0, end).filter((e) => e.lb === active && e.deleted);
  phase.fact('vipFlaps', flaps.length);
  phase.check('no VIP flap: the VIP never left the master', flaps.length === 0, flaps.length ? flaps.map((e) => `${e.lb}: ${e.text.trim()}`).join('; ') : `no deletion on ${active}`);
  const transitions = observer.transitions(t0, end);
  const resignations = observer.resignations(t0, end).length;
  const gap = observer.longestAdvertGapMs(t0, end);
  const bound = masterDownIntervalMs(ctx.site, balancerSpec(ctx.site, other(active)).priority);
  phase.fact('transitions', transitions);
  phase.fact('longestAdvertGapMs', gap);
  phase.check('no VRRP transition: adverts kept coming from the same master', transitions === 0 && resignations === 0 && gap < bound,
    `${transitions} takeovers, ${resignations} priority-0 adverts, longest gap ${ms(gap)} (Master_Down_Interval ${ms(bound)})`);
}

/** Samples `lb`'s table (shape) and the held connections on it every ~200 ms until `stop` resolves. */
async function sampleWhile(ctx: ScenarioContext, lb: BalancerName, stop: Promise<unknown>): Promise<Array<{ shape: string; held: number }>> {
  let done = false;
  void stop.finally(() => { done = true; });
  const samples: Array<{ shape: string; held: number }> = [];
  while (!done) {
    samples.push({ shape: tableShape(await ipvsTable(ctx.lab, lb)), held: (await heldEntries(ctx, lb)).size });
    await sleep(200);
  }
  return samples;
}

/**
 * `services/www.site.test.conf` cut off mid-edit on the master, then a reload: nothing may change.
 * Then the operator's fix (the good file, reloaded, or the daemon started again if it exited), in
 * the same window: what a bad edit costs includes getting back from it.
 */
async function badReload(ctx: ScenarioContext, phase: PhaseRecorder): Promise<void> {
  const { lab, driver } = ctx;
  const active = await master(ctx);
  const lb = lbOf(ctx, active);
  const www = ctx.site.services[0]!;
  const before = tableShape(await ipvsTable(lab, active));
  const t0 = monoMs();
  lab.editConfig(active, serviceFile(www), truncatedServiceConfig(www));
  const watched = sleep(WATCH_MS);
  const samples = sampleWhile(ctx, active, watched);
  const outcome = await driver.reload(lb);
  await watched;
  const end = monoMs();
  const changed = (await samples).filter((s) => s.shape !== before).length;
  phase.fact('daemonRunning', outcome.running);
  phase.fact('tableSamplesChanged', changed);
  for (const line of outcome.said.filter((l) => /error|missing|terminat|exit|stop|remov/i.test(l)).slice(0, 6)) phase.note(`${active} said: ${line.trim()}`);
  phase.check('a broken file changes nothing in the kernel (ipvsadm -Ln)', changed === 0, `${changed} of ${(await samples).length} samples differ from the table before`);
  phase.check('the daemon keeps running after a broken file', outcome.running, outcome.running ? 'running' : 'it exited');
  stability(ctx, phase, active, t0, end);
  noFailures(phase, 'no failed request while the broken file was loaded', t0, end);
  phase.afterTraffic((stats) => phase.fact('outageMs', stats.outageMs));
  // Back to the good file (the operator's fix), and to the master as before, for the next phases.
  await driver.writeConfig(lb, ctx.site);
  if (driver.running(lb)) await driver.reload(lb);
  else {
    phase.note(`the daemon on ${active} had exited: started again with the good file`);
    await driver.start(lb);
  }
  const restored = await poll(async () => ((await vipHolder(ctx)) === active && tableShape(await ipvsTable(lab, active)) === before ? true : undefined), 30_000, 200);
  if (!restored) throw new Error(`after the good file came back, ${active} is not master with its table as before`);
  await sleep(TAIL_MS);
}

/** The backup's daemon restarted: traffic, the backup's table and its synced connections must not notice. */
async function backupRestart(ctx: ScenarioContext, phase: PhaseRecorder): Promise<void> {
  const active = await master(ctx);
  const backup = other(active);
  const before = tableShape(await ipvsTable(ctx.lab, backup));
  const heldBefore = (await heldEntries(ctx, backup)).size;
  const t0 = monoMs();
  const restarted = ctx.driver.restart(lbOf(ctx, backup), 'plain').then(() => sleep(WATCH_MS));
  const samples = await sampleWhile(ctx, backup, restarted);
  await restarted;
  const end = monoMs();
  const emptied = samples.filter((s) => s.shape !== before).length;
  const minHeld = Math.min(...samples.map((s) => s.held));
  phase.fact('tableSamplesChanged', emptied);
  phase.fact('minSyncedHeld', minHeld);
  phase.check(`the backup's IPVS table is kept throughout its restart (${backup})`, emptied === 0, `${emptied} of ${samples.length} samples differ from the table before`);
  phase.check('the backup keeps the synced connections throughout', minHeld >= heldBefore && heldBefore > 0, `held connections on ${backup}: ${heldBefore} before, at least ${minHeld} during`);
  stability(ctx, phase, active, t0, end);
  noFailures(phase, 'no failed request');
}

/** The master's daemon replaced by a new one (an upgrade): count failures and transitions, and whether held connections survive. */
async function masterRestart(ctx: ScenarioContext, phase: PhaseRecorder): Promise<void> {
  const { lab } = ctx;
  const active = await master(ctx);
  const t0 = monoMs();
  await ctx.driver.restart(lbOf(ctx, active), 'upgrade');
  const started = monoMs();
  phase.fact('restartMs', started - t0);
  const back = await poll(async () => ((await vipHolder(ctx)) === active ? monoMs() : undefined), 30_000, 100);
  if (back === undefined) throw new Error(`${active} did not hold the VIP again within 30 s of its restart`);
  phase.fact('masterAgainMs', back - t0);
  await sleep(TAIL_MS);
  stability(ctx, phase, active, t0, monoMs());
  const alive = ctx.held ? await ctx.held.alive() : 0;
  phase.fact('heldAlive', alive);
  phase.check('the long-lived connections survive the restart', ctx.held !== undefined && alive === ctx.held.opened, `${alive} of ${ctx.held?.opened ?? 0} echo`);
  noFailures(phase, 'no failed request');
  phase.afterTraffic((stats) => phase.fact('outageMs', stats.outageMs));
}

export const CHANGE_PHASES: PhaseSpec[] = [
  { id: 'sync', number: '5', title: 'the backup\'s table filled by the sync daemon', run: sync },
  { id: 'reload', number: '6', title: 'reload: a service added, a weight changed', run: reload },
  { id: 'bad-reload', number: '7', title: 'reload of a broken file, then of the fixed one', run: badReload },
  { id: 'backup-restart', number: '8', title: 'the backup\'s daemon restarted', run: backupRestart },
  { id: 'master-restart', number: '9', title: 'the master\'s daemon upgrade-restarted', run: masterRestart },
];
