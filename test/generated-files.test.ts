/** Files generated from the code must be committed up to date (`npm run docs` rewrites them). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { catalogue, catalogueMarkdown } from '../collector/catalogue.js';
import { rootSchema } from '../collector/config/schema.js';
import { EXPORTERS } from '../collector/registry.js';

const root = new URL('../', import.meta.url);

describe('generated files', () => {
  it('docs/metrics.md is what `homestation metrics --markdown` prints', () => {
    expect(readFileSync(new URL('docs/metrics.md', root), 'utf8')).toBe(catalogueMarkdown(catalogue(EXPORTERS)));
  });

  it('homestation.schema.json is what `homestation schema` prints', () => {
    const expected = `${JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', ...rootSchema(EXPORTERS) }, null, 2)}\n`;
    expect(readFileSync(new URL('homestation.schema.json', root), 'utf8')).toBe(expected);
  });
});
