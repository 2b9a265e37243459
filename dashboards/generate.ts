/**
 * Dashboards are code: authored in src/ with the Grafana Foundation SDK, generated
 * to json/ (committed, provisioned into Grafana). `npm run dashboards` rewrites
 * json/; a test fails when the committed JSON differs from this output.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { backups } from './src/backups.js';
import { bluetoothDashboard } from './src/bluetooth.js';
import { gpuDashboard } from './src/gpu.js';
import { homeAssistantDashboard } from './src/homeassistant.js';
import { mqttDashboard } from './src/mqtt.js';
import { overview } from './src/overview.js';
import { remediation } from './src/remediation.js';
import { storage } from './src/storage.js';

export const DASHBOARDS = { overview, backups, storage, remediation, mqtt: mqttDashboard, homeassistant: homeAssistantDashboard, gpu: gpuDashboard, bluetooth: bluetoothDashboard };

/** Stable, unique panel ids in layout order (Grafana links panels by id). */
function numberPanels(dashboard: { panels?: { id?: number }[] }): void {
  (dashboard.panels ?? []).forEach((p, i) => {
    p.id = i + 1;
  });
}

/** File name -> JSON text of every dashboard. */
export function renderDashboards(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(DASHBOARDS).map(([name, make]) => {
      const built = make().build() as { panels?: { id?: number }[] };
      numberPanels(built);
      return [`${name}.json`, `${JSON.stringify(built, null, 2)}\n`];
    }),
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // Run from dist/dashboards/: write to the repository's dashboards/json/.
  const out = new URL('../../dashboards/json/', import.meta.url);
  for (const [file, text] of Object.entries(renderDashboards())) writeFileSync(new URL(file, out), text);
}
