/** The exporters' samples as text: what prom-client wrote, and lines reused only while right. */
import { Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { MetricSpec, Sample } from './contract.js';
import { silentLogger } from './logging.js';
import { SampleText } from './sample-text.js';

const specs: MetricSpec[] = [
  { name: 'x_temperature_celsius', type: 'gauge', help: 'A help with a \\ backslash\nand a newline.', labels: ['device'] },
  { name: 'x_events_total', type: 'counter', help: 'Events.', labels: [] },
  { name: 'x_empty', type: 'gauge', help: 'Never set.', labels: ['a'] },
];

async function promClient(samples: Sample[]): Promise<string> {
  const r = new Registry();
  for (const spec of specs) {
    const g = new Gauge({ name: spec.name, help: spec.help, labelNames: ['exporter_instance', ...spec.labels], registers: [r] });
    for (const s of samples.filter((x) => x.metric === spec.name)) g.set({ exporter_instance: 'home', ...s.labels }, s.value);
  }
  return (await r.metrics()).replace(/# TYPE x_events_total gauge/, '# TYPE x_events_total counter');
}

describe('SampleText', () => {
  it("writes what prom-client writes for the same samples, escaping included", async () => {
    const samples: Sample[] = [
      { metric: 'x_temperature_celsius', labels: { device: 'kitchen "north"\\\n' }, value: 21.5 },
      { metric: 'x_temperature_celsius', labels: { device: 'hall' }, value: -Infinity },
      { metric: 'x_events_total', value: 3 },
    ];
    const text = new SampleText(new Map([['x', specs]]), silentLogger()).render([{ exporter: 'x', instance: 'home', samples }]);
    expect(text).toBe(await promClient(samples));
  });

  it('re-renders a kept sample object when its value changed, and drops a second sample of a series and one off its catalogue entry', () => {
    const st = new SampleText(new Map([['x', specs]]), silentLogger());
    const kept = { metric: 'x_temperature_celsius', labels: { device: 'a' }, value: 1 };
    const render = (samples: Sample[]) => st.render([{ exporter: 'x', instance: 'home', samples }]).split('\n').filter((l) => l.startsWith('x_temperature'));
    expect(render([kept])).toEqual(['x_temperature_celsius{exporter_instance="home",device="a"} 1']);
    kept.value = 2;
    expect(render([kept])).toEqual(['x_temperature_celsius{exporter_instance="home",device="a"} 2']);
    kept.value = NaN;
    expect(render([kept])).toEqual(['x_temperature_celsius{exporter_instance="home",device="a"} NaN']);
    expect(render([kept, { metric: 'x_temperature_celsius', labels: { device: 'a' }, value: 9 }, { metric: 'x_temperature_celsius', labels: { room: 'b' }, value: 3 }])).toEqual([
      'x_temperature_celsius{exporter_instance="home",device="a"} NaN',
    ]);
  });

  it('writes exactly each scrape\'s series when they grow, shrink, vanish and come back', () => {
    const st = new SampleText(new Map([['x', specs]]), silentLogger());
    const t = (device: string): Sample => ({ metric: 'x_temperature_celsius', labels: { device }, value: 1 });
    const devices = (samples: Sample[]) =>
      st
        .render([{ exporter: 'x', instance: 'home', samples }])
        .split('\n')
        .filter((l) => l.startsWith('x_temperature'))
        .map((l) => /device="(\w+)"/.exec(l)?.[1]);
    const [a, b, c] = [t('a'), t('b'), t('c')];
    expect(devices([a, b, c])).toEqual(['a', 'b', 'c']);
    expect(devices([c])).toEqual(['c']);
    expect(devices([])).toEqual([]);
    expect(devices([b, a])).toEqual(['b', 'a']);
    expect(devices([a, b, c, t('d')])).toEqual(['a', 'b', 'c', 'd']);
  });

  it('keeps the first of two fresh samples of one series, and the same labels under two instances', () => {
    const st = new SampleText(new Map([['x', specs]]), silentLogger());
    const t = (device: string, value: number): Sample => ({ metric: 'x_temperature_celsius', labels: { device }, value });
    const lines = st
      .render([
        { exporter: 'x', instance: 'home', samples: [t('a', 1), t('b', 2), t('a', 3)] },
        { exporter: 'x', instance: 'cabin', samples: [t('a', 4)] },
      ])
      .split('\n')
      .filter((l) => l.startsWith('x_temperature'));
    expect(lines).toEqual([
      'x_temperature_celsius{exporter_instance="home",device="a"} 1',
      'x_temperature_celsius{exporter_instance="home",device="b"} 2',
      'x_temperature_celsius{exporter_instance="cabin",device="a"} 4',
    ]);
  });
});
