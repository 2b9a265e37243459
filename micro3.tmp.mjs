const base = process.argv[2] ?? '/work/main';
const { HaModel } = await import(`${base}/dist/exporters/homeassistant/model.js`);
const { homeassistant } = await import(`${base}/dist/exporters/homeassistant/index.js`);
const { silentLogger } = await import(`${base}/dist/collector/logging.js`);
const { InstanceRunner } = await import(`${base}/dist/collector/instance-runner.js`);
const expo = await import(`${base}/dist/collector/exposition.js`);
const m = new HaModel({ includeDomains: [], excludeDomains: [], includeEntities: [], excludeEntities: [], includeIntegrations: [], excludeIntegrations: [] }, 40000, { batteryLow: 0.15, silent: [] });
const now = new Date().toISOString();
m.setStates(Array.from({ length: 5000 }, (_, i) => ({ entity_id: `sensor.s${i}`, state: String(20 + (i % 10)), attributes: { unit_of_measurement: '°C', device_class: 'temperature' }, last_changed: now, last_reported: now })));
const kind = { ...homeassistant, create: () => ({ mode: 'stream', start: async () => {}, stop: async () => {}, snapshot: () => ({ up: true, samples: m.snapshot(true, 0) }) }) };
const r = new InstanceRunner(kind, { name: 'ha', interval: 30000, timeout: 10000 }, { log: silentLogger(), now: Date.now });
await r.collectOrSync?.();
const e = expo.buildExposition ? expo.buildExposition([kind], [r], { processMetrics: false, log: silentLogger() }) : { text: () => expo.buildRegistry([kind], [r], { processMetrics: false, log: silentLogger() }).metrics() };
const reg = e.text ? e : e;
for (let i = 0; i < 5; i++) await reg.text();
const times = [];
for (let i = 0; i < 40; i++) { const t0 = performance.now(); await reg.text(); times.push(performance.now() - t0); }
times.sort((a, b) => a - b);
console.log(base, 'HA 5000 entities: p50', times[20].toFixed(1), 'p99', times[39].toFixed(1), 'ms; body', ((await reg.text()).length / 1e6).toFixed(2), 'MB; rss', (process.memoryUsage().rss / 1e6).toFixed(0));
