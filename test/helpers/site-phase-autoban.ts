// layer: test helpers (site scenario)
// job: the scenario's autoban phase: a client holding more than the threshold of connections is banned within one period, a whitelisted one with as many is not; and a check that the lab's firewall drops what is in the set.
import { SLACK_MS } from './site-model.js';
import { banned } from './site-oracles.js';
import { ms, noFailures, vipHolder, type PhaseRecorder, type PhaseSpec, type ScenarioContext } from './site-phase.js';
import { monoMs, poll } from './site-procs.js';
import { HeldConnections, requests } from './site-traffic.js';

/**
 * The lab's own check, whatever the implementation: an address put in the ban set by hand gets
 * no answer from the VIP while the whitelisted client still does, and answers again once removed.
 * Without it an n/a autoban phase would leave the firewall the lvskit driver relies on untried.
 */
async function firewallDropsBanned(ctx: ScenarioContext, phase: PhaseRecorder): Promise<void> {
  const { lab, site } = ctx;
  const active = await vipHolder(ctx) ?? 'lb1';
  const set = site.autoban.ipset;
  await lab.exec(active, ['ipset', 'add', set, site.clients.heavy]);
  try {
    const heavy = await requests(lab, 'client', site.clients.heavy, 3, 80, 1000);
    const white = await requests(lab, 'client2', site.clients.whitelisted, 3);
    phase.check(`lab: the firewall on ${active} drops a client in the set, not others`, heavy.ok === 0 && white.ok === 3,
      `banned client ${heavy.ok} of 3 answered, whitelisted ${white.ok} of 3`);
  } finally {
    await lab.exec(active, ['ipset', 'del', set, site.clients.heavy]);
  }
  const again = await requests(lab, 'client', site.clients.heavy, 3);
  phase.check('lab: out of the set, the client gets answers again', again.ok === 3, `${again.ok} of 3`);
}

async function autoban(ctx: ScenarioContext, phase: PhaseRecorder): Promise<void> {
  await firewallDropsBanned(ctx, phase);
  if (!ctx.driver.supportsAutoban) {
    phase.notApplicable(`${ctx.driver.name} has no autoban`);
    return;
  }
  const { lab, site } = ctx;
  const active = await vipHolder(ctx) ?? 'lb1';
  const count = site.autoban.threshold + 10;
  const heavy = await HeldConnections.open(lab, 'client', site.clients.heavy, count);
  const white = await HeldConnections.open(lab, 'client2', site.clients.whitelisted, count);
  const over = monoMs();
  phase.fact('heavyOpen', heavy.opened);
  phase.fact('whitelistedOpen', white.opened);
  try {
    const bound = site.autoban.intervalSec * 1000;
    const at = await poll(async () => ((await banned(lab, active)).includes(site.clients.heavy) ? monoMs() : undefined), bound + 30_000, 200);
    if (at !== undefined) phase.fact('banMs', at - over);
    phase.check(`the client over ${site.autoban.threshold} connections is in the ban set within one autoban period`, at !== undefined && at - over <= bound + SLACK_MS,
      at !== undefined ? `${ms(at - over)} after its connections were open (period ${ms(bound)} + ${ms(SLACK_MS)})` : 'not banned within 30 s');
    // One more period: the whitelisted client must still be out of the set.
    await new Promise((resolve) => setTimeout(resolve, bound + SLACK_MS));
    const set = await banned(lab, active);
    phase.check('the whitelisted client with as many connections is not banned', !set.includes(site.clients.whitelisted), `set on ${active}: ${set.join(', ') || 'empty'}`);
    const heavyNow = await requests(lab, 'client', site.clients.heavy, 3, 80, 1000);
    const whiteNow = await requests(lab, 'client2', site.clients.whitelisted, 3);
    phase.check('the banned client gets no answer, the whitelisted one does', heavyNow.ok === 0 && whiteNow.ok === 3, `banned ${heavyNow.ok} of 3, whitelisted ${whiteNow.ok} of 3`);
  } finally {
    await heavy.close();
    await white.close();
  }
  noFailures(phase, 'no failed request from the ordinary client');
}

export const AUTOBAN_PHASES: PhaseSpec[] = [
  { id: 'autoban', number: '10', title: 'autoban: > 100 connections banned, whitelist spared', run: autoban },
];
