import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { authenticator } from './auth.js';
import type { RemediatorConfig } from './schema.js';

const dir = mkdtempSync(join(tmpdir(), 'hs-auth-'));
const file = (name: string, content: string) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};
const base = { insecure: false } as RemediatorConfig;

describe('remediator authentication', () => {
  it('accepts the bearer token of the token file, and nothing else', () => {
    const auth = authenticator({ ...base, auth: { bearer_token_file: file('t', 's3cret-token\n') } });
    expect(auth('Bearer s3cret-token')).toBe(true);
    expect(auth('bearer s3cret-token')).toBe(true);
    expect(auth('Bearer s3cret-tokeN')).toBe(false);
    expect(auth('Bearer ')).toBe(false);
    expect(auth(undefined)).toBe(false);
    expect(auth(`Basic ${Buffer.from('x:s3cret-token').toString('base64')}`)).toBe(false);
  });

  it('accepts basic auth with the configured user and password file', () => {
    const auth = authenticator({ ...base, auth: { basic: { username: 'am', password_file: file('p', 'pa:ss\n') } } });
    expect(auth(`Basic ${Buffer.from('am:pa:ss').toString('base64')}`)).toBe(true);
    expect(auth(`Basic ${Buffer.from('am:wrong').toString('base64')}`)).toBe(false);
    expect(auth(`Basic ${Buffer.from('root:pa:ss').toString('base64')}`)).toBe(false);
  });

  it('refuses an empty token file rather than accepting an empty token', () => {
    expect(() => authenticator({ ...base, auth: { bearer_token_file: file('e', '\n') } })).toThrow(/empty/);
  });

  it('lets everything through only when insecure and no credentials are set', () => {
    expect(authenticator({ ...base, insecure: true })(undefined)).toBe(true);
  });
});
