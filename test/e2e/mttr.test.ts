/**
 * Fault to verified recovery at the SHIPPED timings (test/helpers/mttr.ts): a killed
 * container (events), a frozen one and one answering 404 (the liveness watch), a
 * removed one (created again from its recorded configuration), a dependency frozen
 * (it is brought back first; its dependent comes back with it and is not restarted),
 * and one no action can bring back (the ladder is exhausted, one page on Telegram and
 * one on Discord, no restart storm, and the Prometheus alert that comes a minute later
 * joins the incident instead of paging again). All faults at once, each on its own
 * service. Then the remediator is killed in the middle of an action and started
 * again: it carries on with the same incident until the service is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAULTS, serviceOf, startStack, type Fault, type Stack } from '../helpers/mttr.js';
import { missingToolsMessage } from '../helpers/tools.js';

const missing = missingToolsMessage(['podman', 'runc', 'busybox', 'prometheus', 'prometheus-alertmanager', 'prometheus-blackbox-exporter']);
let stack: Stack | undefined;

beforeAll(async () => {
  if (missing) {
    if (process.env.CI === 'true') throw new Error(missing);
    return;
  }
  stack = await startStack();
}, 120_000);
afterAll(async () => {
  await stack?.stop();
}, 60_000);

describe.runIf(!missing)('fault to verified recovery at the shipped timings', () => {
  it('recovers each recoverable fault well within 120 s, and pages once for the one that cannot be', async () => {
    const s = stack!;
    await new Promise((r) => setTimeout(r, 5000)); // recorded healthy, watch and events running
    const injected = {} as Record<Fault, number>;
    for (const f of FAULTS) if (f !== 'unrecoverable' && f !== 'interrupted') injected[f] = s.inject(f);
    const recovered = async (f: Fault) => (await s.incidents()).find((i) => i.service === serviceOf(f) && i.state === 'recovered');
    const took: Record<string, string> = {};
    for (const f of ['killed', 'frozen', 'http_404', 'removed', 'dependency'] as const) {
      await expect.poll(() => recovered(f), { timeout: 60_000, interval: 250 }).toBeDefined();
      const i = (await recovered(f))!;
      const seconds = (i.endedAt! - injected[f]) / 1000;
      took[f] = `${seconds.toFixed(1)} s (${i.since})`;
      expect(seconds, f).toBeLessThan(f === 'killed' ? 5 : 30);
    }
    process.stdout.write(`fault to verified recovery at the shipped timings: ${JSON.stringify(took)}\n`);
    expect((await recovered('killed'))!.since).toBe('container_event');
    expect((await recovered('frozen'))!.since).toBe('watch');
    // The dependent failed with its dependency and came back with it: never restarted, no loop.
    await expect.poll(async () => (await fetch(s.dependentUrl).catch(() => undefined))?.status, { timeout: 20_000, interval: 250 }).toBe(200);
    const dependent = (await s.incidents()).filter((i) => i.service === 'dependent');
    expect(dependent.flatMap((i) => i.steps).filter((e) => e.kind === 'action'), JSON.stringify(dependent)).toEqual([]);
    expect(dependent.filter((i) => i.state === 'failed')).toEqual([]);

    // The unrecoverable one: the ladder runs once, then a person is told, once per channel.
    await expect.poll(async () => (await s.incidents()).find((i) => i.service === 'unrecoverable' && i.state === 'failed'), { timeout: 120_000, interval: 500 }).toBeDefined();
    const failed = (await s.incidents()).find((i) => i.service === 'unrecoverable' && i.state === 'failed')!;
    expect(failed.steps.filter((e) => e.kind === 'action' && e.result === 'started').length).toBeLessThanOrEqual(3);
    const pages = () => [...s.telegram.received, ...s.discord.received].filter((m) => JSON.stringify(m).includes('unrecoverable') && JSON.stringify(m).includes('needs a human'));
    await expect.poll(() => pages().length, { timeout: 10_000 }).toBe(2);
    // Prometheus's ServiceDown for it comes about a minute later: it joins, no second page, no new action.
    await expect.poll(async () => (await s.alerts()).some((a) => a.labels.alertname === 'ServiceDown' && a.labels.service === 'unrecoverable' && a.state === 'firing'), { timeout: 150_000, interval: 1000 }).toBe(true);
    await new Promise((r) => setTimeout(r, 12_000)); // group_wait and the webhook
    expect(pages()).toHaveLength(2);
    const actions = (await s.incidents()).filter((i) => i.service === 'unrecoverable').flatMap((i) => i.steps.filter((e) => e.kind === 'action' && e.result === 'started'));
    expect(actions.length).toBeLessThanOrEqual(3);
  }, 400_000);

  it('carries on after the remediator is killed mid-action, as the same incident, well within 120 s', async () => {
    const s = stack!;
    const injected = s.inject('interrupted');
    const acting = async () =>
      (await s.incidents()).find((i) => i.service === 'interrupted' && i.state === 'acting' && i.steps.some((e) => e.kind === 'action' && e.result === 'started'));
    await expect.poll(acting, { timeout: 40_000, interval: 100 }).toBeDefined();
    const before = (await acting())!;
    // Its restart waits out a 10 s grace period (it ignores SIGTERM): killed in the middle of it.
    await s.restartRemediator();
    const recovered = async () => (await s.incidents()).find((i) => i.id === before.id && i.state === 'recovered');
    await expect.poll(recovered, { timeout: 100_000, interval: 250 }).toBeDefined();
    const after = (await recovered())!;
    const seconds = (after.endedAt! - injected) / 1000;
    process.stdout.write(`remediator restarted mid-incident: fault to verified recovery ${seconds.toFixed(1)} s (${after.since})\n`);
    expect(seconds).toBeLessThan(120);
    expect(after.steps.some((e) => e.kind === 'decision' && e.what === 'resume')).toBe(true);
    // One incident for the failure, carried on, and nobody paged for it.
    expect((await s.incidents()).filter((i) => i.service === 'interrupted' && i.state !== 'refused')).toHaveLength(1);
    const about = [...s.telegram.received, ...s.discord.received].map((m) => JSON.stringify(m)).filter((m) => m.includes('interrupted'));
    expect(about.some((m) => m.includes('needs a human')), about.join('\n')).toBe(false);
    expect(about.some((m) => m.includes('is back'))).toBe(true);
  }, 150_000);
});
