/**
 * Authentication of webhook and API calls: a bearer token (Alertmanager's
 * http_config.authorization) or basic auth, compared in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { RemediatorConfig } from './schema.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Equal-length digests: the comparison takes the same time whatever the input. */
function same(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

export type Authenticator = (authorization: string | undefined) => boolean;

export function authenticator(config: RemediatorConfig): Authenticator {
  if (config.insecure && !config.auth?.bearer_token_file && !config.auth?.basic) return () => true;
  const token = config.auth?.bearer_token_file ? readFileSync(config.auth.bearer_token_file, 'utf8').trim() : undefined;
  const basic = config.auth?.basic
    ? `${config.auth.basic.username}:${readFileSync(config.auth.basic.password_file, 'utf8').replace(/\r?\n$/, '')}`
    : undefined;
  if (token === '') throw new Error(`${config.auth?.bearer_token_file} is empty: a token is required`);
  return (header) => {
    if (!header) return false;
    const [scheme, value = ''] = header.split(' ', 2) as [string, string?];
    if (token !== undefined && scheme.toLowerCase() === 'bearer') return same(value.trim(), token);
    if (basic !== undefined && scheme.toLowerCase() === 'basic') {
      return same(Buffer.from(value.trim(), 'base64').toString('utf8'), basic);
    }
    return false;
  };
}
