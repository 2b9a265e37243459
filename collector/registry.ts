/**
 * Every exporter kind, one line each. The key, the folder under exporters/, the
 * `exporter` label and the key under `exporters:` in the config are the same name
 * (a test checks that they agree). A kind that no config entry names is created
 * never, so it costs nothing but its module.
 */
import type { ExporterKind } from './contract.js';
import { backup } from '../exporters/backup/index.js';
import { bluetooth } from '../exporters/bluetooth/index.js';
import { filesystem } from '../exporters/filesystem/index.js';
import { gpu } from '../exporters/gpu/index.js';
import { homeassistant } from '../exporters/homeassistant/index.js';
import { mqtt } from '../exporters/mqtt/index.js';
import { nas } from '../exporters/nas/index.js';

export const EXPORTERS: readonly ExporterKind[] = [
  backup,
  bluetooth,
  filesystem,
  gpu,
  homeassistant,
  mqtt,
  nas,
];
