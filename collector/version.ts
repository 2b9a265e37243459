/** HomeStation's version, read from package.json once. */
import { readFileSync } from 'node:fs';

function readVersion(): string {
  // From dist/collector/ or collector/ (tests), package.json is two or one folders up.
  for (const rel of ['../../package.json', '../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'homestation' && pkg.version) return pkg.version;
    } catch {
      // Try the next place.
    }
  }
  return '0.0.0-unknown';
}

export const VERSION = readVersion();
